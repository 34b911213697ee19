/* Conntrack flushing after a switch: see conntrack.h. */
#include "control/conntrack.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <ev.h>
#include <json-c/json.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#define CT_TIMEOUT_S	10.0	/* a dump the kernel does not finish by then is given up */
#define CT_RECV_SIZE	32768	/* the most the kernel puts into one dump datagram */
#define CT_BATCH_SIZE	16384	/* delete requests sent together */

/* ---- the parser --------------------------------------------------------------------- */

struct attrs {
	const struct nlattr *tb[CTA_MAX + 1];
	int max;
};

static int attr_cb(const struct nlattr *a, void *data)
{
	struct attrs *t = data;
	int type = mnl_attr_get_type(a);

	if (type <= t->max)
		t->tb[type] = a;
	return MNL_CB_OK;
}

static int parse_nested(const struct nlattr *a, struct attrs *t, int max)
{
	memset(t, 0, sizeof(*t));
	t->max = max;
	if (mnl_attr_validate(a, MNL_TYPE_NESTED) < 0)
		return -EBADMSG;
	return mnl_attr_parse_nested(a, attr_cb, t) == MNL_CB_ERROR ? -EBADMSG : 0;
}

/* 1: address attribute D is one of the N addresses of SIZE bytes at LIST; 0: it is
 * not; -EBADMSG: it is not SIZE bytes long */
static int addr_in(const struct nlattr *d, const void *list, int n, size_t size)
{
	if (mnl_attr_get_payload_len(d) != size)
		return -EBADMSG;
	for (int i = 0; i < n; i++)
		if (!memcmp(mnl_attr_get_payload(d), (const char *)list + (size_t)i * size, size))
			return 1;
	return 0;
}

/* 1: the reply tuple goes to one of ADDRS; 0: it does not; -EBADMSG */
static int reply_matches(const struct nlattr *reply, const struct ct_addrs *addrs)
{
	struct attrs tuple, ip;
	const struct nlattr *d;

	if (parse_nested(reply, &tuple, CTA_TUPLE_MAX) < 0)
		return -EBADMSG;
	if (!tuple.tb[CTA_TUPLE_IP])
		return 0;
	if (parse_nested(tuple.tb[CTA_TUPLE_IP], &ip, CTA_IP_MAX) < 0)
		return -EBADMSG;
	if ((d = ip.tb[CTA_IP_V4_DST]))
		return addr_in(d, addrs->v4, addrs->n4, sizeof(struct in_addr));
	if ((d = ip.tb[CTA_IP_V6_DST]))
		return addr_in(d, addrs->v6, addrs->n6, sizeof(struct in6_addr));
	return 0;
}

/* Appends attribute A unchanged (its padding zeroed). */
static void copy_attr(struct nlmsghdr *nlh, const struct nlattr *a)
{
	char *tail = mnl_nlmsg_get_payload_tail(nlh);

	memset(tail, 0, MNL_ALIGN(a->nla_len));
	memcpy(tail, a, a->nla_len);
	nlh->nlmsg_len += MNL_ALIGN(a->nla_len);
}

int ct_match(const void *msg, size_t len, const struct ct_addrs *addrs, uint32_t seq,
	     void *out, size_t outlen)
{
	const struct nlmsghdr *nlh = msg;
	const struct nfgenmsg *nfg;
	struct nlmsghdr *del;
	struct nfgenmsg *dg;
	struct attrs top = { .max = CTA_MAX };
	size_t need;
	int r;

	if (len < sizeof(*nlh) || nlh->nlmsg_len > len ||
	    nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(*nfg))
		return -EBADMSG;
	if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_CTNETLINK ||
	    NFNL_MSG_TYPE(nlh->nlmsg_type) != IPCTNL_MSG_CT_NEW)
		return 0;
	nfg = mnl_nlmsg_get_payload(nlh);
	if (mnl_attr_parse(nlh, sizeof(*nfg), attr_cb, &top) == MNL_CB_ERROR)
		return -EBADMSG;
	if (!top.tb[CTA_TUPLE_ORIG] || !top.tb[CTA_TUPLE_REPLY])
		return 0;
	if (mnl_attr_validate(top.tb[CTA_TUPLE_ORIG], MNL_TYPE_NESTED) < 0 ||
	    (top.tb[CTA_ID] && mnl_attr_validate(top.tb[CTA_ID], MNL_TYPE_U32) < 0) ||
	    (top.tb[CTA_ZONE] && mnl_attr_validate(top.tb[CTA_ZONE], MNL_TYPE_U16) < 0))
		return -EBADMSG;
	r = reply_matches(top.tb[CTA_TUPLE_REPLY], addrs);
	if (r <= 0)
		return r;

	/* The request names the entry by its original tuple; the id makes sure it is
	 * this entry and not a new one with the same tuple, the zone where it lives. */
	need = MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(*dg)) + MNL_ALIGN(top.tb[CTA_TUPLE_ORIG]->nla_len);
	if (top.tb[CTA_ID])
		need += MNL_ALIGN(top.tb[CTA_ID]->nla_len);
	if (top.tb[CTA_ZONE])
		need += MNL_ALIGN(top.tb[CTA_ZONE]->nla_len);
	if (need > outlen)
		return -ENOSPC;
	del = mnl_nlmsg_put_header(out);
	del->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE;
	del->nlmsg_flags = NLM_F_REQUEST;
	del->nlmsg_seq = seq;
	dg = mnl_nlmsg_put_extra_header(del, sizeof(*dg));
	dg->nfgen_family = nfg->nfgen_family;
	dg->version = NFNETLINK_V0;
	dg->res_id = 0;
	copy_attr(del, top.tb[CTA_TUPLE_ORIG]);
	if (top.tb[CTA_ID])
		copy_attr(del, top.tb[CTA_ID]);
	if (top.tb[CTA_ZONE])
		copy_attr(del, top.tb[CTA_ZONE]);
	return (int)del->nlmsg_len;
}

/* ---- the flush on the loop ------------------------------------------------------------ */

static struct {
	struct ev_loop *loop;
	struct mnl_socket *dump, *del;	/* open while a flush runs */
	ev_io io;
	ev_timer timer;
	uint32_t seq, dump_seq;
	struct ct_addrs cur, next;
	char member[64], next_member[64];
	bool has_next;
	char batch[CT_BATCH_SIZE];
	size_t blen;
	unsigned matched, failed;
	int64_t started;
	uint64_t flushes, deleted;
	char last_error[160];
} C;

static char rbuf[CT_RECV_SIZE] __attribute__((aligned(4)));

static void close_sockets(void)
{
	if (C.dump)
		mnl_socket_close(C.dump);
	if (C.del)
		mnl_socket_close(C.del);
	C.dump = C.del = NULL;
}

/* Reads what the kernel said about the deletes: only failures come back. Into
 * its own buffer: this runs while rbuf holds the dump datagram being read. */
static void drain_deletes(void)
{
	static char ebuf[8192] __attribute__((aligned(4)));
	ssize_t n;

	while ((n = recv(mnl_socket_get_fd(C.del), ebuf, sizeof(ebuf), MSG_DONTWAIT)) > 0) {
		int left = (int)n;

		for (const struct nlmsghdr *h = (const void *)ebuf; mnl_nlmsg_ok(h, left);
		     h = mnl_nlmsg_next(h, &left)) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);

			/* ENOENT: the entry ended by itself meanwhile */
			if (h->nlmsg_type == NLMSG_ERROR && h->nlmsg_len >= MNL_NLMSG_HDRLEN + sizeof(*e) &&
			    e->error && e->error != -ENOENT)
				C.failed++;
		}
	}
}

static void send_batch(void)
{
	if (C.blen && mnl_socket_sendto(C.del, C.batch, C.blen) < 0) {
		snprintf(C.last_error, sizeof(C.last_error), "cannot delete connections: %s",
			 strerror(errno));
		C.failed++;
	}
	C.blen = 0;
	drain_deletes();
}

static void start(void);

static void finish(int err)
{
	ev_io_stop(C.loop, &C.io);
	ev_timer_stop(C.loop, &C.timer);
	if (C.del)
		send_batch();
	close_sockets();
	C.flushes++;
	if (err) {
		snprintf(C.last_error, sizeof(C.last_error), "cannot list connections: %s",
			 err == -EOPNOTSUPP || err == -ENOENT ?
			 "the kernel has no conntrack netlink (nf_conntrack_netlink)" : strerror(-err));
		log_warn("conntrack: %s; the connections of %s are not flushed", C.last_error,
			 C.member);
	} else {
		unsigned done = C.matched > C.failed ? C.matched - C.failed : 0;

		C.deleted += done;
		log_info("conntrack: deleted %u connection(s) of %s in %lld ms%s", done, C.member,
			 (long long)(mono_ms() - C.started), C.failed ? "; some could not be deleted" : "");
	}
	if (C.has_next) {
		C.cur = C.next;
		strlcpy_ok(C.member, C.next_member, sizeof(C.member));
		C.has_next = false;
		start();
	}
}

/* One datagram per call: the kernel fills the next one of the dump while we read
 * this one, so reading on until EAGAIN would take a big table in one go; this way
 * the loop sees to everything else in between (bench/conntrack). */
static void io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	ssize_t n = recv(mnl_socket_get_fd(C.dump), rbuf, sizeof(rbuf), MSG_DONTWAIT | MSG_TRUNC);
	int left = (int)n;

	(void)loop, (void)w, (void)revents;
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			finish(-errno);
		return;
	}
	if ((size_t)n > sizeof(rbuf)) {
		finish(-EMSGSIZE);
		return;
	}
	for (const struct nlmsghdr *h = (const void *)rbuf; mnl_nlmsg_ok(h, left);
	     h = mnl_nlmsg_next(h, &left)) {
		int r;

		if (h->nlmsg_seq != C.dump_seq)
			continue;
		if (h->nlmsg_type == NLMSG_DONE) {
			finish(0);
			return;
		}
		if (h->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);

			finish(h->nlmsg_len >= MNL_NLMSG_HDRLEN + sizeof(*e) ? e->error : -EBADMSG);
			return;
		}
		r = ct_match(h, h->nlmsg_len, &C.cur, C.seq + 1, C.batch + C.blen,
			     sizeof(C.batch) - C.blen);
		if (r == -ENOSPC) {
			send_batch();
			r = ct_match(h, h->nlmsg_len, &C.cur, C.seq + 1, C.batch, sizeof(C.batch));
		}
		if (r > 0) {
			C.seq++;
			C.blen += (size_t)r;
			C.matched++;
		}
	}
}

static void timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop, (void)w, (void)revents;
	finish(-ETIMEDOUT);
}

static struct mnl_socket *open_socket(void)
{
	struct mnl_socket *s = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);

	if (s && mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0) {
		mnl_socket_close(s);
		s = NULL;
	}
	return s;
}

static void start(void)
{
	char req[MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct nfgenmsg))];
	struct nlmsghdr *nlh;
	struct nfgenmsg *g;

	C.matched = C.failed = 0;
	C.blen = 0;
	C.started = mono_ms();
	C.dump = open_socket();
	C.del = open_socket();
	if (!C.dump || !C.del) {
		finish(-errno);
		return;
	}
	nlh = mnl_nlmsg_put_header(req);
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = C.dump_seq = ++C.seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = AF_UNSPEC;	/* IPv4 and IPv6 */
	g->version = NFNETLINK_V0;
	g->res_id = 0;
	if (mnl_socket_sendto(C.dump, nlh, nlh->nlmsg_len) < 0) {
		finish(-errno);
		return;
	}
	ev_io_init(&C.io, io_cb, mnl_socket_get_fd(C.dump), EV_READ);
	ev_io_start(C.loop, &C.io);
	ev_timer_init(&C.timer, timeout_cb, CT_TIMEOUT_S, 0.);
	ev_timer_start(C.loop, &C.timer);
}

static void add_addrs(struct ct_addrs *to, const struct ct_addrs *from)
{
	for (int i = 0; i < from->n4 && to->n4 < CT_MAX_ADDRS; i++)
		to->v4[to->n4++] = from->v4[i];
	for (int i = 0; i < from->n6 && to->n6 < CT_MAX_ADDRS; i++)
		to->v6[to->n6++] = from->v6[i];
}

void ct_flush(const char *member, const struct ct_addrs *addrs)
{
	if (!C.loop || (!addrs->n4 && !addrs->n6))
		return;
	if (C.dump) {
		if (!C.has_next)
			memset(&C.next, 0, sizeof(C.next));
		add_addrs(&C.next, addrs);
		if (!C.has_next)
			strlcpy_ok(C.next_member, member, sizeof(C.next_member));
		else if (strcmp(C.next_member, member))
			strlcpy_ok(C.next_member, "several members", sizeof(C.next_member));
		C.has_next = true;
		return;
	}
	memset(&C.cur, 0, sizeof(C.cur));
	add_addrs(&C.cur, addrs);
	strlcpy_ok(C.member, member, sizeof(C.member));
	start();
}

int ct_init(struct ev_loop *loop)
{
	memset(&C, 0, sizeof(C));
	C.loop = loop;
	return 0;
}

void ct_fini(void)
{
	if (C.loop) {
		ev_io_stop(C.loop, &C.io);
		ev_timer_stop(C.loop, &C.timer);
	}
	close_sockets();
	C.loop = NULL;
}

struct json_object *ct_json(void)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "flushes", json_object_new_int64((int64_t)C.flushes));
	json_object_object_add(o, "deleted", json_object_new_int64((int64_t)C.deleted));
	json_object_object_add(o, "last_error", C.last_error[0] ?
			       json_object_new_string(C.last_error) : NULL);
	return o;
}
