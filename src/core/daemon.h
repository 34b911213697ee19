/* What the whole daemon shares: the loop, the running configuration and where
 * it came from, start time, and the persisted active member. autonomyd.c owns
 * the start-up order; this module owns reloading. */
#ifndef AUTONOMY_DAEMON_H
#define AUTONOMY_DAEMON_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "core/state.h"

struct ev_loop;

struct daemon_ctx {
	struct ev_loop *loop;
	char cfg_path[PATH_MAX];
	struct config cfg;		/* the running configuration */
	int64_t cfg_loaded;		/* wall ms when it was loaded */
	char cfg_error[CFG_ERR_LEN];	/* why the last reload was refused, "" if it was not */
	char state_dir[CFG_PATH_LEN];	/* in use (state_dir changes need a restart) */
	int64_t started_wall, started_mono;
	struct state_saved saved;	/* active member and since; persisted */
	bool engine;			/* the decision engine runs */
};

extern struct daemon_ctx daemon_ctx;

/* Makes c the running configuration (it must have loaded without errors). */
void daemon_apply(const struct config *c);

/* Re-reads cfg_path: applies it, or keeps the running configuration and records
 * why in cfg_error. Returns 0 or -1. */
int daemon_reload(void);

#endif
