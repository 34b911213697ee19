/* The monthly data budget of a metered member (cellular with an allowance):
 * which billing period it is, how many bytes the interface moved in it (and
 * how many of those were autonomy's own probes), which warning thresholds
 * have been reported, and a tiny JSON form that survives a daemon restart.
 *
 * Pure logic: the caller reads the interface counters (budget_read_counters()
 * does it from sysfs), passes them with the wall-clock time to
 * budget_update(), and turns what it returns into events and notifications.
 * No allocation except the JSON objects, no globals, no logging.
 *
 * Periods are local time: one starts at the first instant of day reset_day
 * (1..28, so that every month has it) and ends where the next month's
 * starts. They follow the process's time zone (TZ, tzset()); on a day whose
 * midnight does not exist (a DST change at 00:00) the period starts at the
 * first instant that the local calendar shows that day.
 *
 * Megabytes are decimal (BUDGET_MB bytes): operators that count 1 GB as
 * 1024 MB then bill a little more than we count as budget, so the warnings
 * come early rather than late. */
#ifndef AUTONOMY_BUDGET_H
#define AUTONOMY_BUDGET_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct json_object;

#define BUDGET_MB		1000000ULL	/* bytes in the MB of budget_mb, used_mb… */
#define BUDGET_RESET_DAY_MIN	1
#define BUDGET_RESET_DAY_MAX	28
#define BUDGET_WARN_MAX		4		/* warning thresholds per member */
#define BUDGET_WARN_PCT_MAX	1000		/* a threshold is 1..this percent */

/* budget_update() returns this bit when a new period began at this call. */
#define BUDGET_ROLLED		1

struct budget_cfg {
	uint64_t budget_bytes;		/* 0 = no budget: usage is counted, nothing warns */
	int reset_day;			/* 1..28 (others are clamped to it) */
	int warn_pct[BUDGET_WARN_MAX];	/* any order; values outside 1..1000 are ignored */
	int nwarn;			/* used entries of warn_pct, 0..BUDGET_WARN_MAX */
};

struct budget {
	bool have_period;		/* false until the first update or a load */
	time_t period_start;		/* the current period */
	time_t period_end;		/* the next period's start */
	int reset_day;			/* the reset day the period was computed for */
	uint64_t used_bytes;		/* rx + tx of the interface in this period */
	uint64_t probe_bytes;		/* autonomy's probes in this period (part of used) */
	/* The threshold warnings reported this period, as the highest such
	 * percentage: every threshold <= warned_pct counts as warned. A value
	 * rather than a mask over warn_pct's indexes, so that a config reload
	 * that changes the list neither repeats nor loses a warning. */
	int warned_pct;
	/* The last raw counters seen (the baseline of the next delta). */
	uint64_t last_rx, last_tx, last_probe;
	bool have_counters;		/* last_rx and last_tx are valid */
	bool have_probe;		/* last_probe is valid */
};

/* No period, nothing counted, no baseline. */
void budget_init(struct budget *b);

/* The start of the period that contains now: the latest local-time start of
 * day reset_day that is <= now (reset_day 5: on March 3 it is February 5
 * 00:00; from March 5 00:00 on it is March 5 00:00). budget_period_end() is
 * the start of the next period: the earliest such start > now. Both return
 * (time_t)-1 when now is outside what localtime_r/mktime can represent. */
time_t budget_period_start(time_t now, int reset_day);
time_t budget_period_end(time_t now, int reset_day);

/* Counts one reading. if_rx/if_tx are the interface's cumulative byte
 * counters, probe_total autonomy's cumulative probe bytes for the member.
 *
 * - The period is brought up to date first: the first call sets it; when now
 *   is outside it (the month turned, or the wall clock was stepped into
 *   another period) a new one begins with used, probe and warned_pct zeroed,
 *   and BUDGET_ROLLED is returned. A reset_day different from the one the
 *   period was computed for moves the period's bounds but keeps the counts
 *   (what was counted is at worst an overestimate, the safe side).
 * - Then the deltas since the previous call are added. The first reading of
 *   a counter (after budget_init, budget_load or budget_forget_counters) only
 *   records the baseline. A counter lower than the last one (interface
 *   re-created, modem reconnected, driver reset) started again from 0: its
 *   new value is the delta.
 * - Then the thresholds: *crossed_pct (may be NULL) is the highest threshold
 *   of c that the usage has reached and that was not yet warned this period,
 *   0 if none; all thresholds up to it are then warned. Each fires once per
 *   period. If the budget was raised so that the usage is below thresholds
 *   already warned, those are re-armed.
 *
 * Returns BUDGET_ROLLED, 0, or -EINVAL (now not representable; *b unchanged,
 * *crossed_pct 0). */
int budget_update(struct budget *b, const struct budget_cfg *c, time_t now, uint64_t if_rx,
		  uint64_t if_tx, uint64_t probe_total, int *crossed_pct);

/* The interface is gone or unreadable: the next readings re-baseline instead
 * of counting. (Not needed for a counter reset; budget_update sees those.) */
void budget_forget_counters(struct budget *b);

/* Percentage of the budget used (may exceed 100); NAN when there is no budget. */
double budget_used_pct(const struct budget *b, const struct budget_cfg *c);
/* Bytes left of the budget: 0 once it is used up, UINT64_MAX when there is none. */
uint64_t budget_left_bytes(const struct budget *b, const struct budget_cfg *c);

/* The member's "budget" object:
 * {"budget_mb": N|null, "used_mb": N.N, "probe_mb": N.NNN, "left_mb": N.N|null,
 *  "used_pct": N.N|null, "warned_pct": N, "period_start": RFC 3339 UTC,
 *  "period_end": RFC 3339 UTC, "reset_day": N}
 * (null: no budget; warned_pct 0: no warning yet this period.)
 * If b has no period that contains now (not updated yet, or the month turned
 * since), the period is the one of now and used/probe are 0. Never NULL. */
struct json_object *budget_json(const struct budget *b, const struct budget_cfg *c, time_t now);

/* Persistence: budget_save adds "period_start" (epoch seconds), "used_bytes",
 * "probe_bytes" and "warned_pct" to the object into (best nested by the
 * caller, e.g. under "budget"). Returns 0, -EINVAL if into is not an object,
 * -ENODATA if b has no period yet (nothing added). */
int budget_save(const struct budget *b, struct json_object *into);
/* Restores what budget_save wrote, if its period is the one that contains now
 * for reset_day; the counter baselines are not restored (the first update
 * after it re-baselines). Returns 0; on anything else *b is left unchanged:
 * -ENOENT (from is NULL or has none of the fields), -EINVAL (a field missing,
 * of the wrong type or out of range), -ESTALE (an older or other period: its
 * bytes do not belong to this one). */
int budget_load(struct budget *b, struct json_object *from, time_t now, int reset_day);

/* Reads /sys/class/net/IFNAME/statistics/{rx,tx}_bytes. Returns 0, -EINVAL
 * for a name the kernel would not accept (empty, IFNAMSIZ or longer, ".",
 * "..", '/', ':' or white space), -EBADMSG for a file that is not a number,
 * or the -errno of open/read (-ENOENT: no such interface). */
int budget_read_counters(const char *ifname, uint64_t *rx, uint64_t *tx);

#endif
