/* The member registry: the one owner of member lifetimes.
 *
 * A member is one uplink. Members are created from the configuration and kept
 * across reloads by name, so a reload never loses runtime state; a member whose
 * section disappears is freed. Pointers stay valid until the member is removed
 * (other modules embed timers in it later and recover it with container_of).
 */
#ifndef AUTONOMY_MEMBER_H
#define AUTONOMY_MEMBER_H

#include <stdbool.h>
#include <stdint.h>

#include "collect/cell.h"
#include "collect/dish.h"
#include "collect/wifimon.h"
#include "config/config.h"
#include "decide/decide.h"
#include "decide/score.h"
#include "probe/sched.h"
#include "telem/budget.h"

struct json_object;

enum mem_status {
	MEM_UNKNOWN,
	MEM_UP,
	MEM_DEGRADED,
	MEM_DOWN,
	__MEM_STATUS_MAX
};

struct member {
	struct cfg_member cfg;		/* copy of its config section */
	enum mem_class class;		/* cfg.class, or the result of classification */
	enum mem_status status;
	bool eligible;
	bool is_new;			/* added by the last mem_sync */
	bool cfg_changed;		/* its config changed in the last mem_sync */

	/* owned by the engine (decide/engine.c) */
	bool running;
	bool link_ok;
	const char *link_cause;		/* why not: "device", "carrier", "address", "route" */
	struct in_addr bound_src4;	/* the address the probe sockets are bound to */
	bool bound;
	uint64_t seen_received;
	int64_t status_since;		/* wall ms of the last status change */
	struct score_state score;	/* instant, ewma, window, final: NAN while unknown */
	double latency_ms, loss_pct, jitter_ms;	/* NAN while unknown */
	struct sched sched;
	struct dec_member dec;
	struct dish dish;		/* class starlink only */
	char dish_cause[48];		/* "dish-outage:NO_SATS" while down for it */
	bool dish_found;		/* class auto, and a dish answered through it */
	struct cell cell;		/* class cellular only */
	struct wifimon wifi;		/* class wifi only */
	struct budget budget;		/* metered or with a data budget (telem/usage.c) */
	uint64_t proof_rx, proof_probe_rx;	/* counters at the last traffic proof */
	bool proof_valid;
};

void mem_init(void);
void mem_fini(void);

/* Brings the registry in line with c: keeps members by name (updating their
 * config), adds new ones in config order, frees those that are gone (calling
 * the remove hook first, so their owner can stop timers). */
void mem_sync(const struct config *c);
void mem_set_remove_hook(void (*fn)(struct member *m));

int mem_count(void);
struct member *mem_get(int i);
struct member *mem_find(const char *name);

/* Class from the device name alone (wwan*, qmimux*, … → cellular). */
enum mem_class mem_classify(const char *device);
const char *mem_status_name(enum mem_status s);
const char *mem_class_name(enum mem_class c);

/* The member object of the API; detail adds what `members` shows. */
struct json_object *mem_to_json(const struct member *m, bool detail);

#endif
