/* Cellular radio quality from the modem tools' output (pure parsing; running
 * the tools is collect/cell.c's job).
 *
 * Three sources, each a few commands whose output is merged into one
 * struct radio_info (docs/USER-GUIDE.md, "Cellular"):
 *   RADIO_Q_UQMI	  uqmi -s -d DEV --get-signal-info --get-serving-system
 *			  (one JSON value per line: the signal object, or an array
 *			  of them with EN-DC, and the serving system object)
 *   RADIO_Q_MM_SIGNAL	  mmcli -m M --signal-get -J
 *   RADIO_Q_MM_MODEM	  mmcli -m M -J
 *   RADIO_Q_UBUS_*	  ubus call gsm.modemN get_signal_query | get_network_info |
 *			  get_service_provider | get_net_reg_stat_all | get_sim_slot
 * A parser only sets the fields its output holds and leaves the others as
 * they are, so a poll merges every answer; a signal answer that holds anything
 * sets the whole signal group (tech and every value, unknown where it says
 * nothing), and the technology a modem/network answer names only fills in a
 * tech the signal left unknown. Values out of their plausible range (or "--",
 * NaN, not numbers) are unknown, not errors. Bad output (not JSON, the wrong
 * shape, over 64 KiB) returns -1 with a short reason and leaves r untouched.
 */
#ifndef AUTONOMY_RADIO_H
#define AUTONOMY_RADIO_H

#include <stdbool.h>
#include <stddef.h>

enum radio_tech {
	RADIO_TECH_UNKNOWN,
	RADIO_TECH_2G,
	RADIO_TECH_3G,
	RADIO_TECH_LTE,
	RADIO_TECH_5G_NSA,	/* LTE anchor + NR (EN-DC) */
	RADIO_TECH_5G_SA,
	__RADIO_TECH_MAX
};

enum radio_query {
	RADIO_Q_UQMI,
	RADIO_Q_MM_SIGNAL,
	RADIO_Q_MM_MODEM,
	RADIO_Q_UBUS_SIGNAL,
	RADIO_Q_UBUS_NETWORK,
	RADIO_Q_UBUS_PROVIDER,
	RADIO_Q_UBUS_REGSTAT,
	RADIO_Q_UBUS_SIMSLOT,
	__RADIO_Q_MAX
};

#define RADIO_ERR_LEN	96

/* NAN / "" / -1 / 0 mean unknown, as each field says. With 5G NSA the main
 * fields are the LTE anchor's and nr_* the NR leg's; with 5G SA the main
 * fields are NR's. */
struct radio_info {
	enum radio_tech tech;
	double rssi;		/* dBm, NAN unknown */
	double rsrp;		/* dBm (RSCP for 3G), NAN unknown */
	double rsrq;		/* dB (Ec/Io for 3G), NAN unknown */
	double sinr;		/* dB (SNR), NAN unknown */
	double nr_rsrp, nr_rsrq, nr_sinr;
	char operator_name[48];	/* "" unknown */
	char mccmnc[8];		/* "24602", "" unknown */
	char cell_id[16];	/* as the tool prints it (decimal or hex), "" unknown */
	char band[12];		/* "B3", "n78", "" unknown */
	int roaming;		/* 1 roaming, 0 home, -1 unknown */
	int registered;		/* 1 registered (home or roaming), 0 not, -1 unknown */
	int sim_slot;		/* 1.., 0 unknown */
};

void radio_clear(struct radio_info *r);
/* Merges the output of query q into r: 0, or -1 and a reason in err. */
int radio_parse(enum radio_query q, const char *text, size_t len, struct radio_info *r,
		char *err, size_t errlen);
const char *radio_tech_name(enum radio_tech t);	/* "lte", "5g-nsa", … "unknown" */
const char *radio_query_name(enum radio_query q);	/* for logs: "uqmi", "mmcli signal", … */

#endif
