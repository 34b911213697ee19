/* Wi-Fi station collector: nl80211 over generic netlink with libmnl. The
 * parsers (first half) never touch a socket; the requests (second half) send
 * one message, read the datagrams that answer it and hand them over. */
#include "collect/wifi.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <json-c/json.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/nl80211.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK	270
#endif

#define WIFI_BUF_SIZE	32768	/* a dump datagram is at most this (MNL_SOCKET_DUMP_SIZE) */
#define WIFI_REQ_SIZE	128
#define WIFI_DUMP_TRIES	2
#define ERRNO_MAX	4095
#define RATE_UNIT_KBPS	100u	/* NL80211_RATE_INFO_BITRATE* count 100 kbit/s */

/* The highest attribute each parser keeps (tb[] sizes). */
#define IF_ATTR_MAX	NL80211_ATTR_SSID
#define STA_ATTR_MAX	NL80211_ATTR_STA_INFO
#define INFO_MAX	NL80211_STA_INFO_STA_FLAGS
#define RATE_MAX	NL80211_RATE_INFO_BITRATE32
#define FAM_MAX		CTRL_ATTR_FAMILY_ID

_Static_assert(NL80211_ATTR_IFINDEX < IF_ATTR_MAX && NL80211_ATTR_IFTYPE < IF_ATTR_MAX &&
	       NL80211_ATTR_WIPHY_FREQ < IF_ATTR_MAX, "IF_ATTR_MAX");
_Static_assert(NL80211_ATTR_IFINDEX < STA_ATTR_MAX && NL80211_ATTR_MAC < STA_ATTR_MAX,
	       "STA_ATTR_MAX");
_Static_assert(NL80211_STA_INFO_INACTIVE_TIME < INFO_MAX && NL80211_STA_INFO_SIGNAL < INFO_MAX &&
	       NL80211_STA_INFO_SIGNAL_AVG < INFO_MAX && NL80211_STA_INFO_TX_BITRATE < INFO_MAX &&
	       NL80211_STA_INFO_RX_BITRATE < INFO_MAX && NL80211_STA_INFO_TX_RETRIES < INFO_MAX &&
	       NL80211_STA_INFO_TX_FAILED < INFO_MAX, "INFO_MAX");
_Static_assert(NL80211_RATE_INFO_BITRATE < RATE_MAX, "RATE_MAX");

/* ---- attributes ---------------------------------------------------------- */

/* How an attribute we use must look. len: the exact payload length of a
 * binary attribute (0 = any); the fixed-size types get theirs from libmnl.
 * MNL_TYPE_UNSPEC: not used (skipped unchecked). */
struct attr_pol {
	enum mnl_attr_data_type type;
	uint16_t len;
};

static const struct attr_pol fam_pol[FAM_MAX + 1] = {
	[CTRL_ATTR_FAMILY_ID] = { MNL_TYPE_U16, 0 },
};

static const struct attr_pol if_pol[IF_ATTR_MAX + 1] = {
	[NL80211_ATTR_IFINDEX] = { MNL_TYPE_U32, 0 },
	[NL80211_ATTR_IFTYPE] = { MNL_TYPE_U32, 0 },
	[NL80211_ATTR_WIPHY_FREQ] = { MNL_TYPE_U32, 0 },
	[NL80211_ATTR_SSID] = { MNL_TYPE_BINARY, 0 },
};

static const struct attr_pol sta_pol[STA_ATTR_MAX + 1] = {
	[NL80211_ATTR_IFINDEX] = { MNL_TYPE_U32, 0 },
	[NL80211_ATTR_MAC] = { MNL_TYPE_BINARY, 6 },
	[NL80211_ATTR_STA_INFO] = { MNL_TYPE_NESTED, 0 },
};

static const struct attr_pol info_pol[INFO_MAX + 1] = {
	[NL80211_STA_INFO_INACTIVE_TIME] = { MNL_TYPE_U32, 0 },
	[NL80211_STA_INFO_SIGNAL] = { MNL_TYPE_U8, 0 },
	[NL80211_STA_INFO_SIGNAL_AVG] = { MNL_TYPE_U8, 0 },
	[NL80211_STA_INFO_TX_BITRATE] = { MNL_TYPE_NESTED, 0 },
	[NL80211_STA_INFO_RX_BITRATE] = { MNL_TYPE_NESTED, 0 },
	[NL80211_STA_INFO_TX_RETRIES] = { MNL_TYPE_U32, 0 },
	[NL80211_STA_INFO_TX_FAILED] = { MNL_TYPE_U32, 0 },
	[NL80211_STA_INFO_STA_FLAGS] = { MNL_TYPE_BINARY, sizeof(struct nl80211_sta_flag_update) },
};

static const struct attr_pol rate_pol[RATE_MAX + 1] = {
	[NL80211_RATE_INFO_BITRATE] = { MNL_TYPE_U16, 0 },
	[NL80211_RATE_INFO_BITRATE32] = { MNL_TYPE_U32, 0 },
};

static bool attr_valid(const struct nlattr *a, const struct attr_pol *p)
{
	if (p->len)
		return mnl_attr_validate2(a, p->type, p->len) == 0;
	return mnl_attr_validate(a, p->type) == 0;
}

/* Walks the attributes in [p, p + len) into tb (max + 1 entries, zeroed by
 * the caller). Every attribute must lie inside the range and nothing but the
 * last one's padding may follow it; the ones in pol are validated, the others
 * (newer than our headers, or not used) skipped. 0 or -EBADMSG. Written out
 * rather than mnl_attr_parse(), which stops quietly at a bad attribute. */
static int walk_attrs(const void *p, size_t len, const struct attr_pol *pol, uint16_t max,
		      const struct nlattr **tb)
{
	const char *cur = p, *end = cur + len;

	while ((size_t)(end - cur) >= sizeof(struct nlattr)) {
		const struct nlattr *a = (const void *)cur;
		uint16_t type = a->nla_type & NLA_TYPE_MASK;

		if (a->nla_len < sizeof(*a) || a->nla_len > (size_t)(end - cur))
			return -EBADMSG;
		if (type <= max && pol[type].type != MNL_TYPE_UNSPEC) {
			if (!attr_valid(a, &pol[type])) {
				log_debug("wifi: attribute %u of %u bytes is malformed", type, a->nla_len);
				return -EBADMSG;
			}
			tb[type] = a;
		}
		if ((size_t)MNL_ALIGN(a->nla_len) >= (size_t)(end - cur))
			return 0;
		cur += MNL_ALIGN(a->nla_len);
	}
	return cur == end ? 0 : -EBADMSG;
}

static int walk_nested(const struct nlattr *nest, const struct attr_pol *pol, uint16_t max,
		       const struct nlattr **tb)
{
	return walk_attrs(mnl_attr_get_payload(nest), mnl_attr_get_payload_len(nest), pol, max, tb);
}

/* The attributes of a generic netlink message (after its genlmsghdr). */
static int walk_genl(const struct nlmsghdr *nlh, const struct attr_pol *pol, uint16_t max,
		     const struct nlattr **tb)
{
	return walk_attrs((const char *)nlh + NLMSG_HDRLEN + GENL_HDRLEN,
			  nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN, pol, max, tb);
}

/* ---- messages ------------------------------------------------------------ */

struct walk {
	/* A data message (its payload holds a genlmsghdr): 0 or -errno. */
	int (*msg)(const struct nlmsghdr *nlh, const struct genlmsghdr *g, void *ctx);
	void *ctx;
	bool done;	/* NLMSG_DONE seen */
	bool intr;	/* NLM_F_DUMP_INTR seen */
};

/* A kernel error code as we return it: a plausible -errno, else -EBADMSG. */
static int kernel_err(int err)
{
	return err < 0 && err >= -ERRNO_MAX ? err : -EBADMSG;
}

static int control_msg(const struct nlmsghdr *nlh, struct walk *w)
{
	size_t plen = nlh->nlmsg_len - NLMSG_HDRLEN;
	int err;

	switch (nlh->nlmsg_type) {
	case NLMSG_NOOP:
		return 0;
	case NLMSG_ERROR:
		if (plen < sizeof(struct nlmsgerr))
			return -EBADMSG;
		memcpy(&err, NLMSG_DATA(nlh), sizeof(err));
		return err == 0 ? 0 : kernel_err(err);	/* 0: an acknowledgement */
	case NLMSG_DONE:
		w->done = true;
		if (plen < sizeof(err))
			return 0;
		memcpy(&err, NLMSG_DATA(nlh), sizeof(err));
		return err == 0 ? 0 : kernel_err(err);
	default:		/* NLMSG_OVERRUN and the reserved types */
		return -EBADMSG;
	}
}

/* Walks the netlink messages of one datagram. 0 or the first error. */
static int walk_msgs(const void *buf, size_t len, struct walk *w)
{
	const char *p = buf, *end = p + len;
	int err;

	if ((uintptr_t)buf % NLMSG_ALIGNTO)
		return -EINVAL;
	while ((size_t)(end - p) >= NLMSG_HDRLEN) {
		const struct nlmsghdr *nlh = (const void *)p;

		if (nlh->nlmsg_len < NLMSG_HDRLEN || nlh->nlmsg_len > (size_t)(end - p))
			return -EBADMSG;
		if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
			w->intr = true;
		if (nlh->nlmsg_type < NLMSG_MIN_TYPE)
			err = control_msg(nlh, w);
		else if (w->done || nlh->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN)
			err = -EBADMSG;
		else
			err = w->msg(nlh, (const void *)(p + NLMSG_HDRLEN), w->ctx);
		if (err)
			return err;
		if (NLMSG_ALIGN(nlh->nlmsg_len) >= (size_t)(end - p))
			return 0;
		p += NLMSG_ALIGN(nlh->nlmsg_len);
	}
	return p == end ? 0 : -EBADMSG;
}

/* ---- CTRL_CMD_GETFAMILY -------------------------------------------------- */

static int family_msg(const struct nlmsghdr *nlh, const struct genlmsghdr *g, void *ctx)
{
	const struct nlattr *tb[FAM_MAX + 1] = { 0 };
	uint16_t *id = ctx;

	if (g->cmd != CTRL_CMD_NEWFAMILY || walk_genl(nlh, fam_pol, FAM_MAX, tb) < 0 ||
	    !tb[CTRL_ATTR_FAMILY_ID] || *id)
		return -EBADMSG;
	*id = mnl_attr_get_u16(tb[CTRL_ATTR_FAMILY_ID]);
	return *id >= GENL_MIN_ID ? 0 : -EBADMSG;
}

int wifi_parse_family(const void *buf, size_t len, uint16_t *id)
{
	uint16_t found = 0;
	struct walk w = { .msg = family_msg, .ctx = &found };
	int err = walk_msgs(buf, len, &w);

	if (!err && !found)
		err = -EBADMSG;
	*id = err ? 0 : found;
	return err;
}

/* ---- NL80211_CMD_GET_INTERFACE ------------------------------------------- */

struct if_ctx {
	int ifindex;
	struct wifi_info *out;
	bool seen;
	uint32_t iftype;
};

static void copy_ssid(char *dst, const uint8_t *src, size_t len)
{
	for (size_t i = 0; i < len; i++)
		dst[i] = src[i] >= 0x20 && src[i] <= 0x7e ? (char)src[i] : '?';
	dst[len] = '\0';
}

static int iface_msg(const struct nlmsghdr *nlh, const struct genlmsghdr *g, void *ctx)
{
	const struct nlattr *tb[IF_ATTR_MAX + 1] = { 0 };
	struct if_ctx *c = ctx;
	const struct nlattr *ssid;

	if (g->cmd != NL80211_CMD_NEW_INTERFACE || walk_genl(nlh, if_pol, IF_ATTR_MAX, tb) < 0 ||
	    !tb[NL80211_ATTR_IFTYPE])
		return -EBADMSG;
	if (c->ifindex && tb[NL80211_ATTR_IFINDEX] &&
	    mnl_attr_get_u32(tb[NL80211_ATTR_IFINDEX]) != (uint32_t)c->ifindex)
		return -EBADMSG;
	ssid = tb[NL80211_ATTR_SSID];
	if (ssid && mnl_attr_get_payload_len(ssid) > WIFI_SSID_MAX)
		return -EBADMSG;
	if (c->seen)		/* one answer to one request: a second is checked, not used */
		return 0;
	c->seen = true;
	c->iftype = mnl_attr_get_u32(tb[NL80211_ATTR_IFTYPE]);
	if (tb[NL80211_ATTR_WIPHY_FREQ]) {
		c->out->freq_mhz = mnl_attr_get_u32(tb[NL80211_ATTR_WIPHY_FREQ]);
		c->out->have |= WIFI_HAVE_FREQ;
	}
	if (ssid) {
		copy_ssid(c->out->ssid, mnl_attr_get_payload(ssid), mnl_attr_get_payload_len(ssid));
		c->out->have |= WIFI_HAVE_SSID;
	}
	return 0;
}

int wifi_parse_interface(const void *buf, size_t len, int ifindex, struct wifi_info *out)
{
	struct wifi_info tmp = *out;
	struct if_ctx c = { .ifindex = ifindex, .out = &tmp };
	struct walk w = { .msg = iface_msg, .ctx = &c };
	int err = walk_msgs(buf, len, &w);

	if (err)
		return err;
	if (!c.seen)
		return -EBADMSG;
	*out = tmp;
	return c.iftype == NL80211_IFTYPE_STATION ? 0 : -EOPNOTSUPP;
}

/* ---- NL80211_CMD_GET_STATION --------------------------------------------- */

struct sta_ctx {
	int ifindex;
	struct wifi_info *out;
};

/* A rate nest: kbit/s, or 0 when it holds no bitrate. */
static int parse_rate(const struct nlattr *nest, uint32_t *kbps)
{
	const struct nlattr *tb[RATE_MAX + 1] = { 0 };
	uint32_t units = 0;

	if (walk_nested(nest, rate_pol, RATE_MAX, tb) < 0)
		return -EBADMSG;
	if (tb[NL80211_RATE_INFO_BITRATE32])
		units = mnl_attr_get_u32(tb[NL80211_RATE_INFO_BITRATE32]);
	else if (tb[NL80211_RATE_INFO_BITRATE])
		units = mnl_attr_get_u16(tb[NL80211_RATE_INFO_BITRATE]);
	*kbps = units > UINT32_MAX / RATE_UNIT_KBPS ? UINT32_MAX : units * RATE_UNIT_KBPS;
	return 0;
}

/* An s8 dBm value in a u8 attribute; 0 and positive values are not dBm. */
static bool parse_signal(const struct nlattr *a, int *dbm)
{
	int8_t v = (int8_t)mnl_attr_get_u8(a);

	if (v >= 0)
		return false;
	*dbm = v;
	return true;
}

static void set_u32(const struct nlattr *a, uint32_t *v, unsigned bit, unsigned *have)
{
	if (!a)
		return;
	*v = mnl_attr_get_u32(a);
	*have |= bit;
}

static void set_rate(uint32_t kbps, uint32_t *v, unsigned bit, unsigned *have)
{
	if (!kbps)
		return;
	*v = kbps;
	*have |= bit;
}

/* The AP's station flags, where the kernel reports them: is the link up
 * (associated, and the port authorized), and is this a TDLS peer? */
static void sta_flags(const struct nlattr *a, bool *up, bool *tdls)
{
	struct nl80211_sta_flag_update f;
	uint32_t need = 1u << NL80211_STA_FLAG_ASSOCIATED | 1u << NL80211_STA_FLAG_AUTHORIZED;

	*up = true;
	*tdls = false;
	if (!a)
		return;
	memcpy(&f, mnl_attr_get_payload(a), sizeof(f));
	need &= f.mask;
	*up = (f.set & need) == need;
	*tdls = (f.mask & f.set & 1u << NL80211_STA_FLAG_TDLS_PEER) != 0;
}

static void format_mac(char *dst, size_t size, const uint8_t *m)
{
	snprintf(dst, size, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* Fills wi from a validated STA_INFO nest (and the station's MAC). */
static int fill_station(const struct nlattr **si, const struct nlattr *mac, struct wifi_info *wi)
{
	uint32_t tx = 0, rx = 0;
	bool tdls;

	if ((si[NL80211_STA_INFO_TX_BITRATE] && parse_rate(si[NL80211_STA_INFO_TX_BITRATE], &tx) < 0) ||
	    (si[NL80211_STA_INFO_RX_BITRATE] && parse_rate(si[NL80211_STA_INFO_RX_BITRATE], &rx) < 0))
		return -EBADMSG;
	sta_flags(si[NL80211_STA_INFO_STA_FLAGS], &wi->connected, &tdls);
	if (tdls)
		return 1;
	if (si[NL80211_STA_INFO_SIGNAL] && parse_signal(si[NL80211_STA_INFO_SIGNAL], &wi->signal_dbm))
		wi->have |= WIFI_HAVE_SIGNAL;
	if (si[NL80211_STA_INFO_SIGNAL_AVG] &&
	    parse_signal(si[NL80211_STA_INFO_SIGNAL_AVG], &wi->signal_avg_dbm))
		wi->have |= WIFI_HAVE_SIGNAL_AVG;
	set_rate(tx, &wi->tx_bitrate_kbps, WIFI_HAVE_TX_BITRATE, &wi->have);
	set_rate(rx, &wi->rx_bitrate_kbps, WIFI_HAVE_RX_BITRATE, &wi->have);
	set_u32(si[NL80211_STA_INFO_TX_RETRIES], &wi->tx_retries, WIFI_HAVE_TX_RETRIES, &wi->have);
	set_u32(si[NL80211_STA_INFO_TX_FAILED], &wi->tx_failed, WIFI_HAVE_TX_FAILED, &wi->have);
	set_u32(si[NL80211_STA_INFO_INACTIVE_TIME], &wi->inactive_ms, WIFI_HAVE_INACTIVE, &wi->have);
	format_mac(wi->bssid, sizeof(wi->bssid), mnl_attr_get_payload(mac));
	wi->have |= WIFI_HAVE_BSSID;
	return 0;
}

static int station_msg(const struct nlmsghdr *nlh, const struct genlmsghdr *g, void *ctx)
{
	const struct nlattr *tb[STA_ATTR_MAX + 1] = { 0 };
	const struct nlattr *si[INFO_MAX + 1] = { 0 };
	struct sta_ctx *c = ctx;
	struct wifi_info wi = *c->out;
	int err;

	if (g->cmd != NL80211_CMD_NEW_STATION || walk_genl(nlh, sta_pol, STA_ATTR_MAX, tb) < 0 ||
	    !tb[NL80211_ATTR_MAC] || !tb[NL80211_ATTR_STA_INFO] ||
	    walk_nested(tb[NL80211_ATTR_STA_INFO], info_pol, INFO_MAX, si) < 0)
		return -EBADMSG;
	if (c->ifindex && tb[NL80211_ATTR_IFINDEX] &&
	    mnl_attr_get_u32(tb[NL80211_ATTR_IFINDEX]) != (uint32_t)c->ifindex)
		return -EBADMSG;
	err = fill_station(si, tb[NL80211_ATTR_MAC], &wi);
	if (err < 0)
		return err;
	/* The first station that is not a TDLS peer is the AP. */
	if (err == 0 && !(c->out->have & WIFI_HAVE_BSSID))
		*c->out = wi;
	return 0;
}

int wifi_parse_station(const void *buf, size_t len, int ifindex, struct wifi_info *out)
{
	struct wifi_info tmp = *out;
	struct sta_ctx c = { .ifindex = ifindex, .out = &tmp };
	struct walk w = { .msg = station_msg, .ctx = &c };
	int err = walk_msgs(buf, len, &w);

	if (err)
		return err;
	if (w.intr)
		return -EINTR;
	*out = tmp;
	return w.done ? 0 : WIFI_PARSE_MORE;
}

void wifi_info_clear(struct wifi_info *out)
{
	memset(out, 0, sizeof(*out));
	out->signal_dbm = WIFI_SIGNAL_UNKNOWN;
	out->signal_avg_dbm = WIFI_SIGNAL_UNKNOWN;
}

/* ---- JSON ---------------------------------------------------------------- */

static struct json_object *u32_json(const struct wifi_info *wi, unsigned bit, uint32_t v)
{
	return wi->have & bit ? json_object_new_int64(v) : NULL;
}

struct json_object *wifi_json(const struct wifi_info *wi)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "connected", json_object_new_boolean(wi->connected));
	json_object_object_add(o, "ssid", wi->have & WIFI_HAVE_SSID ?
			       json_object_new_string(wi->ssid) : NULL);
	json_object_object_add(o, "bssid", wi->have & WIFI_HAVE_BSSID ?
			       json_object_new_string(wi->bssid) : NULL);
	json_object_object_add(o, "freq_mhz", u32_json(wi, WIFI_HAVE_FREQ, wi->freq_mhz));
	json_object_object_add(o, "signal_dbm", wi->have & WIFI_HAVE_SIGNAL ?
			       json_object_new_int(wi->signal_dbm) : NULL);
	json_object_object_add(o, "signal_avg_dbm", wi->have & WIFI_HAVE_SIGNAL_AVG ?
			       json_object_new_int(wi->signal_avg_dbm) : NULL);
	json_object_object_add(o, "tx_bitrate_kbps",
			       u32_json(wi, WIFI_HAVE_TX_BITRATE, wi->tx_bitrate_kbps));
	json_object_object_add(o, "rx_bitrate_kbps",
			       u32_json(wi, WIFI_HAVE_RX_BITRATE, wi->rx_bitrate_kbps));
	json_object_object_add(o, "tx_retries", u32_json(wi, WIFI_HAVE_TX_RETRIES, wi->tx_retries));
	json_object_object_add(o, "tx_failed", u32_json(wi, WIFI_HAVE_TX_FAILED, wi->tx_failed));
	json_object_object_add(o, "inactive_ms", u32_json(wi, WIFI_HAVE_INACTIVE, wi->inactive_ms));
	return o;
}

const char *wifi_strerror(int err)
{
	switch (err) {
	case 0:
		return "ok";
	case -ENOENT:
		return "no nl80211 (no Wi-Fi driver loaded)";
	case -ENODEV:
		return "not a Wi-Fi interface";
	case -EOPNOTSUPP:
		return "not in station (client) mode";
	case -ETIMEDOUT:
		return "nl80211 did not answer";
	case -EBADMSG:
		return "malformed nl80211 answer";
	case -EAGAIN:
		return "station list kept changing";
	default:
		return err < 0 ? strerror(-err) : "unknown error";
	}
}

/* ---- the socket ---------------------------------------------------------- */

/* Requests are answered synchronously, one at a time, so one buffer serves
 * every context. */
static char wifi_buf[WIFI_BUF_SIZE] __attribute__((aligned(8)));

/* Reads one datagram from the kernel. Its length, or -errno (-ETIMEDOUT
 * when SO_RCVTIMEO expired). Datagrams from anyone but the kernel are
 * dropped (0). */
static ssize_t recv_kernel(struct wifi_nl *w)
{
	struct sockaddr_nl sa;
	struct iovec iov = { .iov_base = wifi_buf, .iov_len = sizeof(wifi_buf) };
	struct msghdr msg = { .msg_name = &sa, .msg_namelen = sizeof(sa), .msg_iov = &iov,
			      .msg_iovlen = 1 };
	ssize_t n;

	do
		n = recvmsg(mnl_socket_get_fd(w->nl), &msg, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
	if (msg.msg_flags & MSG_TRUNC)
		return -EMSGSIZE;
	if (msg.msg_namelen != sizeof(sa) || sa.nl_pid != 0)
		return 0;
	return n;
}

/* Is this datagram the answer to request seq? Late answers to an earlier
 * request that timed out are not. */
static bool answers(const struct wifi_nl *w, size_t len, uint32_t seq)
{
	const struct nlmsghdr *nlh = (const void *)wifi_buf;

	return len >= NLMSG_HDRLEN && nlh->nlmsg_seq == seq && nlh->nlmsg_pid == w->portid;
}

typedef int (*parse_fn)(const void *buf, size_t len, void *ctx);

/* Sends the request in nlh and feeds the datagrams that answer it to parse
 * until it returns something other than WIFI_PARSE_MORE. */
static int transact(struct wifi_nl *w, struct nlmsghdr *nlh, parse_fn parse, void *ctx)
{
	int64_t deadline = mono_ms() + WIFI_QUERY_TIMEOUT_MS;
	ssize_t n;
	int err;

	if (++w->seq == 0)
		w->seq = 1;
	nlh->nlmsg_seq = w->seq;
	if (mnl_socket_sendto(w->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		n = recv_kernel(w);
		if (n < 0)
			return (int)n;
		if (!answers(w, (size_t)n, nlh->nlmsg_seq))
			continue;
		err = parse(wifi_buf, (size_t)n, ctx);
		if (err != WIFI_PARSE_MORE)
			return err;
	} while (mono_ms() < deadline);
	return -ETIMEDOUT;
}

/* A generic netlink request; the version byte is not checked by the kernel
 * (libnl sends 1 to the controller, iw 0 to nl80211). */
static struct nlmsghdr *genl_request(void *buf, uint16_t type, uint16_t flags, uint8_t cmd)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *g;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = type == GENL_ID_CTRL ? 1 : 0;
	return nlh;
}

static int family_parse(const void *buf, size_t len, void *ctx)
{
	return wifi_parse_family(buf, len, ctx);
}

/* The id of the generic netlink family name: 0 or -errno (-ENOENT: none). */
static int resolve_family(struct wifi_nl *w, const char *name, uint16_t *id)
{
	char buf[WIFI_REQ_SIZE] __attribute__((aligned(8)));
	struct nlmsghdr *nlh = genl_request(buf, GENL_ID_CTRL, 0, CTRL_CMD_GETFAMILY);

	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, name);
	return transact(w, nlh, family_parse, id);
}

static int open_fail(struct wifi_nl *w, int err)
{
	if (w->nl)
		mnl_socket_close(w->nl);
	w->nl = NULL;
	w->family = 0;
	w->err = err;
	return err;
}

static int open_socket(struct wifi_nl *w)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = WIFI_RECV_TIMEOUT_MS * 1000 };
	int one = 1;

	memset(w, 0, sizeof(*w));
	w->nl = mnl_socket_open2(NETLINK_GENERIC, SOCK_CLOEXEC);
	if (!w->nl)
		return open_fail(w, -errno);
	if (mnl_socket_bind(w->nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    setsockopt(mnl_socket_get_fd(w->nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		return open_fail(w, -errno);
	/* Errors need not echo our request back (older kernels: not supported). */
	setsockopt(mnl_socket_get_fd(w->nl), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	w->portid = mnl_socket_get_portid(w->nl);
	w->seq = (uint32_t)mono_ms();
	return 0;
}

int wifi_open(struct wifi_nl *w)
{
	int err = open_socket(w);

	if (err)
		return err;
	err = resolve_family(w, NL80211_GENL_NAME, &w->family);
	if (err) {
		log_debug("wifi: nl80211: %s", wifi_strerror(err));
		return open_fail(w, err);
	}
	return 0;
}

void wifi_close(struct wifi_nl *w)
{
	if (w->nl)
		mnl_socket_close(w->nl);
	w->nl = NULL;
	w->family = 0;
}

/* ---- queries ------------------------------------------------------------- */

struct query {
	int ifindex;
	struct wifi_info *out;
};

static int iface_parse(const void *buf, size_t len, void *ctx)
{
	struct query *q = ctx;

	return wifi_parse_interface(buf, len, q->ifindex, q->out);
}

static int station_parse(const void *buf, size_t len, void *ctx)
{
	struct query *q = ctx;

	return wifi_parse_station(buf, len, q->ifindex, q->out);
}

static int ask(struct wifi_nl *w, struct query *q, uint16_t flags, uint8_t cmd, parse_fn parse)
{
	char buf[WIFI_REQ_SIZE] __attribute__((aligned(8)));
	struct nlmsghdr *nlh = genl_request(buf, w->family, flags, cmd);

	mnl_attr_put_u32(nlh, NL80211_ATTR_IFINDEX, (uint32_t)q->ifindex);
	return transact(w, nlh, parse, q);
}

/* GET_INTERFACE, then the station dump (again if the kernel says the dump
 * was interrupted: the station list changed under it). */
static int query(struct wifi_nl *w, struct query *q, bool station)
{
	struct wifi_info iface;
	int err, tries = 0;

	err = ask(w, q, 0, NL80211_CMD_GET_INTERFACE, iface_parse);
	if (err || !station)
		return err;
	iface = *q->out;
	do {
		*q->out = iface;
		err = ask(w, q, NLM_F_DUMP, NL80211_CMD_GET_STATION, station_parse);
	} while (err == -EINTR && ++tries < WIFI_DUMP_TRIES);
	return err == -EINTR ? -EAGAIN : err;
}

static int check_open(const struct wifi_nl *w)
{
	if (w->nl && w->family)
		return 0;
	return w->err ? w->err : -EBADF;
}

int wifi_query_index(struct wifi_nl *w, int ifindex, struct wifi_info *out)
{
	struct query q = { .ifindex = ifindex, .out = out };
	int err;

	wifi_info_clear(out);
	err = check_open(w);
	if (err)
		return err;
	if (ifindex <= 0)
		return -ENODEV;
	err = query(w, &q, true);
	if (err)
		wifi_info_clear(out);
	return err;
}

static int name_index(const char *ifname)
{
	unsigned idx;

	if (!ifname || !*ifname || strlen(ifname) >= IF_NAMESIZE)
		return -ENODEV;
	idx = if_nametoindex(ifname);

	return idx && idx <= INT_MAX ? (int)idx : -ENODEV;
}

int wifi_query(struct wifi_nl *w, const char *ifname, struct wifi_info *out)
{
	int err = check_open(w), idx;

	wifi_info_clear(out);
	if (err)
		return err;
	idx = name_index(ifname);
	return idx < 0 ? idx : wifi_query_index(w, idx, out);
}

bool wifi_is_station(struct wifi_nl *w, const char *ifname)
{
	struct wifi_info scratch;
	struct query q = { .out = &scratch };

	if (check_open(w))
		return false;
	q.ifindex = name_index(ifname);
	if (q.ifindex < 0)
		return false;
	wifi_info_clear(&scratch);
	return query(w, &q, false) == 0;
}
