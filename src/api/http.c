#include "api/http.h"
#include "api/api.h"
#include "config/config.h"
#include "core/daemon.h"
#include "core/log.h"
#include "core/util.h"
#include "telem/evlog.h"
#include "telem/metrics.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ev.h>
#include <json-c/json.h>
#include <microhttpd.h>

#define PEER_LEN	(INET6_ADDRSTRLEN + 2)

enum http_state {
	HTTP_OFF,
	HTTP_LISTENING,
	HTTP_FAILED,
};

/* One Server-Sent Events client. Its MHD response owns it: stream_free runs
 * when MHD is done with the connection. */
struct stream {
	struct stream *next;
	struct MHD_Connection *conn;
	char *buf;		/* queued, not yet taken by MHD: buf[off..len) */
	size_t len, off, cap;
	bool suspended;		/* nothing queued: MHD waits until stream_push */
	bool closing;		/* fell behind, or the listener stops */
	bool samples;		/* wants the status every HTTP_SAMPLE_S */
	int64_t last_push;	/* mono ms */
	char peer[PEER_LEN];
};

/* One request (MHD's con_cls). */
struct request {
	char *body;
	size_t len, cap;
	bool counted;		/* in H.inflight: being answered */
};

union sockaddr_any {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

static struct {
	struct ev_loop *loop;
	struct MHD_Daemon *mhd;
	ev_io io;			/* MHD's epoll fd */
	ev_timer timeout;		/* MHD_get_timeout, re-armed after every MHD_run */
	ev_timer tick;			/* samples and keepalives, while a stream is open */
	ev_timer retry;			/* a listener that failed to bind */
	ev_timer restart;		/* a reload changed the listener */
	enum http_state state;
	bool retrying;			/* the failure was already logged */
	char listen[CFG_ADDR_LEN];	/* what runs (or failed to) */
	int port;
	bool loopback;
	char where[CFG_ADDR_LEN + 8];	/* "127.0.0.1:8080", "[::1]:8080" */
	char error[256];
	char token[sizeof(((struct cfg_main *)0)->http_token)];	/* the streams were let in with */
	bool in_run;			/* inside MHD_run */
	bool kick;			/* MHD must run again soon (a stream resumed) */
	int inflight;
	int64_t restart_asked;		/* mono ms */
	struct stream *streams;
	int nstreams;
	uint64_t seq;			/* id: of the last stream message */
} H;

/* ---- pieces without I/O ----------------------------------------------------------- */

static bool parse_int64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (!(isdigit((unsigned char)s[0]) || (s[0] == '-' && isdigit((unsigned char)s[1]))))
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end || errno)
		return false;
	*out = v;
	return true;
}

int http_query_param(struct json_object *params, const char *method, const char *key,
		     const char *value, char *err, size_t errlen)
{
	const char *s = value ? value : "";
	struct json_object *v;
	char *end;
	int64_t n;
	double d;

	if (json_object_object_get_ex(params, key, NULL)) {
		snprintf(err, errlen, "parameter '%s' is given twice", key);
		return -1;
	}
	switch (api_param_type(method, key)) {
	case json_type_int:
		if (!parse_int64(s, &n)) {
			snprintf(err, errlen, "parameter '%s' must be a whole number, not '%s'",
				 key, s);
			return -1;
		}
		v = json_object_new_int64(n);
		break;
	case json_type_double:
		errno = 0;
		d = strtod(s, &end);
		if (!*s || isspace((unsigned char)*s) || *end || errno || !isfinite(d)) {
			snprintf(err, errlen, "parameter '%s' must be a number, not '%s'", key, s);
			return -1;
		}
		v = json_object_new_double(d);
		break;
	case json_type_boolean:
		if (!value || !strcmp(s, "1") || !strcmp(s, "true")) {
			v = json_object_new_boolean(1);
		} else if (!strcmp(s, "0") || !strcmp(s, "false")) {
			v = json_object_new_boolean(0);
		} else {
			snprintf(err, errlen, "parameter '%s' must be true or false, not '%s'",
				 key, s);
			return -1;
		}
		break;
	case json_type_object:
	case json_type_array:
		snprintf(err, errlen, "parameter '%s' takes JSON: send it with POST in a JSON body",
			 key);
		return -1;
	default:
		/* Strings, and names the method does not take (it says so itself). */
		v = json_object_new_string(s);
		break;
	}
	json_object_object_add(params, key, v);
	return 0;
}

unsigned http_status_of(const char *code)
{
	static const struct {
		const char *code;
		unsigned status;
	} map[] = {
		{ "invalid_argument", 400 }, { "invalid_request", 400 }, { "unauthorized", 401 },
		{ "forbidden", 403 }, { "unknown_method", 404 }, { "not_found", 404 },
		{ "method_not_allowed", 405 }, { "timeout", 408 }, { "too_large", 413 },
		{ "internal", 500 }, { "unavailable", 503 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (!strcmp(map[i].code, code))
			return map[i].status;
	return 500;
}

const char *http_bearer(const char *h)
{
	while (*h == ' ' || *h == '\t')
		h++;
	if (strncasecmp(h, "Bearer", 6) || (h[6] != ' ' && h[6] != '\t'))
		return NULL;
	for (h += 6; *h == ' ' || *h == '\t'; h++)
		;
	return *h ? h : NULL;
}

bool http_token_equal(const char *given, const char *want)
{
	size_t glen = strlen(given), wlen = strlen(want);
	volatile unsigned char d = glen != wlen;

	for (size_t i = 0; i < wlen; i++)
		d |= (unsigned char)want[i] ^ (unsigned char)(i < glen ? given[i] : 0);
	return !d && wlen;
}

bool http_path_ok(const char *url)
{
	size_t len = strlen(url);

	if (url[0] != '/' || len >= 1024)
		return false;
	for (const char *p = url; *p; p++) {
		if (*p == '\\' || (unsigned char)*p < ' ' || *p == 0x7f)
			return false;
		/* Each segment: not empty (except after the last '/'), no leading dot. */
		if (*p == '/' && (p[1] == '/' || p[1] == '.'))
			return false;
	}
	return true;
}

const char *http_content_type(const char *path)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{ "html", "text/html; charset=utf-8" }, { "htm", "text/html; charset=utf-8" },
		{ "js", "text/javascript; charset=utf-8" },
		{ "mjs", "text/javascript; charset=utf-8" },
		{ "css", "text/css; charset=utf-8" }, { "json", "application/json" },
		{ "map", "application/json" }, { "webmanifest", "application/manifest+json" },
		{ "svg", "image/svg+xml" }, { "png", "image/png" }, { "ico", "image/x-icon" },
		{ "jpg", "image/jpeg" }, { "jpeg", "image/jpeg" }, { "webp", "image/webp" },
		{ "woff2", "font/woff2" }, { "woff", "font/woff" }, { "wasm", "application/wasm" },
		{ "txt", "text/plain; charset=utf-8" }, { "xml", "application/xml" },
	};
	const char *slash = strrchr(path, '/'), *dot = strrchr(slash ? slash : path, '.');

	if (dot)
		for (size_t i = 0; i < ARRAY_SIZE(types); i++)
			if (!strcasecmp(dot + 1, types[i].ext))
				return types[i].type;
	return "application/octet-stream";
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* %HH decoding of paths and query values, in place. %00 stays as it is: a NUL
 * would silently cut the string short (and so ask for another file). */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
	char *out = s;

	(void)cls;
	(void)conn;
	for (const char *p = s; *p; p++) {
		int hi = p[0] == '%' ? hexval(p[1]) : -1, lo = hi >= 0 ? hexval(p[2]) : -1;

		if (lo >= 0 && (hi | lo)) {
			*out++ = (char)(hi << 4 | lo);
			p += 2;
		} else {
			*out++ = *p;
		}
	}
	*out = '\0';
	return (size_t)(out - s);
}

/* ---- replies ----------------------------------------------------------------------- */

static struct MHD_Response *checked(struct MHD_Response *r)
{
	if (!r) {
		log_err("HTTP: out of memory");
		abort();
	}
	return r;
}

static enum MHD_Result queue(struct MHD_Connection *conn, unsigned status, struct MHD_Response *r)
{
	enum MHD_Result rc;

	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	rc = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return rc;
}

/* Takes text (malloc'd). */
static struct MHD_Response *text_response(char *text, size_t len, const char *type)
{
	struct MHD_Response *r = checked(MHD_create_response_from_buffer(len, text,
									 MHD_RESPMEM_MUST_FREE));

	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	return r;
}

/* Takes o. */
static struct MHD_Response *json_response(struct json_object *o)
{
	size_t len;
	const char *s = json_object_to_json_string_length(o, JSON_PLAIN, &len);
	char *copy = xmalloc(len + 1);

	memcpy(copy, s, len);
	copy[len] = '\n';
	json_object_put(o);
	return text_response(copy, len + 1, "application/json");
}

static struct MHD_Response *error_response(const char *code, const char *fmt, va_list ap)
{
	char msg[CFG_ERR_LEN];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	return json_response(api_error(code, "%s", msg));
}

static enum MHD_Result reply_error(struct MHD_Connection *conn, unsigned status, const char *code,
				   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static enum MHD_Result reply_error(struct MHD_Connection *conn, unsigned status, const char *code,
				   const char *fmt, ...)
{
	struct MHD_Response *r;
	va_list ap;

	va_start(ap, fmt);
	r = error_response(code, fmt, ap);
	va_end(ap);
	if (status == 401)
		MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"autonomy\"");
	return queue(conn, status, r);
}

static enum MHD_Result not_allowed(struct MHD_Connection *conn, const char *allow,
				   const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static enum MHD_Result not_allowed(struct MHD_Connection *conn, const char *allow,
				   const char *fmt, ...)
{
	struct MHD_Response *r;
	va_list ap;

	va_start(ap, fmt);
	r = error_response("method_not_allowed", fmt, ap);
	va_end(ap);
	MHD_add_response_header(r, "Allow", allow);
	return queue(conn, 405, r);
}

/* A method's result, with the status its error code (if any) maps to. */
static enum MHD_Result reply_result(struct MHD_Connection *conn, struct json_object *res)
{
	struct json_object *err, *code;
	unsigned status = 200;

	if (json_object_is_type(res, json_type_object) &&
	    json_object_object_get_ex(res, "error", &err) &&
	    json_object_object_get_ex(err, "code", &code))
		status = http_status_of(json_object_get_string(code));
	return queue(conn, status, json_response(res));
}

static void peer_name(struct MHD_Connection *conn, char *buf, size_t len)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	strlcpy_ok(buf, "?", len);
	const void *addr = NULL;

	if (sa && sa->sa_family == AF_INET)
		addr = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (sa && sa->sa_family == AF_INET6)
		addr = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	if (addr)
		inet_ntop(sa->sa_family, addr, buf, (socklen_t)len);
}

static bool is_get(const char *method)
{
	return !strcmp(method, "GET") || !strcmp(method, "HEAD");
}

/* ---- access ------------------------------------------------------------------------ */

enum need {
	NEED_READ,
	NEED_WRITE,
};

/* True when the request may go on; otherwise its reply is queued in *rc.
 * query_token: the stream's access_token (EventSource cannot send headers). */
static bool authorized(struct MHD_Connection *conn, enum need need, const char *query_token,
		       enum MHD_Result *rc)
{
	const char *want = daemon_ctx.cfg.main.http_token;
	const char *hdr = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
	const char *given = hdr ? http_bearer(hdr) : query_token;
	bool required = need == NEED_WRITE || !H.loopback;
	char peer[PEER_LEN];

	if (need == NEED_WRITE && !want[0]) {
		*rc = reply_error(conn, 403, "forbidden",
				  "writes over HTTP are off: set http_token and send it as "
				  "\"Authorization: Bearer TOKEN\" (or use autonomyctl)");
		return false;
	}
	if (!required && !want[0])
		return true;
	if (hdr && !given) {
		*rc = reply_error(conn, 401, "unauthorized",
				  "the Authorization header must be \"Bearer TOKEN\"");
		return false;
	}
	if (!given) {
		if (!required)
			return true;
		*rc = reply_error(conn, 401, "unauthorized", "this needs the HTTP token: "
				  "send \"Authorization: Bearer TOKEN\"");
		return false;
	}
	if (!http_token_equal(given, want)) {
		peer_name(conn, peer, sizeof(peer));
		log_info("HTTP: wrong token from %s", peer);
		*rc = reply_error(conn, 401, "unauthorized", "wrong token");
		return false;
	}
	return true;
}

/* ---- /api/METHOD ------------------------------------------------------------------- */

struct query {
	const char *method;
	struct json_object *params;
	char *err;
	size_t errlen;
	bool failed;
};

static enum MHD_Result query_one(void *cls, enum MHD_ValueKind kind, const char *key,
				 const char *value)
{
	struct query *q = cls;

	(void)kind;
	if (http_query_param(q->params, q->method, key, value, q->err, q->errlen) < 0) {
		q->failed = true;
		return MHD_NO;
	}
	return MHD_YES;
}

static struct json_object *query_params(struct MHD_Connection *conn, const char *method,
					char *err, size_t errlen)
{
	struct query q = { method, json_object_new_object(), err, errlen, false };

	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, query_one, &q);
	if (q.failed) {
		json_object_put(q.params);
		return NULL;
	}
	return q.params;
}

/* The body as the parameters: nothing (NULL) or one JSON object. */
static int body_params(const struct request *r, struct json_object **out, char *err, size_t errlen)
{
	struct json_tokener *tok;
	struct json_object *o;
	size_t i = 0, end;
	bool ok;

	*out = NULL;
	while (i < r->len && isspace((unsigned char)r->body[i]))
		i++;
	if (i == r->len)
		return 0;
	tok = json_tokener_new();
	o = json_tokener_parse_ex(tok, r->body, (int)r->len);
	ok = o && json_tokener_get_error(tok) == json_tokener_success &&
	     !memchr(r->body, '\0', r->len);
	end = ok ? json_tokener_get_parse_end(tok) : r->len;
	json_tokener_free(tok);
	for (; ok && end < r->len; end++)
		ok = isspace((unsigned char)r->body[end]);
	if (!ok) {
		json_object_put(o);
		snprintf(err, errlen, "the body is not valid JSON");
		return -1;
	}
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		snprintf(err, errlen, "the body must be a JSON object of parameters");
		return -1;
	}
	*out = o;
	return 0;
}

static enum MHD_Result serve_api(struct MHD_Connection *conn, const struct request *r,
				 const char *name, const char *method)
{
	bool get = is_get(method), writes = api_is_write(name);
	struct json_object *params;
	enum MHD_Result rc;
	char err[256];

	if (!get && strcmp(method, "POST"))
		return not_allowed(conn, "GET, HEAD, POST", "%s is not allowed on /api/", method);
	if (get && writes)
		return not_allowed(conn, "POST",
				   "%s changes things: send it as POST with a JSON body", name);
	if (!authorized(conn, writes ? NEED_WRITE : NEED_READ, NULL, &rc))
		return rc;
	if (get) {
		params = query_params(conn, name, err, sizeof(err));
		if (!params)
			return reply_error(conn, 400, "invalid_argument", "%s", err);
	} else if (body_params(r, &params, err, sizeof(err)) < 0) {
		return reply_error(conn, 400, "invalid_request", "%s", err);
	}
	rc = reply_result(conn, api_call(name, params));
	json_object_put(params);
	return rc;
}

/* ---- /api/events/stream ------------------------------------------------------------ */

static void tick_start(void)
{
	if (!ev_is_active(&H.tick))
		ev_timer_again(H.loop, &H.tick);
}

static void mhd_kick(void);

static void stream_wake(struct stream *s)
{
	if (!s->suspended)
		return;
	s->suspended = false;
	MHD_resume_connection(s->conn);
	mhd_kick();
}

/* Ends a stream: the reader says so the next time MHD asks; a client that
 * reads nothing is never asked, so the (otherwise disabled) timeout closes it. */
static void stream_cut(struct stream *s)
{
	s->closing = true;
	if (s->conn)
		MHD_set_connection_option(s->conn, MHD_CONNECTION_OPTION_TIMEOUT, 1u);
	stream_wake(s);
}

static void stream_push(struct stream *s, const char *data, size_t len)
{
	size_t queued = s->len - s->off;

	if (s->closing)
		return;
	if (queued + len > HTTP_STREAM_BUFFER) {
		log_info("HTTP: the event stream of %s fell %u KiB behind: disconnecting it",
			 s->peer, HTTP_STREAM_BUFFER >> 10);
		stream_cut(s);
		return;
	}
	if (s->len + len > s->cap && s->off) {
		memmove(s->buf, s->buf + s->off, queued);
		s->len = queued;
		s->off = 0;
	}
	if (s->len + len > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8192;

		while (cap < s->len + len)
			cap *= 2;
		s->cap = cap < HTTP_STREAM_BUFFER ? cap : HTTP_STREAM_BUFFER;
		s->buf = xrealloc(s->buf, s->cap);
	}
	memcpy(s->buf + s->len, data, len);
	s->len += len;
	s->last_push = mono_ms();
	stream_wake(s);
}

/* "id: N\nevent: TYPE\ndata: JSON\n\n" (JSON_PLAIN is one line); malloc'd. */
static char *sse_message(const char *type, struct json_object *o, size_t *len)
{
	size_t jlen, cap;
	const char *json = json_object_to_json_string_length(o, JSON_PLAIN, &jlen);
	char *m;
	int n;

	cap = jlen + strlen(type) + 48;
	m = xmalloc(cap);
	n = snprintf(m, cap, "id: %" PRIu64 "\nevent: %s\ndata: ", ++H.seq, type);
	memcpy(m + n, json, jlen);
	memcpy(m + n + jlen, "\n\n", 2);
	*len = (size_t)n + jlen + 2;
	return m;
}

static void broadcast(const char *type, struct json_object *o, bool samples)
{
	size_t len;
	char *msg = sse_message(type, o, &len);

	for (struct stream *s = H.streams; s; s = s->next)
		if (!samples || s->samples)
			stream_push(s, msg, len);
	free(msg);
}

static void push_status(struct stream *s)
{
	struct json_object *st = api_call("status", NULL);
	size_t len;
	char *msg = sse_message("status", st, &len);

	stream_push(s, msg, len);
	free(msg);
	json_object_put(st);
}

static void on_event(const struct evlog_entry *e, void *ctx)
{
	struct json_object *o;

	(void)ctx;
	if (!H.streams)
		return;
	o = evlog_entry_json(e);
	broadcast("event", o, false);
	json_object_put(o);
}

static void tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	int64_t now = mono_ms();
	bool samples = false;
	struct json_object *st;

	(void)loop;
	(void)w;
	(void)revents;
	for (struct stream *s = H.streams; s; s = s->next)
		samples |= s->samples && !s->closing;
	if (samples) {
		st = api_call("status", NULL);
		broadcast("status", st, true);
		json_object_put(st);
	}
	for (struct stream *s = H.streams; s; s = s->next)
		if (now - s->last_push >= HTTP_KEEPALIVE_S * 1000)
			stream_push(s, ": keepalive\n\n", 13);
}

static void streams_close_all(void)
{
	for (struct stream *s = H.streams; s; s = s->next)
		stream_cut(s);
}

/* MHD asks for more to send. Nothing queued: suspend until stream_push. */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream *s = cls;
	size_t n = s->len - s->off;

	(void)pos;
	if (s->closing)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	if (!n) {
		s->off = s->len = 0;
		s->suspended = true;
		MHD_suspend_connection(s->conn);
		return 0;
	}
	if (n > max)
		n = max;
	memcpy(buf, s->buf + s->off, n);
	s->off += n;
	return (ssize_t)n;
}

static void stream_free(void *cls)
{
	struct stream *s = cls;

	for (struct stream **pp = &H.streams; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	H.nstreams--;
	log_debug("HTTP: event stream of %s closed (%d open)", s->peer, H.nstreams);
	if (!H.nstreams)
		ev_timer_stop(H.loop, &H.tick);
	free(s->buf);
	free(s);
}

static enum MHD_Result stream_arg(void *cls, enum MHD_ValueKind kind, const char *key,
				  const char *value)
{
	bool *bad = cls;

	(void)kind;
	if (!strcmp(key, "access_token"))
		return MHD_YES;
	if (!strcmp(key, "samples") && value && (!strcmp(value, "0") || !strcmp(value, "1")))
		return MHD_YES;
	*bad = true;
	return MHD_NO;
}

static enum MHD_Result serve_stream(struct MHD_Connection *conn, struct request *r,
				    const char *method)
{
	const char *samples = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "samples");
	const char *token;
	struct MHD_Response *resp;
	struct stream *s;
	enum MHD_Result rc;
	bool bad = false;

	if (strcmp(method, "GET"))
		return not_allowed(conn, "GET", "the event stream is GET only");
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, stream_arg, &bad);
	if (bad)
		return reply_error(conn, 400, "invalid_argument",
				   "the event stream takes samples=0|1 and access_token only");
	token = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "access_token");
	if (!authorized(conn, NEED_READ, token, &rc))
		return rc;
	if (H.nstreams >= HTTP_MAX_STREAMS)
		return reply_error(conn, 503, "unavailable",
				   "too many event streams (at most %d); try again later",
				   HTTP_MAX_STREAMS);
	s = xcalloc(1, sizeof(*s));
	s->conn = conn;
	s->samples = !samples || strcmp(samples, "0");
	peer_name(conn, s->peer, sizeof(s->peer));
	s->next = H.streams;
	H.streams = s;
	H.nstreams++;
	tick_start();
	stream_push(s, "retry: 2000\n\n", 13);
	push_status(s);
	/* From here the response owns s (stream_free). */
	resp = checked(MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, stream_read,
							 s, stream_free));
	MHD_add_response_header(resp, "Content-Type", "text/event-stream");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Accel-Buffering", "no");
	MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT, 0u);
	if (r->counted) {
		r->counted = false;
		H.inflight--;
	}
	log_info("HTTP: event stream opened by %s (%d open)", s->peer, H.nstreams);
	return queue(conn, 200, resp);
}

/* ---- /healthz, /metrics ------------------------------------------------------------ */

static const char *json_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* NULL when a decision is current: an active member that is not down. */
static const char *health_problem(struct json_object *st, char *buf, size_t len)
{
	const char *active = json_str(st, "active"), *state = json_str(st, "state");
	struct json_object *members;

	if (!daemon_ctx.engine)
		return "the decision engine is not running";
	if (state && !strcmp(state, "starting"))
		return "starting: the members are being measured, nothing is decided yet";
	if (!active)
		return "no member is active yet";
	if (!json_object_object_get_ex(st, "members", &members))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(members); i++) {
		struct json_object *m = json_object_array_get_idx(members, i);
		const char *name = json_str(m, "name"), *status = json_str(m, "status");

		if (name && status && !strcmp(name, active) && !strcmp(status, "down")) {
			snprintf(buf, len, "the active member %s is down%s", active,
				 state && !strcmp(state, "all-down") ?
				 " (every member is down)" : "");
			return buf;
		}
	}
	return NULL;
}

static enum MHD_Result serve_health(struct MHD_Connection *conn, const char *method)
{
	static const char *const copied[] = { "active", "state", "uptime_s" };
	struct json_object *st, *o, *v;
	const char *problem;
	char buf[128];

	if (!is_get(method))
		return not_allowed(conn, "GET, HEAD", "/healthz is GET only");
	st = api_call("status", NULL);
	problem = health_problem(st, buf, sizeof(buf));
	o = json_object_new_object();
	json_object_object_add(o, "ok", json_object_new_boolean(!problem));
	if (problem)
		json_object_object_add(o, "reason", json_object_new_string(problem));
	for (size_t i = 0; i < ARRAY_SIZE(copied); i++)
		if (json_object_object_get_ex(st, copied[i], &v))
			json_object_object_add(o, copied[i], json_object_get(v));
	json_object_put(st);
	return queue(conn, problem ? 503 : 200, json_response(o));
}

static enum MHD_Result serve_metrics(struct MHD_Connection *conn, const char *method)
{
	enum MHD_Result rc;
	size_t len;
	char *text;

	if (!is_get(method))
		return not_allowed(conn, "GET, HEAD", "/metrics is GET only");
	if (!authorized(conn, NEED_READ, NULL, &rc))
		return rc;
	text = metrics_text(&len);
	return queue(conn, 200, text_response(text, len, METRICS_CONTENT_TYPE));
}

/* ---- static files ------------------------------------------------------------------ */

/* Opens path if it resolves to a regular file inside root (symlinks are
 * followed, but not out of the root). Returns the fd, -ENOENT, or -EISDIR. */
static int open_inside(const char *root, const char *path, struct stat *st)
{
	char real[PATH_MAX];
	size_t rlen = strlen(root);
	int fd;

	if (!realpath(path, real))
		return -ENOENT;
	if (strncmp(real, root, rlen) || real[rlen] != '/')
		return -ENOENT;
	fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -ENOENT;
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		bool dir = S_ISDIR(st->st_mode);

		close(fd);
		return dir ? -EISDIR : -ENOENT;
	}
	return fd;
}

static bool accepts_gzip(struct MHD_Connection *conn)
{
	const char *ae = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept-Encoding");

	return ae && strcasestr(ae, "gzip");
}

/* Only plain paths are sent back in a Location. */
static bool redirectable(const char *url)
{
	for (const char *p = url; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("/._~-", *p))
			return false;
	return true;
}

static enum MHD_Result redirect_dir(struct MHD_Connection *conn, const char *url)
{
	struct MHD_Response *r = checked(MHD_create_response_from_buffer(0, NULL,
									 MHD_RESPMEM_PERSISTENT));
	char loc[1100];

	snprintf(loc, sizeof(loc), "%s/", url);
	MHD_add_response_header(r, "Location", loc);
	return queue(conn, 301, r);
}

static enum MHD_Result send_file(struct MHD_Connection *conn, const char *path, int fd,
				 const struct stat *st, bool gz)
{
	const char *inm = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "If-None-Match");
	struct MHD_Response *r;
	char etag[80];
	unsigned status = 200;

	snprintf(etag, sizeof(etag), "\"%jx-%jx-%lx%s\"", (uintmax_t)st->st_size,
		 (uintmax_t)st->st_mtim.tv_sec, (unsigned long)st->st_mtim.tv_nsec,
		 gz ? "-gz" : "");
	if (inm && (strstr(inm, etag) || !strcmp(inm, "*"))) {
		close(fd);
		r = checked(MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT));
		status = 304;
	} else {
		r = checked(MHD_create_response_from_fd((size_t)st->st_size, fd));
		MHD_add_response_header(r, "Content-Type", http_content_type(path));
		if (gz)
			MHD_add_response_header(r, "Content-Encoding", "gzip");
	}
	MHD_add_response_header(r, "ETag", etag);
	/* Always revalidate (cheap with the ETag): the service worker and the
	 * app shell must never be stale after an upgrade. */
	MHD_add_response_header(r, "Cache-Control", "no-cache");
	MHD_add_response_header(r, "Vary", "Accept-Encoding");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	return queue(conn, status, r);
}

static enum MHD_Result serve_static(struct MHD_Connection *conn, const char *url,
				    const char *method)
{
	const char *root = daemon_ctx.cfg.main.http_root;
	char realroot[PATH_MAX], path[PATH_MAX + 1100], gzpath[sizeof(path) + 3];
	struct stat st, gzst;
	int fd, gzfd;

	if (!is_get(method))
		return not_allowed(conn, "GET, HEAD", "%s is not allowed on files", method);
	if (!http_path_ok(url))
		return reply_error(conn, 404, "not_found", "no such file");
	if (root[0] != '/' || !realpath(root, realroot) || stat(realroot, &st) < 0 ||
	    !S_ISDIR(st.st_mode))
		return reply_error(conn, 404, "not_found", "the dashboard is not installed: "
				   "http_root %s is not a directory", root);
	snprintf(path, sizeof(path), "%s%s%s", realroot, url,
		 url[strlen(url) - 1] == '/' ? "index.html" : "");
	fd = open_inside(realroot, path, &st);
	if (fd == -EISDIR && redirectable(url))
		return redirect_dir(conn, url);
	if (fd < 0)
		return reply_error(conn, 404, "not_found", "no such file: %s", url);
	if (accepts_gzip(conn)) {
		snprintf(gzpath, sizeof(gzpath), "%s.gz", path);
		gzfd = open_inside(realroot, gzpath, &gzst);
		if (gzfd >= 0) {
			close(fd);
			return send_file(conn, path, gzfd, &gzst, true);
		}
	}
	return send_file(conn, path, fd, &st, false);
}

/* ---- requests ---------------------------------------------------------------------- */

static enum MHD_Result dispatch(struct MHD_Connection *conn, struct request *r, const char *url,
				const char *method)
{
	if (!strcmp(url, "/healthz"))
		return serve_health(conn, method);
	if (!strcmp(url, "/metrics"))
		return serve_metrics(conn, method);
	if (!strcmp(url, "/api/events/stream"))
		return serve_stream(conn, r, method);
	if (!strncmp(url, "/api/", 5))
		return serve_api(conn, r, url + 5, method);
	if (!strcmp(url, "/api"))
		return reply_error(conn, 404, "unknown_method",
				   "the API is at /api/METHOD (status, members, events, …)");
	return serve_static(conn, url, method);
}

/* Headers are in: a body announced as too large is refused before it comes. */
static enum MHD_Result request_start(struct MHD_Connection *conn)
{
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
	int64_t n;

	if (cl && parse_int64(cl, &n) && n > API_MAX_REQUEST)
		return reply_error(conn, 413, "too_large", "the body is larger than %d bytes",
				   API_MAX_REQUEST);
	return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct request *r = *con_cls;
	char peer[PEER_LEN];

	(void)cls;
	(void)version;
	if (!r) {
		r = xcalloc(1, sizeof(*r));
		r->counted = true;
		H.inflight++;
		*con_cls = r;
		return request_start(conn);
	}
	if (*upload_size) {
		/* Only a chunked body can get here too large: there is no way to
		 * answer in the middle of it, so the connection is closed. */
		if (r->len + *upload_size > API_MAX_REQUEST) {
			peer_name(conn, peer, sizeof(peer));
			log_info("HTTP: %s sent a body larger than %d bytes: closing", peer,
				 API_MAX_REQUEST);
			return MHD_NO;
		}
		if (r->len + *upload_size > r->cap) {
			r->cap = r->cap ? r->cap * 2 : 4096;
			while (r->cap < r->len + *upload_size)
				r->cap *= 2;
			if (r->cap > API_MAX_REQUEST)
				r->cap = API_MAX_REQUEST;
			r->body = xrealloc(r->body, r->cap);
		}
		memcpy(r->body + r->len, upload, *upload_size);
		r->len += *upload_size;
		*upload_size = 0;
		return MHD_YES;
	}
	return dispatch(conn, r, url, method);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct request *r = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (!r)
		return;
	if (r->counted)
		H.inflight--;
	free(r->body);
	free(r);
	*con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	log_debug("HTTP: libmicrohttpd: %s", msg);
}

/* ---- the loop ---------------------------------------------------------------------- */

static void mhd_drive(void)
{
	MHD_UNSIGNED_LONG_LONG ms;
	bool timed;

	H.in_run = true;
	H.kick = false;
	MHD_run(H.mhd);
	H.in_run = false;
	timed = MHD_get_timeout(H.mhd, &ms) == MHD_YES;
	if (H.kick) {
		timed = true;
		ms = 0;
	}
	ev_timer_stop(H.loop, &H.timeout);
	if (timed) {
		ev_timer_set(&H.timeout, (double)ms / 1000.0, 0.);
		ev_timer_start(H.loop, &H.timeout);
	}
}

/* A resumed connection is only taken back by the next MHD_run (there is no
 * wakeup fd in external polling mode): run MHD again in this loop iteration. */
static void mhd_kick(void)
{
	H.kick = true;
	if (H.in_run || !H.mhd)
		return;
	ev_timer_stop(H.loop, &H.timeout);
	ev_timer_set(&H.timeout, 0., 0.);
	ev_timer_start(H.loop, &H.timeout);
}

static void io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	mhd_drive();
}

static void timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	mhd_drive();
}

/* ---- the listener ------------------------------------------------------------------ */

static int parse_listen(const char *addr, int port, union sockaddr_any *sa, socklen_t *len,
			bool *loopback)
{
	memset(sa, 0, sizeof(*sa));
	if (inet_pton(AF_INET, addr, &sa->in.sin_addr) == 1) {
		sa->in.sin_family = AF_INET;
		sa->in.sin_port = htons((uint16_t)port);
		*len = sizeof(sa->in);
		*loopback = (ntohl(sa->in.sin_addr.s_addr) >> 24) == 127;
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &sa->in6.sin6_addr) == 1) {
		const struct in6_addr *a = &sa->in6.sin6_addr;

		sa->in6.sin6_family = AF_INET6;
		sa->in6.sin6_port = htons((uint16_t)port);
		*len = sizeof(sa->in6);
		*loopback = IN6_IS_ADDR_LOOPBACK(a) ||
			    (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
		return 0;
	}
	return -EINVAL;
}

static int listen_socket(const union sockaddr_any *sa, socklen_t len)
{
	int fd = socket(sa->sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
	int rc;

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, &sa->sa, len) < 0 || listen(fd, HTTP_MAX_CONNECTIONS) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

static void listen_failed(bool retry, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void listen_failed(bool retry, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(H.error, sizeof(H.error), fmt, ap);
	va_end(ap);
	H.state = HTTP_FAILED;
	if (!retry) {
		log_err("HTTP: %s", H.error);
		return;
	}
	if (H.retrying)
		log_debug("HTTP: %s; trying again in %.0f s", H.error, HTTP_RETRY_S);
	else
		log_err("HTTP: %s; trying again every %.0f s", H.error, HTTP_RETRY_S);
	ev_timer_stop(H.loop, &H.retry);
	ev_timer_set(&H.retry, HTTP_RETRY_S, 0.);
	ev_timer_start(H.loop, &H.retry);
}

static const char *auth_mode(void)
{
	if (H.state == HTTP_LISTENING && !H.loopback)
		return "all";
	return daemon_ctx.cfg.main.http_token[0] ? "writes" : "read-only";
}

static struct MHD_Daemon *mhd_start(int fd)
{
	return MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0,
				NULL, NULL, on_request, NULL,
				MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
				MHD_OPTION_LISTEN_SOCKET, fd,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_MAX_CONNECTIONS,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_TIMEOUT_S,
				MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
				MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
				MHD_OPTION_END);
}

static void http_start(void)
{
	const struct cfg_main *c = &daemon_ctx.cfg.main;
	const union MHD_DaemonInfo *info;
	union sockaddr_any sa;
	socklen_t salen;
	int fd;

	strlcpy_ok(H.listen, c->http_listen, sizeof(H.listen));
	H.port = c->http_port;
	H.error[0] = '\0';
	H.state = HTTP_OFF;
	if (!H.listen[0]) {
		log_info("HTTP server off (http_listen is empty)");
		return;
	}
	snprintf(H.where, sizeof(H.where), strchr(H.listen, ':') ? "[%s]:%d" : "%s:%d", H.listen,
		 H.port);
	if (parse_listen(H.listen, H.port, &sa, &salen, &H.loopback) < 0) {
		listen_failed(false, "http_listen '%s' is not an IP address", H.listen);
		return;
	}
	if (!H.loopback && !c->http_token[0]) {
		listen_failed(false, "not listening on %s: "
			      "beyond loopback the HTTP server needs http_token", H.where);
		return;
	}
	fd = listen_socket(&sa, salen);
	if (fd < 0) {
		listen_failed(true, "cannot listen on %s: %s", H.where, strerror(-fd));
		return;
	}
	H.mhd = mhd_start(fd);
	if (!H.mhd) {
		close(fd);
		listen_failed(true, "cannot start the HTTP server on %s", H.where);
		return;
	}
	info = MHD_get_daemon_info(H.mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info) {
		MHD_stop_daemon(H.mhd);
		H.mhd = NULL;
		listen_failed(false, "libmicrohttpd has no epoll support: no HTTP server");
		return;
	}
	ev_io_init(&H.io, io_cb, info->epoll_fd, EV_READ);
	ev_io_start(H.loop, &H.io);
	H.state = HTTP_LISTENING;
	H.retrying = false;
	log_info("HTTP server on http://%s/ (token needed for: %s)", H.where,
		 !H.loopback ? "everything but /healthz and files" :
		 c->http_token[0] ? "writes" : "nothing; writes are off");
	if (!H.loopback && strlen(c->http_token) < HTTP_TOKEN_MIN)
		log_warn("HTTP: http_token is shorter than %d characters: easy to guess on %s",
			 HTTP_TOKEN_MIN, H.where);
	mhd_drive();
}

static void http_stop(void)
{
	ev_timer_stop(H.loop, &H.retry);
	if (!H.mhd) {
		H.state = HTTP_OFF;
		return;
	}
	/* MHD must not be stopped with suspended connections: wake the streams,
	 * let MHD take them back, then stop (which closes them and frees them). */
	streams_close_all();
	MHD_run(H.mhd);
	ev_io_stop(H.loop, &H.io);
	ev_timer_stop(H.loop, &H.timeout);
	MHD_stop_daemon(H.mhd);
	H.mhd = NULL;
	H.state = HTTP_OFF;
	H.inflight = 0;
}

static void retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	H.retrying = true;
	http_start();
}

/* The reply to the request that changed the listener (config.set) goes out
 * first; a request that never completes does not hold the change up long. */
static void restart_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)revents;
	if (H.inflight > 0 && mono_ms() - H.restart_asked < 2000) {
		ev_timer_set(w, 0.05, 0.);
		ev_timer_start(loop, w);
		return;
	}
	http_stop();
	H.retrying = false;
	http_start();
}

void http_apply(void)
{
	const struct cfg_main *c = &daemon_ctx.cfg.main;

	if (!H.loop)
		return;
	if (strcmp(H.token, c->http_token)) {
		/* Streams let in with a token that is no longer valid must ask again. */
		streams_close_all();
		strlcpy_ok(H.token, c->http_token, sizeof(H.token));
	}
	if (!strcmp(c->http_listen, H.listen) && c->http_port == H.port && H.state != HTTP_FAILED &&
	    (H.state != HTTP_LISTENING || H.loopback || c->http_token[0]))
		return;
	H.restart_asked = mono_ms();
	ev_timer_stop(H.loop, &H.restart);
	ev_timer_set(&H.restart, 0., 0.);
	ev_timer_start(H.loop, &H.restart);
}

int http_init(struct ev_loop *loop)
{
	memset(&H, 0, sizeof(H));
	H.loop = loop;
	ev_timer_init(&H.timeout, timeout_cb, 0., 0.);
	ev_timer_init(&H.tick, tick_cb, 0., HTTP_SAMPLE_S);
	ev_timer_init(&H.retry, retry_cb, HTTP_RETRY_S, 0.);
	ev_timer_init(&H.restart, restart_cb, 0., 0.);
	if (evlog_listen(on_event, NULL) < 0)
		log_warn("HTTP: too many event log listeners: the event stream gets no events");
	strlcpy_ok(H.token, daemon_ctx.cfg.main.http_token, sizeof(H.token));
	http_start();
	return 0;
}

void http_fini(void)
{
	if (!H.loop)
		return;
	ev_timer_stop(H.loop, &H.restart);
	http_stop();
	evlog_unlisten(on_event, NULL);
	memset(H.token, 0, sizeof(H.token));
	H.loop = NULL;
}

struct json_object *http_info_json(void)
{
	struct json_object *o = json_object_new_object();
	char state[sizeof(H.error) + 8];

	if (H.state == HTTP_FAILED)
		snprintf(state, sizeof(state), "error: %s", H.error);
	else
		strlcpy_ok(state, H.state == HTTP_LISTENING ? "listening" : "off", sizeof(state));
	json_object_object_add(o, "listen", H.listen[0] ? json_object_new_string(H.listen) : NULL);
	json_object_object_add(o, "port", H.listen[0] ? json_object_new_int(H.port) : NULL);
	json_object_object_add(o, "state", json_object_new_string(state));
	json_object_object_add(o, "auth", json_object_new_string(auth_mode()));
	json_object_object_add(o, "streams", json_object_new_int(H.nstreams));
	return o;
}
