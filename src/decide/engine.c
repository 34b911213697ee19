#include "decide/engine.h"
#include "api/api.h"
#include "config/mwan3.h"
#include "control/conntrack.h"
#include "control/control.h"
#include "control/mwan3.h"
#include "core/daemon.h"
#include "core/log.h"
#include "core/state.h"
#include "core/util.h"
#include "member/member.h"
#include "netlink/nlmon.h"
#include "telem/evlog.h"
#include "telem/usage.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>
#include <json-c/json.h>

static struct {
	struct ev_loop *loop;
	bool running;
	const struct ctl_ops *ctl;
	struct sched_params sp;
	struct dec_params dp;
	struct score_params scp;
	struct dish_params dishp;
	struct dish_params discp;	/* looking for a dish behind a wired member */
	struct cell_params cellp;
	struct wifi_nl wifi;		/* nl80211, opened with the first wifi member */
	bool wifi_tried;
	ev_timer wifi_timer;
	int degraded_score;
	struct dec_state st;
	int64_t started;		/* mono ms */
	bool decided;			/* the first choice has been made */
	int64_t active_since;		/* wall ms */
	char applied[CFG_MAX_MEMBERS * (CFG_NAME_LEN + 1)];	/* last ranking given to the controller */
	bool reapply;			/* routes changed under us: apply even if the ranking did not */
	ev_timer decide_timer;
	ev_prepare reapply_watcher;	/* reapplies once per loop iteration, after a batch of route events */
	struct config eff;		/* configured or discovered members */
	bool from_mwan3;		/* eff's members come from config_root/mwan3 */
	bool in_decide;
	char flush_from[CFG_NAME_LEN];	/* traffic moved off it: flush its connections */
} E;

static void decide(void);

static struct member *member_of_dec(const struct dec_member *d)
{
	return d ? container_of(d, struct member, dec) : NULL;
}

static const char *dec_name(const struct dec_member *d)
{
	return d ? d->name : NULL;
}

/* metered_interval_ms, or what data_cap_mode makes of it (docs/CONFIGURATION.md) */
static int64_t metered_interval(const struct cfg_main *c)
{
	static const int64_t by_mode[] = {
		[CFG_CAP_CONSERVATIVE] = 300000,
		[CFG_CAP_BALANCED] = 60000,
		[CFG_CAP_AGGRESSIVE] = 15000,
	};

	if (c->metered_interval_ms)
		return c->metered_interval_ms;
	return by_mode[c->data_cap_mode];
}

static void params_from_cfg(const struct cfg_main *c)
{
	E.sp = (struct sched_params){
		.probe_interval_ms = c->probe_interval_ms,
		.standby_interval_ms = c->standby_interval_ms,
		.metered_interval_ms = metered_interval(c),
		.burst_interval_ms = c->burst_interval_ms,
		.probe_timeout_ms = c->probe_timeout_ms,
		.hard_fail_ms = c->hard_fail_ms,
	};
	E.dp = (struct dec_params){
		.switch_margin = c->switch_margin,
		.fail_min_ms = (int64_t)c->fail_min_duration_s * 1000,
		.restore_min_ms = (int64_t)c->restore_min_duration_s * 1000,
		.cooldown_ms = (int64_t)c->cooldown_s * 1000,
		.min_uptime_ms = (int64_t)c->min_uptime_s * 1000,
		.half_life_s = c->dampening_half_life_s,
		.suppress = c->dampening_suppress,
		.reuse = c->dampening_reuse,
	};
	E.scp = (struct score_params){
		.lat_ok = c->latency_ok_ms, .lat_bad = c->latency_bad_ms,
		.loss_ok = c->loss_ok_pct, .loss_bad = c->loss_bad_pct,
		.jit_ok = c->jitter_ok_ms, .jit_bad = c->jitter_bad_ms,
	};
	E.degraded_score = c->degraded_score;
	E.dishp = (struct dish_params){
		.poll_ms = c->dish_poll_ms,
		.timeout_ms = c->dish_timeout_ms,
		.outage_grace_ms = c->dish_outage_grace_ms,
	};
	E.discp = E.dishp;
	E.discp.poll_ms = DISH_DISCOVER_MS;
	E.discp.quiet = true;
	E.cellp = (struct cell_params){
		.poll_ms = c->radio_poll_ms,
		.timeout_ms = c->radio_timeout_ms,
		.rsrp_ok = c->rsrp_ok_dbm, .rsrp_bad = c->rsrp_bad_dbm,
		.sinr_ok = c->sinr_ok_db, .sinr_bad = c->sinr_bad_db,
	};
}

/* ---- links ---------------------------------------------------------------- */

static void link_eval(struct member *m)
{
	const struct nl_link *l = nlmon_find(m->cfg.device);

	m->link_ok = false;
	if (!l)
		m->link_cause = "device";
	else if (!l->admin_up || !l->carrier)
		m->link_cause = "carrier";
	else if (!l->has_addr4 && !l->has_addr6)
		m->link_cause = "address";
	else if (!l->has_default4 && !l->has_default6)
		m->link_cause = "route";
	else
		m->link_ok = true;
}

static uint16_t member_ident(const struct member *m)
{
	for (int i = 0; i < mem_count(); i++)
		if (mem_get(i) == m)
			return (uint16_t)(((unsigned)getpid() & 0x3ff) << 6 | (unsigned)(i & 0x3f));
	return (uint16_t)getpid();
}

/* Probe sockets are bound to the device and its address: rebind when it changes. */
static void open_probes(struct member *m)
{
	const struct nl_link *l = nlmon_find(m->cfg.device);
	struct prober_cfg pc = { .type = m->cfg.probe, .mark = (uint32_t)m->cfg.mark };

	if (!pc.mark)	/* e.g. mwan3's bypass mark, as its own tracker sets */
		pc.mark = E.ctl->probe_mark;
	if (!l)
		return;
	if (m->bound && l->has_addr4 == !!m->bound_src4.s_addr &&
	    (!l->has_addr4 || l->addr4.s_addr == m->bound_src4.s_addr))
		return;
	strlcpy_ok(pc.device, m->cfg.device, sizeof(pc.device));
	pc.has_src4 = l->has_addr4;
	pc.src4 = l->addr4;
	pc.ident = member_ident(m);
	if (sched_open(&m->sched, &pc) == 0) {
		m->bound = true;
		m->bound_src4 = l->has_addr4 ? l->addr4 : (struct in_addr){ 0 };
	} else {
		m->bound = false;
	}
}

static bool any_usable(void);

/* The active member, members not measured yet and, when nothing is up, every
 * member probe at the normal rate: finding a way out matters more then than
 * the data budget. */
static enum sched_role role_of(const struct member *m)
{
	if (!m->cfg.enabled || !m->link_ok || !m->bound)
		return SCHED_OFF;
	if (E.st.active == &m->dec || !m->dec.known || !any_usable())
		return SCHED_ACTIVE;
	return m->cfg.metered ? SCHED_METERED : SCHED_STANDBY;
}

/* ---- member state ---------------------------------------------------------- */

static void set_status(struct member *m, enum mem_status st)
{
	if (st == m->status)
		return;
	if (st == MEM_DOWN)
		evlog_add("member", "down", m->cfg.name, NULL, "%s is down (%s)", m->cfg.name,
			  m->dec.cause);
	else if (st != MEM_UNKNOWN && (m->status == MEM_DOWN || m->status == MEM_UNKNOWN))
		evlog_add("member", "up", m->cfg.name, NULL, "%s is up", m->cfg.name);
	else
		log_info("member %s: %s -> %s", m->cfg.name, mem_status_name(m->status),
			 mem_status_name(st));
	m->status = st;
	m->status_since = wall_ms();
}

static void update_scores(struct member *m)
{
	struct score_stats recent, all;
	double instant;

	sched_stats(&m->sched, true, &recent);
	sched_stats(&m->sched, false, &all);
	instant = score_instant(&E.scp, &recent);
	if (!isnan(instant))
		instant = fmax(0, instant - dish_penalty(&m->dish, mono_ms()) -
				  cell_penalty(&m->cell, mono_ms()) -
				  (m->class == MEM_CLASS_WIFI ? wifimon_penalty(&m->wifi, mono_ms()) : 0));
	score_update(&m->score, instant);
	m->latency_ms = all.latency_ms;
	m->loss_pct = all.loss_pct;
	m->jitter_ms = all.jitter_ms;
	m->dec.score = m->score.final;
}

/* What the dish expects (an outage predicted or planned) or what the radio
 * shows (signal falling, cells changing) becomes the member's risk; its start
 * and end are events. */
static void eval_risk(struct member *m, int64_t now)
{
	bool planned = false;
	const char *risk = dish_risk(&m->dish, now, &planned);
	const char *why = m->dish.risk_why;

	if (!risk) {
		risk = cell_risk(&m->cell, now);
		why = m->cell.risk_why;
	}
	if (!risk && m->class == MEM_CLASS_WIFI) {
		risk = wifimon_risk(&m->wifi, now);
		why = m->wifi.risk_why;
	}
	if (risk == m->dec.risk)
		return;
	if (risk)
		evlog_add("member", "at-risk", m->cfg.name, NULL, "%s: %s (%s)", m->cfg.name,
			  planned ? "outage planned" : "outage predicted", why);
	else if (m->class == MEM_CLASS_WIFI)
		evlog_add("member", "risk-over", m->cfg.name, NULL, "%s: %s", m->cfg.name,
			  wifimon_fresh(&m->wifi, now) ? "the Wi-Fi signal looks steady again"
						       : "no Wi-Fi signal reading, the probes decide");
	else if (m->cell.running)
		evlog_add("member", "risk-over", m->cfg.name, NULL, "%s: %s", m->cfg.name,
			  cell_fresh(&m->cell, now) ? "the radio looks steady again"
						    : "the modem stopped answering, the probes decide");
	else
		evlog_add("member", "risk-over", m->cfg.name, NULL, "%s: %s", m->cfg.name,
			  dish_fresh(&m->dish, now) ? "no outage expected any more"
						    : "the dish stopped answering, the probes decide");
	m->dec.risk = risk;
	m->dec.risk_planned = planned;
	m->dec.risk_since = risk ? now : 0;
}

/* Works out down/known/status from the link and the probes; no decision. */
static void member_eval(struct member *m, int64_t now)
{
	char cause[32];
	bool dish_out = dish_outage(&m->dish, now, cause, sizeof(cause));
	bool down = !m->link_ok || m->sched.decided_down || dish_out;
	bool replied = m->sched.received > m->seen_received;

	m->seen_received = m->sched.received;
	m->dec.enabled = m->cfg.enabled;
	m->dec.weight = m->cfg.weight;
	m->dec.metered = m->cfg.metered;
	eval_risk(m, now);
	if (down && !m->dec.down) {
		m->dec.down = true;
		m->dec.known = true;
		if (!m->link_ok) {
			m->dec.cause = m->link_cause;
		} else if (dish_out) {
			/* the dish knows before the probes do: say what it said */
			snprintf(m->dish_cause, sizeof(m->dish_cause), "dish-outage:%s", cause);
			m->dec.cause = m->dish_cause;
		} else {
			m->dec.cause = "no-reply";
		}
		m->dec.down_since = m->link_ok && m->sched.first_unanswered ? m->sched.first_unanswered : now;
		dec_member_went_down(&m->dec, &E.dp, now);
	} else if (!down && m->dec.down) {
		if (m->dec.cause == m->dish_cause) {
			/* the dish says it is over: the loss measured during the
			 * outage is history, and the probes measure afresh */
			sched_forget(&m->sched);
			score_reset(&m->score);
			sched_burst(&m->sched);
		}
		m->dec.down = false;
		/* after a link fault it has to answer first; after no-reply it just did */
		m->dec.known = !m->link_ok ? false : replied;
		if (m->dec.known)
			dec_member_came_up(&m->dec, now);
	} else if (!down && replied && !m->dec.known) {
		m->dec.known = true;
		dec_member_came_up(&m->dec, now);
	}
	m->dec.degraded = !isnan(m->score.final) && m->score.final < E.degraded_score;
	if (!m->cfg.enabled || !m->dec.known)
		set_status(m, m->dec.down ? MEM_DOWN : MEM_UNKNOWN);
	else
		set_status(m, m->dec.down ? MEM_DOWN : m->dec.degraded ? MEM_DEGRADED : MEM_UP);
	m->eligible = dec_eligible(&m->dec, &E.dp, now);
}

static void on_probe(struct sched *s)
{
	struct member *m = container_of(s, struct member, sched);

	if (m->dec.down && m->link_ok && !s->decided_down)
		score_reset(&m->score);	/* answering again: the outage is history */
	update_scores(m);
	member_eval(m, mono_ms());
	decide();
}

static void link_changed(struct member *m)
{
	bool was_ok = m->link_ok;

	link_eval(m);
	if (m->link_ok)
		open_probes(m);
	if (!m->link_ok && was_ok) {
		sched_set_role(&m->sched, SCHED_OFF);
		score_reset(&m->score);
	}
	member_eval(m, mono_ms());
	if (m->link_ok && !was_ok) {
		sched_set_role(&m->sched, role_of(m));
		sched_burst(&m->sched);
	}
}

/* ---- discovery --------------------------------------------------------------- */

struct discover_ctx {
	struct config *c;
};

static int discover_link(const struct nl_link *l, void *ctx)
{
	struct config *c = ((struct discover_ctx *)ctx)->c;
	struct cfg_member *m;
	char name[CFG_NAME_LEN];

	if (!l->has_default4 && !l->has_default6)
		return 0;
	if (c->nmembers == CFG_MAX_MEMBERS || !strcmp(l->name, "lo"))
		return c->nmembers == CFG_MAX_MEMBERS;
	/* member names are UCI names: letters, digits and _ */
	strlcpy_ok(name, l->name, sizeof(name));
	for (char *p = name; *p; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') && !(*p >= '0' && *p <= '9'))
			*p = '_';
	m = &c->member[c->nmembers++];
	memset(m, 0, sizeof(*m));
	cfg_member_defaults(m);
	strlcpy_ok(m->name, name, sizeof(m->name));
	strlcpy_ok(m->device, l->name, sizeof(m->device));
	return 0;
}

/* The router's mwan3 interfaces (read at start and reload only, not at every
 * route event), else the links with a default route. */
static const struct config *effective(const struct config *c, bool read_mwan3)
{
	struct discover_ctx ctx = { &E.eff };

	if (!E.running || c->nmembers)
		return c;
	E.eff = *c;
	if (read_mwan3)
		E.from_mwan3 = mwan3_discover(c->main.config_root, &E.eff) > 0;
	if (E.from_mwan3)
		log_info("discovery: %d member(s) from %s/mwan3", E.eff.nmembers, c->main.config_root);
	else
		nlmon_foreach(discover_link, &ctx);
	return &E.eff;
}

const struct config *eng_effective_config(const struct config *c)
{
	return effective(c, true);
}

static void rediscover(void)
{
	const struct config *c = effective(&daemon_ctx.cfg, false);
	bool same = c->nmembers == mem_count();

	for (int i = 0; same && i < c->nmembers; i++)
		same = !strcmp(c->member[i].name, mem_get(i)->cfg.name);
	if (same)
		return;
	log_info("discovery: %d uplink(s) with a default route", c->nmembers);
	mem_sync(c);
	eng_members_changed();
}

static void nl_cb(const struct nl_link *l, unsigned changed, void *ctx)
{
	(void)ctx;
	if (!E.running)
		return;
	if (!daemon_ctx.cfg.nmembers && !E.from_mwan3 &&
	    (changed & (NLMON_ROUTE | NLMON_NEW | NLMON_GONE)))
		rediscover();
	for (int i = 0; i < mem_count(); i++) {
		struct member *m = mem_get(i);

		if (strcmp(m->cfg.device, l->name))
			continue;
		if (changed & NLMON_ROUTE)
			E.reapply = true;
		if (changed & NLMON_GONE)
			m->bound = false;
		link_changed(m);
	}
	decide();
}

/* ---- controller -------------------------------------------------------------- */

static struct ctl_member ctl_of(const struct member *m)
{
	const struct dec_member *d = &m->dec;
	int state = !m->cfg.enabled ? CTL_UNKNOWN : d->down ? CTL_DOWN :
		    d->known ? CTL_UP : CTL_UNKNOWN;

	return (struct ctl_member){ m->cfg.name, m->cfg.device, m->cfg.weight, state };
}

/* Active first, then the others in config order with the down ones last: the
 * kernel's fallback order, stable so standby routes do not churn. The
 * signature carries each member's state too (the mwan3 controller needs it). */
static int build_ranking(struct ctl_member *out, char *sig, size_t siglen)
{
	struct member *a = member_of_dec(E.st.active);
	int n = 0;
	size_t len = 0;

	if (a)
		out[n++] = ctl_of(a);
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < mem_count(); i++) {
			struct member *m = mem_get(i);

			if (m == a || m->dec.down != (pass == 1))
				continue;
			out[n++] = ctl_of(m);
		}
	}
	sig[0] = '\0';
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(sig + len, siglen > len ? siglen - len : 0, "%s%c,", out[i].name,
					"?+-"[out[i].state]);
	return n;
}

static void apply_controller(bool force)
{
	struct ctl_member ranking[CFG_MAX_MEMBERS];
	char sig[sizeof(E.applied)];
	int n;

	if (!E.st.active)
		return;
	n = build_ranking(ranking, sig, sizeof(sig));
	if (!force && !strcmp(sig, E.applied))
		return;
	E.reapply = false;
	if (E.ctl->apply(ranking, n) == 0)
		strlcpy_ok(E.applied, sig, sizeof(E.applied));
	else
		E.applied[0] = '\0';	/* try again on the next change */
}

/* ---- decisions ------------------------------------------------------------------ */

static double num(double v)
{
	return isnan(v) ? 0.0 : v;
}

static void switch_event(const struct dec_switch *sw, int64_t now)
{
	struct member *from = member_of_dec(sw->from), *to = member_of_dec(sw->to);
	char fs[64] = "";

	if (!from) {
		evlog_add("switch", sw->reason, NULL, to->cfg.name, "%s chosen (%s): score %.1f",
			  to->cfg.name, sw->reason, num(to->score.final));
		return;
	}
	if (sw->fault_since && now > sw->fault_since)
		snprintf(fs, sizeof(fs), "; condition first seen %.1f s before",
			 (double)(now - sw->fault_since) / 1000.0);
	evlog_add("switch", sw->reason, from->cfg.name, to->cfg.name,
		  "%s -> %s (%s): scores %.1f -> %.1f, loss %.0f%% -> %.0f%%, latency %.0f -> %.0f ms%s",
		  from->cfg.name, to->cfg.name, sw->reason, num(from->score.final), num(to->score.final),
		  num(from->loss_pct), num(to->loss_pct), num(from->latency_ms), num(to->latency_ms), fs);
}

static void on_switch(const struct dec_switch *sw, int64_t now)
{
	struct daemon_ctx *d = &daemon_ctx;
	const struct member *from = member_of_dec(sw->from);

	E.active_since = wall_ms();
	switch_event(sw, now);
	if (from)
		strlcpy_ok(E.flush_from, from->cfg.name, sizeof(E.flush_from));
	strlcpy_ok(d->saved.active, sw->to->name, sizeof(d->saved.active));
	d->saved.active_since = E.active_since;
	state_save(&d->saved);
}

/* Once the controller has moved traffic: connections that left through the member
 * it moved off would hang on its address (control/conntrack.h). */
static void flush_connections(void)
{
	const struct member *m = mem_find(E.flush_from);
	const struct nl_link *l = m ? nlmon_find(m->cfg.device) : NULL;
	struct ct_addrs a = { 0 };

	E.flush_from[0] = '\0';
	if (!l || !daemon_ctx.cfg.main.conntrack_flush || !E.ctl->moves_connections)
		return;
	if (l->has_addr4)
		a.v4[a.n4++] = l->addr4;
	if (l->has_addr6)
		a.v6[a.n6++] = l->addr6;
	ct_flush(m->cfg.name, &a);
}

/* The first choice waits until every member has been measured, or a grace
 * period has passed, so it is not simply the first to answer. */
static bool startup_ready(int64_t now)
{
	if (now - E.started >= E.sp.hard_fail_ms + E.sp.probe_timeout_ms)
		return true;
	for (int i = 0; i < mem_count(); i++) {
		const struct member *m = mem_get(i);

		if (m->cfg.enabled && m->link_ok && !m->dec.known)
			return false;
	}
	return true;
}

static void arm_decide(int64_t at, int64_t now)
{
	ev_timer_stop(E.loop, &E.decide_timer);
	if (!at)
		return;
	ev_timer_set(&E.decide_timer, at > now ? (double)(at - now) / 1000.0 : 0., 0.);
	ev_timer_start(E.loop, &E.decide_timer);
}

static void decide(void)
{
	struct dec_member *dm[CFG_MAX_MEMBERS];
	int64_t now = mono_ms(), next = 0;
	struct dec_switch sw;
	int n = mem_count();

	if (!E.running || E.in_decide)
		return;
	E.in_decide = true;
	if (!E.decided && !E.st.active && !startup_ready(now)) {
		arm_decide(E.started + E.sp.hard_fail_ms + E.sp.probe_timeout_ms, now);
		E.in_decide = false;
		return;
	}
	for (int i = 0; i < n; i++)
		dm[i] = &mem_get(i)->dec;
	if (dec_decide(&E.st, dm, n, &E.dp, now, &sw, &next))
		on_switch(&sw, now);
	if (E.st.active)
		E.decided = true;
	arm_decide(next, now);
	for (int i = 0; i < n; i++) {
		struct member *m = mem_get(i);

		m->eligible = dec_eligible(&m->dec, &E.dp, now);
		sched_set_role(&m->sched, role_of(m));
	}
	apply_controller(false);
	if (E.flush_from[0] && E.applied[0])
		flush_connections();
	E.in_decide = false;
}

/* Route events come in batches (our own moves among them): check the routes
 * once, when the batch is done. */
static void reapply_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	if (E.reapply)
		apply_controller(true);
}

static void decide_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	for (int i = 0; i < mem_count(); i++)
		member_eval(mem_get(i), mono_ms());
	decide();
}

/* ---- members coming and going ------------------------------------------------------- */

/* A wired member with class auto, unmetered: a dish may answer through it. */
static bool dish_candidate(const struct member *m)
{
	return m->cfg.class == MEM_CLASS_AUTO && !m->cfg.metered &&
	       (m->class == MEM_CLASS_WIRED || m->class == MEM_CLASS_OTHER);
}

static void on_dish(struct dish *d)
{
	struct member *m = container_of(d, struct member, dish);
	int64_t now = mono_ms();

	if (m->class != MEM_CLASS_STARLINK) {
		if (!dish_fresh(d, now))
			return;
		m->dish_found = true;
		m->class = MEM_CLASS_STARLINK;
		dish_set_params(d, &E.dishp);
		evlog_add("member", "discovered", m->cfg.name, NULL,
			  "%s: a Starlink dish answers at %s through %s: class starlink", m->cfg.name,
			  d->address, m->cfg.device);
	}
	member_eval(m, now);
	decide();
}

static void dish_begin(struct member *m)
{
	const char *addr = m->cfg.dish[0] ? m->cfg.dish : SL_DEFAULT_ADDRESS;
	const struct dish_params *p;

	if (!m->cfg.enabled)
		return;
	if (m->class == MEM_CLASS_STARLINK)
		p = &E.dishp;
	else if (WITH_STARLINK && dish_candidate(m))
		p = &E.discp;
	else
		return;
	if (dish_start(&m->dish, E.loop, addr, m->cfg.device, p, on_dish) < 0)
		log_warn("member %s: cannot watch the Starlink dish at %s", m->cfg.name, addr);
}

static void on_cell(struct cell *c)
{
	struct member *m = container_of(c, struct member, cell);

	update_scores(m);	/* the radio counts at once, not at the next probe */
	member_eval(m, mono_ms());
	decide();
}

static void cell_begin(struct member *m)
{
	if (m->cfg.enabled && m->class == MEM_CLASS_CELLULAR)
		cell_start(&m->cell, E.loop, m->cfg.name, m->cfg.radio_source, m->cfg.modem,
			   m->cfg.prefer_roaming, &E.cellp, on_cell);
}

/* Every Wi-Fi member's station, one nl80211 round trip each. */
static void wifi_poll(struct ev_loop *loop, ev_timer *w, int revents)
{
	const struct cfg_main *c = &daemon_ctx.cfg.main;
	int64_t now = mono_ms();

	(void)loop;
	(void)w;
	(void)revents;
	for (int i = 0; i < mem_count(); i++) {
		struct member *m = mem_get(i);
		struct wifi_info info;
		int rc, before = m->wifi.err;

		if (!m->running || !m->cfg.enabled || m->class != MEM_CLASS_WIFI)
			continue;
		m->wifi.signal_ok = c->wifi_signal_ok_dbm;
		m->wifi.signal_bad = c->wifi_signal_bad_dbm;
		rc = wifi_query(&E.wifi, m->cfg.device, &info);
		wifimon_update(&m->wifi, rc, &info, now);
		update_scores(m);
		if (rc < 0 && rc != before)
			log_warn("member %s: no Wi-Fi station reading for %s: %s", m->cfg.name,
				 m->cfg.device, wifi_strerror(rc));
		else if (rc == 0 && before < 0)
			log_info("member %s: Wi-Fi station readings for %s", m->cfg.name, m->cfg.device);
		member_eval(m, now);
	}
	decide();
}

static void wifi_begin(struct member *m)
{
	if (!E.wifi_tried && (m->class == MEM_CLASS_WIFI || m->cfg.class == MEM_CLASS_AUTO)) {
		int rc = wifi_open(&E.wifi);

		E.wifi_tried = true;
		if (rc < 0 && rc != -ENOENT)
			log_warn("Wi-Fi: cannot open nl80211: %s", strerror(-rc));
	}
	if (m->cfg.class == MEM_CLASS_AUTO && m->class != MEM_CLASS_WIFI &&
	    m->class != MEM_CLASS_STARLINK && wifi_is_station(&E.wifi, m->cfg.device))
		m->class = MEM_CLASS_WIFI;
	memset(&m->wifi, 0, sizeof(m->wifi));
	wifi_info_clear(&m->wifi.info);
	if (m->class == MEM_CLASS_WIFI && !ev_is_active(&E.wifi_timer))
		ev_timer_start(E.loop, &E.wifi_timer);
}

static bool traffic_alive(struct sched *s)
{
	return usage_traffic_proof(container_of(s, struct member, sched));
}

static void member_start(struct member *m)
{
	sched_init(&m->sched, E.loop, &m->cfg, &E.sp, on_probe);
	usage_member_started(m);
	wifi_begin(m);
	memset(&m->dec, 0, sizeof(m->dec));
	m->dec.name = m->cfg.name;
	m->dec.score = NAN;
	m->running = true;
	m->bound = false;
	link_changed(m);
	sched_set_role(&m->sched, role_of(m));
	dish_begin(m);
	cell_begin(m);
}

static void member_restart(struct member *m)
{
	dish_stop(&m->dish);
	dish_begin(m);
	cell_stop(&m->cell);
	cell_begin(m);
	sched_close(&m->sched);
	sched_reset(&m->sched);
	memset(m->sched.win, 0, sizeof(m->sched.win));
	score_reset(&m->score);
	m->bound = false;
	m->dec.known = false;
	m->link_ok = false;
	link_changed(m);
	sched_set_role(&m->sched, role_of(m));
}

static void member_removed(struct member *m)
{
	if (!m->running)
		return;
	if (E.st.active == &m->dec)
		E.st.active = NULL;
	if (E.st.manual == &m->dec)
		E.st.manual = NULL;
	dish_stop(&m->dish);
	cell_stop(&m->cell);
	sched_close(&m->sched);
	m->running = false;
}

void eng_members_changed(void)
{
	if (!E.running)
		return;
	params_from_cfg(&daemon_ctx.cfg.main);
	for (int i = 0; i < mem_count(); i++) {
		struct member *m = mem_get(i);

		if (!m->running)
			member_start(m);
		else if (m->cfg_changed)
			member_restart(m);
		m->sched.traffic_alive = daemon_ctx.cfg.main.traffic_proof ? traffic_alive : NULL;
		m->cfg_changed = false;
	}
	E.reapply = true;
	decide();
}

/* ---- init / fini ----------------------------------------------------------------------- */

/* auto: mwan3 when the router's mwan3 has enabled interfaces, else route. */
static const struct ctl_ops *pick_controller(const struct cfg_main *c)
{
	switch (c->controller) {
	case CFG_CTL_NONE:
		return &ctl_none_ops;
	case CFG_CTL_MWAN3:
		break;
	case CFG_CTL_ROUTE:
		return &ctl_route_ops;
	default:
		if (!mwan3_present(c->config_root))
			return &ctl_route_ops;
	}
	ctl_mwan3_setup(E.loop, c->mwan3_hotplug_call, NULL);
	return &ctl_mwan3_ops;
}

static void restore_saved_active(void)
{
	const struct state_saved *s = &daemon_ctx.saved;
	struct member *m = s->active[0] ? mem_find(s->active) : NULL;

	if (!m)
		return;
	/* Keep what was active before the restart: no flap back to a preferred
	 * member until it has proven itself for the restore window again. */
	E.st.active = &m->dec;
	E.st.last_switch = mono_ms();
	E.active_since = s->active_since;
	E.decided = true;
	log_info("resuming with %s active (from the state file)", m->cfg.name);
}

int eng_init(struct ev_loop *loop)
{
	const struct cfg_main *c = &daemon_ctx.cfg.main;
	int rc;

	memset(&E, 0, sizeof(E));
	E.loop = loop;
	E.started = mono_ms();
	params_from_cfg(c);
	ev_timer_init(&E.decide_timer, decide_timer_cb, 0., 0.);
	ev_timer_init(&E.wifi_timer, wifi_poll, WIFIMON_POLL_MS / 1000.0, WIFIMON_POLL_MS / 1000.0);
	ev_prepare_init(&E.reapply_watcher, reapply_cb);
	ev_prepare_start(loop, &E.reapply_watcher);
	rc = nlmon_init(loop, nl_cb, NULL);
	if (rc < 0)
		return rc;
	E.ctl = pick_controller(c);
	rc = E.ctl->init((uint32_t)c->metric_base);
	if (rc < 0) {
		nlmon_fini();
		return rc;
	}
	mem_set_remove_hook(member_removed);
	usage_init(loop);
	ct_init(loop);
	E.running = true;
	daemon_ctx.engine = true;
	mem_sync(eng_effective_config(&daemon_ctx.cfg));
	restore_saved_active();
	eng_members_changed();
	log_info("engine running: controller %s, %d member(s)", E.ctl->name, mem_count());
	return 0;
}

void eng_fini(void)
{
	if (!E.running)
		return;
	usage_fini();
	ct_fini();
	for (int i = 0; i < mem_count(); i++)
		member_removed(mem_get(i));
	ev_timer_stop(E.loop, &E.decide_timer);
	ev_timer_stop(E.loop, &E.wifi_timer);
	wifi_close(&E.wifi);
	ev_prepare_stop(E.loop, &E.reapply_watcher);
	E.ctl->fini();
	nlmon_fini();
	mem_set_remove_hook(NULL);
	E.running = false;
	daemon_ctx.engine = false;
}

bool eng_running(void)
{
	return E.running;
}

/* ---- API ----------------------------------------------------------------------------- */

static bool any_usable(void)
{
	for (int i = 0; i < mem_count(); i++) {
		const struct dec_member *d = &mem_get(i)->dec;

		if (d->enabled && d->known && !d->down)
			return true;
	}
	return false;
}

static const char *state_name(void)
{
	const struct member *a = member_of_dec(E.st.active);
	int top = 0;

	if (!E.decided)
		return mono_ms() - E.started < E.sp.hard_fail_ms + E.sp.probe_timeout_ms || any_usable() ?
		       "starting" : "all-down";
	if (E.st.manual)
		return "manual";
	if (!any_usable())
		return "all-down";
	for (int i = 0; i < mem_count(); i++)
		if (mem_get(i)->cfg.enabled && mem_get(i)->cfg.weight > top)
			top = mem_get(i)->cfg.weight;
	return a && a->cfg.weight < top ? "failover" : "normal";
}

void eng_status_json(struct json_object *o)
{
	char ts[RFC3339_LEN];
	const char *a = dec_name(E.st.active);

	json_object_object_add(o, "active", a ? json_object_new_string(a) : NULL);
	json_object_object_add(o, "active_since", a && E.active_since > 0 ?
			       json_object_new_string(fmt_rfc3339(ts, E.active_since)) : NULL);
	json_object_object_add(o, "controller", json_object_new_string(E.ctl->name));
	json_object_object_add(o, "state", json_object_new_string(state_name()));
	json_object_object_add(o, "manual", E.st.manual ? json_object_new_string(E.st.manual->name) : NULL);
}

void eng_member_json(const struct member *m, struct json_object *o, bool detail)
{
	struct json_object *link, *damp;
	char ts[RFC3339_LEN];

	if (m->dish.running && m->class == MEM_CLASS_STARLINK)
		json_object_object_add(o, "starlink", dish_json(&m->dish, mono_ms(), detail));
	if (m->cell.running)
		json_object_object_add(o, "cellular", cell_json(&m->cell, mono_ms(), detail));
	if (m->running && m->class == MEM_CLASS_WIFI)
		json_object_object_add(o, "wifi", wifimon_json(&m->wifi, mono_ms()));
	if (detail && m->running) {
		struct json_object *d = usage_json(m);

		if (d)
			json_object_object_add(o, "data", d);
	}
	if (!detail)
		return;
	link = json_object_new_object();
	damp = json_object_new_object();
	json_object_object_add(o, "active", json_object_new_boolean(E.st.active == &m->dec));
	json_object_object_add(o, "down_cause", m->dec.down ? json_object_new_string(m->dec.cause) : NULL);
	json_object_object_add(o, "status_since", m->status_since ?
			       json_object_new_string(fmt_rfc3339(ts, m->status_since)) : NULL);
	json_object_object_add(link, "ok", json_object_new_boolean(m->link_ok));
	json_object_object_add(link, "problem", m->link_ok ? NULL : json_object_new_string(m->link_cause));
	json_object_object_add(o, "link", link);
	json_object_object_add(damp, "penalty", json_object_new_int((int)m->dec.penalty));
	json_object_object_add(damp, "suppressed", json_object_new_boolean(m->dec.suppressed));
	json_object_object_add(o, "dampening", damp);
	json_object_object_add(o, "risk", m->dec.risk ? json_object_new_string(m->dec.risk) : NULL);
}

static struct member *find_usable(const char *name, struct json_object **err)
{
	struct member *m = mem_find(name);

	if (!m)
		*err = api_error("invalid_argument", "no member named '%s'", name);
	else if (!m->cfg.enabled || !m->dec.known || m->dec.down)
		*err = api_error("invalid_argument", "%s is %s: cannot fail over to it", name,
				 mem_status_name(m->status));
	else
		return m;
	return NULL;
}

static struct json_object *ok(const char *fmt, const char *arg)
{
	struct json_object *o = json_object_new_object();
	char msg[160];

	snprintf(msg, sizeof(msg), fmt, arg);
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "message", json_object_new_string(msg));
	return o;
}

static struct json_object *act_failover(const char *name)
{
	struct json_object *err = NULL;
	struct member *m = NULL;

	if (name) {
		m = find_usable(name, &err);
		if (!m)
			return err;
	} else {
		for (int i = 0; i < mem_count(); i++) {
			struct member *c = mem_get(i);

			if (&c->dec != E.st.active && c->cfg.enabled && c->dec.known && !c->dec.down &&
			    (!m || c->dec.score > m->dec.score || isnan(m->dec.score)))
				m = c;
		}
		if (!m)
			return api_error("unavailable", "no other member is up to fail over to");
	}
	E.st.manual = &m->dec;
	evlog_add("action", "failover", dec_name(E.st.active), m->cfg.name,
		  "manual failover to %s, held until restore", m->cfg.name);
	decide();
	return ok("traffic moved to %s until 'restore'", m->cfg.name);
}

static struct json_object *act_restore(void)
{
	if (!E.st.manual)
		return ok("%s", "no manual failover was active");
	E.st.manual = NULL;
	evlog_add("action", "restore", NULL, NULL, "manual failover ended; automatic decisions resume");
	decide();
	return ok("%s", "automatic decisions resume");
}

static struct json_object *act_recheck(const char *name)
{
	struct json_object *err = NULL;

	if (name && !mem_find(name)) {
		err = api_error("invalid_argument", "no member named '%s'", name);
		return err;
	}
	for (int i = 0; i < mem_count(); i++)
		if (!name || !strcmp(mem_get(i)->cfg.name, name))
			sched_burst(&mem_get(i)->sched);
	return ok("re-probing %s now", name ? name : "every member");
}

struct json_object *eng_action(const char *cmd, const char *name)
{
	if (!strcmp(cmd, "failover"))
		return act_failover(name);
	if (!strcmp(cmd, "restore"))
		return act_restore();
	return act_recheck(name);
}
