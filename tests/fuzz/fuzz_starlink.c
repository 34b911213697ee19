/* libFuzzer target: everything of the Starlink collector that reads what the
 * dish sends. The first byte picks the path:
 *   0  sl_grpc_unframe, then every decoder on the message inside
 *   1  sl_decode_status      2  sl_decode_history      3  sl_decode_device_info
 *   4+ the client itself: three calls over a socketpair, the rest of the input
 *      is what the "dish" sends back (HTTP/2 frames), then EOF; every call
 *      must end exactly once, whatever came.
 * Decoded values must keep the promises of starlink.h (ranges, NAN). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ev.h>

#include "collect/starlink.h"
#include "core/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#if WITH_STARLINK

static bool in(double v, double lo, double hi)
{
	return isnan(v) || (v >= lo && v <= hi);
}

static void check_status(const struct sl_status *s)
{
	if (!s->valid)
		abort();
	if (!in(s->pop_ping_drop_rate, 0, 1) || !in(s->fraction_obstructed, 0, 1) ||
	    !in(s->pop_ping_latency_ms, SL_LATENCY_MIN_MS, SL_LATENCY_MAX_MS) ||
	    !in(s->downlink_bps, 0, INFINITY) || !in(s->uplink_bps, 0, INFINITY) ||
	    isinf(s->downlink_bps) || isinf(s->obstruction_valid_s) ||
	    s->info.bootcount < -1 || s->eth_speed_mbps < -1 || (s->alerts & 1u) ||
	    strlen(s->info.id) >= sizeof(s->info.id))
		abort();
	for (const char *p = s->info.software_version; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			abort();
}

static void check_history(const struct sl_history *h)
{
	if (!h->valid || h->samples > h->ring_len || h->window_samples > h->samples ||
	    h->samples > h->current || !in(h->drop_rate_avg, 0, 1) ||
	    !in(h->latency_avg_ms, SL_LATENCY_MIN_MS, SL_LATENCY_MAX_MS) ||
	    h->full_drop_samples > h->window_samples)
		abort();
}

static void decode_all(const uint8_t *msg, size_t len, unsigned window)
{
	static struct sl_history prev;
	struct sl_status s;
	struct sl_history h;
	struct sl_device_info info;
	char err[SL_ERR_LEN];

	if (sl_decode_status(msg, len, &s, err, sizeof(err)) == 0)
		check_status(&s);
	else if (s.valid || !err[0])
		abort();
	if (sl_decode_history(msg, len, &prev, window, &h, err, sizeof(err)) == 0) {
		check_history(&h);
		prev = h;
	} else if (h.valid || !err[0]) {
		abort();
	}
	if (sl_decode_device_info(msg, len, &info, err, sizeof(err)) != 0 && (info.valid || !err[0]))
		abort();
}

static void unframe(const uint8_t *buf, size_t len)
{
	const uint8_t *msg;
	size_t msglen;
	char err[SL_ERR_LEN];

	if (sl_grpc_unframe(buf, len, &msg, &msglen, err, sizeof(err)) == 0) {
		if (msg != buf + 5 || msglen != len - 5)
			abort();
		decode_all(msg, msglen, 0);
	} else if (!err[0]) {
		abort();
	}
}

/* ---- the client ----------------------------------------------------------- */

static struct ev_loop *loop;
static int ended[__SL_CALL_MAX];

static void on_result(struct sl_client *c, enum sl_call what, const void *result,
		      const char *err, void *ctx)
{
	(void)c;
	(void)ctx;
	if ((result == NULL) == (err == NULL) || what < 0 || what >= __SL_CALL_MAX)
		abort();
	if (what == SL_STATUS && result)
		check_status(result);
	if (what == SL_HISTORY && result)
		check_history(result);
	ended[what]++;
}

static void client(const uint8_t *data, size_t size)
{
	struct sl_cfg cfg = { .address = "127.0.0.1:1", .timeout_ms = 5000 };
	struct sl_client c;
	int sv[2], total;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0)
		abort();
	if (sl_init(&c, loop, &cfg, on_result, NULL) || sl_adopt_fd(&c, sv[0]))
		abort();
	memset(ended, 0, sizeof(ended));
	for (int i = 0; i < __SL_CALL_MAX; i++)
		if (sl_request(&c, (enum sl_call)i))
			abort();
	if (size && write(sv[1], data, size) != (ssize_t)size)
		abort();
	shutdown(sv[1], SHUT_WR);
	for (int i = 0; i < 200; i++) {
		total = ended[0] + ended[1] + ended[2];
		if (total == __SL_CALL_MAX)
			break;
		ev_run(loop, EVRUN_NOWAIT);
	}
	for (int i = 0; i < __SL_CALL_MAX; i++)
		if (ended[i] > 1)
			abort();
	/* a call may only still be open if the reconnect is in progress */
	if (ended[0] + ended[1] + ended[2] < __SL_CALL_MAX && c.state != SL_CONNECTING)
		abort();
	sl_fini(&c);
	close(sv[1]);
}

static void quiet(enum log_level level, const char *msg)
{
	(void)level;
	(void)msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	if (!size)
		return 0;
	if (!loop) {
		loop = ev_loop_new(EVFLAG_AUTO);
		log_set_hook(quiet);
	}
	/* an exact-size copy, so reading past the end is caught */
	copy = malloc(size - 1 ? size - 1 : 1);
	memcpy(copy, data + 1, size - 1);
	switch (data[0]) {
	case 0:
		unframe(copy, size - 1);
		break;
	case 1:
	case 2:
	case 3:
		decode_all(copy, size - 1, data[0] == 2 ? 5 : 0);
		break;
	default:
		client(copy, size - 1);
		break;
	}
	free(copy);
	return 0;
}

#else

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	(void)data;
	(void)size;
	return 0;
}

#endif
