#include "telem/sampler.h"
#include "collect/dish.h"
#include "core/daemon.h"
#include "core/log.h"
#include "core/util.h"
#include "member/member.h"
#include "telem/history.h"
#include "telem/resource.h"
#include "telem/series.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ev.h>

static struct {
	struct ev_loop *loop;
	ev_periodic tick;
	bool running;
	int max_ram_kb;
	char file[CFG_PATH_LEN];
	int64_t clock_offset;		/* wall - monotonic ms at the last tick */
} S;

/* The store holds one series per member, in registry order, then "system". */
static void sync_series(void)
{
	struct hist_want want[CFG_MAX_MEMBERS + 1];
	int n = 0;

	for (int i = 0; i < mem_count() && n < CFG_MAX_MEMBERS; i++) {
		const struct member *m = mem_get(i);

		if (!strcmp(m->cfg.name, HIST_SYSTEM))
			continue;
		want[n++] = (struct hist_want){ m->cfg.name, series_member_layout(m->class) };
	}
	want[n++] = (struct hist_want){ HIST_SYSTEM, series_system_layout() };
	hist_set(want, n);
}

static void member_values(const struct member *m, int64_t mono, double *v)
{
	const struct sl_status *st = &m->dish.sl.status;
	bool dish = m->class == MEM_CLASS_STARLINK && dish_fresh(&m->dish, mono);

	v[SER_LATENCY] = m->latency_ms;
	v[SER_LOSS] = m->loss_pct;
	v[SER_JITTER] = m->jitter_ms;
	v[SER_SCORE] = m->score.final;
	v[SER_STATUS] = m->status;
	if (m->class == MEM_CLASS_CELLULAR) {
		bool radio = cell_fresh(&m->cell, mono);

		v[SER_CLASS] = radio ? m->cell.info.rsrp : NAN;
		v[SER_CLASS + 1] = radio ? m->cell.info.sinr : NAN;
	} else if (m->class == MEM_CLASS_WIFI) {
		v[SER_CLASS] = wifimon_fresh(&m->wifi, mono) ? m->wifi.info.signal_dbm : NAN;
	} else {
		v[SER_CLASS] = dish ? st->fraction_obstructed * 100 : NAN;
		v[SER_CLASS + 1] = dish ? st->pop_ping_latency_ms : NAN;
		v[SER_CLASS + 2] = dish ? st->pop_ping_drop_rate * 100 : NAN;
	}
}

static void system_values(double *v)
{
	const struct res_sample *r = res_last();

	v[SER_RSS_KB] = r->rss_kb;
	v[SER_CPU_PCT] = r->cpu_pct;
	v[SER_WAKEUPS] = r->wakeups_per_s;
	v[SER_SYS_CPU_PCT] = r->sys_cpu_pct;
	v[SER_SYS_MEM_AVAILABLE_MB] = r->mem_available_kb / 1024;
	v[SER_SYS_LOAD1] = r->load[0];
}

/* A step of the wall clock is worth one line: the store copes (see history.h). */
static void check_clock(int64_t wall, int64_t mono)
{
	int64_t offset = wall - mono, step = offset - S.clock_offset;

	if (S.clock_offset && (step > 2000 || step < -2000))
		log_info("history: the wall clock stepped %+lld s", (long long)(step / 1000));
	S.clock_offset = offset;
}

static void tick_cb(struct ev_loop *loop, ev_periodic *w, int revents)
{
	int64_t wall = wall_ms(), mono = mono_ms(), ts = wall / 1000;
	double v[HIST_MAX_FIELDS];

	(void)loop;
	(void)w;
	(void)revents;
	res_update();
	sync_series();
	check_clock(wall, mono);
	for (int i = 0; i < mem_count(); i++) {
		const struct member *m = mem_get(i);
		int s = hist_find(m->cfg.name);

		if (s < 0 || !strcmp(m->cfg.name, HIST_SYSTEM))
			continue;
		member_values(m, mono, v);
		hist_append(s, ts, v);
	}
	system_values(v);
	hist_append(hist_find(HIST_SYSTEM), ts, v);
}

/* history_file must be absolute: the daemon's working directory is nobody's business. */
static const char *usable_file(const char *path)
{
	if (!path[0])
		return NULL;
	if (path[0] != '/') {
		log_warn("history_file '%s' is not an absolute path: the history is not saved", path);
		return NULL;
	}
	return path;
}

/* Mapped, not read: a file of several MB never passes through the heap. */
static void load_file(const char *path)
{
	char err[CFG_ERR_LEN] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC), n = -1;
	struct stat st;
	void *map;

	if (fd < 0 && errno == ENOENT) {
		log_info("history: no snapshot at %s yet", path);
		return;
	}
	if (fd < 0 || fstat(fd, &st) < 0) {
		log_warn("history: cannot read %s: %s; starting empty", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	if (!S_ISREG(st.st_mode) || st.st_size < 1 || st.st_size > HIST_FILE_MAX) {
		snprintf(err, sizeof(err), "not a regular file of 1 to %u bytes", HIST_FILE_MAX);
	} else {
		map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map == MAP_FAILED) {
			snprintf(err, sizeof(err), "%s", strerror(errno));
		} else {
			n = hist_load(map, (size_t)st.st_size, wall_ms() / 1000, err, sizeof(err));
			munmap(map, (size_t)st.st_size);
		}
	}
	close(fd);
	if (n < 0)
		log_warn("history: ignoring %s: %s", path, err);
	else
		log_info("history: loaded %d series from %s", n, path);
}

static void save_file(const char *path)
{
	size_t len;
	char *buf = hist_save(wall_ms() / 1000, &len);
	int rc = write_file_atomic(path, buf, len, 0600);

	free(buf);
	if (rc < 0)
		log_warn("history: cannot write %s: %s", path, strerror(-rc));
	else
		log_info("history: saved %zu KB to %s", (len + 1023) / 1024, path);
}

void sampler_init(struct ev_loop *loop)
{
	const struct cfg_main *c = &daemon_ctx.cfg.main;
	const char *file;

	memset(&S, 0, sizeof(S));
	S.loop = loop;
	S.max_ram_kb = c->max_ram_kb;
	strlcpy_ok(S.file, c->history_file, sizeof(S.file));
	res_init(loop);
	hist_set_cap((size_t)c->max_ram_kb * 1024);
	sync_series();
	file = usable_file(S.file);
	if (file)
		load_file(file);
	/* at x.5 s of every wall-clock second */
	ev_periodic_init(&S.tick, tick_cb, 0.5, 1.0, NULL);
	ev_periodic_start(loop, &S.tick);
	S.running = true;
}

void sampler_fini(void)
{
	const char *file;

	if (!S.running)
		return;
	ev_periodic_stop(S.loop, &S.tick);
	file = usable_file(daemon_ctx.cfg.main.history_file);
	if (file)
		save_file(file);
	hist_fini();
	S.running = false;
}

void sampler_apply(void)
{
	const struct cfg_main *c = &daemon_ctx.cfg.main;

	if (!S.running)
		return;
	if (c->max_ram_kb != S.max_ram_kb) {
		S.max_ram_kb = c->max_ram_kb;
		hist_set_cap((size_t)c->max_ram_kb * 1024);
	}
	if (strcmp(c->history_file, S.file)) {
		strlcpy_ok(S.file, c->history_file, sizeof(S.file));
		if (usable_file(S.file))
			log_info("history: the next snapshot goes to %s", S.file);
		else if (!S.file[0])
			log_info("history: history_file is empty: nothing is saved at stop");
	}
	sync_series();
}
