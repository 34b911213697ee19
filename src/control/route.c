/* The "route" controller (DESIGN.md §7): every member keeps its own default
 * route, and the metrics say who carries the traffic. ranking[0] gets
 * metric_base, ranking[i] gets metric_base + i, in IPv4 and (where the member
 * has one) IPv6.
 *
 * Linux keys a route by its metric, so a move is an add at the new metric
 * followed by a delete at the old one: a member is never without its default
 * route. When a metric we want is held by another member, that one first
 * steps aside to a temporary metric (metric_base + 1000 + its rank).
 *
 * Each apply plans from a fresh dump rather than from nlmon's copy: nlmon
 * learns about our own changes only when the loop reads its socket, and the
 * engine applies again from inside nlmon's callback, so its view can be one
 * half-done move behind. The planner is a pure function (plan_moves) so the
 * tests can check every ordering without netlink; the kernel sits behind
 * struct rt_os, which the tests replace.
 */
#include "control/control.h"
#include "netlink/nlmon.h"
#include "core/log.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <libmnl/libmnl.h>

#define RT_MAX_MEMBERS	32		/* as many as the config allows */
#define RT_MAX_ITEMS	64		/* routes managed in one family (fini: every memo) */
#define RT_MAX_ROUTES	NLMON_MAX_ROUTES	/* default routes read per family */
#define RT_MAX_OPS	(4 * RT_MAX_ITEMS + RT_MAX_ROUTES)
#define RT_TEMP_OFFSET	1000		/* temporary metrics: base + 1000 + rank */
#define RT_METRICS_MAX	128		/* RTA_METRICS (mtu, advmss…) copied as is */
#define RT_DUMP_TRIES	3

union rt_ip {
	struct in_addr v4;
	struct in6_addr v6;
};

/* A default route as read from the kernel, with what it takes to re-create
 * it at another metric. */
struct rt_route {
	struct nl_route r;
	char dev[IF_NAMESIZE];	/* the member's device; "" for other routes */
	uint32_t flags;		/* rtm_flags */
	bool foreign;		/* multipath, RTA_VIA, nexthop object…: never moved */
	bool has_prefsrc;
	union rt_ip prefsrc;
	bool has_pref;
	uint8_t pref;		/* RTA_PREF (IPv6 router preference) */
	uint16_t metrics_len;
	uint8_t metrics[RT_METRICS_MAX];
};

/* One managed route for the planner, in rank order. */
struct rt_item {
	int route;		/* index in the family's route list */
	int rank;		/* picks the temporary metric */
	uint32_t cur;
	uint32_t target;
	bool busy;		/* on the planner's stack */
	bool blocked;		/* its target is held by a route we may not move */
};

enum rt_op_kind {
	RT_ADD,		/* route at metric (moving from .from) */
	RT_DEL,		/* route at metric (the old place of a move) */
	RT_DROP,	/* a duplicate of a managed route */
};

struct rt_op {
	enum rt_op_kind kind;
	int route;
	uint32_t metric;
	uint32_t from;
};

struct rt_plan {
	struct rt_item *items;
	int nitems;
	const uint32_t *taken;	/* metrics held by routes that are not items */
	int ntaken;
	uint32_t temp_base;
	struct rt_op *ops;
	int nops;
	int max_ops;
	bool overflow;
};

/* Each member route's metric before we first moved it, per family. */
struct rt_memo {
	int family;
	char dev[IF_NAMESIZE];
	uint32_t orig;
	uint32_t blocked;	/* the target we last warned about (0: none) */
};

/* The kernel side. Tests include this file and point rt_os elsewhere. */
struct rt_os {
	int (*open)(void);
	void (*close)(void);
	int (*ifindex)(const char *dev);			/* 0 if unknown */
	int (*dump)(int family, struct rt_route *out, int max);	/* count or -errno */
	int (*change)(bool add, const struct rt_route *r, uint32_t metric);	/* 0 or -errno */
};

enum rt_role {
	ROLE_OTHER,	/* not ours to move: its metric is taken */
	ROLE_ITEM,
	ROLE_DROP,
};

/* One family's pass: the routes as read, and the plan built from them. */
struct rt_ctx {
	int family;
	uint32_t base;
	struct rt_route *routes;
	int nroutes;
	bool claimed[RT_MAX_ROUTES];
	enum rt_role role[RT_MAX_ROUTES];
	uint32_t taken[RT_MAX_ROUTES];
	struct rt_item items[RT_MAX_ITEMS];
	struct rt_op ops[RT_MAX_OPS];
	struct rt_plan plan;
};

static const struct rt_os rt_os_linux;
static const struct rt_os *rt_os = &rt_os_linux;

static struct {
	bool ready;
	uint32_t base;
	struct rt_memo memo[RT_MAX_ITEMS];
	int nmemo;
	bool warned_memo;
	bool warned_many;
} rt;

/* Work space: nothing is allocated per apply. */
static struct rt_route rt_routes[RT_MAX_ROUTES];
static struct rt_route rt_check[RT_MAX_ROUTES];
static struct rt_ctx rt_ctx;

/* The kernel's own words for the last refusal (extended ACK), or "". */
static char rt_kmsg[160];

/* ---- the planner (pure) ---- */

#define PLAN_FREE	(-1)
#define PLAN_TAKEN	(-2)

/* The item whose route sits at metric, PLAN_TAKEN or PLAN_FREE. */
static int plan_holder(const struct rt_plan *p, uint32_t metric)
{
	for (int i = 0; i < p->nitems; i++)
		if (p->items[i].cur == metric)
			return i;
	for (int i = 0; i < p->ntaken; i++)
		if (p->taken[i] == metric)
			return PLAN_TAKEN;
	return PLAN_FREE;
}

static bool plan_is_target(const struct rt_plan *p, uint32_t metric)
{
	for (int i = 0; i < p->nitems; i++)
		if (p->items[i].target == metric)
			return true;
	return false;
}

/* Add at the new metric, then delete at the old one. */
static bool plan_emit(struct rt_plan *p, int k, uint32_t metric)
{
	struct rt_item *it = &p->items[k];

	if (p->nops + 2 > p->max_ops) {
		p->overflow = true;
		return false;
	}
	p->ops[p->nops++] = (struct rt_op){ RT_ADD, it->route, metric, it->cur };
	p->ops[p->nops++] = (struct rt_op){ RT_DEL, it->route, it->cur, 0 };
	it->cur = metric;
	return true;
}

/* Out of the way, to a metric that is free and nobody's target. */
static void plan_to_temp(struct rt_plan *p, int k)
{
	uint32_t metric = p->temp_base + (uint32_t)p->items[k].rank;

	while (plan_holder(p, metric) != PLAN_FREE || plan_is_target(p, metric))
		metric++;
	plan_emit(p, k, metric);
}

/* Moves item k to its target, first moving whoever holds it: to that one's
 * own target if it can get there, else aside. Returns false if k could not
 * move: blocked, or its holder is further up the stack (a cycle), in which
 * case the caller moves k aside. */
static bool plan_move(struct rt_plan *p, int k)
{
	struct rt_item *it = &p->items[k];
	int h = PLAN_FREE;

	if (it->cur == it->target)
		return true;
	if (it->blocked || it->busy)
		return false;
	it->busy = true;
	while (!p->overflow && (h = plan_holder(p, it->target)) != PLAN_FREE) {
		if (h == PLAN_TAKEN || p->items[h].cur == p->items[h].target) {
			it->blocked = true;
			break;
		}
		if (p->items[h].busy)
			break;
		if (!plan_move(p, h))
			plan_to_temp(p, h);
	}
	it->busy = false;
	if (h != PLAN_FREE || p->overflow)
		return false;
	return plan_emit(p, k, it->target);
}

/* Appends to p->ops the moves that take every item to its target, best
 * ranked first so traffic moves as early as it can. Items whose target is
 * held by a route that is not an item stay (blocked). Every add goes to a
 * free metric and precedes the delete of the same route, so no route is ever
 * missing. Returns 0, or -ENOSPC if ops is too small. */
static int plan_moves(struct rt_plan *p)
{
	for (int k = 0; k < p->nitems && !p->overflow; k++)
		plan_move(p, k);
	return p->overflow ? -ENOSPC : 0;
}

/* ---- descriptions ---- */

static const char *fam_label(int family)
{
	return family == AF_INET6 ? "IPv6 " : "";
}

static const char *rt_devname(const struct rt_route *r, char *buf)
{
	const struct nl_link *l;

	if (r->dev[0])
		return r->dev;
	l = nlmon_find_index(r->r.ifindex);
	if (l)
		return l->name;
	if (if_indextoname((unsigned)r->r.ifindex, buf))
		return buf;
	snprintf(buf, IF_NAMESIZE, "if%d", r->r.ifindex);
	return buf;
}

/* "default via 10.0.1.1 dev eth1 metric 10" */
static const char *rt_describe(const struct rt_route *r, uint32_t metric, char *buf, size_t len)
{
	char gw[INET6_ADDRSTRLEN + 5] = "", dev[IF_NAMESIZE];

	if (r->r.has_gw) {
		memcpy(gw, " via ", 5);
		inet_ntop(r->r.family, &r->r.gw, gw + 5, INET6_ADDRSTRLEN);
	}
	snprintf(buf, len, "default%s dev %s metric %u", gw, rt_devname(r, dev), metric);
	return buf;
}

/* ---- reading the kernel's routes into a pass ---- */

static bool rt_managed(uint32_t base, uint32_t metric)
{
	return (metric >= base && metric - base < RT_MAX_ITEMS) ||
	       (metric >= base + RT_TEMP_OFFSET && metric - base - RT_TEMP_OFFSET < RT_MAX_ITEMS);
}

static bool rt_same_gw(const struct rt_route *a, const struct rt_route *b)
{
	if (a->r.has_gw != b->r.has_gw)
		return false;
	if (!a->r.has_gw)
		return true;
	if (a->r.family == AF_INET)
		return a->r.gw.v4.s_addr == b->r.gw.v4.s_addr;
	return !memcmp(&a->r.gw.v6, &b->r.gw.v6, sizeof(a->r.gw.v6));
}

/* IPv6 has no metric 0 (the kernel turns it into 1024). */
static uint32_t family_base(int family)
{
	return family == AF_INET6 && rt.base == 0 ? 1 : rt.base;
}

static int ctx_load(struct rt_ctx *c, int family)
{
	int n = rt_os->dump(family, rt_routes, RT_MAX_ROUTES);

	if (n < 0) {
		log_err("route: cannot read the %sdefault routes: %s", fam_label(family), strerror(-n));
		return n;
	}
	memset(c, 0, sizeof(*c));
	c->family = family;
	c->base = family_base(family);
	c->routes = rt_routes;
	c->nroutes = n;
	c->plan = (struct rt_plan){
		.items = c->items,
		.taken = c->taken,
		.temp_base = c->base + RT_TEMP_OFFSET,
		.ops = c->ops,
		.max_ops = RT_MAX_OPS,
	};
	return 0;
}

/* The routes through ifindex that nobody has claimed; claims them for dev. */
static int ctx_claim(struct rt_ctx *c, int ifindex, const char *dev, int *mine)
{
	int n = 0;

	for (int j = 0; j < c->nroutes; j++) {
		struct rt_route *r = &c->routes[j];

		if (c->claimed[j] || r->foreign || r->r.ifindex != ifindex)
			continue;
		c->claimed[j] = true;
		strlcpy_ok(r->dev, dev, sizeof(r->dev));
		mine[n++] = j;
	}
	return n;
}

static void ctx_item(struct rt_ctx *c, int route, int rank, uint32_t target)
{
	struct rt_item *it = &c->items[c->plan.nitems++];

	*it = (struct rt_item){ .route = route, .rank = rank, .cur = c->routes[route].r.metric, .target = target };
	c->role[route] = ROLE_ITEM;
}

static void ctx_drop(struct rt_ctx *c, int route, uint32_t kept)
{
	c->role[route] = ROLE_DROP;
	c->ops[c->plan.nops++] = (struct rt_op){ RT_DROP, route, c->routes[route].r.metric, kept };
}

/* Every route that is neither moved nor dropped holds its metric. */
static void ctx_taken(struct rt_ctx *c)
{
	for (int j = 0; j < c->nroutes; j++)
		if (c->role[j] == ROLE_OTHER)
			c->taken[c->plan.ntaken++] = c->routes[j].r.metric;
}

static struct rt_memo *memo_find(int family, const char *dev)
{
	for (int i = 0; i < rt.nmemo; i++)
		if (rt.memo[i].family == family && !strcmp(rt.memo[i].dev, dev))
			return &rt.memo[i];
	return NULL;
}

/* Remembers where the member's route was before we moved it. A metric we
 * could have set ourselves says nothing, unless it is all we ever saw. */
static void memo_note(int family, const char *dev, uint32_t metric, bool managed)
{
	struct rt_memo *m = memo_find(family, dev);

	if (m) {
		if (!managed && m->orig != metric) {
			log_debug("route: %s %sdefault metric to restore is now %u", dev, fam_label(family), metric);
			m->orig = metric;
		}
		return;
	}
	if (rt.nmemo == RT_MAX_ITEMS) {
		if (!rt.warned_memo)
			log_warn("route: too many devices to remember; %s will not be restored", dev);
		rt.warned_memo = true;
		return;
	}
	m = &rt.memo[rt.nmemo++];
	m->family = family;
	strlcpy_ok(m->dev, dev, sizeof(m->dev));
	m->orig = metric;
}

/* The member's route to manage: one at its target, else one at a metric we
 * manage, else its lowest. */
static int pick_primary(const struct rt_ctx *c, const int *mine, int n, uint32_t target)
{
	int best = -1;

	for (int i = 0; i < n; i++)
		if (c->routes[mine[i]].r.metric == target)
			return mine[i];
	for (int pass = 0; pass < 2 && best < 0; pass++) {
		for (int i = 0; i < n; i++) {
			uint32_t m = c->routes[mine[i]].r.metric;

			if (pass == 0 && !rt_managed(c->base, m))
				continue;
			if (best < 0 || m < c->routes[best].r.metric)
				best = mine[i];
		}
	}
	return best;
}

static void collect_member(struct rt_ctx *c, int rank, const char *dev, int ifindex)
{
	int mine[RT_MAX_ROUTES], n, p;
	uint32_t target = c->base + (uint32_t)rank, orig;
	bool p_managed, orig_managed;

	n = ctx_claim(c, ifindex, dev, mine);
	if (!n) {
		log_debug("route: %s has no %sdefault route; skipped", dev, fam_label(c->family));
		return;
	}
	p = pick_primary(c, mine, n, target);
	p_managed = rt_managed(c->base, c->routes[p].r.metric);
	orig = c->routes[p].r.metric;
	orig_managed = p_managed;
	for (int i = 0; i < n; i++) {
		const struct rt_route *q = &c->routes[mine[i]];

		if (mine[i] == p || !p_managed || !rt_same_gw(q, &c->routes[p]))
			continue;
		/* A second copy of a route we manage: typically its DHCP
		 * client put it back at the metric it likes. That metric is
		 * the one to restore from now on. */
		ctx_drop(c, mine[i], c->routes[p].r.metric);
		if (!rt_managed(c->base, q->r.metric)) {
			orig = q->r.metric;
			orig_managed = false;
		}
	}
	memo_note(c->family, dev, orig, orig_managed);
	ctx_item(c, p, rank, target);
}

/* ---- executing a plan ---- */

static bool rt_present(int family, const struct rt_route *r, uint32_t metric)
{
	int n = rt_os->dump(family, rt_check, RT_MAX_ROUTES);

	for (int i = 0; i < n; i++)
		if (rt_check[i].r.ifindex == r->r.ifindex && rt_check[i].r.metric == metric &&
		    rt_same_gw(&rt_check[i], r))
			return true;
	return false;
}

static int exec_op(const struct rt_ctx *c, const struct rt_op *op)
{
	const struct rt_route *r = &c->routes[op->route];
	int err = rt_os->change(op->kind == RT_ADD, r, op->metric);
	char desc[128];

	/* EXCL also refuses a different route at that metric (IPv4: any
	 * route; IPv6 would otherwise make it multipath): fine only if the
	 * route that is there is ours. */
	if (op->kind == RT_ADD && err == -EEXIST && rt_present(c->family, r, op->metric))
		err = 0;
	if (op->kind != RT_ADD && err == -ESRCH)
		err = 0;	/* gone already, which is what we wanted */
	if (err) {
		log_err("route: cannot %s %s: %s%s%s%s", op->kind == RT_ADD ? "add" : "delete",
			rt_describe(r, op->metric, desc, sizeof(desc)), strerror(-err),
			rt_kmsg[0] ? " (" : "", rt_kmsg, rt_kmsg[0] ? ")" : "");
		return err;
	}
	if (op->kind == RT_ADD)
		log_info("route: %s %sdefault metric %u -> %u", r->dev, fam_label(c->family), op->from, op->metric);
	else if (op->kind == RT_DROP)
		log_info("route: deleted %s, a duplicate of the one at metric %u",
			 rt_describe(r, op->metric, desc, sizeof(desc)), op->from);
	return 0;
}

/* Stops at the first failure: what follows may rely on it, and the next
 * apply plans again from what the kernel then has. */
static int exec_plan(const struct rt_ctx *c)
{
	for (int i = 0; i < c->plan.nops; i++) {
		int err = exec_op(c, &c->plan.ops[i]);

		if (err)
			return err;
	}
	return 0;
}

/* Says once (per device and target) which route is in the way: the engine
 * applies again on every route change, and the warning would repeat. */
static void warn_blocked(const struct rt_ctx *c, const char *what)
{
	char desc[128];

	for (int i = 0; i < c->plan.nitems; i++) {
		const struct rt_item *it = &c->items[i];
		const struct rt_route *r = &c->routes[it->route];
		struct rt_memo *m = memo_find(c->family, r->dev);
		bool again = m && m->blocked == it->target + 1;

		if (m)
			m->blocked = it->cur == it->target ? 0 : it->target + 1;
		if (it->cur == it->target)
			continue;
		for (int j = 0; j < c->nroutes; j++) {
			if (c->role[j] != ROLE_OTHER || c->routes[j].r.metric != it->target)
				continue;
			log_at(again ? LOG_LVL_DEBUG : LOG_LVL_WARN,
			       "route: cannot %s %s %sdefault metric %u: %s is in the way",
			       what, r->dev, fam_label(c->family), it->target,
			       rt_describe(&c->routes[j], it->target, desc, sizeof(desc)));
			break;
		}
	}
}

static int plan_and_exec(struct rt_ctx *c, const char *what)
{
	if (plan_moves(&c->plan) < 0) {
		log_err("route: too many changes to plan");
		return -ENOSPC;
	}
	warn_blocked(c, what);
	if (!c->plan.nops) {
		log_debug("route: %sdefault routes already in place", fam_label(c->family));
		return 0;
	}
	return exec_plan(c);
}

/* ---- apply, fini ---- */

static int apply_family(int family, const struct ctl_member *ranking, int n)
{
	struct rt_ctx *c = &rt_ctx;
	int err = ctx_load(c, family);

	if (err)
		return err;
	for (int i = 0; i < n; i++) {
		const char *dev = ranking[i].device;
		int ifindex = dev && dev[0] ? rt_os->ifindex(dev) : 0;

		if (ifindex <= 0) {
			log_debug("route: %s: device %s not found; skipped", ranking[i].name ? ranking[i].name : "?",
				  dev ? dev : "(none)");
			continue;
		}
		collect_member(c, i, dev, ifindex);
	}
	ctx_taken(c);
	return plan_and_exec(c, "give");
}

static int route_apply(const struct ctl_member *ranking, int n)
{
	int err4, err6;

	if (!rt.ready)
		return -EINVAL;
	if (n > RT_MAX_MEMBERS) {
		if (!rt.warned_many)
			log_warn("route: only the first %d members get a metric", RT_MAX_MEMBERS);
		rt.warned_many = true;
		n = RT_MAX_MEMBERS;
	}
	err4 = apply_family(AF_INET, ranking, n);
	err6 = apply_family(AF_INET6, ranking, n);
	return err4 ? err4 : err6;
}

/* The route we put at a managed metric for this memo, if it is still there. */
static void collect_restore(struct rt_ctx *c, int idx, const struct rt_memo *m)
{
	int mine[RT_MAX_ROUTES], n, p = -1, ifindex = rt_os->ifindex(m->dev);

	if (ifindex <= 0)
		return;
	n = ctx_claim(c, ifindex, m->dev, mine);
	for (int i = 0; i < n; i++) {
		uint32_t metric = c->routes[mine[i]].r.metric;

		if (rt_managed(c->base, metric) && metric != m->orig &&
		    (p < 0 || metric < c->routes[p].r.metric))
			p = mine[i];
	}
	if (p < 0)
		return;
	for (int i = 0; i < n; i++) {
		if (c->routes[mine[i]].r.metric == m->orig && rt_same_gw(&c->routes[mine[i]], &c->routes[p])) {
			ctx_drop(c, p, m->orig);	/* the original is back already */
			return;
		}
	}
	ctx_item(c, p, idx, m->orig);
}

static void restore_family(int family)
{
	struct rt_ctx *c = &rt_ctx;

	if (ctx_load(c, family))
		return;
	for (int i = 0; i < rt.nmemo; i++)
		if (rt.memo[i].family == family)
			collect_restore(c, i, &rt.memo[i]);
	ctx_taken(c);
	plan_and_exec(c, "restore");
}

static void route_fini(void)
{
	if (!rt.ready)
		return;
	restore_family(AF_INET);
	restore_family(AF_INET6);
	rt_os->close();
	memset(&rt, 0, sizeof(rt));
}

static int route_init(uint32_t metric_base)
{
	int err;

	if (metric_base > UINT32_MAX - 2 * RT_TEMP_OFFSET) {
		log_err("route: metric_base %u is too large", metric_base);
		return -ERANGE;
	}
	if (rt.ready)
		route_fini();
	err = rt_os->open();
	if (err) {
		log_err("route: cannot open a netlink socket: %s", strerror(-err));
		return err;
	}
	memset(&rt, 0, sizeof(rt));
	rt.base = metric_base;
	rt.ready = true;
	return 0;
}

const struct ctl_ops ctl_route_ops = {
	.name = "route",
	.moves_connections = true,
	.init = route_init,
	.fini = route_fini,
	.apply = route_apply,
};

/* ---- the kernel: rtnetlink requests with ACKs ---- */

static struct mnl_socket *rt_nl;
static uint32_t rt_seq;
static char rt_buf[32768] __attribute__((aligned(8)));

static int nl_open(void)
{
	struct timeval tv = { .tv_sec = 1 };
	int one = 1, err;

	rt_nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!rt_nl)
		return -errno;
	if (mnl_socket_bind(rt_nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		mnl_socket_close(rt_nl);
		rt_nl = NULL;
		return err;
	}
	/* Route changes are rare and the kernel answers at once: a blocking
	 * socket with a timeout keeps this code straight. */
	setsockopt(mnl_socket_get_fd(rt_nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/* The kernel's reason in words, and ACKs without our request in them. */
	mnl_socket_setsockopt(rt_nl, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(rt_nl, NETLINK_CAP_ACK, &one, sizeof(one));
	return 0;
}

static void nl_close(void)
{
	if (rt_nl)
		mnl_socket_close(rt_nl);
	rt_nl = NULL;
}

static int nl_ifindex(const char *dev)
{
	const struct nl_link *l = nlmon_find(dev);

	return l ? l->ifindex : (int)if_nametoindex(dev);
}

static int kmsg_attr_cb(const struct nlattr *attr, void *data)
{
	if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
		strlcpy_ok(data, mnl_attr_get_str(attr), sizeof(rt_kmsg));
	return MNL_CB_OK;
}

/* An error or ACK; keeps the extended ACK text in rt_kmsg. */
static int nl_error(const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	size_t off = sizeof(*e);

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e))
		return -EBADMSG;
	if (e->error && (nlh->nlmsg_flags & NLM_F_ACK_TLVS)) {
		/* The TLVs follow our request, of which only the header is
		 * echoed when the ACK is capped. */
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			off += NLMSG_ALIGN(e->msg.nlmsg_len) - sizeof(e->msg);
		if (off <= mnl_nlmsg_get_payload_len(nlh))
			mnl_attr_parse(nlh, (unsigned)off, kmsg_attr_cb, rt_kmsg);
	}
	return e->error;
}

typedef void (*nl_reply_fn)(const struct nlmsghdr *nlh, void *data);

/* 0 when the answer is complete (ACK, DONE), 1 if more follows, -errno. */
static int nl_replies(const void *buf, int len, uint32_t seq, uint32_t portid, nl_reply_fn fn, void *data)
{
	const struct nlmsghdr *nlh = buf;

	for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
		if (nlh->nlmsg_seq != seq || nlh->nlmsg_pid != portid)
			continue;	/* the late answer to a request that timed out */
		if (nlh->nlmsg_type == NLMSG_DONE)
			return 0;
		if (nlh->nlmsg_type == NLMSG_ERROR)
			return nl_error(nlh);
		if (fn)
			fn(nlh, data);
	}
	return 1;
}

/* Sends a request and reads its whole answer. Returns 0 or -errno. */
static int nl_talk(struct nlmsghdr *nlh, nl_reply_fn fn, void *data)
{
	int rc = 1;

	rt_kmsg[0] = '\0';
	nlh->nlmsg_seq = ++rt_seq;
	if (mnl_socket_sendto(rt_nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		ssize_t len = mnl_socket_recvfrom(rt_nl, rt_buf, sizeof(rt_buf));

		if (len < 0 && errno == EINTR)
			continue;
		if (len < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		rc = nl_replies(rt_buf, (int)len, nlh->nlmsg_seq, mnl_socket_get_portid(rt_nl), fn, data);
	} while (rc > 0);
	return rc;
}

static const enum mnl_attr_data_type rt_policy[RTA_MAX + 1] = {
	[RTA_OIF] = MNL_TYPE_U32,
	[RTA_GATEWAY] = MNL_TYPE_BINARY,
	[RTA_PRIORITY] = MNL_TYPE_U32,
	[RTA_PREFSRC] = MNL_TYPE_BINARY,
	[RTA_METRICS] = MNL_TYPE_NESTED,
	[RTA_MULTIPATH] = MNL_TYPE_BINARY,
	[RTA_TABLE] = MNL_TYPE_U32,
	[RTA_VIA] = MNL_TYPE_BINARY,
	[RTA_PREF] = MNL_TYPE_U8,
	[RTA_ENCAP] = MNL_TYPE_BINARY,
	[RTA_NH_ID] = MNL_TYPE_U32,
};

static int rt_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, RTA_MAX) < 0 || rt_policy[type] == MNL_TYPE_UNSPEC)
		return MNL_CB_OK;
	if (mnl_attr_validate(attr, rt_policy[type]) < 0)
		return MNL_CB_ERROR;
	tb[type] = attr;
	return MNL_CB_OK;
}

static bool rt_attr_ip(const struct nlattr *attr, int family, void *out)
{
	size_t len = family == AF_INET ? sizeof(struct in_addr) : sizeof(struct in6_addr);

	if (mnl_attr_get_payload_len(attr) != len)
		return false;
	memcpy(out, mnl_attr_get_payload(attr), len);
	return true;
}

static void rt_parse_extras(const struct nlattr **tb, struct rt_route *r)
{
	if (tb[RTA_PREFSRC])
		r->has_prefsrc = rt_attr_ip(tb[RTA_PREFSRC], r->r.family, &r->prefsrc);
	if (tb[RTA_PREF]) {
		r->has_pref = true;
		r->pref = mnl_attr_get_u8(tb[RTA_PREF]);
	}
	if (tb[RTA_METRICS]) {
		uint16_t len = mnl_attr_get_payload_len(tb[RTA_METRICS]);

		if (len > sizeof(r->metrics))
			r->foreign = true;	/* cannot copy it faithfully */
		else
			memcpy(r->metrics, mnl_attr_get_payload(tb[RTA_METRICS]), r->metrics_len = len);
	}
	/* Multipath, an IPv6 gateway for IPv4, a nexthop object or an
	 * encapsulation: we would not re-create it right, so we never move it. */
	if (!r->r.ifindex || tb[RTA_MULTIPATH] || tb[RTA_VIA] || tb[RTA_NH_ID] || tb[RTA_ENCAP])
		r->foreign = true;
}

/* 1 and *r if nlh is a unicast default route of family in the main table,
 * 0 if it is another route, -1 if it is malformed. */
static int rt_parse(const struct nlmsghdr *nlh, int family, struct rt_route *r)
{
	const struct nlattr *tb[RTA_MAX + 1] = { NULL };
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	uint32_t table;

	if (nlh->nlmsg_type != RTM_NEWROUTE)
		return 0;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*rtm) ||
	    mnl_attr_parse(nlh, sizeof(*rtm), rt_attr_cb, tb) < 0)
		return -1;
	table = tb[RTA_TABLE] ? mnl_attr_get_u32(tb[RTA_TABLE]) : rtm->rtm_table;
	if (rtm->rtm_family != family || table != RT_TABLE_MAIN || rtm->rtm_dst_len ||
	    rtm->rtm_type != RTN_UNICAST || (rtm->rtm_flags & RTM_F_CLONED))
		return 0;
	memset(r, 0, sizeof(*r));
	r->r.family = family;
	r->r.protocol = rtm->rtm_protocol;
	r->r.scope = rtm->rtm_scope;
	r->r.type = rtm->rtm_type;
	r->flags = rtm->rtm_flags;
	if (tb[RTA_PRIORITY])
		r->r.metric = mnl_attr_get_u32(tb[RTA_PRIORITY]);
	if (tb[RTA_OIF])
		r->r.ifindex = (int)mnl_attr_get_u32(tb[RTA_OIF]);
	if (tb[RTA_GATEWAY] && !(r->r.has_gw = rt_attr_ip(tb[RTA_GATEWAY], family, &r->r.gw)))
		return -1;
	rt_parse_extras(tb, r);
	return 1;
}

struct nl_dump {
	int family;
	struct rt_route *out;
	int max;
	int n;
	bool intr;
};

static void nl_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nl_dump *d = data;

	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		d->intr = true;
	if (d->n == d->max) {
		log_debug("route: more than %d default routes; ignoring the rest", d->max);
		return;
	}
	if (rt_parse(nlh, d->family, &d->out[d->n]) > 0)
		d->n++;
}

static int nl_dump(int family, struct rt_route *out, int max)
{
	char buf[MNL_SOCKET_BUFFER_SIZE] __attribute__((aligned(8)));
	struct nl_dump d = { .family = family, .out = out, .max = max };
	int err = 0, tries = 0;

	do {
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
		struct rtmsg *rtm;

		nlh->nlmsg_type = RTM_GETROUTE;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
		rtm->rtm_family = (unsigned char)family;
		rtm->rtm_table = RT_TABLE_MAIN;
		d.n = 0;
		d.intr = false;
		err = nl_talk(nlh, nl_dump_cb, &d);
	} while (!err && d.intr && ++tries < RT_DUMP_TRIES);
	return err ? err : d.n;
}

static void nl_put_route(struct nlmsghdr *nlh, bool add, const struct rt_route *r, uint32_t metric)
{
	size_t alen = r->r.family == AF_INET ? sizeof(struct in_addr) : sizeof(struct in6_addr);
	struct rtmsg *rtm;

	nlh->nlmsg_type = add ? RTM_NEWROUTE : RTM_DELROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_EXCL : 0);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (unsigned char)r->r.family;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = r->r.protocol;
	rtm->rtm_scope = r->r.scope;
	rtm->rtm_type = RTN_UNICAST;
	/* LINKDOWN and DEAD describe the link and the kernel refuses them on
	 * input: a route whose link has no carrier must still move. */
	rtm->rtm_flags = r->flags & RTNH_F_ONLINK;
	mnl_attr_put_u32(nlh, RTA_TABLE, RT_TABLE_MAIN);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)r->r.ifindex);
	mnl_attr_put_u32(nlh, RTA_PRIORITY, metric);
	if (r->r.has_gw)
		mnl_attr_put(nlh, RTA_GATEWAY, alen, &r->r.gw);
	if (!add)
		return;		/* device, gateway, metric and protocol say which */
	if (r->has_prefsrc)
		mnl_attr_put(nlh, RTA_PREFSRC, alen, &r->prefsrc);
	if (r->has_pref)
		mnl_attr_put_u8(nlh, RTA_PREF, r->pref);
	if (r->metrics_len)
		mnl_attr_put(nlh, RTA_METRICS, r->metrics_len, r->metrics);
}

static int nl_change(bool add, const struct rt_route *r, uint32_t metric)
{
	char buf[512] __attribute__((aligned(8)));
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nl_put_route(nlh, add, r, metric);
	return nl_talk(nlh, NULL, NULL);
}

static const struct rt_os rt_os_linux = {
	.open = nl_open,
	.close = nl_close,
	.ifindex = nl_ifindex,
	.dump = nl_dump,
	.change = nl_change,
};
