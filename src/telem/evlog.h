/* The event log: a fixed ring of the last EVLOG_SIZE events (decisions,
 * reloads, daemon start/stop). Every event is also logged at INFO. Nothing is
 * allocated after evlog_init. */
#ifndef AUTONOMY_EVLOG_H
#define AUTONOMY_EVLOG_H

#include <stdint.h>

#include "config/config.h"

struct json_object;

#define EVLOG_SIZE	1000

struct evlog_entry {
	int64_t ts;			/* wall-clock ms */
	char type[16];
	char reason[48];
	char from[CFG_NAME_LEN];	/* "" = none */
	char to[CFG_NAME_LEN];
	char msg[192];
};

void evlog_init(void);
void evlog_fini(void);

void evlog_add(const char *type, const char *reason, const char *from, const char *to,
	       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Listeners (HTTP event stream, MQTT, notifications) see every entry right
 * after it is written, on the loop. At most EVLOG_LISTENERS; returns 0 or
 * -ENOSPC. The entry is only valid during the call. */
#define EVLOG_LISTENERS	8
typedef void (*evlog_listener)(const struct evlog_entry *e, void *ctx);
int evlog_listen(evlog_listener fn, void *ctx);
void evlog_unlisten(evlog_listener fn, void *ctx);

/* Newest first, at most limit entries. */
struct json_object *evlog_json(int limit);
struct json_object *evlog_entry_json(const struct evlog_entry *e);
/* NULL when empty. */
const struct evlog_entry *evlog_last(void);
int evlog_count(void);

#endif
