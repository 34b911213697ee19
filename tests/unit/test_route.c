/* The route controller: the move planner as a pure function (every ordering,
 * random rankings with a printed seed), apply/fini against a fake kernel that
 * behaves like Linux (EXCL adds, exact deletes), and the netlink encoding.
 * Includes route.c (and none.c) to reach their static parts. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../src/control/route.c"
#include "../../src/control/none.c"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define BASE	10u
#define TEMP	(BASE + RT_TEMP_OFFSET)

static unsigned seed;

/* ---- log capture ---- */

static char logged[16384];
static int nwarn, nerr;

static void hook(enum log_level level, const char *msg)
{
	size_t len = strlen(logged);

	snprintf(logged + len, sizeof(logged) - len, "%s\n", msg);
	if (level == LOG_LVL_WARN)
		nwarn++;
	if (level == LOG_LVL_ERROR)
		nerr++;
}

/* ---- a fake kernel: default routes of both families ---- */

#define FK_MAX	128

static struct rt_route fk[FK_MAX];
static int nfk;
static int nchanges;		/* change requests since the last reset */
static int fail_at;		/* this change request fails with fail_err */
static int fail_err;
static void (*before_change)(int nth);
static bool had_route[2][256];	/* [v6][ifindex]: must keep one at all times */

static int fk_open(void)
{
	return 0;
}

static void fk_close(void)
{
}

/* ethN is ifindex N + 2, wanN (never a member) 100 + N. */
static int fk_ifindex(const char *dev)
{
	int n;

	if (sscanf(dev, "eth%d", &n) == 1 && n >= 0 && n < 64)
		return n + 2;
	if (sscanf(dev, "wan%d", &n) == 1 && n >= 0 && n < 64)
		return n + 100;
	return 0;
}

static int fk_dump(int family, struct rt_route *out, int max)
{
	int n = 0;

	for (int i = 0; i < nfk && n < max; i++) {
		if (fk[i].r.family != family)
			continue;
		out[n] = fk[i];
		out[n].dev[0] = '\0';
		n++;
	}
	return n;
}

static void check_every_member_has_a_route(void)
{
	for (int v6 = 0; v6 < 2; v6++) {
		for (int ifindex = 0; ifindex < 256; ifindex++) {
			bool found = false;

			if (!had_route[v6][ifindex])
				continue;
			for (int i = 0; i < nfk; i++)
				found |= fk[i].r.ifindex == ifindex && (fk[i].r.family == AF_INET6) == v6;
			if (!found)
				fail_msg("ifindex %d lost its %s default route (seed %u)", ifindex,
					 v6 ? "IPv6" : "IPv4", seed);
		}
	}
}

static int fk_find(int family, int ifindex, uint32_t metric, const struct rt_route *gw)
{
	for (int i = 0; i < nfk; i++)
		if (fk[i].r.family == family && fk[i].r.ifindex == ifindex && fk[i].r.metric == metric &&
		    rt_same_gw(&fk[i], gw))
			return i;
	return -1;
}

/* Linux: NLM_F_EXCL refuses any route at the same metric; a delete needs
 * device, gateway and metric to match. */
static int fk_change(bool add, const struct rt_route *r, uint32_t metric)
{
	int i;

	nchanges++;
	if (before_change)
		before_change(nchanges);
	if (nchanges == fail_at)
		return fail_err;
	assert_true(r->r.ifindex < 100);	/* never a non-member's route */
	if (add) {
		for (i = 0; i < nfk; i++)
			if (fk[i].r.family == r->r.family && fk[i].r.metric == metric)
				return -EEXIST;
		assert_true(nfk < FK_MAX);
		fk[nfk] = *r;
		fk[nfk].r.metric = metric;
		fk[nfk].dev[0] = '\0';
		nfk++;
	} else {
		i = fk_find(r->r.family, r->r.ifindex, metric, r);
		if (i < 0)
			return -ESRCH;
		memmove(&fk[i], &fk[i + 1], (size_t)(nfk - i - 1) * sizeof(fk[0]));
		nfk--;
	}
	check_every_member_has_a_route();
	return 0;
}

static const struct rt_os fk_os = {
	.open = fk_open,
	.close = fk_close,
	.ifindex = fk_ifindex,
	.dump = fk_dump,
	.change = fk_change,
};

static void fk_add(int family, const char *dev, const char *gw, uint32_t metric)
{
	struct rt_route *r = &fk[nfk++];

	memset(r, 0, sizeof(*r));
	r->r.family = family;
	r->r.ifindex = fk_ifindex(dev);
	r->r.metric = metric;
	r->r.protocol = RTPROT_DHCP;
	r->r.type = RTN_UNICAST;
	if (gw) {
		r->r.has_gw = true;
		assert_int_equal(inet_pton(family, gw, &r->r.gw), 1);
	}
	if (r->r.ifindex < 100)
		had_route[family == AF_INET6][r->r.ifindex] = true;
}

/* The metrics of dev's default routes in family, lowest first; the count. */
static int fk_metrics(int family, const char *dev, uint32_t *out)
{
	int n = 0, ifindex = fk_ifindex(dev);

	for (int i = 0; i < nfk; i++) {
		if (fk[i].r.family != family || fk[i].r.ifindex != ifindex)
			continue;
		int j = n++;

		while (j > 0 && out[j - 1] > fk[i].r.metric) {
			out[j] = out[j - 1];
			j--;
		}
		out[j] = fk[i].r.metric;
	}
	return n;
}

/* The one metric of dev's default route. */
static uint32_t fk_metric(int family, const char *dev)
{
	uint32_t m[FK_MAX];

	assert_int_equal(fk_metrics(family, dev, m), 1);
	return m[0];
}

static int setup(void **state)
{
	(void)state;
	logged[0] = '\0';
	nwarn = nerr = 0;
	log_set_hook(hook);
	log_set_level(LOG_LVL_DEBUG);
	nfk = nchanges = 0;
	fail_at = -1;
	before_change = NULL;
	memset(had_route, 0, sizeof(had_route));
	memset(&rt, 0, sizeof(rt));
	rt_os = &fk_os;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ctl_route_ops.fini();
	rt_os = &rt_os_linux;
	log_set_hook(NULL);
	return 0;
}

/* ---- the planner, pure ---- */

static struct rt_item items[RT_MAX_ITEMS];
static struct rt_op ops[RT_MAX_OPS];

static struct rt_plan make_plan(const uint32_t *cur, const uint32_t *target, int n,
				const uint32_t *taken, int ntaken)
{
	for (int k = 0; k < n; k++)
		items[k] = (struct rt_item){ .route = k, .rank = k, .cur = cur[k], .target = target[k] };
	return (struct rt_plan){ .items = items, .nitems = n, .taken = taken, .ntaken = ntaken,
				 .temp_base = TEMP, .ops = ops, .max_ops = RT_MAX_OPS };
}

/* Which metrics each item's route holds while the plan runs. */
struct sim {
	uint32_t held[RT_MAX_ITEMS][2];
	int nheld[RT_MAX_ITEMS];
	int owner[RT_MAX_OPS];	/* after each op, the item with the lowest metric */
};

static bool sim_holds(const struct sim *s, int n, uint32_t metric)
{
	for (int i = 0; i < n; i++)
		for (int j = 0; j < s->nheld[i]; j++)
			if (s->held[i][j] == metric)
				return true;
	return false;
}

static int sim_owner(const struct sim *s, int n)
{
	int owner = -1;
	uint32_t best = UINT32_MAX;

	for (int i = 0; i < n; i++)
		for (int j = 0; j < s->nheld[i]; j++)
			if (s->held[i][j] < best) {
				best = s->held[i][j];
				owner = i;
			}
	return owner;
}

/* Runs the plan on a model, failing on any add to a metric in use (the
 * kernel would say EEXIST), any delete of something not there, and any
 * moment where a route is missing. Leaves the end state in s. */
static void simulate(const struct rt_plan *p, const uint32_t *cur, const uint32_t *taken, int ntaken,
		     struct sim *s)
{
	int n = p->nitems;

	memset(s, 0, sizeof(*s));
	for (int i = 0; i < n; i++) {
		s->held[i][0] = cur[i];
		s->nheld[i] = 1;
	}
	for (int k = 0; k < p->nops; k++) {
		const struct rt_op *op = &p->ops[k];
		int i = op->route;

		if (op->kind == RT_ADD) {
			if (sim_holds(s, n, op->metric))
				fail_msg("op %d adds at metric %u, which is in use (seed %u)", k, op->metric, seed);
			for (int t = 0; t < ntaken; t++)
				if (taken[t] == op->metric)
					fail_msg("op %d adds at taken metric %u (seed %u)", k, op->metric, seed);
			assert_true(s->nheld[i] < 2);
			s->held[i][s->nheld[i]++] = op->metric;
		} else {
			int j;

			assert_int_equal(op->kind, RT_DEL);
			for (j = 0; j < s->nheld[i] && s->held[i][j] != op->metric; j++)
				;
			if (j == s->nheld[i])
				fail_msg("op %d deletes metric %u, which item %d does not hold (seed %u)",
					 k, op->metric, i, seed);
			s->held[i][j] = s->held[i][--s->nheld[i]];
			if (!s->nheld[i])
				fail_msg("op %d leaves item %d without a route (seed %u)", k, i, seed);
		}
		s->owner[k] = sim_owner(s, n);
	}
}

static void assert_reached(const struct rt_plan *p, const struct sim *s, const uint32_t *target)
{
	for (int i = 0; i < p->nitems; i++) {
		if (s->nheld[i] != 1 || s->held[i][0] != target[i])
			fail_msg("item %d ends at %u, wanted %u (seed %u)", i, s->held[i][0], target[i], seed);
		assert_int_equal(p->items[i].cur, target[i]);
	}
}

static void test_plan_nothing_to_do(void **state)
{
	uint32_t cur[] = { 10, 11, 12 }, target[] = { 10, 11, 12 };
	struct rt_plan p = make_plan(cur, target, 3, NULL, 0);

	(void)state;
	assert_int_equal(plan_moves(&p), 0);
	assert_int_equal(p.nops, 0);
}

static void test_plan_best_first(void **state)
{
	/* b (now 200) becomes best, a (now 100) second: both targets free. */
	uint32_t cur[] = { 200, 100 }, target[] = { 10, 11 };
	struct rt_plan p = make_plan(cur, target, 2, NULL, 0);
	struct sim s;

	(void)state;
	assert_int_equal(plan_moves(&p), 0);
	assert_int_equal(p.nops, 4);
	assert_int_equal(p.ops[0].kind, RT_ADD);
	assert_int_equal(p.ops[0].route, 0);
	assert_int_equal(p.ops[0].metric, 10);
	assert_int_equal(p.ops[0].from, 200);
	assert_int_equal(p.ops[1].kind, RT_DEL);
	assert_int_equal(p.ops[1].metric, 200);
	simulate(&p, cur, NULL, 0, &s);
	assert_int_equal(s.owner[0], 0);	/* traffic moves with the very first op */
	assert_reached(&p, &s, target);
}

static void test_plan_swap(void **state)
{
	/* Ranking [b, a]; a holds 10, b holds 11. a steps aside to
	 * base + 1000 + its rank, b takes 10, a takes 11. */
	uint32_t cur[] = { 11, 10 }, target[] = { 10, 11 };
	struct rt_plan p = make_plan(cur, target, 2, NULL, 0);
	const struct rt_op want[] = {
		{ RT_ADD, 1, TEMP + 1, 10 }, { RT_DEL, 1, 10, 0 },
		{ RT_ADD, 0, 10, 11 }, { RT_DEL, 0, 11, 0 },
		{ RT_ADD, 1, 11, TEMP + 1 }, { RT_DEL, 1, TEMP + 1, 0 },
	};
	struct sim s;

	(void)state;
	assert_int_equal(plan_moves(&p), 0);
	assert_int_equal(p.nops, ARRAY_SIZE(want));
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		assert_int_equal(p.ops[i].kind, want[i].kind);
		assert_int_equal(p.ops[i].route, want[i].route);
		assert_int_equal(p.ops[i].metric, want[i].metric);
		if (want[i].kind == RT_ADD)
			assert_int_equal(p.ops[i].from, want[i].from);
	}
	simulate(&p, cur, NULL, 0, &s);
	/* b carries the traffic from the second op on. */
	assert_int_equal(s.owner[1], 0);
	assert_reached(&p, &s, target);
}

static void test_plan_new_best_shifts_the_rest(void **state)
{
	/* [d, a, b, c] where a, b, c hold 10, 11, 12 and d comes from 100:
	 * the others step down first, and only a (the old best) or d ever
	 * carries the traffic meanwhile. */
	uint32_t cur[] = { 100, 10, 11, 12 }, target[] = { 10, 11, 12, 13 };
	struct rt_plan p = make_plan(cur, target, 4, NULL, 0);
	struct sim s;

	(void)state;
	assert_int_equal(plan_moves(&p), 0);
	assert_int_equal(p.nops, 8);
	simulate(&p, cur, NULL, 0, &s);
	for (int k = 0; k < p.nops; k++)
		assert_true(s.owner[k] == 0 || s.owner[k] == 1);
	assert_int_equal(s.owner[p.nops - 1], 0);
	assert_reached(&p, &s, target);
}

static void test_plan_reversals(void **state)
{
	uint32_t cur[16], target[16];
	struct sim s;

	(void)state;
	for (int n = 1; n <= 16; n++) {
		struct rt_plan p;

		for (int i = 0; i < n; i++) {
			target[i] = BASE + (uint32_t)i;
			cur[i] = BASE + (uint32_t)(n - 1 - i);
		}
		p = make_plan(cur, target, n, NULL, 0);
		assert_int_equal(plan_moves(&p), 0);
		assert_true(p.nops <= 4 * n);
		simulate(&p, cur, NULL, 0, &s);
		assert_reached(&p, &s, target);
	}
}

static void test_plan_temp_metric_collisions(void **state)
{
	/* Someone else's routes sit on the temporary metrics we would use. */
	uint32_t cur[] = { 11, 10 }, target[] = { 10, 11 };
	uint32_t taken[] = { TEMP, TEMP + 1, TEMP + 2, 5 };
	struct rt_plan p = make_plan(cur, target, 2, taken, 4);
	struct sim s;

	(void)state;
	assert_int_equal(plan_moves(&p), 0);
	assert_int_equal(p.ops[0].metric, TEMP + 3);
	simulate(&p, cur, taken, 4, &s);
	assert_reached(&p, &s, target);
}

static void test_plan_blocked_by_other_route(void **state)
{
	/* A non-member route holds 11: the member ranked second stays put, the
	 * others still get theirs. */
	uint32_t cur[] = { 200, 100, 300 }, target[] = { 10, 11, 12 };
	uint32_t taken[] = { 11 };
	struct rt_plan p = make_plan(cur, target, 3, taken, 1);
	struct sim s;

	(void)state;
	assert_int_equal(plan_moves(&p), 0);
	simulate(&p, cur, taken, 1, &s);
	assert_true(p.items[1].blocked);
	assert_int_equal(p.items[1].cur, 100);
	assert_int_equal(p.items[0].cur, 10);
	assert_int_equal(p.items[2].cur, 12);
}

static void test_plan_same_target_twice(void **state)
{
	/* fini: two routes that both came from metric 0. The second stays. */
	uint32_t cur[] = { 10, 11 }, target[] = { 0, 0 };
	struct rt_plan p = make_plan(cur, target, 2, NULL, 0);
	struct sim s;

	(void)state;
	assert_int_equal(plan_moves(&p), 0);
	simulate(&p, cur, NULL, 0, &s);
	assert_int_equal(p.items[0].cur, 0);
	assert_int_equal(p.items[1].cur, 11);
	assert_true(p.items[1].blocked);
}

static void shuffle(uint32_t *a, int n)
{
	for (int i = n - 1; i > 0; i--) {
		int j = rand() % (i + 1);
		uint32_t t = a[i];

		a[i] = a[j];
		a[j] = t;
	}
}

static bool in(const uint32_t *a, int n, uint32_t v)
{
	for (int i = 0; i < n; i++)
		if (a[i] == v)
			return true;
	return false;
}

/* Random start metrics (managed, temporary, or anywhere), random rankings,
 * other routes on random metrics including the temporary ones. */
static void test_plan_random(void **state)
{
	uint32_t cur[16], target[16], taken[8], pool[64];
	struct sim s;

	(void)state;
	for (int trial = 0; trial < 20000; trial++) {
		int n = 1 + rand() % 16, ntaken = rand() % 5, npool = 0;
		struct rt_plan p;

		/* Distinct start metrics for members and others alike. */
		for (uint32_t m = 0; m < 16; m++)
			pool[npool++] = BASE + m;
		for (uint32_t m = 0; m < 16; m++)
			pool[npool++] = TEMP + m;
		for (uint32_t m = 0; m < 32; m++)
			pool[npool++] = 100 + m * 7;
		shuffle(pool, npool);
		for (int i = 0; i < n; i++) {
			cur[i] = pool[i];
			target[i] = BASE + (uint32_t)i;
		}
		for (int t = 0, k = n; t < ntaken && k < npool; k++)
			if (!in(target, n, pool[k]))
				taken[t++] = pool[k];
		p = make_plan(cur, target, n, taken, ntaken);
		assert_int_equal(plan_moves(&p), 0);
		if (p.nops > 4 * n)
			fail_msg("%d ops for %d members (seed %u)", p.nops, n, seed);
		simulate(&p, cur, taken, ntaken, &s);
		assert_reached(&p, &s, target);
	}
}

static void test_plan_overflow(void **state)
{
	uint32_t cur[] = { 11, 10 }, target[] = { 10, 11 };
	struct rt_plan p = make_plan(cur, target, 2, NULL, 0);

	(void)state;
	p.max_ops = 3;
	assert_int_equal(plan_moves(&p), -ENOSPC);
	assert_true(p.nops <= 3);
}

/* ---- apply and fini against the fake kernel ---- */

static const struct ctl_member members[] = {
	{ .name = "fiber", .device = "eth1" }, { .name = "starlink", .device = "eth2" },
	{ .name = "lte", .device = "eth3" },
};

static void three_members(void)
{
	fk_add(AF_INET, "eth1", "10.0.1.1", 100);
	fk_add(AF_INET, "eth2", "10.0.2.1", 200);
	fk_add(AF_INET, "eth3", "10.0.3.1", 300);
	fk_add(AF_INET6, "eth1", "fe80::1", 1024);
	fk_add(AF_INET6, "eth2", "fe80::2", 1025);
}

static void test_apply_and_fini(void **state)
{
	struct ctl_member ranking[] = { members[1], members[0], members[2] };

	(void)state;
	three_members();
	assert_int_equal(ctl_route_ops.init(BASE), 0);
	assert_int_equal(ctl_route_ops.apply(ranking, 3), 0);
	assert_int_equal(fk_metric(AF_INET, "eth2"), 10);
	assert_int_equal(fk_metric(AF_INET, "eth1"), 11);
	assert_int_equal(fk_metric(AF_INET, "eth3"), 12);
	assert_int_equal(fk_metric(AF_INET6, "eth2"), 10);
	assert_int_equal(fk_metric(AF_INET6, "eth1"), 11);
	assert_non_null(strstr(logged, "route: eth2 default metric 200 -> 10\n"));
	assert_non_null(strstr(logged, "route: eth2 IPv6 default metric 1025 -> 10\n"));
	assert_non_null(strstr(logged, "route: eth3 has no IPv6 default route; skipped"));
	assert_int_equal(nerr + nwarn, 0);

	/* The same ranking again: nothing is sent. */
	nchanges = 0;
	assert_int_equal(ctl_route_ops.apply(ranking, 3), 0);
	assert_int_equal(nchanges, 0);

	/* A full reversal, then back to the kernel's own metrics. */
	ranking[0] = members[2];
	ranking[2] = members[1];
	assert_int_equal(ctl_route_ops.apply(ranking, 3), 0);
	assert_int_equal(fk_metric(AF_INET, "eth3"), 10);
	assert_int_equal(fk_metric(AF_INET, "eth1"), 11);
	assert_int_equal(fk_metric(AF_INET, "eth2"), 12);
	ctl_route_ops.fini();
	assert_int_equal(fk_metric(AF_INET, "eth1"), 100);
	assert_int_equal(fk_metric(AF_INET, "eth2"), 200);
	assert_int_equal(fk_metric(AF_INET, "eth3"), 300);
	assert_int_equal(fk_metric(AF_INET6, "eth1"), 1024);
	assert_int_equal(fk_metric(AF_INET6, "eth2"), 1025);
	/* fini again (teardown) does nothing. */
	nchanges = 0;
	ctl_route_ops.fini();
	assert_int_equal(nchanges, 0);
}

static void test_apply_skips_and_leaves_others_alone(void **state)
{
	struct ctl_member ranking[] = {
		{ .name = "gone", .device = "eth9" },		/* no route */
		{ .name = "nodev", .device = "nosuchdev" },	/* no device */
		{ .name = "fiber", .device = "eth1" },
		{ .name = "null", .device = NULL },
		members[1],
	};

	(void)state;
	three_members();
	/* A route that is not a member's holds what eth1 would get (12). */
	fk_add(AF_INET, "wan1", "192.0.2.1", 12);
	assert_int_equal(ctl_route_ops.init(BASE), 0);
	assert_int_equal(ctl_route_ops.apply(ranking, 5), 0);
	assert_int_equal(fk_metric(AF_INET, "eth1"), 100);
	assert_int_equal(fk_metric(AF_INET, "eth2"), 14);
	assert_int_equal(fk_metric(AF_INET, "eth3"), 300);	/* not ranked: not touched */
	assert_int_equal(fk_metric(AF_INET, "wan1"), 12);
	assert_non_null(strstr(logged, "route: cannot give eth1 default metric 12: "
				       "default via 192.0.2.1 dev if101 metric 12 is in the way"));
	assert_non_null(strstr(logged, "route: eth9 has no default route; skipped"));
	assert_non_null(strstr(logged, "device nosuchdev not found"));
	/* Said once: the engine applies again on every route change. */
	assert_int_equal(nwarn, 1);
	assert_int_equal(ctl_route_ops.apply(ranking, 5), 0);
	assert_int_equal(nwarn, 1);
	/* Once wan1 moves away, eth1 gets its metric. */
	for (int i = 0; i < nfk; i++)
		if (fk[i].r.ifindex == fk_ifindex("wan1"))
			fk[i].r.metric = 99;
	assert_int_equal(ctl_route_ops.apply(ranking, 5), 0);
	assert_int_equal(fk_metric(AF_INET, "eth1"), 12);
	assert_int_equal(fk_metric(AF_INET, "wan1"), 99);
	assert_int_equal(nwarn, 1);
}

static void test_apply_deletes_dhcp_duplicate(void **state)
{
	struct ctl_member ranking[] = { members[1], members[0] };
	uint32_t m[4];

	(void)state;
	three_members();
	assert_int_equal(ctl_route_ops.init(BASE), 0);
	assert_int_equal(ctl_route_ops.apply(ranking, 2), 0);
	assert_int_equal(fk_metric(AF_INET, "eth1"), 11);

	/* eth1's DHCP client renews and puts its route back, now at 150. */
	fk_add(AF_INET, "eth1", "10.0.1.1", 150);
	/* A route with another gateway through eth1 is not a duplicate. */
	fk_add(AF_INET, "eth1", "10.0.1.254", 400);
	assert_int_equal(ctl_route_ops.apply(ranking, 2), 0);
	assert_int_equal(fk_metrics(AF_INET, "eth1", m), 2);
	assert_int_equal(m[0], 11);
	assert_int_equal(m[1], 400);
	assert_non_null(strstr(logged, "route: deleted default via 10.0.1.1 dev eth1 metric 150, "
				       "a duplicate of the one at metric 11"));

	/* The metric to restore is the DHCP client's latest. */
	ctl_route_ops.fini();
	assert_int_equal(fk_metrics(AF_INET, "eth1", m), 2);
	assert_int_equal(m[0], 150);
	assert_int_equal(fk_metric(AF_INET, "eth2"), 200);
}

static void test_fini_when_original_is_back_or_taken(void **state)
{
	struct ctl_member ranking[] = { members[1], members[0], members[2] };
	uint32_t m[4];

	(void)state;
	three_members();
	assert_int_equal(ctl_route_ops.init(BASE), 0);
	assert_int_equal(ctl_route_ops.apply(ranking, 3), 0);
	/* eth1's original came back by itself; wan1 sits on eth3's. */
	fk_add(AF_INET, "eth1", "10.0.1.1", 100);
	fk_add(AF_INET, "wan1", "192.0.2.1", 300);
	ctl_route_ops.fini();
	assert_int_equal(fk_metrics(AF_INET, "eth1", m), 1);
	assert_int_equal(m[0], 100);
	assert_int_equal(fk_metric(AF_INET, "eth2"), 200);
	assert_int_equal(fk_metric(AF_INET, "eth3"), 12);
	assert_non_null(strstr(logged, "route: cannot restore eth3 default metric 300"));
}

/* Another program adds a route at the metric we are about to use. */
static void race(int nth)
{
	if (nth == 1)
		fk_add(AF_INET, "wan2", "192.0.2.2", BASE);
}

static void test_apply_add_refused(void **state)
{
	struct ctl_member ranking[] = { members[1], members[0] };

	(void)state;
	three_members();
	assert_int_equal(ctl_route_ops.init(BASE), 0);
	before_change = race;
	assert_int_equal(ctl_route_ops.apply(ranking, 2), -EEXIST);
	/* The old route is still there: nothing was deleted after the refusal. */
	assert_int_equal(fk_metric(AF_INET, "eth2"), 200);
	assert_int_equal(fk_metric(AF_INET, "eth1"), 100);
	assert_non_null(strstr(logged, "route: cannot add default via 10.0.2.1 dev eth2 metric 10: File exists"));
	/* IPv6 is a separate table and went ahead. */
	assert_int_equal(fk_metric(AF_INET6, "eth2"), 10);
	assert_int_equal(fk_metric(AF_INET6, "eth1"), 11);
}

/* eth2's DHCP client adds the very route we are about to add. */
static void race_same(int nth)
{
	if (nth == 1)
		fk_add(AF_INET, "eth2", "10.0.2.1", BASE);
}

static void test_apply_eexist_for_our_own_route(void **state)
{
	struct ctl_member ranking[] = { members[1], members[0] };

	(void)state;
	three_members();
	/* EEXIST, but the route at 10 is exactly eth2's: carry on. */
	before_change = race_same;
	assert_int_equal(ctl_route_ops.init(BASE), 0);
	assert_int_equal(ctl_route_ops.apply(ranking, 2), 0);
	assert_int_equal(fk_metric(AF_INET, "eth2"), 10);
	assert_int_equal(fk_metric(AF_INET, "eth1"), 11);
}

static void test_apply_delete_fails(void **state)
{
	struct ctl_member ranking[] = { members[1], members[0] };
	uint32_t m[4];

	(void)state;
	three_members();
	assert_int_equal(ctl_route_ops.init(BASE), 0);
	fail_at = 2;		/* the delete of eth2 at 200 */
	fail_err = -EPERM;
	assert_int_equal(ctl_route_ops.apply(ranking, 2), -EPERM);
	assert_non_null(strstr(logged, "route: cannot delete default via 10.0.2.1 dev eth2 metric 200: "
				       "Operation not permitted"));
	/* The next apply finishes the job and removes the leftover. */
	fail_at = -1;
	assert_int_equal(ctl_route_ops.apply(ranking, 2), 0);
	assert_int_equal(fk_metrics(AF_INET, "eth2", m), 1);
	assert_int_equal(m[0], 10);
	assert_int_equal(fk_metric(AF_INET, "eth1"), 11);
	ctl_route_ops.fini();
	assert_int_equal(fk_metric(AF_INET, "eth2"), 200);
}

static void test_apply_multipath_and_base_zero(void **state)
{
	struct ctl_member ranking[] = { members[0], members[1] };

	(void)state;
	three_members();
	/* eth2's IPv4 route is multipath: it cannot be copied, it stays. */
	fk[1].foreign = true;
	assert_int_equal(ctl_route_ops.init(0), 0);
	assert_int_equal(ctl_route_ops.apply(ranking, 2), 0);
	assert_int_equal(fk_metric(AF_INET, "eth1"), 0);
	assert_int_equal(fk_metric(AF_INET, "eth2"), 200);
	/* IPv6 has no metric 0: its base is 1. */
	assert_int_equal(fk_metric(AF_INET6, "eth1"), 1);
	assert_int_equal(fk_metric(AF_INET6, "eth2"), 2);
}

static void test_init_and_limits(void **state)
{
	struct ctl_member many[40];
	char names[40][IF_NAMESIZE];

	(void)state;
	assert_int_equal(ctl_route_ops.apply(members, 1), -EINVAL);
	assert_int_equal(ctl_route_ops.init(UINT32_MAX - 10), -ERANGE);
	assert_int_equal(ctl_route_ops.init(BASE), 0);
	for (int i = 0; i < 40; i++) {
		snprintf(names[i], sizeof(names[i]), "eth%d", i);
		many[i] = (struct ctl_member){ .name = names[i], .device = names[i] };
		fk_add(AF_INET, names[i], "10.9.9.9", 500 + (uint32_t)i);
	}
	assert_int_equal(ctl_route_ops.apply(many, 40), 0);
	assert_int_equal(ctl_route_ops.apply(many, 40), 0);
	assert_int_equal(nwarn, 1);
	assert_int_equal(fk_metric(AF_INET, "eth31"), BASE + 31);
	assert_int_equal(fk_metric(AF_INET, "eth32"), 532);
	assert_string_equal(ctl_route_ops.name, "route");
}

/* Many members, random rankings one after another, random subsets, then
 * fini: every end state exact, no member ever without its route, and the
 * original metrics back at the end. */
static void test_apply_random_rankings(void **state)
{
	char names[16][IF_NAMESIZE];
	uint32_t orig[16];

	(void)state;
	for (int round = 0; round < 200; round++) {
		int n = 1 + rand() % 16;
		struct ctl_member m[16];

		setup(NULL);
		for (int i = 0; i < n; i++) {
			snprintf(names[i], sizeof(names[i]), "eth%d", i);
			m[i] = (struct ctl_member){ .name = names[i], .device = names[i] };
			orig[i] = rand() % 3 ? 100 + (uint32_t)i * 10 : BASE + (uint32_t)((i + round) % n);
			fk_add(AF_INET, names[i], "10.0.0.1", orig[i]);
		}
		assert_int_equal(ctl_route_ops.init(BASE), 0);
		/* The engine ranks every member; a member left out would be
		 * someone else's route, which is never moved. */
		for (int step = 0; step < 6; step++) {
			int k = n;

			for (int i = n - 1; i > 0; i--) {
				int j = rand() % (i + 1);
				struct ctl_member t = m[i];

				m[i] = m[j];
				m[j] = t;
			}
			assert_int_equal(ctl_route_ops.apply(m, k), 0);
			for (int i = 0; i < k; i++)
				if (fk_metric(AF_INET, m[i].device) != BASE + (uint32_t)i)
					fail_msg("%s not at %u (seed %u)", m[i].device, BASE + i, seed);
			nchanges = 0;
			assert_int_equal(ctl_route_ops.apply(m, k), 0);
			assert_int_equal(nchanges, 0);
		}
		ctl_route_ops.fini();
		for (int i = 0; i < n; i++)
			if (fk_metric(AF_INET, names[i]) != orig[i])
				fail_msg("%s restored to %u, not %u (seed %u)", names[i],
					 fk_metric(AF_INET, names[i]), orig[i], seed);
		assert_int_equal(nerr, 0);
	}
}

/* ---- netlink encoding ---- */

static char nlbuf[1024] __attribute__((aligned(8)));

static void test_route_message_roundtrip(void **state)
{
	struct rt_route r = { 0 }, back;
	struct nlmsghdr *nlh;
	const struct rtmsg *rtm;
	struct {
		struct nlattr a;
		uint32_t v;
	} mtu = { { 8, RTAX_MTU }, 1400 };

	(void)state;
	r.r.family = AF_INET;
	r.r.ifindex = 3;
	r.r.has_gw = true;
	inet_pton(AF_INET, "10.0.1.1", &r.r.gw);
	r.r.protocol = RTPROT_DHCP;
	r.r.scope = RT_SCOPE_UNIVERSE;
	r.flags = RTNH_F_LINKDOWN | RTNH_F_ONLINK | RTNH_F_DEAD;
	r.has_prefsrc = true;
	inet_pton(AF_INET, "10.0.1.2", &r.prefsrc);
	memcpy(r.metrics, &mtu, sizeof(mtu));
	r.metrics_len = sizeof(mtu);

	nlh = mnl_nlmsg_put_header(nlbuf);
	nl_put_route(nlh, true, &r, 10);
	assert_int_equal(nlh->nlmsg_type, RTM_NEWROUTE);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
	rtm = mnl_nlmsg_get_payload(nlh);
	/* The kernel refuses LINKDOWN/DEAD on input: only ONLINK is kept. */
	assert_int_equal(rtm->rtm_flags, RTNH_F_ONLINK);
	assert_int_equal(rt_parse(nlh, AF_INET, &back), 1);
	assert_int_equal(back.r.metric, 10);
	assert_int_equal(back.r.ifindex, 3);
	assert_int_equal(back.r.protocol, RTPROT_DHCP);
	assert_true(rt_same_gw(&back, &r));
	assert_true(back.has_prefsrc);
	assert_int_equal(back.metrics_len, sizeof(mtu));
	assert_memory_equal(back.metrics, &mtu, sizeof(mtu));
	assert_false(back.foreign);

	/* A delete names the route only. */
	nlh = mnl_nlmsg_put_header(nlbuf);
	nl_put_route(nlh, false, &r, 100);
	assert_int_equal(nlh->nlmsg_type, RTM_DELROUTE);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
	assert_int_equal(rt_parse(nlh, AF_INET, &back), 0);	/* not a NEWROUTE */
	((struct nlmsghdr *)nlh)->nlmsg_type = RTM_NEWROUTE;
	assert_int_equal(rt_parse(nlh, AF_INET, &back), 1);
	assert_false(back.has_prefsrc);
	assert_int_equal(back.metrics_len, 0);
	assert_int_equal(back.r.metric, 100);
}

static void test_route_parse_other_routes(void **state)
{
	struct rt_route r = { 0 }, back;
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	(void)state;
	r.r.family = AF_INET6;
	r.r.ifindex = 4;
	r.r.has_gw = true;
	inet_pton(AF_INET6, "fe80::1", &r.r.gw);
	r.has_pref = true;
	r.pref = 1;

	nlh = mnl_nlmsg_put_header(nlbuf);
	nl_put_route(nlh, true, &r, 1024);
	assert_int_equal(rt_parse(nlh, AF_INET, &back), 0);	/* other family */
	assert_int_equal(rt_parse(nlh, AF_INET6, &back), 1);
	assert_true(back.has_pref);
	assert_int_equal(back.pref, 1);

	rtm = mnl_nlmsg_get_payload(nlh);
	rtm->rtm_dst_len = 64;
	assert_int_equal(rt_parse(nlh, AF_INET6, &back), 0);
	rtm->rtm_dst_len = 0;
	mnl_attr_put_u32(nlh, RTA_NH_ID, 7);
	assert_int_equal(rt_parse(nlh, AF_INET6, &back), 1);
	assert_true(back.foreign);

	/* A gateway of the wrong size is malformed. */
	r.r.family = AF_INET;
	nlh = mnl_nlmsg_put_header(nlbuf);
	nl_put_route(nlh, true, &r, 5);
	assert_int_equal(rt_parse(nlh, AF_INET, &back), 1);	/* 4 of the 16 bytes */
	nlh = mnl_nlmsg_put_header(nlbuf);
	nlh->nlmsg_type = RTM_NEWROUTE;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put(nlh, RTA_GATEWAY, 3, "abc");
	assert_int_equal(rt_parse(nlh, AF_INET, &back), -1);
}

static void test_error_replies(void **state)
{
	static char rx[512] __attribute__((aligned(8)));
	struct nlmsghdr *nlh;
	struct nlmsgerr *e;
	int len;

	(void)state;
	/* A capped error with the kernel's explanation. */
	nlh = mnl_nlmsg_put_header(rx);
	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_flags = NLM_F_CAPPED | NLM_F_ACK_TLVS;
	nlh->nlmsg_seq = 9;
	nlh->nlmsg_pid = 42;
	e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
	e->error = -EINVAL;
	e->msg.nlmsg_len = 60;
	mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, "Nexthop has invalid gateway");
	len = (int)nlh->nlmsg_len;
	rt_kmsg[0] = '\0';
	assert_int_equal(nl_replies(rx, len, 9, 42, NULL, NULL), -EINVAL);
	assert_string_equal(rt_kmsg, "Nexthop has invalid gateway");
	/* The same answer to an older request is skipped. */
	assert_int_equal(nl_replies(rx, len, 10, 42, NULL, NULL), 1);

	/* An ACK. */
	nlh = mnl_nlmsg_put_header(rx);
	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_seq = 11;
	nlh->nlmsg_pid = 42;
	e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
	e->error = 0;
	assert_int_equal(nl_replies(rx, (int)nlh->nlmsg_len, 11, 42, NULL, NULL), 0);
}

static void test_describe(void **state)
{
	struct rt_route r = { 0 };
	char buf[128];

	(void)state;
	r.r.family = AF_INET6;
	r.r.ifindex = 999;
	r.r.has_gw = true;
	inet_pton(AF_INET6, "fe80::1", &r.r.gw);
	assert_string_equal(rt_describe(&r, 1024, buf, sizeof(buf)), "default via fe80::1 dev if999 metric 1024");
	strcpy(r.dev, "ppp0");
	r.r.has_gw = false;
	assert_string_equal(rt_describe(&r, 5, buf, sizeof(buf)), "default dev ppp0 metric 5");
}

static void test_none_controller(void **state)
{
	(void)state;
	assert_string_equal(ctl_none_ops.name, "none");
	assert_int_equal(ctl_none_ops.init(BASE), 0);
	assert_int_equal(ctl_none_ops.apply(members, 3), 0);
	assert_int_equal(ctl_none_ops.apply(NULL, 0), 0);
	ctl_none_ops.fini();
	assert_non_null(strstr(logged, "none: would send default traffic through fiber (eth1)"));
	assert_int_equal(nfk, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_plan_nothing_to_do, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_best_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_swap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_new_best_shifts_the_rest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_reversals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_temp_metric_collisions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_blocked_by_other_route, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_same_target_twice, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_random, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_overflow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_and_fini, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_skips_and_leaves_others_alone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_deletes_dhcp_duplicate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fini_when_original_is_back_or_taken, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_add_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_eexist_for_our_own_route, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_delete_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_multipath_and_base_zero, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_and_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_random_rankings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_route_message_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_route_parse_other_routes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_replies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_describe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_none_controller, setup, teardown),
	};
	const char *env = getenv("TEST_SEED");

	seed = env ? (unsigned)strtoul(env, NULL, 10) : (unsigned)time(NULL);
	printf("route: seed %u (set TEST_SEED to repeat)\n", seed);
	srand(seed);
	return cmocka_run_group_tests_name("route", tests, NULL, NULL);
}
