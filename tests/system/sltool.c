/* A tiny driver for the Starlink client, for tests/system/test_starlink_client.py:
 * one sl_client on a real libev loop, commands from the arguments or, without
 * any, one per line on stdin; every call's end is one JSON line on stdout:
 *   {"call": "status", "ok": true, "ms": 12.3, "result": {…}}
 *   {"call": "status", "ok": false, "ms": 1500.4, "error": "timeout"}
 * Commands: status | history | info | all (the three at once) | stats |
 * sleep MS | quit. A command's calls all end before the next command runs.
 * The client's log goes to stderr.
 *
 *   sltool [--timeout MS] [--device DEV] [-v] ADDRESS [COMMAND…]
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>
#include <json-c/json.h>

#include "collect/starlink.h"
#include "core/log.h"
#include "core/util.h"

struct tool {
	struct sl_client c;
	struct ev_loop *loop;
	ev_io in;
	ev_timer sleep;
	char line[256];
	size_t linelen;
	char **cmds;		/* from argv, or NULL: stdin */
	int ncmds, next;
	int pending;		/* calls not ended yet */
	double started[__SL_CALL_MAX];
	bool eof, quit;
};

static void run_next(struct tool *t);

static struct json_object *num(double v)
{
	return isnan(v) ? NULL : json_object_new_double(v);
}

static void add(struct json_object *o, const char *key, struct json_object *v)
{
	json_object_object_add(o, key, v);
}

static struct json_object *info_json(const struct sl_device_info *i)
{
	struct json_object *o = json_object_new_object();

	add(o, "valid", json_object_new_boolean(i->valid));
	add(o, "id", json_object_new_string(i->id));
	add(o, "hardware_version", json_object_new_string(i->hardware_version));
	add(o, "software_version", json_object_new_string(i->software_version));
	add(o, "country_code", json_object_new_string(i->country_code));
	add(o, "utc_offset_s", json_object_new_int(i->utc_offset_s));
	add(o, "bootcount", json_object_new_int(i->bootcount));
	return o;
}

static struct json_object *alerts_json(uint32_t mask)
{
	struct json_object *a = json_object_new_array();

	for (int n = 1; n <= SL_ALERT_MAX; n++)
		if (mask & (1u << n))
			json_object_array_add(a, json_object_new_string(sl_alert_name(n)));
	return a;
}

static struct json_object *status_json(const struct sl_status *s)
{
	struct json_object *o = json_object_new_object();
	char cause[32];

	add(o, "device_info", info_json(&s->info));
	add(o, "uptime_s", json_object_new_int64((int64_t)s->uptime_s));
	add(o, "pop_ping_drop_rate", num(s->pop_ping_drop_rate));
	add(o, "pop_ping_latency_ms", num(s->pop_ping_latency_ms));
	add(o, "downlink_bps", num(s->downlink_bps));
	add(o, "uplink_bps", num(s->uplink_bps));
	add(o, "fraction_obstructed", num(s->fraction_obstructed));
	add(o, "currently_obstructed", json_object_new_boolean(s->currently_obstructed));
	add(o, "obstruction_valid_s", num(s->obstruction_valid_s));
	add(o, "avg_prolonged_valid", json_object_new_boolean(s->avg_prolonged_valid));
	add(o, "avg_prolonged_duration_s", num(s->avg_prolonged_duration_s));
	add(o, "avg_prolonged_interval_s", num(s->avg_prolonged_interval_s));
	add(o, "outage", json_object_new_boolean(s->outage));
	add(o, "outage_cause", json_object_new_int(s->outage_cause));
	add(o, "outage_cause_name",
	    json_object_new_string(sl_cause_fmt(s->outage_cause, cause, sizeof(cause))));
	add(o, "outage_duration_ns", json_object_new_int64((int64_t)s->outage_duration_ns));
	add(o, "alerts_mask", json_object_new_int64(s->alerts));
	add(o, "alerts", alerts_json(s->alerts));
	add(o, "snr_above_noise_floor", json_object_new_boolean(s->snr_above_noise_floor));
	add(o, "snr_persistently_low", json_object_new_boolean(s->snr_persistently_low));
	add(o, "software_update_state", json_object_new_int(s->software_update_state));
	add(o, "disablement_code", json_object_new_int(s->disablement_code));
	add(o, "swupdate_reboot_ready", json_object_new_boolean(s->swupdate_reboot_ready));
	add(o, "eth_speed_mbps", json_object_new_int(s->eth_speed_mbps));
	add(o, "gps_valid", json_object_new_boolean(s->gps_valid));
	add(o, "gps_sats", json_object_new_int64(s->gps_sats));
	return o;
}

static struct json_object *history_json(const struct sl_history *h)
{
	struct json_object *o = json_object_new_object();

	add(o, "current", json_object_new_int64((int64_t)h->current));
	add(o, "ring_len", json_object_new_int64(h->ring_len));
	add(o, "samples", json_object_new_int64(h->samples));
	add(o, "window_samples", json_object_new_int64(h->window_samples));
	add(o, "drop_rate_avg", num(h->drop_rate_avg));
	add(o, "latency_avg_ms", num(h->latency_avg_ms));
	add(o, "full_drop_samples", json_object_new_int64(h->full_drop_samples));
	add(o, "outages", json_object_new_int64(h->outages));
	add(o, "outage_s", num(h->outage_s));
	add(o, "last_outage_cause", json_object_new_int(h->last_outage_cause));
	add(o, "rebooted", json_object_new_boolean(h->rebooted));
	return o;
}

static void print(struct json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, JSON_PLAIN));
	fflush(stdout);
	json_object_put(o);
}

static void on_result(struct sl_client *c, enum sl_call what, const void *result,
		      const char *err, void *ctx)
{
	struct tool *t = ctx;
	struct json_object *o = json_object_new_object();

	(void)c;
	add(o, "call", json_object_new_string(sl_call_name(what)));
	add(o, "ok", json_object_new_boolean(result != NULL));
	add(o, "ms", json_object_new_double((ev_time() - t->started[what]) * 1e3));
	if (!result)
		add(o, "error", json_object_new_string(err));
	else if (what == SL_STATUS)
		add(o, "result", status_json(result));
	else if (what == SL_HISTORY)
		add(o, "result", history_json(result));
	else
		add(o, "result", info_json(result));
	print(o);
	if (--t->pending == 0)
		run_next(t);
}

static void stats(struct tool *t)
{
	static const char *const states[] = { "down", "connecting", "up" };
	struct json_object *o = json_object_new_object(), *s = json_object_new_object();

	add(s, "connects", json_object_new_int64((int64_t)t->c.connects));
	add(s, "calls_ok", json_object_new_int64((int64_t)t->c.calls_ok));
	add(s, "calls_failed", json_object_new_int64((int64_t)t->c.calls_failed));
	add(s, "backoff_ms", json_object_new_int64(t->c.backoff_ms));
	add(s, "state", json_object_new_string(states[t->c.state]));
	add(o, "stats", s);
	print(o);
}

static void start(struct tool *t, enum sl_call what)
{
	int rc;

	t->started[what] = ev_time();
	rc = sl_request(&t->c, what);
	if (rc < 0) {
		struct json_object *o = json_object_new_object();

		add(o, "call", json_object_new_string(sl_call_name(what)));
		add(o, "ok", json_object_new_boolean(false));
		add(o, "refused", json_object_new_string(strerror(-rc)));
		print(o);
		return;
	}
	t->pending++;
}

static void sleep_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct tool *t = container_of(w, struct tool, sleep);

	(void)loop;
	(void)revents;
	run_next(t);
}

/* Returns true if the command started something that calls run_next later. */
static bool command(struct tool *t, const char *cmd)
{
	if (!strcmp(cmd, "status") || !strcmp(cmd, "all"))
		start(t, SL_STATUS);
	if (!strcmp(cmd, "history") || !strcmp(cmd, "all"))
		start(t, SL_HISTORY);
	if (!strcmp(cmd, "info") || !strcmp(cmd, "all"))
		start(t, SL_DEVICE_INFO);
	if (!strcmp(cmd, "stats"))
		stats(t);
	if (!strncmp(cmd, "sleep ", 6)) {
		ev_timer_set(&t->sleep, atof(cmd + 6) / 1e3, 0.);
		ev_timer_start(t->loop, &t->sleep);
		return true;
	}
	if (!strcmp(cmd, "quit"))
		t->quit = true;
	return t->pending > 0;
}

/* Runs commands until one has to wait; then stdin (if used) waits too. */
static void run_next(struct tool *t)
{
	char *nl;

	while (!t->quit) {
		if (t->cmds) {
			if (t->next >= t->ncmds) {
				t->quit = true;
				break;
			}
			if (command(t, t->cmds[t->next++]))
				return;
			continue;
		}
		nl = memchr(t->line, '\n', t->linelen);
		if (!nl && t->eof) {
			t->quit = true;
			break;
		}
		if (!nl) {
			ev_io_start(t->loop, &t->in);
			return;
		}
		*nl = '\0';
		{
			char cmd[sizeof(t->line)];
			size_t used = (size_t)(nl - t->line) + 1;

			memcpy(cmd, t->line, used);
			memmove(t->line, nl + 1, t->linelen - used);
			t->linelen -= used;
			if (command(t, cmd))
				return;
		}
	}
	ev_break(t->loop, EVBREAK_ALL);
}

static void stdin_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct tool *t = container_of(w, struct tool, in);
	ssize_t n = read(w->fd, t->line + t->linelen, sizeof(t->line) - 1 - t->linelen);

	(void)revents;
	if (n <= 0)
		t->eof = true;
	else
		t->linelen += (size_t)n;
	if (t->linelen == sizeof(t->line) - 1 && !memchr(t->line, '\n', t->linelen))
		t->linelen = 0;	/* an overlong line: dropped */
	ev_io_stop(loop, w);
	run_next(t);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "device", required_argument, NULL, 'd' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	static struct tool t;
	struct sl_cfg cfg = { 0 };
	int opt;

	log_init(LOG_TO_STDERR, LOG_LVL_INFO);
	while ((opt = getopt_long(argc, argv, "t:d:v", opts, NULL)) != -1) {
		switch (opt) {
		case 't':
			cfg.timeout_ms = (unsigned)atoi(optarg);
			break;
		case 'd':
			cfg.device = optarg;
			break;
		case 'v':
			log_set_level(LOG_LVL_DEBUG);
			break;
		default:
			fprintf(stderr, "usage: sltool [--timeout MS] [--device DEV] [-v] ADDRESS "
				"[COMMAND…]\n");
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "sltool: ADDRESS missing\n");
		return 2;
	}
	cfg.address = argv[optind++];
	t.loop = ev_loop_new(EVFLAG_AUTO);
	if (!t.loop || sl_init(&t.c, t.loop, &cfg, on_result, &t) < 0)
		return 1;
	if (optind < argc) {
		t.cmds = argv + optind;
		t.ncmds = argc - optind;
	}
	ev_io_init(&t.in, stdin_cb, 0, EV_READ);
	ev_timer_init(&t.sleep, sleep_cb, 0., 0.);
	run_next(&t);
	if (!t.quit)
		ev_run(t.loop, 0);
	sl_fini(&t.c);
	ev_loop_destroy(t.loop);
	return 0;
}
