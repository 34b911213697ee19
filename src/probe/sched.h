/* The probe scheduler of one member (DESIGN.md §6).
 *
 * Rates are a budget: the active member probes each target every
 * probe_interval_ms, standby members every standby_interval_ms, metered standby
 * members one target (round robin) every metered_interval_ms. Sends are spread
 * evenly over the interval. A reply that is overdue switches the member to
 * burst rate (one probe every burst_interval_ms, round robin) until it is
 * decided: a quorum of targets answers again, or the member is declared
 * without reply (then it drops back to its normal rate).
 *
 * Only "regular" probes (those the normal rate would have sent anyway) enter
 * the loss/latency windows, so bursting does not inflate the loss figure.
 * Every outcome (reply or loss) calls on_change at once.
 */
#ifndef AUTONOMY_SCHED_H
#define AUTONOMY_SCHED_H

#include <stdbool.h>
#include <stdint.h>

#include <ev.h>

#include "config/config.h"
#include "decide/score.h"
#include "probe/probe.h"

#define SCHED_SLOTS	64	/* probes in flight, indexed by seq % SCHED_SLOTS */

enum sched_role {
	SCHED_OFF,		/* link down: nothing can be sent */
	SCHED_ACTIVE,
	SCHED_STANDBY,
	SCHED_METERED,		/* metered standby */
};

struct sched_params {
	int64_t probe_interval_ms;
	int64_t standby_interval_ms;
	int64_t metered_interval_ms;
	int64_t burst_interval_ms;
	int64_t probe_timeout_ms;
	int64_t hard_fail_ms;
};

struct sched_slot {
	int64_t sent;		/* mono ms; 0 = free */
	uint16_t seq;
	int8_t target;
	bool regular;
	bool overdue;		/* already counted as overdue */
};

struct sched {
	struct ev_loop *loop;
	const struct cfg_member *cfg;		/* the member's config (stable pointer) */
	const struct sched_params *params;
	struct prober prober;
	bool open;
	ev_timer send_timer;
	ev_timer timeout_timer;
	enum sched_role role;
	bool burst;
	bool decided_down;			/* no-reply declared: stop bursting */
	uint16_t seq;
	int next_target;
	int64_t next_regular;			/* when the normal rate would send next */
	int64_t last_send;
	struct sched_slot slot[SCHED_SLOTS];
	struct score_target win[CFG_MAX_TARGETS];
	int64_t first_unanswered;		/* send time of the oldest unanswered probe since the last quorum; 0 = none */
	int lost_since;				/* probes lost since then */
	uint32_t answered;			/* targets answered since then (bits) */
	int64_t last_reply;
	double rtt_avg;				/* smoothed, for the overdue threshold */
	uint64_t sent, received, bytes_sent, bytes_received;
	int64_t day;				/* day number (UTC) of the *_today counters */
	uint64_t bytes_today;
	int send_errno;				/* last send error, logged once per change */
	uint64_t skipped;			/* metered probes the traffic made unneeded */
	void (*on_change)(struct sched *s);
	/* Set by the owner (option traffic_proof): asked before a metered
	 * standby probe; true = the member's own traffic shows it alive, skip. */
	bool (*traffic_alive)(struct sched *s);
};

/* Once per member: nothing is sent until sched_open and a role. cfg and
 * params must outlive the scheduler. */
void sched_init(struct sched *s, struct ev_loop *loop, const struct cfg_member *cfg,
		const struct sched_params *params, void (*on_change)(struct sched *s));
/* (Re)opens the probe sockets, e.g. after the device or its address changed.
 * Counters survive. Returns 0 or -errno (logged by the prober). */
int sched_open(struct sched *s, const struct prober_cfg *pcfg);
/* Stops everything and closes the sockets (role becomes SCHED_OFF). */
void sched_close(struct sched *s);
/* Takes effect from the next send; SCHED_OFF forgets windows and failures. */
void sched_set_role(struct sched *s, enum sched_role role);
/* Burst now (recheck, link came back). */
void sched_burst(struct sched *s);
/* Forget windows and failure tracking (link went down). */
void sched_reset(struct sched *s);
/* Drops the measurement windows (latency, loss), the probes in flight and any
 * unanswered spell: they were measured or sent during an outage that a source
 * (the probes themselves, or the dish) has declared over. */
void sched_forget(struct sched *s);

/* No quorum reply for hard_fail_ms of continuous probing. */
bool sched_no_reply(const struct sched *s, int64_t now);
/* Stats over all window samples, or the newest SCORE_SHORT. */
void sched_stats(const struct sched *s, bool recent, struct score_stats *out);

#endif
