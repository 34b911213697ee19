#include "telem/series.h"
#include "core/util.h"
#include "member/member.h"
#include "telem/history.h"

/* The API's names of enum mem_status (member/member.c), by value. */
static const char *const status_names[] = { "unknown", "up", "degraded", "down" };
_Static_assert(ARRAY_SIZE(status_names) == __MEM_STATUS_MAX, "a name for every member status");

#define MEMBER_FIELDS \
	[SER_LATENCY] = { "latency_ms", 1, HIST_MIN | HIST_MAX, NULL, 0 }, \
	[SER_LOSS] = { "loss_pct", 2, HIST_MAX, NULL, 0 }, \
	[SER_JITTER] = { "jitter_ms", 1, 0, NULL, 0 }, \
	[SER_SCORE] = { "score", 1, HIST_MIN, NULL, 0 }, \
	[SER_STATUS] = { "status", 0, HIST_WORST, status_names, ARRAY_SIZE(status_names) }

static const struct hist_layout member_layout = { SER_CLASS, { MEMBER_FIELDS } };

static const struct hist_layout starlink_layout = { SER_CLASS + 3, {
	MEMBER_FIELDS,
	[SER_CLASS] = { "obstruction_pct", 2, 0, NULL, 0 },
	[SER_CLASS + 1] = { "pop_latency_ms", 1, 0, NULL, 0 },
	[SER_CLASS + 2] = { "pop_drop_pct", 2, 0, NULL, 0 },
} };

static const struct hist_layout cellular_layout = { SER_CLASS + 2, {
	MEMBER_FIELDS,
	[SER_CLASS] = { "rsrp_dbm", 0, HIST_MIN, NULL, 0 },
	[SER_CLASS + 1] = { "sinr_db", 1, HIST_MIN, NULL, 0 },
} };

static const struct hist_layout wifi_layout = { SER_CLASS + 1, {
	MEMBER_FIELDS,
	[SER_CLASS] = { "signal_dbm", 0, HIST_MIN, NULL, 0 },
} };

static const struct hist_layout system_layout = { SER_SYS_LOAD1 + 1, {
	[SER_RSS_KB] = { "rss_kb", 0, HIST_MAX, NULL, 0 },
	[SER_CPU_PCT] = { "cpu_pct", 2, HIST_MAX, NULL, 0 },
	[SER_WAKEUPS] = { "wakeups_per_s", 1, 0, NULL, 0 },
	[SER_SYS_CPU_PCT] = { "sys_cpu_pct", 1, HIST_MAX, NULL, 0 },
	[SER_SYS_MEM_AVAILABLE_MB] = { "sys_mem_available_mb", 0, HIST_MIN, NULL, 0 },
	[SER_SYS_LOAD1] = { "sys_load1", 2, 0, NULL, 0 },
} };

const struct hist_layout *series_member_layout(enum mem_class class)
{
	switch (class) {
	case MEM_CLASS_STARLINK:
		return &starlink_layout;
	case MEM_CLASS_CELLULAR:
		return &cellular_layout;
	case MEM_CLASS_WIFI:
		return &wifi_layout;
	default:
		return &member_layout;
	}
}

const struct hist_layout *series_system_layout(void)
{
	return &system_layout;
}
