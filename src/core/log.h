/* Logging: stderr with timestamps in the foreground, syslog otherwise.
 * The level check happens before any formatting. */
#ifndef AUTONOMY_LOG_H
#define AUTONOMY_LOG_H

#include <stdbool.h>

enum log_level {
	LOG_LVL_DEBUG,
	LOG_LVL_INFO,
	LOG_LVL_WARN,
	LOG_LVL_ERROR,
	__LOG_LVL_MAX
};

enum log_mode {
	LOG_TO_STDERR,		/* "2026-11-27T14:05:47.123Z WARN  text" */
	LOG_TO_SYSLOG,
	LOG_PLAIN,		/* "warning: text" (for --check and tools) */
};

extern enum log_level log_threshold;

void log_init(enum log_mode mode, enum log_level level);
void log_fini(void);
void log_set_level(enum log_level level);
/* Returns the level, or -1 for a name that is not one of debug/info/warn/error. */
int log_level_parse(const char *name);
const char *log_level_name(enum log_level level);

/* Tests install a hook to see messages; NULL removes it. */
typedef void (*log_hook_fn)(enum log_level level, const char *msg);
void log_set_hook(log_hook_fn fn);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_at(lvl, ...) \
	do { if ((lvl) >= log_threshold) log_msg((lvl), __VA_ARGS__); } while (0)
#define log_debug(...)	log_at(LOG_LVL_DEBUG, __VA_ARGS__)
#define log_info(...)	log_at(LOG_LVL_INFO, __VA_ARGS__)
#define log_warn(...)	log_at(LOG_LVL_WARN, __VA_ARGS__)
#define log_err(...)	log_at(LOG_LVL_ERROR, __VA_ARGS__)

#endif
