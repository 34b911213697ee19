/* The HTTP server: libmicrohttpd driven by the daemon's libev loop (MHD's epoll
 * fd is one ev_io, its timeout one ev_timer; no threads of its own).
 *
 *   GET  /api/METHOD?k=v…        a read method; parameters from the query string
 *   POST /api/METHOD             any method; parameters are the JSON object body
 *   GET  /api/events/stream      Server-Sent Events: status, every event, samples
 *   GET  /healthz                200 while a decision is current, else 503
 *   GET  /metrics                Prometheus text (telem/metrics.h)
 *   GET  /…                      the dashboard's files from http_root
 *
 * Replies are the API's JSON (errors as {"error":{"code","message"}}) with the
 * matching status code. Access: writes (api_is_write) need "Authorization:
 * Bearer <http_token>" and are refused (403) while no token is set; a listener
 * beyond loopback does not start without a token and then wants it for every
 * /api and /metrics request too. docs/API.md has the details.
 *
 * Limits: HTTP_MAX_CONNECTIONS at once (streams included, at most
 * HTTP_MAX_STREAMS of them), HTTP_TIMEOUT_S of inactivity per connection
 * (streams are exempt and get a comment every HTTP_KEEPALIVE_S instead),
 * API_MAX_REQUEST bytes of body, HTTP_STREAM_BUFFER bytes queued per stream (a
 * client further behind is disconnected).
 *
 * HTTP problems never stop the daemon: a listener that cannot start is
 * reported (log, `info` → http.state) and, if it failed to bind, retried.
 */
#ifndef AUTONOMY_HTTP_H
#define AUTONOMY_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json_types.h>

struct ev_loop;

#define HTTP_MAX_CONNECTIONS	32
#define HTTP_MAX_STREAMS	8
#define HTTP_TIMEOUT_S		10
#define HTTP_KEEPALIVE_S	15
#define HTTP_SAMPLE_S		1.0	/* a status sample on every stream this often */
#define HTTP_STREAM_BUFFER	(256u << 10)
#define HTTP_RETRY_S		30.0	/* a listener that could not bind tries again */
#define HTTP_TOKEN_MIN		16	/* shorter tokens beyond loopback get a warning */

/* Starts the listener the running configuration asks for (or none). Always
 * returns 0: an HTTP problem is reported, not fatal. */
int http_init(struct ev_loop *loop);
/* Closes every connection and the listener. */
void http_fini(void);
/* After a reload: restarts the listener when http_listen or http_port changed
 * (once the request being answered is sent), keeps it otherwise. */
void http_apply(void);

/* The "http" object of `info`: listen, port, state, auth, streams. */
struct json_object *http_info_json(void);

/* ---- pieces with no I/O, for tests -------------------------------------------- */

/* Adds one query-string parameter to params as the type method expects it.
 * value may be NULL (a key without '='). Returns 0, or -1 with a message. */
int http_query_param(struct json_object *params, const char *method, const char *key,
		     const char *value, char *err, size_t errlen);
/* The status code for an API error code (invalid_argument → 400 …). */
unsigned http_status_of(const char *code);
/* The token of an "Authorization: Bearer …" header, or NULL. */
const char *http_bearer(const char *authorization);
/* Compares in time that depends only on the length of want. */
bool http_token_equal(const char *given, const char *want);
/* A request path that may map into http_root: no "." or ".." segment, no
 * hidden file, no backslash, not too long. */
bool http_path_ok(const char *url);
const char *http_content_type(const char *path);

#endif
