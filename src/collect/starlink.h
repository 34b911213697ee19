/* Starlink dish collector: a gRPC client for the dish's local API
 * (/SpaceX.API.Device.Device/Handle, h2c with prior knowledge, no TLS) on the
 * daemon's libev loop, and the pure decoders it uses.
 *
 * Transport (grpc.c): one TCP connection to the dish, made without blocking
 * and reused for every call as HTTP/2 streams; at most one call of each kind
 * in flight. A call has one deadline, timeout_ms from sl_request(), that
 * covers connecting and the answer. After a connection-level failure (connect
 * error, reset, HTTP/2 protocol error, a timeout: a dish that accepts TCP and
 * says nothing) the connection is closed, every call on it ends with the
 * error, and the next connect waits 1 s, doubling up to 30 s; any answer
 * resets the wait. A call made while waiting waits too if the wait ends
 * before its deadline, else it fails at once with the last connect error.
 * A bad answer (wrong content-type, gRPC error status, bad framing or
 * protobuf, the wrong result) ends that call only; the connection stays.
 * Logged on changes only: connected, lost/unreachable, bad answers per kind.
 *
 * Decoding (starlink.c): every field is optional (proto3: missing = 0/false;
 * no outage message = connected) and firmware is known to send nonsense, so
 * implausible values count as missing: NAN for floats (NaN/inf, negative,
 * drop rate or fractions outside 0..1, latency under 1 ms (firmware sends 0;
 * no satellite is that close) or above 10 s), -1 for the signed counts that
 * cannot be negative. Strings are cut to the arrays below, and anything that
 * is not printable ASCII becomes '?'.
 *
 * With WITH_STARLINK=0 the collector is compiled out: the types stay, every
 * function is a static inline no-op that fails with -ENOTSUP.
 */
#ifndef AUTONOMY_STARLINK_H
#define AUTONOMY_STARLINK_H

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include <ev.h>

#ifndef WITH_STARLINK
#define WITH_STARLINK 1
#endif

#define SL_DEFAULT_ADDRESS	"192.168.100.1:9200"
#define SL_DEFAULT_TIMEOUT_MS	1500
#define SL_MAX_MSG		(1u << 20)	/* cap on one gRPC message */
#define SL_HISTORY_WINDOW_S	60		/* averages in struct sl_history */
#define SL_ALERT_MAX		31		/* alert bits 1..31 (known: 1..23) */
#define SL_ERR_LEN		160
#define SL_LATENCY_MIN_MS	1.0
#define SL_LATENCY_MAX_MS	10000.0

enum sl_call {
	SL_STATUS,
	SL_HISTORY,
	SL_DEVICE_INFO,
	__SL_CALL_MAX
};

/* Outage causes as the dish numbers them; others must be accepted. */
enum sl_cause {
	SL_CAUSE_UNKNOWN = 0,
	SL_CAUSE_BOOTING = 1,
	SL_CAUSE_STOWED = 2,
	SL_CAUSE_THERMAL_SHUTDOWN = 3,
	SL_CAUSE_NO_SCHEDULE = 4,
	SL_CAUSE_NO_SATS = 5,
	SL_CAUSE_OBSTRUCTED = 6,
	SL_CAUSE_NO_DOWNLINK = 7,
	SL_CAUSE_NO_PINGS = 8,
	SL_CAUSE_ACTUATOR_ACTIVITY = 9,
	SL_CAUSE_CABLE_TEST = 10,
	SL_CAUSE_SLEEPING = 11,
	SL_CAUSE_SKY_SEARCH = 13,
	SL_CAUSE_INHIBIT_RF = 14,
};

/* valid: decoded (in struct sl_status: the dish sent device_info). */
struct sl_device_info {
	bool valid;
	char id[64];
	char hardware_version[32];
	char software_version[64];
	char country_code[8];
	int32_t utc_offset_s;
	int32_t bootcount;		/* -1: unknown */
};

/* One get_status, decoded and checked. Floats are NAN when missing. */
struct sl_status {
	bool valid;
	struct sl_device_info info;	/* info.valid: the dish sent device_info */
	uint64_t uptime_s;

	double pop_ping_drop_rate;	/* 0..1 */
	double pop_ping_latency_ms;	/* 1..10000 */
	double downlink_bps, uplink_bps;
	double seconds_to_first_nonempty_slot;

	double fraction_obstructed;	/* 0..1 */
	bool currently_obstructed;
	double obstruction_valid_s;
	double time_obstructed;		/* >= 0, unit unknown (unused so far) */
	bool avg_prolonged_valid;	/* the dish's own flag for the two below */
	double avg_prolonged_duration_s;
	double avg_prolonged_interval_s;

	bool outage;			/* false: connected */
	int outage_cause;		/* enum sl_cause, open-ended */
	int64_t outage_start_ns;
	uint64_t outage_duration_ns;
	bool outage_did_switch;

	uint32_t alerts;		/* bit n (1..31): alert field n is true */

	bool snr_above_noise_floor;
	bool snr_persistently_low;
	int software_update_state;	/* IDLE=1 … REBOOT_REQUIRED=6, open-ended */
	int disablement_code;		/* OKAY=1 …, open-ended */
	bool swupdate_reboot_ready;
	int32_t eth_speed_mbps;		/* -1: unknown */
	bool gps_valid;
	uint32_t gps_sats;
};

/* What the engine needs from one get_history (a ring of one-second samples). */
struct sl_history {
	bool valid;
	uint64_t current;		/* samples written since the dish booted */
	uint32_t ring_len;		/* length of the drop-rate array */
	uint32_t samples;		/* valid samples: min(ring_len, current) */
	uint32_t window_samples;	/* newest samples the averages looked at
					 * (the client: SL_HISTORY_WINDOW_S) */
	double drop_rate_avg;		/* over them, NAN if none is plausible */
	double latency_avg_ms;		/* the same without samples at 100 % drop */
	uint32_t full_drop_samples;	/* samples at 100 % drop in the window */
	uint32_t outages;		/* outage records in the answer */
	double outage_s;		/* their total duration */
	int last_outage_cause;		/* of the newest record, -1: none */
	bool rebooted;			/* current went down since the previous read */
};

/* cfg: address "host:port" with a numeric host (IPv4, or [IPv6] with an
 * optional %scope; no DNS on the loop), NULL/"" = 192.168.100.1:9200, port
 * 9200 when missing; device: bind the socket to it (SO_BINDTODEVICE, may need
 * CAP_NET_RAW) so calls leave through the Starlink member, NULL/"" = none;
 * timeout_ms: deadline of every call, 0 = 1500; quiet: not reaching it is
 * logged at debug only (looking for a dish that may not be there). */
struct sl_cfg {
	const char *address;
	const char *device;
	unsigned timeout_ms;
	bool quiet;
};

struct sl_client;

/* The end of a call: result points to a struct sl_status, sl_history or
 * sl_device_info for SL_STATUS, SL_HISTORY, SL_DEVICE_INFO, valid only during
 * the callback; on failure result is NULL and err says why ("timeout",
 * "connect 192.168.100.1:9200: Connection refused", "grpc-status 7
 * (PERMISSION_DENIED): …", "bad protobuf: …"). Always called from the loop,
 * never from inside sl_request(). The callback may call sl_request() (for any
 * call, this one included) and sl_fini() (then no further callback follows),
 * but must not free or reuse c's memory before it returns. */
typedef void (*sl_cb)(struct sl_client *c, enum sl_call what, const void *result,
		      const char *err, void *ctx);

struct nghttp2_session;

/* One call of a kind. Private to grpc.c. */
struct sl_slot {
	struct sl_client *owner;
	enum sl_call what;
	ev_timer deadline;
	bool busy;		/* accepted, callback not made yet */
	bool done;		/* ended: callback on the next loop iteration */
	int32_t stream_id;	/* 0: not sent yet */
	int http_status;
	int grpc_status;	/* -1: none seen */
	bool too_big;
	char content_type[48];
	char grpc_message[96];
	uint8_t req[16];	/* gRPC frame + Request */
	size_t reqlen, reqoff;
	uint8_t *buf;		/* response body, kept for the next call */
	size_t len, cap;
	char err[SL_ERR_LEN];
};

/* Embed it anywhere; the fields are private except the ones marked public. */
struct sl_client {
	struct ev_loop *loop;
	sl_cb cb;
	void *ctx;
	char address[64];
	char device[16];
	unsigned timeout_ms;
	int family;
	socklen_t salen;
	union {
		struct sockaddr_storage ss;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} sa;

	enum { SL_DOWN, SL_CONNECTING, SL_UP } state;
	bool draining;			/* GOAWAY seen: no new streams */
	bool served;			/* this connection has answered a call */
	uint32_t goaway_code;
	int io_errno;
	ev_io io;
	struct nghttp2_session *h2;
	ev_timer backoff, kick;
	unsigned backoff_ms;		/* 0: no failure since the last answer */
	char last_err[SL_ERR_LEN];
	int logged;			/* health last logged */
	bool bad_logged[__SL_CALL_MAX];	/* a bad answer of that kind logged */
	struct sl_slot slot[__SL_CALL_MAX];

	/* public, read-only: the last good results and counters */
	struct sl_status status;
	struct sl_history history;
	struct sl_device_info info;
	uint64_t connects;		/* TCP connections made */
	uint64_t calls_ok, calls_failed;
};

#if WITH_STARLINK

/* Sets up c (any memory; it need not be zeroed) on loop. Nothing is sent until
 * the first sl_request(). Returns 0, or -EINVAL for an address that is not
 * "host:port" with a numeric host or a device name that is too long (logged).
 * Keeps no allocation. */
int sl_init(struct sl_client *c, struct ev_loop *loop, const struct sl_cfg *cfg, sl_cb cb,
	    void *ctx);
/* Closes the connection and stops every watcher; calls in flight end without
 * a callback. Idempotent; safe after a failed sl_init(). */
void sl_fini(struct sl_client *c);

/* Starts a call. Returns 0 (the callback follows, from the loop, exactly
 * once), -EBUSY while a call of that kind is in flight, -EINVAL for a bad
 * kind or an uninitialised client. Never blocks. */
int sl_request(struct sl_client *c, enum sl_call what);

/* For tests and fuzzing: use fd, a connected stream socket, as if a connect
 * had just succeeded. A connection c had is closed first, and calls on it are
 * sent again on fd. Takes ownership of fd. Returns 0 or -errno. */
int sl_adopt_fd(struct sl_client *c, int fd);

/* The gRPC framing of a whole response body: 1 byte compressed flag (must be
 * 0), 4 bytes big-endian length, exactly that many bytes of message, nothing
 * after it (a unary answer has one message). On success *msg points into buf.
 * Returns 0 or -EBADMSG (short, length mismatch), -ENOTSUP (compressed),
 * -EMSGSIZE (above SL_MAX_MSG), with a message in err. */
int sl_grpc_unframe(const uint8_t *buf, size_t len, const uint8_t **msg, size_t *msglen,
		    char *err, size_t errlen);

/* Decode a Response (protobuf bytes, unframed) that must carry the matching
 * oneof: dish_get_status, dish_get_history, get_device_info. Return 0 with
 * *out filled (out->valid true), or -EBADMSG (not protobuf), -EPROTO (another
 * answer, or Response.status with a non-zero code), with a message in err and
 * *out cleared to "all missing". Not reentrant (a shared scratch arena keeps
 * decoding free of malloc for answers up to 64 KiB); never crash on any input.
 * History: averages over the newest window_s samples (0 = SL_HISTORY_WINDOW_S);
 * prev, the previous good read or NULL, gives reboot detection. */
int sl_decode_status(const uint8_t *msg, size_t len, struct sl_status *out, char *err,
		     size_t errlen);
int sl_decode_history(const uint8_t *msg, size_t len, const struct sl_history *prev,
		      unsigned window_s, struct sl_history *out, char *err, size_t errlen);
int sl_decode_device_info(const uint8_t *msg, size_t len, struct sl_device_info *out,
			  char *err, size_t errlen);

/* "status", "history", "device_info"; "?" for anything else. */
const char *sl_call_name(enum sl_call what);
/* "NO_SATS" …; "UNKNOWN_CAUSE" for a number the dish had not used when this
 * was written. sl_cause_fmt writes the name or "CAUSE_<n>" into buf. */
const char *sl_cause_name(int cause);
char *sl_cause_fmt(int cause, char *buf, size_t len);
/* "thermal_throttle" … for field numbers 1..SL_ALERT_MAX ("alert_12" for
 * numbers the .proto does not name); NULL outside that range. */
const char *sl_alert_name(int field);
/* Writes the names of the alerts set in mask, comma-separated ("" if none),
 * as many whole names as fit in len; returns buf. */
char *sl_alerts_fmt(uint32_t mask, char *buf, size_t len);

#else /* !WITH_STARLINK */

static inline int sl_init(struct sl_client *c, struct ev_loop *loop, const struct sl_cfg *cfg,
			  sl_cb cb, void *ctx)
{
	(void)c; (void)loop; (void)cfg; (void)cb; (void)ctx;
	return -ENOTSUP;
}

static inline void sl_fini(struct sl_client *c)
{
	(void)c;
}

static inline int sl_request(struct sl_client *c, enum sl_call what)
{
	(void)c; (void)what;
	return -ENOTSUP;
}

static inline int sl_adopt_fd(struct sl_client *c, int fd)
{
	(void)c; (void)fd;
	return -ENOTSUP;
}

static inline int sl_compiled_out(char *err, size_t errlen)
{
	if (err && errlen)
		snprintf(err, errlen, "starlink support compiled out");
	return -ENOTSUP;
}

static inline int sl_grpc_unframe(const uint8_t *buf, size_t len, const uint8_t **msg,
				  size_t *msglen, char *err, size_t errlen)
{
	(void)buf; (void)len; (void)msg; (void)msglen;
	return sl_compiled_out(err, errlen);
}

static inline int sl_decode_status(const uint8_t *msg, size_t len, struct sl_status *out,
				   char *err, size_t errlen)
{
	(void)msg; (void)len; (void)out;
	return sl_compiled_out(err, errlen);
}

static inline int sl_decode_history(const uint8_t *msg, size_t len,
				    const struct sl_history *prev, unsigned window_s,
				    struct sl_history *out, char *err, size_t errlen)
{
	(void)msg; (void)len; (void)prev; (void)window_s; (void)out;
	return sl_compiled_out(err, errlen);
}

static inline int sl_decode_device_info(const uint8_t *msg, size_t len,
					struct sl_device_info *out, char *err, size_t errlen)
{
	(void)msg; (void)len; (void)out;
	return sl_compiled_out(err, errlen);
}

static inline const char *sl_call_name(enum sl_call what)
{
	(void)what;
	return "?";
}

static inline const char *sl_cause_name(int cause)
{
	(void)cause;
	return "UNKNOWN_CAUSE";
}

static inline char *sl_cause_fmt(int cause, char *buf, size_t len)
{
	if (len)
		snprintf(buf, len, "CAUSE_%d", cause);
	return buf;
}

static inline const char *sl_alert_name(int field)
{
	(void)field;
	return NULL;
}

static inline char *sl_alerts_fmt(uint32_t mask, char *buf, size_t len)
{
	(void)mask;
	if (len)
		buf[0] = '\0';
	return buf;
}

#endif /* WITH_STARLINK */

#endif
