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

/* Predicting an outage (docs/USER-GUIDE.md, "Starlink"): the obstructed
 * fraction the dish reports is at least DISH_PREDICT_MIN and rose by
 * DISH_PREDICT_RISE or more within DISH_PREDICT_WINDOW_MS. A risk lasts until
 * its condition has been gone for DISH_RISK_HOLD_MS. */
#define DISH_PREDICT_MIN	0.02
#define DISH_PREDICT_RISE	0.01
#define DISH_PREDICT_WINDOW_MS	60000
#define DISH_RISK_HOLD_MS	60000
#define DISH_OBS_N		64	/* one sample a second at most */

struct dish_params {
	int64_t poll_ms;
	int64_t timeout_ms;
	int64_t outage_grace_ms;
	bool quiet;		/* looking for a dish: failing to reach it is no news */
};

/* How often a wired member with class auto is asked whether a dish answers
 * through it (the member's class becomes starlink when one does). */
#define DISH_DISCOVER_MS	30000

struct dish {
	struct sl_client sl;
	ev_timer poll;
	ev_timer grace;			/* fires when a reported outage outlasts the grace */
	struct ev_loop *loop;
	const struct dish_params *p;
	bool running;
	int64_t status_at;		/* mono ms of the last good status, 0 = none */
	int64_t history_at;		/* of the last history request */
	char address[64];
	char err[SL_ERR_LEN];		/* why the last status call failed, "" if it did not */
	uint64_t info_conn;		/* connection whose device info we have (sl.connects) */
	struct {
		int64_t t;
		double frac;
	} obs[DISH_OBS_N];		/* recent obstructed fractions, a ring */
	unsigned obs_n;
	const char *risk;		/* "predict:obstruction", "planned:swupdate", NULL */
	bool risk_planned;
	int64_t risk_seen;		/* mono ms the condition last held */
	char risk_why[96];
	void (*on_change)(struct dish *d);
};

/* Starts polling address ("host:port") through device. Returns 0 or -errno. */
int dish_start(struct dish *d, struct ev_loop *loop, const char *address, const char *device,
	       const struct dish_params *p, void (*on_change)(struct dish *d));
void dish_stop(struct dish *d);
/* New parameters for a running dish (the poll rate at the next poll). */
void dish_set_params(struct dish *d, const struct dish_params *p);

/* The last status is recent enough to act on (answered within 3 polls). */
bool dish_fresh(const struct dish *d, int64_t now);
/* An outage the dish has reported for longer than the grace; its cause name
 * goes into buf ("NO_SATS", "CAUSE_42"). */
bool dish_outage(const struct dish *d, int64_t now, char *buf, size_t len);
/* An outage expected soon (see DISH_PREDICT_*) or planned (an update waits
 * for a reboot): the event reason, with *planned set for the latter; NULL
 * when there is none or nothing is known. */
const char *dish_risk(const struct dish *d, int64_t now, bool *planned);
/* Score points to take off (0..30): obstruction, alerts, SNR. */
double dish_penalty(const struct dish *d, int64_t now);
/* The "starlink" object of a member in the API: whole for `members`, the
 * few fields `status` shows otherwise. */
struct json_object *dish_json(const struct dish *d, int64_t now, bool detail);

#endif
