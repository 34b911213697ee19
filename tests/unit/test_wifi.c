/* The Wi-Fi station collector: the nl80211 parsers on messages built the way
 * the kernel builds them (nl80211_send_station, nl80211_send_iface, the
 * generic netlink controller), malformed variants of them, every truncation
 * and random corruption (seed printed), and the socket side on this machine
 * (which may have no nl80211 at all): request/answer matching is tested
 * against the kernel's generic netlink controller, which every kernel has.
 * Includes wifi.c to reach the socket helpers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/nl80211.h>

#include "../../src/collect/wifi.c"

#define FAMILY		0x1c	/* what nl80211 typically gets */
#define IFINDEX		7
#define SEQ		1234
#define PORTID		4321

static const uint8_t ap_mac[6] = { 0x02, 0xAB, 0xcd, 0x00, 0x12, 0xfe };
static const uint8_t tdls_mac[6] = { 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f };

/* ---- a datagram under construction ---- */

struct dgram {
	char buf[8192] __attribute__((aligned(8)));
	size_t len;
};

static struct nlmsghdr *begin(struct dgram *d, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(d->buf + d->len);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = SEQ;
	nlh->nlmsg_pid = PORTID;
	return nlh;
}

static struct nlmsghdr *begin_genl(struct dgram *d, uint16_t type, uint16_t flags, uint8_t cmd)
{
	struct nlmsghdr *nlh = begin(d, type, flags);
	struct genlmsghdr *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));

	g->cmd = cmd;
	g->version = 1;
	return nlh;
}

static void end(struct dgram *d, struct nlmsghdr *nlh)
{
	d->len += NLMSG_ALIGN(nlh->nlmsg_len);
}

static void put_done(struct dgram *d, int err)
{
	struct nlmsghdr *nlh = begin(d, NLMSG_DONE, NLM_F_MULTI);
	int *e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));

	*e = err;
	end(d, nlh);
}

static void put_error(struct dgram *d, int err)
{
	struct nlmsghdr *nlh = begin(d, NLMSG_ERROR, 0);
	struct nlmsgerr *e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));

	e->error = err;
	e->msg.nlmsg_type = FAMILY;
	e->msg.nlmsg_len = 28;
	end(d, nlh);
}

static void put_rate(struct nlmsghdr *nlh, uint16_t type, uint32_t bitrate32, uint16_t bitrate)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, type);

	if (bitrate)
		mnl_attr_put_u16(nlh, NL80211_RATE_INFO_BITRATE, bitrate);
	if (bitrate32)
		mnl_attr_put_u32(nlh, NL80211_RATE_INFO_BITRATE32, bitrate32);
	mnl_attr_put_u8(nlh, NL80211_RATE_INFO_MCS, 9);
	mnl_attr_put(nlh, NL80211_RATE_INFO_SHORT_GI, 0, NULL);
	mnl_attr_put_u8(nlh, NL80211_RATE_INFO_VHT_NSS, 2);
	mnl_attr_nest_end(nlh, nest);
}

static void put_flags(struct nlmsghdr *nlh, uint32_t mask, uint32_t set)
{
	struct nl80211_sta_flag_update f = { .mask = mask, .set = set };

	mnl_attr_put(nlh, NL80211_STA_INFO_STA_FLAGS, sizeof(f), &f);
}

#define F(x)		(1u << NL80211_STA_FLAG_##x)
/* What mac80211 reports for an AP we are associated with. */
#define MAC80211_MASK	(F(AUTHORIZED) | F(SHORT_PREAMBLE) | F(WME) | F(MFP) | \
			 F(AUTHENTICATED) | F(ASSOCIATED) | F(TDLS_PEER))
#define UP		(F(AUTHORIZED) | F(WME) | F(AUTHENTICATED) | F(ASSOCIATED))

struct sta {
	const uint8_t *mac;
	int ifindex;
	int8_t signal, signal_avg;
	bool no_signal;
	uint32_t tx32, rx32;
	uint16_t tx16, rx16;
	uint32_t flags_mask, flags_set;
	bool no_flags;
};

/* One NL80211_CMD_NEW_STATION message as nl80211_send_station() lays it out. */
static struct nlmsghdr *put_station(struct dgram *d, const struct sta *s)
{
	struct nlmsghdr *nlh = begin_genl(d, FAMILY, NLM_F_MULTI, NL80211_CMD_NEW_STATION);
	struct nlattr *info, *bss;

	mnl_attr_put_u32(nlh, NL80211_ATTR_IFINDEX, s->ifindex ? (uint32_t)s->ifindex : IFINDEX);
	mnl_attr_put(nlh, NL80211_ATTR_MAC, 6, s->mac ? s->mac : ap_mac);
	mnl_attr_put_u32(nlh, NL80211_ATTR_GENERATION, 42);
	info = mnl_attr_nest_start(nlh, NL80211_ATTR_STA_INFO);
	mnl_attr_put_u32(nlh, NL80211_STA_INFO_INACTIVE_TIME, 120);
	mnl_attr_put_u32(nlh, NL80211_STA_INFO_RX_BYTES, 1000000);
	mnl_attr_put_u32(nlh, NL80211_STA_INFO_TX_BYTES, 200000);
	mnl_attr_put_u64(nlh, NL80211_STA_INFO_RX_BYTES64, 1000000);
	mnl_attr_put_u32(nlh, NL80211_STA_INFO_RX_PACKETS, 900);
	mnl_attr_put_u32(nlh, NL80211_STA_INFO_TX_PACKETS, 800);
	mnl_attr_put_u32(nlh, NL80211_STA_INFO_TX_RETRIES, 77);
	mnl_attr_put_u32(nlh, NL80211_STA_INFO_TX_FAILED, 3);
	if (!s->no_signal) {
		mnl_attr_put_u8(nlh, NL80211_STA_INFO_SIGNAL, (uint8_t)s->signal);
		mnl_attr_put_u8(nlh, NL80211_STA_INFO_SIGNAL_AVG, (uint8_t)s->signal_avg);
	}
	put_rate(nlh, NL80211_STA_INFO_TX_BITRATE, s->tx32, s->tx16);
	put_rate(nlh, NL80211_STA_INFO_RX_BITRATE, s->rx32, s->rx16);
	if (!s->no_flags)
		put_flags(nlh, s->flags_mask, s->flags_set);
	bss = mnl_attr_nest_start(nlh, NL80211_STA_INFO_BSS_PARAM);
	mnl_attr_put_u8(nlh, NL80211_STA_BSS_PARAM_DTIM_PERIOD, 1);
	mnl_attr_put_u16(nlh, NL80211_STA_BSS_PARAM_BEACON_INTERVAL, 100);
	mnl_attr_nest_end(nlh, bss);
	mnl_attr_put_u32(nlh, NL80211_STA_INFO_CONNECTED_TIME, 3600);
	mnl_attr_nest_end(nlh, info);
	end(d, nlh);
	return nlh;
}

static const struct sta good = {
	.signal = -52, .signal_avg = -55, .tx32 = 8667, .tx16 = 8667, .rx16 = 6500,
	.flags_mask = MAC80211_MASK, .flags_set = UP,
};

/* An NL80211_CMD_NEW_INTERFACE answer as nl80211_send_iface() lays it out. */
static void put_iface(struct dgram *d, uint32_t iftype, const char *ssid, size_t ssid_len,
		      uint32_t freq)
{
	struct nlmsghdr *nlh = begin_genl(d, FAMILY, 0, NL80211_CMD_NEW_INTERFACE);

	mnl_attr_put_u32(nlh, NL80211_ATTR_IFINDEX, IFINDEX);
	mnl_attr_put_strz(nlh, NL80211_ATTR_IFNAME, "wlan0");
	mnl_attr_put_u32(nlh, NL80211_ATTR_IFTYPE, iftype);
	mnl_attr_put_u32(nlh, NL80211_ATTR_WIPHY, 0);
	mnl_attr_put_u64(nlh, NL80211_ATTR_WDEV, 1);
	mnl_attr_put(nlh, NL80211_ATTR_MAC, 6, tdls_mac);
	mnl_attr_put_u32(nlh, NL80211_ATTR_GENERATION, 5);
	mnl_attr_put_u8(nlh, NL80211_ATTR_4ADDR, 0);
	if (freq) {
		mnl_attr_put_u32(nlh, NL80211_ATTR_WIPHY_FREQ, freq);
		mnl_attr_put_u32(nlh, NL80211_ATTR_WIPHY_FREQ_OFFSET, 0);
		mnl_attr_put_u32(nlh, NL80211_ATTR_CHANNEL_WIDTH, NL80211_CHAN_WIDTH_80);
		mnl_attr_put_u32(nlh, NL80211_ATTR_CENTER_FREQ1, freq + 30);
	}
	mnl_attr_put_u32(nlh, NL80211_ATTR_WIPHY_TX_POWER_LEVEL, 2000);
	if (ssid)
		mnl_attr_put(nlh, NL80211_ATTR_SSID, ssid_len, ssid);
	end(d, nlh);
}

static int parse_sta(const struct dgram *d, struct wifi_info *wi)
{
	wifi_info_clear(wi);
	return wifi_parse_station(d->buf, d->len, IFINDEX, wi);
}

/* ---- stations ---- */

static void test_station_full(void **state)
{
	struct dgram d = { .len = 0 };
	struct wifi_info wi;

	(void)state;
	put_station(&d, &good);
	put_done(&d, 0);
	assert_int_equal(parse_sta(&d, &wi), 0);
	assert_true(wi.connected);
	assert_int_equal(wi.signal_dbm, -52);
	assert_int_equal(wi.signal_avg_dbm, -55);
	assert_int_equal(wi.tx_bitrate_kbps, 866700);	/* BITRATE32 wins over BITRATE */
	assert_int_equal(wi.rx_bitrate_kbps, 650000);	/* BITRATE (u16) alone */
	assert_int_equal(wi.tx_retries, 77);
	assert_int_equal(wi.tx_failed, 3);
	assert_int_equal(wi.inactive_ms, 120);
	assert_string_equal(wi.bssid, "02:ab:cd:00:12:fe");
	assert_int_equal(wi.have, WIFI_HAVE_SIGNAL | WIFI_HAVE_SIGNAL_AVG | WIFI_HAVE_TX_BITRATE |
			 WIFI_HAVE_RX_BITRATE | WIFI_HAVE_TX_RETRIES | WIFI_HAVE_TX_FAILED |
			 WIFI_HAVE_INACTIVE | WIFI_HAVE_BSSID);
	/* the interface's fields are not the station parser's */
	assert_int_equal(wi.freq_mhz, 0);
	assert_string_equal(wi.ssid, "");
}

static void test_station_multipart(void **state)
{
	struct dgram d1 = { .len = 0 }, d2 = { .len = 0 };
	struct wifi_info wi;

	(void)state;
	put_station(&d1, &good);
	put_done(&d2, 0);
	wifi_info_clear(&wi);
	assert_int_equal(wifi_parse_station(d1.buf, d1.len, IFINDEX, &wi), WIFI_PARSE_MORE);
	assert_true(wi.connected);
	assert_int_equal(wifi_parse_station(d2.buf, d2.len, IFINDEX, &wi), 0);
	assert_true(wi.connected);
	assert_int_equal(wi.signal_dbm, -52);
	assert_string_equal(wi.bssid, "02:ab:cd:00:12:fe");
}

static void test_station_none(void **state)
{
	struct dgram d = { .len = 0 };
	struct wifi_info wi;

	(void)state;
	put_done(&d, 0);
	assert_int_equal(parse_sta(&d, &wi), 0);
	assert_false(wi.connected);
	assert_int_equal(wi.signal_dbm, WIFI_SIGNAL_UNKNOWN);
	assert_int_equal(wi.signal_avg_dbm, WIFI_SIGNAL_UNKNOWN);
	assert_int_equal(wi.tx_bitrate_kbps, 0);
	assert_string_equal(wi.bssid, "");
	assert_int_equal(wi.have, 0);
	/* an empty datagram: nothing yet */
	assert_int_equal(wifi_parse_station(d.buf, 0, IFINDEX, &wi), WIFI_PARSE_MORE);
}

static void test_station_flags(void **state)
{
	struct dgram d = { .len = 0 };
	struct sta s = good;
	struct wifi_info wi;

	(void)state;
	/* authenticated, associated, but the WPA handshake is not done */
	s.flags_set = F(AUTHENTICATED) | F(ASSOCIATED);
	put_station(&d, &s);
	put_done(&d, 0);
	assert_int_equal(parse_sta(&d, &wi), 0);
	assert_false(wi.connected);
	assert_string_equal(wi.bssid, "02:ab:cd:00:12:fe");
	assert_int_equal(wi.signal_dbm, -52);

	/* a driver that reports no flags: the entry is the link */
	d.len = 0;
	s.no_flags = true;
	put_station(&d, &s);
	put_done(&d, 0);
	assert_int_equal(parse_sta(&d, &wi), 0);
	assert_true(wi.connected);

	/* a driver that knows only AUTHORIZED */
	d.len = 0;
	s.no_flags = false;
	s.flags_mask = F(AUTHORIZED);
	s.flags_set = F(AUTHORIZED);
	put_station(&d, &s);
	put_done(&d, 0);
	assert_int_equal(parse_sta(&d, &wi), 0);
	assert_true(wi.connected);
}

static void test_station_tdls_peer(void **state)
{
	struct dgram d = { .len = 0 };
	struct sta tdls = good, second = good;
	struct wifi_info wi;

	(void)state;
	tdls.mac = tdls_mac;
	tdls.signal = -30;
	tdls.flags_set = UP | F(TDLS_PEER);
	second.mac = tdls_mac;
	second.signal = -90;
	put_station(&d, &tdls);
	put_station(&d, &good);
	put_station(&d, &second);	/* a second AP entry cannot be: the first one counts */
	put_done(&d, 0);
	assert_int_equal(parse_sta(&d, &wi), 0);
	assert_true(wi.connected);
	assert_string_equal(wi.bssid, "02:ab:cd:00:12:fe");
	assert_int_equal(wi.signal_dbm, -52);
}

static void test_station_signal_extremes(void **state)
{
	static const struct {
		int8_t raw;
		int want;
	} cases[] = {
		{ -128, -128 }, { -127, -127 }, { -1, -1 }, { -95, -95 },
		{ 0, WIFI_SIGNAL_UNKNOWN }, { 1, WIFI_SIGNAL_UNKNOWN }, { 127, WIFI_SIGNAL_UNKNOWN },
	};
	struct dgram d;
	struct sta s = good;
	struct wifi_info wi;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		d.len = 0;
		s.signal = cases[i].raw;
		s.signal_avg = cases[i].raw;
		put_station(&d, &s);
		put_done(&d, 0);
		assert_int_equal(parse_sta(&d, &wi), 0);
		assert_int_equal(wi.signal_dbm, cases[i].want);
		assert_int_equal(wi.signal_avg_dbm, cases[i].want);
		assert_int_equal(!!(wi.have & WIFI_HAVE_SIGNAL), cases[i].want != WIFI_SIGNAL_UNKNOWN);
		assert_true(wi.connected);
	}
	/* no signal reported at all */
	d.len = 0;
	s.no_signal = true;
	put_station(&d, &s);
	put_done(&d, 0);
	assert_int_equal(parse_sta(&d, &wi), 0);
	assert_int_equal(wi.signal_dbm, WIFI_SIGNAL_UNKNOWN);
	assert_false(wi.have & (WIFI_HAVE_SIGNAL | WIFI_HAVE_SIGNAL_AVG));
}

static void test_station_bitrates(void **state)
{
	struct dgram d = { .len = 0 };
	struct sta s = good;
	struct wifi_info wi;

	(void)state;
	s.tx32 = UINT32_MAX;	/* saturates instead of wrapping */
	s.tx16 = 0;
	s.rx32 = 0;
	s.rx16 = 0;		/* a rate nest without a bitrate: unknown */
	put_station(&d, &s);
	put_done(&d, 0);
	assert_int_equal(parse_sta(&d, &wi), 0);
	assert_int_equal(wi.tx_bitrate_kbps, UINT32_MAX);
	assert_int_equal(wi.rx_bitrate_kbps, 0);
	assert_false(wi.have & WIFI_HAVE_RX_BITRATE);
	assert_true(wi.have & WIFI_HAVE_TX_BITRATE);

	d.len = 0;
	s.tx32 = UINT32_MAX / 100;	/* the largest that fits */
	put_station(&d, &s);
	put_done(&d, 0);
	assert_int_equal(parse_sta(&d, &wi), 0);
	assert_int_equal(wi.tx_bitrate_kbps, UINT32_MAX / 100 * 100);
}

static void test_station_kernel_errors(void **state)
{
	struct dgram d = { .len = 0 };
	struct wifi_info wi;

	(void)state;
	put_error(&d, -ENODEV);
	assert_int_equal(parse_sta(&d, &wi), -ENODEV);
	d.len = 0;
	put_done(&d, -EOPNOTSUPP);
	assert_int_equal(parse_sta(&d, &wi), -EOPNOTSUPP);
	d.len = 0;
	put_error(&d, 5);		/* not an errno */
	assert_int_equal(parse_sta(&d, &wi), -EBADMSG);
	d.len = 0;
	put_error(&d, INT_MIN);
	assert_int_equal(parse_sta(&d, &wi), -EBADMSG);
	d.len = 0;
	put_error(&d, 0);		/* an acknowledgement: the dump goes on */
	assert_int_equal(parse_sta(&d, &wi), WIFI_PARSE_MORE);
	/* interrupted dump */
	d.len = 0;
	put_station(&d, &good)->nlmsg_flags |= NLM_F_DUMP_INTR;
	put_done(&d, 0);
	assert_int_equal(parse_sta(&d, &wi), -EINTR);
	assert_false(wi.connected);
	/* NLMSG_OVERRUN */
	d.len = 0;
	end(&d, begin(&d, NLMSG_OVERRUN, 0));
	assert_int_equal(parse_sta(&d, &wi), -EBADMSG);
}

/* ---- malformed stations ---- */

/* A station message whose STA_INFO holds only the given attribute. */
static size_t put_bad_info(struct dgram *d, uint16_t type, const void *data, size_t len)
{
	struct nlmsghdr *nlh = begin_genl(d, FAMILY, NLM_F_MULTI, NL80211_CMD_NEW_STATION);
	struct nlattr *info;

	mnl_attr_put_u32(nlh, NL80211_ATTR_IFINDEX, IFINDEX);
	mnl_attr_put(nlh, NL80211_ATTR_MAC, 6, ap_mac);
	info = mnl_attr_nest_start(nlh, NL80211_ATTR_STA_INFO);
	mnl_attr_put(nlh, type, len, data);
	mnl_attr_nest_end(nlh, info);
	end(d, nlh);
	return (size_t)((char *)info - (char *)nlh);
}

static void test_station_bad_lengths(void **state)
{
	static const uint8_t zeros[16];
	static const struct {
		uint16_t type;
		size_t len;
	} cases[] = {
		{ NL80211_STA_INFO_SIGNAL, 0 },		/* u8 without a byte */
		{ NL80211_STA_INFO_SIGNAL, 2 },
		{ NL80211_STA_INFO_SIGNAL_AVG, 4 },
		{ NL80211_STA_INFO_TX_RETRIES, 2 },	/* short u32 */
		{ NL80211_STA_INFO_TX_FAILED, 8 },	/* long u32 */
		{ NL80211_STA_INFO_INACTIVE_TIME, 3 },
		{ NL80211_STA_INFO_TX_BITRATE, 2 },	/* a nest too short for a header */
		{ NL80211_STA_INFO_STA_FLAGS, 4 },	/* half a struct nl80211_sta_flag_update */
	};
	struct dgram d;
	struct wifi_info wi;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		d.len = 0;
		put_bad_info(&d, cases[i].type, zeros, cases[i].len);
		put_done(&d, 0);
		assert_int_equal(parse_sta(&d, &wi), -EBADMSG);
		assert_false(wi.connected);
		assert_int_equal(wi.have, 0);
	}
	/* a rate nest with a short BITRATE32 inside */
	{
		uint8_t rate[8] = { 6, 0, NL80211_RATE_INFO_BITRATE32, 0, 1, 2 };

		d.len = 0;
		put_bad_info(&d, NL80211_STA_INFO_RX_BITRATE, rate, sizeof(rate));
		put_done(&d, 0);
		assert_int_equal(parse_sta(&d, &wi), -EBADMSG);
	}
	/* a MAC of five bytes */
	{
		struct nlmsghdr *nlh;

		d.len = 0;
		nlh = begin_genl(&d, FAMILY, NLM_F_MULTI, NL80211_CMD_NEW_STATION);
		mnl_attr_put(nlh, NL80211_ATTR_MAC, 5, ap_mac);
		mnl_attr_nest_end(nlh, mnl_attr_nest_start(nlh, NL80211_ATTR_STA_INFO));
		end(&d, nlh);
		put_done(&d, 0);
		assert_int_equal(parse_sta(&d, &wi), -EBADMSG);
	}
}

static void test_station_missing_parts(void **state)
{
	struct dgram d = { .len = 0 };
	struct nlmsghdr *nlh;
	struct wifi_info wi;

	(void)state;
	/* no STA_INFO */
	nlh = begin_genl(&d, FAMILY, NLM_F_MULTI, NL80211_CMD_NEW_STATION);
	mnl_attr_put_u32(nlh, NL80211_ATTR_IFINDEX, IFINDEX);
	mnl_attr_put(nlh, NL80211_ATTR_MAC, 6, ap_mac);
	end(&d, nlh);
	put_done(&d, 0);
	assert_int_equal(parse_sta(&d, &wi), -EBADMSG);
	/* no MAC */
	d.len = 0;
	nlh = begin_genl(&d, FAMILY, NLM_F_MULTI, NL80211_CMD_NEW_STATION);
	mnl_attr_nest_end(nlh, mnl_attr_nest_start(nlh, NL80211_ATTR_STA_INFO));
	end(&d, nlh);
	assert_int_equal(parse_sta(&d, &wi), -EBADMSG);
	/* an empty STA_INFO is a station we know nothing about */
	d.len = 0;
	nlh = begin_genl(&d, FAMILY, NLM_F_MULTI, NL80211_CMD_NEW_STATION);
	mnl_attr_put(nlh, NL80211_ATTR_MAC, 6, ap_mac);
	mnl_attr_nest_end(nlh, mnl_attr_nest_start(nlh, NL80211_ATTR_STA_INFO));
	end(&d, nlh);
	assert_int_equal(parse_sta(&d, &wi), WIFI_PARSE_MORE);
	assert_true(wi.connected);
	assert_int_equal(wi.have, WIFI_HAVE_BSSID);
	/* another command */
	d.len = 0;
	nlh = begin_genl(&d, FAMILY, NLM_F_MULTI, NL80211_CMD_NEW_INTERFACE);
	end(&d, nlh);
	assert_int_equal(parse_sta(&d, &wi), -EBADMSG);
	/* a message too short for its genlmsghdr */
	d.len = 0;
	end(&d, begin(&d, FAMILY, NLM_F_MULTI));
	assert_int_equal(parse_sta(&d, &wi), -EBADMSG);
	/* the station of another interface */
	d.len = 0;
	{
		struct sta s = good;

		s.ifindex = IFINDEX + 1;
		put_station(&d, &s);
	}
	assert_int_equal(parse_sta(&d, &wi), -EBADMSG);
	/* a station after NLMSG_DONE */
	d.len = 0;
	put_done(&d, 0);
	put_station(&d, &good);
	assert_int_equal(parse_sta(&d, &wi), -EBADMSG);
}

static void test_station_broken_framing(void **state)
{
	struct dgram d = { .len = 0 };
	struct nlmsghdr *nlh;
	struct nlattr *info;
	struct wifi_info wi;

	(void)state;
	/* STA_INFO claims more than the message holds */
	nlh = put_station(&d, &good);
	info = mnl_nlmsg_get_payload_offset(nlh, GENL_HDRLEN);
	while (mnl_attr_get_type(info) != NL80211_ATTR_STA_INFO)
		info = (struct nlattr *)((char *)info + MNL_ALIGN(info->nla_len));
	info->nla_len += 8;
	put_done(&d, 0);
	assert_int_equal(parse_sta(&d, &wi), -EBADMSG);
	/* an attribute inside STA_INFO that runs past the nest */
	info->nla_len -= 8;
	((struct nlattr *)mnl_attr_get_payload(info))->nla_len = 200;
	assert_int_equal(parse_sta(&d, &wi), -EBADMSG);
	/* an attribute length below the header */
	((struct nlattr *)mnl_attr_get_payload(info))->nla_len = 2;
	assert_int_equal(parse_sta(&d, &wi), -EBADMSG);

	/* nlmsg_len past the datagram, huge, or below the header */
	d.len = 0;
	nlh = put_station(&d, &good);
	nlh->nlmsg_len = (uint32_t)d.len + 4;
	assert_int_equal(parse_sta(&d, &wi), -EBADMSG);
	nlh->nlmsg_len = 0x80000010u;
	assert_int_equal(parse_sta(&d, &wi), -EBADMSG);
	nlh->nlmsg_len = 8;
	assert_int_equal(parse_sta(&d, &wi), -EBADMSG);
	/* trailing bytes that are not a message */
	d.len = 0;
	put_done(&d, 0);
	d.len += 8;
	assert_int_equal(parse_sta(&d, &wi), -EBADMSG);
	/* a buffer that is not 4-byte aligned */
	d.len = 0;
	put_done(&d, 0);
	memmove(d.buf + 1, d.buf, d.len);
	wifi_info_clear(&wi);
	assert_int_equal(wifi_parse_station(d.buf + 1, d.len, IFINDEX, &wi), -EINVAL);
}

/* Every prefix of a good dump: an error or "more", never a read past the
 * end (each prefix is an exact-size heap copy, which ASan watches). */
static void test_station_every_truncation(void **state)
{
	struct dgram d = { .len = 0 };
	struct wifi_info wi;
	size_t boundary;

	(void)state;
	put_station(&d, &good);
	boundary = d.len;
	put_done(&d, 0);
	for (size_t n = 0; n < d.len; n++) {
		char *copy = malloc(n ? n : 1);
		int err;

		memcpy(copy, d.buf, n);
		wifi_info_clear(&wi);
		err = wifi_parse_station(copy, n, IFINDEX, &wi);
		if (n == 0 || n == boundary) {
			assert_int_equal(err, WIFI_PARSE_MORE);
		} else {
			assert_int_equal(err, -EBADMSG);
			assert_int_equal(wi.have, 0);
		}
		free(copy);
	}
}

/* Random corruption of a good dump (seed printed): any answer but a crash,
 * and the promises of struct wifi_info hold. */
static void test_station_random_corruption(void **state)
{
	struct dgram d = { .len = 0 };
	unsigned seed = (unsigned)time(NULL);
	struct wifi_info wi;

	(void)state;
	printf("test_wifi: seed %u\n", seed);
	srand(seed);
	put_station(&d, &good);
	put_done(&d, 0);
	for (int i = 0; i < 20000; i++) {
		struct dgram m = d;
		int flips = 1 + rand() % 4, err;

		for (int k = 0; k < flips; k++)
			m.buf[rand() % (int)m.len] ^= (char)(1 + rand() % 255);
		err = parse_sta(&m, &wi);
		assert_true(err == 0 || err == WIFI_PARSE_MORE || (err < 0 && err >= -4095));
		assert_true(wi.signal_dbm == WIFI_SIGNAL_UNKNOWN ||
			    (wi.signal_dbm >= -128 && wi.signal_dbm < 0));
		assert_true(strlen(wi.bssid) == 0 || strlen(wi.bssid) == 17);
		if (err < 0)
			assert_int_equal(wi.have, 0);
	}
}

/* Attributes newer than our headers, and NLA_F_NESTED on the nests. */
static void test_station_unknown_attrs(void **state)
{
	struct dgram d = { .len = 0 };
	struct nlmsghdr *nlh;
	struct nlattr *info, *rate;
	struct wifi_info wi;

	(void)state;
	nlh = begin_genl(&d, FAMILY, NLM_F_MULTI, NL80211_CMD_NEW_STATION);
	mnl_attr_put_u32(nlh, NL80211_ATTR_IFINDEX, IFINDEX);
	mnl_attr_put(nlh, NL80211_ATTR_MAC, 6, ap_mac);
	mnl_attr_put_u64(nlh, 0x3ff0, 1);
	info = mnl_attr_nest_start(nlh, NL80211_ATTR_STA_INFO);
	info->nla_type |= NLA_F_NESTED;
	mnl_attr_put_u16(nlh, 0x1ff, 7);
	mnl_attr_put_u8(nlh, NL80211_STA_INFO_SIGNAL, (uint8_t)-70);
	rate = mnl_attr_nest_start(nlh, NL80211_STA_INFO_TX_BITRATE);
	rate->nla_type |= NLA_F_NESTED;
	mnl_attr_put_u32(nlh, 0x77, 1);
	mnl_attr_put_u32(nlh, NL80211_RATE_INFO_BITRATE32, 1);
	mnl_attr_nest_end(nlh, rate);
	mnl_attr_nest_end(nlh, info);
	end(&d, nlh);
	put_done(&d, 0);
	assert_int_equal(parse_sta(&d, &wi), 0);
	assert_int_equal(wi.signal_dbm, -70);
	assert_int_equal(wi.tx_bitrate_kbps, 100);
}

/* ---- interfaces ---- */

static void test_interface_station(void **state)
{
	struct dgram d = { .len = 0 };
	struct wifi_info wi;

	(void)state;
	put_iface(&d, NL80211_IFTYPE_STATION, "Cafe\x01Net\xc3\xa9", 10, 5180);
	wifi_info_clear(&wi);
	assert_int_equal(wifi_parse_interface(d.buf, d.len, IFINDEX, &wi), 0);
	assert_string_equal(wi.ssid, "Cafe?Net??");
	assert_int_equal(wi.freq_mhz, 5180);
	assert_int_equal(wi.have, WIFI_HAVE_SSID | WIFI_HAVE_FREQ);
	assert_false(wi.connected);
	assert_int_equal(wi.signal_dbm, WIFI_SIGNAL_UNKNOWN);

	/* then the station dump adds to the same struct */
	d.len = 0;
	put_station(&d, &good);
	put_done(&d, 0);
	assert_int_equal(wifi_parse_station(d.buf, d.len, IFINDEX, &wi), 0);
	assert_string_equal(wi.ssid, "Cafe?Net??");
	assert_int_equal(wi.freq_mhz, 5180);
	assert_true(wi.connected);

	/* a 32-octet SSID fits; not connected: no SSID, no frequency */
	d.len = 0;
	put_iface(&d, NL80211_IFTYPE_STATION, "0123456789abcdef0123456789ABCDEF", 32, 2412);
	wifi_info_clear(&wi);
	assert_int_equal(wifi_parse_interface(d.buf, d.len, 0, &wi), 0);
	assert_string_equal(wi.ssid, "0123456789abcdef0123456789ABCDEF");
	d.len = 0;
	put_iface(&d, NL80211_IFTYPE_STATION, NULL, 0, 0);
	wifi_info_clear(&wi);
	assert_int_equal(wifi_parse_interface(d.buf, d.len, IFINDEX, &wi), 0);
	assert_int_equal(wi.have, 0);
	assert_string_equal(wi.ssid, "");
}

static void test_interface_other_types(void **state)
{
	static const uint32_t types[] = {
		NL80211_IFTYPE_AP, NL80211_IFTYPE_MONITOR, NL80211_IFTYPE_MESH_POINT,
		NL80211_IFTYPE_ADHOC, NL80211_IFTYPE_P2P_GO, NL80211_IFTYPE_UNSPECIFIED, 9999,
	};
	struct dgram d;
	struct wifi_info wi;

	(void)state;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		d.len = 0;
		put_iface(&d, types[i], "ap", 2, 2437);
		wifi_info_clear(&wi);
		assert_int_equal(wifi_parse_interface(d.buf, d.len, IFINDEX, &wi), -EOPNOTSUPP);
		assert_int_equal(wi.freq_mhz, 2437);
	}
}

static void test_interface_malformed(void **state)
{
	struct dgram d = { .len = 0 };
	struct nlmsghdr *nlh;
	struct wifi_info wi;

	(void)state;
	wifi_info_clear(&wi);
	/* nothing in the buffer */
	assert_int_equal(wifi_parse_interface(d.buf, 0, IFINDEX, &wi), -EBADMSG);
	/* a 33-octet SSID */
	put_iface(&d, NL80211_IFTYPE_STATION, "0123456789abcdef0123456789ABCDEFG", 33, 2412);
	assert_int_equal(wifi_parse_interface(d.buf, d.len, IFINDEX, &wi), -EBADMSG);
	/* no IFTYPE */
	d.len = 0;
	nlh = begin_genl(&d, FAMILY, 0, NL80211_CMD_NEW_INTERFACE);
	mnl_attr_put_u32(nlh, NL80211_ATTR_IFINDEX, IFINDEX);
	end(&d, nlh);
	assert_int_equal(wifi_parse_interface(d.buf, d.len, IFINDEX, &wi), -EBADMSG);
	/* a short frequency */
	d.len = 0;
	nlh = begin_genl(&d, FAMILY, 0, NL80211_CMD_NEW_INTERFACE);
	mnl_attr_put_u32(nlh, NL80211_ATTR_IFTYPE, NL80211_IFTYPE_STATION);
	mnl_attr_put_u16(nlh, NL80211_ATTR_WIPHY_FREQ, 2412);
	end(&d, nlh);
	assert_int_equal(wifi_parse_interface(d.buf, d.len, IFINDEX, &wi), -EBADMSG);
	/* another interface's answer */
	d.len = 0;
	put_iface(&d, NL80211_IFTYPE_STATION, "x", 1, 2412);
	assert_int_equal(wifi_parse_interface(d.buf, d.len, IFINDEX + 1, &wi), -EBADMSG);
	/* the kernel's error: not a wireless device */
	d.len = 0;
	put_error(&d, -ENODEV);
	assert_int_equal(wifi_parse_interface(d.buf, d.len, IFINDEX, &wi), -ENODEV);
	/* nothing of it changed out */
	assert_int_equal(wi.have, 0);
	assert_int_equal(wi.freq_mhz, 0);
}

/* ---- the controller ---- */

static void test_family(void **state)
{
	struct dgram d = { .len = 0 };
	struct nlmsghdr *nlh;
	uint16_t id = 99;

	(void)state;
	nlh = begin_genl(&d, GENL_ID_CTRL, 0, CTRL_CMD_NEWFAMILY);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, NL80211_GENL_NAME);
	mnl_attr_put_u16(nlh, CTRL_ATTR_FAMILY_ID, FAMILY);
	mnl_attr_put_u32(nlh, CTRL_ATTR_VERSION, 1);
	mnl_attr_put_u32(nlh, CTRL_ATTR_MAXATTR, 330);
	end(&d, nlh);
	assert_int_equal(wifi_parse_family(d.buf, d.len, &id), 0);
	assert_int_equal(id, FAMILY);

	d.len = 0;
	put_error(&d, -ENOENT);
	assert_int_equal(wifi_parse_family(d.buf, d.len, &id), -ENOENT);
	assert_int_equal(id, 0);

	/* no id, or an id in the reserved range */
	d.len = 0;
	nlh = begin_genl(&d, GENL_ID_CTRL, 0, CTRL_CMD_NEWFAMILY);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, NL80211_GENL_NAME);
	end(&d, nlh);
	assert_int_equal(wifi_parse_family(d.buf, d.len, &id), -EBADMSG);
	d.len = 0;
	nlh = begin_genl(&d, GENL_ID_CTRL, 0, CTRL_CMD_NEWFAMILY);
	mnl_attr_put_u16(nlh, CTRL_ATTR_FAMILY_ID, NLMSG_DONE);
	end(&d, nlh);
	assert_int_equal(wifi_parse_family(d.buf, d.len, &id), -EBADMSG);
	assert_int_equal(id, 0);
}

/* ---- JSON and texts ---- */

static void test_json(void **state)
{
	struct dgram d = { .len = 0 };
	struct wifi_info wi;
	struct json_object *o, *v;

	(void)state;
	wifi_info_clear(&wi);
	o = wifi_json(&wi);
	assert_false(json_object_get_boolean(json_object_object_get(o, "connected")));
	assert_true(json_object_object_get_ex(o, "signal_dbm", &v));
	assert_null(v);
	assert_true(json_object_object_get_ex(o, "bssid", &v));
	assert_null(v);
	json_object_put(o);

	put_station(&d, &good);
	put_done(&d, 0);
	assert_int_equal(parse_sta(&d, &wi), 0);
	o = wifi_json(&wi);
	assert_true(json_object_get_boolean(json_object_object_get(o, "connected")));
	assert_int_equal(json_object_get_int(json_object_object_get(o, "signal_dbm")), -52);
	assert_int_equal(json_object_get_int64(json_object_object_get(o, "tx_bitrate_kbps")), 866700);
	assert_string_equal(json_object_get_string(json_object_object_get(o, "bssid")),
			    "02:ab:cd:00:12:fe");
	assert_true(json_object_object_get_ex(o, "freq_mhz", &v));
	assert_null(v);
	json_object_put(o);

	assert_string_equal(wifi_strerror(-EOPNOTSUPP), "not in station (client) mode");
	assert_string_equal(wifi_strerror(-ENOENT), "no nl80211 (no Wi-Fi driver loaded)");
	assert_non_null(wifi_strerror(-12345));
}

/* ---- the socket, on this machine ---- */

static void test_socket_here(void **state)
{
	struct wifi_nl w;
	struct wifi_info wi;
	int err, q;

	(void)state;
	err = wifi_open(&w);
	assert_true(err == 0 || err == -ENOENT);
	if (err == 0)
		assert_true(w.family >= GENL_MIN_ID);
	else
		assert_null(w.nl);
	/* lo is no Wi-Fi interface: -ENODEV from nl80211, or nl80211's absence */
	q = wifi_query(&w, "lo", &wi);
	assert_int_equal(q, err ? err : -ENODEV);
	assert_false(wi.connected);
	assert_int_equal(wi.have, 0);
	assert_int_equal(wi.signal_dbm, WIFI_SIGNAL_UNKNOWN);
	assert_false(wifi_is_station(&w, "lo"));
	/* names that are no interface at all */
	assert_int_equal(wifi_query(&w, "nosuchif0", &wi), err ? err : -ENODEV);
	assert_int_equal(wifi_query(&w, "", &wi), err ? err : -ENODEV);
	assert_int_equal(wifi_query(&w, NULL, &wi), err ? err : -ENODEV);
	assert_int_equal(wifi_query(&w, "an-interface-name-far-too-long", &wi), err ? err : -ENODEV);
	assert_int_equal(wifi_query_index(&w, -3, &wi), err ? err : -ENODEV);
	assert_false(wifi_is_station(&w, "nosuchif0"));
	assert_false(wifi_is_station(&w, NULL));
	wifi_close(&w);
	wifi_close(&w);
	/* a closed context */
	assert_int_equal(wifi_query(&w, "lo", &wi), err ? err : -EBADF);
	assert_false(wifi_is_station(&w, "lo"));
	memset(&w, 0, sizeof(w));
	assert_int_equal(wifi_query_index(&w, 1, &wi), -EBADF);
	wifi_close(&w);
}

/* The request/answer machinery against the controller ("nlctrl" is family
 * GENL_ID_CTRL on every kernel). */
static void test_socket_transact(void **state)
{
	char buf[WIFI_REQ_SIZE] __attribute__((aligned(8)));
	struct nlmsghdr *nlh;
	struct wifi_nl w;
	uint16_t id = 0;
	int64_t t0;

	(void)state;
	assert_int_equal(open_socket(&w), 0);
	assert_int_equal(resolve_family(&w, "nlctrl", &id), 0);
	assert_int_equal(id, GENL_ID_CTRL);
	assert_int_equal(resolve_family(&w, "no-such-family", &id), -ENOENT);

	/* an answer left unread (its request "timed out") is not taken for the
	 * answer to the next request */
	nlh = genl_request(buf, GENL_ID_CTRL, 0, CTRL_CMD_GETFAMILY);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, "no-such-family");
	nlh->nlmsg_seq = ++w.seq;
	assert_true(mnl_socket_sendto(w.nl, nlh, nlh->nlmsg_len) > 0);
	assert_int_equal(resolve_family(&w, "nlctrl", &id), 0);
	assert_int_equal(id, GENL_ID_CTRL);

	/* a message the kernel does not answer (no NLM_F_REQUEST): the receive
	 * timeout ends the wait */
	nlh = genl_request(buf, GENL_ID_CTRL, 0, CTRL_CMD_GETFAMILY);
	nlh->nlmsg_flags = 0;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, "nlctrl");
	t0 = mono_ms();
	assert_int_equal(transact(&w, nlh, family_parse, &id), -ETIMEDOUT);
	assert_true(mono_ms() - t0 >= WIFI_RECV_TIMEOUT_MS - 10);
	assert_true(mono_ms() - t0 < WIFI_QUERY_TIMEOUT_MS + WIFI_RECV_TIMEOUT_MS);

	/* the socket still works after that */
	assert_int_equal(resolve_family(&w, "nlctrl", &id), 0);
	wifi_close(&w);
}

static void quiet(enum log_level level, const char *msg)
{
	(void)level;
	(void)msg;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_station_full),
		cmocka_unit_test(test_station_multipart),
		cmocka_unit_test(test_station_none),
		cmocka_unit_test(test_station_flags),
		cmocka_unit_test(test_station_tdls_peer),
		cmocka_unit_test(test_station_signal_extremes),
		cmocka_unit_test(test_station_bitrates),
		cmocka_unit_test(test_station_kernel_errors),
		cmocka_unit_test(test_station_bad_lengths),
		cmocka_unit_test(test_station_missing_parts),
		cmocka_unit_test(test_station_broken_framing),
		cmocka_unit_test(test_station_every_truncation),
		cmocka_unit_test(test_station_random_corruption),
		cmocka_unit_test(test_station_unknown_attrs),
		cmocka_unit_test(test_interface_station),
		cmocka_unit_test(test_interface_other_types),
		cmocka_unit_test(test_interface_malformed),
		cmocka_unit_test(test_family),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_socket_here),
		cmocka_unit_test(test_socket_transact),
	};

	log_set_hook(quiet);
	log_set_level(LOG_LVL_DEBUG);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
