/* Driver for tests/system/test_netlink.py: nlmon and the route controller on
 * a real kernel (run it inside a throwaway network namespace).
 *
 *   nltool [-b METRIC_BASE] [-n]      (-n: no route controller)
 *
 * Prints one JSON object per line on stdout: {"ready":true} once nlmon has
 * read the kernel's state, every nlmon callback as {"event":…}, and the
 * answer to every command read from stdin:
 *
 *   state               {"reply":"state","links":[…],"routes":[…]}
 *   apply DEV [DEV…]    ctl_route_ops.apply() with that ranking, best first
 *   fini | init         ctl_route_ops.fini() / .init(METRIC_BASE)
 *   pause MS            stop reading anything for MS ms (to overflow netlink)
 *   quit
 *
 * Logs (level debug) go to stderr.
 */
#include "control/control.h"
#include "core/log.h"
#include "core/util.h"
#include "netlink/nlmon.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>
#include <json-c/json.h>

#define MAX_ARGS 40

static ev_io stdin_io;
static char line[4096];
static size_t linelen;
static uint32_t metric_base = 10;
static bool with_route = true;

static void print(struct json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, JSON_PLAIN));
	fflush(stdout);
	json_object_put(o);
}

static struct json_object *ip_json(int family, const void *addr)
{
	char buf[INET6_ADDRSTRLEN];

	return json_object_new_string(inet_ntop(family, addr, buf, sizeof(buf)));
}

static struct json_object *link_json(const struct nl_link *l)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "ifindex", json_object_new_int(l->ifindex));
	json_object_object_add(o, "name", json_object_new_string(l->name));
	json_object_object_add(o, "up", json_object_new_boolean(l->admin_up));
	json_object_object_add(o, "carrier", json_object_new_boolean(l->carrier));
	json_object_object_add(o, "addr4", l->has_addr4 ? ip_json(AF_INET, &l->addr4) : NULL);
	json_object_object_add(o, "addr6", l->has_addr6 ? ip_json(AF_INET6, &l->addr6) : NULL);
	json_object_object_add(o, "default4", json_object_new_boolean(l->has_default4));
	json_object_object_add(o, "default6", json_object_new_boolean(l->has_default6));
	return o;
}

static struct json_object *route_json(const struct nl_route *r)
{
	struct json_object *o = json_object_new_object();
	const struct nl_link *l = nlmon_find_index(r->ifindex);

	json_object_object_add(o, "family", json_object_new_int(r->family == AF_INET ? 4 : 6));
	json_object_object_add(o, "dev", json_object_new_string(l ? l->name : "?"));
	json_object_object_add(o, "gw", r->has_gw ? ip_json(r->family, &r->gw) : NULL);
	json_object_object_add(o, "metric", json_object_new_int64(r->metric));
	json_object_object_add(o, "protocol", json_object_new_int(r->protocol));
	return o;
}

static void on_link(const struct nl_link *l, unsigned changed, void *ctx)
{
	static const char *const names[] = { "new", "gone", "carrier", "addr", "route" };
	struct json_object *o = json_object_new_object(), *bits = json_object_new_array();

	(void)ctx;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (changed & (1u << i))
			json_object_array_add(bits, json_object_new_string(names[i]));
	json_object_object_add(o, "event", json_object_new_string(l->name));
	json_object_object_add(o, "changed", bits);
	json_object_object_add(o, "link", link_json(l));
	print(o);
}

static int add_link(const struct nl_link *l, void *ctx)
{
	json_object_array_add(ctx, link_json(l));
	return 0;
}

static void cmd_state(void)
{
	struct json_object *o = json_object_new_object();
	struct json_object *links = json_object_new_array(), *routes = json_object_new_array();
	const struct nl_route *r;
	int n;

	nlmon_foreach(add_link, links);
	r = nlmon_routes(&n);
	for (int i = 0; i < n; i++)
		json_object_array_add(routes, route_json(&r[i]));
	json_object_object_add(o, "reply", json_object_new_string("state"));
	json_object_object_add(o, "links", links);
	json_object_object_add(o, "routes", routes);
	print(o);
}

static void reply_rc(const char *cmd, int rc)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "reply", json_object_new_string(cmd));
	json_object_object_add(o, "rc", json_object_new_int(rc));
	print(o);
}

static void cmd_apply(char **argv, int argc)
{
	struct ctl_member m[MAX_ARGS];

	for (int i = 0; i < argc; i++)
		m[i] = (struct ctl_member){ .name = argv[i], .device = argv[i] };
	reply_rc("apply", ctl_route_ops.apply(m, argc));
}

static void run_line(struct ev_loop *loop, char *s)
{
	char *argv[MAX_ARGS + 1], *save = NULL;
	int argc = 0;

	for (char *t = strtok_r(s, " \t", &save); t && argc <= MAX_ARGS; t = strtok_r(NULL, " \t", &save))
		argv[argc++] = t;
	if (!argc)
		return;
	if (!strcmp(argv[0], "state"))
		cmd_state();
	else if (!strcmp(argv[0], "apply"))
		cmd_apply(argv + 1, argc - 1 > MAX_ARGS - 1 ? MAX_ARGS - 1 : argc - 1);
	else if (!strcmp(argv[0], "fini")) {
		ctl_route_ops.fini();
		reply_rc("fini", 0);
	} else if (!strcmp(argv[0], "init"))
		reply_rc("init", ctl_route_ops.init(metric_base));
	else if (!strcmp(argv[0], "pause") && argc > 1) {
		usleep((useconds_t)atoi(argv[1]) * 1000);
		reply_rc("pause", 0);
	} else if (!strcmp(argv[0], "quit"))
		ev_break(loop, EVBREAK_ALL);
	else
		reply_rc(argv[0], -EINVAL);
}

static void stdin_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	ssize_t n = read(w->fd, line + linelen, sizeof(line) - 1 - linelen);
	char *nl;

	(void)revents;
	if (n <= 0) {
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	linelen += (size_t)n;
	line[linelen] = '\0';
	while ((nl = strchr(line, '\n'))) {
		*nl = '\0';
		run_line(loop, line);
		linelen -= (size_t)(nl + 1 - line);
		memmove(line, nl + 1, linelen + 1);
	}
	if (linelen == sizeof(line) - 1)
		linelen = 0;	/* a line too long: drop it */
}

int main(int argc, char **argv)
{
	struct ev_loop *loop = EV_DEFAULT;
	int c;

	while ((c = getopt(argc, argv, "b:n")) != -1) {
		if (c == 'b')
			metric_base = (uint32_t)strtoul(optarg, NULL, 10);
		else if (c == 'n')
			with_route = false;
		else
			return 2;
	}
	log_init(LOG_TO_STDERR, LOG_LVL_DEBUG);
	if (nlmon_init(loop, on_link, NULL) < 0)
		return 1;
	if (with_route && ctl_route_ops.init(metric_base) < 0)
		return 1;
	print(json_tokener_parse("{\"ready\":true}"));
	ev_io_init(&stdin_io, stdin_cb, 0, EV_READ);
	ev_io_start(loop, &stdin_io);
	ev_run(loop, 0);
	if (with_route)
		ctl_route_ops.fini();
	nlmon_fini();
	ev_loop_destroy(loop);
	return 0;
}
