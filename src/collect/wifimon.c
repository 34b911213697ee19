/* A member's Wi-Fi client link: the contract is in wifimon.h. */
#include "collect/wifimon.h"
#include "core/util.h"
#include "decide/score.h"

#include <math.h>
#include <stdio.h>

#include <json-c/json.h>

static bool has_signal(const struct wifi_info *i)
{
	return i->connected && i->signal_dbm != WIFI_SIGNAL_UNKNOWN;
}

void wifimon_update(struct wifimon *w, int rc, const struct wifi_info *info, int64_t now)
{
	double hi;

	w->err = rc;
	if (rc < 0 || !has_signal(info)) {
		wifi_info_clear(&w->info);
		w->info.connected = rc == 0 && info->connected;
		w->at = 0;
		w->risk = NULL;
		return;
	}
	w->info = *info;
	w->at = now;
	trend_add(&w->trend, now, info->signal_dbm);
	hi = trend_high(&w->trend, now, WIFIMON_TREND_MS);
	if (info->signal_dbm < w->signal_ok && hi - info->signal_dbm >= WIFIMON_DROP_DB) {
		w->risk = "predict:wifi-signal";
		w->risk_seen = now;
		snprintf(w->risk_why, sizeof(w->risk_why),
			 "signal falling: %d dBm from %.0f dBm within %d s", info->signal_dbm, hi,
			 WIFIMON_TREND_MS / 1000);
	} else if (w->risk && now - w->risk_seen >= WIFIMON_HOLD_MS) {
		w->risk = NULL;
	}
}

bool wifimon_fresh(const struct wifimon *w, int64_t now)
{
	return w->at && now - w->at <= 3 * WIFIMON_POLL_MS;
}

double wifimon_penalty(const struct wifimon *w, int64_t now)
{
	if (!wifimon_fresh(w, now))
		return 0;
	return 20 * score_norm(-w->info.signal_dbm, -w->signal_ok, -w->signal_bad);
}

const char *wifimon_risk(const struct wifimon *w, int64_t now)
{
	return wifimon_fresh(w, now) ? w->risk : NULL;
}

struct json_object *wifimon_json(const struct wifimon *w, int64_t now)
{
	struct json_object *o = wifi_json(&w->info);
	const char *risk = wifimon_risk(w, now);

	json_object_object_add(o, "penalty", json_object_new_double(wifimon_penalty(w, now)));
	json_object_object_add(o, "risk", risk ? json_object_new_string(risk) : NULL);
	json_object_object_add(o, "risk_why", risk ? json_object_new_string(w->risk_why) : NULL);
	json_object_object_add(o, "error", w->err < 0 ?
			       json_object_new_string(wifi_strerror(w->err)) : NULL);
	return o;
}
