/* autonomyctl: the command-line client of autonomyd, and its rpcd exec plugin.
 *
 *	autonomyctl [--json] [--socket PATH] [--timeout S] COMMAND [ARGS]
 *
 * One request per run over the daemon's unix socket (docs/API.md): connect, send
 * one JSON line, read one JSON line, all within --timeout seconds.
 *
 * Exit codes:
 *	0  success
 *	1  the daemon answered an error object ("autonomyctl: <message> (<code>)" on
 *	   stderr, and with --json the error JSON on stdout), or config get was asked
 *	   for a section/option that does not exist
 *	2  usage error (usage on stderr)
 *	3  the daemon is not reachable: socket missing, connection refused, timeout,
 *	   connection closed early, reply not JSON
 *	rpcd list/call always exit 0 so that rpcd forwards the JSON they print
 *	(errors included); see ctl_rpcd.c.
 */
#include <json-c/json.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"

#ifndef AUTONOMY_VERSION
#define AUTONOMY_VERSION "unknown"
#endif

#define CTL_TIMEOUT_MAX_S	86400.0

struct ctl_conn {
	const char *path;
	double timeout_s;
	double deadline;	/* CLOCK_MONOTONIC seconds; covers connect and reply */
	bool connect_failed;	/* no connection at all: say "is it running?" */
};

struct ctl_opts {
	bool json;
	bool dry_run;		/* mwan3 takeover/release --dry-run */
	struct ctl_conn conn;
};

/* ---- socket client -------------------------------------------------------- */

static double ctl_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 1 when fd is ready, 0 at the deadline, -1 on error. */
static int ctl_wait(int fd, short events, double deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };

	for (;;) {
		double left = deadline - ctl_now();
		int n;

		if (left <= 0)
			return 0;
		n = poll(&pfd, 1, (int)(left * 1000) + 1);
		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

static void ctl_fail(const struct ctl_conn *c, char *err, size_t errlen, const char *why)
{
	snprintf(err, errlen, "%s: %s", c->path, why);
}

static void ctl_fail_timeout(const struct ctl_conn *c, char *err, size_t errlen)
{
	char why[64];

	snprintf(why, sizeof(why), "no reply within %g s", c->timeout_s);
	ctl_fail(c, err, errlen, why);
}

/* A non-blocking connect: a unix socket whose backlog is full answers EAGAIN
 * instead of blocking, so retry until the deadline. */
static int ctl_connect_retry(struct ctl_conn *c, int fd, const struct sockaddr_un *sa,
			     char *err, size_t errlen)
{
	int soerr = 0;
	socklen_t slen = sizeof(soerr);

	for (;;) {
		if (!connect(fd, (const struct sockaddr *)sa, sizeof(*sa)))
			return 0;
		if (errno == EAGAIN && ctl_now() < c->deadline) {
			poll(NULL, 0, 10);
			continue;
		}
		if (errno != EINPROGRESS && errno != EINTR)
			break;
		if (ctl_wait(fd, POLLOUT, c->deadline) <= 0)
			break;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &slen) < 0 || soerr) {
			errno = soerr ? soerr : errno;
			break;
		}
		return 0;
	}
	if (errno == EAGAIN || errno == EINPROGRESS || errno == EINTR) {
		/* The socket is live but nobody accepts (daemon stuck, backlog full). */
		ctl_fail(c, err, errlen, "the connection was not accepted in time");
	} else {
		ctl_fail(c, err, errlen, strerror(errno));
		c->connect_failed = true;
	}
	return -1;
}

static int ctl_connect(struct ctl_conn *c, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(c->path) >= sizeof(sa.sun_path)) {
		ctl_fail(c, err, errlen, strerror(ENAMETOOLONG));
		return -1;
	}
	strcpy(sa.sun_path, c->path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		ctl_fail(c, err, errlen, strerror(errno));
		return -1;
	}
	if (ctl_connect_retry(c, fd, &sa, err, errlen) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* MSG_NOSIGNAL: a daemon that hangs up must give an error, not kill us. */
static int ctl_write_all(const struct ctl_conn *c, int fd, const char *buf, size_t len,
			 char *err, size_t errlen)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = send(fd, buf + off, len - off, MSG_NOSIGNAL);
		int ready;

		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno != EINTR && errno != EAGAIN) {
			ctl_fail(c, err, errlen, strerror(errno));
			return -1;
		}
		ready = ctl_wait(fd, POLLOUT, c->deadline);
		if (ready <= 0) {
			if (ready)
				ctl_fail(c, err, errlen, strerror(errno));
			else
				ctl_fail_timeout(c, err, errlen);
			return -1;
		}
	}
	return 0;
}

/* Make room for at least one more byte and the terminating NUL. */
static bool ctl_grow(char **buf, size_t *cap, size_t used)
{
	char *p;

	if (*cap - used > 1)
		return true;
	p = realloc(*buf, *cap * 2);
	if (!p)
		return false;
	*buf = p;
	*cap *= 2;
	return true;
}

/* One recv into buf; returns 1 when the line is complete (used trimmed to the
 * '\n'), 0 to go on, -1 on error with *why set (NULL: timed out). */
static int ctl_read_some(const struct ctl_conn *c, int fd, char *buf, size_t cap,
			 size_t *used, const char **why)
{
	ssize_t n = recv(fd, buf + *used, cap - *used - 1, 0);
	char *nl;
	int ready;

	if (n == 0) {
		*why = "the connection closed before a reply";
		return *used ? 1 : -1;	/* a last line without '\n' will do */
	}
	if (n > 0) {
		nl = memchr(buf + *used, '\n', (size_t)n);
		*used += (size_t)n;
		if (nl)
			*used = (size_t)(nl - buf);
		*why = "the reply is over 16 MiB";
		return nl ? 1 : *used > CTL_REPLY_MAX ? -1 : 0;
	}
	if (errno == EINTR)
		return 0;
	if (errno != EAGAIN) {
		*why = strerror(errno);
		return -1;
	}
	ready = ctl_wait(fd, POLLIN, c->deadline);
	*why = ready < 0 ? strerror(errno) : NULL;
	return ready > 0 ? 0 : -1;
}

/* Read until '\n' (or EOF after some data): the line without it, NUL-terminated,
 * or NULL with err set. */
static char *ctl_read_line(const struct ctl_conn *c, int fd, size_t *len, char *err,
			   size_t errlen)
{
	size_t cap = 4096, used = 0;
	char *buf = malloc(cap);
	const char *why = "out of memory";
	int done = -1;

	while (buf && ctl_grow(&buf, &cap, used)) {
		done = ctl_read_some(c, fd, buf, cap, &used, &why);
		if (done)
			break;
	}
	if (done <= 0) {
		if (why)
			ctl_fail(c, err, errlen, why);
		else
			ctl_fail_timeout(c, err, errlen);
		free(buf);
		return NULL;
	}
	buf[used] = 0;
	*len = used;
	return buf;
}

/* The whole line must be one JSON value (trailing blanks aside). */
static struct json_object *ctl_parse_reply(const char *line, size_t len)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *reply;
	size_t end;

	if (!tok)
		return NULL;
	reply = json_tokener_parse_ex(tok, line, (int)len);
	end = json_tokener_get_parse_end(tok);
	if (!reply && json_tokener_get_error(tok) == json_tokener_continue) {
		/* A bare number is only complete once the input ends. */
		reply = json_tokener_parse_ex(tok, "", 1);
		end = len;
	}
	json_tokener_free(tok);
	for (; reply && end < len; end++) {
		if (line[end] != ' ' && line[end] != '\t' && line[end] != '\r') {
			json_object_put(reply);
			return NULL;
		}
	}
	return reply;
}

static struct json_object *ctl_exchange(struct ctl_conn *c, int fd, struct json_object *req,
					char *err, size_t errlen)
{
	const char *text = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN |
							  JSON_C_TO_STRING_NOSLASHESCAPE);
	struct json_object *reply;
	char *line;
	size_t len;

	/* PLAIN output has no raw newline: strings carry it escaped. */
	if (ctl_write_all(c, fd, text, strlen(text), err, errlen) < 0 ||
	    ctl_write_all(c, fd, "\n", 1, err, errlen) < 0)
		return NULL;
	line = ctl_read_line(c, fd, &len, err, errlen);
	if (!line)
		return NULL;
	/* len fits an int: ctl_read_line stops at CTL_REPLY_MAX. */
	reply = ctl_parse_reply(line, len);
	if (!reply)
		ctl_fail(c, err, errlen, "the reply is not JSON");
	free(line);
	return reply;
}

/* ctl_send_fn: one request, one reply, on a fresh connection. */
static struct json_object *ctl_send(void *ctx, struct json_object *req, char *err,
				    size_t errlen)
{
	struct ctl_conn *c = ctx;
	struct json_object *reply;
	int fd;

	c->deadline = ctl_now() + c->timeout_s;
	c->connect_failed = false;
	fd = ctl_connect(c, err, errlen);
	if (fd < 0)
		return NULL;
	reply = ctl_exchange(c, fd, req, err, errlen);
	close(fd);
	return reply;
}

/* ---- options and dispatch ------------------------------------------------- */

static int ctl_usage_error(const char *msg)
{
	if (msg)
		fprintf(stderr, "autonomyctl: %s\n", msg);
	ctl_usage(stderr);
	return CTL_EXIT_USAGE;
}

static bool ctl_parse_timeout(const char *s, double *out)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(s, &end);
	if (end == s || *end || errno || !isfinite(d) || d <= 0 || d > CTL_TIMEOUT_MAX_S)
		return false;
	*out = d;
	return true;
}

/* Returns -1 to go on, or the exit code. */
static int ctl_parse_opts(int argc, char **argv, struct ctl_opts *o)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "socket", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *env = getenv("AUTONOMY_SOCKET");
	int ch;

	o->conn.path = env && *env ? env : CTL_DEFAULT_SOCKET;
	o->conn.timeout_s = CTL_DEFAULT_TIMEOUT_S;
	while ((ch = getopt_long(argc, argv, "js:t:nhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			o->json = true;
			break;
		case 's':
			o->conn.path = optarg;
			break;
		case 'n':
			o->dry_run = true;
			break;
		case 't':
			if (!ctl_parse_timeout(optarg, &o->conn.timeout_s))
				return ctl_usage_error("--timeout wants seconds, e.g. 5 or 0.5");
			break;
		case 'h':
			ctl_usage(stdout);
			return CTL_EXIT_OK;
		case 'V':
			printf("autonomyctl %s\n", AUTONOMY_VERSION);
			return CTL_EXIT_OK;
		default:	/* getopt has said what is wrong */
			return ctl_usage_error(NULL);
		}
	}
	return -1;
}

static void ctl_print_json(FILE *out, struct json_object *obj)
{
	fprintf(out, "%s\n", json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY |
							    JSON_C_TO_STRING_SPACED |
							    JSON_C_TO_STRING_NOSLASHESCAPE));
}

static int ctl_output(const struct ctl_opts *o, const struct ctl_call *call,
		      struct json_object *reply)
{
	char err[512];

	if (ctl_reply_is_error(reply)) {
		if (o->json)
			ctl_print_json(stdout, reply);
		ctl_print_error(stderr, reply);
		return CTL_EXIT_ERROR;
	}
	if (o->json) {
		/* The reply as received; a config get filter is only checked. */
		if (call->cmd == CTL_CMD_CONFIG_GET &&
		    ctl_print_config(NULL, reply, call->arg, err, sizeof(err)) < 0)
			goto not_found;
		ctl_print_json(stdout, reply);
		return CTL_EXIT_OK;
	}
	if (ctl_print(stdout, call, reply, err, sizeof(err)) == CTL_EXIT_OK)
		return CTL_EXIT_OK;
not_found:
	fprintf(stderr, "autonomyctl: %s\n", err);
	return CTL_EXIT_ERROR;
}

static int ctl_run(struct ctl_opts *o, const struct ctl_call *call)
{
	struct json_object *reply;
	char err[512] = "";
	int ret;

	reply = ctl_send(&o->conn, call->request, err, sizeof(err));
	if (!reply) {
		fprintf(stderr, "autonomyctl: cannot reach autonomyd at %s%s\n", err,
			o->conn.connect_failed ? " (is it running?)" : "");
		return CTL_EXIT_UNREACHABLE;
	}
	ret = ctl_output(o, call, reply);
	json_object_put(reply);
	return ret;
}

static const char *ctl_field(struct json_object *o, const char *key)
{
	const char *s = json_object_get_string(json_object_object_get(o, key));

	return s ? s : "";
}

/* notify test: the daemon answers with message ids at once; the outcome is
 * asked for with notify.status until the message is done or the time is up. */
static struct json_object *ctl_notify_status(struct ctl_opts *o, struct json_object *msg,
					     char *err, size_t errlen)
{
	struct json_object *req = json_object_new_object(), *params = json_object_new_object();
	struct json_object *r;

	json_object_object_add(params, "id", json_object_get(json_object_object_get(msg, "id")));
	json_object_object_add(req, "method", json_object_new_string("notify.status"));
	json_object_object_add(req, "params", params);
	r = ctl_send(&o->conn, req, err, errlen);
	json_object_put(req);
	return r;
}

/* The last status of one message; a daemon that went away gives state "unknown". */
static struct json_object *ctl_notify_wait(struct ctl_opts *o, struct json_object *msg,
					   double end)
{
	struct json_object *r;
	char err[512];

	while ((r = ctl_notify_status(o, msg, err, sizeof(err)))) {
		if (ctl_reply_is_error(r) || strcmp(ctl_field(r, "state"), "sending") ||
		    ctl_now() >= end)
			return r;
		json_object_put(r);
		poll(NULL, 0, 200);
	}
	r = json_object_new_object();
	json_object_object_add(r, "notifier", json_object_get(json_object_object_get(msg,
										     "notifier")));
	json_object_object_add(r, "state", json_object_new_string("unknown"));
	json_object_object_add(r, "answer", json_object_new_string(err));
	return r;
}

static struct json_object *ctl_notify_poll(struct ctl_opts *o, struct json_object *msgs,
					   double wait_s, int *undone)
{
	struct json_object *out = json_object_new_array();
	double end = ctl_now() + wait_s;

	for (size_t i = 0; i < json_object_array_length(msgs); i++) {
		struct json_object *r = ctl_notify_wait(o, json_object_array_get_idx(msgs, i), end);

		if (ctl_reply_is_error(r) || strcmp(ctl_field(r, "state"), "delivered"))
			(*undone)++;
		json_object_array_add(out, r);
	}
	return out;
}

static int ctl_notify_test(struct ctl_opts *o, const struct ctl_call *call)
{
	struct json_object *reply, *msgs, *wait, *res;
	char err[512] = "";
	int undone = 0;

	reply = ctl_send(&o->conn, call->request, err, sizeof(err));
	if (!reply) {
		fprintf(stderr, "autonomyctl: cannot reach autonomyd at %s%s\n", err,
			o->conn.connect_failed ? " (is it running?)" : "");
		return CTL_EXIT_UNREACHABLE;
	}
	if (ctl_reply_is_error(reply) || !json_object_object_get_ex(reply, "messages", &msgs)) {
		int ret = ctl_output(o, call, reply);

		json_object_put(reply);
		return ret;
	}
	json_object_object_get_ex(reply, "wait_s", &wait);
	res = ctl_notify_poll(o, msgs, wait ? json_object_get_double(wait) : 12.0, &undone);
	if (o->json) {
		ctl_print_json(stdout, res);
	} else {
		for (size_t i = 0; i < json_object_array_length(res); i++) {
			struct json_object *r = json_object_array_get_idx(res, i);

			if (ctl_reply_is_error(r))
				ctl_print_error(stdout, r);
			else
				printf("%s: %s: %s\n", ctl_field(r, "notifier"), ctl_field(r, "state"),
				       ctl_field(r, "answer"));
		}
	}
	json_object_put(res);
	json_object_put(reply);
	return undone ? CTL_EXIT_ERROR : CTL_EXIT_OK;
}

int main(int argc, char **argv)
{
	struct ctl_opts opts = { 0 };
	struct ctl_call call;
	char err[512];
	int ret;

	ret = ctl_parse_opts(argc, argv, &opts);
	if (ret >= 0)
		return ret;
	if (ctl_parse(argc - optind, argv + optind, &call, err, sizeof(err)) < 0)
		return ctl_usage_error(err);
	if (opts.dry_run && ctl_set_dry_run(&call, err, sizeof(err)) < 0) {
		ctl_call_free(&call);
		return ctl_usage_error(err);
	}

	switch (call.cmd) {
	case CTL_CMD_HELP:
		ctl_usage(stdout);
		ret = CTL_EXIT_OK;
		break;
	case CTL_CMD_RPCD_LIST:
		ctl_rpcd_list(stdout);
		ret = CTL_EXIT_OK;
		break;
	case CTL_CMD_RPCD_CALL:
		ret = ctl_rpcd_call(stdin, stdout, call.arg, ctl_send, &opts.conn);
		break;
	case CTL_CMD_NOTIFY_TEST:
		ret = ctl_notify_test(&opts, &call);
		break;
	default:
		ret = ctl_run(&opts, &call);
		break;
	}
	ctl_call_free(&call);
	return ret;
}
