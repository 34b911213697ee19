/* The rtnetlink monitor's parser and state, fed hand-built messages without a
 * socket. Includes nlmon.c to reach nlmon_handle_msg() and the dump
 * mark-and-sweep. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../src/netlink/nlmon.c"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* ---- callback and log capture ---- */

#define MAX_CALLS 64

struct call {
	struct nl_link link;
	unsigned changed;
};

static struct call calls[MAX_CALLS];
static int ncalls, ntotal;
static int nwarn;

static void record(const struct nl_link *link, unsigned changed, void *ctx)
{
	assert_ptr_equal(ctx, &ncalls);
	ntotal++;
	if (ncalls == MAX_CALLS)
		return;
	calls[ncalls].link = *link;
	calls[ncalls].changed = changed;
	ncalls++;
}

static void hook(enum log_level level, const char *msg)
{
	(void)msg;
	if (level == LOG_LVL_WARN)
		nwarn++;
}

static int setup(void **state)
{
	(void)state;
	nlmon_reset();
	nlm.cb = record;
	nlm.ctx = &ncalls;
	ncalls = ntotal = nwarn = 0;
	log_set_hook(hook);
	log_set_level(LOG_LVL_DEBUG);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	log_set_hook(NULL);
	nlmon_reset();
	return 0;
}

/* The changed bits of the only call since the last check (0 if none). */
static unsigned one_call(void)
{
	unsigned bits;

	assert_true(ncalls <= 1);
	bits = ncalls ? calls[0].changed : 0;
	ncalls = 0;
	return bits;
}

/* ---- message builders ---- */

static char buf[8192] __attribute__((aligned(8)));

static struct nlmsghdr *msg_start(uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	return nlh;
}

static struct nlmsghdr *msg_link_family(uint16_t type, int family, int ifindex, const char *name, unsigned flags)
{
	struct nlmsghdr *nlh = msg_start(type, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = (unsigned char)family;
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = flags;
	if (name)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	return nlh;
}

static struct nlmsghdr *msg_link(uint16_t type, int ifindex, const char *name, unsigned flags)
{
	return msg_link_family(type, AF_UNSPEC, ifindex, name, flags);
}

#define UP	(IFF_UP | IFF_LOWER_UP)

static void feed(const struct nlmsghdr *nlh)
{
	nlmon_handle_msg(nlh);
}

static void link_up(int ifindex, const char *name)
{
	feed(msg_link(RTM_NEWLINK, ifindex, name, UP));
	assert_int_equal(one_call(), NLMON_NEW | NLMON_CARRIER);
}

static struct nlmsghdr *msg_addr(uint16_t type, int family, int ifindex, const char *ip, int plen,
				 int scope, uint32_t flags)
{
	struct nlmsghdr *nlh = msg_start(type, 0);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	union nlmon_ip a;

	ifa->ifa_family = (unsigned char)family;
	ifa->ifa_index = (unsigned)ifindex;
	ifa->ifa_prefixlen = (unsigned char)plen;
	ifa->ifa_scope = (unsigned char)scope;
	/* Flags beyond 8 bits only exist in IFA_FLAGS. */
	ifa->ifa_flags = flags > 0xff ? 0 : (unsigned char)flags;
	assert_int_equal(inet_pton(family, ip, &a), 1);
	mnl_attr_put(nlh, IFA_ADDRESS, family == AF_INET ? 4 : 16, &a);
	if (flags > 0xff)
		mnl_attr_put_u32(nlh, IFA_FLAGS, flags);
	return nlh;
}

struct rt {
	int family;
	int table;		/* rtm_table */
	int table_attr;		/* RTA_TABLE, 0: none */
	int dst_len;
	int type;		/* 0: unicast */
	int oif;
	const char *gw;
	uint32_t metric;
	bool no_metric;
	uint16_t flags;		/* nlmsg_flags */
};

static struct nlmsghdr *msg_route(uint16_t type, const struct rt *r)
{
	struct nlmsghdr *nlh = msg_start(type, r->flags);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	union nlmon_ip a;

	rtm->rtm_family = (unsigned char)r->family;
	rtm->rtm_table = (unsigned char)(r->table ? r->table : RT_TABLE_MAIN);
	rtm->rtm_dst_len = (unsigned char)r->dst_len;
	rtm->rtm_type = (unsigned char)(r->type ? r->type : RTN_UNICAST);
	rtm->rtm_protocol = RTPROT_DHCP;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	if (r->table_attr)
		mnl_attr_put_u32(nlh, RTA_TABLE, (uint32_t)r->table_attr);
	if (r->oif)
		mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)r->oif);
	if (r->gw) {
		assert_int_equal(inet_pton(r->family, r->gw, &a), 1);
		mnl_attr_put(nlh, RTA_GATEWAY, r->family == AF_INET ? 4 : 16, &a);
	}
	if (!r->no_metric)
		mnl_attr_put_u32(nlh, RTA_PRIORITY, r->metric);
	return nlh;
}

/* Appends a nexthop (ifindex, IPv4 gateway) to an RTA_MULTIPATH payload. */
static size_t put_nexthop(char *p, int ifindex, const char *gw)
{
	struct rtnexthop *nh = (void *)p;
	struct nlattr *a = (void *)(p + sizeof(*nh));

	memset(nh, 0, sizeof(*nh));
	nh->rtnh_ifindex = ifindex;
	a->nla_type = RTA_GATEWAY;
	a->nla_len = NLA_HDRLEN + 4;
	assert_int_equal(inet_pton(AF_INET, gw, (char *)a + NLA_HDRLEN), 1);
	nh->rtnh_len = (unsigned short)(sizeof(*nh) + NLA_ALIGN(a->nla_len));
	return nh->rtnh_len;
}

static struct nlmsghdr *msg_multipath(uint16_t type, uint32_t metric)
{
	struct rt r = { .family = AF_INET, .metric = metric };
	struct nlmsghdr *nlh = msg_route(type, &r);
	char mp[64];
	size_t len = 0;

	len += put_nexthop(mp + len, 2, "10.0.1.1");
	len += put_nexthop(mp + len, 3, "10.0.2.1");
	mnl_attr_put(nlh, RTA_MULTIPATH, len, mp);
	return nlh;
}

static const struct nl_link *find(const char *name)
{
	const struct nl_link *l = nlmon_find(name);

	assert_non_null(l);
	return l;
}

/* ---- links ---- */

static void test_link_new_carrier_admin(void **state)
{
	const struct nl_link *l;

	(void)state;
	link_up(2, "eth1");
	l = find("eth1");
	assert_int_equal(l->ifindex, 2);
	assert_true(l->admin_up && l->carrier);
	assert_ptr_equal(nlmon_find_index(2), l);
	assert_null(nlmon_find_index(0));
	assert_null(nlmon_find("eth9"));

	/* The same state again (e.g. a wireless event): nothing to say. */
	feed(msg_link(RTM_NEWLINK, 2, "eth1", UP));
	assert_int_equal(one_call(), 0);

	feed(msg_link(RTM_NEWLINK, 2, "eth1", IFF_UP));
	assert_int_equal(one_call(), NLMON_CARRIER);
	assert_false(calls[0].link.carrier);
	assert_true(calls[0].link.admin_up);

	feed(msg_link(RTM_NEWLINK, 2, "eth1", UP));
	assert_int_equal(one_call(), NLMON_CARRIER);
	feed(msg_link(RTM_NEWLINK, 2, "eth1", 0));
	assert_int_equal(one_call(), NLMON_CARRIER);
	assert_false(l->admin_up);
	assert_false(l->carrier);
}

static void test_link_gone(void **state)
{
	struct rt r = { .family = AF_INET, .oif = 2, .gw = "10.0.1.1", .metric = 100 };
	int n;

	(void)state;
	link_up(2, "eth1");
	link_up(3, "eth2");
	feed(msg_addr(RTM_NEWADDR, AF_INET, 2, "10.0.1.2", 24, RT_SCOPE_UNIVERSE, 0));
	feed(msg_route(RTM_NEWROUTE, &r));
	r.oif = 3;
	r.gw = "10.0.2.1";
	feed(msg_route(RTM_NEWROUTE, &r));
	ncalls = 0;
	nlmon_routes(&n);
	assert_int_equal(n, 2);

	feed(msg_link(RTM_DELLINK, 2, "eth1", 0));
	assert_int_equal(one_call(), NLMON_GONE);
	assert_string_equal(calls[0].link.name, "eth1");
	assert_null(nlmon_find("eth1"));
	assert_int_equal(nlm.naddrs, 0);
	nlmon_routes(&n);
	assert_int_equal(n, 1);
	assert_int_equal(nlmon_routes(&n)[0].ifindex, 3);

	/* Removing an unknown link says nothing. */
	feed(msg_link(RTM_DELLINK, 9, "eth9", 0));
	assert_int_equal(one_call(), 0);
}

static void test_bridge_port_messages_ignored(void **state)
{
	(void)state;
	link_up(2, "eth1");
	/* A port leaving a bridge: RTM_DELLINK with AF_BRIDGE, the link stays. */
	feed(msg_link_family(RTM_DELLINK, AF_BRIDGE, 2, "eth1", 0));
	assert_int_equal(one_call(), 0);
	assert_non_null(nlmon_find("eth1"));
	feed(msg_link_family(RTM_NEWLINK, AF_BRIDGE, 2, "eth1", 0));
	assert_int_equal(one_call(), 0);
	assert_true(find("eth1")->carrier);
}

static void test_link_rename(void **state)
{
	(void)state;
	link_up(2, "eth1");
	feed(msg_link(RTM_NEWLINK, 2, "wan", UP));
	assert_int_equal(ncalls, 2);
	assert_int_equal(calls[0].changed, NLMON_GONE);
	assert_string_equal(calls[0].link.name, "eth1");
	assert_int_equal(calls[1].changed, NLMON_NEW | NLMON_CARRIER);
	assert_string_equal(calls[1].link.name, "wan");
	assert_null(nlmon_find("eth1"));
	assert_non_null(nlmon_find("wan"));
}

static int count_links(const struct nl_link *l, void *ctx)
{
	(void)l;
	return ++*(int *)ctx == 2;	/* stop after the second */
}

static void test_foreach_and_link_limit(void **state)
{
	char name[IF_NAMESIZE];
	int n = 0;

	(void)state;
	for (int i = 1; i <= NLMON_MAX_LINKS + 5; i++) {
		snprintf(name, sizeof(name), "veth%d", i);
		feed(msg_link(RTM_NEWLINK, i, name, UP));
	}
	assert_int_equal(ntotal, NLMON_MAX_LINKS);
	assert_int_equal(nwarn, 1);
	assert_null(nlmon_find("veth260"));
	nlmon_foreach(count_links, &n);
	assert_int_equal(n, 2);
}

/* ---- addresses ---- */

static void test_addr_v4(void **state)
{
	const struct nl_link *l;

	(void)state;
	link_up(2, "eth1");
	l = find("eth1");
	feed(msg_addr(RTM_NEWADDR, AF_INET, 2, "10.0.1.2", 24, RT_SCOPE_UNIVERSE, 0));
	assert_int_equal(one_call(), NLMON_ADDR);
	assert_true(l->has_addr4);
	assert_string_equal(inet_ntoa(l->addr4), "10.0.1.2");

	/* A second address: the first one still stands, nothing to report. */
	feed(msg_addr(RTM_NEWADDR, AF_INET, 2, "10.0.9.2", 24, RT_SCOPE_UNIVERSE, 0));
	assert_int_equal(one_call(), 0);

	feed(msg_addr(RTM_DELADDR, AF_INET, 2, "10.0.1.2", 24, RT_SCOPE_UNIVERSE, 0));
	assert_int_equal(one_call(), NLMON_ADDR);
	assert_true(l->has_addr4);
	assert_string_equal(inet_ntoa(l->addr4), "10.0.9.2");
	/* Routes may have gone with it without a word: re-read them. */
	assert_true(nlm.dump_todo & DUMP_BIT(DUMP_ROUTE4));

	feed(msg_addr(RTM_DELADDR, AF_INET, 2, "10.0.9.2", 24, RT_SCOPE_UNIVERSE, 0));
	assert_int_equal(one_call(), NLMON_ADDR);
	assert_false(l->has_addr4);

	/* An address on a link we do not know is ignored; ifindex 0 is no link
	 * (free slots have it). */
	feed(msg_addr(RTM_NEWADDR, AF_INET, 7, "10.0.7.2", 24, RT_SCOPE_UNIVERSE, 0));
	feed(msg_addr(RTM_NEWADDR, AF_INET, 0, "10.0.8.2", 24, RT_SCOPE_UNIVERSE, 0));
	assert_int_equal(nlm.naddrs, 0);
	assert_int_equal(ncalls, 0);
}

static void test_addr_scope_and_tentative(void **state)
{
	const struct nl_link *l;

	(void)state;
	link_up(2, "eth1");
	l = find("eth1");
	feed(msg_addr(RTM_NEWADDR, AF_INET6, 2, "fe80::1", 64, RT_SCOPE_LINK, IFA_F_PERMANENT));
	assert_int_equal(one_call(), 0);
	feed(msg_addr(RTM_NEWADDR, AF_INET, 2, "127.0.0.2", 8, RT_SCOPE_HOST, 0));
	assert_int_equal(one_call(), 0);

	feed(msg_addr(RTM_NEWADDR, AF_INET6, 2, "2001:db8::2", 64, RT_SCOPE_UNIVERSE, IFA_F_TENTATIVE));
	assert_int_equal(one_call(), 0);
	assert_false(l->has_addr6);
	/* DAD done: the same address without the flag. */
	feed(msg_addr(RTM_NEWADDR, AF_INET6, 2, "2001:db8::2", 64, RT_SCOPE_UNIVERSE, 0));
	assert_int_equal(one_call(), NLMON_ADDR);
	assert_true(l->has_addr6);
	assert_true(calls[0].link.has_addr6);
	/* Flags from IFA_FLAGS (u32) win over the 8-bit ifa_flags. */
	feed(msg_addr(RTM_NEWADDR, AF_INET6, 2, "2001:db8::2", 64, RT_SCOPE_UNIVERSE,
		      IFA_F_DADFAILED | IFA_F_MANAGETEMPADDR));
	assert_int_equal(one_call(), NLMON_ADDR);
	assert_false(l->has_addr6);
}

static void test_addr_ptp_uses_local(void **state)
{
	struct nlmsghdr *nlh;
	struct in_addr local;
	const struct nl_link *l;

	(void)state;
	link_up(4, "ppp0");
	nlh = msg_addr(RTM_NEWADDR, AF_INET, 4, "10.64.0.1", 32, RT_SCOPE_UNIVERSE, 0);	/* the peer */
	inet_pton(AF_INET, "100.64.3.4", &local);
	mnl_attr_put(nlh, IFA_LOCAL, 4, &local);
	feed(nlh);
	assert_int_equal(one_call(), NLMON_ADDR);
	l = find("ppp0");
	assert_string_equal(inet_ntoa(l->addr4), "100.64.3.4");
}

/* ---- routes ---- */

static void test_route_v4(void **state)
{
	struct rt r = { .family = AF_INET, .oif = 2, .gw = "10.0.1.1", .metric = 100 };
	const struct nl_route *routes;
	const struct nl_link *l;
	char gw[INET_ADDRSTRLEN];
	int n;

	(void)state;
	link_up(2, "eth1");
	l = find("eth1");
	feed(msg_route(RTM_NEWROUTE, &r));
	assert_int_equal(one_call(), NLMON_ROUTE);
	assert_true(l->has_default4);
	assert_false(l->has_default6);
	routes = nlmon_routes(&n);
	assert_int_equal(n, 1);
	assert_int_equal(routes[0].family, AF_INET);
	assert_int_equal(routes[0].ifindex, 2);
	assert_int_equal(routes[0].metric, 100);
	assert_int_equal(routes[0].protocol, RTPROT_DHCP);
	assert_int_equal(routes[0].type, RTN_UNICAST);
	assert_true(routes[0].has_gw);
	assert_string_equal(inet_ntop(AF_INET, &routes[0].gw.v4, gw, sizeof(gw)), "10.0.1.1");

	/* Seen again (a dump, say): no change. */
	feed(msg_route(RTM_NEWROUTE, &r));
	assert_int_equal(one_call(), 0);

	/* A delete must match gateway and metric. */
	r.metric = 101;
	feed(msg_route(RTM_DELROUTE, &r));
	assert_int_equal(one_call(), 0);
	r.metric = 100;
	r.gw = "10.0.1.9";
	feed(msg_route(RTM_DELROUTE, &r));
	assert_int_equal(one_call(), 0);
	r.gw = "10.0.1.1";
	feed(msg_route(RTM_DELROUTE, &r));
	assert_int_equal(one_call(), NLMON_ROUTE);
	assert_false(l->has_default4);
	assert_false(calls[0].link.has_default4);
	nlmon_routes(&n);
	assert_int_equal(n, 0);
}

static void test_route_v6_and_moves(void **state)
{
	struct rt r = { .family = AF_INET6, .oif = 2, .gw = "fe80::1", .metric = 1024 };
	const struct nl_link *l;
	int n;

	(void)state;
	link_up(2, "eth1");
	l = find("eth1");
	feed(msg_route(RTM_NEWROUTE, &r));
	assert_int_equal(one_call(), NLMON_ROUTE);
	assert_true(l->has_default6);
	assert_false(l->has_default4);

	/* A move (add at the new metric, delete the old): has_default6 stays
	 * true, but each step is a route change worth reporting. */
	r.metric = 10;
	feed(msg_route(RTM_NEWROUTE, &r));
	assert_int_equal(one_call(), NLMON_ROUTE);
	r.metric = 1024;
	feed(msg_route(RTM_DELROUTE, &r));
	assert_int_equal(one_call(), NLMON_ROUTE);
	assert_true(l->has_default6);
	assert_int_equal(nlmon_routes(&n)[0].metric, 10);
	assert_int_equal(n, 1);

	/* No RTA_PRIORITY means metric 0; a dev route has no gateway. */
	r.no_metric = true;
	r.gw = NULL;
	feed(msg_route(RTM_NEWROUTE, &r));
	assert_int_equal(one_call(), NLMON_ROUTE);
	assert_int_equal(nlmon_routes(&n)[1].metric, 0);
	assert_false(nlmon_routes(&n)[1].has_gw);
}

static void test_route_ignored(void **state)
{
	struct rt base = { .family = AF_INET, .oif = 2, .gw = "10.0.1.1", .metric = 100 };
	struct rt r;
	struct nlmsghdr *nlh;
	int n;

	(void)state;
	link_up(2, "eth1");

	r = base;
	r.table = 100;		/* a policy routing table */
	feed(msg_route(RTM_NEWROUTE, &r));
	r = base;
	r.table = RT_TABLE_MAIN;
	r.table_attr = 1000;	/* RTA_TABLE wins over rtm_table */
	feed(msg_route(RTM_NEWROUTE, &r));
	r = base;
	r.dst_len = 24;		/* not a default route */
	feed(msg_route(RTM_NEWROUTE, &r));
	r = base;
	r.type = RTN_BLACKHOLE;
	r.oif = 0;
	r.gw = NULL;
	feed(msg_route(RTM_NEWROUTE, &r));
	r = base;
	r.oif = 0;		/* no device at all */
	feed(msg_route(RTM_NEWROUTE, &r));
	nlh = msg_route(RTM_NEWROUTE, &r);	/* device 0 */
	mnl_attr_put_u32(nlh, RTA_OIF, 0);
	feed(nlh);
	r = base;
	r.family = 128;		/* RTNL_FAMILY_IPMR and the like */
	r.gw = NULL;
	feed(msg_route(RTM_NEWROUTE, &r));
	nlh = msg_route(RTM_NEWROUTE, &base);	/* a cached clone */
	((struct rtmsg *)mnl_nlmsg_get_payload(nlh))->rtm_flags = RTM_F_CLONED;
	feed(nlh);
	assert_int_equal(ncalls, 0);
	nlmon_routes(&n);
	assert_int_equal(n, 0);

	/* rtm_table says nothing beyond 255: RTA_TABLE carries main. */
	r = base;
	r.table = RT_TABLE_UNSPEC;
	r.table_attr = RT_TABLE_MAIN;
	feed(msg_route(RTM_NEWROUTE, &r));
	assert_int_equal(one_call(), NLMON_ROUTE);
}

static void test_route_multipath(void **state)
{
	const struct nl_route *routes;
	int n;

	(void)state;
	link_up(2, "eth1");
	link_up(3, "eth2");
	feed(msg_multipath(RTM_NEWROUTE, 50));
	/* One message, two links: each reported once. */
	assert_int_equal(ncalls, 2);
	assert_int_equal(calls[0].changed, NLMON_ROUTE);
	assert_int_equal(calls[1].changed, NLMON_ROUTE);
	assert_int_not_equal(calls[0].link.ifindex, calls[1].link.ifindex);
	ncalls = 0;
	routes = nlmon_routes(&n);
	assert_int_equal(n, 2);
	assert_int_equal(routes[0].ifindex, 2);
	assert_int_equal(routes[1].ifindex, 3);
	assert_int_equal(routes[1].metric, 50);
	assert_true(find("eth1")->has_default4 && find("eth2")->has_default4);

	feed(msg_multipath(RTM_DELROUTE, 50));
	assert_int_equal(ncalls, 2);
	nlmon_routes(&n);
	assert_int_equal(n, 0);
	assert_false(find("eth2")->has_default4);
}

static void test_route_replace(void **state)
{
	struct rt r = { .family = AF_INET, .oif = 2, .gw = "10.0.1.1", .metric = 100 };
	const struct nl_route *routes;
	int n;

	(void)state;
	link_up(2, "eth1");
	link_up(3, "eth2");
	feed(msg_route(RTM_NEWROUTE, &r));
	ncalls = 0;
	/* "ip route replace default via 10.0.2.1 dev eth2 metric 100": the
	 * kernel drops eth1's route and says only NEWROUTE. */
	r.oif = 3;
	r.gw = "10.0.2.1";
	r.flags = NLM_F_REPLACE;
	feed(msg_route(RTM_NEWROUTE, &r));
	assert_int_equal(ncalls, 2);
	assert_int_equal(calls[0].changed, NLMON_ROUTE);
	assert_false(find("eth1")->has_default4);
	assert_true(find("eth2")->has_default4);
	routes = nlmon_routes(&n);
	assert_int_equal(n, 1);
	assert_int_equal(routes[0].ifindex, 3);
	assert_true(nlm.dump_todo & DUMP_BIT(DUMP_ROUTE4));
}

static void test_route_limit(void **state)
{
	struct rt r = { .family = AF_INET, .oif = 2, .gw = "10.0.1.1" };
	int n;

	(void)state;
	link_up(2, "eth1");
	for (uint32_t m = 0; m < NLMON_MAX_ROUTES + 10; m++) {
		r.metric = m;
		feed(msg_route(RTM_NEWROUTE, &r));
	}
	nlmon_routes(&n);
	assert_int_equal(n, NLMON_MAX_ROUTES);
	assert_int_equal(nwarn, 1);
}

static void test_admin_down_drops_routes(void **state)
{
	struct rt r = { .family = AF_INET, .oif = 2, .gw = "10.0.1.1", .metric = 100 };
	int n;

	(void)state;
	link_up(2, "eth1");
	feed(msg_route(RTM_NEWROUTE, &r));
	r.family = AF_INET6;
	r.gw = "fe80::1";
	feed(msg_route(RTM_NEWROUTE, &r));
	ncalls = 0;
	/* Set down, the kernel flushes its routes and (for IPv4) says nothing:
	 * one callback carries both. */
	feed(msg_link(RTM_NEWLINK, 2, "eth1", 0));
	assert_int_equal(one_call(), NLMON_CARRIER | NLMON_ROUTE);
	assert_false(find("eth1")->has_default4);
	assert_false(find("eth1")->has_default6);
	nlmon_routes(&n);
	assert_int_equal(n, 0);
	assert_int_equal(nlm.dump_todo, DUMP_BIT(DUMP_ROUTE4) | DUMP_BIT(DUMP_ROUTE6));

	/* Carrier loss alone keeps the routes (they become "linkdown"). */
	feed(msg_link(RTM_NEWLINK, 2, "eth1", UP));
	r.family = AF_INET;
	r.gw = "10.0.1.1";
	feed(msg_route(RTM_NEWROUTE, &r));
	ncalls = 0;
	feed(msg_link(RTM_NEWLINK, 2, "eth1", IFF_UP));
	assert_int_equal(one_call(), NLMON_CARRIER);
	assert_true(find("eth1")->has_default4);
}

/* ---- malformed input ---- */

static void test_malformed(void **state)
{
	struct rt r = { .family = AF_INET, .oif = 2, .gw = "10.0.1.1", .metric = 100 };
	struct nlmsghdr *nlh;
	struct nlattr *a;
	char mp[32];
	int n;

	(void)state;
	link_up(2, "eth1");

	/* Payload shorter than its fixed header. */
	nlh = msg_start(RTM_NEWLINK, 0);
	mnl_nlmsg_put_extra_header(nlh, 4);
	feed(nlh);
	nlh = msg_start(RTM_NEWROUTE, 0);
	feed(nlh);
	nlh = msg_start(RTM_DELADDR, 0);
	feed(nlh);

	/* A name without its NUL, and one longer than IF_NAMESIZE. */
	nlh = msg_link(RTM_NEWLINK, 5, NULL, UP);
	mnl_attr_put(nlh, IFLA_IFNAME, 4, "eth5");
	feed(nlh);
	nlh = msg_link(RTM_NEWLINK, 6, "a-name-much-longer-than-sixteen", UP);
	feed(nlh);
	assert_null(nlmon_find_index(5));
	assert_null(nlmon_find_index(6));

	/* An address of the wrong length. */
	nlh = msg_start(RTM_NEWADDR, 0);
	((struct ifaddrmsg *)mnl_nlmsg_put_extra_header(nlh, sizeof(struct ifaddrmsg)))->ifa_index = 2;
	((struct ifaddrmsg *)mnl_nlmsg_get_payload(nlh))->ifa_family = AF_INET;
	mnl_attr_put(nlh, IFA_ADDRESS, 3, "abc");
	feed(nlh);
	/* A u32 attribute of two bytes. */
	nlh = msg_route(RTM_NEWROUTE, &r);
	mnl_attr_put_u16(nlh, RTA_OIF, 2);
	feed(nlh);
	/* An IPv6 gateway on an IPv4 route. */
	r.gw = NULL;
	nlh = msg_route(RTM_NEWROUTE, &r);
	mnl_attr_put(nlh, RTA_GATEWAY, 16, "0123456789abcdef");
	feed(nlh);
	/* A multipath nexthop claiming more bytes than there are. */
	nlh = msg_route(RTM_NEWROUTE, &(struct rt){ .family = AF_INET, .metric = 7 });
	put_nexthop(mp, 2, "10.0.1.1");
	((struct rtnexthop *)(void *)mp)->rtnh_len = 200;
	mnl_attr_put(nlh, RTA_MULTIPATH, sizeof(struct rtnexthop) + 8, mp);
	feed(nlh);
	/* An attribute running past the end of the message. */
	nlh = msg_route(RTM_NEWROUTE, &(struct rt){ .family = AF_INET, .oif = 2, .metric = 8 });
	a = mnl_nlmsg_get_payload_tail(nlh);
	mnl_attr_put_u32(nlh, RTA_PRIORITY, 9);
	a->nla_len = 200;
	feed(nlh);

	assert_int_equal(ncalls, 0);
	nlmon_routes(&n);
	assert_int_equal(n, 0);
	assert_false(find("eth1")->has_addr4);
}

/* Random bytes after valid headers, for every message type: no crash, no
 * sanitizer report, state stays within bounds. */
static void test_random_messages(void **state)
{
	static const uint16_t types[] = { RTM_NEWLINK, RTM_DELLINK, RTM_NEWADDR, RTM_DELADDR,
					  RTM_NEWROUTE, RTM_DELROUTE };
	const char *env = getenv("TEST_SEED");
	unsigned seed = env ? (unsigned)strtoul(env, NULL, 10) : (unsigned)time(NULL);
	int n;

	(void)state;
	printf("test_random_messages: seed %u (set TEST_SEED to repeat)\n", seed);
	srand(seed);
	link_up(2, "eth1");
	for (int i = 0; i < 20000; i++) {
		struct nlmsghdr *nlh = msg_start(types[rand() % 6], (uint16_t)(rand() & NLM_F_REPLACE));
		size_t len = (size_t)(rand() % 200);
		unsigned char *p = mnl_nlmsg_put_extra_header(nlh, len);

		for (size_t j = 0; j < len; j++)
			p[j] = (unsigned char)rand();
		/* Often a plausible header, so the attribute parsers run. */
		if (len >= 16 && rand() % 2) {
			p[0] = rand() % 2 ? AF_INET : AF_INET6;
			if (nlh->nlmsg_type >= RTM_NEWROUTE) {
				p[1] = 0;
				p[4] = RT_TABLE_MAIN;
				p[7] = RTN_UNICAST;
				p[8] = 0;
			}
		}
		feed(nlh);
		ncalls = 0;
	}
	nlmon_routes(&n);
	assert_true(n <= NLMON_MAX_ROUTES);
	assert_true(nlm.naddrs <= NLMON_MAX_ADDRS);
}

/* ---- dumps: mark and sweep, and the quiet re-read after ENOBUFS ---- */

static void dump(int kind, const struct nlmsghdr **msgs, int n)
{
	dump_mark_stale(kind);
	for (int i = 0; i < n; i++)
		feed(msgs[i]);
	dump_sweep(kind);
}

/* Copies each built message, since the builders share one buffer. */
static const struct nlmsghdr *keep(const struct nlmsghdr *nlh)
{
	void *p = malloc(nlh->nlmsg_len);

	memcpy(p, nlh, nlh->nlmsg_len);
	return p;
}

static void free_all(const struct nlmsghdr **msgs, int n)
{
	for (int i = 0; i < n; i++)
		free((void *)msgs[i]);
}

static void test_resync_reports_differences(void **state)
{
	struct rt r1 = { .family = AF_INET, .oif = 2, .gw = "10.0.1.1", .metric = 100 };
	struct rt r2 = { .family = AF_INET, .oif = 3, .gw = "10.0.2.1", .metric = 200 };
	struct rt r3 = { .family = AF_INET, .oif = 4, .gw = "10.0.3.1", .metric = 300 };
	const struct nlmsghdr *links[3], *addrs[1], *routes[2];

	(void)state;
	link_up(2, "eth1");
	link_up(3, "eth2");
	link_up(4, "eth3");
	feed(msg_addr(RTM_NEWADDR, AF_INET, 2, "10.0.1.2", 24, RT_SCOPE_UNIVERSE, 0));
	feed(msg_addr(RTM_NEWADDR, AF_INET, 3, "10.0.2.2", 24, RT_SCOPE_UNIVERSE, 0));
	feed(msg_route(RTM_NEWROUTE, &r1));
	feed(msg_route(RTM_NEWROUTE, &r2));
	ncalls = 0;

	/* Events were lost. Meanwhile: eth2 lost its address and its route,
	 * eth3 went away, eth4 appeared, eth1 is unchanged. */
	nlm.quiet = true;
	links[0] = keep(msg_link(RTM_NEWLINK, 2, "eth1", UP));
	links[1] = keep(msg_link(RTM_NEWLINK, 3, "eth2", UP));
	links[2] = keep(msg_link(RTM_NEWLINK, 5, "eth4", IFF_UP));
	addrs[0] = keep(msg_addr(RTM_NEWADDR, AF_INET, 2, "10.0.1.2", 24, RT_SCOPE_UNIVERSE, 0));
	routes[0] = keep(msg_route(RTM_NEWROUTE, &r1));
	dump(DUMP_LINK, links, 3);
	dump(DUMP_ADDR, addrs, 1);
	dump(DUMP_ROUTE4, routes, 1);
	dump(DUMP_ROUTE6, NULL, 0);
	assert_int_equal(ncalls, 0);	/* quiet until the end */
	dump_all_done();
	assert_false(nlm.quiet);

	/* One call per link that differs, in slot order: eth2, eth3, eth4. */
	assert_int_equal(ncalls, 3);
	assert_string_equal(calls[0].link.name, "eth2");
	assert_int_equal(calls[0].changed, NLMON_ADDR | NLMON_ROUTE);
	assert_string_equal(calls[1].link.name, "eth3");
	assert_int_equal(calls[1].changed, NLMON_GONE);
	assert_string_equal(calls[2].link.name, "eth4");
	assert_int_equal(calls[2].changed, NLMON_NEW | NLMON_CARRIER);
	free_all(links, 3);
	free_all(addrs, 1);
	free_all(routes, 1);

	/* A route only the dump knows about (its event was lost) is new. */
	ncalls = 0;
	nlm.quiet = true;
	routes[0] = keep(msg_route(RTM_NEWROUTE, &r1));
	r3.oif = 5;
	routes[1] = keep(msg_route(RTM_NEWROUTE, &r3));
	dump(DUMP_ROUTE4, routes, 2);
	dump_all_done();
	assert_int_equal(ncalls, 1);
	assert_string_equal(calls[0].link.name, "eth4");
	assert_int_equal(calls[0].changed, NLMON_ROUTE);
	free_all(routes, 2);
}

static void test_initial_dump_is_silent(void **state)
{
	struct rt r = { .family = AF_INET, .oif = 2, .gw = "10.0.1.1", .metric = 100 };

	(void)state;
	nlm.silent = nlm.quiet = true;
	feed(msg_link(RTM_NEWLINK, 2, "eth1", UP));
	feed(msg_route(RTM_NEWROUTE, &r));
	dump_all_done();
	assert_int_equal(ncalls, 0);
	assert_true(find("eth1")->has_default4);
	/* From now on, only differences. */
	feed(msg_link(RTM_NEWLINK, 2, "eth1", UP));
	assert_int_equal(ncalls, 0);
	feed(msg_link(RTM_NEWLINK, 2, "eth1", IFF_UP));
	assert_int_equal(one_call(), NLMON_CARRIER);
}

/* The socket path: a buffer holding dump replies and an event. */
static size_t put_msg(char *at, const struct nlmsghdr *nlh, uint32_t seq)
{
	memcpy(at, nlh, nlh->nlmsg_len);
	((struct nlmsghdr *)(void *)at)->nlmsg_seq = seq;
	((struct nlmsghdr *)(void *)at)->nlmsg_pid = seq ? 77 : 0;
	return NLMSG_ALIGN(nlh->nlmsg_len);
}

static void test_dump_replies_in_a_buffer(void **state)
{
	static char rx[4096] __attribute__((aligned(8)));
	struct rt r1 = { .family = AF_INET, .oif = 2, .gw = "10.0.1.1", .metric = 100 };
	struct rt r2 = { .family = AF_INET, .oif = 2, .gw = "10.0.1.1", .metric = 10 };
	size_t len = 0;
	int n;

	(void)state;
	link_up(2, "eth1");
	feed(msg_route(RTM_NEWROUTE, &r1));
	ncalls = 0;
	nlm.portid = 77;

	/* The route dump says metric 10 only: 100 went silently. */
	nlm.dump_kind = DUMP_ROUTE4;
	nlm.dump_seq = 5;
	dump_mark_stale(DUMP_ROUTE4);
	len += put_msg(rx + len, msg_route(RTM_NEWROUTE, &r2), 5);
	len += put_msg(rx + len, msg_link(RTM_NEWLINK, 2, "eth1", IFF_UP), 0);	/* an event */
	len += put_msg(rx + len, msg_start(NLMSG_DONE, NLM_F_MULTI), 5);
	handle_buf(rx, (int)len);
	assert_int_equal(nlm.dump_kind, -1);
	assert_int_equal(nlmon_routes(&n)[0].metric, 10);
	assert_int_equal(n, 1);
	/* Route added (one call), carrier lost (one call), route swept (one). */
	assert_int_equal(ncalls, 3);
	assert_int_equal(calls[1].changed, NLMON_CARRIER);
	assert_int_equal(calls[2].changed, NLMON_ROUTE);

	/* An interrupted dump sweeps nothing and is asked for again. */
	ncalls = 0;
	nlm.dump_kind = DUMP_ROUTE4;
	nlm.dump_seq = 6;
	dump_mark_stale(DUMP_ROUTE4);
	len = put_msg(rx, msg_start(NLMSG_DONE, NLM_F_MULTI | NLM_F_DUMP_INTR), 6);
	handle_buf(rx, (int)len);
	nlmon_routes(&n);
	assert_int_equal(n, 1);
	assert_true(nlm.dump_todo & DUMP_BIT(DUMP_ROUTE4));
	assert_int_equal(ncalls, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_link_new_carrier_admin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_link_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bridge_port_messages_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_link_rename, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreach_and_link_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_addr_v4, setup, teardown),
		cmocka_unit_test_setup_teardown(test_addr_scope_and_tentative, setup, teardown),
		cmocka_unit_test_setup_teardown(test_addr_ptp_uses_local, setup, teardown),
		cmocka_unit_test_setup_teardown(test_route_v4, setup, teardown),
		cmocka_unit_test_setup_teardown(test_route_v6_and_moves, setup, teardown),
		cmocka_unit_test_setup_teardown(test_route_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_route_multipath, setup, teardown),
		cmocka_unit_test_setup_teardown(test_route_replace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_route_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_admin_down_drops_routes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resync_reports_differences, setup, teardown),
		cmocka_unit_test_setup_teardown(test_initial_dump_is_silent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dump_replies_in_a_buffer, setup, teardown),
	};

	return cmocka_run_group_tests_name("nlmon", tests, NULL, NULL);
}
