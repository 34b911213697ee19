/* The Wi-Fi client link of one member, as the engine sees it: the last
 * nl80211 station reading (collect/wifi.c; the engine polls every
 * WIFIMON_POLL_MS, a kernel round trip, no tools), a score penalty for a weak
 * signal and a risk when the signal falls fast.
 *
 *	penalty = 20 * norm(-signal, -signal_ok, -signal_bad)	(0..20 points)
 *	risk "predict:wifi-signal": the signal fell by WIFIMON_DROP_DB within
 *	WIFIMON_TREND_MS and is below signal_ok now; it ends WIFIMON_HOLD_MS
 *	after that stops being true.
 * An interface that is not associated, or a machine without nl80211, leaves
 * the fields unknown (no penalty): the probes decide. */
#ifndef AUTONOMY_WIFIMON_H
#define AUTONOMY_WIFIMON_H

#include <stdbool.h>
#include <stdint.h>

#include "collect/trend.h"
#include "collect/wifi.h"

struct json_object;

#define WIFIMON_POLL_MS		2000
#define WIFIMON_TREND_MS	30000
#define WIFIMON_DROP_DB		10
#define WIFIMON_HOLD_MS		30000

struct wifimon {
	struct wifi_info info;
	int err;			/* of the last query, 0 = none */
	int64_t at;			/* mono ms of the last good reading, 0 = none */
	struct trend trend;		/* signal, dBm */
	const char *risk;
	int64_t risk_seen;
	char risk_why[96];
	int signal_ok, signal_bad;	/* dBm */
};

/* One reading: rc and info as wifi_query() gave them. */
void wifimon_update(struct wifimon *w, int rc, const struct wifi_info *info, int64_t now);
bool wifimon_fresh(const struct wifimon *w, int64_t now);
double wifimon_penalty(const struct wifimon *w, int64_t now);
const char *wifimon_risk(const struct wifimon *w, int64_t now);
struct json_object *wifimon_json(const struct wifimon *w, int64_t now);

#endif
