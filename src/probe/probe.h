/* Probe engines: ICMP echo, DNS query, TCP connect, each leaving through one
 * member's device. The scheduler (sched.c) decides when to send and tracks
 * timeouts; an engine only sends and reports replies, at once, from the loop.
 *
 * Every socket is bound to the member's device (SO_BINDTODEVICE), to its source
 * address when one is given, and carries SO_MARK when mark != 0, so a probe
 * always leaves through its member whatever the routing table prefers.
 * Binding picks the device, not a gateway: the route lookup still needs a
 * route through that device (in main, or in the table the mark selects);
 * without one Linux assumes the target is on the link and ARPs for it.
 *
 * ICMP: one raw socket per family (IPv6 opened on the first IPv6 target),
 * echo id = ident, seq = seq, payload magic + send time (probe/wire.h); a
 * reply counts when id, seq (in flight), source address and payload match.
 * DNS: one UDP socket per family; ". IN SOA" query, DNS id = ident ^ seq; any
 * well-formed response with that id from target:port counts, whatever RCODE.
 * rtt: the kernel's receive stamp (SO_TIMESTAMPNS, CLOCK_REALTIME) minus
 * CLOCK_REALTIME just before sendto; if the wall clock was stepped in between,
 * the CLOCK_MONOTONIC time from send to reading the reply.
 * TCP: one socket per connect (SO_LINGER {1,0}, TCP_SYNCNT 1); accepted or
 * refused (ECONNREFUSED) is a reply, rtt CLOCK_MONOTONIC from connect() to
 * the loop seeing it complete; other errors are no reply. With
 * PROBE_MAX_TCP_INFLIGHT connects in flight, a new one closes the oldest
 * without a reply (the scheduler has timed it out by then).
 *
 * A device deleted and created again (ppp, wwan) has a new ifindex; sockets
 * bound to the old one fail with ENODEV, and the engine reopens them on the
 * next send once the name exists again.
 */
#ifndef AUTONOMY_PROBE_H
#define AUTONOMY_PROBE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include <ev.h>

#include "config/config.h"

#define PROBE_MAX_TCP_INFLIGHT	16
#define PROBE_RING		64	/* ICMP/DNS probes in flight, by seq % PROBE_RING */

/* reply: a probe sent with prober_send(…, seq) was answered; rtt in ms from the
 * kernel's receive timestamp; bytes = bytes received for it (IP header included).
 * Called at most once per probe, from the loop (never from prober_send). It may
 * call prober_send or prober_close, but must not free the prober. */
typedef void (*probe_reply_fn)(void *ctx, int target, uint16_t seq, double rtt_ms, size_t bytes);

struct prober_cfg {
	int type;			/* enum probe_type */
	char device[CFG_DEV_LEN];
	bool has_src4;
	struct in_addr src4;		/* bind IPv4 sockets to it */
	bool has_src6;
	struct in6_addr src6;
	uint32_t mark;			/* SO_MARK, 0 = none */
	uint16_t ident;			/* ICMP echo id / DNS id = ident ^ seq: unique per member */
	uint16_t port;			/* TCP port (default 443), DNS port (default 53) */
};

struct prober_tcp {			/* one connect in flight */
	ev_io io;
	struct prober *owner;
	int target;
	uint16_t seq;
	struct timespec sent;		/* CLOCK_MONOTONIC */
	bool used;
	sa_family_t family;
};

struct prober {
	struct prober_cfg cfg;
	struct ev_loop *loop;
	ev_io io4, io6;			/* ICMP/DNS reply sockets (fd -1 when unused) */
	probe_reply_fn cb;
	void *ctx;
	struct prober_tcp tcp[PROBE_MAX_TCP_INFLIGHT];
	/* ICMP/DNS probes in flight by seq % PROBE_RING: a reply counts only for
	 * the seq, the target address and (ICMP) the payload time recorded here. */
	struct timespec sent_at[PROBE_RING];	/* CLOCK_REALTIME just before sendto */
	int sent_target[PROBE_RING];		/* -1: nothing in flight */
	struct timespec sent_mono[PROBE_RING];	/* CLOCK_MONOTONIC: payload time, fallback rtt */
	uint16_t sent_seq[PROBE_RING];
	struct in6_addr sent_addr[PROBE_RING];	/* IPv4 as ::ffff:a.b.c.d */
	uint64_t bytes_sent, bytes_received;
	int ifindex;			/* of cfg.device when the sockets were (re)opened */
};

/* Opens the sockets for cfg->type (p zeroed or closed; counters restart at 0).
 * Returns 0 or -errno (message logged, e.g. "icmp probe: cannot bind to device
 * eth2: No such device"; the member is then probed by nothing until a later
 * open succeeds). Raw sockets need CAP_NET_RAW, SO_MARK CAP_NET_ADMIN. */
int prober_open(struct prober *p, struct ev_loop *loop, const struct prober_cfg *cfg,
		probe_reply_fn cb, void *ctx);
/* Closes every socket, TCP connects in flight included; no callback follows.
 * Idempotent; safe after a failed open and on a zeroed prober. */
void prober_close(struct prober *p);

/* Sends one probe to addr (an IPv4 or IPv6 literal, from the config) for target
 * index target, numbered seq. Returns the bytes put on the wire (IP header
 * included, as counted for data budgets) or -errno (logged at debug only).
 * Never blocks; allocates nothing itself. Bytes: ICMP 84 (IPv6 104), DNS 45 (65),
 * TCP 164 (224) = SYN 60 + ACK 52 + RST 52, an upper bound (a refused
 * connect sends only the SYN). */
int prober_send(struct prober *p, int target, const char *addr, uint16_t seq);

#endif
