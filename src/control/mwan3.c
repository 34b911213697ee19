/* The "mwan3" controller: what it announces and when is described in mwan3.h. */
#include "control/mwan3.h"
#include "control/control.h"
#include "config/config.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

enum { M3_NONE = -1, M3_OFFLINE = 0, M3_ONLINE = 1 };

struct m3_iface {
	char name[CFG_NAME_LEN];
	char device[CFG_DEV_LEN];
	int sent;		/* M3_*: what mwan3 was last told */
	int state;		/* CTL_*: as measured by autonomy */
};

struct m3_event {
	bool online;
	char name[CFG_NAME_LEN];
	char device[CFG_DEV_LEN];
};

static struct {
	struct ev_loop *loop;
	char path[CFG_PATH_LEN];
	mwan3_spawn_fn spawn;
	struct m3_iface ifs[CFG_MAX_MEMBERS];
	int nifs;
	struct m3_event queue[CFG_MAX_MEMBERS];	/* one per interface at most */
	int qlen;
	pid_t running;		/* 0 = none */
	struct m3_event current;
	ev_child child;
	ev_timer timeout;
} M = { .path = "/sbin/hotplug-call" };

static int spawn_posix(const char *path, char *const argv[], char *const envp[], pid_t *pid)
{
	return -posix_spawn(pid, path, NULL, NULL, argv, envp);
}

void ctl_mwan3_setup(struct ev_loop *loop, const char *hotplug_call, mwan3_spawn_fn spawn)
{
	M.loop = loop;
	strlcpy_ok(M.path, hotplug_call, sizeof(M.path));
	M.spawn = spawn ? spawn : spawn_posix;
}

int ctl_mwan3_pending(void)
{
	return M.qlen + (M.running ? 1 : 0);
}

/* ---- the event queue ---------------------------------------------------------- */

static int start_event(const struct m3_event *e)
{
	char action[32], iface[16 + CFG_NAME_LEN], device[16 + CFG_DEV_LEN];
	char *argv[] = { M.path, "iface", NULL };
	char *envp[] = { action, iface, device, NULL };
	int rc;

	snprintf(action, sizeof(action), "ACTION=%s", e->online ? "connected" : "disconnected");
	snprintf(iface, sizeof(iface), "INTERFACE=%s", e->name);
	snprintf(device, sizeof(device), "DEVICE=%s", e->device);
	rc = M.spawn(M.path, argv, envp, &M.running);
	if (rc < 0) {
		M.running = 0;
		for (int i = 0; i < M.nifs; i++)	/* announce again at the next change */
			if (!strcmp(M.ifs[i].name, e->name))
				M.ifs[i].sent = M3_NONE;
		log_err("mwan3: cannot run %s for %s %s: %s", M.path, action + 7, e->name,
			strerror(-rc));
		return rc;
	}
	M.current = *e;
	log_info("mwan3: %s %s (%s) via %s iface", e->online ? "connected" : "disconnected",
		 e->name, e->device, M.path);
	return 0;
}

static void next_event(void);

static void event_done(int status)
{
	if (WIFEXITED(status) && WEXITSTATUS(status))
		log_warn("mwan3: %s iface for %s %s exited with %d", M.path,
			 M.current.online ? "connected" : "disconnected", M.current.name,
			 WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		log_warn("mwan3: %s iface for %s killed by signal %d", M.path, M.current.name,
			 WTERMSIG(status));
	M.running = 0;
}

static void child_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	(void)revents;
	ev_child_stop(loop, w);
	ev_timer_stop(loop, &M.timeout);
	event_done(w->rstatus);
	next_event();
}

static void timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	if (!M.running)
		return;
	log_warn("mwan3: %s iface for %s still running after %d s: killed", M.path,
		 M.current.name, MWAN3_EVENT_TIMEOUT_S);
	kill(M.running, SIGKILL);	/* child_cb reaps it and goes on */
}

static void next_event(void)
{
	while (!M.running && M.qlen) {
		struct m3_event e = M.queue[0];

		memmove(M.queue, M.queue + 1, sizeof(M.queue[0]) * (size_t)--M.qlen);
		if (start_event(&e) < 0 || !M.loop)
			continue;
		ev_child_set(&M.child, M.running, 0);
		ev_child_start(M.loop, &M.child);
		ev_timer_set(&M.timeout, MWAN3_EVENT_TIMEOUT_S, 0.);
		ev_timer_start(M.loop, &M.timeout);
	}
}

static void enqueue(struct m3_iface *f, bool online)
{
	struct m3_event e = { .online = online };

	f->sent = online ? M3_ONLINE : M3_OFFLINE;
	strlcpy_ok(e.name, f->name, sizeof(e.name));
	strlcpy_ok(e.device, f->device, sizeof(e.device));
	for (int i = 0; i < M.qlen; i++) {
		if (!strcmp(M.queue[i].name, e.name)) {
			M.queue[i] = e;		/* the newest state wins */
			return;
		}
	}
	if (M.qlen == CFG_MAX_MEMBERS) {
		log_err("mwan3: event queue full: %s for %s dropped", online ? "connected" :
			"disconnected", e.name);
		f->sent = M3_NONE;
		return;
	}
	M.queue[M.qlen++] = e;
}

/* ---- the controller ------------------------------------------------------------- */

static struct m3_iface *iface_for(const struct ctl_member *m)
{
	for (int i = 0; i < M.nifs; i++) {
		if (!strcmp(M.ifs[i].name, m->name)) {
			if (strcmp(M.ifs[i].device, m->device)) {
				strlcpy_ok(M.ifs[i].device, m->device, sizeof(M.ifs[i].device));
				M.ifs[i].sent = M3_NONE;	/* announce on the new device */
			}
			return &M.ifs[i];
		}
	}
	if (M.nifs == CFG_MAX_MEMBERS)
		return NULL;
	memset(&M.ifs[M.nifs], 0, sizeof(M.ifs[0]));
	strlcpy_ok(M.ifs[M.nifs].name, m->name, sizeof(M.ifs[0].name));
	strlcpy_ok(M.ifs[M.nifs].device, m->device, sizeof(M.ifs[0].device));
	M.ifs[M.nifs].sent = M3_NONE;
	return &M.ifs[M.nifs++];
}

/* Interfaces no longer in the ranking (removed members) are forgotten. */
static void forget_others(const struct ctl_member *ranking, int n)
{
	for (int i = 0; i < M.nifs; i++) {
		bool found = false;

		for (int j = 0; !found && j < n; j++)
			found = !strcmp(M.ifs[i].name, ranking[j].name);
		if (!found)
			M.ifs[i--] = M.ifs[--M.nifs];
	}
}

static int want(const struct ctl_member *m, const struct ctl_member *active)
{
	if (m->state == CTL_UNKNOWN)
		return M3_NONE;
	if (m->state == CTL_DOWN)
		return M3_OFFLINE;
	return m == active || m->weight < active->weight ? M3_ONLINE : M3_OFFLINE;
}

static int mwan3_apply(const struct ctl_member *ranking, int n)
{
	forget_others(ranking, n);
	for (int i = 0; i < n; i++) {
		struct m3_iface *f = iface_for(&ranking[i]);
		int w = want(&ranking[i], &ranking[0]);

		if (!f)
			continue;
		f->state = ranking[i].state;
		if (w != M3_NONE && w != f->sent)
			enqueue(f, w == M3_ONLINE);
	}
	next_event();
	return 0;
}

static int mwan3_init(uint32_t metric_base)
{
	(void)metric_base;
	M.nifs = 0;
	M.qlen = 0;
	M.running = 0;
	if (!M.spawn)
		M.spawn = spawn_posix;
	ev_child_init(&M.child, child_cb, 0, 0);
	ev_timer_init(&M.timeout, timeout_cb, MWAN3_EVENT_TIMEOUT_S, 0.);
	log_info("mwan3: autonomy tracks the interfaces it manages; events go through %s iface",
		 M.path);
	return 0;
}

/* Waits for the running event, at most MWAN3_EVENT_TIMEOUT_S. */
static void wait_running(void)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	int status;

	for (int i = 0; M.running && i < MWAN3_EVENT_TIMEOUT_S * 100; i++) {
		pid_t r = waitpid(M.running, &status, WNOHANG);

		if (r == M.running || (r < 0 && errno == ECHILD)) {
			if (r == M.running)
				event_done(status);
			M.running = 0;
			return;
		}
		nanosleep(&tick, NULL);
	}
	if (M.running) {
		timeout_cb(NULL, NULL, 0);
		waitpid(M.running, &status, 0);
		M.running = 0;
	}
}

static void mwan3_fini(void)
{
	if (M.loop) {
		ev_child_stop(M.loop, &M.child);
		ev_timer_stop(M.loop, &M.timeout);
	}
	for (int i = 0; i < M.nifs; i++)
		if (M.ifs[i].state == CTL_UP && M.ifs[i].sent == M3_OFFLINE)
			enqueue(&M.ifs[i], true);
	wait_running();
	while (M.qlen) {
		struct m3_event e = M.queue[0];

		memmove(M.queue, M.queue + 1, sizeof(M.queue[0]) * (size_t)--M.qlen);
		if (start_event(&e) == 0)
			wait_running();
	}
	log_info("mwan3: stopped; interfaces that are up are left online in mwan3");
}

const struct ctl_ops ctl_mwan3_ops = {
	.name = "mwan3",
	.probe_mark = MWAN3_BYPASS_MARK,
	.init = mwan3_init,
	.fini = mwan3_fini,
	.apply = mwan3_apply,
};
