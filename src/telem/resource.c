#include "telem/resource.h"
#include "core/jsonnum.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <ev.h>
#include <json-c/json.h>

#define RES_READ_MAX	4096	/* the first lines of /proc/stat and /proc/meminfo are enough */

static struct {
	struct ev_loop *loop;
	struct res_sample last;
	bool have;			/* last holds a reading */
	bool have_prev;			/* the counters below are from a previous reading */
	int64_t prev_ms;		/* monotonic */
	double prev_cpu_s;
	uint64_t prev_busy, prev_total;
	bool prev_sys;
	unsigned prev_iter;
} R;

/* ---- parsers ------------------------------------------------------------------ */

static bool parse_u64(const char **s, uint64_t *out)
{
	char *end;

	while (**s == ' ' || **s == '\t')
		(*s)++;
	if (**s < '0' || **s > '9')
		return false;
	errno = 0;
	*out = strtoull(*s, &end, 10);
	if (errno)
		return false;
	*s = end;
	return true;
}

bool res_parse_statm(const char *text, double page_kb, double *rss_kb)
{
	uint64_t size, resident;

	if (!parse_u64(&text, &size) || !parse_u64(&text, &resident))
		return false;
	*rss_kb = (double)resident * page_kb;
	return true;
}

/* "cpu  user nice system idle iowait irq softirq steal guest guest_nice": guest
 * time is already in user, so the total is the first eight; idle and iowait
 * are not busy. Kernels before 2.6.11 have fewer columns: at least four. */
bool res_parse_stat(const char *text, uint64_t *busy, uint64_t *total)
{
	uint64_t v[8] = { 0 }, sum = 0, idle;
	int n = 0;

	if (strncmp(text, "cpu ", 4))
		return false;
	text += 4;
	while (n < 8 && parse_u64(&text, &v[n]))
		n++;
	if (n < 4 || (*text && *text != ' ' && *text != '\n'))
		return false;
	for (int i = 0; i < n; i++)
		sum += v[i];
	idle = v[3] + v[4];
	*total = sum;
	*busy = sum - idle;
	return true;
}

static bool meminfo_line(const char *line, const char *key, double *out)
{
	size_t klen = strlen(key);
	uint64_t v;

	if (strncmp(line, key, klen) || line[klen] != ':')
		return false;
	line += klen + 1;
	if (!parse_u64(&line, &v))
		return false;
	while (*line == ' ')
		line++;
	if (strncmp(line, "kB", 2))
		return false;
	*out = (double)v;
	return true;
}

bool res_parse_meminfo(const char *text, double *total_kb, double *avail_kb)
{
	*total_kb = *avail_kb = NAN;
	for (const char *line = text; *line;) {
		const char *nl = strchr(line, '\n');

		if (!meminfo_line(line, "MemTotal", total_kb))
			meminfo_line(line, "MemAvailable", avail_kb);
		if (!nl)
			break;
		line = nl + 1;
	}
	return !isnan(*total_kb) || !isnan(*avail_kb);
}

bool res_parse_loadavg(const char *text, double load[3])
{
	for (int i = 0; i < 3; i++) {
		char *end;

		errno = 0;
		load[i] = strtod(text, &end);
		if (end == text || errno || !isfinite(load[i]) || load[i] < 0 ||
		    (*end != ' ' && *end != '\n' && *end)) {
			load[0] = load[1] = load[2] = NAN;
			return false;
		}
		text = end;
	}
	return true;
}

/* ---- reading -------------------------------------------------------------------- */

/* At most size-1 bytes of a /proc file, NUL-terminated; false if unreadable. */
static bool read_proc(const char *path, char *buf, size_t size)
{
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	while (len < size - 1) {
		ssize_t n = read(fd, buf + len, size - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return len > 0;
}

static void read_self(struct res_sample *s)
{
	static char buf[256];
	struct rusage ru;
	long page = sysconf(_SC_PAGESIZE);

	if (!read_proc("/proc/self/statm", buf, sizeof(buf)) || page <= 0 ||
	    !res_parse_statm(buf, (double)page / 1024, &s->rss_kb))
		s->rss_kb = NAN;
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		s->cpu_s = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
			   (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	else
		s->cpu_s = NAN;
}

static void read_system(struct res_sample *s, uint64_t *busy, uint64_t *total, bool *have_stat)
{
	static char buf[RES_READ_MAX];

	*have_stat = read_proc("/proc/stat", buf, sizeof(buf)) && res_parse_stat(buf, busy, total);
	if (!read_proc("/proc/meminfo", buf, sizeof(buf)) ||
	    !res_parse_meminfo(buf, &s->mem_total_kb, &s->mem_available_kb))
		s->mem_total_kb = s->mem_available_kb = NAN;
	if (!read_proc("/proc/loadavg", buf, sizeof(buf)) || !res_parse_loadavg(buf, s->load))
		s->load[0] = s->load[1] = s->load[2] = NAN;
}

void res_init(struct ev_loop *loop)
{
	memset(&R, 0, sizeof(R));
	R.loop = loop;
}

void res_update(void)
{
	struct res_sample s = { .cpu_pct = NAN, .wakeups_per_s = NAN, .sys_cpu_pct = NAN };
	int64_t now = mono_ms();
	uint64_t busy = 0, total = 0;
	unsigned iter = R.loop ? ev_iteration(R.loop) : 0;
	double dt = (double)(now - R.prev_ms) / 1000;
	bool have_stat;

	read_self(&s);
	read_system(&s, &busy, &total, &have_stat);
	if (R.have_prev && dt > 0) {
		if (!isnan(s.cpu_s) && !isnan(R.prev_cpu_s))
			s.cpu_pct = fmax(0, (s.cpu_s - R.prev_cpu_s) / dt * 100);
		if (R.loop)
			s.wakeups_per_s = (double)(iter - R.prev_iter) / dt;
		if (have_stat && R.prev_sys && total > R.prev_total && busy >= R.prev_busy)
			s.sys_cpu_pct = fmin(100, (double)(busy - R.prev_busy) * 100 /
						  (double)(total - R.prev_total));
	}
	R.prev_ms = now;
	R.prev_cpu_s = s.cpu_s;
	R.prev_busy = busy;
	R.prev_total = total;
	R.prev_sys = have_stat;
	R.prev_iter = iter;
	R.have_prev = true;
	R.last = s;
	R.have = true;
}

const struct res_sample *res_last(void)
{
	if (!R.have)
		res_update();
	return &R.last;
}

/* ---- JSON ----------------------------------------------------------------------- */

struct json_object *res_json(void)
{
	const struct res_sample *s = res_last();
	struct json_object *o = json_object_new_object(), *sys = json_object_new_object();

	json_object_object_add(o, "rss_kb", json_fixed(s->rss_kb, 0));
	json_object_object_add(o, "cpu_pct", json_fixed(s->cpu_pct, 2));
	json_object_object_add(o, "cpu_s", json_fixed(s->cpu_s, 2));
	json_object_object_add(o, "wakeups_per_s", json_fixed(s->wakeups_per_s, 1));
	json_object_object_add(sys, "cpu_pct", json_fixed(s->sys_cpu_pct, 1));
	json_object_object_add(sys, "mem_total_kb", json_fixed(s->mem_total_kb, 0));
	json_object_object_add(sys, "mem_available_kb", json_fixed(s->mem_available_kb, 0));
	json_object_object_add(sys, "load1", json_fixed(s->load[0], 2));
	json_object_object_add(sys, "load5", json_fixed(s->load[1], 2));
	json_object_object_add(sys, "load15", json_fixed(s->load[2], 2));
	json_object_object_add(o, "system", sys);
	return o;
}
