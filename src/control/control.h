/* Controllers make the chosen member carry the default traffic (DESIGN.md §7).
 * One small interface; the engine calls ctl_apply() with a ranking whenever
 * the choice changes or the kernel's routes changed under it. */
#ifndef AUTONOMY_CONTROL_H
#define AUTONOMY_CONTROL_H

#include <stdbool.h>
#include <stdint.h>

/* One member as the controller sees it, best first in a ranking. */
struct ctl_member {
	const char *name;
	const char *device;
	int weight;		/* configured preference (mwan3: who may stay online) */
	int state;		/* CTL_UP, CTL_DOWN, or CTL_UNKNOWN (not measured, disabled) */
};

enum { CTL_UNKNOWN, CTL_UP, CTL_DOWN };

struct ctl_ops {
	const char *name;			/* "route", "none", "mwan3" */
	uint32_t probe_mark;			/* SO_MARK for probes of members without a mark */
	/* Moving traffic moves open connections too, which then hang on the old
	 * member's address unless their conntrack entries go (control/conntrack.h).
	 * mwan3 keeps them on their member and flushes by itself. */
	bool moves_connections;
	int (*init)(uint32_t metric_base);	/* 0 or -errno */
	void (*fini)(void);			/* restore what init found */
	/* ranking[0] is the member that must carry default traffic; the others
	 * follow in order of preference. Idempotent: applying the same ranking
	 * twice changes nothing. Members without a default route are skipped.
	 * Returns 0, or -errno with a message logged. */
	int (*apply)(const struct ctl_member *ranking, int n);
};

extern const struct ctl_ops ctl_route_ops;
extern const struct ctl_ops ctl_none_ops;
extern const struct ctl_ops ctl_mwan3_ops;

#endif
