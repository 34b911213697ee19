/* The Starlink dish of one member, as the engine sees it: polls get_status on
 * the loop (and get_history every few minutes), keeps the last good answer,
 * and turns it into what decisions need: a confirmed outage (a hard failure
 * with its cause), a score penalty (obstruction, alerts, low SNR) and JSON.
 * A dish that is unreachable, hangs or answers garbage makes its fields
 * unknown; decisions then rest on the probes alone. */
#ifndef AUTONOMY_DISH_H
#define AUTONOMY_DISH_H

#include <stdbool.h>
#include <stdint.h>

#include <ev.h>

#include "collect/starlink.h"

struct json_object;

#define DISH_HISTORY_EVERY_MS	(5 * 60 * 1000)

struct dish_params {
	int64_t poll_ms;
	int64_t timeout_ms;
	int64_t outage_grace_ms;
};

struct dish {
	struct sl_client sl;
	ev_timer poll;
	struct ev_loop *loop;
	const struct dish_params *p;
	bool running;
	int64_t status_at;		/* mono ms of the last good status, 0 = none */
	int64_t history_at;		/* of the last history request */
	char address[64];
	char err[SL_ERR_LEN];		/* why the last status call failed, "" if it did not */
	void (*on_change)(struct dish *d);
};

/* Starts polling address ("host:port") through device. Returns 0 or -errno. */
int dish_start(struct dish *d, struct ev_loop *loop, const char *address, const char *device,
	       const struct dish_params *p, void (*on_change)(struct dish *d));
void dish_stop(struct dish *d);

/* The last status is recent enough to act on (answered within 3 polls). */
bool dish_fresh(const struct dish *d, int64_t now);
/* An outage the dish has reported for longer than the grace; its cause name
 * goes into buf ("NO_SATS", "CAUSE_42"). */
bool dish_outage(const struct dish *d, int64_t now, char *buf, size_t len);
/* Score points to take off (0..30): obstruction, alerts, SNR. */
double dish_penalty(const struct dish *d, int64_t now);
/* The "starlink" object of a member in the API. */
struct json_object *dish_json(const struct dish *d, int64_t now);

#endif
