/* The probe engines: packet code with crafted and truncated packets, reply
 * matching, byte counts, and live probes through the kernel over loopback
 * (skipped without root: raw sockets need CAP_NET_RAW). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ev.h>

#include "core/log.h"
#include "core/util.h"
#include "probe/probe.h"
#include "probe/wire.h"

#define LIVE_LIMIT_S	2.0
#define PROBE_RX_BUF_TEST	64

struct reply {
	int target;
	uint16_t seq;
	double rtt;
	size_t bytes;
};

struct rec {
	struct reply r[32];
	int n;
	int want;		/* ev_break after this many replies */
	struct ev_loop *loop;
	struct prober *close_me;	/* closed from inside the callback */
};

static char last_log[512];

static void hook(enum log_level level, const char *msg)
{
	(void)level;
	snprintf(last_log, sizeof(last_log), "%s", msg);
}

static void on_reply(void *ctx, int target, uint16_t seq, double rtt_ms, size_t bytes)
{
	struct rec *rec = ctx;

	if (rec->n < (int)ARRAY_SIZE(rec->r))
		rec->r[rec->n] = (struct reply){ target, seq, rtt_ms, bytes };
	rec->n++;
	if (rec->close_me)
		prober_close(rec->close_me);
	if (rec->loop && rec->n >= rec->want)
		ev_break(rec->loop, EVBREAK_ALL);
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

/* ---- helpers for crafted packets -------------------------------------------- */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* An echo reply for a request we built: type 0/129, IPv4 checksum redone. */
static void to_reply(uint8_t *icmp, bool v6)
{
	icmp[0] = v6 ? 129 : 0;
	put16(icmp + 2, 0);
	if (!v6)
		put16(icmp + 2, probe_csum(icmp, PROBE_ICMP_LEN));
}

/* IPv4 header (ihl_words * 4 bytes, options zero) + the ICMP message; returns the length. */
static size_t ip4_wrap(uint8_t *out, const uint8_t *icmp, size_t icmplen, int ihl_words,
		       const char *src)
{
	size_t hl = (size_t)ihl_words * 4;

	memset(out, 0, hl);
	out[0] = (uint8_t)(0x40 | ihl_words);
	put16(out + 2, (uint16_t)(hl + icmplen));
	out[8] = 64;
	out[9] = 1;
	inet_pton(AF_INET, src, out + 12);
	inet_pton(AF_INET, "127.0.0.1", out + 16);
	put16(out + 10, probe_csum(out, hl));
	memcpy(out + hl, icmp, icmplen);
	return hl + icmplen;
}

/* Parses a copy of exactly len bytes, so ASan sees any read past the end. */
static int parse_exact(const uint8_t *buf, size_t len, bool v6, struct probe_echo *e)
{
	uint8_t *copy = malloc(len ? len : 1);
	int rc;

	memcpy(copy, buf, len);
	rc = probe_icmp_parse(copy, len, v6, e);
	free(copy);
	return rc;
}

static int dns_parse_exact(const uint8_t *buf, size_t len, uint16_t *id)
{
	uint8_t *copy = malloc(len ? len : 1);
	int rc;

	memcpy(copy, buf, len);
	rc = probe_dns_parse(copy, len, id);
	free(copy);
	return rc;
}

/* ---- pure packet code ------------------------------------------------------- */

static void test_csum(void **state)
{
	/* RFC 1071's example: the sum is 0xddf2, the checksum its complement. */
	static const uint8_t rfc[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	static const uint8_t odd[] = { 0x01, 0x02, 0x03 };
	uint8_t msg[10];

	(void)state;
	assert_int_equal(probe_csum(rfc, sizeof(rfc)), 0x220d);
	/* An odd byte counts as the high half of a last word: 0x0102 + 0x0300. */
	assert_int_equal(probe_csum(odd, sizeof(odd)), (uint16_t)~0x0402);
	assert_int_equal(probe_csum(NULL, 0), 0xffff);
	memcpy(msg, rfc, sizeof(rfc));
	put16(msg + 8, 0);
	put16(msg + 8, probe_csum(msg, sizeof(msg)));
	assert_int_equal(probe_csum(msg, sizeof(msg)), 0);
}

static void test_icmp_build(void **state)
{
	struct timespec ts = { .tv_sec = 12345, .tv_nsec = 678901234 };
	uint8_t b[PROBE_ICMP_LEN], b6[PROBE_ICMP_LEN];

	(void)state;
	probe_icmp_build(b, false, 0xbeef, 0x0102, &ts);
	assert_int_equal(b[0], 8);
	assert_int_equal(b[1], 0);
	assert_int_equal(b[4] << 8 | b[5], 0xbeef);
	assert_int_equal(b[6] << 8 | b[7], 0x0102);
	assert_memory_equal(b + 8, "autonomy", 8);
	assert_int_equal(probe_csum(b, sizeof(b)), 0);
	probe_icmp_build(b6, true, 0xbeef, 0x0102, &ts);
	assert_int_equal(b6[0], 128);
	assert_int_equal(b6[2] | b6[3], 0);	/* the kernel's job */
	assert_memory_equal(b + 4, b6 + 4, PROBE_ICMP_LEN - 4);
}

static void test_icmp_parse_v4(void **state)
{
	struct timespec ts = { .tv_sec = 99, .tv_nsec = 5 };
	uint8_t icmp[PROBE_ICMP_LEN], pkt[128], bad[128];
	struct probe_echo e;
	size_t len;

	(void)state;
	probe_icmp_build(icmp, false, 7, 300, &ts);
	to_reply(icmp, false);
	len = ip4_wrap(pkt, icmp, sizeof(icmp), 5, "127.0.0.2");
	assert_int_equal(len, 52);
	assert_int_equal(parse_exact(pkt, len, false, &e), 0);
	assert_int_equal(e.id, 7);
	assert_int_equal(e.seq, 300);
	assert_int_equal(e.sent.tv_sec, 99);
	assert_int_equal(e.sent.tv_nsec, 5);

	/* Every truncation fails, and none reads past the end (ASan). */
	for (size_t n = 0; n < len; n++)
		assert_int_equal(parse_exact(pkt, n, false, &e), -1);
	/* Link-layer padding beyond the IP total length is ignored. */
	memset(pkt + len, 0xaa, 6);
	assert_int_equal(parse_exact(pkt, len + 6, false, &e), 0);
	/* Padding of the payload cut short by the target: magic and time suffice. */
	{
		uint8_t shortm[20 + 8 + 24];

		put16(icmp + 2, 0);
		put16(icmp + 2, probe_csum(icmp, 8 + 24));
		ip4_wrap(shortm, icmp, 8 + 24, 5, "127.0.0.2");
		assert_int_equal(parse_exact(shortm, sizeof(shortm), false, &e), 0);
		to_reply(icmp, false);
	}

	/* IP options: IHL 6 (24 bytes) still finds the ICMP message. */
	len = ip4_wrap(pkt, icmp, sizeof(icmp), 6, "127.0.0.2");
	assert_int_equal(parse_exact(pkt, len, false, &e), 0);
	assert_int_equal(e.seq, 300);
	/* IHL below 5, or beyond the packet. */
	memcpy(bad, pkt, len);
	bad[0] = 0x44;
	assert_int_equal(parse_exact(bad, len, false, &e), -1);
	bad[0] = 0x4f;
	assert_int_equal(parse_exact(bad, 40, false, &e), -1);
	/* Total length longer than what arrived. */
	len = ip4_wrap(pkt, icmp, sizeof(icmp), 5, "127.0.0.2");
	memcpy(bad, pkt, len);
	put16(bad + 2, (uint16_t)(len + 1));
	assert_int_equal(parse_exact(bad, len, false, &e), -1);
	/* Not IPv4, not ICMP. */
	memcpy(bad, pkt, len);
	bad[0] = 0x65;
	assert_int_equal(parse_exact(bad, len, false, &e), -1);
	memcpy(bad, pkt, len);
	bad[9] = 17;
	assert_int_equal(parse_exact(bad, len, false, &e), -1);
	/* A request is not a reply; nor is a code other than 0. */
	probe_icmp_build(icmp, false, 7, 300, &ts);
	len = ip4_wrap(bad, icmp, sizeof(icmp), 5, "127.0.0.2");
	assert_int_equal(parse_exact(bad, len, false, &e), -1);
	to_reply(icmp, false);
	icmp[1] = 1;
	put16(icmp + 2, 0);
	put16(icmp + 2, probe_csum(icmp, sizeof(icmp)));
	len = ip4_wrap(bad, icmp, sizeof(icmp), 5, "127.0.0.2");
	assert_int_equal(parse_exact(bad, len, false, &e), -1);
	/* A bad checksum, then a foreign payload (someone else's ping). */
	len = ip4_wrap(bad, pkt + 20, PROBE_ICMP_LEN, 5, "127.0.0.2");
	bad[20 + 20] ^= 1;	/* a payload byte: breaks the checksum */
	assert_int_equal(parse_exact(bad, len, false, &e), -1);
	memcpy(icmp, pkt + 20, PROBE_ICMP_LEN);
	icmp[8] = 'A';
	to_reply(icmp, false);
	len = ip4_wrap(bad, icmp, sizeof(icmp), 5, "127.0.0.2");
	assert_int_equal(parse_exact(bad, len, false, &e), -1);
}

static void test_icmp_parse_v6(void **state)
{
	struct timespec ts = { .tv_sec = 1, .tv_nsec = 2 };
	uint8_t icmp[PROBE_ICMP_LEN];
	struct probe_echo e;

	(void)state;
	probe_icmp_build(icmp, true, 0x1234, 65535, &ts);
	assert_int_equal(parse_exact(icmp, sizeof(icmp), true, &e), -1);	/* a request */
	to_reply(icmp, true);
	assert_int_equal(parse_exact(icmp, sizeof(icmp), true, &e), 0);
	assert_int_equal(e.id, 0x1234);
	assert_int_equal(e.seq, 65535);
	assert_int_equal(e.sent.tv_nsec, 2);
	for (size_t n = 0; n < 8 + 24; n++)
		assert_int_equal(parse_exact(icmp, n, true, &e), -1);
	for (size_t n = 8 + 24; n <= sizeof(icmp); n++)
		assert_int_equal(parse_exact(icmp, n, true, &e), 0);
	/* As IPv4 it has no IP header: refused. */
	assert_int_equal(parse_exact(icmp, sizeof(icmp), false, &e), -1);
}

static void test_dns_packets(void **state)
{
	static const uint8_t want[PROBE_DNS_QUERY_LEN] = {
		0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,	/* id, RD, QD=1 */
		0, 0, 6, 0, 1,					/* ". SOA IN" */
	};
	uint8_t q[PROBE_DNS_QUERY_LEN], r[64];
	uint16_t id = 0;

	(void)state;
	probe_dns_build(q, 0xabcd);
	assert_memory_equal(q, want, sizeof(want));
	/* A query is not a response. */
	assert_int_equal(dns_parse_exact(q, sizeof(q), &id), -1);

	memcpy(r, q, sizeof(q));
	r[2] = 0x81;
	for (int rcode = 0; rcode < 16; rcode++) {	/* NOERROR, SERVFAIL, NXDOMAIN, REFUSED… */
		r[3] = (uint8_t)(0x80 | rcode);
		id = 0;
		assert_int_equal(dns_parse_exact(r, sizeof(q), &id), 0);
		assert_int_equal(id, 0xabcd);
	}
	/* Answers after the question are not read; a truncated question fails. */
	memset(r + sizeof(q), 0x55, 20);
	assert_int_equal(dns_parse_exact(r, sizeof(q) + 20, &id), 0);
	for (size_t n = 0; n < sizeof(q); n++)
		assert_int_equal(dns_parse_exact(r, n, &id), -1);
	/* FORMERR without the question is still an answer. */
	put16(r + 4, 0);
	r[3] = 0x81;
	assert_int_equal(dns_parse_exact(r, PROBE_DNS_HDR, &id), 0);
	/* Two questions, another question, another opcode. */
	put16(r + 4, 2);
	assert_int_equal(dns_parse_exact(r, sizeof(q), &id), -1);
	put16(r + 4, 1);
	r[14] = 2;	/* NS */
	assert_int_equal(dns_parse_exact(r, sizeof(q), &id), -1);
	r[14] = 6;
	r[2] = 0x81 | (2 << 3);	/* opcode STATUS */
	assert_int_equal(dns_parse_exact(r, sizeof(q), &id), -1);
	r[2] = 0x81;
	assert_int_equal(dns_parse_exact(r, sizeof(q), &id), 0);
}

static void test_dns_id_scheme(void **state)
{
	static const uint16_t idents[] = { 0, 1, 0x3f, 0x40, 0x1234, 0xffff };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(idents); i++)
		for (uint32_t seq = 0; seq <= 0xffff; seq++)
			assert_int_equal(probe_dns_seq(idents[i],
						       probe_dns_id(idents[i], (uint16_t)seq)), seq);
	/* Two members at the same seq do not share an id. */
	assert_int_not_equal(probe_dns_id(0x1234, 7), probe_dns_id(0x1235, 7));
}

static void test_byte_counts(void **state)
{
	(void)state;
	assert_int_equal(probe_tx_bytes(PROBE_ICMP, false), 52);
	assert_int_equal(probe_tx_bytes(PROBE_ICMP, true), 72);
	assert_int_equal(probe_tx_bytes(PROBE_DNS, false), 45);
	assert_int_equal(probe_tx_bytes(PROBE_DNS, true), 65);
	assert_int_equal(probe_tx_bytes(PROBE_TCP, false), 60 + 52 + 52);
	assert_int_equal(probe_tx_bytes(PROBE_TCP, true), 80 + 72 + 72);
	assert_int_equal(probe_tx_bytes(__PROBE_MAX, false), 0);
	assert_int_equal(probe_rx_bytes(PROBE_ICMP, false, 52, false), 52);
	assert_int_equal(probe_rx_bytes(PROBE_ICMP, true, 32, false), 72);
	assert_int_equal(probe_rx_bytes(PROBE_DNS, false, 92, false), 120);
	assert_int_equal(probe_rx_bytes(PROBE_DNS, true, 92, false), 140);
	assert_int_equal(probe_rx_bytes(PROBE_TCP, false, 0, false), 60);
	assert_int_equal(probe_rx_bytes(PROBE_TCP, false, 0, true), 40);
	assert_int_equal(probe_rx_bytes(PROBE_TCP, true, 0, false), 80);
	assert_int_equal(probe_rx_bytes(PROBE_TCP, true, 0, true), 60);
}

/* ---- matching, without sockets ---------------------------------------------- */

static void fake_prober(struct prober *p, int type, uint16_t ident, struct rec *rec)
{
	memset(p, 0, sizeof(*p));
	p->cfg.type = type;
	p->cfg.ident = ident;
	p->cfg.port = 53;
	p->cb = on_reply;
	p->ctx = rec;
	p->io4.fd = p->io6.fd = -1;
	for (int i = 0; i < PROBE_RING; i++)
		p->sent_target[i] = -1;
}

/* Records seq as sent to addr 10 ms ago (monotonic), at wall time tx. */
static void fake_sent(struct prober *p, int target, uint16_t seq, const char *addr,
		      const struct timespec *tx)
{
	int slot = seq % PROBE_RING;
	struct in6_addr a;

	clock_gettime(CLOCK_MONOTONIC, &p->sent_mono[slot]);
	p->sent_mono[slot].tv_sec -= 1;
	p->sent_mono[slot].tv_nsec += 990000000;	/* now - 10 ms */
	if (p->sent_mono[slot].tv_nsec >= 1000000000) {
		p->sent_mono[slot].tv_nsec -= 1000000000;
		p->sent_mono[slot].tv_sec += 1;
	}
	if (strchr(addr, ':')) {
		inet_pton(AF_INET6, addr, &a);
	} else {
		memset(&a, 0, sizeof(a));
		a.s6_addr[10] = a.s6_addr[11] = 0xff;
		inet_pton(AF_INET, addr, &a.s6_addr[12]);
	}
	p->sent_addr[slot] = a;
	p->sent_at[slot] = *tx;
	p->sent_seq[slot] = seq;
	p->sent_target[slot] = target;
}

/* Feeds the reply to what slot seq would carry, from src. */
static bool feed_echo4(struct prober *p, uint16_t id, uint16_t seq, const struct timespec *payload,
		       const char *src, const struct timespec *stamp)
{
	uint8_t icmp[PROBE_ICMP_LEN], pkt[128];
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct probe_pkt in;
	size_t len;

	probe_icmp_build(icmp, false, id, seq, payload);
	to_reply(icmp, false);
	len = ip4_wrap(pkt, icmp, sizeof(icmp), 5, src);
	inet_pton(AF_INET, src, &sin.sin_addr);
	in = (struct probe_pkt){ pkt, len, len, (struct sockaddr *)&sin, stamp };
	return probe_input(p, &in);
}

static void test_match_icmp(void **state)
{
	struct timespec tx = { .tv_sec = 1000, .tv_nsec = 0 }, stamp = { 1000, 5000000 };
	struct prober p;
	struct rec rec = { 0 };
	struct timespec mono;

	(void)state;
	fake_prober(&p, PROBE_ICMP, 0x4242, &rec);
	fake_sent(&p, 3, 70, "192.0.2.1", &tx);
	mono = p.sent_mono[70 % PROBE_RING];

	/* Another host answering with our id and seq, a wrong id, another seq
	 * that shares the slot, a seq not in flight, a different payload time. */
	assert_false(feed_echo4(&p, 0x4242, 70, &mono, "192.0.2.2", &stamp));
	assert_false(feed_echo4(&p, 0x4243, 70, &mono, "192.0.2.1", &stamp));
	assert_false(feed_echo4(&p, 0x4242, 70 + PROBE_RING, &mono, "192.0.2.1", &stamp));
	assert_false(feed_echo4(&p, 0x4242, 71, &mono, "192.0.2.1", &stamp));
	mono.tv_nsec ^= 1;
	assert_false(feed_echo4(&p, 0x4242, 70, &mono, "192.0.2.1", &stamp));
	mono.tv_nsec ^= 1;
	assert_int_equal(rec.n, 0);

	/* The reply: rtt from the kernel stamp (5 ms), not the monotonic 10 ms. */
	assert_true(feed_echo4(&p, 0x4242, 70, &mono, "192.0.2.1", &stamp));
	assert_int_equal(rec.n, 1);
	assert_int_equal(rec.r[0].target, 3);
	assert_int_equal(rec.r[0].seq, 70);
	assert_float_equal(rec.r[0].rtt, 5.0, 1e-6);
	assert_int_equal(rec.r[0].bytes, 52);
	assert_int_equal(p.bytes_received, 52);
	/* A duplicate is not a second reply. */
	assert_false(feed_echo4(&p, 0x4242, 70, &mono, "192.0.2.1", &stamp));
	assert_int_equal(rec.n, 1);
}

static void test_match_rtt_fallback(void **state)
{
	struct timespec tx = { 1000, 0 }, stepped = { 999, 0 }, late = { 1100, 0 };
	struct prober p;
	struct rec rec = { 0 };

	(void)state;
	fake_prober(&p, PROBE_ICMP, 1, &rec);
	/* The wall clock went back (or forward) between send and receive: the
	 * monotonic time since the send (~10 ms here) is used instead. */
	fake_sent(&p, 0, 1, "192.0.2.1", &tx);
	assert_true(feed_echo4(&p, 1, 1, &p.sent_mono[1], "192.0.2.1", &stepped));
	fake_sent(&p, 0, 2, "192.0.2.1", &tx);
	assert_true(feed_echo4(&p, 1, 2, &p.sent_mono[2], "192.0.2.1", &late));
	fake_sent(&p, 0, 3, "192.0.2.1", &tx);
	assert_true(feed_echo4(&p, 1, 3, &p.sent_mono[3], "192.0.2.1", NULL));
	assert_int_equal(rec.n, 3);
	for (int i = 0; i < 3; i++) {
		assert_true(rec.r[i].rtt >= 10.0);
		assert_true(rec.r[i].rtt < 1000.0);
	}
}

static void test_match_icmp6(void **state)
{
	struct timespec tx = { 5, 0 }, stamp = { 5, 1000000 };
	struct sockaddr_in6 from = { .sin6_family = AF_INET6 };
	struct sockaddr_in from4 = { .sin_family = AF_INET };
	uint8_t icmp[PROBE_ICMP_LEN];
	struct prober p;
	struct rec rec = { 0 };
	struct probe_pkt in;

	(void)state;
	fake_prober(&p, PROBE_ICMP, 9, &rec);
	fake_sent(&p, 1, 500, "2001:db8::1", &tx);
	probe_icmp_build(icmp, true, 9, 500, &p.sent_mono[500 % PROBE_RING]);
	to_reply(icmp, true);
	inet_pton(AF_INET6, "2001:db8::2", &from.sin6_addr);
	in = (struct probe_pkt){ icmp, sizeof(icmp), sizeof(icmp), (struct sockaddr *)&from,
				 &stamp };
	assert_false(probe_input(&p, &in));
	/* Truncated: nothing, whatever the sender. */
	inet_pton(AF_INET6, "2001:db8::1", &from.sin6_addr);
	in.len = in.wire = 8 + 23;
	assert_false(probe_input(&p, &in));
	/* An address family that does not fit. */
	in.len = in.wire = sizeof(icmp);
	in.from = (struct sockaddr *)&from4;
	assert_false(probe_input(&p, &in));
	in.from = (struct sockaddr *)&from;
	assert_true(probe_input(&p, &in));
	assert_int_equal(rec.n, 1);
	assert_int_equal(rec.r[0].bytes, 40 + PROBE_ICMP_LEN);
	assert_float_equal(rec.r[0].rtt, 1.0, 1e-6);
}

static bool feed_dns(struct prober *p, uint16_t id, const char *src, uint16_t port, size_t len)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	uint8_t r[PROBE_RX_BUF_TEST];
	struct probe_pkt in;

	memset(r, 0, sizeof(r));
	probe_dns_build(r, id);
	r[2] |= 0x80;
	r[3] = 0x83;	/* RA, NXDOMAIN: still an answer */
	inet_pton(AF_INET, src, &sin.sin_addr);
	in = (struct probe_pkt){ r, len < sizeof(r) ? len : sizeof(r), len,
				 (struct sockaddr *)&sin, NULL };
	return probe_input(p, &in);
}

static void test_match_dns(void **state)
{
	struct timespec tx = { 1, 0 };
	struct prober p;
	struct rec rec = { 0 };
	uint16_t ident = 0x0a0b, seq = 1000;

	(void)state;
	fake_prober(&p, PROBE_DNS, ident, &rec);
	fake_sent(&p, 2, seq, "192.0.2.53", &tx);
	assert_false(feed_dns(&p, probe_dns_id(ident, seq), "192.0.2.53", 5353, 17));
	assert_false(feed_dns(&p, probe_dns_id(ident, seq), "192.0.2.54", 53, 17));
	assert_false(feed_dns(&p, probe_dns_id(ident + 1, seq), "192.0.2.53", 53, 17));
	assert_false(feed_dns(&p, probe_dns_id(ident, seq + PROBE_RING), "192.0.2.53", 53, 17));
	assert_false(feed_dns(&p, probe_dns_id(ident, seq), "192.0.2.53", 53, 11));
	/* A 700-byte answer that did not fit our buffer: counted at full length. */
	assert_true(feed_dns(&p, probe_dns_id(ident, seq), "192.0.2.53", 53, 700));
	assert_false(feed_dns(&p, probe_dns_id(ident, seq), "192.0.2.53", 53, 700));
	assert_int_equal(rec.n, 1);
	assert_int_equal(rec.r[0].target, 2);
	assert_int_equal(rec.r[0].seq, seq);
	assert_int_equal(rec.r[0].bytes, 20 + 8 + 700);
	assert_true(rec.r[0].rtt >= 10.0);
}

/* ---- open, close, send errors ------------------------------------------------ */

static struct prober_cfg lo_cfg(int type)
{
	struct prober_cfg c = { .type = type, .ident = (uint16_t)getpid() };

	strcpy(c.device, "lo");
	return c;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void test_open_errors(void **state)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct prober_cfg c = lo_cfg(PROBE_ICMP);
	struct prober p;
	int fds = count_fds();

	(void)state;
	memset(&p, 0, sizeof(p));
	prober_close(&p);	/* a zeroed prober: nothing to do */
	assert_int_equal(prober_send(&p, 0, "127.0.0.1", 1), -EBADF);

	strcpy(c.device, "nosuch0");
	for (int type = 0; type < __PROBE_MAX; type++) {
		c.type = type;
		last_log[0] = '\0';
		assert_int_equal(prober_open(&p, loop, &c, on_reply, NULL), -ENODEV);
		assert_non_null(strstr(last_log,
				       "probe: cannot bind to device nosuch0: No such device"));
		prober_close(&p);
		prober_close(&p);
	}
	c = lo_cfg(7);
	assert_int_equal(prober_open(&p, loop, &c, on_reply, NULL), -EINVAL);

	/* TCP opens nothing up front, so this runs without root. */
	c = lo_cfg(PROBE_TCP);
	assert_int_equal(prober_open(&p, loop, &c, on_reply, NULL), 0);
	assert_int_equal(p.ifindex, (int)if_nametoindex("lo"));
	assert_int_equal(prober_send(&p, 0, "not-an-address", 1), -EINVAL);
	assert_int_equal(prober_send(&p, 0, "127.0.0.1/8", 1), -EINVAL);
	assert_int_equal(p.bytes_sent, 0);
	prober_close(&p);
	prober_close(&p);
	assert_int_equal(count_fds(), fds);
	ev_loop_destroy(loop);
}

/* ---- live, through the kernel ----------------------------------------------- */

static bool have_raw(void)
{
	int fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static bool have_ip6_lo(void)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	int fd = socket(AF_INET6, SOCK_DGRAM, 0);
	bool ok;

	if (fd < 0)
		return false;
	ok = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

static void limit_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

/* Runs the loop until rec->want replies or LIVE_LIMIT_S; returns the seconds spent. */
static double run_until(struct ev_loop *loop, struct rec *rec, double limit)
{
	ev_timer t;
	ev_tstamp start;

	ev_now_update(loop);
	start = ev_now(loop);
	rec->loop = loop;
	ev_timer_init(&t, limit_cb, limit, 0.);
	ev_timer_start(loop, &t);
	ev_run(loop, 0);
	ev_timer_stop(loop, &t);
	ev_now_update(loop);
	return ev_now(loop) - start;
}

static void test_live_icmp4(void **state)
{
	struct ev_loop *loop;
	struct prober_cfg c = lo_cfg(PROBE_ICMP);
	struct rec rec = { .want = 1 };
	struct prober p;
	char dev[IFNAMSIZ] = "";
	socklen_t len = sizeof(dev);
	uint32_t mark = 0, mask = 0;
	struct sockaddr_in sa;
	int fds;

	(void)state;
	if (!have_raw())
		skip();
	loop = ev_loop_new(EVFLAG_AUTO);
	fds = count_fds();
	c.mark = 0x1234;
	c.has_src4 = true;
	inet_pton(AF_INET, "127.0.0.1", &c.src4);
	assert_int_equal(prober_open(&p, loop, &c, on_reply, &rec), 0);
	/* The socket really is bound to the device, the address, and marked. */
	assert_int_equal(getsockopt(p.io4.fd, SOL_SOCKET, SO_BINDTODEVICE, dev, &len), 0);
	assert_string_equal(dev, "lo");
	len = sizeof(mark);
	assert_int_equal(getsockopt(p.io4.fd, SOL_SOCKET, SO_MARK, &mark, &len), 0);
	assert_int_equal(mark, 0x1234);
	len = sizeof(sa);
	assert_int_equal(getsockname(p.io4.fd, (struct sockaddr *)&sa, &len), 0);
	assert_int_equal(sa.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	assert_int_equal(p.io6.fd, -1);	/* no IPv6 target yet */
	/* ICMP_FILTER (1 in <linux/icmp.h>): every type but echo reply dropped. */
	len = sizeof(mask);
	assert_int_equal(getsockopt(p.io4.fd, SOL_RAW, 1, &mask, &len), 0);
	assert_int_equal(mask, ~1u);

	assert_int_equal(prober_send(&p, 4, "127.0.0.1", 777), 52);
	assert_true(run_until(loop, &rec, LIVE_LIMIT_S) < 1.0);
	assert_int_equal(rec.n, 1);
	assert_int_equal(rec.r[0].target, 4);
	assert_int_equal(rec.r[0].seq, 777);
	assert_int_equal(rec.r[0].bytes, 52);
	assert_true(rec.r[0].rtt >= 0 && rec.r[0].rtt < 100);
	assert_int_equal(p.bytes_sent, 52);
	assert_int_equal(p.bytes_received, 52);
	/* Nothing more comes for it. */
	rec.want = 2;
	run_until(loop, &rec, 0.2);
	assert_int_equal(rec.n, 1);
	prober_close(&p);
	assert_int_equal(count_fds(), fds);
	ev_loop_destroy(loop);
}

/* Sends an echo reply with a forged source to 127.0.0.1 on lo. */
static void inject_reply(const char *src, uint16_t id, uint16_t seq, const struct timespec *ts)
{
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	uint8_t icmp[PROBE_ICMP_LEN], pkt[128];
	size_t len;
	int fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);

	assert_true(fd >= 0);
	probe_icmp_build(icmp, false, id, seq, ts);
	to_reply(icmp, false);
	len = ip4_wrap(pkt, icmp, sizeof(icmp), 5, src);
	assert_int_equal(sendto(fd, pkt, len, 0, (struct sockaddr *)&dst, sizeof(dst)),
			 (ssize_t)len);
	close(fd);
}

static void test_live_icmp4_strict(void **state)
{
	struct ev_loop *loop;
	struct prober_cfg c = lo_cfg(PROBE_ICMP);
	struct rec rec = { .want = 2 };
	struct timespec tx;
	struct prober p;

	(void)state;
	if (!have_raw())
		skip();
	loop = ev_loop_new(EVFLAG_AUTO);
	assert_int_equal(prober_open(&p, loop, &c, on_reply, &rec), 0);
	/* seq 9 "sent" to 127.0.0.9, which is never asked, so the only replies
	 * are the ones forged here, through the real receive path. */
	clock_gettime(CLOCK_REALTIME, &tx);
	fake_sent(&p, 1, 9, "127.0.0.9", &tx);
	inject_reply("127.0.0.2", c.ident, 9, &p.sent_mono[9]);	/* another host */
	inject_reply("127.0.0.9", c.ident ^ 1, 9, &p.sent_mono[9]);	/* another id */
	inject_reply("127.0.0.9", c.ident, 10, &p.sent_mono[9]);	/* not in flight */
	inject_reply("127.0.0.9", c.ident, 9, &p.sent_mono[9]);	/* the reply */
	inject_reply("127.0.0.9", c.ident, 9, &p.sent_mono[9]);	/* a duplicate */
	run_until(loop, &rec, 0.5);
	assert_int_equal(rec.n, 1);
	assert_int_equal(rec.r[0].target, 1);
	assert_int_equal(rec.r[0].seq, 9);
	/* fake_sent put the monotonic send time 10 ms back and the wall time at
	 * now: below 10 ms, the rtt came from the kernel's receive stamp. */
	assert_true(rec.r[0].rtt >= 0 && rec.r[0].rtt < 10.0);
	prober_close(&p);
	ev_loop_destroy(loop);
}

static void test_live_icmp6(void **state)
{
	struct ev_loop *loop;
	struct prober_cfg c = lo_cfg(PROBE_ICMP);
	struct rec rec = { .want = 2 };
	struct icmp6_filter f;
	socklen_t len;
	struct prober p;

	(void)state;
	if (!have_raw() || !have_ip6_lo())
		skip();
	loop = ev_loop_new(EVFLAG_AUTO);
	assert_int_equal(prober_open(&p, loop, &c, on_reply, &rec), 0);
	assert_int_equal(prober_send(&p, 0, "::1", 1), 72);
	assert_true(p.io6.fd >= 0);	/* opened on the first IPv6 target */
	len = sizeof(f);
	assert_int_equal(getsockopt(p.io6.fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, &len), 0);
	assert_true(ICMP6_FILTER_WILLPASS(ICMP6_ECHO_REPLY, &f));
	assert_true(ICMP6_FILTER_WILLBLOCK(ICMP6_ECHO_REQUEST, &f));
	assert_true(ICMP6_FILTER_WILLBLOCK(ND_NEIGHBOR_ADVERT, &f));
	assert_int_equal(prober_send(&p, 1, "127.0.0.1", 2), 52);
	assert_true(run_until(loop, &rec, LIVE_LIMIT_S) < 1.0);
	assert_int_equal(rec.n, 2);
	for (int i = 0; i < 2; i++) {
		struct reply *r = &rec.r[i];

		assert_int_equal(r->bytes, r->seq == 1 ? 72 : 52);
		assert_int_equal(r->target, r->seq - 1);
		assert_true(r->rtt >= 0 && r->rtt < 100);
	}
	assert_int_equal(p.bytes_sent, 72 + 52);
	prober_close(&p);
	ev_loop_destroy(loop);
}

/* A resolver in the same loop: answers every query twice, after a decoy with
 * a wrong id and one from another port. */
struct responder {
	ev_io io;
	int decoy_fd;
	int queries;
};

static void responder_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct responder *r = container_of(w, struct responder, io);
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	uint8_t buf[512];
	ssize_t n;

	(void)loop;
	(void)revents;
	n = recvfrom(w->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
	if (n < 12)
		return;
	r->queries++;
	buf[2] |= 0x80;
	buf[3] = 0x85;	/* REFUSED: an answer all the same */
	buf[0] ^= 0x40;
	sendto(w->fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
	buf[0] ^= 0x40;
	sendto(r->decoy_fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
	sendto(w->fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
	sendto(w->fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
}

static int udp_on_lo(uint16_t *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	if (port)
		*port = ntohs(sa.sin_port);
	return fd;
}

static void test_live_dns(void **state)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct prober_cfg c = lo_cfg(PROBE_DNS);
	struct rec rec = { .want = 2 };
	struct responder r = { 0 };
	struct prober p;
	int fd;

	(void)state;
	fd = udp_on_lo(&c.port);
	r.decoy_fd = udp_on_lo(NULL);
	ev_io_init(&r.io, responder_cb, fd, EV_READ);
	ev_io_start(loop, &r.io);
	assert_int_equal(prober_open(&p, loop, &c, on_reply, &rec), 0);
	assert_int_equal(prober_send(&p, 0, "127.0.0.1", 100), 45);
	assert_int_equal(prober_send(&p, 1, "127.0.0.1", 101), 45);
	/* Pretend the sends were 10 ms earlier on the monotonic clock only: an
	 * rtt below 10 ms then shows the kernel's receive stamp was used. */
	p.sent_mono[100 % PROBE_RING].tv_sec -= 1;
	p.sent_mono[100 % PROBE_RING].tv_nsec += 990000000;
	assert_true(run_until(loop, &rec, LIVE_LIMIT_S) < 1.0);
	assert_int_equal(r.queries, 2);
	assert_int_equal(rec.n, 2);
	assert_int_equal(rec.r[0].seq, 100);
	assert_int_equal(rec.r[1].seq, 101);
	assert_int_equal(rec.r[1].target, 1);
	assert_int_equal(rec.r[0].bytes, 20 + 8 + 17);
	assert_true(rec.r[0].rtt >= 0 && rec.r[0].rtt < 10.0);
	/* The decoys and the second copies are not replies. */
	rec.want = 3;
	run_until(loop, &rec, 0.2);
	assert_int_equal(rec.n, 2);
	assert_int_equal(p.bytes_received, 2 * 45);
	prober_close(&p);
	ev_io_stop(loop, &r.io);
	close(fd);
	close(r.decoy_fd);
	ev_loop_destroy(loop);
}

static int tcp_listener(uint16_t *port, bool listening)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	if (listening)
		assert_int_equal(listen(fd, 16), 0);
	return fd;
}

static void test_live_tcp(void **state)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct prober_cfg c = lo_cfg(PROBE_TCP), cc = lo_cfg(PROBE_TCP);
	struct rec rec = { .want = 1 }, rec2 = { .want = 1 };
	struct prober p, q;
	int lfd, cfd, fds = count_fds();

	(void)state;
	lfd = tcp_listener(&c.port, true);
	cfd = tcp_listener(&cc.port, false);	/* bound, never listening: refuses */
	assert_int_equal(prober_open(&p, loop, &c, on_reply, &rec), 0);
	assert_int_equal(prober_open(&q, loop, &cc, on_reply, &rec2), 0);

	assert_int_equal(prober_send(&p, 2, "127.0.0.1", 5), 164);
	assert_true(run_until(loop, &rec, LIVE_LIMIT_S) < 1.0);
	assert_int_equal(rec.n, 1);
	assert_int_equal(rec.r[0].target, 2);
	assert_int_equal(rec.r[0].seq, 5);
	assert_int_equal(rec.r[0].bytes, 60);
	assert_true(rec.r[0].rtt >= 0 && rec.r[0].rtt < 100);
	assert_false(p.tcp[0].used);	/* closed at once */

	assert_int_equal(prober_send(&q, 0, "127.0.0.1", 6), 164);
	assert_true(run_until(loop, &rec2, LIVE_LIMIT_S) < 1.0);
	assert_int_equal(rec2.n, 1);
	assert_int_equal(rec2.r[0].seq, 6);
	assert_int_equal(rec2.r[0].bytes, 40);	/* the RST of a closed port */

	assert_int_equal(p.bytes_sent, 164);
	assert_int_equal(p.bytes_received, 60);
	prober_close(&p);
	prober_close(&q);
	close(lfd);
	close(cfd);
	assert_int_equal(count_fds(), fds);
	ev_loop_destroy(loop);
}

static void test_live_tcp_unreachable(void **state)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct prober_cfg c = lo_cfg(PROBE_TCP);
	struct rec rec = { .want = 1 };
	struct prober p;
	int fds = count_fds(), inflight = 0;

	(void)state;
	c.port = 9;
	assert_int_equal(prober_open(&p, loop, &c, on_reply, &rec), 0);
	/* Bound to lo, 192.0.2.1 (TEST-NET) goes nowhere: SYNs into the void.
	 * More connects than slots: the oldest are dropped, none answers. */
	for (int i = 0; i < PROBE_MAX_TCP_INFLIGHT + 4; i++) {
		int rc = prober_send(&p, 0, "192.0.2.1", (uint16_t)i);

		assert_true(rc == 164 || rc == -ENETUNREACH || rc == -EHOSTUNREACH);
	}
	for (int i = 0; i < PROBE_MAX_TCP_INFLIGHT; i++)
		inflight += p.tcp[i].used;
	assert_true(inflight <= PROBE_MAX_TCP_INFLIGHT);
	run_until(loop, &rec, 0.5);
	assert_int_equal(rec.n, 0);
	prober_close(&p);
	assert_int_equal(count_fds(), fds);
	ev_loop_destroy(loop);
}

static int listen6(int type, uint16_t *port, bool listening)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET6, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin6_port);
	if (listening)
		assert_int_equal(listen(fd, 16), 0);
	return fd;
}

static void test_live_ip6_dns_tcp(void **state)
{
	struct ev_loop *loop;
	struct prober_cfg d = lo_cfg(PROBE_DNS), t = lo_cfg(PROBE_TCP), r = lo_cfg(PROBE_TCP);
	struct rec drec = { .want = 1 }, trec = { .want = 1 }, rrec = { .want = 1 };
	struct responder resp = { 0 };
	struct prober pd, pt, pr;
	int dfd, tfd, rfd;
	uint16_t decoy_port;

	(void)state;
	if (!have_ip6_lo())
		skip();
	loop = ev_loop_new(EVFLAG_AUTO);
	dfd = listen6(SOCK_DGRAM, &d.port, false);
	resp.decoy_fd = listen6(SOCK_DGRAM, &decoy_port, false);
	tfd = listen6(SOCK_STREAM, &t.port, true);
	rfd = listen6(SOCK_STREAM, &r.port, false);
	ev_io_init(&resp.io, responder_cb, dfd, EV_READ);
	ev_io_start(loop, &resp.io);
	assert_int_equal(prober_open(&pd, loop, &d, on_reply, &drec), 0);
	assert_int_equal(prober_open(&pt, loop, &t, on_reply, &trec), 0);
	assert_int_equal(prober_open(&pr, loop, &r, on_reply, &rrec), 0);

	assert_int_equal(prober_send(&pd, 0, "::1", 1), 40 + 8 + 17);
	run_until(loop, &drec, LIVE_LIMIT_S);
	assert_int_equal(drec.n, 1);
	assert_int_equal(drec.r[0].bytes, 40 + 8 + 17);
	assert_int_equal(prober_send(&pt, 0, "::1", 2), 224);
	run_until(loop, &trec, LIVE_LIMIT_S);
	assert_int_equal(trec.n, 1);
	assert_int_equal(trec.r[0].bytes, 80);
	assert_int_equal(prober_send(&pr, 0, "::1", 3), 224);
	run_until(loop, &rrec, LIVE_LIMIT_S);
	assert_int_equal(rrec.n, 1);
	assert_int_equal(rrec.r[0].bytes, 60);

	prober_close(&pd);
	prober_close(&pt);
	prober_close(&pr);
	ev_io_stop(loop, &resp.io);
	close(dfd);
	close(resp.decoy_fd);
	close(tfd);
	close(rfd);
	ev_loop_destroy(loop);
}

/* The IPv6 socket opens on the first IPv6 send; when that fails (here: a
 * source address the host does not have), the send fails quietly and the
 * next one tries again. */
static void test_live_ip6_open_fails(void **state)
{
	struct ev_loop *loop;
	struct prober_cfg c = lo_cfg(PROBE_ICMP);
	struct rec rec = { .want = 1 };
	struct prober p;

	(void)state;
	if (!have_raw() || !have_ip6_lo())
		skip();
	loop = ev_loop_new(EVFLAG_AUTO);
	c.has_src6 = true;
	inet_pton(AF_INET6, "2001:db8::77", &c.src6);
	assert_int_equal(prober_open(&p, loop, &c, on_reply, &rec), 0);
	for (uint16_t s = 1; s <= 2; s++) {
		assert_int_equal(prober_send(&p, 0, "::1", s), -EADDRNOTAVAIL);
		assert_int_equal(p.io6.fd, -1);
	}
	assert_int_equal(p.bytes_sent, 0);
	/* IPv4 is not affected. */
	assert_int_equal(prober_send(&p, 0, "127.0.0.1", 3), 52);
	run_until(loop, &rec, LIVE_LIMIT_S);
	assert_int_equal(rec.n, 1);
	prober_close(&p);
	ev_loop_destroy(loop);
}

/* The owner may close the prober from its reply callback. */
static void test_live_close_in_callback(void **state)
{
	struct ev_loop *loop;
	struct prober_cfg c = lo_cfg(PROBE_ICMP);
	struct rec rec = { .want = 1 };
	struct prober p;

	(void)state;
	if (!have_raw())
		skip();
	loop = ev_loop_new(EVFLAG_AUTO);
	assert_int_equal(prober_open(&p, loop, &c, on_reply, &rec), 0);
	rec.close_me = &p;
	for (uint16_t s = 1; s <= 5; s++)
		assert_int_equal(prober_send(&p, 0, "127.0.0.1", s), 52);
	rec.want = 5;
	run_until(loop, &rec, 0.3);
	assert_int_equal(rec.n, 1);
	assert_null(p.loop);
	assert_int_equal(p.io4.fd, -1);
	ev_loop_destroy(loop);
}

static void test_live_open_bad_source(void **state)
{
	struct ev_loop *loop;
	struct prober_cfg c = lo_cfg(PROBE_ICMP);
	struct prober p;

	(void)state;
	if (!have_raw())
		skip();
	loop = ev_loop_new(EVFLAG_AUTO);
	c.has_src4 = true;
	inet_pton(AF_INET, "192.0.2.77", &c.src4);
	last_log[0] = '\0';
	assert_int_equal(prober_open(&p, loop, &c, on_reply, NULL), -EADDRNOTAVAIL);
	assert_string_equal(last_log, "icmp probe: cannot bind to 192.0.2.77 on lo: "
				      "Cannot assign requested address");
	assert_null(p.loop);
	prober_close(&p);
	ev_loop_destroy(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csum),
		cmocka_unit_test(test_icmp_build),
		cmocka_unit_test(test_icmp_parse_v4),
		cmocka_unit_test(test_icmp_parse_v6),
		cmocka_unit_test(test_dns_packets),
		cmocka_unit_test(test_dns_id_scheme),
		cmocka_unit_test(test_byte_counts),
		cmocka_unit_test(test_match_icmp),
		cmocka_unit_test(test_match_rtt_fallback),
		cmocka_unit_test(test_match_icmp6),
		cmocka_unit_test(test_match_dns),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_live_icmp4),
		cmocka_unit_test(test_live_icmp4_strict),
		cmocka_unit_test(test_live_icmp6),
		cmocka_unit_test(test_live_dns),
		cmocka_unit_test(test_live_tcp),
		cmocka_unit_test(test_live_tcp_unreachable),
		cmocka_unit_test(test_live_ip6_dns_tcp),
		cmocka_unit_test(test_live_ip6_open_fails),
		cmocka_unit_test(test_live_close_in_callback),
		cmocka_unit_test(test_live_open_bad_source),
	};

	return cmocka_run_group_tests_name("probe", tests, setup, teardown);
}
