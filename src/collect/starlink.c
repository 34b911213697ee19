/* Starlink: the pure part. gRPC unframing and the decoders from Response
 * bytes to the structs in starlink.h, with the sanity checks; names. No
 * sockets, no loop: the unit tests and the fuzzer call these directly. */
#include "collect/starlink.h"
#include "collect/starlink.pb-c.h"

#include <math.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define GRPC_HDR		5
#define ARENA_SIZE		(64u << 10)
#define ARENA_ALIGN		alignof(max_align_t)

typedef SpaceX__API__Device__Response Response;
typedef SpaceX__API__Device__DeviceInfo DeviceInfo;
typedef SpaceX__API__Device__DishGetStatusResponse StatusResponse;
typedef SpaceX__API__Device__DishGetHistoryResponse HistoryResponse;
typedef SpaceX__API__Device__DishObstructionStats Obstruction;
typedef SpaceX__API__Device__DishAlerts Alerts;
typedef SpaceX__API__Device__DishOutage Outage;

static const char *const call_names[__SL_CALL_MAX] = {
	[SL_STATUS] = "status",
	[SL_HISTORY] = "history",
	[SL_DEVICE_INFO] = "device_info",
};

static const char *const cause_names[] = {
	[SL_CAUSE_UNKNOWN] = "UNKNOWN",
	[SL_CAUSE_BOOTING] = "BOOTING",
	[SL_CAUSE_STOWED] = "STOWED",
	[SL_CAUSE_THERMAL_SHUTDOWN] = "THERMAL_SHUTDOWN",
	[SL_CAUSE_NO_SCHEDULE] = "NO_SCHEDULE",
	[SL_CAUSE_NO_SATS] = "NO_SATS",
	[SL_CAUSE_OBSTRUCTED] = "OBSTRUCTED",
	[SL_CAUSE_NO_DOWNLINK] = "NO_DOWNLINK",
	[SL_CAUSE_NO_PINGS] = "NO_PINGS",
	[SL_CAUSE_ACTUATOR_ACTIVITY] = "ACTUATOR_ACTIVITY",
	[SL_CAUSE_CABLE_TEST] = "CABLE_TEST",
	[SL_CAUSE_SLEEPING] = "SLEEPING",
	[SL_CAUSE_SKY_SEARCH] = "SKY_SEARCH",
	[SL_CAUSE_INHIBIT_RF] = "INHIBIT_RF",
};

/* Alert names come from the .proto (DishAlerts' field names); these stand in
 * for the numbers it leaves out. */
#define UNNAMED(n)	[n] = "alert_" #n
static const char *const unnamed_alerts[SL_ALERT_MAX + 1] = {
	UNNAMED(1), UNNAMED(2), UNNAMED(3), UNNAMED(4), UNNAMED(5), UNNAMED(6), UNNAMED(7),
	UNNAMED(8), UNNAMED(9), UNNAMED(10), UNNAMED(11), UNNAMED(12), UNNAMED(13),
	UNNAMED(14), UNNAMED(15), UNNAMED(16), UNNAMED(17), UNNAMED(18), UNNAMED(19),
	UNNAMED(20), UNNAMED(21), UNNAMED(22), UNNAMED(23), UNNAMED(24), UNNAMED(25),
	UNNAMED(26), UNNAMED(27), UNNAMED(28), UNNAMED(29), UNNAMED(30), UNNAMED(31),
};

/* ---- scratch arena for protobuf-c ---------------------------------------- */

/* Unpacking allocates a dozen small blocks per answer (18 KB for a history);
 * they come from this arena, reset after every decode, and only what does not
 * fit falls back to malloc. */
static alignas(max_align_t) uint8_t arena_buf[ARENA_SIZE];
static size_t arena_used;

static void *arena_alloc(void *data, size_t size)
{
	size_t need = (size + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
	void *p;

	(void)data;
	if (need >= size && need <= ARENA_SIZE - arena_used) {
		p = arena_buf + arena_used;
		arena_used += need;
		return p;
	}
	return malloc(size);
}

static void arena_free(void *data, void *p)
{
	uintptr_t a = (uintptr_t)p, lo = (uintptr_t)arena_buf;

	(void)data;
	if (a < lo || a >= lo + ARENA_SIZE)
		free(p);
}

static ProtobufCAllocator arena = {
	.alloc = arena_alloc,
	.free = arena_free,
};

/* ---- helpers --------------------------------------------------------------- */

static int fail(int rc, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(int rc, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static double in_range(float v, double lo, double hi)
{
	double d = v;

	return isfinite(d) && d >= lo && d <= hi ? d : NAN;
}

static double nonneg(float v)
{
	return in_range(v, 0.0, INFINITY);
}

/* Firmware has reported 0 for weeks; even a satellite straight overhead is
 * more than 3 ms away and back, so anything under 1 ms is such a bug too. */
static double latency(float v)
{
	return in_range(v, SL_LATENCY_MIN_MS, SL_LATENCY_MAX_MS);
}

/* Strings go to logs and JSON: printable ASCII only, cut to size. */
static void copy_str(char *dst, size_t size, const char *src)
{
	size_t i = 0;

	for (; src && src[i] && i + 1 < size; i++) {
		unsigned char ch = (unsigned char)src[i];

		dst[i] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	dst[i] = '\0';
}

static Response *unpack(const uint8_t *msg, size_t len, char *err, size_t errlen)
{
	Response *r;

	arena_used = 0;
	r = space_x__api__device__response__unpack(&arena, len, msg);
	if (!r)
		fail(-EBADMSG, err, errlen, "bad protobuf: %zu bytes are not a Response", len);
	return r;
}

static void release(Response *r)
{
	if (r)
		space_x__api__device__response__free_unpacked(r, &arena);
	arena_used = 0;
}

static int check_case(const Response *r, SpaceX__API__Device__Response__ResponseCase want,
		      char *err, size_t errlen)
{
	if (r->status && r->status->code != 0)
		return fail(-EPROTO, err, errlen, "dish status %d: %.80s", (int)r->status->code,
			    r->status->message ? r->status->message : "");
	if (r->response_case == SPACE_X__API__DEVICE__RESPONSE__RESPONSE__NOT_SET)
		return fail(-EPROTO, err, errlen, "answer carries no result (wanted field %d)",
			    (int)want);
	if (r->response_case != want)
		return fail(-EPROTO, err, errlen, "unexpected answer: field %d, wanted %d",
			    (int)r->response_case, (int)want);
	return 0;
}

/* ---- gRPC framing ------------------------------------------------------------ */

int sl_grpc_unframe(const uint8_t *buf, size_t len, const uint8_t **msg, size_t *msglen,
		    char *err, size_t errlen)
{
	uint32_t n;

	if (len == 0)
		return fail(-EBADMSG, err, errlen, "empty response body: no gRPC message");
	if (len < GRPC_HDR)
		return fail(-EBADMSG, err, errlen, "short gRPC frame: %zu bytes", len);
	if (buf[0] == 1)
		return fail(-ENOTSUP, err, errlen, "compressed gRPC message (none was asked for)");
	if (buf[0] != 0)
		return fail(-EBADMSG, err, errlen, "bad gRPC frame flag 0x%02x", buf[0]);
	n = (uint32_t)buf[1] << 24 | (uint32_t)buf[2] << 16 | (uint32_t)buf[3] << 8 | buf[4];
	if (n > SL_MAX_MSG)
		return fail(-EMSGSIZE, err, errlen, "gRPC message of %u bytes exceeds the %u byte cap",
			    n, SL_MAX_MSG);
	if (n > len - GRPC_HDR)
		return fail(-EBADMSG, err, errlen,
			    "truncated gRPC message: %u bytes announced, %zu arrived", n,
			    len - GRPC_HDR);
	if (n < len - GRPC_HDR)
		return fail(-EBADMSG, err, errlen, "%zu bytes after the gRPC message",
			    len - GRPC_HDR - n);
	*msg = buf + GRPC_HDR;
	*msglen = n;
	return 0;
}

/* ---- device info -------------------------------------------------------------- */

static void info_clear(struct sl_device_info *o)
{
	memset(o, 0, sizeof(*o));
	o->bootcount = -1;
}

static void info_fill(const DeviceInfo *d, struct sl_device_info *o)
{
	o->valid = true;
	copy_str(o->id, sizeof(o->id), d->id);
	copy_str(o->hardware_version, sizeof(o->hardware_version), d->hardware_version);
	copy_str(o->software_version, sizeof(o->software_version), d->software_version);
	copy_str(o->country_code, sizeof(o->country_code), d->country_code);
	o->utc_offset_s = d->utc_offset_s;
	o->bootcount = d->bootcount >= 0 ? d->bootcount : -1;
}

int sl_decode_device_info(const uint8_t *msg, size_t len, struct sl_device_info *out,
			  char *err, size_t errlen)
{
	Response *r;
	int rc;

	info_clear(out);
	r = unpack(msg, len, err, errlen);
	if (!r)
		return -EBADMSG;
	rc = check_case(r, SPACE_X__API__DEVICE__RESPONSE__RESPONSE_GET_DEVICE_INFO, err, errlen);
	if (!rc && r->get_device_info->device_info)
		info_fill(r->get_device_info->device_info, out);
	out->valid = !rc;
	release(r);
	return rc;
}

/* ---- status ---------------------------------------------------------------------- */

static void status_clear(struct sl_status *o)
{
	memset(o, 0, sizeof(*o));
	info_clear(&o->info);
	o->pop_ping_drop_rate = o->pop_ping_latency_ms = NAN;
	o->downlink_bps = o->uplink_bps = o->seconds_to_first_nonempty_slot = NAN;
	o->fraction_obstructed = o->obstruction_valid_s = o->time_obstructed = NAN;
	o->avg_prolonged_duration_s = o->avg_prolonged_interval_s = NAN;
	o->eth_speed_mbps = -1;
}

/* A missing DishObstructionStats reads as an empty one (proto3). */
static void obstruction_fill(const Obstruction *ob, struct sl_status *o)
{
	static const Obstruction empty = SPACE_X__API__DEVICE__DISH_OBSTRUCTION_STATS__INIT;

	if (!ob)
		ob = &empty;
	o->fraction_obstructed = in_range(ob->fraction_obstructed, 0.0, 1.0);
	o->currently_obstructed = ob->currently_obstructed;
	o->obstruction_valid_s = nonneg(ob->valid_s);
	o->time_obstructed = nonneg(ob->time_obstructed);
	o->avg_prolonged_valid = ob->avg_prolonged_obstruction_valid;
	o->avg_prolonged_duration_s = nonneg(ob->avg_prolonged_obstruction_duration_s);
	o->avg_prolonged_interval_s = nonneg(ob->avg_prolonged_obstruction_interval_s);
}

static bool varint_nonzero(const ProtobufCMessageUnknownField *u)
{
	for (size_t i = 0; i < u->len; i++)
		if (u->data[i] & 0x7f)
			return true;
	return false;
}

/* Bit n for every true bool field n, the ones this .proto does not know
 * included (they arrive as unknown varint fields). */
static uint32_t alerts_mask(const Alerts *a)
{
	const ProtobufCMessageDescriptor *d = a->base.descriptor;
	uint32_t mask = 0;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const protobuf_c_boolean *v = (const void *)((const char *)a + f->offset);

		if (f->type == PROTOBUF_C_TYPE_BOOL && f->id <= SL_ALERT_MAX && *v)
			mask |= 1u << f->id;
	}
	for (unsigned i = 0; i < a->base.n_unknown_fields; i++) {
		const ProtobufCMessageUnknownField *u = &a->base.unknown_fields[i];

		if (u->tag >= 1 && u->tag <= SL_ALERT_MAX &&
		    u->wire_type == PROTOBUF_C_WIRE_TYPE_VARINT && varint_nonzero(u))
			mask |= 1u << u->tag;
	}
	return mask;
}

static void status_fill(const StatusResponse *s, struct sl_status *o)
{
	if (s->device_info)
		info_fill(s->device_info, &o->info);
	if (s->device_state)
		o->uptime_s = s->device_state->uptime_s;
	o->pop_ping_drop_rate = in_range(s->pop_ping_drop_rate, 0.0, 1.0);
	o->pop_ping_latency_ms = latency(s->pop_ping_latency_ms);
	o->downlink_bps = nonneg(s->downlink_throughput_bps);
	o->uplink_bps = nonneg(s->uplink_throughput_bps);
	o->seconds_to_first_nonempty_slot = nonneg(s->seconds_to_first_nonempty_slot);
	obstruction_fill(s->obstruction_stats, o);
	if (s->outage) {
		o->outage = true;
		o->outage_cause = s->outage->cause;
		o->outage_start_ns = s->outage->start_timestamp_ns;
		o->outage_duration_ns = s->outage->duration_ns;
		o->outage_did_switch = s->outage->did_switch;
	}
	if (s->alerts)
		o->alerts = alerts_mask(s->alerts);
	if (s->gps_stats) {
		o->gps_valid = s->gps_stats->gps_valid;
		o->gps_sats = s->gps_stats->gps_sats;
	}
	o->eth_speed_mbps = s->eth_speed_mbps >= 0 ? s->eth_speed_mbps : -1;
	o->snr_above_noise_floor = s->is_snr_above_noise_floor;
	o->snr_persistently_low = s->is_snr_persistently_low;
	o->software_update_state = s->software_update_state;
	o->disablement_code = s->disablement_code;
	o->swupdate_reboot_ready = s->swupdate_reboot_ready;
	o->valid = true;
}

int sl_decode_status(const uint8_t *msg, size_t len, struct sl_status *out, char *err,
		     size_t errlen)
{
	Response *r;
	int rc;

	status_clear(out);
	r = unpack(msg, len, err, errlen);
	if (!r)
		return -EBADMSG;
	rc = check_case(r, SPACE_X__API__DEVICE__RESPONSE__RESPONSE_DISH_GET_STATUS, err, errlen);
	if (!rc)
		status_fill(r->dish_get_status, out);
	release(r);
	return rc;
}

/* ---- history ------------------------------------------------------------------------ */

static void history_clear(struct sl_history *o)
{
	memset(o, 0, sizeof(*o));
	o->drop_rate_avg = o->latency_avg_ms = NAN;
	o->last_outage_cause = -1;
}

/* The ring: `current` samples written since boot into arrays of length len,
 * so the newest is at (current - 1) % len and the k-th newest at
 * (current - 1 - k) % len, full or not. Latency counts only where the array
 * has the same length and the sample is not at 100 % drop. */
static void history_window(const HistoryResponse *h, unsigned window_s, struct sl_history *o)
{
	size_t len = h->n_pop_ping_drop_rate;
	bool lat_ok = h->n_pop_ping_latency_ms == len;
	double drop_sum = 0, lat_sum = 0;
	uint32_t drop_n = 0, lat_n = 0;

	o->ring_len = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
	o->samples = h->current < o->ring_len ? (uint32_t)h->current : o->ring_len;
	o->window_samples = o->samples < window_s ? o->samples : window_s;
	for (uint32_t k = 0; k < o->window_samples; k++) {
		size_t i = (size_t)((h->current - 1 - k) % len);
		double drop = in_range(h->pop_ping_drop_rate[i], 0.0, 1.0);
		double lat = lat_ok ? latency(h->pop_ping_latency_ms[i]) : NAN;

		if (isnan(drop))
			continue;
		drop_sum += drop;
		drop_n++;
		if (drop >= 1.0)
			o->full_drop_samples++;
		else if (!isnan(lat)) {
			lat_sum += lat;
			lat_n++;
		}
	}
	if (drop_n)
		o->drop_rate_avg = drop_sum / drop_n;
	if (lat_n)
		o->latency_avg_ms = lat_sum / lat_n;
}

static void history_outages(const HistoryResponse *h, struct sl_history *o)
{
	int64_t newest = INT64_MIN;

	o->outages = h->n_outages > UINT32_MAX ? UINT32_MAX : (uint32_t)h->n_outages;
	for (size_t i = 0; i < h->n_outages; i++) {
		const Outage *out = h->outages[i];

		o->outage_s += (double)out->duration_ns / 1e9;
		if (out->start_timestamp_ns >= newest) {
			newest = out->start_timestamp_ns;
			o->last_outage_cause = out->cause;
		}
	}
}

int sl_decode_history(const uint8_t *msg, size_t len, const struct sl_history *prev,
		      unsigned window_s, struct sl_history *out, char *err, size_t errlen)
{
	const HistoryResponse *h;
	Response *r;
	int rc;

	history_clear(out);
	r = unpack(msg, len, err, errlen);
	if (!r)
		return -EBADMSG;
	rc = check_case(r, SPACE_X__API__DEVICE__RESPONSE__RESPONSE_DISH_GET_HISTORY, err, errlen);
	if (!rc) {
		h = r->dish_get_history;
		out->current = h->current;
		history_window(h, window_s ? window_s : SL_HISTORY_WINDOW_S, out);
		history_outages(h, out);
		out->rebooted = prev && prev->valid && h->current < prev->current;
		out->valid = true;
	}
	release(r);
	return rc;
}

/* ---- names --------------------------------------------------------------------------- */

const char *sl_call_name(enum sl_call what)
{
	return what >= 0 && what < __SL_CALL_MAX ? call_names[what] : "?";
}

const char *sl_cause_name(int cause)
{
	if (cause >= 0 && cause < (int)(sizeof(cause_names) / sizeof(cause_names[0])) &&
	    cause_names[cause])
		return cause_names[cause];
	return "UNKNOWN_CAUSE";
}

char *sl_cause_fmt(int cause, char *buf, size_t len)
{
	const char *name = sl_cause_name(cause);

	if (!len)
		return buf;
	if (strcmp(name, "UNKNOWN_CAUSE"))
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "CAUSE_%d", cause);
	return buf;
}

const char *sl_alert_name(int field)
{
	const ProtobufCFieldDescriptor *f;

	if (field < 1 || field > SL_ALERT_MAX)
		return NULL;
	f = protobuf_c_message_descriptor_get_field(&space_x__api__device__dish_alerts__descriptor,
						    (unsigned)field);
	return f ? f->name : unnamed_alerts[field];
}

char *sl_alerts_fmt(uint32_t mask, char *buf, size_t len)
{
	size_t off = 0;

	if (!len)
		return buf;
	buf[0] = '\0';
	for (int n = 1; n <= SL_ALERT_MAX; n++) {
		int w;

		if (!(mask & (1u << n)))
			continue;
		w = snprintf(buf + off, len - off, "%s%s", off ? "," : "", sl_alert_name(n));
		if (w < 0 || (size_t)w >= len - off) {
			buf[off] = '\0';	/* no half names */
			break;
		}
		off += (size_t)w;
	}
	return buf;
}
