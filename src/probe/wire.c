#include "probe/wire.h"

#include <string.h>

#define ICMP_ECHO_REPLY		0
#define ICMP_ECHO_REQUEST	8
#define ICMP6_ECHO_REQ		128
#define ICMP6_ECHO_REP		129
#define IPPROTO_ICMP_NUM	1
#define DNS_TYPE_SOA		6
#define DNS_CLASS_IN		1
#define DNS_FLAG_QR		0x8000
#define DNS_FLAG_RD		0x0100

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Host order: the payload only ever comes back to the host that wrote it. */
static void put64(uint8_t *p, int64_t v)
{
	memcpy(p, &v, sizeof(v));
}

static int64_t get64(const uint8_t *p)
{
	int64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

uint16_t probe_csum(const void *data, size_t len)
{
	const uint8_t *b = data;
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += get16(b + i);
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

void probe_icmp_build(uint8_t buf[PROBE_ICMP_LEN], bool v6, uint16_t id, uint16_t seq,
		      const struct timespec *sent)
{
	uint8_t *pl = buf + PROBE_ICMP_HDR;

	buf[0] = v6 ? ICMP6_ECHO_REQ : ICMP_ECHO_REQUEST;
	buf[1] = 0;
	put16(buf + 2, 0);
	put16(buf + 4, id);
	put16(buf + 6, seq);
	memcpy(pl, PROBE_MAGIC, PROBE_MAGIC_LEN);
	put64(pl + 8, (int64_t)sent->tv_sec);
	put64(pl + 16, (int64_t)sent->tv_nsec);
	if (!v6)
		put16(buf + 2, probe_csum(buf, PROBE_ICMP_LEN));
}

/* Skips a raw IPv4 socket's IP header; returns the ICMP message length or -1.
 * The IP total length wins over a longer buffer (link-layer padding). */
static int ip4_strip(const uint8_t **buf, size_t len)
{
	const uint8_t *b = *buf;
	size_t ihl, total;

	if (len < PROBE_IP4_HDR || b[0] >> 4 != 4)
		return -1;
	ihl = (size_t)(b[0] & 0x0f) * 4;
	total = get16(b + 2);
	if (ihl < PROBE_IP4_HDR || total < ihl || total > len || b[9] != IPPROTO_ICMP_NUM)
		return -1;
	*buf = b + ihl;
	return (int)(total - ihl);
}

int probe_icmp_parse(const uint8_t *buf, size_t len, bool v6, struct probe_echo *e)
{
	const uint8_t *pl;

	if (!v6) {
		int n = ip4_strip(&buf, len);

		if (n < 0)
			return -1;
		len = (size_t)n;
	}
	/* The payload must hold at least magic and time; padding may be cut. */
	if (len < PROBE_ICMP_HDR + 24 || buf[1] != 0)
		return -1;
	if (buf[0] != (v6 ? ICMP6_ECHO_REP : ICMP_ECHO_REPLY))
		return -1;
	/* Raw IPv4 sockets get packets before the kernel checks the checksum;
	 * ICMPv6 raw sockets only get packets whose checksum the kernel verified. */
	if (!v6 && probe_csum(buf, len) != 0)
		return -1;
	pl = buf + PROBE_ICMP_HDR;
	if (memcmp(pl, PROBE_MAGIC, PROBE_MAGIC_LEN))
		return -1;
	e->id = get16(buf + 4);
	e->seq = get16(buf + 6);
	e->sent.tv_sec = (time_t)get64(pl + 8);
	e->sent.tv_nsec = (long)get64(pl + 16);
	return 0;
}

static const uint8_t dns_question[] = {
	0,				/* the root name */
	0, DNS_TYPE_SOA,
	0, DNS_CLASS_IN,
};

void probe_dns_build(uint8_t buf[PROBE_DNS_QUERY_LEN], uint16_t id)
{
	put16(buf, id);
	put16(buf + 2, DNS_FLAG_RD);
	put16(buf + 4, 1);		/* one question */
	put16(buf + 6, 0);
	put16(buf + 8, 0);
	put16(buf + 10, 0);
	memcpy(buf + PROBE_DNS_HDR, dns_question, sizeof(dns_question));
}

int probe_dns_parse(const uint8_t *buf, size_t len, uint16_t *id)
{
	uint16_t flags, qd;

	if (len < PROBE_DNS_HDR)
		return -1;
	flags = get16(buf + 2);
	qd = get16(buf + 4);
	if (!(flags & DNS_FLAG_QR) || (flags >> 11 & 0xf) != 0 || qd > 1)
		return -1;
	/* Error answers (FORMERR, REFUSED) may leave the question out; when it is
	 * there, it must be ours. */
	if (qd == 1 && (len < PROBE_DNS_QUERY_LEN ||
			memcmp(buf + PROBE_DNS_HDR, dns_question, sizeof(dns_question))))
		return -1;
	*id = get16(buf);
	return 0;
}

static size_t ip_hdr(bool v6)
{
	return v6 ? PROBE_IP6_HDR : PROBE_IP4_HDR;
}

size_t probe_tx_bytes(int type, bool v6)
{
	switch (type) {
	case PROBE_ICMP:
		return ip_hdr(v6) + PROBE_ICMP_LEN;
	case PROBE_DNS:
		return ip_hdr(v6) + PROBE_UDP_HDR + PROBE_DNS_QUERY_LEN;
	case PROBE_TCP:
		return 3 * ip_hdr(v6) + PROBE_TCP_SYN + 2 * PROBE_TCP_ACK;
	default:
		return 0;
	}
}

size_t probe_rx_bytes(int type, bool v6, size_t len, bool refused)
{
	switch (type) {
	case PROBE_ICMP:
		return v6 ? PROBE_IP6_HDR + len : len;
	case PROBE_DNS:
		return ip_hdr(v6) + PROBE_UDP_HDR + len;
	case PROBE_TCP:
		return ip_hdr(v6) + (refused ? PROBE_TCP_REFUSED : PROBE_TCP_SYN);
	default:
		return 0;
	}
}
