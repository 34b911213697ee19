/* The member registry: the one owner of member lifetimes.
 *
 * A member is one uplink. Members are created from the configuration and kept
 * across reloads by name, so a reload never loses runtime state; a member whose
 * section disappears is freed. Pointers stay valid until the member is removed
 * (other modules embed timers in it later and recover it with container_of).
 */
#ifndef AUTONOMY_MEMBER_H
#define AUTONOMY_MEMBER_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"

struct json_object;

enum mem_status {
	MEM_UNKNOWN,
	MEM_UP,
	MEM_DEGRADED,
	MEM_DOWN,
	__MEM_STATUS_MAX
};

struct mem_probes {
	uint64_t sent, received;
	uint64_t bytes_sent, bytes_received;
};

struct member {
	struct cfg_member cfg;		/* copy of its config section */
	enum mem_class class;		/* cfg.class, or the result of classification */
	enum mem_status status;
	bool eligible;
	/* NAN while not known */
	double score_instant, score_ewma, score_final;
	double latency_ms, loss_pct, jitter_ms;
	struct mem_probes probes;
};

void mem_init(void);
void mem_fini(void);

/* Brings the registry in line with c: keeps members by name (updating their
 * config), adds new ones in config order, frees those that are gone. */
void mem_sync(const struct config *c);

int mem_count(void);
struct member *mem_get(int i);
struct member *mem_find(const char *name);

/* Class from the device name alone (wwan*, qmimux*, … → cellular). */
enum mem_class mem_classify(const char *device);
const char *mem_status_name(enum mem_status s);
const char *mem_class_name(enum mem_class c);

/* The member object of the API; detail adds what `members` shows. */
struct json_object *mem_to_json(const struct member *m, bool detail);

#endif
