/* What the daemon records in the history store: the fields of a member's
 * series (by class) and of the "system" series, and their order, which the
 * sampler fills. A layout never changes at run time; changing one here keeps
 * old snapshots usable as far as field names, decimals and aggregates match
 * (telem/history.h). Depends on nothing but the store's types, so tools that
 * write snapshots link it alone. */
#ifndef AUTONOMY_SERIES_H
#define AUTONOMY_SERIES_H

#include "config/config.h"

struct hist_layout;

/* Member series: latency min/avg/max (0.1 ms), loss avg/max (0.01 %), jitter
 * avg (0.1 ms), final score min/avg (0.1), worst status; then per class:
 * starlink: obstruction_pct, pop_latency_ms, pop_drop_pct (avg). */
enum series_member_field {
	SER_LATENCY,
	SER_LOSS,
	SER_JITTER,
	SER_SCORE,
	SER_STATUS,
	SER_CLASS,		/* the first class field */
};

/* System series: the daemon's RSS (kB; avg/max), CPU % of one core (avg/max),
 * loop wakeups per second; the router's CPU % of all cores (avg/max),
 * available memory (MB: kB would not fit 16 bits; min/avg) and load1. */
enum series_system_field {
	SER_RSS_KB,
	SER_CPU_PCT,
	SER_WAKEUPS,
	SER_SYS_CPU_PCT,
	SER_SYS_MEM_AVAILABLE_MB,
	SER_SYS_LOAD1,
};

const struct hist_layout *series_member_layout(enum mem_class class);
const struct hist_layout *series_system_layout(void);

#endif
