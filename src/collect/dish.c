#include "collect/dish.h"
#include "core/log.h"
#include "core/util.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

/* Alerts that mean the dish serves worse than its numbers show yet. */
#define DISH_BAD_ALERTS	((1u << 1) | (1u << 2) | (1u << 3) | (1u << 5) | (1u << 6) | \
			 (1u << 10) | (1u << 16) | (1u << 17) | (1u << 20))

static void poll_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct dish *d = container_of(w, struct dish, poll);
	int64_t now = mono_ms();

	(void)loop;
	(void)revents;
	sl_request(&d->sl, SL_STATUS);	/* -EBUSY: the previous one is still running */
	if (d->p->quiet)
		return;		/* only looking: status says whether a dish is there */
	if (!d->info_conn || d->info_conn != d->sl.connects)
		sl_request(&d->sl, SL_DEVICE_INFO);	/* once per connection */
	if (!d->history_at || now - d->history_at >= DISH_HISTORY_EVERY_MS) {
		d->history_at = now;
		sl_request(&d->sl, SL_HISTORY);
	}
}

/* The newest fraction goes into the ring (one a second at most); the risk is
 * raised when the condition holds and kept for the hold time after. */
static void update_risk(struct dish *d, int64_t now)
{
	const struct sl_status *s = &d->sl.status;
	double frac = s->fraction_obstructed, low = frac;
	unsigned newest = (d->obs_n + DISH_OBS_N - 1) % DISH_OBS_N;

	if (!isnan(frac) && (!d->obs_n || now - d->obs[newest].t >= 1000)) {
		d->obs[d->obs_n % DISH_OBS_N].t = now;
		d->obs[d->obs_n % DISH_OBS_N].frac = frac;
		d->obs_n++;
	}
	for (unsigned i = 0; i < DISH_OBS_N && i < d->obs_n; i++)
		if (now - d->obs[i].t <= DISH_PREDICT_WINDOW_MS && d->obs[i].frac < low)
			low = d->obs[i].frac;
	if (s->swupdate_reboot_ready) {
		d->risk = "planned:swupdate";
		d->risk_planned = true;
		d->risk_seen = now;
		strlcpy_ok(d->risk_why, "a software update waits for the dish to reboot",
			   sizeof(d->risk_why));
	} else if (!isnan(frac) && frac >= DISH_PREDICT_MIN && frac - low >= DISH_PREDICT_RISE) {
		d->risk = "predict:obstruction";
		d->risk_planned = false;
		d->risk_seen = now;
		snprintf(d->risk_why, sizeof(d->risk_why),
			 "obstruction rising: %.1f %% from %.1f %% within %d s", frac * 100, low * 100,
			 DISH_PREDICT_WINDOW_MS / 1000);
	} else if (d->risk && (d->risk_planned || now - d->risk_seen >= DISH_RISK_HOLD_MS)) {
		d->risk = NULL;	/* a planned risk ends with its flag: the reboot is done */
	}
}

static void grace_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct dish *d = container_of(w, struct dish, grace);

	(void)loop;
	(void)revents;
	if (d->on_change)
		d->on_change(d);
}

/* An outage shorter than the grace so far: look again when the grace ends,
 * not at the next poll, which may come just too early. */
static void arm_grace(struct dish *d)
{
	const struct sl_status *s = &d->sl.status;
	int64_t left = d->p->outage_grace_ms - (int64_t)(s->outage_duration_ns / 1000000);

	ev_timer_stop(d->loop, &d->grace);
	if (!s->outage || left <= 0)
		return;
	ev_timer_set(&d->grace, (double)(left + 1) / 1000.0, 0.);
	ev_timer_start(d->loop, &d->grace);
}

static void answer_cb(struct sl_client *c, enum sl_call what, const void *result, const char *err,
		      void *ctx)
{
	struct dish *d = ctx;
	bool was = d->status_at != 0;

	if (what == SL_DEVICE_INFO && result && !err)
		d->info_conn = c->connects;
	if (what != SL_STATUS)
		return;
	if (result && !err) {
		d->status_at = mono_ms();
		d->err[0] = '\0';
		update_risk(d, d->status_at);
		arm_grace(d);
	} else {
		d->status_at = 0;	/* unreachable, hanging or garbage: nothing is known */
		strlcpy_ok(d->err, err ? err : "no answer", sizeof(d->err));
	}
	if (d->on_change && (was || d->status_at))
		d->on_change(d);
}

int dish_start(struct dish *d, struct ev_loop *loop, const char *address, const char *device,
	       const struct dish_params *p, void (*on_change)(struct dish *d))
{
	struct sl_cfg cfg = { .address = address, .device = device,
			      .timeout_ms = (unsigned)p->timeout_ms, .quiet = p->quiet };
	int rc;

	memset(d, 0, sizeof(*d));
	d->loop = loop;
	d->p = p;
	d->on_change = on_change;
	strlcpy_ok(d->address, address, sizeof(d->address));
	rc = sl_init(&d->sl, loop, &cfg, answer_cb, d);
	if (rc < 0)
		return rc;
	ev_timer_init(&d->poll, poll_cb, 0., (double)p->poll_ms / 1000.0);
	ev_timer_init(&d->grace, grace_cb, 0., 0.);
	ev_timer_start(loop, &d->poll);
	d->running = true;
	return 0;
}

void dish_stop(struct dish *d)
{
	if (!d->running)
		return;
	ev_timer_stop(d->loop, &d->poll);
	ev_timer_stop(d->loop, &d->grace);
	sl_fini(&d->sl);
	d->running = false;
	d->status_at = 0;
}

void dish_set_params(struct dish *d, const struct dish_params *p)
{
	d->p = p;
	if (!d->running)
		return;
	d->poll.repeat = (double)p->poll_ms / 1000.0;
	ev_timer_again(d->loop, &d->poll);
}

bool dish_fresh(const struct dish *d, int64_t now)
{
	return d->running && d->status_at && now - d->status_at <= 3 * d->p->poll_ms + d->p->timeout_ms;
}

bool dish_outage(const struct dish *d, int64_t now, char *buf, size_t len)
{
	const struct sl_status *s = &d->sl.status;
	int64_t ms;

	if (!dish_fresh(d, now) || !s->outage)
		return false;
	/* how long it lasted when the dish answered, plus the time since */
	ms = (int64_t)(s->outage_duration_ns / 1000000) + (now - d->status_at);
	if (ms < d->p->outage_grace_ms)
		return false;
	sl_cause_fmt(s->outage_cause, buf, len);
	return true;
}

const char *dish_risk(const struct dish *d, int64_t now, bool *planned)
{
	if (!dish_fresh(d, now) || !d->risk)
		return NULL;
	*planned = d->risk_planned;
	return d->risk;
}

double dish_penalty(const struct dish *d, int64_t now)
{
	const struct sl_status *s = &d->sl.status;
	double p = 0;

	if (!dish_fresh(d, now))
		return 0;
	if (!isnan(s->fraction_obstructed))
		p += 15.0 * fmin(1.0, fmax(0.0, (s->fraction_obstructed - 0.005) / 0.045));
	if (s->currently_obstructed)
		p += 5;
	p += 5.0 * __builtin_popcount(s->alerts & DISH_BAD_ALERTS);
	if (s->snr_persistently_low)
		p += 5;
	return p > 30 ? 30 : p;
}

static struct json_object *num(double v, double scale)
{
	return isnan(v) ? NULL : json_object_new_double(round(v * scale * 10) / 10);
}

static struct json_object *outage_json(const struct sl_status *s)
{
	struct json_object *o;
	char cause[32];

	if (!s->outage)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "cause", json_object_new_string(sl_cause_fmt(s->outage_cause, cause,
									       sizeof(cause))));
	json_object_object_add(o, "duration_s", json_object_new_double(
		round((double)s->outage_duration_ns / 1e8) / 10));
	return o;
}

static struct json_object *alerts_json(uint32_t mask)
{
	struct json_object *a = json_object_new_array();

	for (int i = 1; i <= SL_ALERT_MAX; i++)
		if (mask & (1u << i) && sl_alert_name(i))
			json_object_array_add(a, json_object_new_string(sl_alert_name(i)));
	return a;
}

static struct json_object *history_json(const struct sl_history *h)
{
	struct json_object *o;

	if (!h->valid)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "samples", json_object_new_int64(h->samples));
	json_object_object_add(o, "drop_pct", num(h->drop_rate_avg, 100));
	json_object_object_add(o, "latency_ms", num(h->latency_avg_ms, 1));
	json_object_object_add(o, "outages", json_object_new_int64(h->outages));
	json_object_object_add(o, "outage_s", num(h->outage_s, 1));
	json_object_object_add(o, "rebooted", json_object_new_boolean(h->rebooted));
	return o;
}

static void add_status(struct json_object *o, const struct sl_status *s)
{
	json_object_object_add(o, "outage", outage_json(s));
	json_object_object_add(o, "pop_latency_ms", num(s->pop_ping_latency_ms, 1));
	json_object_object_add(o, "pop_drop_pct", num(s->pop_ping_drop_rate, 100));
	json_object_object_add(o, "obstruction_pct", num(s->fraction_obstructed, 100));
	json_object_object_add(o, "currently_obstructed", json_object_new_boolean(s->currently_obstructed));
	json_object_object_add(o, "alerts", alerts_json(s->alerts));
	json_object_object_add(o, "snr_ok", json_object_new_boolean(s->snr_above_noise_floor &&
								    !s->snr_persistently_low));
	json_object_object_add(o, "swupdate_reboot_ready", json_object_new_boolean(s->swupdate_reboot_ready));
	json_object_object_add(o, "uptime_s", json_object_new_int64((int64_t)s->uptime_s));
}

/* get_device_info of this connection, else what get_status carried. */
static void add_info(struct json_object *o, const struct dish *d)
{
	const struct sl_device_info *i = d->sl.info.valid ? &d->sl.info : &d->sl.status.info;

	if (!i->valid)
		return;
	json_object_object_add(o, "id", json_object_new_string(i->id));
	json_object_object_add(o, "hardware", json_object_new_string(i->hardware_version));
	json_object_object_add(o, "software", json_object_new_string(i->software_version));
	json_object_object_add(o, "country", i->country_code[0] ?
			       json_object_new_string(i->country_code) : NULL);
	json_object_object_add(o, "bootcount", i->bootcount >= 0 ?
			       json_object_new_int(i->bootcount) : NULL);
}

struct json_object *dish_json(const struct dish *d, int64_t now, bool detail)
{
	struct json_object *o = json_object_new_object();
	bool fresh = dish_fresh(d, now), planned;
	const char *risk = dish_risk(d, now, &planned);
	char cause[32];

	json_object_object_add(o, "reachable", json_object_new_boolean(fresh));
	json_object_object_add(o, "risk", risk ? json_object_new_string(risk) : NULL);
	json_object_object_add(o, "risk_reason", risk ? json_object_new_string(d->risk_why) : NULL);
	if (!detail) {
		const struct sl_status *s = &d->sl.status;

		json_object_object_add(o, "outage", fresh && s->outage ? json_object_new_string(
			sl_cause_fmt(s->outage_cause, cause, sizeof(cause))) : NULL);
		json_object_object_add(o, "obstruction_pct", fresh ? num(s->fraction_obstructed, 100)
								   : NULL);
		json_object_object_add(o, "alerts", fresh ? alerts_json(s->alerts) : NULL);
		return o;
	}
	json_object_object_add(o, "address", json_object_new_string(d->address));
	json_object_object_add(o, "error", !fresh && d->err[0] ? json_object_new_string(d->err) : NULL);
	json_object_object_add(o, "penalty", json_object_new_double(dish_penalty(d, now)));
	if (fresh) {
		add_status(o, &d->sl.status);
		add_info(o, d);
	}
	json_object_object_add(o, "history", fresh ? history_json(&d->sl.history) : NULL);
	return o;
}
