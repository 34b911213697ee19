#include "core/log.h"
#include "core/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

enum log_level log_threshold = LOG_LVL_INFO;
static enum log_mode log_mode = LOG_TO_STDERR;
static log_hook_fn log_hook;

static const char *const level_names[__LOG_LVL_MAX] = {
	[LOG_LVL_DEBUG] = "debug",
	[LOG_LVL_INFO] = "info",
	[LOG_LVL_WARN] = "warn",
	[LOG_LVL_ERROR] = "error",
};

void log_init(enum log_mode mode, enum log_level level)
{
	log_mode = mode;
	log_threshold = level;
	if (mode == LOG_TO_SYSLOG)
		openlog("autonomyd", LOG_PID, LOG_DAEMON);
}

void log_fini(void)
{
	if (log_mode == LOG_TO_SYSLOG)
		closelog();
	log_mode = LOG_TO_STDERR;
}

void log_set_level(enum log_level level)
{
	if (level < __LOG_LVL_MAX)
		log_threshold = level;
}

int log_level_parse(const char *name)
{
	for (int i = 0; i < __LOG_LVL_MAX; i++)
		if (!strcmp(name, level_names[i]))
			return i;
	if (!strcmp(name, "warning"))
		return LOG_LVL_WARN;
	return -1;
}

const char *log_level_name(enum log_level level)
{
	return level < __LOG_LVL_MAX ? level_names[level] : "?";
}

void log_set_hook(log_hook_fn fn)
{
	log_hook = fn;
}

static void log_stderr(enum log_level level, const char *msg)
{
	static const char *const tags[__LOG_LVL_MAX] = { "DEBUG", "INFO ", "WARN ", "ERROR" };
	int64_t now = wall_ms();
	char ts[RFC3339_LEN];

	fmt_rfc3339(ts, now);
	ts[19] = '\0';	/* drop the Z: milliseconds follow */
	fprintf(stderr, "%s.%03dZ %s %s\n", ts, (int)(now % 1000), tags[level], msg);
}

static void log_plain(enum log_level level, const char *msg)
{
	static const char *const tags[__LOG_LVL_MAX] = { "debug: ", "", "warning: ", "error: " };

	fprintf(stderr, "%s%s\n", tags[level], msg);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const int prio[__LOG_LVL_MAX] = { LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR };
	char msg[1024];
	va_list ap;

	if (level >= __LOG_LVL_MAX || level < log_threshold)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	if (log_hook) {
		log_hook(level, msg);
		return;
	}
	switch (log_mode) {
	case LOG_TO_SYSLOG:
		syslog(prio[level], "%s", msg);
		break;
	case LOG_PLAIN:
		log_plain(level, msg);
		break;
	default:
		log_stderr(level, msg);
		break;
	}
}
