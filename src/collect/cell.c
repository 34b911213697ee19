/* Cellular radio of one member: the contract is in cell.h. */
#include "collect/cell.h"
#include "core/log.h"
#include "core/jsonnum.h"
#include "core/util.h"
#include "decide/score.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#define STEP_MM_SETUP	__RADIO_Q_MAX	/* mmcli --signal-setup, before the first read */

static const char *const src_names[__CELL_SRC_MAX] = {
	[CELL_SRC_AUTO] = "auto", [CELL_SRC_UBUS] = "ubus", [CELL_SRC_UQMI] = "uqmi",
	[CELL_SRC_MMCLI] = "mmcli", [CELL_SRC_OFF] = "off",
};

const char *cell_source_name(int source)
{
	return source >= 0 && source < __CELL_SRC_MAX ? src_names[source] : "?";
}

static int source_now(const struct cell *c)
{
	return c->source == CELL_SRC_AUTO ? c->detect : c->source;
}

static int signal_query(int source)
{
	return source == CELL_SRC_UBUS ? RADIO_Q_UBUS_SIGNAL :
	       source == CELL_SRC_UQMI ? RADIO_Q_UQMI : RADIO_Q_MM_SIGNAL;
}

/* ---- the commands --------------------------------------------------------- */

static const char *ubus_method(int step)
{
	switch (step) {
	case RADIO_Q_UBUS_SIGNAL:	return "get_signal_query";
	case RADIO_Q_UBUS_NETWORK:	return "get_network_info";
	case RADIO_Q_UBUS_PROVIDER:	return "get_service_provider";
	case RADIO_Q_UBUS_REGSTAT:	return "get_net_reg_stat_all";
	default:			return "get_sim_slot";
	}
}

static void step_done(struct runner *r, int rc, const char *out, size_t len);
static void run_step(struct cell *c);

static int start_step(struct cell *c)
{
	int step = c->steps[c->step];
	char setup[32];
	char *argv[8];
	const char *m = c->modem;
	int n = 0;

	if (step == RADIO_Q_UQMI) {
		argv[n++] = "uqmi";
		argv[n++] = "-s";
		argv[n++] = "-d";
		argv[n++] = (char *)(*m ? m : "/dev/cdc-wdm0");
		argv[n++] = "--get-signal-info";
		argv[n++] = "--get-serving-system";
	} else if (step == RADIO_Q_MM_SIGNAL || step == RADIO_Q_MM_MODEM || step == STEP_MM_SETUP) {
		argv[n++] = "mmcli";
		argv[n++] = "-m";
		argv[n++] = (char *)(*m ? m : "any");
		if (step == STEP_MM_SETUP) {
			snprintf(setup, sizeof(setup), "--signal-setup=%d",
				 (int)(c->p->poll_ms < 1000 ? 1 : c->p->poll_ms / 1000));
			argv[n++] = setup;
		} else if (step == RADIO_Q_MM_SIGNAL) {
			argv[n++] = "--signal-get";
		}
		if (step != STEP_MM_SETUP)
			argv[n++] = "-J";
	} else {
		argv[n++] = "ubus";
		argv[n++] = "call";
		argv[n++] = (char *)(*m ? m : "gsm.modem0");
		argv[n++] = (char *)ubus_method(step);
	}
	argv[n] = NULL;
	return run_start(&c->run, c->loop, argv, (double)c->p->timeout_ms / 1000.0, step_done);
}

/* ---- what a reading means ---------------------------------------------------- */

static double level_of(const struct radio_info *r)
{
	return !isnan(r->rsrp) ? r->rsrp : r->rssi;
}

static int recent_changes(const struct cell *c, int64_t now)
{
	int n = 0;

	for (unsigned i = 0; i < CELL_CHANGES_N && i < c->nchanges; i++)
		if (now - c->changes[i] <= CELL_CHANGES_MS)
			n++;
	return n;
}

static void note_cell(struct cell *c, int64_t now)
{
	const char *id = c->info.cell_id;

	if (!id[0])
		return;
	if (c->last_cell[0] && strcmp(c->last_cell, id)) {
		c->changes[c->nchanges % CELL_CHANGES_N] = now;
		c->nchanges++;
		log_debug("member %s: serving cell %s -> %s", c->name, c->last_cell, id);
	}
	strlcpy_ok(c->last_cell, id, sizeof(c->last_cell));
}

static void update_risk(struct cell *c, int64_t now)
{
	double lv = level_of(&c->info), hi = trend_high(&c->trend, now, CELL_TREND_MS);
	int changes = recent_changes(c, now);

	if (!isnan(lv) && !isnan(hi) && lv < c->p->rsrp_ok && hi - lv >= CELL_DROP_DB) {
		c->risk = "predict:signal";
		c->risk_seen = now;
		snprintf(c->risk_why, sizeof(c->risk_why),
			 "signal falling: %.0f dBm from %.0f dBm within %d s",
			 lv, hi, CELL_TREND_MS / 1000);
	} else if (changes >= CELL_CHANGES_RISK) {
		c->risk = "predict:handovers";
		c->risk_seen = now;
		snprintf(c->risk_why, sizeof(c->risk_why), "%d cell changes within %d s", changes,
			 CELL_CHANGES_MS / 1000);
	} else if (c->risk && now - c->risk_seen >= CELL_RISK_HOLD_MS) {
		c->risk = NULL;
	}
}

/* ---- one poll: a few commands in a row ------------------------------------------ */

static void clear_signal(struct radio_info *r)
{
	struct radio_info z;

	radio_clear(&z);
	r->tech = z.tech;
	r->rssi = r->rsrp = r->rsrq = r->sinr = NAN;
	r->nr_rsrp = r->nr_rsrq = r->nr_sinr = NAN;
}

static void clear_info(struct radio_info *r)
{
	struct radio_info z;

	radio_clear(&z);
	memcpy(r->operator_name, z.operator_name, sizeof(r->operator_name));
	memcpy(r->mccmnc, z.mccmnc, sizeof(r->mccmnc));
	memcpy(r->cell_id, z.cell_id, sizeof(r->cell_id));
	memcpy(r->band, z.band, sizeof(r->band));
	r->roaming = z.roaming;
	r->registered = z.registered;
	r->sim_slot = z.sim_slot;
}

static void problem(struct cell *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct cell *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
}

static void plan_poll(struct cell *c)
{
	int src = source_now(c);
	bool info = c->source == CELL_SRC_AUTO || c->polls % CELL_INFO_EVERY == 0;

	c->nsteps = c->step = 0;
	if (src == CELL_SRC_MMCLI && !c->mm_setup)
		c->steps[c->nsteps++] = STEP_MM_SETUP;
	c->steps[c->nsteps++] = signal_query(src);
	if (info && src == CELL_SRC_MMCLI) {
		c->steps[c->nsteps++] = RADIO_Q_MM_MODEM;
	} else if (info && src == CELL_SRC_UBUS) {
		c->steps[c->nsteps++] = RADIO_Q_UBUS_NETWORK;
		c->steps[c->nsteps++] = RADIO_Q_UBUS_PROVIDER;
		c->steps[c->nsteps++] = RADIO_Q_UBUS_REGSTAT;
		c->steps[c->nsteps++] = RADIO_Q_UBUS_SIMSLOT;
	}
	c->cur = c->info;
	clear_signal(&c->cur);
	if (info || src == CELL_SRC_UQMI)
		clear_info(&c->cur);
}

static void arm(struct cell *c, int64_t ms)
{
	ev_timer_stop(c->loop, &c->poll);
	ev_timer_set(&c->poll, (double)ms / 1000.0, 0.);
	ev_timer_start(c->loop, &c->poll);
}

static void report(struct cell *c)
{
	if (strcmp(c->err, c->logged)) {
		if (c->err[0])
			log_warn("member %s: radio unknown: %s", c->name, c->err);
		else
			log_info("member %s: radio readings via %s", c->name,
				 cell_source_name(source_now(c)));
		strlcpy_ok(c->logged, c->err, sizeof(c->logged));
	}
	if (c->on_change)
		c->on_change(c);
}

/* The signal query failed: the poll has no reading. */
static void poll_failed(struct cell *c)
{
	int64_t next = c->p->poll_ms;

	c->info_at = 0;
	c->fails++;
	if (c->source == CELL_SRC_AUTO) {
		/* detecting: the next source at once, or a pause after the last */
		if (++c->detect < CELL_SRC_OFF) {
			c->fails = 0;
			next = 1;
		} else {
			c->detect = CELL_SRC_UBUS;
			problem(c, "no modem tool answered (ubus gsm, uqmi, mmcli); "
				"trying again in %d s",
				CELL_DETECT_PAUSE_MS / 1000);
			next = CELL_DETECT_PAUSE_MS;
		}
	} else if (c->want == CELL_SRC_AUTO && c->fails >= CELL_FAILS_REDETECT &&
		   (c->last_rc == -ENOENT || c->last_rc == -EIO)) {
		/* the tool went away or keeps refusing: perhaps another answers now (one
		 * that hangs or prints garbage is still the modem's tool) */
		c->source = CELL_SRC_AUTO;
		c->detect = CELL_SRC_UBUS;
		c->mm_setup = false;
		c->fails = 0;
	}
	if (next > 1)
		report(c);
	arm(c, next);
}

static void poll_done(struct cell *c)
{
	int64_t now = mono_ms();

	if (c->source == CELL_SRC_AUTO) {
		c->source = c->detect;
		log_info("member %s: the modem answers through %s", c->name,
			 cell_source_name(c->source));
	}
	c->info = c->cur;
	c->info_at = now;
	c->fails = 0;
	c->err[0] = '\0';
	c->polls++;
	if (!isnan(level_of(&c->info)))
		trend_add(&c->trend, now, level_of(&c->info));
	note_cell(c, now);
	update_risk(c, now);
	report(c);
	arm(c, c->p->poll_ms);
}

static void step_done(struct runner *r, int rc, const char *out, size_t len)
{
	struct cell *c = container_of(r, struct cell, run);
	int step = c->steps[c->step];
	const char *what = step == STEP_MM_SETUP ? "mmcli signal setup" : radio_query_name(step);
	char err[RADIO_ERR_LEN];

	c->last_rc = rc;
	if (rc == 0 && step == STEP_MM_SETUP) {
		c->mm_setup = true;
	} else if (rc == 0) {
		if (radio_parse(step, out, len, &c->cur, err, sizeof(err)) < 0) {
			problem(c, "%s", err);
			rc = -EINVAL;
		}
	} else if (rc == -EIO) {
		problem(c, "%s failed%s%s", what, c->run.err[0] ? ": " : "", c->run.err);
	} else {
		problem(c, "%s: %s", what, rc == -ENOENT ? "not installed" :
			rc == -ETIMEDOUT ? "no answer in time: killed" :
			rc == -EFBIG ? "too much output" : strerror(-rc));
	}
	/* only the signal query decides whether the poll has a reading */
	if (rc < 0 && step == signal_query(source_now(c))) {
		poll_failed(c);
		return;
	}
	if (++c->step >= c->nsteps) {
		poll_done(c);
		return;
	}
	run_step(c);
}

/* Starts the current step; one that cannot start ends like one that failed. */
static void run_step(struct cell *c)
{
	int rc = start_step(c);

	if (rc < 0) {
		c->run.err[0] = '\0';
		step_done(&c->run, rc, "", 0);
	}
}

static void poll_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct cell *c = container_of(w, struct cell, poll);

	(void)loop;
	(void)revents;
	if (run_busy(&c->run))
		return;
	plan_poll(c);
	run_step(c);
}

void cell_start(struct cell *c, struct ev_loop *loop, const char *name, int source,
		const char *modem, bool prefer_roaming, const struct cell_params *p,
		void (*on_change)(struct cell *c))
{
	cell_stop(c);
	memset(c, 0, sizeof(*c));
	c->run.out_fd = c->run.err_fd = -1;
	c->loop = loop;
	c->p = p;
	c->want = c->source = source;
	c->detect = CELL_SRC_UBUS;
	c->prefer_roaming = prefer_roaming;
	c->on_change = on_change;
	strlcpy_ok(c->name, name, sizeof(c->name));
	strlcpy_ok(c->modem, modem, sizeof(c->modem));
	radio_clear(&c->info);
	if (source == CELL_SRC_OFF)
		return;
	c->running = true;
	ev_timer_init(&c->poll, poll_cb, 0., 0.);
	arm(c, 1);
}

void cell_stop(struct cell *c)
{
	if (!c->running)
		return;
	run_cancel(&c->run);
	run_free(&c->run);
	ev_timer_stop(c->loop, &c->poll);
	c->running = false;
	c->info_at = 0;
	c->risk = NULL;
}

bool cell_fresh(const struct cell *c, int64_t now)
{
	return c->running && c->info_at && now - c->info_at <= 3 * c->p->poll_ms + c->p->timeout_ms;
}

double cell_penalty(const struct cell *c, int64_t now)
{
	const struct radio_info *r = &c->info;
	const struct cell_params *p = c->p;
	double pen = 0;

	if (!cell_fresh(c, now))
		return 0;
	if (!isnan(r->rsrp))
		pen += 20 * score_norm(-r->rsrp, -p->rsrp_ok, -p->rsrp_bad);
	else if (!isnan(r->rssi))	/* 2G/3G: RSSI, 20 dB above the LTE scale */
		pen += 20 * score_norm(-r->rssi, -p->rsrp_ok - 20, -p->rsrp_bad - 20);
	if (!isnan(r->sinr))
		pen += 15 * score_norm(-r->sinr, -p->sinr_ok, -p->sinr_bad);
	if (r->roaming == 1 && !c->prefer_roaming)
		pen += CELL_ROAMING_PENALTY;
	if (r->tech == RADIO_TECH_2G)
		pen += CELL_2G_PENALTY;
	return pen;
}

const char *cell_risk(const struct cell *c, int64_t now)
{
	return cell_fresh(c, now) ? c->risk : NULL;
}

static struct json_object *str_or_null(const char *s)
{
	return s[0] ? json_object_new_string(s) : NULL;
}

static struct json_object *tri(int v)
{
	return v < 0 ? NULL : json_object_new_boolean(v);
}

struct json_object *cell_json(const struct cell *c, int64_t now, bool detail)
{
	struct json_object *o = json_object_new_object();
	const struct radio_info *r = &c->info;
	bool fresh = cell_fresh(c, now);
	const char *risk = cell_risk(c, now);
	double drop = trend_high(&c->trend, now, CELL_TREND_MS) - level_of(r);

	json_object_object_add(o, "source", json_object_new_string(cell_source_name(c->source)));
	json_object_object_add(o, "tech", fresh ? json_object_new_string(radio_tech_name(r->tech))
					       : NULL);
	json_object_object_add(o, "rsrp_dbm", fresh ? json_fixed(r->rsrp, 0) : NULL);
	json_object_object_add(o, "sinr_db", fresh ? json_fixed(r->sinr, 1) : NULL);
	json_object_object_add(o, "roaming", fresh ? tri(r->roaming) : NULL);
	json_object_object_add(o, "operator", fresh ? str_or_null(r->operator_name) : NULL);
	json_object_object_add(o, "risk", risk ? json_object_new_string(risk) : NULL);
	if (!detail)
		return o;
	json_object_object_add(o, "modem", str_or_null(c->modem));
	json_object_object_add(o, "rssi_dbm", fresh ? json_fixed(r->rssi, 0) : NULL);
	json_object_object_add(o, "rsrq_db", fresh ? json_fixed(r->rsrq, 1) : NULL);
	if (fresh && r->tech == RADIO_TECH_5G_NSA) {
		struct json_object *nr = json_object_new_object();

		json_object_object_add(nr, "rsrp_dbm", json_fixed(r->nr_rsrp, 0));
		json_object_object_add(nr, "rsrq_db", json_fixed(r->nr_rsrq, 1));
		json_object_object_add(nr, "sinr_db", json_fixed(r->nr_sinr, 1));
		json_object_object_add(o, "nr", nr);
	}
	json_object_object_add(o, "mccmnc", fresh ? str_or_null(r->mccmnc) : NULL);
	json_object_object_add(o, "cell_id", fresh ? str_or_null(r->cell_id) : NULL);
	json_object_object_add(o, "band", fresh ? str_or_null(r->band) : NULL);
	json_object_object_add(o, "registered", fresh ? tri(r->registered) : NULL);
	json_object_object_add(o, "sim_slot", fresh && r->sim_slot > 0 ?
			       json_object_new_int(r->sim_slot) : NULL);
	json_object_object_add(o, "cell_changes", json_object_new_int(recent_changes(c, now)));
	json_object_object_add(o, "signal_drop_db", fresh ? json_fixed(drop, 0) : NULL);
	json_object_object_add(o, "penalty", json_fixed(cell_penalty(c, now), 1));
	json_object_object_add(o, "risk_why", risk ? json_object_new_string(c->risk_why) : NULL);
	json_object_object_add(o, "age_s", c->info_at ?
			       json_object_new_int((int)((now - c->info_at) / 1000)) : NULL);
	json_object_object_add(o, "error", !fresh ? str_or_null(c->err) : NULL);
	return o;
}
