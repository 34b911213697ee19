/* Wi-Fi client (station) link quality from nl80211 over generic netlink
 * (libmnl, no libnl, no iw).
 *
 * wifi_open() opens a NETLINK_GENERIC socket and resolves the "nl80211"
 * family once. A machine without cfg80211 (no Wi-Fi hardware or driver) has
 * no such family: wifi_open() returns -ENOENT and every later call on that
 * context returns the same error, so a member's Wi-Fi fields simply stay
 * unknown. wifi_query() asks NL80211_CMD_GET_INTERFACE (the interface must be
 * in station mode) and then dumps NL80211_CMD_GET_STATION for it: a station
 * interface has one station, its AP. Both are synchronous request/replies
 * that the kernel answers at once (well under a millisecond). Against a
 * kernel that does not answer, one receive waits WIFI_RECV_TIMEOUT_MS and a
 * request gives up once WIFI_QUERY_TIMEOUT_MS have passed (checked after each
 * datagram), so a call never blocks the loop for long. Answers are matched to
 * their request by sequence number and port id, and must come from the
 * kernel; late answers to an earlier request are dropped.
 *
 * The parsers are separate from the socket and take a buffer of one or more
 * netlink messages exactly as recv() returns them, so tests and the fuzzer
 * feed them bytes. They validate every length they read (a malformed buffer
 * returns -EBADMSG and nothing outside [buf, buf + len) is touched). The
 * buffer must be 4-byte aligned, as netlink messages are (else -EINVAL).
 *
 * Return convention everywhere: 0, or -errno. The ones that mean something:
 *   -ENOENT	  no nl80211 on this machine (no Wi-Fi driver loaded)
 *   -ENODEV	  no such interface, or it is not a Wi-Fi interface
 *   -EOPNOTSUPP  a Wi-Fi interface, but not in station (client) mode
 *   -ETIMEDOUT	  the kernel did not answer in time
 *   -EBADMSG	  the answer was malformed
 *   -EAGAIN	  the station dump was interrupted twice in a row (retry later)
 * and any error the kernel itself returns (NLMSG_ERROR).
 */
#ifndef AUTONOMY_WIFI_H
#define AUTONOMY_WIFI_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mnl_socket;
struct json_object;

#define WIFI_RECV_TIMEOUT_MS	200	/* SO_RCVTIMEO of the socket */
#define WIFI_QUERY_TIMEOUT_MS	500	/* one request and all its answers */
#define WIFI_SIGNAL_UNKNOWN	INT_MIN
#define WIFI_SSID_MAX		32	/* octets, IEEE 802.11 */

/* Which fields of struct wifi_info the kernel reported. */
#define WIFI_HAVE_SIGNAL	0x001
#define WIFI_HAVE_SIGNAL_AVG	0x002
#define WIFI_HAVE_TX_BITRATE	0x004
#define WIFI_HAVE_RX_BITRATE	0x008
#define WIFI_HAVE_TX_RETRIES	0x010
#define WIFI_HAVE_TX_FAILED	0x020
#define WIFI_HAVE_INACTIVE	0x040
#define WIFI_HAVE_FREQ		0x080
#define WIFI_HAVE_SSID		0x100
#define WIFI_HAVE_BSSID		0x200

/* One station interface and its AP. Unknown values: signal WIFI_SIGNAL_UNKNOWN
 * (INT_MIN), bitrates and freq_mhz 0, ssid and bssid ""; the counters are 0
 * when unknown, and `have` tells a real 0 from an unknown one.
 *
 * connected: the AP has a station entry and, where the kernel reports the
 * station flags, it is associated and authorized (the 802.1X/WPA port is
 * open, so traffic can flow). TDLS peers are never taken for the AP.
 * signal_dbm / signal_avg_dbm: the last / averaged received signal, -128..-1
 * dBm. Drivers report 0 before they have measured anything and positive
 * values only when they use a non-dBm scale, so both are taken as unknown.
 * Bitrates in kbit/s (the kernel's unit is 100 kbit/s), saturated at
 * UINT32_MAX. tx_retries / tx_failed are the driver's running MPDU counters
 * (they wrap, and restart on reassociation). inactive_ms: since the last
 * frame from or to the AP. ssid: bytes outside printable ASCII become '?'.
 * bssid: the AP's MAC, "aa:bb:cc:dd:ee:ff" (lower case). freq_mhz: the
 * interface's channel; absent (0) on a Wi-Fi 7 multi-link connection, where
 * each link has its own. */
struct wifi_info {
	bool connected;
	int signal_dbm;
	int signal_avg_dbm;
	uint32_t tx_bitrate_kbps;
	uint32_t rx_bitrate_kbps;
	uint32_t tx_retries;
	uint32_t tx_failed;
	uint32_t inactive_ms;
	uint32_t freq_mhz;
	char ssid[WIFI_SSID_MAX + 1];
	char bssid[18];
	unsigned have;		/* WIFI_HAVE_* */
};

/* Zero-initialised is "not open" (wifi_close() on it is harmless). */
struct wifi_nl {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
	uint16_t family;	/* nl80211's generic netlink id */
	int err;		/* why wifi_open() failed; 0 when open */
};

/* Opens the socket and resolves nl80211. Returns 0, -ENOENT (no nl80211 on
 * this machine) or another -errno; on failure w holds no socket and every
 * query on it returns the same error. */
int wifi_open(struct wifi_nl *w);
void wifi_close(struct wifi_nl *w);

/* Fills out for the station interface ifname / ifindex: 0 (connected or not,
 * see struct wifi_info), or -errno as listed above; out is always cleared
 * first, so on error it reads "unknown". Blocks for at most
 * WIFI_QUERY_TIMEOUT_MS per request (two requests). */
int wifi_query(struct wifi_nl *w, const char *ifname, struct wifi_info *out);
int wifi_query_index(struct wifi_nl *w, int ifindex, struct wifi_info *out);

/* True when ifname is an nl80211 interface in station mode (classification:
 * such a member is class wifi). False for anything else, including errors. */
bool wifi_is_station(struct wifi_nl *w, const char *ifname);

/* A short text for a wifi_* error ("not in station mode", …). */
const char *wifi_strerror(int err);

/* ---- the pure parsers (no socket) ---------------------------------------- */

/* Every field unknown (see struct wifi_info). */
void wifi_info_clear(struct wifi_info *out);

/* The answer to CTRL_CMD_GETFAMILY: *id gets the family id. 0 or -errno
 * (the kernel's -ENOENT when the family does not exist). */
int wifi_parse_family(const void *buf, size_t len, uint16_t *id);

/* The answer to NL80211_CMD_GET_INTERFACE for ifindex (0: any). Sets
 * freq_mhz and ssid (and their `have` bits) when present and leaves the rest
 * of out alone. 0 for a station interface, -EOPNOTSUPP for another type (the
 * fields are still filled), -EBADMSG if malformed or if no interface message
 * is in the buffer, or the kernel's error. */
int wifi_parse_interface(const void *buf, size_t len, int ifindex, struct wifi_info *out);

/* One datagram of the NL80211_CMD_GET_STATION dump for ifindex (0: any).
 * Call with the datagrams in order on an out that went through
 * wifi_info_clear() and wifi_parse_interface(): returns WIFI_PARSE_MORE until
 * the NLMSG_DONE, then 0. The first station that is not a TDLS peer is taken
 * as the AP (later ones are checked but ignored); no station at all leaves
 * connected false. -EBADMSG if malformed, -EINTR if the kernel flagged the
 * dump as interrupted (NLM_F_DUMP_INTR), or the kernel's error. */
#define WIFI_PARSE_MORE		1
int wifi_parse_station(const void *buf, size_t len, int ifindex, struct wifi_info *out);

/* The member's "wifi" object in the API: every field of struct wifi_info,
 * null when unknown. */
struct json_object *wifi_json(const struct wifi_info *wi);

#endif
