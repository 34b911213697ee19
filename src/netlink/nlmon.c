/* rtnetlink monitor (see nlmon.h).
 *
 * One NETLINK_ROUTE socket, subscribed before the first dump so nothing that
 * happens during the dump is missed: dump replies and events go through the
 * same parser, and an event that overtakes a dump simply lands in the same
 * tables. Dumps are mark-and-sweep: everything of the dumped kind is marked
 * stale when the request is sent, whatever the kernel (or an event) mentions
 * is unmarked, and what is still stale at NLMSG_DONE is gone.
 *
 * Each link slot keeps a shadow copy of what the callback was last told, so
 * every report is a diff: per message normally, once per link at the end of
 * a full re-read after ENOBUFS.
 *
 * The kernel removes some IPv4 routes without any RTM_DELROUTE: all those
 * through a device that is set down or loses its last IPv4 address, and
 * those whose preferred source address goes. We drop them at once where the
 * rule is certain (admin down) and re-read the routes in the background to
 * catch the rest.
 */
#include "netlink/nlmon.h"
#include "core/log.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <libmnl/libmnl.h>
#include <ev.h>

#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP		0x10000	/* <net/if.h> does not have it */
#endif

#define NLMON_MAX_LINKS		256
#define NLMON_MAX_ADDRS		512	/* global addresses, all links */
#define NLMON_MAX_NEXTHOPS	16	/* per multipath route message */
#define NLMON_BUF_SIZE		32768	/* the kernel never sends a bigger dump skb */
#define NLMON_READS_PER_WAKEUP	16	/* then let the loop serve others */
#define NLMON_INIT_TIMEOUT_MS	5000
#define NLMON_DUMP_TRIES	3	/* per dump, when it keeps being interrupted */
#ifndef NLMON_RCVBUF
#define NLMON_RCVBUF		(1 << 20)	/* tests build with a small one */
#endif

union nlmon_ip {
	struct in_addr v4;
	struct in6_addr v6;
};

struct nlmon_slot {
	struct nl_link cur;	/* ifindex 0: free */
	struct nl_link shadow;	/* as last reported; ifindex 0: never reported */
	unsigned pending;	/* bits the structs cannot show (a route moved) */
	bool stale;
};

struct nlmon_addr {
	int ifindex;
	int family;
	uint8_t plen;
	bool stale;
	union nlmon_ip ip;
};

enum {
	DUMP_LINK,
	DUMP_ADDR,
	DUMP_ROUTE4,
	DUMP_ROUTE6,
	__DUMP_MAX
};
#define DUMP_BIT(k)	(1u << (k))
#define DUMP_ALL	(DUMP_BIT(__DUMP_MAX) - 1)

static struct {
	struct ev_loop *loop;
	ev_io io;
	ev_timer retry;
	ev_timer reread;	/* routes again, a moment after an IPv4 address went */
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
	nlmon_cb cb;
	void *ctx;

	struct nlmon_slot slots[NLMON_MAX_LINKS];
	struct nlmon_addr addrs[NLMON_MAX_ADDRS];
	int naddrs;
	struct nl_route routes[NLMON_MAX_ROUTES];
	bool route_stale[NLMON_MAX_ROUTES];
	int nroutes;
	bool full_warned[3];	/* links, addresses, routes */

	unsigned dump_todo;	/* dumps still to request */
	int dump_kind;		/* the one running, or -1 */
	uint32_t dump_seq;
	int dump_tries;
	bool dump_intr;		/* NLM_F_DUMP_INTR seen: the dump is not consistent */
	bool quiet;		/* full re-read: report once at its end */
	bool silent;		/* the initial dump: report nothing at all */
	uint64_t touched[NLMON_MAX_LINKS / 64];
} nlm;		/* no initializer: 48 KB of zeros stay out of the binary (nlmon_init sets it up) */

static char nlmon_buf[NLMON_BUF_SIZE] __attribute__((aligned(8)));

static const char *const dump_names[__DUMP_MAX] = { "links", "addresses", "IPv4 routes", "IPv6 routes" };

static void dump_next(void);

/* ---- attribute validation ---- */

struct nlmon_attrs {
	const enum mnl_attr_data_type *policy;	/* MNL_TYPE_UNSPEC (0): not used */
	uint16_t max;
	const struct nlattr **tb;
};

static int attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlmon_attrs *a = data;
	uint16_t type = mnl_attr_get_type(attr);

	/* Attributes newer than our headers, or that we do not use: skip. */
	if (mnl_attr_type_valid(attr, a->max) < 0 || a->policy[type] == MNL_TYPE_UNSPEC)
		return MNL_CB_OK;
	if (mnl_attr_validate(attr, a->policy[type]) < 0) {
		log_debug("netlink: attribute %u is malformed (%s)", type, strerror(errno));
		return MNL_CB_ERROR;
	}
	a->tb[type] = attr;
	return MNL_CB_OK;
}

/* Fills tb (max+1 entries, zeroed by the caller) from the attributes after a
 * fixed header of hdrlen bytes. False if the message is short or malformed,
 * including an attribute that runs past the end (mnl_attr_parse() would
 * stop there quietly and keep what came before). */
static bool parse_attrs(const struct nlmsghdr *nlh, size_t hdrlen,
			const enum mnl_attr_data_type *policy, uint16_t max,
			const struct nlattr **tb)
{
	struct nlmon_attrs a = { policy, max, tb };
	const struct nlattr *attr;

	if (mnl_nlmsg_get_payload_len(nlh) < hdrlen) {
		log_debug("netlink: message type %u is too short", nlh->nlmsg_type);
		return false;
	}
	mnl_attr_for_each(attr, nlh, hdrlen)
		if (attr_cb(attr, &a) < 0)
			return false;
	if ((const char *)attr != (const char *)mnl_nlmsg_get_payload_tail(nlh)) {
		log_debug("netlink: message type %u has a truncated attribute", nlh->nlmsg_type);
		return false;
	}
	return true;
}

/* Copies an address attribute if it has the family's length. */
static bool attr_ip(const struct nlattr *attr, int family, union nlmon_ip *ip)
{
	size_t len = family == AF_INET ? sizeof(ip->v4) : sizeof(ip->v6);

	if (mnl_attr_get_payload_len(attr) != len) {
		log_debug("netlink: address attribute of %u bytes for family %d",
			  mnl_attr_get_payload_len(attr), family);
		return false;
	}
	memcpy(ip, mnl_attr_get_payload(attr), len);
	return true;
}

static bool ip_equal(int family, const union nlmon_ip *a, const union nlmon_ip *b)
{
	if (family == AF_INET)
		return a->v4.s_addr == b->v4.s_addr;
	return !memcmp(&a->v6, &b->v6, sizeof(a->v6));
}

/* ---- links and reports ---- */

/* Free slots have ifindex 0: never a match. */
static struct nlmon_slot *slot_find(int ifindex)
{
	if (ifindex <= 0)
		return NULL;
	for (int i = 0; i < NLMON_MAX_LINKS; i++)
		if (nlm.slots[i].cur.ifindex == ifindex)
			return &nlm.slots[i];
	return NULL;
}

static void warn_full(int what, const char *msg)
{
	if (!nlm.full_warned[what])
		log_warn("netlink: %s; ignoring the rest", msg);
	nlm.full_warned[what] = true;
}

static struct nlmon_slot *slot_get(int ifindex)
{
	struct nlmon_slot *s = slot_find(ifindex), *spare = NULL;

	if (s)
		return s;
	/* Prefer a slot with nothing left to report, so that a link removed
	 * during a quiet re-read is still reported as gone. */
	for (int i = 0; i < NLMON_MAX_LINKS && !s; i++) {
		if (nlm.slots[i].cur.ifindex)
			continue;
		if (!nlm.slots[i].shadow.ifindex)
			s = &nlm.slots[i];
		else if (!spare)
			spare = &nlm.slots[i];
	}
	if (!s)
		s = spare;
	if (!s) {
		warn_full(0, "more than 256 links");
		return NULL;
	}
	memset(&s->cur, 0, sizeof(s->cur));
	s->cur.ifindex = ifindex;
	s->pending = 0;
	return s;
}

static void touch(const struct nlmon_slot *s)
{
	size_t i = (size_t)(s - nlm.slots);

	nlm.touched[i / 64] |= 1ull << (i % 64);
}

static bool addr4_differs(const struct nl_link *a, const struct nl_link *b)
{
	return a->has_addr4 != b->has_addr4 ||
	       (a->has_addr4 && a->addr4.s_addr != b->addr4.s_addr);
}

static bool addr6_differs(const struct nl_link *a, const struct nl_link *b)
{
	return a->has_addr6 != b->has_addr6 ||
	       (a->has_addr6 && memcmp(&a->addr6, &b->addr6, sizeof(a->addr6)));
}

/* What differs between two states of one link; old->ifindex 0 is "nothing". */
static unsigned link_diff(const struct nl_link *old, const struct nl_link *cur)
{
	static const struct nl_link none;
	unsigned bits = 0;

	if (!old->ifindex) {
		bits |= NLMON_NEW;
		old = &none;
	}
	if (old->admin_up != cur->admin_up || old->carrier != cur->carrier)
		bits |= NLMON_CARRIER;
	if (addr4_differs(old, cur) || addr6_differs(old, cur))
		bits |= NLMON_ADDR;
	if (old->has_default4 != cur->has_default4 || old->has_default6 != cur->has_default6)
		bits |= NLMON_ROUTE;
	return bits;
}

static void notify(const struct nl_link *link, unsigned bits)
{
	if (nlm.cb && !nlm.silent)
		nlm.cb(link, bits, nlm.ctx);
}

/* Tells the callback how the slot differs from what it was last told. A
 * renamed link is reported as gone and new: members follow device names. */
static void report_slot(struct nlmon_slot *s)
{
	struct nl_link old = s->shadow;
	unsigned bits;

	if (old.ifindex && (old.ifindex != s->cur.ifindex || strcmp(old.name, s->cur.name))) {
		memset(&s->shadow, 0, sizeof(s->shadow));
		notify(&old, NLMON_GONE);
	}
	if (!s->cur.ifindex) {
		s->pending = 0;
		return;
	}
	bits = link_diff(&s->shadow, &s->cur) | s->pending;
	s->pending = 0;
	s->shadow = s->cur;
	if (bits)
		notify(&s->cur, bits);
}

static void report_touched(void)
{
	for (size_t w = 0; w < ARRAY_SIZE(nlm.touched); w++) {
		while (nlm.touched[w]) {
			int bit = __builtin_ctzll(nlm.touched[w]);

			nlm.touched[w] &= ~(1ull << bit);
			report_slot(&nlm.slots[w * 64 + (size_t)bit]);
		}
	}
}

static void report_all(void)
{
	memset(nlm.touched, 0, sizeof(nlm.touched));
	for (int i = 0; i < NLMON_MAX_LINKS; i++)
		report_slot(&nlm.slots[i]);
}

/* ---- addresses ---- */

static void link_update_addrs(struct nlmon_slot *s)
{
	struct nl_link *l = &s->cur;

	l->has_addr4 = l->has_addr6 = false;
	memset(&l->addr4, 0, sizeof(l->addr4));
	memset(&l->addr6, 0, sizeof(l->addr6));
	for (int i = 0; i < nlm.naddrs; i++) {
		const struct nlmon_addr *a = &nlm.addrs[i];

		if (a->ifindex != l->ifindex)
			continue;
		if (a->family == AF_INET && !l->has_addr4) {
			l->has_addr4 = true;
			l->addr4 = a->ip.v4;
		} else if (a->family == AF_INET6 && !l->has_addr6) {
			l->has_addr6 = true;
			l->addr6 = a->ip.v6;
		}
	}
	touch(s);
}

static int addr_find(const struct nlmon_addr *key)
{
	for (int i = 0; i < nlm.naddrs; i++) {
		const struct nlmon_addr *a = &nlm.addrs[i];

		if (a->ifindex == key->ifindex && a->family == key->family &&
		    a->plen == key->plen && ip_equal(a->family, &a->ip, &key->ip))
			return i;
	}
	return -1;
}

/* Removal keeps the order: "the first address" of a link stays the oldest. */
static void addr_remove_at(int i)
{
	memmove(&nlm.addrs[i], &nlm.addrs[i + 1], (size_t)(nlm.naddrs - i - 1) * sizeof(nlm.addrs[0]));
	nlm.naddrs--;
}

static void addr_set(const struct nlmon_addr *key, bool present)
{
	int i = addr_find(key);

	if (i >= 0 && !present)
		addr_remove_at(i);
	else if (i >= 0)
		nlm.addrs[i].stale = false;
	else if (present && nlm.naddrs == NLMON_MAX_ADDRS)
		warn_full(1, "more than 512 global addresses");
	else if (present)
		nlm.addrs[nlm.naddrs++] = *key;
}

static void addrs_drop_link(int ifindex)
{
	for (int i = nlm.naddrs - 1; i >= 0; i--)
		if (nlm.addrs[i].ifindex == ifindex)
			addr_remove_at(i);
}

static const enum mnl_attr_data_type addr_policy[IFA_MAX + 1] = {
	[IFA_ADDRESS] = MNL_TYPE_BINARY,
	[IFA_LOCAL] = MNL_TYPE_BINARY,
	[IFA_FLAGS] = MNL_TYPE_U32,
};

static void addr_msg(const struct nlmsghdr *nlh)
{
	const struct nlattr *tb[IFA_MAX + 1] = { NULL };
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *ip;
	struct nlmon_addr key = { 0 };
	struct nlmon_slot *s;
	uint32_t flags;
	bool usable;

	if (!parse_attrs(nlh, sizeof(*ifa), addr_policy, IFA_MAX, tb))
		return;
	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return;
	/* On point-to-point links IFA_ADDRESS is the peer; IFA_LOCAL is ours. */
	ip = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!ip || !attr_ip(ip, ifa->ifa_family, &key.ip))
		return;
	s = slot_find((int)ifa->ifa_index);
	if (!s) {
		log_debug("netlink: address on unknown link %u", ifa->ifa_index);
		return;
	}
	key.ifindex = (int)ifa->ifa_index;
	key.family = ifa->ifa_family;
	key.plen = ifa->ifa_prefixlen;
	flags = tb[IFA_FLAGS] ? mnl_attr_get_u32(tb[IFA_FLAGS]) : ifa->ifa_flags;
	/* A tentative IPv6 address cannot be used yet; a new message without
	 * the flag follows when DAD succeeds. */
	usable = ifa->ifa_scope == RT_SCOPE_UNIVERSE &&
		 !(key.family == AF_INET6 && (flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED)));
	addr_set(&key, nlh->nlmsg_type == RTM_NEWADDR && usable);
	link_update_addrs(s);
	/* Losing the last IPv4 address (or a preferred source) flushes routes
	 * without telling anyone: read them again. */
	if (nlh->nlmsg_type == RTM_DELADDR && key.family == AF_INET) {
		nlm.dump_todo |= DUMP_BIT(DUMP_ROUTE4);
		dump_next();
		/* The kernel announces the address before it flushes the routes,
		 * so a dump answered at once may still list them: look again. */
		if (nlm.loop) {
			ev_timer_stop(nlm.loop, &nlm.reread);
			ev_timer_set(&nlm.reread, 0.1, 0.);
			ev_timer_start(nlm.loop, &nlm.reread);
		}
	}
}

/* ---- routes ---- */

static bool route_same(const struct nl_route *a, const struct nl_route *b)
{
	if (a->family != b->family || a->ifindex != b->ifindex ||
	    a->metric != b->metric || a->has_gw != b->has_gw)
		return false;
	if (!a->has_gw)
		return true;
	if (a->family == AF_INET)
		return a->gw.v4.s_addr == b->gw.v4.s_addr;
	return !memcmp(&a->gw.v6, &b->gw.v6, sizeof(a->gw.v6));
}

static void link_update_routes(int ifindex)
{
	struct nlmon_slot *s = slot_find(ifindex);

	if (!s)
		return;
	s->cur.has_default4 = s->cur.has_default6 = false;
	for (int i = 0; i < nlm.nroutes; i++) {
		if (nlm.routes[i].ifindex != ifindex)
			continue;
		if (nlm.routes[i].family == AF_INET)
			s->cur.has_default4 = true;
		else
			s->cur.has_default6 = true;
	}
	s->pending |= NLMON_ROUTE;
	touch(s);
}

static void route_remove_at(int i)
{
	int ifindex = nlm.routes[i].ifindex;
	size_t tail = (size_t)(nlm.nroutes - i - 1);

	memmove(&nlm.routes[i], &nlm.routes[i + 1], tail * sizeof(nlm.routes[0]));
	memmove(&nlm.route_stale[i], &nlm.route_stale[i + 1], tail * sizeof(nlm.route_stale[0]));
	nlm.nroutes--;
	link_update_routes(ifindex);
}

static int route_find(const struct nl_route *r)
{
	for (int i = 0; i < nlm.nroutes; i++)
		if (route_same(&nlm.routes[i], r))
			return i;
	return -1;
}

static void route_add(const struct nl_route *r)
{
	int i = route_find(r);

	if (i >= 0) {
		nlm.route_stale[i] = false;
		if (nlm.routes[i].protocol == r->protocol && nlm.routes[i].scope == r->scope)
			return;		/* seen again (dump, refreshed expiry): no change */
		nlm.routes[i] = *r;
		link_update_routes(r->ifindex);
		return;
	}
	if (nlm.nroutes == NLMON_MAX_ROUTES) {
		warn_full(2, "more than 128 default routes");
		return;
	}
	nlm.routes[nlm.nroutes] = *r;
	nlm.route_stale[nlm.nroutes] = false;
	nlm.nroutes++;
	link_update_routes(r->ifindex);
}

static void route_del(const struct nl_route *r)
{
	int i = route_find(r);

	if (i >= 0)
		route_remove_at(i);
}

/* family AF_UNSPEC: both. */
static void routes_drop_link(int ifindex, int family)
{
	for (int i = nlm.nroutes - 1; i >= 0; i--)
		if (nlm.routes[i].ifindex == ifindex &&
		    (family == AF_UNSPEC || nlm.routes[i].family == family))
			route_remove_at(i);
}

/* NLM_F_REPLACE takes the place of a route with the same metric, possibly
 * through another device, and the kernel sends no RTM_DELROUTE for it. */
static void routes_replaced(int family, uint32_t metric, const struct nl_route *nh, int nnh)
{
	bool other = false;

	for (int i = nlm.nroutes - 1; i >= 0; i--) {
		const struct nl_route *r = &nlm.routes[i];
		bool kept = false;

		if (r->family != family || r->metric != metric)
			continue;
		for (int j = 0; j < nnh; j++)
			kept |= route_same(r, &nh[j]);
		if (!kept) {
			route_remove_at(i);
			other = true;
		}
	}
	/* IPv4 replaces only the first of several same-metric routes: let a
	 * dump tell which ones are left. */
	if (other) {
		nlm.dump_todo |= DUMP_BIT(family == AF_INET ? DUMP_ROUTE4 : DUMP_ROUTE6);
		dump_next();
	}
}

static const enum mnl_attr_data_type route_policy[RTA_MAX + 1] = {
	[RTA_OIF] = MNL_TYPE_U32,
	[RTA_GATEWAY] = MNL_TYPE_BINARY,
	[RTA_PRIORITY] = MNL_TYPE_U32,
	[RTA_TABLE] = MNL_TYPE_U32,
	[RTA_MULTIPATH] = MNL_TYPE_BINARY,
};

/* The gateway attribute, if any, into r. False if it is malformed. */
static bool route_gw(const struct nlattr *gw, struct nl_route *r)
{
	union nlmon_ip ip;

	if (!gw)
		return true;
	if (!attr_ip(gw, r->family, &ip))
		return false;
	r->has_gw = true;
	if (r->family == AF_INET)
		r->gw.v4 = ip.v4;
	else
		r->gw.v6 = ip.v6;
	return true;
}

/* One nl_route per nexthop of RTA_MULTIPATH (a list of struct rtnexthop, each
 * followed by its own attributes). Returns the count, or -1 if malformed. */
static int route_nexthops(const struct nlattr *mp, const struct nl_route *base, struct nl_route *out)
{
	const char *p = mnl_attr_get_payload(mp);
	size_t left = mnl_attr_get_payload_len(mp);
	int n = 0;

	while (left >= sizeof(struct rtnexthop)) {
		const struct rtnexthop *nh = (const void *)p;
		const struct nlattr *tb[RTA_MAX + 1] = { NULL };
		struct nlmon_attrs a = { route_policy, RTA_MAX, tb };
		size_t len = nh->rtnh_len;

		if (len < sizeof(*nh) || len > left) {
			log_debug("netlink: multipath nexthop of %zu bytes", len);
			return -1;
		}
		if (mnl_attr_parse_payload(p + sizeof(*nh), len - sizeof(*nh), attr_cb, &a) < 0)
			return -1;
		if (n == NLMON_MAX_NEXTHOPS) {
			log_debug("netlink: more than %d nexthops; ignoring the rest", NLMON_MAX_NEXTHOPS);
			break;
		}
		out[n] = *base;
		out[n].ifindex = nh->rtnh_ifindex;
		if (!route_gw(tb[RTA_GATEWAY], &out[n]))
			return -1;
		if (out[n].ifindex > 0)
			n++;
		len = RTNH_ALIGN(len);
		if (len >= left)
			break;
		p += len;
		left -= len;
	}
	return n;
}

/* The message's nexthops if it is a unicast default route in the main
 * table; 0 if it is another route, -1 if malformed. */
static int route_parse(const struct nlmsghdr *nlh, struct nl_route *out)
{
	const struct nlattr *tb[RTA_MAX + 1] = { NULL };
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct nl_route base;
	uint32_t table;

	if (!parse_attrs(nlh, sizeof(*rtm), route_policy, RTA_MAX, tb))
		return -1;
	if (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6)
		return 0;
	table = tb[RTA_TABLE] ? mnl_attr_get_u32(tb[RTA_TABLE]) : rtm->rtm_table;
	if (table != RT_TABLE_MAIN || rtm->rtm_dst_len != 0 || rtm->rtm_type != RTN_UNICAST ||
	    (rtm->rtm_flags & RTM_F_CLONED))
		return 0;

	memset(&base, 0, sizeof(base));
	base.family = rtm->rtm_family;
	base.metric = tb[RTA_PRIORITY] ? mnl_attr_get_u32(tb[RTA_PRIORITY]) : 0;
	base.protocol = rtm->rtm_protocol;
	base.scope = rtm->rtm_scope;
	base.type = rtm->rtm_type;
	if (tb[RTA_MULTIPATH])
		return route_nexthops(tb[RTA_MULTIPATH], &base, out);
	out[0] = base;
	out[0].ifindex = tb[RTA_OIF] ? (int)mnl_attr_get_u32(tb[RTA_OIF]) : 0;
	if (out[0].ifindex <= 0) {
		log_debug("netlink: default route without a device ignored");
		return 0;
	}
	return route_gw(tb[RTA_GATEWAY], &out[0]) ? 1 : -1;
}

static void route_msg(const struct nlmsghdr *nlh)
{
	struct nl_route nh[NLMON_MAX_NEXTHOPS];
	int n = route_parse(nlh, nh);

	if (n <= 0) {
		if (n < 0)
			log_debug("netlink: malformed route message ignored");
		return;
	}
	if (nlh->nlmsg_type == RTM_NEWROUTE && (nlh->nlmsg_flags & NLM_F_REPLACE))
		routes_replaced(nh[0].family, nh[0].metric, nh, n);
	for (int i = 0; i < n; i++) {
		if (nlh->nlmsg_type == RTM_NEWROUTE)
			route_add(&nh[i]);
		else
			route_del(&nh[i]);
	}
}

/* ---- links ---- */

static void link_remove(struct nlmon_slot *s)
{
	int ifindex = s->cur.ifindex;

	routes_drop_link(ifindex, AF_UNSPEC);
	addrs_drop_link(ifindex);
	memset(&s->cur, 0, sizeof(s->cur));
	touch(s);
}

static const enum mnl_attr_data_type link_policy[IFLA_MAX + 1] = {
	[IFLA_IFNAME] = MNL_TYPE_NUL_STRING,
};

static void link_msg(const struct nlmsghdr *nlh)
{
	const struct nlattr *tb[IFLA_MAX + 1] = { NULL };
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	struct nlmon_slot *s;
	bool was_up;

	if (!parse_attrs(nlh, sizeof(*ifi), link_policy, IFLA_MAX, tb))
		return;
	/* AF_BRIDGE messages describe bridge ports; their RTM_DELLINK means
	 * "left the bridge", not "removed". */
	if (ifi->ifi_family != AF_UNSPEC || ifi->ifi_index <= 0)
		return;
	if (nlh->nlmsg_type == RTM_DELLINK) {
		s = slot_find(ifi->ifi_index);
		if (s)
			link_remove(s);
		return;
	}
	if (tb[IFLA_IFNAME] && mnl_attr_get_payload_len(tb[IFLA_IFNAME]) > IF_NAMESIZE) {
		log_debug("netlink: link %d has a name longer than IF_NAMESIZE", ifi->ifi_index);
		return;
	}
	s = slot_get(ifi->ifi_index);
	if (!s)
		return;
	s->stale = false;
	if (tb[IFLA_IFNAME])
		strlcpy_ok(s->cur.name, mnl_attr_get_str(tb[IFLA_IFNAME]), sizeof(s->cur.name));
	was_up = s->cur.admin_up;
	s->cur.admin_up = ifi->ifi_flags & IFF_UP;
	s->cur.carrier = ifi->ifi_flags & IFF_LOWER_UP;
	touch(s);
	if (was_up && !s->cur.admin_up) {
		/* The kernel has just flushed the device's routes; IPv4 says
		 * nothing about it. Check with a dump anyway. */
		routes_drop_link(ifi->ifi_index, AF_UNSPEC);
		nlm.dump_todo |= DUMP_BIT(DUMP_ROUTE4) | DUMP_BIT(DUMP_ROUTE6);
		dump_next();
	}
}

/* One message, from a dump or an event: update the tables, then report every
 * link it changed (unless a quiet re-read is running). */
static void nlmon_handle_msg(const struct nlmsghdr *nlh)
{
	switch (nlh->nlmsg_type) {
	case RTM_NEWLINK:
	case RTM_DELLINK:
		link_msg(nlh);
		break;
	case RTM_NEWADDR:
	case RTM_DELADDR:
		addr_msg(nlh);
		break;
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
		route_msg(nlh);
		break;
	default:
		return;
	}
	if (!nlm.quiet)
		report_touched();
}

/* ---- dumps ---- */

static void dump_mark_stale(int kind)
{
	switch (kind) {
	case DUMP_LINK:
		for (int i = 0; i < NLMON_MAX_LINKS; i++)
			nlm.slots[i].stale = nlm.slots[i].cur.ifindex != 0;
		break;
	case DUMP_ADDR:
		for (int i = 0; i < nlm.naddrs; i++)
			nlm.addrs[i].stale = true;
		break;
	default:
		for (int i = 0; i < nlm.nroutes; i++)
			nlm.route_stale[i] = nlm.routes[i].family == (kind == DUMP_ROUTE4 ? AF_INET : AF_INET6);
		break;
	}
}

/* Whatever the dump did not mention has gone without an event. */
static void dump_sweep(int kind)
{
	switch (kind) {
	case DUMP_LINK:
		for (int i = 0; i < NLMON_MAX_LINKS; i++)
			if (nlm.slots[i].stale && nlm.slots[i].cur.ifindex)
				link_remove(&nlm.slots[i]);
		break;
	case DUMP_ADDR:
		for (int i = nlm.naddrs - 1; i >= 0; i--) {
			if (nlm.addrs[i].stale) {
				struct nlmon_slot *s = slot_find(nlm.addrs[i].ifindex);

				addr_remove_at(i);
				if (s)
					link_update_addrs(s);
			}
		}
		break;
	default:
		for (int i = nlm.nroutes - 1; i >= 0; i--)
			if (nlm.route_stale[i])
				route_remove_at(i);
		break;
	}
}

static void dump_put_header(struct nlmsghdr *nlh, int kind)
{
	struct ifinfomsg *ifi;
	struct ifaddrmsg *ifa;
	struct rtmsg *rtm;

	switch (kind) {
	case DUMP_LINK:
		nlh->nlmsg_type = RTM_GETLINK;
		ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
		ifi->ifi_family = AF_UNSPEC;
		break;
	case DUMP_ADDR:
		nlh->nlmsg_type = RTM_GETADDR;
		ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
		ifa->ifa_family = AF_UNSPEC;
		break;
	default:
		nlh->nlmsg_type = RTM_GETROUTE;
		rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
		rtm->rtm_family = kind == DUMP_ROUTE4 ? AF_INET : AF_INET6;
		rtm->rtm_table = RT_TABLE_MAIN;
		break;
	}
}

static int dump_request(int kind)
{
	static char buf[256] __attribute__((aligned(4)));
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	dump_put_header(nlh, kind);
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = ++nlm.seq;
	if (mnl_socket_sendto(nlm.nl, nlh, nlh->nlmsg_len) < 0) {
		log_warn("netlink: cannot request the %s: %s", dump_names[kind], strerror(errno));
		return -errno;
	}
	dump_mark_stale(kind);
	nlm.dump_kind = kind;
	nlm.dump_seq = nlh->nlmsg_seq;
	nlm.dump_intr = false;
	return 0;
}

/* The end of a re-read: report what it changed. */
static void dump_all_done(void)
{
	if (nlm.silent) {
		report_all();		/* updates the shadows, calls nothing */
		nlm.silent = false;
	} else if (nlm.quiet) {
		report_all();
	}
	nlm.quiet = false;
}

/* Starts the next pending dump; only one can run on a socket at a time. */
static void dump_next(void)
{
	int kind;

	if (!nlm.nl || nlm.dump_kind >= 0)
		return;
	if (!nlm.dump_todo) {
		dump_all_done();
		return;
	}
	kind = ffs((int)nlm.dump_todo) - 1;
	if (dump_request(kind) < 0) {
		if (nlm.loop)
			ev_timer_start(nlm.loop, &nlm.retry);
		return;
	}
	nlm.dump_todo &= ~DUMP_BIT(kind);
}

static void dump_finish(bool ok)
{
	int kind = nlm.dump_kind;

	nlm.dump_kind = -1;
	if (ok) {
		dump_sweep(kind);
		nlm.dump_tries = 0;
	} else if (++nlm.dump_tries < NLMON_DUMP_TRIES) {
		nlm.dump_todo |= DUMP_BIT(kind);
	} else {
		log_warn("netlink: the %s keep changing during the dump; trying later", dump_names[kind]);
		nlm.dump_tries = 0;
		nlm.dump_todo |= DUMP_BIT(kind);
		if (nlm.loop)
			ev_timer_start(nlm.loop, &nlm.retry);
		if (!nlm.quiet)
			report_touched();
		return;
	}
	if (!nlm.quiet)
		report_touched();
	dump_next();
}

static void dump_reply(const struct nlmsghdr *nlh)
{
	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		nlm.dump_intr = true;
	if (nlh->nlmsg_type == NLMSG_DONE) {
		const int *err = mnl_nlmsg_get_payload(nlh);
		bool failed = mnl_nlmsg_get_payload_len(nlh) >= sizeof(*err) && *err < 0;

		dump_finish(!failed && !nlm.dump_intr);
	} else if (nlh->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

		if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(*e))
			log_warn("netlink: the %s dump failed: %s", dump_names[nlm.dump_kind], strerror(-e->error));
		dump_finish(false);
	} else {
		nlmon_handle_msg(nlh);
	}
}

/* ENOBUFS: events were dropped, so nothing we hold can be trusted. Read it
 * all again and report the difference once, at the end. */
static void resync_all(void)
{
	nlm.quiet = true;
	nlm.dump_todo = DUMP_ALL;
	dump_next();
}

static void reread_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	nlm.dump_todo |= DUMP_BIT(DUMP_ROUTE4);
	dump_next();
}

static void retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	dump_next();
}

/* ---- the socket ---- */

static void handle_buf(const void *buf, int len)
{
	const struct nlmsghdr *nlh = buf;

	for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
		if (nlm.dump_kind >= 0 && nlh->nlmsg_seq == nlm.dump_seq && nlh->nlmsg_pid == nlm.portid)
			dump_reply(nlh);
		else
			nlmon_handle_msg(nlh);
	}
}

/* Reads once. Returns 1 if there may be more, 0 when drained, -errno on a
 * real error. */
static int nlmon_read(void)
{
	ssize_t len = mnl_socket_recvfrom(nlm.nl, nlmon_buf, sizeof(nlmon_buf));

	if (len >= 0) {
		handle_buf(nlmon_buf, (int)len);
		return 1;
	}
	switch (errno) {
	case EAGAIN:
		return 0;
	case EINTR:
		return 1;
	case ENOBUFS:
		log_warn("netlink: events were lost (receive buffer full); reading the state again");
		resync_all();
		return 1;
	case ENOSPC:	/* libmnl: the message was truncated */
		log_warn("netlink: message larger than %d bytes; reading the state again", NLMON_BUF_SIZE);
		resync_all();
		return 1;
	default:
		log_err("netlink: receive: %s", strerror(errno));
		return -errno;
	}
}

static void io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	for (int i = 0; i < NLMON_READS_PER_WAKEUP; i++)
		if (nlmon_read() <= 0)
			break;
}

static int open_socket(void)
{
	int size = NLMON_RCVBUF;
	int fd;

	nlm.nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!nlm.nl)
		return -errno;
	fd = mnl_socket_get_fd(nlm.nl);
	/* FORCE needs CAP_NET_ADMIN (which a route daemon has) and ignores
	 * net.core.rmem_max; a burst of events then rarely overflows. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) < 0)
		log_debug("netlink: cannot set the receive buffer: %s", strerror(errno));
	if (mnl_socket_bind(nlm.nl, RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR |
			    RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE, MNL_SOCKET_AUTOPID) < 0)
		return -errno;
	nlm.portid = mnl_socket_get_portid(nlm.nl);
	return 0;
}

/* The initial dump runs before the loop does: wait for it here. */
static int wait_dumps(void)
{
	int64_t deadline = mono_ms() + NLMON_INIT_TIMEOUT_MS;
	struct pollfd pfd = { .fd = mnl_socket_get_fd(nlm.nl), .events = POLLIN };

	while (nlm.dump_kind >= 0 || nlm.dump_todo) {
		int64_t left = deadline - mono_ms();
		int rc;

		if (nlm.dump_kind < 0)
			return -EIO;	/* a request could not be sent (logged) */
		if (left <= 0)
			return -ETIMEDOUT;
		rc = poll(&pfd, 1, (int)left);
		if (rc < 0 && errno != EINTR)
			return -errno;
		if (rc > 0 && (rc = nlmon_read()) < 0)
			return rc;
	}
	return 0;
}

static void nlmon_reset(void)
{
	memset(&nlm, 0, sizeof(nlm));
	nlm.dump_kind = -1;
}

int nlmon_init(struct ev_loop *loop, nlmon_cb cb, void *ctx)
{
	int err;

	if (nlm.nl)
		nlmon_fini();
	nlmon_reset();
	nlm.cb = cb;
	nlm.ctx = ctx;
	err = open_socket();
	if (err < 0) {
		log_err("netlink: cannot open the rtnetlink socket: %s", strerror(-err));
		goto close_socket;
	}
	/* Subscribed already: what changes during the dump arrives as events
	 * on this same socket and goes through the same parser. */
	nlm.silent = nlm.quiet = true;
	nlm.dump_todo = DUMP_ALL;
	dump_next();
	err = wait_dumps();
	if (err < 0) {
		log_err("netlink: cannot read links, addresses and routes: %s", strerror(-err));
		goto close_socket;
	}
	nlm.loop = loop;
	ev_timer_init(&nlm.retry, retry_cb, 1.0, 0.0);
	ev_timer_init(&nlm.reread, reread_cb, 0.1, 0.0);
	ev_io_init(&nlm.io, io_cb, mnl_socket_get_fd(nlm.nl), EV_READ);
	ev_io_start(loop, &nlm.io);
	return 0;

close_socket:
	if (nlm.nl)
		mnl_socket_close(nlm.nl);
	nlmon_reset();
	return err;
}

void nlmon_fini(void)
{
	if (nlm.loop) {
		ev_io_stop(nlm.loop, &nlm.io);
		ev_timer_stop(nlm.loop, &nlm.retry);
		ev_timer_stop(nlm.loop, &nlm.reread);
	}
	if (nlm.nl)
		mnl_socket_close(nlm.nl);
	nlmon_reset();
}

const struct nl_link *nlmon_find(const char *ifname)
{
	for (int i = 0; i < NLMON_MAX_LINKS; i++)
		if (nlm.slots[i].cur.ifindex && !strcmp(nlm.slots[i].cur.name, ifname))
			return &nlm.slots[i].cur;
	return NULL;
}

const struct nl_link *nlmon_find_index(int ifindex)
{
	const struct nlmon_slot *s = slot_find(ifindex);

	return s ? &s->cur : NULL;
}

void nlmon_foreach(int (*fn)(const struct nl_link *link, void *ctx), void *ctx)
{
	for (int i = 0; i < NLMON_MAX_LINKS; i++)
		if (nlm.slots[i].cur.ifindex && fn(&nlm.slots[i].cur, ctx))
			return;
}

const struct nl_route *nlmon_routes(int *n)
{
	*n = nlm.nroutes;
	return nlm.routes;
}
