/* The Starlink collector: the decoders and gRPC unframing on Response bytes
 * built with the generated protobuf-c code (and hand-written garbage), and the
 * client on a real loop against an in-process HTTP/2 server (nghttp2's server
 * side) on a socketpair, a closed port and a socket that never answers.
 * With WITH_STARLINK=0 only the no-op header is checked. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ev.h>

#include "collect/starlink.h"
#include "core/log.h"
#include "core/util.h"

#if WITH_STARLINK

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>

#include "collect/starlink.pb-c.h"

typedef SpaceX__API__Device__Response Response;
typedef SpaceX__API__Device__DishGetStatusResponse StatusResponse;
typedef SpaceX__API__Device__DishGetHistoryResponse HistoryResponse;

static char err[SL_ERR_LEN];
static char last_log[512];
static int warnings;

static void hook(enum log_level level, const char *msg)
{
	if (level >= LOG_LVL_WARN)
		warnings++;
	snprintf(last_log, sizeof(last_log), "%s", msg);
}

static int setup(void **state)
{
	(void)state;
	log_set_hook(hook);
	log_set_level(LOG_LVL_DEBUG);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	log_set_hook(NULL);
	return 0;
}

/* ---- building answers ---------------------------------------------------------- */

/* Packs r into a malloc'd buffer of exactly its size (ASan sees overreads). */
static uint8_t *pack(const Response *r, size_t *len)
{
	uint8_t *buf;

	*len = space_x__api__device__response__get_packed_size(r);
	buf = malloc(*len ? *len : 1);
	space_x__api__device__response__pack(r, buf);
	return buf;
}

static uint8_t *pack_status(StatusResponse *st, size_t *len)
{
	Response r = SPACE_X__API__DEVICE__RESPONSE__INIT;

	r.response_case = SPACE_X__API__DEVICE__RESPONSE__RESPONSE_DISH_GET_STATUS;
	r.dish_get_status = st;
	return pack(&r, len);
}

static uint8_t *pack_history(HistoryResponse *h, size_t *len)
{
	Response r = SPACE_X__API__DEVICE__RESPONSE__INIT;

	r.response_case = SPACE_X__API__DEVICE__RESPONSE__RESPONSE_DISH_GET_HISTORY;
	r.dish_get_history = h;
	return pack(&r, len);
}

static int decode_status(StatusResponse *st, struct sl_status *out)
{
	size_t len;
	uint8_t *buf = pack_status(st, &len);
	int rc = sl_decode_status(buf, len, out, err, sizeof(err));

	free(buf);
	return rc;
}

static int decode_history(HistoryResponse *h, const struct sl_history *prev, unsigned window,
			  struct sl_history *out)
{
	size_t len;
	uint8_t *buf = pack_history(h, &len);
	int rc = sl_decode_history(buf, len, prev, window, out, err, sizeof(err));

	free(buf);
	return rc;
}

/* ---- status --------------------------------------------------------------------- */

static void test_status_full(void **state)
{
	StatusResponse st = SPACE_X__API__DEVICE__DISH_GET_STATUS_RESPONSE__INIT;
	SpaceX__API__Device__DeviceInfo di = SPACE_X__API__DEVICE__DEVICE_INFO__INIT;
	SpaceX__API__Device__DeviceState ds = SPACE_X__API__DEVICE__DEVICE_STATE__INIT;
	SpaceX__API__Device__DishObstructionStats ob = SPACE_X__API__DEVICE__DISH_OBSTRUCTION_STATS__INIT;
	SpaceX__API__Device__DishGpsStats gps = SPACE_X__API__DEVICE__DISH_GPS_STATS__INIT;
	struct sl_status s;

	(void)state;
	di.id = "ut01000000-00000000-00abcdef";
	di.hardware_version = "rev4_prod1";
	di.software_version = "2024.05.0.mr12345";
	di.country_code = "DE";
	di.utc_offset_s = 3600;
	di.bootcount = 42;
	ds.uptime_s = 86400;
	st.device_info = &di;
	st.device_state = &ds;
	st.pop_ping_drop_rate = 0.25f;
	st.pop_ping_latency_ms = 31.5f;
	st.downlink_throughput_bps = 1.5e6f;
	st.uplink_throughput_bps = 2.5e5f;
	st.seconds_to_first_nonempty_slot = 0.5f;
	ob.fraction_obstructed = 0.125f;
	ob.valid_s = 3600.f;
	ob.currently_obstructed = true;
	ob.avg_prolonged_obstruction_duration_s = 2.5f;
	ob.avg_prolonged_obstruction_interval_s = 600.f;
	ob.avg_prolonged_obstruction_valid = true;
	st.obstruction_stats = &ob;
	gps.gps_valid = true;
	gps.gps_sats = 14;
	st.gps_stats = &gps;
	st.eth_speed_mbps = 1000;
	st.is_snr_above_noise_floor = true;
	st.is_snr_persistently_low = true;
	st.software_update_state = 6;
	st.disablement_code = 1;
	st.swupdate_reboot_ready = true;

	assert_int_equal(decode_status(&st, &s), 0);
	assert_true(s.valid);
	assert_true(s.info.valid);
	assert_string_equal(s.info.id, "ut01000000-00000000-00abcdef");
	assert_string_equal(s.info.hardware_version, "rev4_prod1");
	assert_string_equal(s.info.software_version, "2024.05.0.mr12345");
	assert_string_equal(s.info.country_code, "DE");
	assert_int_equal(s.info.utc_offset_s, 3600);
	assert_int_equal(s.info.bootcount, 42);
	assert_int_equal(s.uptime_s, 86400);
	assert_float_equal(s.pop_ping_drop_rate, 0.25, 1e-6);
	assert_float_equal(s.pop_ping_latency_ms, 31.5, 1e-6);
	assert_float_equal(s.downlink_bps, 1.5e6, 1);
	assert_float_equal(s.uplink_bps, 2.5e5, 1);
	assert_float_equal(s.seconds_to_first_nonempty_slot, 0.5, 1e-6);
	assert_float_equal(s.fraction_obstructed, 0.125, 1e-6);
	assert_float_equal(s.obstruction_valid_s, 3600, 1e-3);
	assert_true(s.currently_obstructed);
	assert_true(s.avg_prolonged_valid);
	assert_float_equal(s.avg_prolonged_duration_s, 2.5, 1e-6);
	assert_float_equal(s.avg_prolonged_interval_s, 600, 1e-3);
	assert_false(s.outage);
	assert_int_equal(s.alerts, 0);
	assert_true(s.gps_valid);
	assert_int_equal(s.gps_sats, 14);
	assert_int_equal(s.eth_speed_mbps, 1000);
	assert_true(s.snr_above_noise_floor);
	assert_true(s.snr_persistently_low);
	assert_int_equal(s.software_update_state, 6);
	assert_int_equal(s.disablement_code, 1);
	assert_true(s.swupdate_reboot_ready);
}

/* proto3: nothing sent = zero/false; no outage message = connected. */
static void test_status_empty(void **state)
{
	StatusResponse st = SPACE_X__API__DEVICE__DISH_GET_STATUS_RESPONSE__INIT;
	struct sl_status s;

	(void)state;
	assert_int_equal(decode_status(&st, &s), 0);
	assert_true(s.valid);
	assert_false(s.info.valid);
	assert_string_equal(s.info.id, "");
	assert_int_equal(s.info.bootcount, -1);
	assert_int_equal(s.uptime_s, 0);
	assert_float_equal(s.pop_ping_drop_rate, 0, 0);
	assert_true(isnan(s.pop_ping_latency_ms));	/* 0 ms is no latency */
	assert_float_equal(s.downlink_bps, 0, 0);
	assert_float_equal(s.fraction_obstructed, 0, 0);
	assert_false(s.currently_obstructed);
	assert_false(s.avg_prolonged_valid);
	assert_false(s.outage);
	assert_int_equal(s.alerts, 0);
	assert_false(s.gps_valid);
	assert_int_equal(s.eth_speed_mbps, 0);
	assert_int_equal(s.software_update_state, 0);
}

static void test_status_outage(void **state)
{
	StatusResponse st = SPACE_X__API__DEVICE__DISH_GET_STATUS_RESPONSE__INIT;
	SpaceX__API__Device__DishOutage out = SPACE_X__API__DEVICE__DISH_OUTAGE__INIT;
	struct sl_status s;
	char buf[32];

	(void)state;
	st.outage = &out;
	out.cause = SL_CAUSE_NO_SATS;
	out.start_timestamp_ns = 1400000000123456789LL;
	out.duration_ns = 2500000000ULL;
	out.did_switch = true;
	assert_int_equal(decode_status(&st, &s), 0);
	assert_true(s.outage);
	assert_int_equal(s.outage_cause, 5);
	assert_string_equal(sl_cause_name(s.outage_cause), "NO_SATS");
	assert_true(s.outage_start_ns == 1400000000123456789LL);
	assert_true(s.outage_duration_ns == 2500000000ULL);
	assert_true(s.outage_did_switch);

	/* an empty outage message is an outage of cause 0 */
	out = (SpaceX__API__Device__DishOutage)SPACE_X__API__DEVICE__DISH_OUTAGE__INIT;
	assert_int_equal(decode_status(&st, &s), 0);
	assert_true(s.outage);
	assert_int_equal(s.outage_cause, 0);
	assert_string_equal(sl_cause_name(0), "UNKNOWN");

	/* causes the dish will invent later are accepted */
	out.cause = 99;
	assert_int_equal(decode_status(&st, &s), 0);
	assert_true(s.outage);
	assert_int_equal(s.outage_cause, 99);
	assert_string_equal(sl_cause_name(99), "UNKNOWN_CAUSE");
	assert_string_equal(sl_cause_fmt(99, buf, sizeof(buf)), "CAUSE_99");
	assert_string_equal(sl_cause_fmt(6, buf, sizeof(buf)), "OBSTRUCTED");
	assert_string_equal(sl_cause_name(12), "UNKNOWN_CAUSE");
	assert_string_equal(sl_cause_name(-1), "UNKNOWN_CAUSE");
	assert_string_equal(sl_cause_name(14), "INHIBIT_RF");
	assert_string_equal(sl_cause_fmt(-3, buf, 4), "CAU");
}

static void test_status_implausible(void **state)
{
	StatusResponse st = SPACE_X__API__DEVICE__DISH_GET_STATUS_RESPONSE__INIT;
	SpaceX__API__Device__DeviceInfo di = SPACE_X__API__DEVICE__DEVICE_INFO__INIT;
	SpaceX__API__Device__DishObstructionStats ob = SPACE_X__API__DEVICE__DISH_OBSTRUCTION_STATS__INIT;
	struct sl_status s;

	(void)state;
	st.pop_ping_drop_rate = -0.1f;
	st.pop_ping_latency_ms = NAN;
	st.downlink_throughput_bps = INFINITY;
	st.uplink_throughput_bps = -5.f;
	st.seconds_to_first_nonempty_slot = -INFINITY;
	st.eth_speed_mbps = -1000;
	di.bootcount = -7;
	di.id = "ut\x01\x7f\xc3\xa9x";
	st.device_info = &di;
	ob.fraction_obstructed = 1.5f;
	ob.valid_s = -1.f;
	ob.avg_prolonged_obstruction_interval_s = NAN;
	ob.avg_prolonged_obstruction_duration_s = -NAN;
	st.obstruction_stats = &ob;
	assert_int_equal(decode_status(&st, &s), 0);
	assert_true(s.valid);
	assert_true(isnan(s.pop_ping_drop_rate));
	assert_true(isnan(s.pop_ping_latency_ms));
	assert_true(isnan(s.downlink_bps));
	assert_true(isnan(s.uplink_bps));
	assert_true(isnan(s.seconds_to_first_nonempty_slot));
	assert_int_equal(s.eth_speed_mbps, -1);
	assert_int_equal(s.info.bootcount, -1);
	assert_string_equal(s.info.id, "ut????x");
	assert_true(isnan(s.fraction_obstructed));
	assert_true(isnan(s.obstruction_valid_s));
	assert_true(isnan(s.avg_prolonged_interval_s));
	assert_true(isnan(s.avg_prolonged_duration_s));

	st.pop_ping_drop_rate = 1.0001f;
	st.pop_ping_latency_ms = 0.f;
	assert_int_equal(decode_status(&st, &s), 0);
	assert_true(isnan(s.pop_ping_drop_rate));
	assert_true(isnan(s.pop_ping_latency_ms));

	st.pop_ping_drop_rate = 1.f;
	st.pop_ping_latency_ms = 10000.5f;
	assert_int_equal(decode_status(&st, &s), 0);
	assert_float_equal(s.pop_ping_drop_rate, 1.0, 0);
	assert_true(isnan(s.pop_ping_latency_ms));

	st.pop_ping_latency_ms = 10000.f;
	assert_int_equal(decode_status(&st, &s), 0);
	assert_float_equal(s.pop_ping_latency_ms, 10000.0, 0);
	st.pop_ping_latency_ms = -20.f;
	assert_int_equal(decode_status(&st, &s), 0);
	assert_true(isnan(s.pop_ping_latency_ms));
	st.pop_ping_latency_ms = 1e-37f;	/* found by the fuzzer: as good as 0 */
	assert_int_equal(decode_status(&st, &s), 0);
	assert_true(isnan(s.pop_ping_latency_ms));
	st.pop_ping_latency_ms = 0.99f;
	assert_int_equal(decode_status(&st, &s), 0);
	assert_true(isnan(s.pop_ping_latency_ms));
	st.pop_ping_latency_ms = 1.f;
	assert_int_equal(decode_status(&st, &s), 0);
	assert_float_equal(s.pop_ping_latency_ms, 1.0, 0);
}

/* Strings longer than the arrays are cut, not overflowed. */
static void test_status_long_strings(void **state)
{
	StatusResponse st = SPACE_X__API__DEVICE__DISH_GET_STATUS_RESPONSE__INIT;
	SpaceX__API__Device__DeviceInfo di = SPACE_X__API__DEVICE__DEVICE_INFO__INIT;
	struct sl_status s;
	char big[400];

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	di.id = di.hardware_version = di.software_version = di.country_code = big;
	st.device_info = &di;
	assert_int_equal(decode_status(&st, &s), 0);
	assert_int_equal(strlen(s.info.id), sizeof(s.info.id) - 1);
	assert_int_equal(strlen(s.info.hardware_version), sizeof(s.info.hardware_version) - 1);
	assert_int_equal(strlen(s.info.software_version), sizeof(s.info.software_version) - 1);
	assert_int_equal(strlen(s.info.country_code), sizeof(s.info.country_code) - 1);
}

static void test_alerts(void **state)
{
	StatusResponse st = SPACE_X__API__DEVICE__DISH_GET_STATUS_RESPONSE__INIT;
	SpaceX__API__Device__DishAlerts al = SPACE_X__API__DEVICE__DISH_ALERTS__INIT;
	uint8_t one = 1, zero = 0, big[2] = { 0x80, 0x01 };
	ProtobufCMessageUnknownField unknown[] = {
		{ .tag = 12, .wire_type = PROTOBUF_C_WIRE_TYPE_VARINT, .len = 1, .data = &one },
		{ .tag = 13, .wire_type = PROTOBUF_C_WIRE_TYPE_VARINT, .len = 1, .data = &zero },
		{ .tag = 24, .wire_type = PROTOBUF_C_WIRE_TYPE_VARINT, .len = 2, .data = big },
		{ .tag = 40, .wire_type = PROTOBUF_C_WIRE_TYPE_VARINT, .len = 1, .data = &one },
	};
	struct sl_status s;
	char buf[256];

	(void)state;
	al.motors_stuck = true;
	al.thermal_throttle = true;
	al.roaming = true;
	al.no_ethernet_link = true;
	al.base.n_unknown_fields = ARRAY_SIZE(unknown);
	al.base.unknown_fields = unknown;
	st.alerts = &al;
	assert_int_equal(decode_status(&st, &s), 0);
	assert_int_equal(s.alerts, 1u << 1 | 1u << 3 | 1u << 7 | 1u << 23 | 1u << 12 | 1u << 24);
	assert_string_equal(sl_alerts_fmt(s.alerts, buf, sizeof(buf)),
			    "motors_stuck,thermal_throttle,roaming,alert_12,no_ethernet_link,alert_24");
	assert_string_equal(sl_alerts_fmt(0, buf, sizeof(buf)), "");
	assert_string_equal(sl_alerts_fmt(s.alerts, buf, 20), "motors_stuck");

	assert_string_equal(sl_alert_name(3), "thermal_throttle");
	assert_string_equal(sl_alert_name(18), "slow_ethernet_speeds_100");
	assert_string_equal(sl_alert_name(23), "no_ethernet_link");
	assert_string_equal(sl_alert_name(15), "alert_15");
	assert_string_equal(sl_alert_name(31), "alert_31");
	assert_null(sl_alert_name(0));
	assert_null(sl_alert_name(32));
	assert_null(sl_alert_name(-1));

	/* every named bool of DishAlerts lands on its own bit */
	for (int n = 1; n <= SL_ALERT_MAX; n++) {
		const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(
			&space_x__api__device__dish_alerts__descriptor, (unsigned)n);
		SpaceX__API__Device__DishAlerts one_alert = SPACE_X__API__DEVICE__DISH_ALERTS__INIT;

		if (!f)
			continue;
		*(protobuf_c_boolean *)(void *)((char *)&one_alert + f->offset) = 1;
		st.alerts = &one_alert;
		assert_int_equal(decode_status(&st, &s), 0);
		assert_int_equal(s.alerts, 1u << n);
	}
}

/* ---- history ---------------------------------------------------------------------- */

#define RING 900

static float drop[RING], lat[RING];

static void ring_fill(HistoryResponse *h, uint64_t current, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		drop[i] = 0.f;
		lat[i] = 30.f;
	}
	h->current = current;
	h->n_pop_ping_drop_rate = h->n_pop_ping_latency_ms = len;
	h->pop_ping_drop_rate = drop;
	h->pop_ping_latency_ms = lat;
}

static void test_history_not_full(void **state)
{
	HistoryResponse h = SPACE_X__API__DEVICE__DISH_GET_HISTORY_RESPONSE__INIT;
	struct sl_history o;

	(void)state;
	ring_fill(&h, 10, RING);
	for (int i = 0; i < 10; i++) {
		drop[i] = i < 5 ? 0.f : 0.5f;
		lat[i] = (float)(20 + i);
	}
	/* beyond `current`: never written, must not count */
	drop[10] = 1.f;
	lat[10] = 9999.f;
	assert_int_equal(decode_history(&h, NULL, 60, &o), 0);
	assert_true(o.valid);
	assert_int_equal(o.current, 10);
	assert_int_equal(o.ring_len, RING);
	assert_int_equal(o.samples, 10);
	assert_int_equal(o.window_samples, 10);
	assert_float_equal(o.drop_rate_avg, 0.25, 1e-9);
	assert_float_equal(o.latency_avg_ms, 24.5, 1e-9);
	assert_int_equal(o.full_drop_samples, 0);
	assert_false(o.rebooted);

	/* a window smaller than what is there: the newest ones */
	assert_int_equal(decode_history(&h, NULL, 4, &o), 0);
	assert_int_equal(o.window_samples, 4);
	assert_float_equal(o.drop_rate_avg, 0.5, 1e-9);
	assert_float_equal(o.latency_avg_ms, 27.5, 1e-9);	/* 26..29 */

	/* window 0: the default */
	assert_int_equal(decode_history(&h, NULL, 0, &o), 0);
	assert_int_equal(o.window_samples, 10);
}

static void test_history_full(void **state)
{
	HistoryResponse h = SPACE_X__API__DEVICE__DISH_GET_HISTORY_RESPONSE__INIT;
	struct sl_history o;

	(void)state;
	ring_fill(&h, RING, RING);
	drop[RING - 1] = 1.f;	/* the newest */
	lat[RING - 1] = 5000.f;
	drop[RING - 2] = 0.5f;
	lat[RING - 2] = 60.f;
	assert_int_equal(decode_history(&h, NULL, 3, &o), 0);
	assert_int_equal(o.samples, RING);
	assert_int_equal(o.window_samples, 3);
	assert_float_equal(o.drop_rate_avg, 0.5, 1e-9);
	assert_float_equal(o.latency_avg_ms, 45.0, 1e-9);	/* (60+30)/2: 100 % drop left out */
	assert_int_equal(o.full_drop_samples, 1);

	/* a window longer than the ring: the ring */
	assert_int_equal(decode_history(&h, NULL, 5000, &o), 0);
	assert_int_equal(o.window_samples, RING);
}

static void test_history_wrapped(void **state)
{
	HistoryResponse h = SPACE_X__API__DEVICE__DISH_GET_HISTORY_RESPONSE__INIT;
	struct sl_history o;

	(void)state;
	/* 1000 written into 900 slots: the newest is at 99, then 98 … 0, 899, … */
	ring_fill(&h, 1000, RING);
	for (int i = 0; i < RING; i++)
		lat[i] = 100.f;
	lat[99] = lat[98] = 10.f;
	lat[0] = 20.f;
	lat[899] = 40.f;
	lat[100] = 1000.f;	/* the oldest: outside a window of 102 */
	assert_int_equal(decode_history(&h, NULL, 102, &o), 0);
	assert_int_equal(o.samples, RING);
	assert_int_equal(o.window_samples, 102);
	/* 99..1 (97 at 100, two at 10), 0 (20), 899 (40), 898 (100) */
	assert_float_equal(o.latency_avg_ms, (97 * 100.0 + 10 + 10 + 20 + 40 + 100) / 102, 1e-9);
	assert_int_equal(decode_history(&h, NULL, 2, &o), 0);
	assert_float_equal(o.latency_avg_ms, 10.0, 1e-9);
	assert_int_equal(decode_history(&h, NULL, 101, &o), 0);
	assert_float_equal(o.latency_avg_ms, (97 * 100.0 + 10 + 10 + 20 + 40) / 101, 1e-9);

	/* a huge `current` (uint64) wraps the same way */
	ring_fill(&h, 900ULL * 1000000000ULL + 7, RING);
	lat[6] = 10.f;
	lat[5] = 20.f;
	assert_int_equal(decode_history(&h, NULL, 2, &o), 0);
	assert_float_equal(o.latency_avg_ms, 15.0, 1e-9);
}

static void test_history_reboot(void **state)
{
	HistoryResponse h = SPACE_X__API__DEVICE__DISH_GET_HISTORY_RESPONSE__INIT;
	struct sl_history prev, o;

	(void)state;
	ring_fill(&h, 5000, RING);
	assert_int_equal(decode_history(&h, NULL, 60, &prev), 0);
	assert_false(prev.rebooted);
	h.current = 5030;
	assert_int_equal(decode_history(&h, &prev, 60, &o), 0);
	assert_false(o.rebooted);
	h.current = 5000;	/* unchanged: not a reboot */
	assert_int_equal(decode_history(&h, &prev, 60, &o), 0);
	assert_false(o.rebooted);
	h.current = 12;
	assert_int_equal(decode_history(&h, &prev, 60, &o), 0);
	assert_true(o.rebooted);
	assert_int_equal(o.samples, 12);
	/* a failed previous read says nothing */
	prev.valid = false;
	assert_int_equal(decode_history(&h, &prev, 60, &o), 0);
	assert_false(o.rebooted);
}

static void test_history_drop_and_junk(void **state)
{
	HistoryResponse h = SPACE_X__API__DEVICE__DISH_GET_HISTORY_RESPONSE__INIT;
	struct sl_history o;

	(void)state;
	ring_fill(&h, 6, RING);
	drop[0] = 1.f;		/* lat 30 ignored */
	drop[1] = 1.f;
	drop[2] = NAN;		/* neither counts */
	lat[2] = 1.f;
	drop[3] = 0.f;
	lat[3] = 0.f;		/* drop counts, latency not */
	drop[4] = 2.f;		/* implausible: neither */
	lat[4] = 1.f;
	drop[5] = 0.f;
	lat[5] = 50.f;
	assert_int_equal(decode_history(&h, NULL, 60, &o), 0);
	assert_int_equal(o.window_samples, 6);
	assert_float_equal(o.drop_rate_avg, 2.0 / 4, 1e-9);
	assert_float_equal(o.latency_avg_ms, 50.0, 1e-9);
	assert_int_equal(o.full_drop_samples, 2);

	/* all at 100 % drop: no latency at all */
	for (int i = 0; i < 6; i++)
		drop[i] = 1.f;
	assert_int_equal(decode_history(&h, NULL, 60, &o), 0);
	assert_float_equal(o.drop_rate_avg, 1.0, 0);
	assert_true(isnan(o.latency_avg_ms));

	/* latency array of another length: latency unknown, drop still counts */
	ring_fill(&h, 6, RING);
	h.n_pop_ping_latency_ms = 5;
	assert_int_equal(decode_history(&h, NULL, 60, &o), 0);
	assert_float_equal(o.drop_rate_avg, 0.0, 0);
	assert_true(isnan(o.latency_avg_ms));
}

static void test_history_empty_and_outages(void **state)
{
	HistoryResponse h = SPACE_X__API__DEVICE__DISH_GET_HISTORY_RESPONSE__INIT;
	SpaceX__API__Device__DishOutage o1 = SPACE_X__API__DEVICE__DISH_OUTAGE__INIT;
	SpaceX__API__Device__DishOutage o2 = SPACE_X__API__DEVICE__DISH_OUTAGE__INIT;
	SpaceX__API__Device__DishOutage *outs[] = { &o2, &o1 };
	struct sl_history o;

	(void)state;
	assert_int_equal(decode_history(&h, NULL, 60, &o), 0);
	assert_true(o.valid);
	assert_int_equal(o.samples, 0);
	assert_int_equal(o.window_samples, 0);
	assert_true(isnan(o.drop_rate_avg));
	assert_true(isnan(o.latency_avg_ms));
	assert_int_equal(o.outages, 0);
	assert_int_equal(o.last_outage_cause, -1);

	/* current set but no arrays */
	h.current = 77;
	assert_int_equal(decode_history(&h, NULL, 60, &o), 0);
	assert_int_equal(o.samples, 0);

	o1.cause = SL_CAUSE_OBSTRUCTED;
	o1.start_timestamp_ns = 2000;
	o1.duration_ns = 1500000000ULL;
	o2.cause = SL_CAUSE_NO_SATS;
	o2.start_timestamp_ns = 1000;
	o2.duration_ns = 3000000000ULL;
	h.n_outages = 2;
	h.outages = outs;
	assert_int_equal(decode_history(&h, NULL, 60, &o), 0);
	assert_int_equal(o.outages, 2);
	assert_float_equal(o.outage_s, 4.5, 1e-9);
	assert_int_equal(o.last_outage_cause, SL_CAUSE_OBSTRUCTED);
}

/* ---- device info, wrong answers, garbage -------------------------------------- */

static void test_device_info(void **state)
{
	Response r = SPACE_X__API__DEVICE__RESPONSE__INIT;
	SpaceX__API__Device__GetDeviceInfoResponse gi = SPACE_X__API__DEVICE__GET_DEVICE_INFO_RESPONSE__INIT;
	SpaceX__API__Device__DeviceInfo di = SPACE_X__API__DEVICE__DEVICE_INFO__INIT;
	struct sl_device_info info;
	uint8_t *buf;
	size_t len;

	(void)state;
	di.id = "ut-1";
	di.software_version = "sw";
	di.bootcount = 3;
	gi.device_info = &di;
	r.response_case = SPACE_X__API__DEVICE__RESPONSE__RESPONSE_GET_DEVICE_INFO;
	r.get_device_info = &gi;
	buf = pack(&r, &len);
	assert_int_equal(sl_decode_device_info(buf, len, &info, err, sizeof(err)), 0);
	assert_true(info.valid);
	assert_string_equal(info.id, "ut-1");
	assert_string_equal(info.software_version, "sw");
	assert_string_equal(info.hardware_version, "");
	assert_int_equal(info.bootcount, 3);
	free(buf);

	/* the same field number means get_status in a Request: not an answer */
	gi.device_info = NULL;
	buf = pack(&r, &len);
	assert_int_equal(sl_decode_device_info(buf, len, &info, err, sizeof(err)), 0);
	assert_true(info.valid);
	assert_int_equal(info.bootcount, -1);
	free(buf);
}

static void test_wrong_answer(void **state)
{
	HistoryResponse h = SPACE_X__API__DEVICE__DISH_GET_HISTORY_RESPONSE__INIT;
	StatusResponse st = SPACE_X__API__DEVICE__DISH_GET_STATUS_RESPONSE__INIT;
	Response r = SPACE_X__API__DEVICE__RESPONSE__INIT;
	SpaceX__API__Device__Status status = SPACE_X__API__DEVICE__STATUS__INIT;
	struct sl_status s;
	struct sl_history o;
	struct sl_device_info info;
	uint8_t *buf;
	size_t len;

	(void)state;
	buf = pack_history(&h, &len);
	assert_int_equal(sl_decode_status(buf, len, &s, err, sizeof(err)), -EPROTO);
	assert_string_equal(err, "unexpected answer: field 2006, wanted 2004");
	assert_false(s.valid);
	assert_true(isnan(s.pop_ping_latency_ms));
	assert_int_equal(sl_decode_device_info(buf, len, &info, err, sizeof(err)), -EPROTO);
	assert_false(info.valid);
	free(buf);

	buf = pack_status(&st, &len);
	assert_int_equal(sl_decode_history(buf, len, NULL, 60, &o, err, sizeof(err)), -EPROTO);
	assert_false(o.valid);
	free(buf);

	/* no oneof at all (and the empty message) */
	buf = pack(&r, &len);
	assert_int_equal(len, 0);
	assert_int_equal(sl_decode_status(buf, len, &s, err, sizeof(err)), -EPROTO);
	assert_string_equal(err, "answer carries no result (wanted field 2004)");
	free(buf);

	/* Response.status with an error code */
	status.code = 7;
	status.message = "no local access";
	r.status = &status;
	r.response_case = SPACE_X__API__DEVICE__RESPONSE__RESPONSE_DISH_GET_STATUS;
	r.dish_get_status = &st;
	buf = pack(&r, &len);
	assert_int_equal(sl_decode_status(buf, len, &s, err, sizeof(err)), -EPROTO);
	assert_string_equal(err, "dish status 7: no local access");
	free(buf);
	/* code 0 is no error */
	status.code = 0;
	buf = pack(&r, &len);
	assert_int_equal(sl_decode_status(buf, len, &s, err, sizeof(err)), 0);
	free(buf);
}

static void test_garbage(void **state)
{
	static const uint8_t bad[][8] = {
		{ 0xff, 0xff, 0xff },			/* varint that never ends */
		{ 0xa2, 0x7d, 0x10 },			/* field 2004, length 16, nothing */
		{ 0xa2, 0x7d, 0x02, 0xff, 0x0f },	/* a status whose inside is cut */
		{ 0x07 },				/* wire type 7 */
		{ 0x0a, 0x05, 'a' },			/* a length beyond the end */
	};
	const char *env = getenv("TEST_SEED");
	unsigned seed = env ? (unsigned)strtoul(env, NULL, 10) : (unsigned)time(NULL);
	struct sl_status s;
	struct sl_history h;
	struct sl_device_info info;
	uint8_t *buf;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		size_t len = i == 0 ? 3 : i == 1 ? 3 : i == 2 ? 5 : i == 3 ? 1 : 3;

		buf = malloc(len);
		memcpy(buf, bad[i], len);
		assert_int_equal(sl_decode_status(buf, len, &s, err, sizeof(err)), -EBADMSG);
		assert_non_null(strstr(err, "bad protobuf"));
		assert_int_equal(sl_decode_history(buf, len, NULL, 0, &h, err, sizeof(err)), -EBADMSG);
		assert_int_equal(sl_decode_device_info(buf, len, &info, err, sizeof(err)), -EBADMSG);
		free(buf);
	}
	printf("test_garbage: seed %u (set TEST_SEED to repeat)\n", seed);
	srand(seed);
	for (int round = 0; round < 3000; round++) {
		size_t len = (size_t)(rand() % 300);

		buf = malloc(len ? len : 1);
		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)rand();
		if (len > 3 && round % 2) {	/* look like an answer more often */
			buf[0] = 0xa2;
			buf[1] = round % 4 == 1 ? 0x7d : 0x7d + 2;
		}
		sl_decode_status(buf, len, &s, err, sizeof(err));
		sl_decode_history(buf, len, NULL, 0, &h, err, sizeof(err));
		sl_decode_device_info(buf, len, &info, err, sizeof(err));
		free(buf);
	}
}

/* A history far larger than the scratch arena decodes too (malloc fallback). */
static void test_history_big(void **state)
{
	HistoryResponse h = SPACE_X__API__DEVICE__DISH_GET_HISTORY_RESPONSE__INIT;
	size_t n = 40000;
	float *d = calloc(n, sizeof(float)), *l = calloc(n, sizeof(float));
	struct sl_history o;

	(void)state;
	for (size_t i = 0; i < n; i++)
		l[i] = 25.f;
	h.current = n + 10;
	h.n_pop_ping_drop_rate = h.n_pop_ping_latency_ms = n;
	h.pop_ping_drop_rate = d;
	h.pop_ping_latency_ms = l;
	h.n_downlink_throughput_bps = h.n_uplink_throughput_bps = n;
	h.downlink_throughput_bps = h.uplink_throughput_bps = d;
	assert_int_equal(decode_history(&h, NULL, 60, &o), 0);
	assert_int_equal(o.samples, n);
	assert_float_equal(o.latency_avg_ms, 25.0, 1e-9);
	free(d);
	free(l);
}

/* ---- gRPC framing ----------------------------------------------------------------- */

static int unframe(const uint8_t *bytes, size_t len, const uint8_t **msg, size_t *msglen)
{
	uint8_t *copy = malloc(len ? len : 1);
	int rc;

	memcpy(copy, bytes, len);
	rc = sl_grpc_unframe(copy, len, msg, msglen, err, sizeof(err));
	if (!rc)
		assert_true(*msg == copy + 5);
	free(copy);
	return rc;
}

static void test_unframe(void **state)
{
	static const uint8_t ok[] = { 0, 0, 0, 0, 3, 0xa2, 0x7d, 0x00 };
	static const uint8_t empty_msg[] = { 0, 0, 0, 0, 0 };
	static const uint8_t compressed[] = { 1, 0, 0, 0, 3, 0xa2, 0x7d, 0x00 };
	static const uint8_t flag2[] = { 2, 0, 0, 0, 0 };
	static const uint8_t truncated[] = { 0, 0, 0, 0, 9, 0xa2, 0x7d, 0x00 };
	static const uint8_t trailing[] = { 0, 0, 0, 0, 1, 0xa2, 0x7d, 0x00 };
	static const uint8_t oversize[] = { 0, 0, 0x10, 0, 1, 0 };
	static const uint8_t huge[] = { 0, 0xff, 0xff, 0xff, 0xff, 0 };
	static const uint8_t at_cap[] = { 0, 0, 0x10, 0, 0, 0 };
	const uint8_t *msg;
	size_t msglen;

	(void)state;
	assert_int_equal(unframe(ok, sizeof(ok), &msg, &msglen), 0);
	assert_int_equal(msglen, 3);
	assert_int_equal(unframe(empty_msg, sizeof(empty_msg), &msg, &msglen), 0);
	assert_int_equal(msglen, 0);

	assert_int_equal(unframe(ok, 0, &msg, &msglen), -EBADMSG);
	assert_string_equal(err, "empty response body: no gRPC message");
	assert_int_equal(unframe(ok, 4, &msg, &msglen), -EBADMSG);
	assert_string_equal(err, "short gRPC frame: 4 bytes");
	assert_int_equal(unframe(compressed, sizeof(compressed), &msg, &msglen), -ENOTSUP);
	assert_string_equal(err, "compressed gRPC message (none was asked for)");
	assert_int_equal(unframe(flag2, sizeof(flag2), &msg, &msglen), -EBADMSG);
	assert_string_equal(err, "bad gRPC frame flag 0x02");
	assert_int_equal(unframe(truncated, sizeof(truncated), &msg, &msglen), -EBADMSG);
	assert_string_equal(err, "truncated gRPC message: 9 bytes announced, 3 arrived");
	assert_int_equal(unframe(trailing, sizeof(trailing), &msg, &msglen), -EBADMSG);
	assert_string_equal(err, "2 bytes after the gRPC message");
	assert_int_equal(unframe(oversize, sizeof(oversize), &msg, &msglen), -EMSGSIZE);
	assert_string_equal(err, "gRPC message of 1048577 bytes exceeds the 1048576 byte cap");
	assert_int_equal(unframe(huge, sizeof(huge), &msg, &msglen), -EMSGSIZE);
	/* exactly the cap is allowed, but must all be there */
	assert_int_equal(unframe(at_cap, sizeof(at_cap), &msg, &msglen), -EBADMSG);
	assert_non_null(strstr(err, "truncated"));
	/* a NULL or zero-length err buffer is fine */
	assert_int_equal(sl_grpc_unframe(ok, 2, &msg, &msglen, NULL, 0), -EBADMSG);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(sl_call_name(SL_STATUS), "status");
	assert_string_equal(sl_call_name(SL_HISTORY), "history");
	assert_string_equal(sl_call_name(SL_DEVICE_INFO), "device_info");
	assert_string_equal(sl_call_name(__SL_CALL_MAX), "?");
	assert_string_equal(sl_call_name((enum sl_call)-1), "?");
	for (int i = -2; i < 40; i++)
		assert_non_null(sl_cause_name(i));
	assert_string_equal(sl_cause_name(SL_CAUSE_SKY_SEARCH), "SKY_SEARCH");
	assert_string_equal(sl_cause_name(SL_CAUSE_BOOTING), "BOOTING");
}

/* ---- the client against an in-process HTTP/2 server -------------------------- */

struct fake_stream {
	uint8_t req[64];
	size_t reqlen;
	uint8_t *body;
	size_t len, off;
};

/* The answer a fake dish gives; zero = a normal answer to whatever was asked. */
struct fake {
	struct ev_loop *loop;
	ev_io io;
	nghttp2_session *h2;
	int http_status;		/* 0: 200 */
	const char *ctype;		/* NULL: application/grpc */
	const char *grpc_status;	/* NULL: "0"; "" = none */
	const char *grpc_message;
	const uint8_t *body;		/* the whole body, framing included; NULL: built */
	size_t bodylen;
	bool trailers_only, hang, close_on_request;
	int goaway;			/* after an answer: GOAWAY with this code + 1 */
	int requests, last_case;
	char path[64], te[16], ctype_seen[32];
	struct fake_stream streams[16];	/* by stream id: nghttp2 frees nothing of ours */
};

#define GOT_MAX	32

struct got {
	int n, want;
	struct ev_loop *loop;
	enum sl_call what[GOT_MAX];
	bool ok[GOT_MAX];
	char err[GOT_MAX][SL_ERR_LEN];
	double at[GOT_MAX];
	struct sl_status st;
	struct sl_history hi;
	struct sl_device_info info;
	bool again;	/* start the next status call from the callback */
	bool fini;	/* call sl_fini from the callback */
};

static void on_result(struct sl_client *c, enum sl_call what, const void *result,
		      const char *e, void *ctx)
{
	struct got *g = ctx;
	int i = g->n;

	assert_true(i < GOT_MAX);

	g->what[i] = what;
	g->ok[i] = result != NULL;
	g->at[i] = ev_time();
	snprintf(g->err[i], sizeof(g->err[i]), "%s", e ? e : "");
	assert_true((result == NULL) != (e == NULL));
	if (result && what == SL_STATUS)
		g->st = *(const struct sl_status *)result;
	if (result && what == SL_HISTORY)
		g->hi = *(const struct sl_history *)result;
	if (result && what == SL_DEVICE_INFO)
		g->info = *(const struct sl_device_info *)result;
	g->n++;
	if (g->fini) {
		sl_fini(c);
		ev_break(g->loop, EVBREAK_ALL);
		return;
	}
	if (g->again) {
		g->again = false;
		assert_int_equal(sl_request(c, SL_STATUS), 0);
		g->want++;
	}
	if (g->n >= g->want)
		ev_break(g->loop, EVBREAK_ALL);
}

static void give_up(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

/* Runs the loop for a while, whatever happens. */
static void spin(struct ev_loop *loop, double s)
{
	ev_timer t;

	ev_timer_init(&t, give_up, s, 0.);
	ev_timer_start(loop, &t);
	ev_run(loop, 0);
	ev_timer_stop(loop, &t);
}

/* Runs the loop until g has want results or limit_s passed. */
static void run(struct got *g, double limit_s)
{
	ev_timer t;

	ev_timer_init(&t, give_up, limit_s, 0.);
	ev_timer_start(g->loop, &t);
	if (g->n < g->want)
		ev_run(g->loop, 0);
	ev_timer_stop(g->loop, &t);
}

static uint8_t *frame_response(const Response *r, size_t *len)
{
	size_t n = space_x__api__device__response__get_packed_size(r);
	uint8_t *buf = malloc(n + 5);

	buf[0] = 0;
	buf[1] = (uint8_t)(n >> 24);
	buf[2] = (uint8_t)(n >> 16);
	buf[3] = (uint8_t)(n >> 8);
	buf[4] = (uint8_t)n;
	space_x__api__device__response__pack(r, buf + 5);
	*len = n + 5;
	return buf;
}

/* A normal answer to what the Request asked. */
static uint8_t *normal_answer(int request_case, size_t *len)
{
	Response r = SPACE_X__API__DEVICE__RESPONSE__INIT;
	StatusResponse st = SPACE_X__API__DEVICE__DISH_GET_STATUS_RESPONSE__INIT;
	HistoryResponse h = SPACE_X__API__DEVICE__DISH_GET_HISTORY_RESPONSE__INIT;
	SpaceX__API__Device__GetDeviceInfoResponse gi = SPACE_X__API__DEVICE__GET_DEVICE_INFO_RESPONSE__INIT;
	SpaceX__API__Device__DeviceInfo di = SPACE_X__API__DEVICE__DEVICE_INFO__INIT;
	static float d[4] = { 0, 0, 0.5f, 0 }, l[4] = { 30, 40, 50, 60 };

	di.id = "ut-fake";
	switch (request_case) {
	case SPACE_X__API__DEVICE__REQUEST__REQUEST_GET_STATUS:
		st.pop_ping_latency_ms = 33.f;
		st.device_info = &di;
		r.response_case = SPACE_X__API__DEVICE__RESPONSE__RESPONSE_DISH_GET_STATUS;
		r.dish_get_status = &st;
		break;
	case SPACE_X__API__DEVICE__REQUEST__REQUEST_GET_HISTORY:
		h.current = 4;
		h.n_pop_ping_drop_rate = h.n_pop_ping_latency_ms = 4;
		h.pop_ping_drop_rate = d;
		h.pop_ping_latency_ms = l;
		r.response_case = SPACE_X__API__DEVICE__RESPONSE__RESPONSE_DISH_GET_HISTORY;
		r.dish_get_history = &h;
		break;
	default:
		gi.device_info = &di;
		r.response_case = SPACE_X__API__DEVICE__RESPONSE__RESPONSE_GET_DEVICE_INFO;
		r.get_device_info = &gi;
		break;
	}
	return frame_response(&r, len);
}

static void fake_close(struct fake *f)
{
	for (size_t i = 0; i < ARRAY_SIZE(f->streams); i++) {
		free(f->streams[i].body);
		f->streams[i].body = NULL;
	}
	if (!f->h2)
		return;
	ev_io_stop(f->loop, &f->io);
	close(f->io.fd);
	nghttp2_session_del(f->h2);
	f->h2 = NULL;
}

static ssize_t fake_send(nghttp2_session *h2, const uint8_t *data, size_t len, int flags,
			 void *user)
{
	struct fake *f = user;
	ssize_t n = send(f->io.fd, data, len, MSG_NOSIGNAL);

	(void)h2;
	(void)flags;
	if (n < 0 && errno == EAGAIN)
		return NGHTTP2_ERR_WOULDBLOCK;
	return n < 0 ? NGHTTP2_ERR_CALLBACK_FAILURE : n;
}

#define FNV(n, v) { (uint8_t *)(n), (uint8_t *)(v), strlen(n), strlen(v), NGHTTP2_NV_FLAG_NONE }

static void fake_trailers(struct fake *f, int32_t id)
{
	nghttp2_nv t[2] = { FNV("grpc-status", f->grpc_status ? f->grpc_status : "0") };
	size_t n = 1;

	if (f->grpc_status && !f->grpc_status[0])
		return;
	if (f->grpc_message)
		t[n++] = (nghttp2_nv)FNV("grpc-message", f->grpc_message);
	nghttp2_submit_trailer(f->h2, id, t, n);
}

static ssize_t fake_body(nghttp2_session *h2, int32_t id, uint8_t *buf, size_t len,
			 uint32_t *flags, nghttp2_data_source *src, void *user)
{
	struct fake_stream *fs = src->ptr;
	struct fake *f = user;
	size_t n = fs->len - fs->off;

	(void)h2;
	if (n > len)
		n = len;
	memcpy(buf, fs->body + fs->off, n);
	fs->off += n;
	if (fs->off == fs->len) {
		*flags |= NGHTTP2_DATA_FLAG_EOF;
		if (!f->grpc_status || f->grpc_status[0]) {
			*flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
			fake_trailers(f, id);
		}
	}
	return (ssize_t)n;
}

static void fake_answer(struct fake *f, int32_t id, struct fake_stream *fs)
{
	SpaceX__API__Device__Request *req;
	nghttp2_data_provider prd = { .source.ptr = fs, .read_callback = fake_body };
	char status[8];
	nghttp2_nv h[5];
	size_t n = 0;

	f->requests++;
	req = fs->reqlen >= 5 ? space_x__api__device__request__unpack(NULL, fs->reqlen - 5,
								       fs->req + 5) : NULL;
	f->last_case = req ? (int)req->request_case : -1;
	if (req)
		space_x__api__device__request__free_unpacked(req, NULL);
	if (f->hang)
		return;
	if (f->close_on_request) {
		shutdown(f->io.fd, SHUT_RDWR);
		return;
	}
	snprintf(status, sizeof(status), "%d", f->http_status ? f->http_status : 200);
	h[n++] = (nghttp2_nv)FNV(":status", status);
	h[n++] = (nghttp2_nv)FNV("content-type", f->ctype ? f->ctype : "application/grpc");
	if (f->trailers_only) {
		if (f->grpc_status && f->grpc_status[0])
			h[n++] = (nghttp2_nv)FNV("grpc-status", f->grpc_status);
		if (f->grpc_message)
			h[n++] = (nghttp2_nv)FNV("grpc-message", f->grpc_message);
		nghttp2_submit_response(f->h2, id, h, n, NULL);
		return;
	}
	if (f->body) {
		fs->body = malloc(f->bodylen ? f->bodylen : 1);
		memcpy(fs->body, f->body, f->bodylen);
		fs->len = f->bodylen;
	} else {
		fs->body = normal_answer(f->last_case, &fs->len);
	}
	nghttp2_submit_response(f->h2, id, h, n, &prd);
}

static int fake_begin(nghttp2_session *h2, const nghttp2_frame *frame, void *user)
{
	struct fake *f = user;
	struct fake_stream *fs = &f->streams[(frame->hd.stream_id / 2) % ARRAY_SIZE(f->streams)];

	if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
		free(fs->body);
		memset(fs, 0, sizeof(*fs));
		nghttp2_session_set_stream_user_data(h2, frame->hd.stream_id, fs);
	}
	return 0;
}

static int fake_header(nghttp2_session *h2, const nghttp2_frame *frame, const uint8_t *name,
		       size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
		       void *user)
{
	struct fake *f = user;

	(void)h2;
	(void)frame;
	(void)flags;
	if (namelen == 5 && !memcmp(name, ":path", 5))
		snprintf(f->path, sizeof(f->path), "%.*s", (int)valuelen, (const char *)value);
	if (namelen == 2 && !memcmp(name, "te", 2))
		snprintf(f->te, sizeof(f->te), "%.*s", (int)valuelen, (const char *)value);
	if (namelen == 12 && !memcmp(name, "content-type", 12))
		snprintf(f->ctype_seen, sizeof(f->ctype_seen), "%.*s", (int)valuelen,
			 (const char *)value);
	return 0;
}

static int fake_data(nghttp2_session *h2, uint8_t flags, int32_t id, const uint8_t *data,
		     size_t len, void *user)
{
	struct fake_stream *fs = nghttp2_session_get_stream_user_data(h2, id);

	(void)flags;
	(void)user;
	if (fs && len <= sizeof(fs->req) - fs->reqlen) {
		memcpy(fs->req + fs->reqlen, data, len);
		fs->reqlen += len;
	}
	return 0;
}

static int fake_frame(nghttp2_session *h2, const nghttp2_frame *frame, void *user)
{
	struct fake_stream *fs = nghttp2_session_get_stream_user_data(h2, frame->hd.stream_id);

	if (fs && (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) &&
	    (frame->hd.type == NGHTTP2_DATA || frame->hd.type == NGHTTP2_HEADERS))
		fake_answer(user, frame->hd.stream_id, fs);
	return 0;
}

static int fake_stream_close(nghttp2_session *h2, int32_t id, uint32_t code, void *user)
{
	struct fake_stream *fs = nghttp2_session_get_stream_user_data(h2, id);

	struct fake *f = user;

	(void)code;
	if (fs) {
		free(fs->body);
		fs->body = NULL;
	}
	if (f->goaway)
		nghttp2_submit_goaway(h2, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(h2),
				      (uint32_t)(f->goaway - 1), NULL, 0);
	return 0;
}

static void fake_io(struct ev_loop *loop, ev_io *w, int revents)
{
	struct fake *f = container_of(w, struct fake, io);
	uint8_t buf[16384];
	ssize_t n;

	(void)loop;
	if (revents & EV_READ) {
		n = read(w->fd, buf, sizeof(buf));
		if (n <= 0 || nghttp2_session_mem_recv(f->h2, buf, (size_t)n) < 0) {
			fake_close(f);
			return;
		}
	}
	if (nghttp2_session_send(f->h2) != 0) {
		fake_close(f);
		return;
	}
	ev_io_stop(f->loop, &f->io);
	ev_io_set(&f->io, w->fd, EV_READ | (nghttp2_session_want_write(f->h2) ? EV_WRITE : 0));
	ev_io_start(f->loop, &f->io);
}

static void fake_start(struct fake *f, struct ev_loop *loop, int fd)
{
	nghttp2_session_callbacks *cbs;
	nghttp2_settings_entry set = { NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100 };

	f->loop = loop;
	nghttp2_session_callbacks_new(&cbs);
	nghttp2_session_callbacks_set_send_callback(cbs, fake_send);
	nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, fake_begin);
	nghttp2_session_callbacks_set_on_header_callback(cbs, fake_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, fake_data);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, fake_frame);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, fake_stream_close);
	assert_int_equal(nghttp2_session_server_new(&f->h2, cbs, f), 0);
	nghttp2_session_callbacks_del(cbs);
	nghttp2_submit_settings(f->h2, NGHTTP2_FLAG_NONE, &set, 1);
	ev_io_init(&f->io, fake_io, fd, EV_READ | EV_WRITE);
	ev_io_start(loop, &f->io);
}

struct pair {
	struct ev_loop *loop;
	struct sl_client c;
	struct fake f;
	struct got g;
};

/* A client and a fake dish on the two ends of a socketpair. */
static void pair_start(struct pair *p, unsigned timeout_ms)
{
	struct sl_cfg cfg = { .address = "127.0.0.1:9200", .timeout_ms = timeout_ms };
	int sv[2];

	memset(p, 0, sizeof(*p));
	p->loop = ev_loop_new(EVFLAG_AUTO);
	p->g.loop = p->loop;
	assert_int_equal(sl_init(&p->c, p->loop, &cfg, on_result, &p->g), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	fake_start(&p->f, p->loop, sv[1]);
	assert_int_equal(sl_adopt_fd(&p->c, sv[0]), 0);
}

static void pair_stop(struct pair *p)
{
	sl_fini(&p->c);
	sl_fini(&p->c);		/* idempotent */
	fake_close(&p->f);
	ev_loop_destroy(p->loop);
}

/* Runs one call of what against the fake answer and returns the error ("" ok). */
static const char *one_call(struct pair *p, enum sl_call what)
{
	p->g.want = p->g.n + 1;
	assert_int_equal(sl_request(&p->c, what), 0);
	run(&p->g, 3.0);
	assert_int_equal(p->g.n, p->g.want);
	return p->g.err[p->g.n - 1];
}

static void test_client_calls(void **state)
{
	struct pair p;

	(void)state;
	pair_start(&p, 1000);
	assert_string_equal(one_call(&p, SL_STATUS), "");
	assert_string_equal(p.f.path, "/SpaceX.API.Device.Device/Handle");
	assert_string_equal(p.f.te, "trailers");
	assert_string_equal(p.f.ctype_seen, "application/grpc");
	assert_int_equal(p.f.last_case, SPACE_X__API__DEVICE__REQUEST__REQUEST_GET_STATUS);
	assert_true(p.g.st.valid);
	assert_float_equal(p.g.st.pop_ping_latency_ms, 33.0, 1e-6);
	assert_string_equal(p.g.st.info.id, "ut-fake");
	assert_true(p.c.status.valid);

	assert_string_equal(one_call(&p, SL_HISTORY), "");
	assert_int_equal(p.f.last_case, SPACE_X__API__DEVICE__REQUEST__REQUEST_GET_HISTORY);
	assert_int_equal(p.g.hi.samples, 4);
	assert_float_equal(p.g.hi.latency_avg_ms, (30 + 40 + 50 + 60) / 4.0, 1e-9);
	assert_string_equal(one_call(&p, SL_DEVICE_INFO), "");
	assert_int_equal(p.f.last_case, SPACE_X__API__DEVICE__REQUEST__REQUEST_GET_DEVICE_INFO);
	assert_string_equal(p.g.info.id, "ut-fake");

	/* all three at once, one connection; a second call of a kind is refused */
	p.g.want = p.g.n + 3;
	assert_int_equal(sl_request(&p.c, SL_STATUS), 0);
	assert_int_equal(sl_request(&p.c, SL_STATUS), -EBUSY);
	assert_int_equal(sl_request(&p.c, SL_HISTORY), 0);
	assert_int_equal(sl_request(&p.c, SL_DEVICE_INFO), 0);
	assert_int_equal(sl_request(&p.c, __SL_CALL_MAX), -EINVAL);
	assert_int_equal(p.g.n, 3);	/* no callback from inside sl_request */
	run(&p.g, 3.0);
	assert_int_equal(p.g.n, 6);
	for (int i = 3; i < 6; i++)
		assert_true(p.g.ok[i]);

	/* a callback that starts the next call */
	p.g.again = true;
	p.g.want = p.g.n + 1;
	assert_int_equal(sl_request(&p.c, SL_STATUS), 0);
	run(&p.g, 3.0);
	assert_int_equal(p.g.n, 8);
	assert_true(p.g.ok[7]);
	assert_int_equal(p.f.requests, 8);
	assert_int_equal(p.c.connects, 1);
	assert_int_equal(p.c.calls_ok, 8);
	pair_stop(&p);
}

/* The callback may end the client: no other callback follows. */
static void test_client_fini_in_callback(void **state)
{
	struct pair p;

	(void)state;
	pair_start(&p, 1000);
	p.g.fini = true;
	p.g.want = 3;
	for (int i = 0; i < __SL_CALL_MAX; i++)
		assert_int_equal(sl_request(&p.c, (enum sl_call)i), 0);
	run(&p.g, 3.0);
	assert_int_equal(p.g.n, 1);
	spin(p.loop, 0.2);
	assert_int_equal(p.g.n, 1);
	assert_null(p.c.loop);
	assert_int_equal(sl_request(&p.c, SL_STATUS), -EINVAL);
	pair_stop(&p);
}

/* GOAWAY after an answer: a quiet close, no backoff; with an error code: a
 * failure like any other. */
static void test_client_goaway(void **state)
{
	struct pair p;

	(void)state;
	pair_start(&p, 1000);
	p.f.goaway = 1 + NGHTTP2_NO_ERROR;
	warnings = 0;
	assert_string_equal(one_call(&p, SL_STATUS), "");
	spin(p.loop, 0.1);
	assert_int_equal(p.c.state, SL_DOWN);
	assert_int_equal(p.c.backoff_ms, 0);
	assert_false(ev_is_active(&p.c.backoff));
	assert_int_equal(warnings, 0);
	pair_stop(&p);

	pair_start(&p, 1000);
	p.f.goaway = 1 + NGHTTP2_ENHANCE_YOUR_CALM;
	assert_int_equal(sl_request(&p.c, SL_STATUS), 0);
	assert_int_equal(sl_request(&p.c, SL_HISTORY), 0);
	p.g.want = 2;
	run(&p.g, 3.0);
	assert_int_equal(p.g.n, 2);
	spin(p.loop, 0.1);
	assert_int_equal(p.c.state, SL_DOWN);
	assert_int_equal(p.c.backoff_ms, 1000);
	assert_non_null(strstr(last_log, "ENHANCE_YOUR_CALM"));
	pair_stop(&p);
}

static void test_client_grpc_errors(void **state)
{
	static const uint8_t compressed[] = { 1, 0, 0, 0, 1, 0 };
	static const uint8_t junk[] = { 0, 0, 0, 0, 3, 0xff, 0xff, 0xff };
	static const uint8_t short_body[] = { 0, 0, 0, 0, 9, 0 };
	struct pair p;

	(void)state;
	pair_start(&p, 1000);
	warnings = 0;
	p.f.grpc_status = "7";
	p.f.grpc_message = "local%20access%20is%20disabled";
	p.f.trailers_only = true;
	assert_string_equal(one_call(&p, SL_STATUS),
			    "grpc-status 7 (PERMISSION_DENIED): local access is disabled");
	assert_non_null(strstr(last_log, "bad status answer from the dish at 127.0.0.1:9200: grpc-status 7"));
	assert_int_equal(warnings, 1);
	/* the same trouble again is not logged again */
	assert_string_equal(one_call(&p, SL_STATUS),
			    "grpc-status 7 (PERMISSION_DENIED): local access is disabled");
	assert_int_equal(warnings, 1);

	p.f.grpc_status = "";
	p.f.grpc_message = NULL;
	assert_string_equal(one_call(&p, SL_STATUS), "missing grpc-status");
	p.f.trailers_only = false;
	assert_string_equal(one_call(&p, SL_STATUS), "missing grpc-status");
	p.f.grpc_status = "x1";
	assert_string_equal(one_call(&p, SL_STATUS), "malformed grpc-status");
	p.f.grpc_status = "13";
	assert_string_equal(one_call(&p, SL_STATUS), "grpc-status 13 (INTERNAL): no message");
	p.f.grpc_status = NULL;

	p.f.ctype = "text/html";
	assert_string_equal(one_call(&p, SL_STATUS), "wrong content-type \"text/html\"");
	p.f.ctype = "application/grpcx";
	assert_string_equal(one_call(&p, SL_STATUS), "wrong content-type \"application/grpcx\"");
	p.f.ctype = "application/grpc+proto";
	assert_string_equal(one_call(&p, SL_STATUS), "");
	assert_non_null(strstr(last_log, "status answers from 127.0.0.1:9200 are good again"));
	p.f.ctype = NULL;

	p.f.http_status = 503;
	assert_string_equal(one_call(&p, SL_STATUS), "HTTP status 503");
	p.f.http_status = 0;

	p.f.body = compressed;
	p.f.bodylen = sizeof(compressed);
	assert_string_equal(one_call(&p, SL_STATUS), "compressed gRPC message (none was asked for)");
	p.f.body = junk;
	p.f.bodylen = sizeof(junk);
	assert_string_equal(one_call(&p, SL_HISTORY), "bad protobuf: 3 bytes are not a Response");
	p.f.body = short_body;
	p.f.bodylen = sizeof(short_body);
	assert_string_equal(one_call(&p, SL_HISTORY),
			    "truncated gRPC message: 9 bytes announced, 1 arrived");
	p.f.bodylen = 0;
	assert_string_equal(one_call(&p, SL_DEVICE_INFO), "empty response body: no gRPC message");
	p.f.body = NULL;

	/* a history answer to a status question */
	{
		size_t len;
		uint8_t *h = normal_answer(SPACE_X__API__DEVICE__REQUEST__REQUEST_GET_HISTORY, &len);

		p.f.body = h;
		p.f.bodylen = len;
		assert_string_equal(one_call(&p, SL_STATUS), "unexpected answer: field 2006, wanted 2004");
		p.f.body = NULL;
		free(h);
	}
	/* garbage answers are answers: the one connection stays */
	assert_string_equal(one_call(&p, SL_STATUS), "");
	assert_int_equal(p.c.connects, 1);
	assert_int_equal(p.c.backoff_ms, 0);
	pair_stop(&p);
}

static void test_client_too_big(void **state)
{
	size_t len = SL_MAX_MSG + 5 + 100;
	uint8_t *big = calloc(1, len);
	struct pair p;

	(void)state;
	big[1] = 0x10;	/* 1 MiB announced, and more than that sent */
	pair_start(&p, 3000);
	p.f.body = big;
	p.f.bodylen = len;
	assert_string_equal(one_call(&p, SL_HISTORY), "response larger than 1048581 bytes");
	/* the stream was reset, the connection is fine */
	p.f.body = NULL;
	assert_string_equal(one_call(&p, SL_HISTORY), "");
	assert_int_equal(p.c.connects, 1);
	pair_stop(&p);
	free(big);
}

static void test_client_hang_and_close(void **state)
{
	struct pair p;
	double t0;

	(void)state;
	pair_start(&p, 200);
	p.f.hang = true;
	t0 = ev_time();
	assert_string_equal(one_call(&p, SL_STATUS), "timeout");
	assert_true(p.g.at[0] - t0 >= 0.19);
	assert_true(p.g.at[0] - t0 < 0.5);
	assert_int_equal(p.c.state, SL_DOWN);	/* a silent dish's connection goes */
	assert_int_equal(p.c.backoff_ms, 1000);
	assert_non_null(strstr(last_log, "timeout"));
	pair_stop(&p);

	pair_start(&p, 1000);
	p.f.close_on_request = true;
	assert_string_equal(one_call(&p, SL_STATUS), "connection closed by the dish");
	assert_int_equal(p.c.state, SL_DOWN);
	pair_stop(&p);
}

/* A peer that does not speak HTTP/2 at all. */
static void test_client_not_h2(void **state)
{
	static const char http1[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
	struct sl_cfg cfg = { .address = "127.0.0.1" };
	struct sl_client c;
	struct got g = { .want = 1 };
	int sv[2];

	(void)state;
	g.loop = ev_loop_new(EVFLAG_AUTO);
	assert_int_equal(sl_init(&c, g.loop, &cfg, on_result, &g), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[1], http1, sizeof(http1) - 1), (ssize_t)sizeof(http1) - 1);
	assert_int_equal(sl_adopt_fd(&c, sv[0]), 0);
	assert_int_equal(sl_request(&c, SL_STATUS), 0);
	run(&g, 3.0);
	assert_int_equal(g.n, 1);
	assert_false(g.ok[0]);
	assert_true(!strncmp(g.err[0], "HTTP/2", 6));
	assert_int_equal(c.state, SL_DOWN);
	sl_fini(&c);
	close(sv[1]);
	ev_loop_destroy(g.loop);
}

static int free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_int_equal(bind(fd, (struct sockaddr *)&sa, len), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

static void test_client_refused(void **state)
{
	char addr[32], want[64];
	struct sl_cfg cfg = { .address = addr, .timeout_ms = 300 };
	struct sl_client c;
	struct got g = { 0 };

	(void)state;
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", free_port());
	g.loop = ev_loop_new(EVFLAG_AUTO);
	assert_int_equal(sl_init(&c, g.loop, &cfg, on_result, &g), 0);
	warnings = 0;
	g.want = 1;
	assert_int_equal(sl_request(&c, SL_STATUS), 0);
	run(&g, 2.0);
	snprintf(want, sizeof(want), "connect %s: Connection refused", addr);
	assert_string_equal(g.err[0], want);
	assert_int_equal(c.backoff_ms, 1000);
	assert_int_equal(warnings, 1);
	assert_non_null(strstr(last_log, "cannot reach the dish at"));

	/* in backoff, and it ends after the deadline: fail at once, no connect */
	g.want = 2;
	assert_int_equal(sl_request(&c, SL_HISTORY), 0);
	run(&g, 2.0);
	assert_true(!strncmp(g.err[1], "not connected: connect 127.0.0.1:", 33));
	assert_non_null(strstr(g.err[1], "(next attempt in "));
	assert_true(g.at[1] - g.at[0] < 0.1);

	/* the next attempt, after the backoff, fails again: 2 s now */
	g.want = 3;
	usleep(1000 * 1000);
	ev_now_update(g.loop);
	assert_int_equal(sl_request(&c, SL_STATUS), 0);
	run(&g, 2.0);
	assert_int_equal(g.n, 3);
	assert_string_equal(g.err[2], want);
	assert_int_equal(c.backoff_ms, 2000);
	assert_int_equal(warnings, 1);	/* still down: not logged again */
	assert_int_equal(c.connects, 0);
	sl_fini(&c);
	ev_loop_destroy(g.loop);
}

/* TCP accepted by the kernel, never answered: the deadline ends the call. */
static void test_client_silent_listener(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	char addr[32];
	struct sl_cfg cfg = { .address = addr, .timeout_ms = 250 };
	struct sl_client c;
	struct got g = { .want = 3 };
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	double t0;

	(void)state;
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, len), 0);
	assert_int_equal(listen(lfd, 4), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &len), 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", ntohs(sa.sin_port));
	g.loop = ev_loop_new(EVFLAG_AUTO);
	assert_int_equal(sl_init(&c, g.loop, &cfg, on_result, &g), 0);
	t0 = ev_time();
	assert_int_equal(sl_request(&c, SL_STATUS), 0);
	assert_int_equal(sl_request(&c, SL_HISTORY), 0);
	assert_int_equal(sl_request(&c, SL_DEVICE_INFO), 0);
	run(&g, 2.0);
	assert_int_equal(g.n, 3);
	for (int i = 0; i < 3; i++) {
		assert_string_equal(g.err[i], "timeout");
		assert_true(g.at[i] - t0 >= 0.24 && g.at[i] - t0 < 0.6);
	}
	assert_int_equal(c.connects, 1);
	assert_int_equal(c.calls_failed, 3);
	sl_fini(&c);
	close(lfd);
	ev_loop_destroy(g.loop);
}

static void test_client_init(void **state)
{
	static const char *const good[] = {
		"192.168.100.1:9200", "192.168.100.1", "[::1]:9200", "[fe80::1%lo]:9200", "::1",
		"[::1]",
	};
	static const char *const bad[] = {
		"dish.local:9200", "1.2.3.4:", "1.2.3.4:0", "1.2.3.4:65536", "1.2.3.4:-1",
		"1.2.3.4:12x", "[::1", "[::1]x", "[]:80", "1.2.3.4.5", ":9200",
		"0123456789012345678901234567890123456789012345678901234567890123456789:1",
	};
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct sl_cfg cfg = { 0 };
	struct sl_client c;
	struct got g = { .loop = loop };

	(void)state;
	assert_int_equal(sl_init(&c, loop, NULL, on_result, &g), 0);
	assert_string_equal(c.address, SL_DEFAULT_ADDRESS);
	assert_int_equal(c.timeout_ms, SL_DEFAULT_TIMEOUT_MS);
	assert_int_equal(ntohs(c.sa.in.sin_port), 9200);
	sl_fini(&c);
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		cfg.address = good[i];
		assert_int_equal(sl_init(&c, loop, &cfg, on_result, &g), 0);
		sl_fini(&c);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		cfg.address = bad[i];
		if (sl_init(&c, loop, &cfg, on_result, &g) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
		sl_fini(&c);	/* safe after a failed init */
		assert_int_equal(sl_request(&c, SL_STATUS), -EINVAL);
	}
	cfg.address = NULL;
	cfg.device = "0123456789abcdefXYZ";	/* longer than IFNAMSIZ */
	assert_int_equal(sl_init(&c, loop, &cfg, on_result, &g), -EINVAL);
	ev_loop_destroy(loop);
}

/* SO_BINDTODEVICE to a device that is not there: a connect error, no crash. */
static void test_client_bad_device(void **state)
{
	struct sl_cfg cfg = { .address = "127.0.0.1:9", .device = "nosuchdev0", .timeout_ms = 500 };
	struct sl_client c;
	struct got g = { .want = 1 };

	(void)state;
	g.loop = ev_loop_new(EVFLAG_AUTO);
	assert_int_equal(sl_init(&c, g.loop, &cfg, on_result, &g), 0);
	assert_int_equal(sl_request(&c, SL_STATUS), 0);
	run(&g, 2.0);
	assert_int_equal(g.n, 1);
	assert_true(!strncmp(g.err[0], "socket on nosuchdev0: ", 22));
	sl_fini(&c);
	ev_loop_destroy(g.loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_full),
		cmocka_unit_test(test_status_empty),
		cmocka_unit_test(test_status_outage),
		cmocka_unit_test(test_status_implausible),
		cmocka_unit_test(test_status_long_strings),
		cmocka_unit_test(test_alerts),
		cmocka_unit_test(test_history_not_full),
		cmocka_unit_test(test_history_full),
		cmocka_unit_test(test_history_wrapped),
		cmocka_unit_test(test_history_reboot),
		cmocka_unit_test(test_history_drop_and_junk),
		cmocka_unit_test(test_history_empty_and_outages),
		cmocka_unit_test(test_history_big),
		cmocka_unit_test(test_device_info),
		cmocka_unit_test(test_wrong_answer),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_unframe),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_client_calls),
		cmocka_unit_test(test_client_fini_in_callback),
		cmocka_unit_test(test_client_goaway),
		cmocka_unit_test(test_client_grpc_errors),
		cmocka_unit_test(test_client_too_big),
		cmocka_unit_test(test_client_hang_and_close),
		cmocka_unit_test(test_client_not_h2),
		cmocka_unit_test(test_client_refused),
		cmocka_unit_test(test_client_silent_listener),
		cmocka_unit_test(test_client_init),
		cmocka_unit_test(test_client_bad_device),
	};

	return cmocka_run_group_tests_name("starlink", tests, setup, teardown);
}

#else /* !WITH_STARLINK: the no-op header */

static void test_compiled_out(void **state)
{
	struct sl_client c;
	struct sl_status s;
	struct sl_history h;
	struct sl_device_info info;
	struct sl_cfg cfg = { .address = SL_DEFAULT_ADDRESS };
	const uint8_t *msg;
	size_t msglen;
	char err[SL_ERR_LEN], buf[16];

	(void)state;
	assert_int_equal(sl_init(&c, NULL, &cfg, NULL, NULL), -ENOTSUP);
	assert_int_equal(sl_request(&c, SL_STATUS), -ENOTSUP);
	assert_int_equal(sl_adopt_fd(&c, -1), -ENOTSUP);
	sl_fini(&c);
	assert_int_equal(sl_grpc_unframe((const uint8_t *)"", 0, &msg, &msglen, err, sizeof(err)),
			 -ENOTSUP);
	assert_string_equal(err, "starlink support compiled out");
	assert_int_equal(sl_decode_status(NULL, 0, &s, err, sizeof(err)), -ENOTSUP);
	assert_int_equal(sl_decode_history(NULL, 0, NULL, 0, &h, err, sizeof(err)), -ENOTSUP);
	assert_int_equal(sl_decode_device_info(NULL, 0, &info, NULL, 0), -ENOTSUP);
	assert_string_equal(sl_call_name(SL_STATUS), "?");
	assert_string_equal(sl_cause_name(5), "UNKNOWN_CAUSE");
	assert_string_equal(sl_cause_fmt(5, buf, sizeof(buf)), "CAUSE_5");
	assert_null(sl_alert_name(3));
	assert_string_equal(sl_alerts_fmt(8, buf, sizeof(buf)), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compiled_out),
	};

	return cmocka_run_group_tests_name("starlink", tests, NULL, NULL);
}

#endif
