/* The decision state machine (DESIGN.md §5): pure logic over member summaries
 * and a clock value handed in, so unit tests drive it through scripted
 * timelines. It never touches a socket, a timer or the wall clock.
 *
 * The engine calls dec_decide() whenever something about a member changed and
 * when the time it asked for (next_check) has come. A switch is returned, not
 * carried out: the engine applies it and records the event.
 */
#ifndef AUTONOMY_DECIDE_H
#define AUTONOMY_DECIDE_H

#include <stdbool.h>
#include <stdint.h>

#define DEC_REASON_LEN	48

/* What the engine knows about one member, plus the decider's own memory of it. */
struct dec_member {
	const char *name;
	int weight;
	bool enabled;
	bool known;		/* measured at least once (else: no opinion yet) */
	bool down;		/* hard failure right now */
	const char *cause;	/* why it is down: "carrier", "address", "route", "no-reply" */
	int64_t down_since;	/* when the fault was first seen */
	int64_t up_since;	/* when it last stopped being down (0 = never) */
	bool degraded;		/* up but below the degraded score */
	double score;		/* final score 0..100, NAN when unknown */
	bool metered;		/* costs per byte */
	/* Expected to fail soon although it works now ("predict:obstruction",
	 * "planned:swupdate"), NULL = no. Active and at risk: switch at once to
	 * an eligible member that is not (planned: only to an unmetered one).
	 * At risk it is not eligible: no failback to it, no soft switch to it. */
	const char *risk;
	bool risk_planned;
	int64_t risk_since;

	/* decider-owned */
	double penalty;		/* flap dampening, decays with the half-life */
	int64_t penalty_ts;
	bool suppressed;
	int64_t good_since;	/* preferred and good since (0 = not) */
};

struct dec_params {
	double switch_margin;	/* score points */
	int64_t fail_min_ms;	/* a lead must last this long (soft switch) */
	int64_t restore_min_ms;	/* a preferred member must stay good this long (failback) */
	int64_t cooldown_ms;	/* between soft switches/failbacks */
	int64_t min_uptime_ms;	/* up this long before it is eligible */
	double half_life_s;	/* flap penalty half-life */
	double suppress;	/* penalty above which a member is suppressed */
	double reuse;		/* penalty below which it is usable again */
};

#define DEC_FLAP_PENALTY	1000.0	/* added each time a member goes down */

struct dec_state {
	struct dec_member *active;	/* NULL until the first choice */
	struct dec_member *manual;	/* set by failover, cleared by restore */
	int64_t last_switch;		/* clock of the last switch (0 = none) */
	int64_t lead_since;		/* another member leads the active by the margin since (0 = not) */
};

struct dec_switch {
	struct dec_member *from;	/* may be NULL (first choice) */
	struct dec_member *to;
	char reason[DEC_REASON_LEN];	/* "hard:carrier", "soft:score", "failback", "manual", "initial",
					 * or the risk ("predict:obstruction") */
	int64_t fault_since;		/* when the condition that led here began */
};

/* Decides; returns true and fills *sw when the active member must change (the
 * state already says the new active). *next_check gets the clock value at
 * which a pending duration completes (0 when nothing is pending). */
bool dec_decide(struct dec_state *st, struct dec_member **m, int n, const struct dec_params *p,
		int64_t now, struct dec_switch *sw, int64_t *next_check);

/* The engine reports transitions so dampening and uptime are tracked. */
void dec_member_went_down(struct dec_member *m, const struct dec_params *p, int64_t now);
void dec_member_came_up(struct dec_member *m, int64_t now);

/* Eligible for normal selection: enabled, measured, up for min_uptime,
 * not suppressed by dampening, not at risk. */
bool dec_eligible(const struct dec_member *m, const struct dec_params *p, int64_t now);

/* Recomputes the decayed penalty and suppression at now. */
void dec_decay(struct dec_member *m, const struct dec_params *p, int64_t now);

#endif
