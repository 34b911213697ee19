/* The cellular modem of one member, as the engine sees it: polls the radio
 * quality through the modem tools (collect/runner.c runs them, one at a time,
 * each with a timeout; collect/radio.c reads their output) and turns it into
 * what decisions need: a score penalty (weak RSRP/SINR, roaming, 2G) and a
 * risk (signal falling fast, cells changing often), plus JSON.
 *
 * Sources (docs/USER-GUIDE.md, "Cellular"): RutOS ubus (gsm.modemN), OpenWrt
 * uqmi, ModemManager mmcli; "auto" tries them in that order and keeps the
 * first that answers until it is missing or fails (exit status) for
 * CELL_FAILS_REDETECT polls in a row (one that hangs or prints garbage is
 * kept: it is still the modem's tool). The signal is read every poll;
 * registration, operator, cell and SIM every CELL_INFO_EVERY polls (uqmi
 * answers both with one call). A missing tool, a
 * timeout or output that does not parse makes the radio fields unknown (the
 * probes decide alone); each new problem is logged once.
 */
#ifndef AUTONOMY_CELL_H
#define AUTONOMY_CELL_H

#include <stdbool.h>
#include <stdint.h>

#include <ev.h>

#include "collect/radio.h"
#include "collect/runner.h"
#include "collect/trend.h"

struct json_object;

enum cell_source {
	CELL_SRC_AUTO,
	CELL_SRC_UBUS,
	CELL_SRC_UQMI,
	CELL_SRC_MMCLI,
	CELL_SRC_OFF,
	__CELL_SRC_MAX
};

#define CELL_INFO_EVERY		6
#define CELL_FAILS_REDETECT	3
#define CELL_DETECT_PAUSE_MS	60000	/* no tool answered: try again after this */
/* Risks: RSRP (RSSI without one) fell by CELL_DROP_DB within CELL_TREND_MS
 * and is below rsrp_ok now; or the serving cell changed CELL_CHANGES_RISK
 * times within CELL_CHANGES_MS. A risk ends CELL_RISK_HOLD_MS after its
 * condition. */
#define CELL_TREND_MS		60000
#define CELL_DROP_DB		10.0
#define CELL_CHANGES_N		8
#define CELL_CHANGES_MS		120000
#define CELL_CHANGES_RISK	4
#define CELL_RISK_HOLD_MS	30000
#define CELL_ROAMING_PENALTY	20.0
#define CELL_2G_PENALTY		10.0

struct cell_params {
	int64_t poll_ms;
	int64_t timeout_ms;
	double rsrp_ok, rsrp_bad;	/* dBm: no penalty at ok, 20 points at bad */
	double sinr_ok, sinr_bad;	/* dB: no penalty at ok, 15 points at bad */
};

struct cell {
	struct runner run;
	ev_timer poll;
	struct ev_loop *loop;
	const struct cell_params *p;
	bool running;
	int want;			/* enum cell_source from the config */
	int source;			/* in use; CELL_SRC_AUTO while detecting */
	int detect;			/* detecting: the source being tried */
	char modem[64];			/* "" = the source's default */
	char name[32];			/* the member's, for logs */
	bool prefer_roaming;
	bool mm_setup;			/* mmcli --signal-setup done */
	unsigned polls;
	int steps[6], nsteps, step;
	struct radio_info cur;		/* being assembled */
	struct radio_info info;		/* the last complete reading */
	int64_t info_at;		/* mono ms of it, 0 = unknown */
	int fails;			/* polls in a row without a reading */
	int last_rc;			/* of the last command (runner.h) */
	char err[128];			/* the last problem, "" if none */
	char logged[128];		/* the problem logged last */
	struct trend trend;		/* RSRP, or RSSI without one */
	int64_t changes[CELL_CHANGES_N];	/* when the serving cell changed, a ring */
	unsigned nchanges;
	char last_cell[16];
	const char *risk;		/* "predict:signal", "predict:handovers", NULL */
	int64_t risk_seen;
	char risk_why[96];
	void (*on_change)(struct cell *c);
};

void cell_start(struct cell *c, struct ev_loop *loop, const char *name, int source,
		const char *modem, bool prefer_roaming, const struct cell_params *p,
		void (*on_change)(struct cell *c));
void cell_stop(struct cell *c);

/* The last reading is recent enough to act on. */
bool cell_fresh(const struct cell *c, int64_t now);
/* Score points to take off (0..50). */
double cell_penalty(const struct cell *c, int64_t now);
/* The event reason of a risk, or NULL (why in c->risk_why). */
const char *cell_risk(const struct cell *c, int64_t now);
/* The "cellular" object of a member: whole for `members`, short otherwise. */
struct json_object *cell_json(const struct cell *c, int64_t now, bool detail);
const char *cell_source_name(int source);

#endif
