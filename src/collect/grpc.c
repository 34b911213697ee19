/* Starlink: the transport. A gRPC client over HTTP/2 (libnghttp2, h2c with
 * prior knowledge) on one non-blocking TCP connection, driven by the libev
 * loop; see starlink.h for the contract.
 *
 * Calls end in one place (slot_done), which only records the outcome: the
 * callback runs from the `kick` timer on the next loop iteration. So a user
 * callback never runs inside nghttp2 (where the session must not be sent on
 * or freed) nor inside sl_request(), and may start the next call itself, or
 * even sl_fini().
 * The connection is closed outside nghttp2 callbacks only: they record, and
 * the caller of nghttp2_session_mem_recv/send acts on what they recorded. */
#include "collect/starlink.h"
#include "collect/starlink.pb-c.h"
#include "core/log.h"
#include "core/util.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>

#define GRPC_PATH		"/SpaceX.API.Device.Device/Handle"
#define GRPC_HDR		5
#define DEFAULT_PORT		9200
#define BACKOFF_MIN_MS		1000u
#define BACKOFF_MAX_MS		30000u
#define RX_CHUNK		8192
#define RX_CHUNKS_PER_WAKEUP	8
#define KEEP_BUF_MAX		(64u << 10)	/* larger response buffers are freed after use */

enum { HEALTH_NONE, HEALTH_UP, HEALTH_DOWN };

static const char *const grpc_codes[] = {
	"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
	"ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
	"ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
	"UNAUTHENTICATED",
};

static void conn_fail(struct sl_client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void conn_open(struct sl_client *c);

/* ---- calls ------------------------------------------------------------------- */

static void slot_end(struct sl_slot *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The call is over, its outcome in s->err ("" = success): the callback
 * follows from the loop. */
static void slot_done(struct sl_slot *s)
{
	struct sl_client *c = s->owner;

	s->done = true;
	s->stream_id = 0;
	ev_timer_stop(c->loop, &s->deadline);
	if (!ev_is_active(&c->kick))
		ev_timer_start(c->loop, &c->kick);
}

/* The call failed: why goes to s->err, and the callback follows. */
static void slot_end(struct sl_slot *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
	if (!s->err[0])
		snprintf(s->err, sizeof(s->err), "failed");
	slot_done(s);
}

static bool slot_sent(const struct sl_slot *s)
{
	return s->busy && !s->done && s->stream_id;
}

static bool slot_pending(const struct sl_slot *s)
{
	return s->busy && !s->done && !s->stream_id;
}

static const void *result_of(const struct sl_client *c, enum sl_call what)
{
	switch (what) {
	case SL_STATUS:
		return &c->status;
	case SL_HISTORY:
		return &c->history;
	default:
		return &c->info;
	}
}

static void deliver(struct sl_client *c, struct sl_slot *s)
{
	char err[SL_ERR_LEN];
	bool ok = !s->err[0];

	/* The callback may start the next call on this slot: copy first. */
	memcpy(err, s->err, sizeof(err));
	s->done = s->busy = false;
	if (s->cap > KEEP_BUF_MAX) {
		free(s->buf);
		s->buf = NULL;
		s->cap = 0;
	}
	if (ok)
		c->calls_ok++;
	else
		c->calls_failed++;
	c->cb(c, s->what, ok ? result_of(c, s->what) : NULL, ok ? NULL : err, c->ctx);
}

static void kick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct sl_client *c = container_of(w, struct sl_client, kick);

	(void)loop;
	(void)revents;
	/* c->loop is NULL once a callback has called sl_fini() */
	for (int i = 0; i < __SL_CALL_MAX && c->loop; i++)
		if (c->slot[i].done)
			deliver(c, &c->slot[i]);
}

/* ---- health, logged on changes only -------------------------------------- */

static void note_answer(struct sl_client *c)
{
	c->backoff_ms = 0;
	if (c->logged != HEALTH_UP)
		log_info("starlink: connected to the dish at %s", c->address);
	c->logged = HEALTH_UP;
}

static void note_down(struct sl_client *c, const char *why)
{
	if (c->logged != HEALTH_DOWN)
		log_warn("starlink: %s %s: %s", c->logged == HEALTH_UP ? "lost the dish at" :
			 "cannot reach the dish at", c->address, why);
	else
		log_debug("starlink: %s: %s", c->address, why);
	c->logged = HEALTH_DOWN;
}

/* An answer that is not what it should be (garbage, a gRPC error): logged
 * once per kind of call until that kind works again. */
static void note_bad(struct sl_slot *s)
{
	bool *logged = &s->owner->bad_logged[s->what];

	if (!*logged)
		log_warn("starlink: bad %s answer from the dish at %s: %s", sl_call_name(s->what),
			 s->owner->address, s->err);
	*logged = true;
}

static void note_good(struct sl_slot *s)
{
	bool *logged = &s->owner->bad_logged[s->what];

	if (*logged)
		log_info("starlink: %s answers from %s are good again", sl_call_name(s->what),
			 s->owner->address);
	*logged = false;
}

/* ---- the answer ------------------------------------------------------------ */

static const char *grpc_code_name(int code)
{
	return code >= 0 && code < (int)ARRAY_SIZE(grpc_codes) ? grpc_codes[code] : "?";
}

/* application/grpc, application/grpc+proto, application/grpc; charset=… */
static bool grpc_content_type(const char *ct)
{
	size_t n = strlen("application/grpc");

	return !strncmp(ct, "application/grpc", n) &&
	       (ct[n] == '\0' || ct[n] == '+' || ct[n] == ';');
}

static int decode(struct sl_slot *s, const uint8_t *msg, size_t len)
{
	struct sl_client *c = s->owner;
	struct sl_status st;
	struct sl_history h;
	struct sl_device_info info;
	int rc;

	switch (s->what) {
	case SL_STATUS:
		rc = sl_decode_status(msg, len, &st, s->err, sizeof(s->err));
		if (!rc)
			c->status = st;
		return rc;
	case SL_HISTORY:
		rc = sl_decode_history(msg, len, c->history.valid ? &c->history : NULL, 0, &h,
				       s->err, sizeof(s->err));
		if (!rc)
			c->history = h;
		return rc;
	default:
		rc = sl_decode_device_info(msg, len, &info, s->err, sizeof(s->err));
		if (!rc)
			c->info = info;
		return rc;
	}
}

/* Writes the reason into s->err and returns false if the answer is no good. */
static bool answer_check(struct sl_slot *s, uint32_t h2_error)
{
	char e[SL_ERR_LEN];
	size_t n = sizeof(e);

	if (s->too_big)
		snprintf(e, n, "response larger than %u bytes", SL_MAX_MSG + GRPC_HDR);
	else if (h2_error != NGHTTP2_NO_ERROR && s->grpc_status == -1)
		snprintf(e, n, "stream reset by the dish: %s", nghttp2_http2_strerror(h2_error));
	else if (s->http_status != 200)
		snprintf(e, n, "HTTP status %d", s->http_status);
	else if (!grpc_content_type(s->content_type))
		snprintf(e, n, "wrong content-type \"%s\"", s->content_type);
	else if (s->grpc_status == -1)
		snprintf(e, n, "missing grpc-status");
	else if (s->grpc_status < 0)
		snprintf(e, n, "malformed grpc-status");
	else if (s->grpc_status != 0)
		snprintf(e, n, "grpc-status %d (%s): %s", s->grpc_status,
			 grpc_code_name(s->grpc_status),
			 s->grpc_message[0] ? s->grpc_message : "no message");
	else
		return true;
	memcpy(s->err, e, sizeof(e));
	return false;
}

/* The stream is closed: judge and decode what came. */
static void slot_finish(struct sl_slot *s, uint32_t h2_error)
{
	const uint8_t *msg;
	size_t msglen;

	s->owner->served = true;
	note_answer(s->owner);
	if (!answer_check(s, h2_error) ||
	    sl_grpc_unframe(s->buf, s->len, &msg, &msglen, s->err, sizeof(s->err)) < 0 ||
	    decode(s, msg, msglen) < 0) {
		note_bad(s);
		slot_done(s);
		return;
	}
	note_good(s);
	s->err[0] = '\0';
	slot_done(s);
}

/* ---- nghttp2 callbacks: record, never close ------------------------------ */

static struct sl_slot *slot_of(struct sl_client *c, int32_t stream_id)
{
	for (int i = 0; i < __SL_CALL_MAX; i++)
		if (slot_sent(&c->slot[i]) && c->slot[i].stream_id == stream_id)
			return &c->slot[i];
	return NULL;
}

static ssize_t send_cb(nghttp2_session *h2, const uint8_t *data, size_t len, int flags,
		       void *user)
{
	struct sl_client *c = user;
	ssize_t n;

	(void)h2;
	(void)flags;
	n = send(c->io.fd, data, len, MSG_NOSIGNAL);
	if (n >= 0)
		return n;
	if (errno == EAGAIN || errno == EINTR)
		return NGHTTP2_ERR_WOULDBLOCK;
	c->io_errno = errno;
	return NGHTTP2_ERR_CALLBACK_FAILURE;
}

static ssize_t body_cb(nghttp2_session *h2, int32_t stream_id, uint8_t *buf, size_t len,
		       uint32_t *flags, nghttp2_data_source *src, void *user)
{
	struct sl_slot *s = src->ptr;
	size_t n = s->reqlen - s->reqoff;

	(void)h2;
	(void)stream_id;
	(void)user;
	if (n > len)
		n = len;
	memcpy(buf, s->req + s->reqoff, n);
	s->reqoff += n;
	if (s->reqoff == s->reqlen)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

static int parse_status(const uint8_t *v, size_t len)
{
	int n = 0;

	if (!len || len > 4)
		return -2;
	for (size_t i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -2;
		n = n * 10 + (v[i] - '0');
	}
	return n;
}

static int hexval(uint8_t ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f')
		return (ch | 0x20) - 'a' + 10;
	return -1;
}

/* grpc-message is percent-encoded; keep printable ASCII, cut to size. */
static void copy_message(char *dst, size_t size, const uint8_t *v, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 1 < size; i++) {
		int ch = v[i];

		if (ch == '%' && i + 2 < len && hexval(v[i + 1]) >= 0 && hexval(v[i + 2]) >= 0) {
			ch = hexval(v[i + 1]) << 4 | hexval(v[i + 2]);
			i += 2;
		}
		dst[o++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	dst[o] = '\0';
}

static bool is(const uint8_t *name, size_t len, const char *want)
{
	return len == strlen(want) && !memcmp(name, want, len);
}

static int header_cb(nghttp2_session *h2, const nghttp2_frame *frame, const uint8_t *name,
		     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
		     void *user)
{
	struct sl_slot *s = slot_of(user, frame->hd.stream_id);

	(void)h2;
	(void)flags;
	if (!s || frame->hd.type != NGHTTP2_HEADERS)
		return 0;
	if (is(name, namelen, ":status"))
		s->http_status = parse_status(value, valuelen);
	else if (is(name, namelen, "content-type") && frame->headers.cat == NGHTTP2_HCAT_RESPONSE)
		copy_message(s->content_type, sizeof(s->content_type), value, valuelen);
	else if (is(name, namelen, "grpc-status"))
		s->grpc_status = parse_status(value, valuelen);
	else if (is(name, namelen, "grpc-message"))
		copy_message(s->grpc_message, sizeof(s->grpc_message), value, valuelen);
	return 0;
}

static int data_cb(nghttp2_session *h2, uint8_t flags, int32_t stream_id, const uint8_t *data,
		   size_t len, void *user)
{
	struct sl_slot *s = slot_of(user, stream_id);
	size_t max = SL_MAX_MSG + GRPC_HDR;

	(void)flags;
	if (!s || s->too_big)
		return 0;
	if (len > max - s->len) {
		s->too_big = true;
		nghttp2_submit_rst_stream(h2, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_CANCEL);
		return 0;
	}
	if (s->len + len > s->cap) {
		size_t cap = s->cap ? s->cap : 1024;

		while (cap < s->len + len)
			cap *= 2;
		if (cap > max)
			cap = max;
		s->buf = xrealloc(s->buf, cap);
		s->cap = cap;
	}
	memcpy(s->buf + s->len, data, len);
	s->len += len;
	return 0;
}

static int frame_cb(nghttp2_session *h2, const nghttp2_frame *frame, void *user)
{
	struct sl_client *c = user;

	(void)h2;
	if (frame->hd.type == NGHTTP2_GOAWAY) {
		c->draining = true;
		c->goaway_code = frame->goaway.error_code;
	}
	return 0;
}

static int close_cb(nghttp2_session *h2, int32_t stream_id, uint32_t error_code, void *user)
{
	struct sl_slot *s = slot_of(user, stream_id);

	(void)h2;
	if (s)
		slot_finish(s, error_code);
	return 0;
}

/* ---- the connection ------------------------------------------------------------ */

static void watch(struct sl_client *c, int events)
{
	if (ev_is_active(&c->io) && (c->io.events & (EV_READ | EV_WRITE)) == events)
		return;
	ev_io_stop(c->loop, &c->io);
	ev_io_set(&c->io, c->io.fd, events);
	ev_io_start(c->loop, &c->io);
}

static bool any_sent(const struct sl_client *c)
{
	for (int i = 0; i < __SL_CALL_MAX; i++)
		if (slot_sent(&c->slot[i]))
			return true;
	return false;
}

static bool any_pending(const struct sl_client *c)
{
	for (int i = 0; i < __SL_CALL_MAX; i++)
		if (slot_pending(&c->slot[i]))
			return true;
	return false;
}

/* Closes the socket and the session, nothing else. */
static void conn_drop(struct sl_client *c)
{
	if (c->h2)
		nghttp2_session_del(c->h2);
	c->h2 = NULL;
	if (c->state != SL_DOWN) {
		ev_io_stop(c->loop, &c->io);
		close(c->io.fd);
	}
	c->state = SL_DOWN;
	c->draining = false;
}

/* Ends the calls on the connection (every call, on a failure) with why and
 * closes it. After a failure the next connect waits (backoff); after a
 * graceful end, calls that were waiting get a new connection at once. A
 * connection that ends before it answered anything counts as a failure, so
 * a dish that closes every connection at once is not hammered. */
static void conn_close(struct sl_client *c, const char *why, bool failure)
{
	failure = failure || !c->served;
	for (int i = 0; i < __SL_CALL_MAX; i++) {
		struct sl_slot *s = &c->slot[i];

		if (slot_sent(s) || (failure && slot_pending(s)))
			slot_end(s, "%s", why);
	}
	conn_drop(c);
	if (!failure) {
		log_debug("starlink: %s: connection closed: %s", c->address, why);
		if (any_pending(c))
			conn_open(c);
		return;
	}
	snprintf(c->last_err, sizeof(c->last_err), "%s", why);
	note_down(c, why);
	c->backoff_ms = c->backoff_ms ? c->backoff_ms * 2 : BACKOFF_MIN_MS;
	if (c->backoff_ms > BACKOFF_MAX_MS)
		c->backoff_ms = BACKOFF_MAX_MS;
	ev_timer_stop(c->loop, &c->backoff);
	ev_timer_set(&c->backoff, c->backoff_ms / 1000., 0.);
	ev_timer_start(c->loop, &c->backoff);
}

static void conn_fail(struct sl_client *c, const char *fmt, ...)
{
	char why[SL_ERR_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	conn_close(c, why, true);
}

/* The dish sent GOAWAY: NO_ERROR once nothing of ours is left is a quiet
 * close, anything else a failure. */
static void conn_drained(struct sl_client *c)
{
	if (c->goaway_code == NGHTTP2_NO_ERROR && !any_sent(c))
		conn_close(c, "the dish ended the connection", false);
	else
		conn_fail(c, "the dish ended the connection: %s",
			  nghttp2_http2_strerror(c->goaway_code));
}

/* The nghttp2 session is over (both want_read and want_write are 0). */
static void conn_finished(struct sl_client *c)
{
	if (c->draining)
		conn_drained(c);
	else
		conn_fail(c, "HTTP/2 protocol error: the dish does not speak gRPC");
}

/* Sends what nghttp2 has queued and watches for what it wants next. */
static void conn_flush(struct sl_client *c)
{
	int rv = nghttp2_session_send(c->h2);

	if (rv == NGHTTP2_ERR_CALLBACK_FAILURE) {
		conn_fail(c, "send: %s", strerror(c->io_errno));
		return;
	}
	if (rv) {
		conn_fail(c, "HTTP/2: %s", nghttp2_strerror(rv));
		return;
	}
	if (!nghttp2_session_want_read(c->h2) && !nghttp2_session_want_write(c->h2)) {
		conn_finished(c);
		return;
	}
	if (c->draining && !any_sent(c)) {
		conn_drained(c);
		return;
	}
	watch(c, EV_READ | (nghttp2_session_want_write(c->h2) ? EV_WRITE : 0));
}

static int slot_submit(struct sl_client *c, struct sl_slot *s)
{
#define NV(n, v, vl) { (uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, (vl), \
		       NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE }
	const nghttp2_nv hdrs[] = {
		NV(":method", "POST", 4),
		NV(":scheme", "http", 4),
		NV(":path", GRPC_PATH, sizeof(GRPC_PATH) - 1),
		NV(":authority", c->address, strlen(c->address)),
		NV("content-type", "application/grpc", 16),
		NV("te", "trailers", 8),
	};
#undef NV
	nghttp2_data_provider body = { .source.ptr = s, .read_callback = body_cb };
	int32_t id;

	s->reqoff = 0;
	id = nghttp2_submit_request(c->h2, NULL, hdrs, ARRAY_SIZE(hdrs), &body, s);
	if (id < 0)
		return id;
	s->stream_id = id;
	return 0;
}

/* Submits the waiting calls and sends. */
static void conn_submit(struct sl_client *c)
{
	int rv;

	for (int i = 0; i < __SL_CALL_MAX && !c->draining; i++) {
		if (!slot_pending(&c->slot[i]))
			continue;
		rv = slot_submit(c, &c->slot[i]);
		if (rv < 0) {
			conn_fail(c, "HTTP/2: %s", nghttp2_strerror(rv));
			return;
		}
	}
	conn_flush(c);
}

static int session_start(struct sl_client *c)
{
	const nghttp2_settings_entry settings[] = { { NGHTTP2_SETTINGS_ENABLE_PUSH, 0 } };
	nghttp2_session_callbacks *cbs;
	int rv;

	if (nghttp2_session_callbacks_new(&cbs))
		return -ENOMEM;
	nghttp2_session_callbacks_set_send_callback(cbs, send_cb);
	nghttp2_session_callbacks_set_on_header_callback(cbs, header_cb);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, data_cb);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, frame_cb);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, close_cb);
	rv = nghttp2_session_client_new(&c->h2, cbs, c);
	nghttp2_session_callbacks_del(cbs);
	if (rv)
		return -ENOMEM;
	nghttp2_submit_settings(c->h2, NGHTTP2_FLAG_NONE, settings, ARRAY_SIZE(settings));
	c->state = SL_UP;
	c->draining = false;
	c->served = false;
	c->connects++;
	return 0;
}

/* Reads what has arrived and feeds it to nghttp2. Returns false if the
 * connection was closed. */
static bool conn_read(struct sl_client *c)
{
	uint8_t buf[RX_CHUNK];
	ssize_t n, rv;

	for (int i = 0; i < RX_CHUNKS_PER_WAKEUP; i++) {
		n = read(c->io.fd, buf, sizeof(buf));
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return true;
		if (n < 0) {
			conn_fail(c, "read: %s", strerror(errno));
			return false;
		}
		if (n == 0) {
			conn_close(c, "connection closed by the dish", any_sent(c));
			return false;
		}
		rv = nghttp2_session_mem_recv(c->h2, buf, (size_t)n);
		if (rv < 0) {
			conn_fail(c, "HTTP/2: %s", nghttp2_strerror((int)rv));
			return false;
		}
		if ((size_t)n < sizeof(buf))
			break;
	}
	return true;
}

static void connected(struct sl_client *c)
{
	socklen_t len = sizeof(int);
	int err = 0;

	if (getsockopt(c->io.fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err) {
		conn_fail(c, "connect %s: %s", c->address, strerror(err));
		return;
	}
	if (session_start(c) < 0) {
		conn_fail(c, "HTTP/2: out of memory");
		return;
	}
	log_debug("starlink: connected to %s", c->address);
	conn_submit(c);
}

static void io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct sl_client *c = container_of(w, struct sl_client, io);

	(void)loop;
	if (c->state == SL_CONNECTING) {
		connected(c);
		return;
	}
	if ((revents & EV_READ) && !conn_read(c))
		return;
	conn_flush(c);
}

static int sock_open(struct sl_client *c)
{
	int fd, on = 1;

	fd = socket(c->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (c->device[0] &&
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, c->device, (socklen_t)strlen(c->device)) < 0) {
		int err = errno;

		close(fd);
		return -err;
	}
	return fd;
}

static void conn_open(struct sl_client *c)
{
	int fd = sock_open(c);

	if (fd < 0) {
		conn_fail(c, "%s %s: %s", c->device[0] ? "socket on" : "socket for",
			  c->device[0] ? c->device : c->address, strerror(-fd));
		return;
	}
	ev_io_init(&c->io, io_cb, fd, EV_WRITE);
	c->state = SL_CONNECTING;
	if (connect(fd, (struct sockaddr *)&c->sa.ss, c->salen) < 0 && errno != EINPROGRESS) {
		conn_fail(c, "connect %s: %s", c->address, strerror(errno));
		return;
	}
	ev_io_start(c->loop, &c->io);
}

static void backoff_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct sl_client *c = container_of(w, struct sl_client, backoff);

	(void)loop;
	(void)revents;
	if (c->state == SL_DOWN && any_pending(c))
		conn_open(c);
}

/* A call's deadline. Sent and unanswered, or stuck connecting: the
 * connection is suspect (dishes accept TCP and then say nothing), so it goes. */
static void deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct sl_slot *s = container_of(w, struct sl_slot, deadline);
	struct sl_client *c = s->owner;

	(void)loop;
	(void)revents;
	if (!s->busy || s->done)
		return;
	if (s->stream_id || c->state == SL_CONNECTING)
		conn_fail(c, "timeout");
	else
		slot_end(s, "timeout (not connected: %s)", c->last_err[0] ? c->last_err : "waiting");
}

/* ---- API ----------------------------------------------------------------------------- */

static int parse_port(const char *s)
{
	char *end;
	unsigned long v;

	if (!*s)
		return -1;
	v = strtoul(s, &end, 10);
	return *end || v == 0 || v > 65535 || *s == '-' || *s == '+' ? -1 : (int)v;
}

/* "a.b.c.d[:port]", "[v6[%scope]][:port]" or a bare IPv6 literal. */
static int parse_address(struct sl_client *c, const char *addr)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST };
	struct addrinfo *ai;
	char host[64];
	const char *colon = strrchr(addr, ':'), *end;
	int port = DEFAULT_PORT;
	size_t hl;

	if (addr[0] == '[') {
		end = strchr(addr, ']');
		if (!end || (end[1] && end[1] != ':'))
			return -EINVAL;
		hl = (size_t)(end - addr - 1);
		addr++;
		colon = end[1] ? end + 1 : NULL;
	} else if (colon && strchr(addr, ':') == colon) {
		hl = (size_t)(colon - addr);
	} else {
		hl = strlen(addr);
		colon = NULL;
	}
	if (colon && (port = parse_port(colon + 1)) < 0)
		return -EINVAL;
	if (!hl || hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, addr, hl);
	host[hl] = '\0';
	if (getaddrinfo(host, NULL, &hints, &ai))
		return -EINVAL;
	memcpy(&c->sa.ss, ai->ai_addr, ai->ai_addrlen);
	c->salen = ai->ai_addrlen;
	c->family = ai->ai_family;
	freeaddrinfo(ai);
	if (c->family == AF_INET)
		c->sa.in.sin_port = htons((uint16_t)port);
	else
		c->sa.in6.sin6_port = htons((uint16_t)port);
	return 0;
}

int sl_init(struct sl_client *c, struct ev_loop *loop, const struct sl_cfg *cfg, sl_cb cb,
	    void *ctx)
{
	const char *addr = cfg && cfg->address && *cfg->address ? cfg->address : SL_DEFAULT_ADDRESS;
	const char *dev = cfg && cfg->device ? cfg->device : "";

	memset(c, 0, sizeof(*c));
	if (!loop || !cb || !strlcpy_ok(c->address, addr, sizeof(c->address)) ||
	    !strlcpy_ok(c->device, dev, sizeof(c->device)) || parse_address(c, addr) < 0) {
		log_err("starlink: bad address \"%s\" (want host:port with a numeric host)", addr);
		memset(c, 0, sizeof(*c));
		return -EINVAL;
	}
	c->timeout_ms = cfg && cfg->timeout_ms ? cfg->timeout_ms : SL_DEFAULT_TIMEOUT_MS;
	c->cb = cb;
	c->ctx = ctx;
	c->state = SL_DOWN;
	if (cfg && cfg->quiet)
		c->logged = HEALTH_DOWN;	/* the first failure is no news */
	ev_timer_init(&c->backoff, backoff_cb, 0., 0.);
	ev_timer_init(&c->kick, kick_cb, 0., 0.);
	for (int i = 0; i < __SL_CALL_MAX; i++) {
		c->slot[i].owner = c;
		c->slot[i].what = (enum sl_call)i;
		ev_timer_init(&c->slot[i].deadline, deadline_cb, c->timeout_ms / 1000., 0.);
	}
	c->loop = loop;
	return 0;
}

void sl_fini(struct sl_client *c)
{
	if (!c->loop)
		return;
	for (int i = 0; i < __SL_CALL_MAX; i++) {
		struct sl_slot *s = &c->slot[i];

		ev_timer_stop(c->loop, &s->deadline);
		s->busy = s->done = false;
		s->stream_id = 0;
		free(s->buf);
		s->buf = NULL;
		s->len = s->cap = 0;
	}
	ev_timer_stop(c->loop, &c->kick);
	ev_timer_stop(c->loop, &c->backoff);
	conn_drop(c);
	c->loop = NULL;
}

/* The Request in its gRPC frame; empty request messages pack to 3 bytes. */
static int slot_encode(struct sl_slot *s)
{
	SpaceX__API__Device__Request req = SPACE_X__API__DEVICE__REQUEST__INIT;
	SpaceX__API__Device__GetStatusRequest st = SPACE_X__API__DEVICE__GET_STATUS_REQUEST__INIT;
	SpaceX__API__Device__GetHistoryRequest hi = SPACE_X__API__DEVICE__GET_HISTORY_REQUEST__INIT;
	SpaceX__API__Device__GetDeviceInfoRequest in =
		SPACE_X__API__DEVICE__GET_DEVICE_INFO_REQUEST__INIT;
	size_t n;

	switch (s->what) {
	case SL_STATUS:
		req.request_case = SPACE_X__API__DEVICE__REQUEST__REQUEST_GET_STATUS;
		req.get_status = &st;
		break;
	case SL_HISTORY:
		req.request_case = SPACE_X__API__DEVICE__REQUEST__REQUEST_GET_HISTORY;
		req.get_history = &hi;
		break;
	default:
		req.request_case = SPACE_X__API__DEVICE__REQUEST__REQUEST_GET_DEVICE_INFO;
		req.get_device_info = &in;
		break;
	}
	n = space_x__api__device__request__get_packed_size(&req);
	if (n > sizeof(s->req) - GRPC_HDR)
		return -EMSGSIZE;
	space_x__api__device__request__pack(&req, s->req + GRPC_HDR);
	s->req[0] = 0;
	s->req[1] = s->req[2] = 0;
	s->req[3] = (uint8_t)(n >> 8);
	s->req[4] = (uint8_t)n;
	s->reqlen = GRPC_HDR + n;
	return 0;
}

static void slot_reset(struct sl_slot *s)
{
	s->busy = true;
	s->done = false;
	s->stream_id = 0;
	s->http_status = 0;
	s->grpc_status = -1;
	s->too_big = false;
	s->content_type[0] = s->grpc_message[0] = s->err[0] = '\0';
	s->len = 0;
}

/* Waiting for the backoff only makes sense if it ends before the deadline. */
static bool backoff_fits(struct sl_client *c)
{
	return ev_timer_remaining(c->loop, &c->backoff) * 1000. < c->timeout_ms;
}

int sl_request(struct sl_client *c, enum sl_call what)
{
	struct sl_slot *s;
	int rc;

	if (!c->loop || what < 0 || what >= __SL_CALL_MAX)
		return -EINVAL;
	s = &c->slot[what];
	if (s->busy)
		return -EBUSY;
	rc = slot_encode(s);
	if (rc < 0)
		return rc;
	slot_reset(s);
	ev_timer_set(&s->deadline, c->timeout_ms / 1000., 0.);
	ev_timer_start(c->loop, &s->deadline);
	if (c->state == SL_UP && !c->draining)
		conn_submit(c);
	else if (c->state == SL_DOWN && ev_is_active(&c->backoff) && !backoff_fits(c))
		slot_end(s, "not connected: %s (next attempt in %.1f s)", c->last_err,
			 ev_timer_remaining(c->loop, &c->backoff));
	else if (c->state == SL_DOWN && !ev_is_active(&c->backoff))
		conn_open(c);
	return 0;
}

int sl_adopt_fd(struct sl_client *c, int fd)
{
	if (!c->loop || fd < 0)
		return -EINVAL;
	/* calls on the old connection are sent again on this one */
	conn_drop(c);
	for (int i = 0; i < __SL_CALL_MAX; i++)
		if (slot_sent(&c->slot[i]))
			c->slot[i].stream_id = 0;
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		int err = errno;

		close(fd);
		return -err;
	}
	ev_io_init(&c->io, io_cb, fd, EV_READ | EV_WRITE);
	if (session_start(c) < 0) {
		close(fd);
		return -ENOMEM;
	}
	ev_io_start(c->loop, &c->io);
	ev_timer_stop(c->loop, &c->backoff);
	conn_submit(c);
	return 0;
}
