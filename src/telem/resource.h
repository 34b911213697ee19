/* Resource use of the daemon and of the router, from /proc and getrusage:
 * the daemon's RSS, CPU (total seconds, and % of one core over the last
 * interval), loop wakeups per second (ev_iteration); the system's CPU % (all
 * cores), memory total/available and load averages.
 *
 * res_update() reads everything and turns counters into rates over the time
 * since the previous update (the sampler calls it every second); rates are
 * unknown (NAN) until there are two readings. A /proc file that is missing or
 * reads oddly makes its values unknown, never anything else. No allocation.
 */
#ifndef AUTONOMY_RESOURCE_H
#define AUTONOMY_RESOURCE_H

#include <stdbool.h>
#include <stdint.h>

struct ev_loop;
struct json_object;

/* NAN = unknown. */
struct res_sample {
	double rss_kb;
	double cpu_pct;			/* of one core, over the last interval */
	double cpu_s;			/* user + system since start */
	double wakeups_per_s;
	double sys_cpu_pct;		/* all cores, over the last interval */
	double mem_total_kb, mem_available_kb;
	double load[3];
};

/* loop may be NULL (no wakeup counts). */
void res_init(struct ev_loop *loop);
void res_update(void);
/* The last update; one is made now if there was none. */
const struct res_sample *res_last(void);
/* The "resources" object of `info` (docs/API.md); unknown values are null. */
struct json_object *res_json(void);

/* Parsers of the /proc texts, false when the text is not what they expect. */
bool res_parse_statm(const char *text, double page_kb, double *rss_kb);
/* The first "cpu" line of /proc/stat: busy and total jiffies. */
bool res_parse_stat(const char *text, uint64_t *busy, uint64_t *total);
/* MemTotal and MemAvailable (NAN each when absent; false when neither is there). */
bool res_parse_meminfo(const char *text, double *total_kb, double *avail_kb);
bool res_parse_loadavg(const char *text, double load[3]);

#endif
