/* Prometheus metrics: the text exposition format 0.0.4 that /metrics serves.
 *
 * Everything is built from what the API already shows (status, members, info),
 * so the two never disagree, plus one thing the API does not keep: how many
 * switches happened, by reason, counted from the event log since the start.
 * Names are autonomy_* in base units (seconds, bytes, ratios 0..1), counters end
 * in _total, every family has HELP and TYPE, label values are escaped. A value
 * the API reports as null (not known yet) is left out, never written as 0.
 * docs/API.md lists the families.
 */
#ifndef AUTONOMY_METRICS_H
#define AUTONOMY_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct json_object;

#define METRICS_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"
/* Distinct switch reasons counted one by one; the rest are counted as "other". */
#define METRICS_MAX_REASONS	32

struct metrics_switches {
	int n;
	struct {
		char reason[48];
		uint64_t count;
	} r[METRICS_MAX_REASONS];
};

/* After evlog_init: starts counting switch events. */
void metrics_init(void);
void metrics_fini(void);

/* The exposition of the running daemon; malloc'd, *len bytes. */
char *metrics_text(size_t *len);

/* The pieces, for tests. */
void metrics_count_switch(struct metrics_switches *sw, const char *reason);
/* Renders from the results of the status, members and info methods (any may
 * be NULL or an error object: its families are left out). */
char *metrics_render(struct json_object *status, struct json_object *members,
		     struct json_object *info, const struct metrics_switches *sw, size_t *len);

#endif
