#include "probe/sched.h"
#include "core/log.h"
#include "core/util.h"

#include <string.h>

static int64_t regular_gap(const struct sched *s)
{
	int n = s->cfg->targets.n > 0 ? s->cfg->targets.n : 1;

	switch (s->role) {
	case SCHED_ACTIVE:
		return s->params->probe_interval_ms / n;
	case SCHED_STANDBY:
		return s->params->standby_interval_ms / n;
	case SCHED_METERED:
		return s->params->metered_interval_ms;
	default:
		return 0;
	}
}

/* A reply is overdue well before it counts as lost: that is when bursting starts. */
static int64_t overdue_ms(const struct sched *s)
{
	int64_t t = s->params->probe_timeout_ms, o;

	if (s->rtt_avg <= 0)
		return t < 500 ? t : 500;
	o = (int64_t)(2 * s->rtt_avg) + 150;
	if (o < 200)
		o = 200;
	return o < t ? o : t;
}

static bool bursting(const struct sched *s)
{
	return s->burst && !s->decided_down;
}

static void arm(struct ev_loop *loop, ev_timer *w, int64_t delay_ms)
{
	ev_timer_stop(loop, w);
	ev_timer_set(w, delay_ms > 0 ? (double)delay_ms / 1000.0 : 0., 0.);
	ev_timer_start(loop, w);
}

static void arm_send(struct sched *s, int64_t now)
{
	int64_t at = s->next_regular;

	if (s->role == SCHED_OFF) {
		ev_timer_stop(s->loop, &s->send_timer);
		return;
	}
	if (bursting(s)) {
		int64_t b = s->last_send + s->params->burst_interval_ms;

		if (b < at)
			at = b;
	}
	arm(s->loop, &s->send_timer, at - now);
}

static void arm_timeout(struct sched *s, int64_t now)
{
	int64_t next = 0, od = overdue_ms(s);

	for (int i = 0; i < SCHED_SLOTS; i++) {
		const struct sched_slot *sl = &s->slot[i];
		int64_t at;

		if (!sl->sent)
			continue;
		at = sl->overdue ? sl->sent + s->params->probe_timeout_ms : sl->sent + od;
		if (!next || at < next)
			next = at;
	}
	/* the no-reply verdict is due hard_fail_ms after the first unanswered
	 * probe, not at the next loss that happens to be counted */
	if (s->first_unanswered && !s->decided_down) {
		int64_t at = s->first_unanswered + s->params->hard_fail_ms;

		if (!next || at < next)
			next = at;
	}
	if (next)
		arm(s->loop, &s->timeout_timer, next - now);
	else
		ev_timer_stop(s->loop, &s->timeout_timer);
}

/* No unanswered spell in progress. */
static void clear_unanswered(struct sched *s)
{
	s->first_unanswered = 0;
	s->lost_since = 0;
	s->answered = 0;
}

static void count_bytes(struct sched *s, uint64_t bytes)
{
	int64_t day = wall_ms() / 86400000;

	if (day != s->day) {
		s->day = day;
		s->bytes_today = 0;
	}
	s->bytes_today += bytes;
}

static void send_one(struct sched *s, int64_t now, bool regular)
{
	int t = s->next_target % s->cfg->targets.n;
	struct sched_slot *sl;
	int rc;

	s->next_target = (t + 1) % s->cfg->targets.n;
	s->seq++;
	sl = &s->slot[s->seq % SCHED_SLOTS];
	*sl = (struct sched_slot){ .sent = now, .seq = s->seq, .target = (int8_t)t, .regular = regular };
	s->last_send = now;
	rc = prober_send(&s->prober, t, s->cfg->targets.addr[t], s->seq);
	if (rc < 0) {
		/* It times out like a lost probe: a path that cannot send is a path that fails. */
		if (-rc != s->send_errno)
			log_warn("probe %s: cannot send to %s: %s", s->cfg->name, s->cfg->targets.addr[t],
				 strerror(-rc));
		s->send_errno = -rc;
		return;
	}
	s->send_errno = 0;
	s->sent++;
	s->bytes_sent += (uint64_t)rc;
	count_bytes(s, (uint64_t)rc);
}

static void send_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct sched *s = container_of(w, struct sched, send_timer);
	int64_t now = mono_ms();
	/* libev times timers from its cached loop time, so one may fire a few ms
	 * before mono_ms() says it is due: close enough is on time */
	bool regular = now >= s->next_regular - 20;

	(void)loop;
	(void)revents;
	if (s->role == SCHED_OFF || !s->open || !s->cfg->targets.n)
		return;
	if (!regular && !bursting(s)) {
		arm_send(s, now);	/* early, and nothing overdue: not yet */
		return;
	}
	if (regular)
		s->next_regular = now + regular_gap(s);
	if (regular && !bursting(s) && s->role == SCHED_METERED && s->traffic_alive &&
	    s->traffic_alive(s)) {
		s->skipped++;
		arm_send(s, now);
		return;
	}
	send_one(s, now, regular);
	arm_send(s, now);
	arm_timeout(s, now);
}

static void mark_unanswered(struct sched *s, int64_t sent)
{
	if (!s->first_unanswered || sent < s->first_unanswered) {
		if (!s->first_unanswered)
			s->answered = 0;
		s->first_unanswered = sent;
	}
}

/* The no-reply verdict is taken by timeout_cb, after every loss of a pass. */
static void lost(struct sched *s, struct sched_slot *sl)
{
	if (sl->regular)
		score_target_add(&s->win[sl->target], -1);
	mark_unanswered(s, sl->sent);
	s->lost_since++;
	sl->sent = 0;
}

static void timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct sched *s = container_of(w, struct sched, timeout_timer);
	int64_t now = mono_ms(), od = overdue_ms(s);
	bool changed = false, burst_now = false;

	(void)loop;
	(void)revents;
	for (int i = 0; i < SCHED_SLOTS; i++) {
		struct sched_slot *sl = &s->slot[i];

		if (!sl->sent)
			continue;
		if (!sl->overdue && now >= sl->sent + od) {
			sl->overdue = true;
			mark_unanswered(s, sl->sent);
			if (!s->burst && !s->decided_down)
				burst_now = s->burst = true;
		}
		if (now >= sl->sent + s->params->probe_timeout_ms) {
			lost(s, sl);
			changed = true;
		}
	}
	if (!s->decided_down && sched_no_reply(s, now)) {
		s->decided_down = true;
		s->burst = false;
		changed = true;
	}
	if (burst_now)
		log_debug("probe %s: reply overdue, probing at burst rate", s->cfg->name);
	arm_send(s, now);
	arm_timeout(s, now);
	if (changed && s->on_change)
		s->on_change(s);
}

static void reply_cb(void *ctx, int target, uint16_t seq, double rtt_ms, size_t bytes)
{
	struct sched *s = ctx;
	struct sched_slot *sl = &s->slot[seq % SCHED_SLOTS];
	int64_t now = mono_ms();

	if (!sl->sent || sl->seq != seq || sl->target != target)
		return;	/* late (already counted lost) or stale */
	s->received++;
	s->bytes_received += bytes;
	count_bytes(s, bytes);
	s->rtt_avg = s->rtt_avg > 0 ? 0.8 * s->rtt_avg + 0.2 * rtt_ms : rtt_ms;
	s->last_reply = now;
	sl->sent = 0;
	/* A quorum of targets answering settles everything: an unanswered spell,
	 * a burst (also one asked for by a recheck or a link coming up). */
	s->answered |= 1u << target;
	if (__builtin_popcount(s->answered) >= s->cfg->reliability) {
		/* Back from an outage: judge it on what it does from now on;
		 * probes still in flight were sent into the outage. */
		if (s->decided_down)
			sched_forget(s);
		clear_unanswered(s);
		s->decided_down = false;
		s->burst = false;
	}
	if (sl->regular)
		score_target_add(&s->win[target], rtt_ms);
	arm_send(s, now);
	arm_timeout(s, now);
	if (s->on_change)
		s->on_change(s);
}

bool sched_no_reply(const struct sched *s, int64_t now)
{
	return s->first_unanswered && now - s->first_unanswered >= s->params->hard_fail_ms &&
	       s->lost_since >= 3;
}

void sched_stats(const struct sched *s, bool recent, struct score_stats *out)
{
	score_stats(s->win, s->cfg->targets.n, recent ? SCORE_SHORT : 0, out);
}

void sched_forget(struct sched *s)
{
	memset(s->win, 0, sizeof(s->win));
	memset(s->slot, 0, sizeof(s->slot));
	clear_unanswered(s);
}

void sched_reset(struct sched *s)
{
	sched_forget(s);
	s->burst = false;
	s->decided_down = false;
	if (s->loop)
		ev_timer_stop(s->loop, &s->timeout_timer);
}

void sched_set_role(struct sched *s, enum sched_role role)
{
	int64_t now = mono_ms(), gap;

	if (role == s->role)
		return;
	if (role == SCHED_OFF) {
		s->role = role;
		sched_reset(s);
		ev_timer_stop(s->loop, &s->send_timer);
		return;
	}
	if (s->role == SCHED_OFF)
		s->next_regular = now;	/* coming back: probe at once */
	s->role = role;
	gap = regular_gap(s);
	if (s->next_regular > now + gap)
		s->next_regular = now + gap;
	arm_send(s, now);
}

void sched_burst(struct sched *s)
{
	int64_t now = mono_ms();

	if (s->role == SCHED_OFF)
		return;
	s->burst = true;
	s->decided_down = false;
	s->next_regular = now;
	arm_send(s, now);
}

void sched_init(struct sched *s, struct ev_loop *loop, const struct cfg_member *cfg,
		const struct sched_params *params, void (*on_change)(struct sched *s))
{
	memset(s, 0, sizeof(*s));
	s->loop = loop;
	s->cfg = cfg;
	s->params = params;
	s->on_change = on_change;
	s->role = SCHED_OFF;
	ev_timer_init(&s->send_timer, send_cb, 0., 0.);
	ev_timer_init(&s->timeout_timer, timeout_cb, 0., 0.);
}

int sched_open(struct sched *s, const struct prober_cfg *pcfg)
{
	int rc;

	if (s->open)
		prober_close(&s->prober);
	s->open = false;
	rc = prober_open(&s->prober, s->loop, pcfg, reply_cb, s);
	if (rc == 0)
		s->open = true;
	return rc;
}

void sched_close(struct sched *s)
{
	if (!s->loop)
		return;
	sched_set_role(s, SCHED_OFF);
	if (s->open)
		prober_close(&s->prober);
	s->open = false;
}
