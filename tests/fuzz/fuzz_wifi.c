/* libFuzzer target: the nl80211 parsers of the Wi-Fi collector, on what the
 * kernel could send. The first byte picks the path:
 *   0  wifi_parse_family on the rest
 *   1  wifi_parse_interface on the rest
 *   2  wifi_parse_station on the rest, as one datagram
 *   3+ a whole query: the rest is datagrams, each a 16-bit little-endian
 *      length and that many bytes; the first goes to wifi_parse_interface,
 *      the others to wifi_parse_station in order while it asks for more
 * Every datagram is an exact-size, aligned heap copy, so a read past its end
 * is caught. Results must keep the promises of wifi.h: an error leaves the
 * struct as it was, values are in their ranges, strings terminated. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "collect/wifi.h"
#include "core/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define IFINDEX	7

static void check_info(const struct wifi_info *wi)
{
	size_t n = strnlen(wi->ssid, sizeof(wi->ssid));
	struct json_object *o;

	if (n == sizeof(wi->ssid) || strnlen(wi->bssid, sizeof(wi->bssid)) == sizeof(wi->bssid))
		abort();
	for (size_t i = 0; i < n; i++)
		if (wi->ssid[i] < 0x20 || wi->ssid[i] > 0x7e)
			abort();
	if (wi->bssid[0] && (strlen(wi->bssid) != 17 || !(wi->have & WIFI_HAVE_BSSID)))
		abort();
	for (size_t i = 0; wi->bssid[i]; i++)
		if (i % 3 == 2 ? wi->bssid[i] != ':' : !strchr("0123456789abcdef", wi->bssid[i]))
			abort();
	if ((wi->have & WIFI_HAVE_SIGNAL) ? wi->signal_dbm < -128 || wi->signal_dbm > -1 :
					    wi->signal_dbm != WIFI_SIGNAL_UNKNOWN)
		abort();
	if ((wi->have & WIFI_HAVE_SIGNAL_AVG) ? wi->signal_avg_dbm < -128 || wi->signal_avg_dbm > -1 :
						wi->signal_avg_dbm != WIFI_SIGNAL_UNKNOWN)
		abort();
	if (!(wi->have & WIFI_HAVE_TX_BITRATE) != !wi->tx_bitrate_kbps ||
	    !(wi->have & WIFI_HAVE_RX_BITRATE) != !wi->rx_bitrate_kbps)
		abort();
	if (wi->tx_bitrate_kbps % 100 && wi->tx_bitrate_kbps != UINT32_MAX)
		abort();
	if ((!(wi->have & WIFI_HAVE_FREQ) && wi->freq_mhz) ||
	    (!(wi->have & WIFI_HAVE_SSID) && wi->ssid[0]) ||
	    (!(wi->have & WIFI_HAVE_BSSID) && wi->bssid[0]) ||
	    (!(wi->have & WIFI_HAVE_TX_RETRIES) && wi->tx_retries) ||
	    (!(wi->have & WIFI_HAVE_TX_FAILED) && wi->tx_failed) ||
	    (!(wi->have & WIFI_HAVE_INACTIVE) && wi->inactive_ms) ||
	    (wi->connected && !(wi->have & WIFI_HAVE_BSSID)))
		abort();
	o = wifi_json(wi);
	if (!o)
		abort();
	json_object_put(o);
}

static bool same(const struct wifi_info *a, const struct wifi_info *b)
{
	return a->connected == b->connected && a->signal_dbm == b->signal_dbm &&
	       a->signal_avg_dbm == b->signal_avg_dbm && a->tx_bitrate_kbps == b->tx_bitrate_kbps &&
	       a->rx_bitrate_kbps == b->rx_bitrate_kbps && a->tx_retries == b->tx_retries &&
	       a->tx_failed == b->tx_failed && a->inactive_ms == b->inactive_ms &&
	       a->freq_mhz == b->freq_mhz && !strcmp(a->ssid, b->ssid) &&
	       !strcmp(a->bssid, b->bssid) && a->have == b->have;
}

static void check_err(int err, bool more_ok)
{
	if (err > 0 ? !(more_ok && err == WIFI_PARSE_MORE) : err < -4095)
		abort();
}

/* Parses one datagram with the parser picked; returns its result. */
static int parse(int which, const uint8_t *p, size_t len, struct wifi_info *wi)
{
	struct wifi_info before = *wi;
	void *copy = malloc(len ? len : 1);
	uint16_t id = 1;
	int err;

	memcpy(copy, p, len);
	switch (which) {
	case 0:
		err = wifi_parse_family(copy, len, &id);
		check_err(err, false);
		if (err ? id != 0 : id < 0x10)
			abort();
		break;
	case 1:
		err = wifi_parse_interface(copy, len, IFINDEX, wi);
		check_err(err, false);
		break;
	default:
		err = wifi_parse_station(copy, len, IFINDEX, wi);
		check_err(err, true);
		break;
	}
	free(copy);
	if (err < 0 && err != -EOPNOTSUPP && !same(&before, wi))
		abort();
	check_info(wi);
	return err;
}

static void query(const uint8_t *p, size_t len, struct wifi_info *wi)
{
	int which = 1, err;

	while (len >= 2) {
		size_t n = (size_t)p[0] | (size_t)p[1] << 8;

		p += 2;
		len -= 2;
		if (n > len)
			n = len;
		err = parse(which, p, n, wi);
		p += n;
		len -= n;
		if (which == 1 ? err && err != -EOPNOTSUPP : err != WIFI_PARSE_MORE)
			return;
		which = 2;
	}
}

static void quiet(enum log_level level, const char *msg)
{
	(void)level;
	(void)msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	struct wifi_info wi;

	if (!size)
		return 0;
	if (!init) {
		log_set_hook(quiet);
		log_set_level(LOG_LVL_DEBUG);
		init = true;
	}
	wifi_info_clear(&wi);
	if (data[0] < 3)
		parse(data[0], data + 1, size - 1, &wi);
	else
		query(data + 1, size - 1, &wi);
	return 0;
}
