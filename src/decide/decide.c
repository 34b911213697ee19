#include "decide/decide.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void dec_decay(struct dec_member *m, const struct dec_params *p, int64_t now)
{
	if (m->penalty > 0 && now > m->penalty_ts) {
		double dt = (double)(now - m->penalty_ts) / 1000.0;

		m->penalty *= exp2(-dt / p->half_life_s);
		if (m->penalty < 1)
			m->penalty = 0;
	}
	m->penalty_ts = now;
	if (m->penalty > p->suppress)
		m->suppressed = true;
	else if (m->penalty < p->reuse)
		m->suppressed = false;
}

void dec_member_went_down(struct dec_member *m, const struct dec_params *p, int64_t now)
{
	dec_decay(m, p, now);
	m->penalty += DEC_FLAP_PENALTY;
	dec_decay(m, p, now);
	m->good_since = 0;
}

void dec_member_came_up(struct dec_member *m, int64_t now)
{
	m->up_since = now;
}

static bool usable(const struct dec_member *m)
{
	return m->enabled && m->known && !m->down;
}

bool dec_eligible(const struct dec_member *m, const struct dec_params *p, int64_t now)
{
	return usable(m) && !m->suppressed && !m->risk && m->up_since &&
	       now - m->up_since >= p->min_uptime_ms;
}

static double score_of(const struct dec_member *m)
{
	return isnan(m->score) ? 0 : m->score;
}

/* a is preferred over b: clearly better score wins, close scores go by weight. */
static bool preferred(const struct dec_member *a, const struct dec_member *b, double margin)
{
	double d = score_of(a) - score_of(b);

	if (fabs(d) >= margin)
		return d > 0;
	if (a->weight != b->weight)
		return a->weight > b->weight;
	return d > 0;
}

/* Best member other than skip among those passing the filter. */
static struct dec_member *pick(struct dec_member **m, int n, const struct dec_member *skip,
			       const struct dec_params *p, int64_t now, bool need_eligible)
{
	struct dec_member *best = NULL;

	for (int i = 0; i < n; i++) {
		if (m[i] == skip || !usable(m[i]))
			continue;
		if (need_eligible && !dec_eligible(m[i], p, now))
			continue;
		if (!best || preferred(m[i], best, p->switch_margin))
			best = m[i];
	}
	return best;
}

/* Eligible first; when none is, anything usable beats staying on a dead link. */
static struct dec_member *pick_any(struct dec_member **m, int n, const struct dec_member *skip,
				   const struct dec_params *p, int64_t now)
{
	struct dec_member *c = pick(m, n, skip, p, now, true);

	return c ? c : pick(m, n, skip, p, now, false);
}

static bool do_switch(struct dec_state *st, struct dec_member *to, const char *reason,
		      int64_t fault_since, int64_t now, struct dec_switch *sw)
{
	sw->from = st->active;
	sw->to = to;
	snprintf(sw->reason, sizeof(sw->reason), "%s", reason);
	sw->fault_since = fault_since;
	st->active = to;
	st->last_switch = now;
	return true;
}

static void note_next(int64_t *next, int64_t at)
{
	if (at > 0 && (!*next || at < *next))
		*next = at;
}

static void clear_timers(struct dec_state *st, struct dec_member **m, int n, bool lead, bool good)
{
	if (lead)
		st->lead_since = 0;
	for (int i = 0; good && i < n; i++)
		m[i]->good_since = 0;
}

/* Soft path: another eligible member leads by the margin for fail_min. The
 * lead is timed for "someone leads", not per member, so two equally good
 * backups trading places do not restart the clock; the switch goes to the
 * best of them at the time. */
static bool soft(struct dec_state *st, struct dec_member **m, int n, const struct dec_params *p,
		 int64_t now, struct dec_switch *sw, int64_t *next)
{
	struct dec_member *a = st->active, *best = NULL;
	int64_t due;

	for (int i = 0; i < n; i++)
		if (m[i] != a && dec_eligible(m[i], p, now) && !isnan(m[i]->score) &&
		    score_of(m[i]) >= score_of(a) + p->switch_margin &&
		    (!best || preferred(m[i], best, p->switch_margin)))
			best = m[i];
	if (!best) {
		st->lead_since = 0;
		return false;
	}
	if (!st->lead_since)
		st->lead_since = now;
	due = st->lead_since + p->fail_min_ms;
	if (st->last_switch && due < st->last_switch + p->cooldown_ms)
		due = st->last_switch + p->cooldown_ms;
	if (now >= due) {
		int64_t since = st->lead_since;

		st->lead_since = 0;
		return do_switch(st, best, "soft:score", since, now, sw);
	}
	note_next(next, due);
	return false;
}

/* Failback: the preferred (highest weight) member is good for restore_min. */
static bool failback(struct dec_state *st, struct dec_member **m, int n, const struct dec_params *p,
		     int64_t now, struct dec_switch *sw, int64_t *next)
{
	struct dec_member *a = st->active, *pref = NULL;
	int64_t due;

	for (int i = 0; i < n; i++)
		if (dec_eligible(m[i], p, now) &&
		    (!pref || m[i]->weight > pref->weight ||
		     (m[i]->weight == pref->weight && score_of(m[i]) > score_of(pref))))
			pref = m[i];
	if (!pref || pref == a || pref->weight <= a->weight || pref->degraded ||
	    score_of(pref) < score_of(a) - p->switch_margin / 2) {
		clear_timers(st, m, n, false, true);
		return false;
	}
	for (int i = 0; i < n; i++)
		if (m[i] != pref)
			m[i]->good_since = 0;
	if (!pref->good_since)
		pref->good_since = now;
	due = pref->good_since + p->restore_min_ms;
	if (st->last_switch && due < st->last_switch + p->cooldown_ms)
		due = st->last_switch + p->cooldown_ms;
	if (now >= due)
		return do_switch(st, pref, "failback", pref->good_since, now, sw);
	note_next(next, due);
	return false;
}

/* The active member is at risk: move now, not after fail_min or the cooldown
 * (the outage would come first), but only to a member that is fine: eligible,
 * not degraded, and for a planned event (a dish reboot for an update, hours
 * away perhaps) not one that costs per byte. No such member: stay. */
static bool at_risk(struct dec_state *st, struct dec_member **m, int n, const struct dec_params *p,
		    int64_t now, struct dec_switch *sw)
{
	struct dec_member *a = st->active, *best = NULL;

	for (int i = 0; i < n; i++)
		if (m[i] != a && dec_eligible(m[i], p, now) && !m[i]->degraded &&
		    !(a->risk_planned && m[i]->metered) &&
		    (!best || preferred(m[i], best, p->switch_margin)))
			best = m[i];
	if (!best)
		return false;
	clear_timers(st, m, n, true, true);
	return do_switch(st, best, a->risk, a->risk_since ? a->risk_since : now, now, sw);
}

/* The earliest time a member becomes eligible, so waiting ends on time. */
static void note_uptime(struct dec_member **m, int n, const struct dec_params *p, int64_t now,
			int64_t *next)
{
	for (int i = 0; i < n; i++)
		if (usable(m[i]) && m[i]->up_since && now - m[i]->up_since < p->min_uptime_ms)
			note_next(next, m[i]->up_since + p->min_uptime_ms);
}

bool dec_decide(struct dec_state *st, struct dec_member **m, int n, const struct dec_params *p,
		int64_t now, struct dec_switch *sw, int64_t *next_check)
{
	struct dec_member *a = st->active, *c;
	char reason[DEC_REASON_LEN];

	*next_check = 0;
	for (int i = 0; i < n; i++)
		dec_decay(m[i], p, now);
	note_uptime(m, n, p, now, next_check);

	if (!a) {
		c = pick_any(m, n, NULL, p, now);
		return c ? do_switch(st, c, "initial", now, now, sw) : false;
	}
	if (st->manual && usable(st->manual)) {
		clear_timers(st, m, n, true, true);
		if (a == st->manual)
			return false;
		return do_switch(st, st->manual, "manual", now, now, sw);
	}
	if (a->down || !a->enabled) {
		clear_timers(st, m, n, true, true);
		c = pick_any(m, n, a, p, now);
		if (!c)
			return false;	/* all down: keep the last choice, no thrashing */
		snprintf(reason, sizeof(reason), "hard:%s", a->enabled ? a->cause : "disabled");
		return do_switch(st, c, reason, a->enabled ? a->down_since : now, now, sw);
	}
	if (st->manual)
		return false;	/* the manual choice is down: hold the stand-in, no soft moves */
	if (a->risk && at_risk(st, m, n, p, now, sw))
		return true;
	if (soft(st, m, n, p, now, sw, next_check))
		return true;
	return failback(st, m, n, p, now, sw, next_check);
}
