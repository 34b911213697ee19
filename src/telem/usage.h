/* Data use of the members (docs/USER-GUIDE.md, "Data budgets"): every
 * USAGE_EVERY_S the interface byte counters of each metered member (or one
 * with data_budget_mb) go into its telem/budget.c period; a threshold of
 * data_warn_pct reached is a member/data-budget event (notifications send it
 * as data_budget). The counts are kept in <state_dir>/budget.json every
 * USAGE_SAVE_EVERY_S and at a clean stop, so a restart keeps the month's
 * figure (the state dir is on tmpfs on routers: no flash writes).
 *
 * Also the traffic proof (option traffic_proof): a metered standby member
 * whose interface received more than USAGE_PROOF_BYTES beyond its probes'
 * replies since its last probe is alive without another probe. */
#ifndef AUTONOMY_USAGE_H
#define AUTONOMY_USAGE_H

#include <stdbool.h>

#include <ev.h>

struct member;
struct json_object;

#define USAGE_EVERY_S		10
#define USAGE_SAVE_EVERY_S	300
#define USAGE_PROOF_BYTES	4096

void usage_init(struct ev_loop *loop);
void usage_fini(void);
/* A member starts being watched: its saved period comes back, if current. */
void usage_member_started(struct member *m);
/* The member's traffic proves it alive (see above); reads its counters. */
bool usage_traffic_proof(struct member *m);
/* The member's "data" object, or NULL when it has no budget and is not metered. */
struct json_object *usage_json(const struct member *m);

#endif
