/* Delivery of notification messages: HTTP(S) POSTs and SMTP mails with the
 * libcurl multi interface on the daemon's loop (curl_multi_socket_action with
 * ev_io and ev_timer), so sending never blocks a decision.
 *
 * Contract: nsend_queue() copies the request into a bounded queue
 * (NSEND_QUEUE messages; when full, the oldest is dropped with one logged
 * reason). Each message is tried at once; a failed attempt (no connection,
 * timeout, an HTTP status other than 2xx) is retried after 2 s, doubling up to
 * 60 s, until its deadline; then it is dropped with one logged reason. Every
 * message ends in exactly one call of its done function. Secrets (tokens in
 * URLs, passwords) are never logged: messages are named by label and id. */
#ifndef AUTONOMY_NOTIFY_SEND_H
#define AUTONOMY_NOTIFY_SEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ev_loop;
struct json_object;

#define NSEND_QUEUE		32
#define NSEND_ANSWER_LEN	256
#define NSEND_BODY_MAX		(64 * 1024)

struct nsend_req {
	const char *url;		/* http(s)://… or smtp(s)://… */
	const char *const *headers;	/* NULL-terminated "Name: value"; may be NULL */
	const char *body;		/* the POST body, or the whole mail */
	size_t body_len;
	const char *cafile;		/* NULL or "" = the system CAs */
	/* smtp only */
	const char *mail_from, *mail_rcpt, *username, *password;
	bool starttls;			/* smtp://: require STARTTLS */
};

enum nsend_result {
	NSEND_OK,
	NSEND_FAILED,	/* the deadline passed; answer has the last error */
	NSEND_DROPPED,	/* pushed out of a full queue, or stopped */
};

/* answer: the server's reply (status and the start of the body) or the error. */
typedef void (*nsend_done_fn)(unsigned id, enum nsend_result res, const char *answer,
			      void *ctx);

int nsend_init(struct ev_loop *loop);
void nsend_fini(void);

/* Per attempt and per message, in ms; apply to messages queued afterwards. */
void nsend_set_limits(int attempt_ms, int deadline_ms);

/* Queues a copy of req. Returns the message id (> 0), or 0 when the request is
 * unusable (the reason in err). */
unsigned nsend_queue(const char *label, const struct nsend_req *req, nsend_done_fn done,
		     void *ctx, char *err, size_t errlen);

/* The uplink changed: waiting messages are tried now, attempts in flight start
 * again (their connections used the old path). */
void nsend_retry_now(void);

/* {"queued", "inflight", "sent", "failed", "dropped"} */
struct json_object *nsend_json(void);
/* "sending (attempt 3, last error: …)" for a message still queued; NULL otherwise. */
const char *nsend_state(unsigned id, char *buf, size_t size);

#endif
