/* A tiny driver for the probe engines, for tests/system/test_probe_netns.py:
 * opens one prober, sends COUNT rounds (every target once per round), waits,
 * and prints one JSON object:
 *   {"sent": N, "errors": ["…"], "replies": [{"target", "seq", "rtt_ms", "bytes"}],
 *    "bytes_sent": N, "bytes_received": N}
 * It exits 1 with the prober's message on stderr when the open fails.
 *
 *   probetool --type icmp|dns|tcp --device DEV [--src ADDR] [--mark N] [--port N]
 *             [--ident N] [--count N] [--interval-ms N] [--wait-ms N] TARGET…
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>
#include <json-c/json.h>

#include "core/log.h"
#include "core/util.h"
#include "probe/probe.h"

struct run {
	struct prober p;
	struct ev_loop *loop;
	ev_timer tick, done;
	char **targets;
	int ntargets, count, round;
	double wait_s;
	uint16_t seq;
	int sent;
	struct json_object *replies, *errors;
};

static void on_reply(void *ctx, int target, uint16_t seq, double rtt_ms, size_t bytes)
{
	struct run *r = ctx;
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "target", json_object_new_int(target));
	json_object_object_add(o, "seq", json_object_new_int(seq));
	json_object_object_add(o, "rtt_ms", json_object_new_double(rtt_ms));
	json_object_object_add(o, "bytes", json_object_new_int64((int64_t)bytes));
	json_object_array_add(r->replies, o);
}

static void done_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

static void tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct run *r = container_of(w, struct run, tick);
	char msg[256];

	(void)revents;
	for (int t = 0; t < r->ntargets; t++) {
		int rc = prober_send(&r->p, t, r->targets[t], ++r->seq);

		if (rc < 0) {
			snprintf(msg, sizeof(msg), "%s: %s", r->targets[t], strerror(-rc));
			json_object_array_add(r->errors, json_object_new_string(msg));
		} else {
			r->sent++;
		}
	}
	if (++r->round >= r->count) {
		ev_timer_stop(loop, w);
		ev_timer_set(&r->done, r->wait_s, 0.);
		ev_timer_start(loop, &r->done);
	}
}

static int parse_type(const char *s)
{
	if (!strcmp(s, "icmp"))
		return PROBE_ICMP;
	if (!strcmp(s, "dns"))
		return PROBE_DNS;
	if (!strcmp(s, "tcp"))
		return PROBE_TCP;
	return -1;
}

static int parse_args(int argc, char **argv, struct prober_cfg *c, struct run *r, double *interval)
{
	static const struct option opts[] = {
		{ "type", required_argument, NULL, 't' },
		{ "device", required_argument, NULL, 'd' },
		{ "src", required_argument, NULL, 's' },
		{ "mark", required_argument, NULL, 'm' },
		{ "port", required_argument, NULL, 'p' },
		{ "ident", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'c' },
		{ "interval-ms", required_argument, NULL, 'I' },
		{ "wait-ms", required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	int o;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 't':
			c->type = parse_type(optarg);
			break;
		case 'd':
			strlcpy_ok(c->device, optarg, sizeof(c->device));
			break;
		case 's':
			if (inet_pton(AF_INET, optarg, &c->src4) == 1)
				c->has_src4 = true;
			else if (inet_pton(AF_INET6, optarg, &c->src6) == 1)
				c->has_src6 = true;
			else
				return -1;
			break;
		case 'm':
			c->mark = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'p':
			c->port = (uint16_t)strtoul(optarg, NULL, 0);
			break;
		case 'i':
			c->ident = (uint16_t)strtoul(optarg, NULL, 0);
			break;
		case 'c':
			r->count = atoi(optarg);
			break;
		case 'I':
			*interval = atof(optarg) / 1000.0;
			break;
		case 'w':
			r->wait_s = atof(optarg) / 1000.0;
			break;
		default:
			return -1;
		}
	}
	r->targets = argv + optind;
	r->ntargets = argc - optind;
	return c->type < 0 || !c->device[0] || r->ntargets < 1 || r->count < 1 ? -1 : 0;
}

int main(int argc, char **argv)
{
	static struct run r = { .count = 1, .wait_s = 1.0 };
	struct prober_cfg c = { .type = PROBE_ICMP, .ident = 0x5eed };
	struct json_object *out;
	double interval = 0.2;

	log_init(LOG_PLAIN, LOG_LVL_INFO);
	if (parse_args(argc, argv, &c, &r, &interval) < 0) {
		fprintf(stderr, "usage: probetool --type icmp|dns|tcp --device DEV [--src ADDR] "
				"[--mark N] [--port N] [--ident N] [--count N] [--interval-ms N] "
				"[--wait-ms N] TARGET...\n");
		return 2;
	}
	r.loop = ev_default_loop(0);
	if (prober_open(&r.p, r.loop, &c, on_reply, &r) < 0)
		return 1;
	r.replies = json_object_new_array();
	r.errors = json_object_new_array();
	ev_timer_init(&r.tick, tick_cb, 0., interval);
	ev_timer_init(&r.done, done_cb, 0., 0.);
	ev_timer_start(r.loop, &r.tick);
	ev_run(r.loop, 0);

	out = json_object_new_object();
	json_object_object_add(out, "sent", json_object_new_int(r.sent));
	json_object_object_add(out, "errors", r.errors);
	json_object_object_add(out, "replies", r.replies);
	json_object_object_add(out, "bytes_sent", json_object_new_int64((int64_t)r.p.bytes_sent));
	json_object_object_add(out, "bytes_received",
			       json_object_new_int64((int64_t)r.p.bytes_received));
	printf("%s\n", json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN));
	json_object_put(out);
	prober_close(&r.p);
	return 0;
}
