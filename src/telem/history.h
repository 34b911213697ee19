/* The history store: RAM-only rings at three resolutions per series (one
 * series per member, plus "system" for the daemon's and the router's
 * resources), a hard memory cap, queries as JSON and an optional snapshot file.
 *
 * Tiers (the full spans):
 *	raw	one sample per second		900 slots	15 min
 *	10s	aggregate of 10 s of samples	2160 slots	6 h
 *	1m	aggregate of 1 min of samples	10080 slots	7 days
 *
 * A series declares its fields (at most HIST_MAX_FIELDS) in a layout. A value
 * is stored as a uint16 in fixed point (0.1 ms, 0.01 %…: `decimals`), clamped
 * to 0..HIST_VALUE_MAX; HIST_MISSING marks "not known" (NAN in, null out),
 * so an unknown value is never shown as 0. Every slot starts with n, the
 * number of samples it holds: 0 is an empty slot (nothing was sampled then).
 * An aggregate keeps per field its avg, plus min and/or max when the layout
 * asks (HIST_MIN, HIST_MAX), or only the worst (highest) value (HIST_WORST:
 * the member status, whose enum grows from unknown to down); NAN values are
 * skipped, so the average of a field is over the samples that had it.
 *
 * Slots are indexed by time (bucket = wall-clock second / step), so a gap in
 * sampling is a run of empty slots. The wall clock may jump: forward, the
 * slots in between are emptied; back by at most HIST_CLOCK_SLACK_S, a raw
 * sample for an older second is dropped and an aggregate one counts in the
 * newest bucket; further back, the tier is emptied and starts again (its data
 * would claim a future).
 *
 * The cap holds by construction: whenever the set of series or the cap
 * changes, hist_plan() gives every tier of every series the same fraction of
 * its full span, the largest for which the rings and every series'
 * bookkeeping fit in the cap (rounded down), and the rings are reallocated
 * then, one series at a time, keeping the newest data. Appending never
 * allocates. Transient buffers (a query's answer, the snapshot being written)
 * are not counted.
 *
 * Single-threaded; nothing here touches the loop or the member registry.
 */
#ifndef AUTONOMY_HISTORY_H
#define AUTONOMY_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

struct json_object;

#define HIST_MAX_FIELDS		8
#define HIST_MAX_SERIES		64
#define HIST_FIELD_LEN		24	/* field names: at most 23 characters */
#define HIST_SYSTEM		"system"	/* the resource series' name */
#define HIST_MISSING		0xffff
#define HIST_VALUE_MAX		0xfffe
#define HIST_CLOCK_SLACK_S	120
#define HIST_MAX_SINCE_S	(31 * 86400)	/* the longest query the API accepts */
#define HIST_FILE_MAX		(32u << 20)	/* a snapshot larger than this is refused */

enum hist_tier_id {
	HIST_RAW,
	HIST_10S,
	HIST_1M,
	__HIST_TIERS
};
#define HIST_AUTO	(-1)

/* Aggregate parts of a field; the avg is always kept unless HIST_WORST. */
#define HIST_MIN	0x1
#define HIST_MAX	0x2
#define HIST_WORST	0x4	/* only the highest value (no avg) */

struct hist_field {
	const char *name;		/* "latency_ms" */
	uint8_t decimals;		/* stored = round(value * 10^decimals); 0..3 */
	uint8_t agg;			/* HIST_MIN | HIST_MAX, or HIST_WORST */
	const char *const *names;	/* for enums: names by value (JSON shows them) */
	int nnames;
};

struct hist_layout {
	int nfields;
	struct hist_field field[HIST_MAX_FIELDS];
};

/* One series that should exist: its name and layout (the layout must outlive it). */
struct hist_want {
	const char *name;
	const struct hist_layout *layout;
};

/* Slots per tier for a set of layouts under a cap. */
struct hist_plan {
	uint32_t len[__HIST_TIERS];
	size_t bytes;			/* what the series will use: <= cap */
	uint32_t permille;		/* the fraction of the full spans, 0..1000 */
};

extern const uint32_t hist_step_s[__HIST_TIERS];	/* 1, 10, 60 */
extern const uint32_t hist_full_len[__HIST_TIERS];	/* 900, 2160, 10080 */
extern const char *const hist_tier_names[__HIST_TIERS];	/* "raw", "10s", "1m" */

/* Pure: the lengths for n series of these layouts under cap bytes. */
void hist_plan(const struct hist_layout *const *layouts, int n, size_t cap, struct hist_plan *out);

/* Sets the cap (bytes) and re-plans the current series if it changed. */
void hist_set_cap(size_t cap);
/* Makes the store hold exactly these series, in this order: keeps the data of
 * those it had by name (fields matched by name when the layout changed), frees
 * the others, creates new ones empty. Cheap when nothing changed. At most
 * HIST_MAX_SERIES; names of one series each. Returns true if anything changed. */
bool hist_set(const struct hist_want *want, int n);
/* Frees every series (hist_set with nothing). */
void hist_fini(void);
/* Empties every slot of every series (tests, fuzzing). */
void hist_clear(void);

int hist_count(void);
/* Index of the series called name, or -1. */
int hist_find(const char *name);
const char *hist_name(int i);

/* Appends one sample at wall-clock second ts to series i: vals has one value
 * per field of its layout, NAN for unknown. */
void hist_append(int i, int64_t ts, const double *vals);

/* The resolution from its name ("raw", "10s", "1m", "auto" = HIST_AUTO);
 * -2 when it is none of them. */
int hist_res_parse(const char *s);
/* The tier a query for since_s picks (res HIST_AUTO: the finest whose span
 * covers since_s, else the one reaching furthest back). */
enum hist_tier_id hist_pick(int64_t since_s, int res);
/* {"name","resolution","step_s","since_s","covered_s","capacity_s","from",
 * "to","fields":[…],"points":[[ts,…]…]}: the points of the last since_s
 * seconds before now, oldest first, empty slots left out. NULL when there is
 * no series called name. */
struct json_object *hist_query(const char *name, int64_t since_s, int res, int64_t now);

/* {"max_ram_kb","used_bytes","series","span_s":{"raw","10s","1m"}} */
struct json_object *hist_info_json(void);
size_t hist_used_bytes(void);
/* Capacity of a tier now (slots * step), in seconds. */
int64_t hist_capacity_s(enum hist_tier_id t);

/* Snapshot: the whole store in a versioned binary form (docs/OPERATIONS.md).
 * hist_save returns a malloc'd buffer and its length. */
char *hist_save(int64_t now, size_t *len);
/* Loads a snapshot into the series that exist now (by name; others are
 * skipped), dropping samples older than the tiers' spans. The whole file is
 * checked before anything is taken: on any problem nothing changes and the
 * reason is in err. Returns the number of series loaded, or -1. */
int hist_load(const void *buf, size_t len, int64_t now, char *err, size_t errlen);

#endif
