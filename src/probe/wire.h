/* What the probe engines put on the wire and how they read it back: pure
 * functions over byte buffers (no sockets, no clock), so the packet code is
 * tested with crafted and truncated packets and can be fuzzed.
 *
 * ICMP echo (v4 and v6): id = cfg.ident, seq = the scheduler's seq, and a
 * 24-byte payload: the 8-byte magic "autonomy" and the send time
 * (CLOCK_MONOTONIC, seconds and nanoseconds as two host-order int64); small,
 * since metered members pay for every byte. A reply must echo magic and time exactly.
 *
 * DNS: a 17-byte query for ". IN SOA", recursion desired, no EDNS. The root
 * SOA is in every resolver's cache and its answer is one record (~90 bytes),
 * where ". NS" answers 13 records plus glue (~500 bytes): SOA keeps a metered
 * member's probe budget small. The DNS id is ident XOR seq, so a response maps
 * back to the full 16-bit seq (not only seq % 64) and two members that query
 * the same resolver from the same seq still use different ids.
 */
#ifndef AUTONOMY_PROBE_WIRE_H
#define AUTONOMY_PROBE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "probe/probe.h"

#define PROBE_MAGIC		"autonomy"	/* 8 bytes, no terminator on the wire */
#define PROBE_MAGIC_LEN		8
#define PROBE_ICMP_HDR		8
#define PROBE_ICMP_PAYLOAD	24
#define PROBE_ICMP_LEN		(PROBE_ICMP_HDR + PROBE_ICMP_PAYLOAD)
#define PROBE_DNS_HDR		12
#define PROBE_DNS_QUERY_LEN	17		/* header + root name + type + class */
#define PROBE_IP4_HDR		20
#define PROBE_IP6_HDR		40
#define PROBE_UDP_HDR		8

/* TCP, as Linux sends it by default (options MSS, SACK-permitted, timestamps,
 * window scale on the SYN; timestamps on every later segment). We never see
 * these segments, so they are estimates: */
#define PROBE_TCP_SYN		40	/* SYN and SYN-ACK: 20 + 20 bytes of options */
#define PROBE_TCP_ACK		32	/* the handshake's last ACK, and our RST: 20 + 12 */
#define PROBE_TCP_REFUSED	20	/* the RST of a closed port: no options */

struct probe_echo {
	uint16_t id, seq;
	struct timespec sent;		/* from the payload */
};

/* Internet checksum (RFC 1071) of len bytes, in host order: store it big-endian.
 * Over a message that carries its own checksum, the result is 0. */
uint16_t probe_csum(const void *data, size_t len);

/* Writes an echo request into buf (PROBE_ICMP_LEN bytes). IPv4 gets its
 * checksum; for ICMPv6 it stays 0, the kernel fills it in. */
void probe_icmp_build(uint8_t buf[PROBE_ICMP_LEN], bool v6, uint16_t id, uint16_t seq,
		      const struct timespec *sent);
/* Reads an echo reply: IPv4 with its IP header (raw sockets deliver it),
 * ICMPv6 without. Returns 0 and fills e, or -1 for anything else or anything
 * malformed, truncated, not ours (magic) or with a bad IPv4 checksum. */
int probe_icmp_parse(const uint8_t *buf, size_t len, bool v6, struct probe_echo *e);

/* Writes the query into buf (PROBE_DNS_QUERY_LEN bytes). */
void probe_dns_build(uint8_t buf[PROBE_DNS_QUERY_LEN], uint16_t id);
/* Reads a response header: returns 0 and its id, or -1 if it is not a
 * well-formed response to our question (any RCODE is fine: the resolver answered). */
int probe_dns_parse(const uint8_t *buf, size_t len, uint16_t *id);

static inline uint16_t probe_dns_id(uint16_t ident, uint16_t seq)
{
	return ident ^ seq;
}

static inline uint16_t probe_dns_seq(uint16_t ident, uint16_t id)
{
	return ident ^ id;
}

/* Bytes on the wire, IP header included, that one probe sends (TCP: SYN,
 * handshake ACK and RST: an upper bound, a closed port costs only the SYN). */
size_t probe_tx_bytes(int type, bool v6);
/* Bytes of a reply: ICMP/DNS from the received length (raw IPv4 includes the
 * IP header, the others do not); TCP: SYN-ACK, or RST when refused (len is
 * then ignored). */
size_t probe_rx_bytes(int type, bool v6, size_t len, bool refused);

/* One received ICMP or DNS datagram, as the socket callbacks see it. */
struct probe_pkt {
	const uint8_t *buf;
	size_t len;			/* bytes in buf */
	size_t wire;			/* datagram length (recvmsg with MSG_TRUNC) */
	const struct sockaddr *from;	/* AF_INET or AF_INET6 */
	const struct timespec *stamp;	/* kernel receive time (CLOCK_REALTIME) or NULL */
};

/* The receive path without a socket: matches pkt against the probes in
 * flight and, for a reply, frees the slot and calls the reply callback (as
 * its last action: p may be closed by then). Returns true when it did. */
bool probe_input(struct prober *p, const struct probe_pkt *pkt);

#endif
