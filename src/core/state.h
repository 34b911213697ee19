/* The state directory: the pid file (locked while the daemon runs, so a second
 * instance refuses to start), the control socket, and a small state file that
 * tells a restarted daemon which member was active and since when. */
#ifndef AUTONOMY_STATE_H
#define AUTONOMY_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"

struct state_saved {
	char active[CFG_NAME_LEN];	/* "" = none */
	int64_t active_since;		/* wall-clock ms, 0 = unknown */
	bool clean_stop;		/* written true only by the last save of a clean stop */
	bool crashed;			/* read at start: the previous run did not stop cleanly */
};

/* Creates dir (mode 0755) if needed, takes the pid file lock and reads the
 * state file into *saved (zeroed when there is none or it is unreadable).
 * saved->crashed tells whether the previous run left "clean_stop": false; the
 * file is then rewritten with clean_stop false until the caller saves it with
 * clean_stop true at a clean stop.
 * Returns 0, or -errno with a message logged (-EEXIST: another autonomyd runs). */
int state_init(const char *dir, struct state_saved *saved);
void state_fini(void);

/* Writes the state file atomically. Returns 0 or -errno. */
int state_save(const struct state_saved *s);

/* "<dir>/<name>" into buf. */
const char *state_path(char *buf, size_t size, const char *name);

#endif
