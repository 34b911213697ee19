/* Notification rules: which events become messages, and when. Pure logic on a
 * clock the caller passes in (monotonic ms and the local minute of the day), so
 * it is tested with a fake clock; nothing here sends, logs or allocates.
 *
 * An event offered with nrules_offer() is either sent at once, dropped as a
 * repeat of the last message of its type (de-duplication), or held: during its
 * type's cooldown, above the hourly cap, or in quiet hours below the quiet
 * priority. What a type holds goes out as one digest (nrules_digest) once
 * nothing holds it back any more. A digest counts like any message. */
#ifndef AUTONOMY_NOTIFY_RULES_H
#define AUTONOMY_NOTIFY_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"

/* Indexed like cfg_notify_event_names. */
enum notify_event {
	NEV_FAILOVER,
	NEV_FAILBACK,
	NEV_MEMBER_DOWN,
	NEV_MEMBER_UP,
	NEV_DISH_ALERT,
	NEV_CRASH,
	NEV_DATA_BUDGET,	/* member/data-budget events (telem/usage.c) */
	__NEV_MAX
};

#define NR_CAP_MAX	100	/* the largest notify_max_per_hour */
#define NR_LINE_LEN	160
#define NR_HELD_LINES	5	/* a digest quotes this many, then counts the rest */
#define NR_KEY_LEN	192

struct nrules_cfg {
	unsigned events;		/* bit per enum notify_event */
	int prio[__NEV_MAX];		/* enum notify_prio */
	int64_t cooldown_ms, dedup_ms;
	int max_per_hour;
	int quiet_start, quiet_end;	/* minutes of the day; -1 = no quiet hours */
	int quiet_prio;
};

struct nr_type {
	int64_t last_sent;		/* 0 = never */
	char last_key[NR_KEY_LEN];
	int held, repeats;
	int64_t first_held;
	char lines[NR_HELD_LINES][NR_LINE_LEN];
};

struct nrules {
	struct nrules_cfg cfg;
	struct nr_type t[__NEV_MAX];
	int64_t sent[NR_CAP_MAX];	/* ring of send times */
	unsigned nsent;			/* total sends; ring index = nsent % NR_CAP_MAX */
	uint64_t n_sent, n_held, n_dup, n_off;
};

enum nr_verdict {
	NR_SEND,
	NR_OFF,		/* the event type does not notify */
	NR_DUP,		/* same as the last message of its type */
	NR_COOLDOWN,	/* held: the type's cooldown runs */
	NR_CAP,		/* held: the hourly cap is reached */
	NR_QUIET,	/* held: quiet hours */
};

/* The rules from the main section (notify_*). The events option is valid by
 * the time it gets here (the config checked it). */
void nrules_cfg_from(struct nrules_cfg *rc, const struct cfg_main *m);
/* Starts empty with rc. nrules_set_cfg keeps what is held and the history. */
void nrules_init(struct nrules *r, const struct nrules_cfg *rc);
void nrules_set_cfg(struct nrules *r, const struct nrules_cfg *rc);

/* One event of type ev; key identifies the message for de-duplication (e.g.
 * "fiber->lte hard:down"), line is its one-line text (kept for the digest).
 * now is monotonic ms (> 0), minute the local minute of the day. */
enum nr_verdict nrules_offer(struct nrules *r, enum notify_event ev, const char *key,
			     const char *line, int64_t now, int minute);

/* If type ev holds something that may go out now, writes the digest text into
 * buf, counts it as sent and returns true. */
bool nrules_digest(struct nrules *r, enum notify_event ev, int64_t now, int minute,
		   char *buf, size_t size);

int nrules_prio(const struct nrules *r, enum notify_event ev);
const char *nrules_verdict_name(enum nr_verdict v);

#endif
