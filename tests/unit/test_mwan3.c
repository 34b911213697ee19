/* Unit tests for member discovery from mwan3/network/wireless (src/config/mwan3.c)
 * over the realistic trees in tests/data/openwrt/, and for the mwan3 controller's
 * hotplug events (src/control/mwan3.c) with a spawner that records instead of
 * running /sbin/hotplug-call. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "config/mwan3.h"
#include "control/control.h"
#include "control/mwan3.h"

#include <ev.h>
#include <sys/wait.h>

#define DATA	"tests/data/openwrt"

static struct config *discover(const char *tree, int expect)
{
	static struct config c;
	char root[128];

	snprintf(root, sizeof(root), "%s/%s", DATA, tree);
	cfg_defaults(&c);
	assert_int_equal(mwan3_discover(root, &c), expect);
	assert_int_equal(c.nmembers, expect);
	return &c;
}

static void assert_member(const struct cfg_member *m, const char *name, const char *dev,
			  int class, int weight, int reliability, const char *targets)
{
	char got[CFG_MAX_TARGETS * CFG_ADDR_LEN] = "";

	assert_string_equal(m->name, name);
	assert_string_equal(m->device, dev);
	assert_string_equal(cfg_class_names[m->class], cfg_class_names[class]);
	assert_int_equal(m->weight, weight);
	assert_int_equal(m->reliability, reliability);
	assert_true(m->enabled);
	assert_int_equal(m->mark, 0);
	for (int i = 0; i < m->targets.n; i++) {
		strcat(got, i ? " " : "");
		strcat(got, m->targets.addr[i]);
	}
	assert_string_equal(got, targets);
}

/* Plain OpenWrt: wan + wanb enabled, wan6/wanb6 disabled; a host name target
 * is skipped; weight from the lowest metric of the members using the interface. */
static void test_openwrt(void **state)
{
	struct config *c = discover("openwrt", 2);

	(void)state;
	assert_member(&c->member[0], "wan", "eth1", MEM_CLASS_AUTO, 1000, 2,
		      "1.0.0.1 1.1.1.1 208.67.222.222 208.67.220.220");
	assert_member(&c->member[1], "wanb", "eth2", MEM_CLASS_AUTO, 1000, 1, "1.0.0.1 1.1.1.1");
	assert_true(mwan3_present(DATA "/openwrt"));
}

/* RutOS: tracking in anonymous condition sections, dual SIM on one modem (the
 * second SIM shares qmimux0 and is skipped), a modem without a netdev skipped. */
static void test_rutos(void **state)
{
	struct config *c = discover("rutos", 2);

	(void)state;
	assert_member(&c->member[0], "wan", "eth1", MEM_CLASS_AUTO, 1000, 1, "1.1.1.1 8.8.8.8");
	assert_member(&c->member[1], "mob1s1a1", "qmimux0", MEM_CLASS_CELLULAR, 999, 2,
		      "1.1.1.1 8.8.4.4 9.9.9.9");
}

/* Starlink + LTE (qmi with its dhcp sub-interface) + Wi-Fi client + PPPoE. */
static void test_starlink_lte_wifi(void **state)
{
	struct config *c = discover("starlink", 4);
	struct cfg_member d;

	(void)state;
	cfg_member_defaults(&d);
	assert_member(&c->member[0], "starlink", "eth1", MEM_CLASS_STARLINK, 1000, 1,
		      "1.1.1.1 8.8.8.8");
	assert_member(&c->member[1], "lte_4", "wwan0", MEM_CLASS_AUTO, 999, 1, "1.1.1.1 9.9.9.9");
	assert_member(&c->member[2], "wwan", "phy0-sta0", MEM_CLASS_WIFI, 998, d.reliability,
		      "1.1.1.1 8.8.8.8");
	assert_member(&c->member[3], "pppwan", "pppoe-pppwan", MEM_CLASS_AUTO, 1, d.reliability,
		      "1.1.1.1 8.8.8.8");
}

static void test_missing_and_present(void **state)
{
	struct config c;

	(void)state;
	cfg_defaults(&c);
	assert_int_equal(mwan3_discover(DATA "/nonexistent", &c), -ENOENT);
	assert_int_equal(c.nmembers, 0);
	assert_false(mwan3_present(DATA "/nonexistent"));
	assert_true(mwan3_present(DATA "/rutos"));
}

/* Writes dir/name (the files of a config root in a test). */
static void put_file(const char *dir, const char *name, const char *text)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void rm_tree(const char *dir)
{
	char path[64];

	snprintf(path, sizeof(path), "%s/mwan3", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/network", dir);
	unlink(path);
	rmdir(dir);
}

/* After `autonomyctl mwan3 takeover` the targets are in autonomy_track_ip. */
static void test_targets_after_takeover(void **state)
{
	char dir[] = "/tmp/test_mwan3.XXXXXX";
	struct config c;

	(void)state;
	assert_non_null(mkdtemp(dir));
	put_file(dir, "network", "config interface 'wan'\n\toption device 'eth0'\n");
	put_file(dir, "mwan3", "config interface 'wan'\n\toption enabled '1'\n"
		 "\tlist autonomy_track_ip '192.0.2.1'\n\tlist autonomy_track_ip '192.0.2.2'\n");
	cfg_defaults(&c);
	assert_int_equal(mwan3_discover(dir, &c), 1);
	assert_member(&c.member[0], "wan", "eth0", MEM_CLASS_AUTO, 1, 1, "192.0.2.1 192.0.2.2");
	rm_tree(dir);
}

/* A broken line is skipped, the rest still counts; no interface enabled: none. */
static void test_bad_and_disabled(void **state)
{
	char dir[] = "/tmp/test_mwan3.XXXXXX";
	struct config c;

	(void)state;
	assert_non_null(mkdtemp(dir));
	put_file(dir, "network", "config interface 'wan'\n\toption device 'eth0'\n");
	put_file(dir, "mwan3", "config interface 'wan'\n\toption enabled '0'\n");
	cfg_defaults(&c);
	assert_int_equal(mwan3_discover(dir, &c), 0);
	assert_false(mwan3_present(dir));
	put_file(dir, "mwan3", "config interface 'wan'\n\toption enabled '1'\n"
		 "\toption bad name 'x\n\tlist track_ip '192.0.2.1'\n\toption reliability '7'\n");
	assert_int_equal(mwan3_discover(dir, &c), 1);
	assert_string_equal(c.member[0].device, "eth0");
	assert_int_equal(c.member[0].weight, 1);
	assert_int_equal(c.member[0].targets.n, 1);
	assert_int_equal(c.member[0].reliability, 1);
	assert_true(mwan3_present(dir));
	rm_tree(dir);
}

/* ---- the controller ---------------------------------------------------------- */

static char spawned[32][160];
static int nspawned;
static int spawn_fail;

/* Records "ACTION INTERFACE DEVICE | path arg" and starts a child that exits at
 * once, so the controller's ev_child path runs for real. */
static int fake_spawn(const char *path, char *const argv[], char *const envp[], pid_t *pid)
{
	char *p = spawned[nspawned % 32];

	assert_string_equal(argv[0], path);
	assert_string_equal(argv[1], "iface");
	assert_null(argv[2]);
	assert_non_null(envp[0]);
	assert_non_null(envp[1]);
	assert_non_null(envp[2]);
	assert_null(envp[3]);
	if (spawn_fail)
		return -ENOENT;
	snprintf(p, 160, "%s %s %s | %s %s", envp[0], envp[1], envp[2], path, argv[1]);
	nspawned++;
	*pid = fork();
	if (*pid < 0)
		return -errno;
	if (*pid == 0)
		_exit(0);
	return 0;
}

static struct ev_loop *loop;

static void run_queue(void)
{
	for (int i = 0; ctl_mwan3_pending() && i < 500; i++)
		ev_run(loop, EVRUN_ONCE);
	assert_int_equal(ctl_mwan3_pending(), 0);
}

/* Applies a ranking given as "name:state:weight" words (state u, d or ?) and
 * checks the events that follow, "" for none. */
static void apply(const char *ranking, const char *expect)
{
	struct ctl_member r[8];
	char names[8][16], got[1024] = "", buf[128];
	int n = 0, start = nspawned;

	strcpy(buf, ranking);
	for (char *w = strtok(buf, " "); w; w = strtok(NULL, " ")) {
		char st;
		int weight;

		assert_int_equal(sscanf(w, "%15[^:]:%c:%d", names[n], &st, &weight), 3);
		r[n] = (struct ctl_member){ names[n], "wwan0", weight, CTL_UNKNOWN };
		r[n].state = st == 'u' ? CTL_UP : st == 'd' ? CTL_DOWN : CTL_UNKNOWN;
		if (!strcmp(names[n], "wan"))
			r[n].device = "eth1";
		else if (!strcmp(names[n], "wanb"))
			r[n].device = "eth2";
		n++;
	}
	assert_int_equal(ctl_mwan3_ops.apply(r, n), 0);
	/* serialised: at most one runs before the loop reaps it */
	assert_true(nspawned - start <= 1);
	run_queue();
	for (int i = start; i < nspawned; i++) {
		strcat(got, i > start ? "\n" : "");
		strcat(got, spawned[i % 32]);
	}
	assert_string_equal(got, expect);
}

#define EV(a, i, d)	"ACTION=" a " INTERFACE=" i " DEVICE=" d " | /sbin/hotplug-call iface"

static void test_events(void **state)
{
	(void)state;
	loop = ev_default_loop(0);
	nspawned = 0;
	spawn_fail = 0;
	ctl_mwan3_setup(loop, "/sbin/hotplug-call", fake_spawn);
	assert_int_equal(ctl_mwan3_ops.probe_mark, 0x3F00);
	assert_int_equal(ctl_mwan3_ops.init(10), 0);
	/* not measured yet: nothing */
	apply("wan:?:1000 wanb:?:999", "");
	/* first measurement: every interface once, in order */
	apply("wan:u:1000 wanb:u:999 lte:?:1", EV("connected", "wan", "eth1") "\n"
	      EV("connected", "wanb", "eth2"));
	/* nothing changed: nothing */
	apply("wan:u:1000 wanb:u:999 lte:?:1", "");
	apply("wan:u:1000 wanb:u:999 lte:u:1", EV("connected", "lte", "wwan0"));
	/* manual failover to wanb: wan (preferred by mwan3) goes offline, lte stays */
	apply("wanb:u:999 wan:u:1000 lte:u:1", EV("disconnected", "wan", "eth1"));
	apply("wanb:u:999 wan:u:1000 lte:u:1", "");
	/* restore */
	apply("wan:u:1000 wanb:u:999 lte:u:1", EV("connected", "wan", "eth1"));
	/* wanb fails, then comes back */
	apply("wan:u:1000 lte:u:1 wanb:d:999", EV("disconnected", "wanb", "eth2"));
	apply("wan:u:1000 wanb:u:999 lte:u:1", EV("connected", "wanb", "eth2"));
	/* wan fails: wanb takes over, nothing else moves */
	apply("wanb:u:999 lte:u:1 wan:d:1000", EV("disconnected", "wan", "eth1"));
	/* equal weights: only the active one stays online */
	apply("wanb:u:999 lte:u:999 wan:d:1000", EV("disconnected", "lte", "wwan0"));
	/* stop: lte is up but offline -> connected; wan is down and stays offline */
	ctl_mwan3_ops.fini();
	assert_int_equal(nspawned, 10);
	assert_string_equal(spawned[9], EV("connected", "lte", "wwan0"));
}

/* Changes queued while one event runs: the newest state per interface wins;
 * a failed spawn is retried at the next change. */
static void test_queue_and_failure(void **state)
{
	struct ctl_member r[3] = {
		{ "wan", "eth1", 1000, CTL_UP }, { "wanb", "eth2", 999, CTL_UP },
		{ "lte", "wwan0", 1, CTL_UP },
	};

	(void)state;
	loop = ev_default_loop(0);
	nspawned = 0;
	ctl_mwan3_setup(loop, "/sbin/hotplug-call", fake_spawn);
	assert_int_equal(ctl_mwan3_ops.init(10), 0);
	assert_int_equal(ctl_mwan3_ops.apply(r, 3), 0);
	assert_int_equal(nspawned, 1);
	assert_int_equal(ctl_mwan3_pending(), 3);
	r[1].state = CTL_DOWN;		/* wanb: connected is replaced by disconnected */
	assert_int_equal(ctl_mwan3_ops.apply(r, 3), 0);
	assert_int_equal(ctl_mwan3_pending(), 3);
	run_queue();
	assert_int_equal(nspawned, 3);
	assert_string_equal(spawned[1], EV("disconnected", "wanb", "eth2"));
	assert_string_equal(spawned[2], EV("connected", "lte", "wwan0"));
	spawn_fail = 1;
	r[2].state = CTL_DOWN;
	assert_int_equal(ctl_mwan3_ops.apply(r, 3), 0);
	assert_int_equal(ctl_mwan3_pending(), 0);
	spawn_fail = 0;
	r[1].state = CTL_UP;
	assert_int_equal(ctl_mwan3_ops.apply(r, 3), 0);
	run_queue();
	assert_int_equal(nspawned, 5);
	assert_string_equal(spawned[3], EV("connected", "wanb", "eth2"));
	assert_string_equal(spawned[4], EV("disconnected", "lte", "wwan0"));
	/* a member that moves to another device is announced again there; a removed
	 * one is forgotten (nothing at stop) */
	r[0].device = "eth9";
	assert_int_equal(ctl_mwan3_ops.apply(r, 2), 0);
	run_queue();
	assert_int_equal(nspawned, 6);
	assert_string_equal(spawned[5], EV("connected", "wan", "eth9"));
	assert_int_equal(ctl_mwan3_ops.apply(r, 2), 0);
	assert_int_equal(ctl_mwan3_pending(), 0);
	ctl_mwan3_ops.fini();
	assert_int_equal(nspawned, 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_openwrt),
		cmocka_unit_test(test_rutos),
		cmocka_unit_test(test_starlink_lte_wifi),
		cmocka_unit_test(test_missing_and_present),
		cmocka_unit_test(test_targets_after_takeover),
		cmocka_unit_test(test_bad_and_disabled),
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_queue_and_failure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
