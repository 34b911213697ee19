#include "notify/rules.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOUR_MS	(3600 * 1000LL)

static int choice_of(const char *const *names, const char *s, size_t len)
{
	for (int i = 0; names[i]; i++)
		if (strlen(names[i]) == len && !strncmp(names[i], s, len))
			return i;
	return -1;
}

/* "failover:high member_up": a word without a priority is normal. */
static void parse_events(struct nrules_cfg *rc, const char *s)
{
	while (*s) {
		size_t len = strcspn(s, " \t,"), wl = strcspn(s, ":");
		int ev, prio = NOTIFY_PRIO_NORMAL;

		if (wl > len)
			wl = len;
		ev = choice_of(cfg_notify_event_names, s, wl);
		if (wl < len)
			prio = choice_of(cfg_prio_names, s + wl + 1, len - wl - 1);
		if (ev >= 0 && ev < __NEV_MAX && prio >= 0) {
			rc->events |= 1u << ev;
			rc->prio[ev] = prio;
		}
		s += len;
		s += strspn(s, " \t,");
	}
}

void nrules_cfg_from(struct nrules_cfg *rc, const struct cfg_main *m)
{
	memset(rc, 0, sizeof(*rc));
	for (int i = 0; i < __NEV_MAX; i++)
		rc->prio[i] = NOTIFY_PRIO_NORMAL;
	parse_events(rc, m->notify_events);
	rc->cooldown_ms = (int64_t)m->notify_cooldown_s * 1000;
	rc->dedup_ms = (int64_t)m->notify_dedup_s * 1000;
	rc->max_per_hour = m->notify_max_per_hour;
	if (rc->max_per_hour > NR_CAP_MAX)
		rc->max_per_hour = NR_CAP_MAX;
	if (!cfg_parse_hours(m->notify_quiet_hours, &rc->quiet_start, &rc->quiet_end))
		rc->quiet_start = rc->quiet_end = -1;
	rc->quiet_prio = m->notify_quiet_priority;
}

void nrules_init(struct nrules *r, const struct nrules_cfg *rc)
{
	memset(r, 0, sizeof(*r));
	r->cfg = *rc;
}

void nrules_set_cfg(struct nrules *r, const struct nrules_cfg *rc)
{
	r->cfg = *rc;
}

int nrules_prio(const struct nrules *r, enum notify_event ev)
{
	return r->cfg.prio[ev];
}

const char *nrules_verdict_name(enum nr_verdict v)
{
	static const char *const names[] = {
		[NR_SEND] = "send", [NR_OFF] = "off", [NR_DUP] = "duplicate",
		[NR_COOLDOWN] = "cooldown", [NR_CAP] = "hourly cap", [NR_QUIET] = "quiet hours",
	};

	return names[v];
}

/* The span may wrap midnight (22:00-07:00). */
static bool quiet_now(const struct nrules_cfg *c, int minute)
{
	if (c->quiet_start < 0)
		return false;
	if (c->quiet_start < c->quiet_end)
		return minute >= c->quiet_start && minute < c->quiet_end;
	return minute >= c->quiet_start || minute < c->quiet_end;
}

static int sent_last_hour(const struct nrules *r, int64_t now)
{
	unsigned n = r->nsent < NR_CAP_MAX ? r->nsent : NR_CAP_MAX;
	int cnt = 0;

	for (unsigned i = 0; i < n; i++)
		if (now - r->sent[i] < HOUR_MS)
			cnt++;
	return cnt;
}

static bool cooling(const struct nrules *r, const struct nr_type *t, int64_t now)
{
	return t->last_sent && now - t->last_sent < r->cfg.cooldown_ms;
}

static void record_send(struct nrules *r, struct nr_type *t, int64_t now)
{
	t->last_sent = now;
	r->sent[r->nsent++ % NR_CAP_MAX] = now;
	r->n_sent++;
}

static void hold(struct nrules *r, struct nr_type *t, const char *line, int64_t now)
{
	if (t->held < NR_HELD_LINES)
		strlcpy_ok(t->lines[t->held], line, NR_LINE_LEN);
	if (!t->held)
		t->first_held = now;
	t->held++;
	r->n_held++;
}

enum nr_verdict nrules_offer(struct nrules *r, enum notify_event ev, const char *key,
			     const char *line, int64_t now, int minute)
{
	struct nr_type *t = &r->t[ev];
	enum nr_verdict v = NR_SEND;

	if (!(r->cfg.events & (1u << ev))) {
		r->n_off++;
		return NR_OFF;
	}
	if (t->last_sent && r->cfg.dedup_ms && now - t->last_sent < r->cfg.dedup_ms &&
	    !strcmp(t->last_key, key)) {
		t->repeats++;
		r->n_dup++;
		return NR_DUP;
	}
	if (quiet_now(&r->cfg, minute) && r->cfg.prio[ev] < r->cfg.quiet_prio)
		v = NR_QUIET;
	else if (cooling(r, t, now))
		v = NR_COOLDOWN;
	else if (sent_last_hour(r, now) >= r->cfg.max_per_hour)
		v = NR_CAP;
	/* Something already held goes out first, in its digest. */
	else if (t->held)
		v = NR_COOLDOWN;
	if (v != NR_SEND) {
		hold(r, t, line, now);
		return v;
	}
	strlcpy_ok(t->last_key, key, sizeof(t->last_key));
	t->repeats = 0;
	record_send(r, t, now);
	return NR_SEND;
}

bool nrules_digest(struct nrules *r, enum notify_event ev, int64_t now, int minute,
		   char *buf, size_t size)
{
	struct nr_type *t = &r->t[ev];
	size_t len;
	int shown = t->held < NR_HELD_LINES ? t->held : NR_HELD_LINES;

	if (!t->held || cooling(r, t, now) || sent_last_hour(r, now) >= r->cfg.max_per_hour ||
	    (quiet_now(&r->cfg, minute) && r->cfg.prio[ev] < r->cfg.quiet_prio))
		return false;
	len = (size_t)snprintf(buf, size, "%d %s event%s held back in the last %lld min:",
			       t->held, cfg_notify_event_names[ev], t->held == 1 ? "" : "s",
			       (long long)((now - t->first_held) / 60000 + 1));
	for (int i = 0; i < shown && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "\n- %s", t->lines[i]);
	if (t->held > shown && len < size)
		snprintf(buf + len, size - len, "\n(and %d more)", t->held - shown);
	/* The digest is the last message of its type: a repeat of the last
	 * single message after it is news again. */
	t->last_key[0] = '\0';
	t->held = 0;
	record_send(r, t, now);
	return true;
}
