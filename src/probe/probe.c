#include "probe/probe.h"
#include "probe/wire.h"
#include "core/log.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* From <linux/icmp.h>, which pulls in <linux/if.h>: that clashes with
 * <net/if.h> on libcs other than glibc (musl on OpenWrt). */
#ifndef ICMP_FILTER
#define ICMP_FILTER		1
struct icmp_filter {
	uint32_t data;		/* bit n set: drop ICMP type n */
};
#endif
#define ICMP_TYPE_ECHO_REPLY	0

#define PROBE_RX_BUF		512	/* echo replies: 124 bytes at most; DNS without EDNS: 512 */
#define PROBE_RX_BATCH		16	/* datagrams read per wake-up that are not ours */
#define DEFAULT_DNS_PORT	53
#define DEFAULT_TCP_PORT	443

union probe_sa {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
	struct sockaddr_storage ss;
};

static const char *const type_names[__PROBE_MAX] = {
	[PROBE_ICMP] = "icmp",
	[PROBE_DNS] = "dns",
	[PROBE_TCP] = "tcp",
};

static const char *type_name(const struct prober *p)
{
	return p->cfg.type >= 0 && p->cfg.type < __PROBE_MAX ? type_names[p->cfg.type] : "?";
}

/* ICMP: 0, as a raw IPv6 socket reads sin6_port as the protocol (EINVAL). */
static uint16_t port_of(const struct prober *p)
{
	if (p->cfg.type == PROBE_ICMP)
		return 0;
	if (p->cfg.port)
		return p->cfg.port;
	return p->cfg.type == PROBE_TCP ? DEFAULT_TCP_PORT : DEFAULT_DNS_PORT;
}

/* ---- addresses and time -------------------------------------------------- */

/* A config literal into a socket address. Link-local IPv6 targets get the
 * member's device as their scope: that is the only link they can be on. */
static int parse_addr(const struct prober *p, const char *addr, uint16_t port, union probe_sa *sa,
		      socklen_t *len)
{
	memset(sa, 0, sizeof(*sa));
	if (inet_pton(AF_INET, addr, &sa->in.sin_addr) == 1) {
		sa->in.sin_family = AF_INET;
		sa->in.sin_port = htons(port);
		*len = sizeof(sa->in);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &sa->in6.sin6_addr) == 1) {
		sa->in6.sin6_family = AF_INET6;
		sa->in6.sin6_port = htons(port);
		if (IN6_IS_ADDR_LINKLOCAL(&sa->in6.sin6_addr))
			sa->in6.sin6_scope_id = (uint32_t)p->ifindex;
		*len = sizeof(sa->in6);
		return 0;
	}
	return -EINVAL;
}

/* The address of a socket address as an IPv6 address (IPv4 mapped) and its port. */
static bool addr_key(const struct sockaddr *sa, struct in6_addr *a, uint16_t *port)
{
	const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;

	if (sa->sa_family == AF_INET) {
		memset(a, 0, sizeof(*a));
		a->s6_addr[10] = a->s6_addr[11] = 0xff;
		memcpy(&a->s6_addr[12], &in->sin_addr, 4);
		*port = ntohs(in->sin_port);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		*a = in6->sin6_addr;
		*port = ntohs(in6->sin6_port);
		return true;
	}
	return false;
}

static double ts_ms(const struct timespec *a, const struct timespec *b)
{
	return (double)(a->tv_sec - b->tv_sec) * 1e3 + (double)(a->tv_nsec - b->tv_nsec) / 1e6;
}

/* The kernel stamps a datagram with CLOCK_REALTIME when it arrives, so
 * rx - tx leaves out our own wake-up delay. The wall clock may have been set
 * in between (NTP's first step on a router without an RTC): then the stamp
 * says nothing, and the monotonic time since the send, a little longer but
 * honest, is used. */
static double rtt_ms(const struct prober *p, int slot, const struct timespec *stamp)
{
	struct timespec now;
	double mono, kern;

	clock_gettime(CLOCK_MONOTONIC, &now);
	mono = ts_ms(&now, &p->sent_mono[slot]);
	if (!stamp)
		return mono;
	kern = ts_ms(stamp, &p->sent_at[slot]);
	if (kern < 0 || kern > mono + 1.0)
		return mono;
	return kern;
}

/* ---- sockets ---------------------------------------------------------------- */

/* Logs why a socket could not be set up ("icmp probe: cannot bind to device
 * eth2: No such device") and returns -err. quiet: at debug only, for paths
 * whose errors the scheduler reports. */
static int fail(const struct prober *p, bool quiet, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(const struct prober *p, bool quiet, int err, const char *fmt, ...)
{
	char what[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	log_at(quiet ? LOG_LVL_DEBUG : LOG_LVL_ERROR, "%s probe: %s: %s", type_name(p), what,
	       strerror(err));
	return -err;
}

static int bind_src(const struct prober *p, int fd, int family, bool quiet)
{
	union probe_sa sa;
	char buf[INET6_ADDRSTRLEN];
	socklen_t len;
	int err;

	memset(&sa, 0, sizeof(sa));
	if (family == AF_INET && p->cfg.has_src4) {
		sa.in.sin_family = AF_INET;
		sa.in.sin_addr = p->cfg.src4;
		len = sizeof(sa.in);
	} else if (family == AF_INET6 && p->cfg.has_src6) {
		sa.in6.sin6_family = AF_INET6;
		sa.in6.sin6_addr = p->cfg.src6;
		if (IN6_IS_ADDR_LINKLOCAL(&sa.in6.sin6_addr))
			sa.in6.sin6_scope_id = (uint32_t)p->ifindex;
		len = sizeof(sa.in6);
	} else {
		return 0;
	}
	if (bind(fd, &sa.sa, len) == 0)
		return 0;
	err = errno;
	if (family == AF_INET)
		inet_ntop(family, &sa.in.sin_addr, buf, sizeof(buf));
	else
		inet_ntop(family, &sa.in6.sin6_addr, buf, sizeof(buf));
	return fail(p, quiet, err, "cannot bind to %s on %s", buf, p->cfg.device);
}

/* What every probe socket needs: the member's device, its source address and
 * the mark, so it leaves through the member whatever the routing prefers. */
static int sock_bind(const struct prober *p, int fd, int family, bool quiet)
{
	const char *dev = p->cfg.device;
	int on = 1, rc;

	if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev, (socklen_t)strlen(dev)) < 0)
		return fail(p, quiet, errno, "cannot bind to device %s", dev);
	/* TCP: pick the port at connect time, so 16 probe sockets bound to one
	 * source address do not each pin a port from bind() on. */
	if (p->cfg.type == PROBE_TCP)
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, sizeof(on));
	rc = bind_src(p, fd, family, quiet);
	if (rc < 0)
		return rc;
	if (p->cfg.mark &&
	    setsockopt(fd, SOL_SOCKET, SO_MARK, &p->cfg.mark, sizeof(p->cfg.mark)) < 0)
		return fail(p, quiet, errno, "cannot set mark 0x%x on %s", p->cfg.mark, dev);
	return 0;
}

/* Only echo replies reach the socket: a raw ICMP socket otherwise gets a copy
 * of every ICMP message the device receives. */
static int icmp_filter(int fd, int family)
{
	if (family == AF_INET) {
		struct icmp_filter f = { .data = ~(1u << ICMP_TYPE_ECHO_REPLY) };

		return setsockopt(fd, SOL_RAW, ICMP_FILTER, &f, sizeof(f));
	} else {
		struct icmp6_filter f;

		ICMP6_FILTER_SETBLOCKALL(&f);
		ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f);
		return setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof(f));
	}
}

static int dgram_open(const struct prober *p, int family, bool quiet)
{
	const char *fam = family == AF_INET ? "IPv4" : "IPv6", *dev = p->cfg.device;
	bool icmp = p->cfg.type == PROBE_ICMP;
	int on = 1, fd, rc;

	if (icmp)
		fd = socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6);
	else
		fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(p, quiet, errno, "cannot open %s %s socket for %s",
			    icmp ? "a raw" : "an", fam, dev);
	/* An IPv6 UDP socket would also take IPv4 datagrams, as ::ffff:a.b.c.d. */
	if (family == AF_INET6 && !icmp &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) < 0) {
		rc = fail(p, quiet, errno, "IPV6_V6ONLY on %s", dev);
		goto close_fd;
	}
	rc = sock_bind(p, fd, family, quiet);
	if (rc < 0)
		goto close_fd;
	if (icmp && icmp_filter(fd, family) < 0) {
		rc = fail(p, quiet, errno, "cannot set the %s ICMP filter on %s", fam, dev);
		goto close_fd;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on)) < 0) {
		rc = fail(p, quiet, errno, "SO_TIMESTAMPNS on %s", dev);
		goto close_fd;
	}
	return fd;

close_fd:
	close(fd);
	return rc;
}

/* ---- receiving ICMP and DNS ------------------------------------------------- */

static const struct timespec *rx_stamp(struct msghdr *msg, struct timespec *ts)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		/* Only a stamp of exactly our struct timespec: a 32-bit libc whose
		 * time_t differs from the kernel's falls back to the monotonic rtt. */
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS &&
		    c->cmsg_len == CMSG_LEN(sizeof(*ts))) {
			memcpy(ts, CMSG_DATA(c), sizeof(*ts));
			return ts;
		}
	}
	return NULL;
}

/* Which seq a datagram answers, from its content; -1 when it is not a reply
 * of ours at all. */
static int pkt_seq(const struct prober *p, const struct probe_pkt *pkt, uint16_t from_port,
		   struct probe_echo *e)
{
	bool v6 = pkt->from->sa_family == AF_INET6;
	uint16_t id;

	if (p->cfg.type == PROBE_ICMP) {
		if (probe_icmp_parse(pkt->buf, pkt->len, v6, e) < 0 || e->id != p->cfg.ident)
			return -1;
		return e->seq;
	}
	if (p->cfg.type == PROBE_DNS) {
		if (from_port != port_of(p) || probe_dns_parse(pkt->buf, pkt->len, &id) < 0)
			return -1;
		return probe_dns_seq(p->cfg.ident, id);
	}
	return -1;
}

bool probe_input(struct prober *p, const struct probe_pkt *pkt)
{
	struct probe_echo e = { 0 };
	struct in6_addr from;
	uint16_t port, seq;
	int s, slot, target;
	size_t bytes;
	double rtt;

	if (!p->cb || !addr_key(pkt->from, &from, &port))
		return false;
	s = pkt_seq(p, pkt, port, &e);
	if (s < 0)
		return false;
	seq = (uint16_t)s;
	slot = seq % PROBE_RING;
	if (p->sent_target[slot] < 0 || p->sent_seq[slot] != seq ||
	    memcmp(&p->sent_addr[slot], &from, sizeof(from)))
		return false;
	/* The echoed time names the very send: a reply to an older use of this
	 * seq (after a wrap) or a forged one does not count. */
	if (p->cfg.type == PROBE_ICMP && (e.sent.tv_sec != p->sent_mono[slot].tv_sec ||
					  e.sent.tv_nsec != p->sent_mono[slot].tv_nsec))
		return false;
	rtt = rtt_ms(p, slot, pkt->stamp);
	bytes = probe_rx_bytes(p->cfg.type, pkt->from->sa_family == AF_INET6, pkt->wire, false);
	target = p->sent_target[slot];
	p->sent_target[slot] = -1;
	p->bytes_received += bytes;
	p->cb(p->ctx, target, seq, rtt, bytes);
	return true;
}

static void dgram_read(struct prober *p, int fd)
{
	uint8_t buf[PROBE_RX_BUF];
	union probe_sa from;
	union {
		char buf[CMSG_SPACE(sizeof(struct timespec)) + 64];
		struct cmsghdr align;
	} ctl;
	struct timespec ts;

	for (int i = 0; i < PROBE_RX_BATCH; i++) {
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
		struct msghdr msg = {
			.msg_name = &from, .msg_namelen = sizeof(from),
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
		};
		struct probe_pkt pkt;
		ssize_t n;

		/* MSG_TRUNC: the datagram's real length, for the byte count. */
		n = recvmsg(fd, &msg, MSG_TRUNC | MSG_DONTWAIT);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				log_debug("%s probe on %s: receive: %s", type_name(p),
					  p->cfg.device, strerror(errno));
			return;
		}
		if (msg.msg_namelen < sizeof(struct sockaddr_in))
			continue;
		pkt = (struct probe_pkt){
			.buf = buf,
			.len = (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf),
			.wire = (size_t)n,
			.from = &from.sa,
			.stamp = rx_stamp(&msg, &ts),
		};
		/* After a callback, p may be closed: libev calls again for the rest. */
		if (probe_input(p, &pkt))
			return;
	}
}

static void io4_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	dgram_read(container_of(w, struct prober, io4), w->fd);
}

static void io6_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	dgram_read(container_of(w, struct prober, io6), w->fd);
}

/* ---- sending ICMP and DNS --------------------------------------------------- */

static int dgram_fd(struct prober *p, int family)
{
	int fd;

	if (family == AF_INET)
		return p->io4.fd >= 0 ? p->io4.fd : -EBADF;
	if (p->io6.fd >= 0)
		return p->io6.fd;
	/* Opened on the first IPv6 target: most members have none. Failures
	 * are quiet (the scheduler logs its send errors) and retried next time,
	 * e.g. until a source address has finished DAD. */
	fd = dgram_open(p, AF_INET6, true);
	if (fd < 0)
		return fd;
	ev_io_set(&p->io6, fd, EV_READ);
	ev_io_start(p->loop, &p->io6);
	return fd;
}

/* A device that goes away and comes back (ppp, or wwan when a modem
 * reconnects) gets a new ifindex, and a socket bound to the old one fails
 * with ENODEV for ever: once the name exists again, bind a new socket. */
static int dgram_reopen(struct prober *p, int family)
{
	ev_io *w = family == AF_INET ? &p->io4 : &p->io6;
	int idx = (int)if_nametoindex(p->cfg.device), fd;

	if (!idx)
		return -ENODEV;
	p->ifindex = idx;
	fd = dgram_open(p, family, true);
	if (fd < 0)
		return fd;
	log_info("%s probe: %s is back (ifindex %d), socket reopened", type_name(p),
		 p->cfg.device, idx);
	ev_io_stop(p->loop, w);
	close(w->fd);
	ev_io_set(w, fd, EV_READ);
	ev_io_start(p->loop, w);
	return fd;
}

static void mark_sent(struct prober *p, int target, uint16_t seq, const union probe_sa *sa,
		      const struct timespec *real, const struct timespec *mono)
{
	int slot = seq % PROBE_RING;
	uint16_t port;

	p->sent_at[slot] = *real;
	p->sent_mono[slot] = *mono;
	p->sent_target[slot] = target;
	p->sent_seq[slot] = seq;
	addr_key(&sa->sa, &p->sent_addr[slot], &port);
}

static int xmit(int fd, const void *pkt, size_t len, const union probe_sa *sa, socklen_t salen,
		struct timespec *real)
{
	/* As close to the wire as we get: the kernel stamps the reply on arrival. */
	clock_gettime(CLOCK_REALTIME, real);
	return sendto(fd, pkt, len, 0, &sa->sa, salen) < 0 ? -errno : 0;
}

static int dgram_send(struct prober *p, int target, const union probe_sa *sa, socklen_t salen,
		      uint16_t seq)
{
	union {
		uint8_t icmp[PROBE_ICMP_LEN];
		uint8_t dns[PROBE_DNS_QUERY_LEN];
	} pkt;
	bool v6 = sa->sa.sa_family == AF_INET6;
	struct timespec mono, real;
	size_t len;
	int rc, fd = dgram_fd(p, sa->sa.sa_family);

	if (fd < 0)
		return fd;
	clock_gettime(CLOCK_MONOTONIC, &mono);
	if (p->cfg.type == PROBE_ICMP) {
		probe_icmp_build(pkt.icmp, v6, p->cfg.ident, seq, &mono);
		len = sizeof(pkt.icmp);
	} else {
		probe_dns_build(pkt.dns, probe_dns_id(p->cfg.ident, seq));
		len = sizeof(pkt.dns);
	}
	rc = xmit(fd, &pkt, len, sa, salen, &real);
	if (rc == -ENODEV) {
		fd = dgram_reopen(p, sa->sa.sa_family);
		rc = fd < 0 ? fd : xmit(fd, &pkt, len, sa, salen, &real);
	}
	if (rc < 0)
		return rc;
	mark_sent(p, target, seq, sa, &real, &mono);
	return (int)probe_tx_bytes(p->cfg.type, v6);
}

/* ---- TCP connect ------------------------------------------------------------- */

static void tcp_release(struct prober *p, struct prober_tcp *t)
{
	ev_io_stop(p->loop, &t->io);
	close(t->io.fd);
	t->used = false;
}

static void tcp_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct prober_tcp *t = container_of(w, struct prober_tcp, io);
	struct prober *p = t->owner;
	socklen_t len = sizeof(int);
	struct timespec now;
	int err = 0, target = t->target;
	uint16_t seq = t->seq;
	bool v6 = t->family == AF_INET6;
	size_t bytes;
	double rtt;

	(void)loop;
	(void)revents;
	clock_gettime(CLOCK_MONOTONIC, &now);
	rtt = ts_ms(&now, &t->sent);
	if (getsockopt(w->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	/* SO_LINGER {1, 0}: the close resets the connection, no TIME_WAIT. */
	tcp_release(p, t);
	if (err && err != ECONNREFUSED) {
		log_debug("tcp probe on %s: seq %u: %s", p->cfg.device, seq, strerror(err));
		return;
	}
	/* A refusal comes from the far end just as an accept does: the path works. */
	bytes = probe_rx_bytes(PROBE_TCP, v6, 0, err == ECONNREFUSED);
	p->bytes_received += bytes;
	p->cb(p->ctx, target, seq, rtt, bytes);
}

/* A free slot, or else the oldest connect: by then the scheduler has given
 * it up as lost, and it gets no reply. */
static struct prober_tcp *tcp_slot(struct prober *p)
{
	struct prober_tcp *old = NULL;

	for (int i = 0; i < PROBE_MAX_TCP_INFLIGHT; i++) {
		struct prober_tcp *t = &p->tcp[i];

		if (!t->used)
			return t;
		if (!old || ts_ms(&t->sent, &old->sent) < 0)
			old = t;
	}
	log_debug("tcp probe on %s: %d connects in flight, dropping seq %u", p->cfg.device,
		  PROBE_MAX_TCP_INFLIGHT, old->seq);
	tcp_release(p, old);
	return old;
}

static int tcp_socket(struct prober *p, int family)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int one = 1, fd, rc;

	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = sock_bind(p, fd, family, true);
	if (rc < 0)
		goto close_fd;
	/* One SYN retransmission, then ETIMEDOUT after ~3 s: a dead path must
	 * not keep sending SYNs for two minutes on a metered link. */
	if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_SYNCNT, &one, sizeof(one)) < 0) {
		rc = -errno;
		goto close_fd;
	}
	return fd;

close_fd:
	close(fd);
	return rc;
}

static int tcp_send(struct prober *p, int target, const union probe_sa *sa, socklen_t salen,
		    uint16_t seq)
{
	struct prober_tcp *t;
	struct timespec sent;
	int fd = tcp_socket(p, sa->sa.sa_family);

	if (fd < 0)
		return fd;
	clock_gettime(CLOCK_MONOTONIC, &sent);
	if (connect(fd, &sa->sa, salen) < 0 && errno != EINPROGRESS && errno != ECONNREFUSED) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	/* Even a connect that finished at once is reported from the loop:
	 * the scheduler records the probe only after we return. */
	t = tcp_slot(p);
	*t = (struct prober_tcp){
		.owner = p, .target = target, .seq = seq, .sent = sent,
		.used = true, .family = sa->sa.sa_family,
	};
	ev_io_init(&t->io, tcp_cb, fd, EV_WRITE);
	ev_io_start(p->loop, &t->io);
	return (int)probe_tx_bytes(PROBE_TCP, sa->sa.sa_family == AF_INET6);
}

/* ---- the API ------------------------------------------------------------------ */

int prober_send(struct prober *p, int target, const char *addr, uint16_t seq)
{
	union probe_sa sa;
	socklen_t salen;
	int rc;

	if (!p->loop)
		return -EBADF;
	rc = parse_addr(p, addr, port_of(p), &sa, &salen);
	if (rc == 0)
		rc = p->cfg.type == PROBE_TCP ? tcp_send(p, target, &sa, salen, seq)
					      : dgram_send(p, target, &sa, salen, seq);
	if (rc < 0) {
		log_debug("%s probe on %s: seq %u to %s: %s", type_name(p), p->cfg.device, seq,
			  addr, strerror(-rc));
		return rc;
	}
	p->bytes_sent += (uint64_t)rc;
	return rc;
}

int prober_open(struct prober *p, struct ev_loop *loop, const struct prober_cfg *cfg,
		probe_reply_fn cb, void *ctx)
{
	int fd;

	memset(p, 0, sizeof(*p));
	p->cfg = *cfg;
	p->cfg.device[sizeof(p->cfg.device) - 1] = '\0';
	p->loop = loop;
	p->cb = cb;
	p->ctx = ctx;
	ev_io_init(&p->io4, io4_cb, -1, EV_READ);
	ev_io_init(&p->io6, io6_cb, -1, EV_READ);
	for (int i = 0; i < PROBE_RING; i++)
		p->sent_target[i] = -1;
	if (cfg->type < 0 || cfg->type >= __PROBE_MAX) {
		fd = fail(p, false, EINVAL, "type %d on %s", cfg->type, p->cfg.device);
		goto close;
	}
	p->ifindex = (int)if_nametoindex(p->cfg.device);
	if (!p->ifindex) {
		fd = fail(p, false, errno, "cannot bind to device %s", p->cfg.device);
		goto close;
	}
	if (cfg->type == PROBE_TCP)
		return 0;	/* a socket per connect */
	fd = dgram_open(p, AF_INET, false);
	if (fd < 0)
		goto close;
	ev_io_set(&p->io4, fd, EV_READ);
	ev_io_start(loop, &p->io4);
	return 0;

close:
	prober_close(p);
	return fd;
}

void prober_close(struct prober *p)
{
	if (!p->loop)
		return;
	for (int i = 0; i < PROBE_MAX_TCP_INFLIGHT; i++)
		if (p->tcp[i].used)
			tcp_release(p, &p->tcp[i]);
	if (p->io4.fd >= 0) {
		ev_io_stop(p->loop, &p->io4);
		close(p->io4.fd);
		ev_io_set(&p->io4, -1, EV_READ);
	}
	if (p->io6.fd >= 0) {
		ev_io_stop(p->loop, &p->io6);
		close(p->io6.fd);
		ev_io_set(&p->io6, -1, EV_READ);
	}
	for (int i = 0; i < PROBE_RING; i++)
		p->sent_target[i] = -1;
	p->loop = NULL;
}
