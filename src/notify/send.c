#include "notify/send.h"
#include "core/dl.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the calls go through C (below), so curl.h's type-checking macros would be in the way */
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>
#include <ev.h>
#include <json-c/json.h>

/* libcurl is loaded when the first message is queued (core/dl.h). */
#define CURL_SONAME	"libcurl.so.4"
#define CURL_FNS(X) \
	X(curl_easy_cleanup) X(curl_easy_getinfo) X(curl_easy_init) X(curl_easy_setopt) \
	X(curl_easy_strerror) X(curl_global_cleanup) X(curl_global_init) \
	X(curl_multi_add_handle) X(curl_multi_assign) X(curl_multi_cleanup) \
	X(curl_multi_info_read) X(curl_multi_init) X(curl_multi_remove_handle) \
	X(curl_multi_setopt) X(curl_multi_socket_action) X(curl_slist_append) \
	X(curl_slist_free_all) X(curl_version_info)

static struct {
	CURL_FNS(DL_MEMBER)
} C;
static const char *const curl_names[] = { CURL_FNS(DL_NAME) };

#define BACKOFF_FIRST_MS	2000
#define BACKOFF_MAX_MS		60000
#define SOCKETS			(2 * NSEND_QUEUE)	/* a transfer uses one, two while it connects */

struct job {
	bool used, inflight, smtp;
	unsigned id;
	char label[48];
	CURL *easy;
	struct curl_slist *headers, *rcpt;
	char *body;
	size_t body_len, body_off;	/* smtp upload position */
	int64_t created, deadline, next_try;
	int attempts;
	char answer[NSEND_ANSWER_LEN];	/* the reply so far, or the last error */
	size_t answer_len;
	char errbuf[CURL_ERROR_SIZE];
	nsend_done_fn done;
	void *ctx;
};

/* One per socket curl watches, from a fixed pool; back when curl lets go of it. */
struct sock_watch {
	ev_io io;
	curl_socket_t fd;
	bool used;
};

static struct {
	struct ev_loop *loop;
	CURLM *multi;
	ev_timer curl_timer, retry;
	struct job jobs[NSEND_QUEUE];
	struct sock_watch socks[SOCKETS];
	unsigned next_id;
	int attempt_ms, deadline_ms;
	uint64_t sent, failed, dropped;
} N;	/* no initializer: the job buffers stay out of the binary's data */

static void check_done(void);
static void schedule_retry(void);

/* ---- curl and the loop ------------------------------------------------------ */

static void io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct sock_watch *s = container_of(w, struct sock_watch, io);
	int running, flags = (revents & EV_READ ? CURL_CSELECT_IN : 0) |
			     (revents & EV_WRITE ? CURL_CSELECT_OUT : 0);

	(void)loop;
	C.curl_multi_socket_action(N.multi, s->fd, flags, &running);
	check_done();
}

static void curl_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	int running;

	(void)loop;
	(void)w;
	(void)revents;
	C.curl_multi_socket_action(N.multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done();
}

static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *clientp, void *socketp)
{
	struct sock_watch *s = socketp;
	int events = (what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0);

	(void)easy;
	(void)clientp;
	if (what == CURL_POLL_REMOVE) {
		if (s) {
			ev_io_stop(N.loop, &s->io);
			C.curl_multi_assign(N.multi, fd, NULL);
			s->used = false;
		}
		return 0;
	}
	if (!s) {
		for (int i = 0; i < SOCKETS && !s; i++)
			if (!N.socks[i].used)
				s = &N.socks[i];
		if (!s) {
			log_warn("notify: more than %d sockets at once; a transfer fails", SOCKETS);
			return -1;	/* curl aborts that transfer */
		}
		s->used = true;
		s->fd = fd;
		ev_io_init(&s->io, io_cb, fd, events);
		C.curl_multi_assign(N.multi, fd, s);
	} else {
		ev_io_stop(N.loop, &s->io);
		ev_io_set(&s->io, fd, events);
	}
	ev_io_start(N.loop, &s->io);
	return 0;
}

/* curl asks to be called after timeout_ms (-1: never). It must not be called
 * from inside this callback, so 0 becomes a timer that fires at once. */
static int timer_cb(CURLM *multi, long timeout_ms, void *clientp)
{
	(void)multi;
	(void)clientp;
	ev_timer_stop(N.loop, &N.curl_timer);
	if (timeout_ms >= 0) {
		ev_timer_set(&N.curl_timer, (double)timeout_ms / 1000.0, 0.);
		ev_timer_start(N.loop, &N.curl_timer);
	}
	return 0;
}

/* ---- jobs ------------------------------------------------------------------- */

static size_t write_cb(char *data, size_t size, size_t n, void *userp)
{
	struct job *j = userp;
	size_t len = size * n, room = sizeof(j->answer) - 1 - j->answer_len;

	if (room) {
		memcpy(j->answer + j->answer_len, data, len < room ? len : room);
		j->answer_len += len < room ? len : room;
		j->answer[j->answer_len] = '\0';
	}
	return len;
}

static size_t read_cb(char *buf, size_t size, size_t n, void *userp)
{
	struct job *j = userp;
	size_t len = size * n, left = j->body_len - j->body_off;

	if (len > left)
		len = left;
	memcpy(buf, j->body + j->body_off, len);
	j->body_off += len;
	return len;
}

static void free_job(struct job *j)
{
	if (j->easy) {
		if (j->inflight)
			C.curl_multi_remove_handle(N.multi, j->easy);
		C.curl_easy_cleanup(j->easy);
	}
	C.curl_slist_free_all(j->headers);
	C.curl_slist_free_all(j->rcpt);
	free(j->body);
	memset(j, 0, sizeof(*j));
}

static void finish(struct job *j, enum nsend_result res, const char *answer)
{
	nsend_done_fn done = j->done;
	void *ctx = j->ctx;
	unsigned id = j->id;
	char copy[NSEND_ANSWER_LEN];

	strlcpy_ok(copy, answer, sizeof(copy));
	if (res == NSEND_OK)
		N.sent++;
	else if (res == NSEND_FAILED)
		N.failed++;
	else
		N.dropped++;
	free_job(j);
	if (done)
		done(id, res, copy, ctx);
}

static void start_attempt(struct job *j, int64_t now)
{
	int64_t left = j->deadline - now, ms = left < N.attempt_ms ? left : N.attempt_ms;

	j->answer[0] = '\0';
	j->answer_len = 0;
	j->errbuf[0] = '\0';
	j->body_off = 0;
	j->attempts++;
	C.curl_easy_setopt(j->easy, CURLOPT_TIMEOUT_MS, (long)(ms > 1 ? ms : 1));
	if (C.curl_multi_add_handle(N.multi, j->easy) != CURLM_OK) {
		snprintf(j->answer, sizeof(j->answer), "curl_multi_add_handle failed");
		j->next_try = now + BACKOFF_FIRST_MS;
		return;
	}
	j->inflight = true;
	log_debug("notify: %s: message %u, attempt %d", j->label, j->id, j->attempts);
}

static int64_t backoff_ms(int attempts)
{
	int64_t ms = BACKOFF_FIRST_MS;

	for (int i = 1; i < attempts && ms < BACKOFF_MAX_MS; i++)
		ms *= 2;
	return ms < BACKOFF_MAX_MS ? ms : BACKOFF_MAX_MS;
}

/* The answer of a finished attempt: "HTTP 200: {…}" or the curl error. */
static bool attempt_ok(struct job *j, CURLcode rc)
{
	char body[NSEND_ANSWER_LEN];
	long code = 0;

	C.curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &code);
	strlcpy_ok(body, j->answer, sizeof(body));
	for (char *c = body; *c; c++)
		if (*c == '\r' || *c == '\n')
			*c = ' ';
	if (rc != CURLE_OK) {
		snprintf(j->answer, sizeof(j->answer), "%s", j->errbuf[0] ? j->errbuf :
			 C.curl_easy_strerror(rc));
		return false;
	}
	if (j->smtp) {
		snprintf(j->answer, sizeof(j->answer), "SMTP %ld: message accepted", code);
		return true;
	}
	snprintf(j->answer, sizeof(j->answer), "HTTP %ld: %.200s", code, body);
	return code >= 200 && code < 300;
}

static void attempt_done(struct job *j, CURLcode rc)
{
	int64_t now = mono_ms();

	C.curl_multi_remove_handle(N.multi, j->easy);
	j->inflight = false;
	if (attempt_ok(j, rc)) {
		log_info("notify: %s: message %u delivered (%s)", j->label, j->id, j->answer);
		finish(j, NSEND_OK, j->answer);
		return;
	}
	j->next_try = now + backoff_ms(j->attempts);
	if (j->next_try >= j->deadline) {
		log_warn("notify: %s: message %u dropped after %d attempt%s: the next would "
			 "come after its deadline (%lld s): %s", j->label, j->id, j->attempts,
			 j->attempts == 1 ? "" : "s", (long long)((j->deadline - j->created) / 1000),
			 j->answer);
		finish(j, NSEND_FAILED, j->answer);
		return;
	}
	log_info("notify: %s: message %u attempt %d failed (%s); again in %lld s", j->label,
		 j->id, j->attempts, j->answer, (long long)((j->next_try - now) / 1000));
}

static void check_done(void)
{
	CURLMsg *msg;
	int left;

	while ((msg = C.curl_multi_info_read(N.multi, &left))) {
		struct job *j = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		C.curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&j);
		if (j)
			attempt_done(j, msg->data.result);
	}
	schedule_retry();
}

static void retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	int64_t now = mono_ms();

	(void)loop;
	(void)w;
	(void)revents;
	for (int i = 0; i < NSEND_QUEUE; i++) {
		struct job *j = &N.jobs[i];

		if (j->used && !j->inflight && j->next_try <= now)
			start_attempt(j, now);
	}
	schedule_retry();
}

/* One timer for the earliest waiting job. */
static void schedule_retry(void)
{
	int64_t now = mono_ms(), next = INT64_MAX;

	for (int i = 0; i < NSEND_QUEUE; i++)
		if (N.jobs[i].used && !N.jobs[i].inflight && N.jobs[i].next_try < next)
			next = N.jobs[i].next_try;
	ev_timer_stop(N.loop, &N.retry);
	if (next == INT64_MAX)
		return;
	ev_timer_set(&N.retry, next > now ? (double)(next - now) / 1000.0 : 0., 0.);
	ev_timer_start(N.loop, &N.retry);
}

/* ---- building a job --------------------------------------------------------- */

static struct job *free_slot(void)
{
	struct job *oldest = NULL;

	for (int i = 0; i < NSEND_QUEUE; i++) {
		if (!N.jobs[i].used)
			return &N.jobs[i];
		if (!oldest || N.jobs[i].created < oldest->created)
			oldest = &N.jobs[i];
	}
	log_warn("notify: %s: message %u dropped: the queue is full (%d messages)", oldest->label,
		 oldest->id, NSEND_QUEUE);
	finish(oldest, NSEND_DROPPED, "dropped: the queue is full");
	return oldest;
}

static bool is_smtp(const char *url)
{
	return !strncmp(url, "smtp://", 7) || !strncmp(url, "smtps://", 8);
}

static void setup_smtp(struct job *j, const struct nsend_req *r)
{
	CURL *e = j->easy;

	j->smtp = true;
	j->rcpt = C.curl_slist_append(NULL, r->mail_rcpt);
	C.curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	C.curl_easy_setopt(e, CURLOPT_MAIL_FROM, r->mail_from);
	C.curl_easy_setopt(e, CURLOPT_MAIL_RCPT, j->rcpt);
	C.curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
	C.curl_easy_setopt(e, CURLOPT_READFUNCTION, read_cb);
	C.curl_easy_setopt(e, CURLOPT_READDATA, j);
	C.curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)j->body_len);
	if (r->starttls && !strncmp(r->url, "smtp://", 7))
		C.curl_easy_setopt(e, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	if (r->username && *r->username) {
		C.curl_easy_setopt(e, CURLOPT_USERNAME, r->username);
		C.curl_easy_setopt(e, CURLOPT_PASSWORD, r->password ? r->password : "");
	}
}

static void setup_http(struct job *j, const struct nsend_req *r)
{
	CURL *e = j->easy;

	for (int i = 0; r->headers && r->headers[i]; i++)
		j->headers = C.curl_slist_append(j->headers, r->headers[i]);
	/* No "Expect: 100-continue" round trip. */
	j->headers = C.curl_slist_append(j->headers, "Expect:");
	C.curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	C.curl_easy_setopt(e, CURLOPT_HTTPHEADER, j->headers);
	C.curl_easy_setopt(e, CURLOPT_POST, 1L);
	C.curl_easy_setopt(e, CURLOPT_POSTFIELDS, j->body);
	C.curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)j->body_len);
}

static bool check_req(const struct nsend_req *r, char *err, size_t errlen)
{
	if (!r->url || !(is_smtp(r->url) || !strncmp(r->url, "http://", 7) ||
			 !strncmp(r->url, "https://", 8))) {
		snprintf(err, errlen, "the URL must start with http://, https://, smtp:// or smtps://");
		return false;
	}
	if (r->body_len > NSEND_BODY_MAX) {
		snprintf(err, errlen, "the message is larger than %d bytes", NSEND_BODY_MAX);
		return false;
	}
	if (is_smtp(r->url) && (!r->mail_from || !*r->mail_from || !r->mail_rcpt ||
				!*r->mail_rcpt)) {
		snprintf(err, errlen, "e-mail needs a sender (from) and a recipient (to)");
		return false;
	}
	return true;
}

static int curl_up(char *err, size_t errlen);

unsigned nsend_queue(const char *label, const struct nsend_req *r, nsend_done_fn done,
		     void *ctx, char *err, size_t errlen)
{
	struct job *j;
	CURL *e;

	if (!N.loop) {
		snprintf(err, errlen, "notifications are not running");
		return 0;
	}
	if (!check_req(r, err, errlen) || curl_up(err, errlen) < 0)
		return 0;
	e = C.curl_easy_init();
	if (!e) {
		snprintf(err, errlen, "curl_easy_init failed");
		return 0;
	}
	j = free_slot();
	j->used = true;
	j->id = ++N.next_id ? N.next_id : ++N.next_id;
	j->easy = e;
	j->done = done;
	j->ctx = ctx;
	snprintf(j->label, sizeof(j->label), "%s", label);
	j->body = xmalloc(r->body_len + 1);
	memcpy(j->body, r->body, r->body_len);
	j->body[r->body_len] = '\0';
	j->body_len = r->body_len;
	j->created = j->next_try = mono_ms();
	j->deadline = j->created + N.deadline_ms;
	C.curl_easy_setopt(e, CURLOPT_URL, r->url);
	C.curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)j);
	C.curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	C.curl_easy_setopt(e, CURLOPT_ERRORBUFFER, j->errbuf);
	C.curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	C.curl_easy_setopt(e, CURLOPT_WRITEDATA, j);
	C.curl_easy_setopt(e, CURLOPT_USERAGENT, "autonomyd/" AUTONOMY_VERSION);
	if (r->cafile && *r->cafile)
		C.curl_easy_setopt(e, CURLOPT_CAINFO, r->cafile);
	if (is_smtp(r->url))
		setup_smtp(j, r);
	else
		setup_http(j, r);
	start_attempt(j, j->created);
	return j->id;
}

void nsend_retry_now(void)
{
	int64_t now = mono_ms();

	for (int i = 0; i < NSEND_QUEUE; i++) {
		struct job *j = &N.jobs[i];

		if (!j->used)
			continue;
		if (j->inflight) {
			/* Removing and adding a handle starts its transfer again. */
			C.curl_multi_remove_handle(N.multi, j->easy);
			j->inflight = false;
			j->attempts--;
		}
		j->next_try = now;
	}
	schedule_retry();
}

void nsend_set_limits(int attempt_ms, int deadline_ms)
{
	N.attempt_ms = attempt_ms;
	N.deadline_ms = deadline_ms;
}

const char *nsend_state(unsigned id, char *buf, size_t size)
{
	for (int i = 0; i < NSEND_QUEUE; i++) {
		const struct job *j = &N.jobs[i];

		if (!j->used || j->id != id)
			continue;
		if (j->inflight && j->attempts <= 1)
			snprintf(buf, size, "sending");
		else
			snprintf(buf, size, "sending (attempt %d, last error: %s)", j->attempts,
				 j->inflight ? "…" : j->answer);
		return buf;
	}
	return NULL;
}

struct json_object *nsend_json(void)
{
	struct json_object *o = json_object_new_object();
	int queued = 0, inflight = 0;

	for (int i = 0; i < NSEND_QUEUE; i++) {
		queued += N.jobs[i].used;
		inflight += N.jobs[i].inflight;
	}
	json_object_object_add(o, "queued", json_object_new_int(queued));
	json_object_object_add(o, "inflight", json_object_new_int(inflight));
	json_object_object_add(o, "sent", json_object_new_int64((int64_t)N.sent));
	json_object_object_add(o, "failed", json_object_new_int64((int64_t)N.failed));
	json_object_object_add(o, "dropped", json_object_new_int64((int64_t)N.dropped));
	return o;
}

/* ---- start and stop ----------------------------------------------------------- */

int nsend_init(struct ev_loop *loop)
{
	N.loop = loop;
	if (!N.attempt_ms)
		nsend_set_limits(10000, 600000);
	ev_init(&N.curl_timer, curl_timer_cb);
	ev_init(&N.retry, retry_cb);
	return 0;
}

/* libcurl and its multi handle, at the first message. */
static int curl_up(char *err, size_t errlen)
{
	char why[256];

	if (N.multi)
		return 0;
	if (dl_load(CURL_SONAME, curl_names, (void **)&C, ARRAY_SIZE(curl_names), why,
		    sizeof(why)) < 0) {
		snprintf(err, errlen, "notifications need libcurl: %s", why);
		return -1;
	}
	if (C.curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, errlen, "curl_global_init failed");
		return -1;
	}
	N.multi = C.curl_multi_init();
	if (!N.multi) {
		snprintf(err, errlen, "curl_multi_init failed");
		C.curl_global_cleanup();
		return -1;
	}
	if (!(C.curl_version_info(CURLVERSION_NOW)->features & CURL_VERSION_ASYNCHDNS))
		log_warn("notify: this libcurl resolves host names synchronously; a slow DNS "
			 "server can stall the daemon while a notification is sent (use IP addresses)");
	C.curl_multi_setopt(N.multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	C.curl_multi_setopt(N.multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	return 0;
}

/* What is still queued is dropped (with one line saying how many). */
void nsend_fini(void)
{
	int n = 0;

	if (!N.multi) {
		N.loop = NULL;
		return;
	}
	for (int i = 0; i < NSEND_QUEUE; i++) {
		if (!N.jobs[i].used)
			continue;
		n++;
		finish(&N.jobs[i], NSEND_DROPPED, "dropped: autonomyd stopped");
	}
	if (n)
		log_warn("notify: %d undelivered message%s dropped at stop", n, n == 1 ? "" : "s");
	ev_timer_stop(N.loop, &N.curl_timer);
	ev_timer_stop(N.loop, &N.retry);
	C.curl_multi_cleanup(N.multi);
	N.multi = NULL;
	for (int i = 0; i < SOCKETS; i++) {
		if (N.socks[i].used)
			ev_io_stop(N.loop, &N.socks[i].io);
		N.socks[i].used = false;
	}
	C.curl_global_cleanup();
	N.loop = NULL;
}
