#include "telem/evlog.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <json-c/json.h>

static struct evlog_entry *ring;
static uint64_t written;	/* entries written since start; next slot = written % size */
static struct {
	evlog_listener fn;
	void *ctx;
} listeners[EVLOG_LISTENERS];

int evlog_listen(evlog_listener fn, void *ctx)
{
	for (int i = 0; i < EVLOG_LISTENERS; i++)
		if (!listeners[i].fn) {
			listeners[i].fn = fn;
			listeners[i].ctx = ctx;
			return 0;
		}
	return -ENOSPC;
}

void evlog_unlisten(evlog_listener fn, void *ctx)
{
	for (int i = 0; i < EVLOG_LISTENERS; i++)
		if (listeners[i].fn == fn && listeners[i].ctx == ctx)
			listeners[i].fn = NULL;
}

void evlog_init(void)
{
	ring = xcalloc(EVLOG_SIZE, sizeof(*ring));
	written = 0;
}

void evlog_fini(void)
{
	free(ring);
	ring = NULL;
	written = 0;
}

void evlog_add(const char *type, const char *reason, const char *from, const char *to,
	       const char *fmt, ...)
{
	struct evlog_entry *e;
	va_list ap;

	if (!ring)
		return;
	e = &ring[written++ % EVLOG_SIZE];
	e->ts = wall_ms();
	strlcpy_ok(e->type, type, sizeof(e->type));
	strlcpy_ok(e->reason, reason, sizeof(e->reason));
	strlcpy_ok(e->from, from ? from : "", sizeof(e->from));
	strlcpy_ok(e->to, to ? to : "", sizeof(e->to));
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	log_info("event %s/%s: %s", e->type, e->reason, e->msg);
	for (int i = 0; i < EVLOG_LISTENERS; i++)
		if (listeners[i].fn)
			listeners[i].fn(e, listeners[i].ctx);
}

int evlog_count(void)
{
	return written < EVLOG_SIZE ? (int)written : EVLOG_SIZE;
}

const struct evlog_entry *evlog_last(void)
{
	return written ? &ring[(written - 1) % EVLOG_SIZE] : NULL;
}

static struct json_object *str_or_null(const char *s)
{
	return *s ? json_object_new_string(s) : NULL;
}

struct json_object *evlog_entry_json(const struct evlog_entry *e)
{
	struct json_object *o = json_object_new_object();
	char ts[RFC3339_LEN];

	json_object_object_add(o, "ts", json_object_new_string(fmt_rfc3339(ts, e->ts)));
	json_object_object_add(o, "type", json_object_new_string(e->type));
	json_object_object_add(o, "reason", json_object_new_string(e->reason));
	json_object_object_add(o, "from", str_or_null(e->from));
	json_object_object_add(o, "to", str_or_null(e->to));
	json_object_object_add(o, "message", json_object_new_string(e->msg));
	return o;
}

struct json_object *evlog_json(int limit)
{
	struct json_object *arr = json_object_new_array();
	int n = evlog_count();

	if (limit < n)
		n = limit;
	for (int i = 0; i < n; i++)
		json_object_array_add(arr, evlog_entry_json(&ring[(written - 1 - (uint64_t)i) % EVLOG_SIZE]));
	return arr;
}
