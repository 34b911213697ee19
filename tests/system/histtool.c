/* Snapshots of the history store for tests and bench/footprint, made and read
 * by the store's own code (telem/history.c), so they always match the format:
 *
 *   histtool fill FILE [-k RAM_KB] [-n NOW] [-s SECONDS] SERIES...
 *	every tier of every series full of plausible samples for the SECONDS
 *	(default: as far back as the longest tier reaches) before NOW (default:
 *	the clock), under a cap of RAM_KB (default 512, as max_ram_kb)
 *   histtool dump FILE [-k RAM_KB] [-n NOW] SERIES...
 *	loads FILE as autonomyd would at NOW and prints one JSON line per series
 *	and tier: the answer of `history` with since_s = 8 days
 *
 * SERIES is NAME or NAME:CLASS (wired, starlink, …); "system" is the
 * resource series. Give the members the daemon will have: the set of series
 * decides how long each tier is.
 *
 * Built by the tests and the bench from src/telem/{history,series}.c and
 * src/core/{util,log}.c with json-c.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "core/log.h"
#include "core/util.h"
#include "telem/history.h"
#include "telem/series.h"

struct opts {
	long ram_kb;
	int64_t now, seconds;
	const char *file;
	int nseries;
	struct hist_want want[HIST_MAX_SERIES];
	char names[HIST_MAX_SERIES][CFG_NAME_LEN];
};

static const char *const classes[] = { "auto", "starlink", "cellular", "wifi", "wired", "other" };

static int usage(void)
{
	fprintf(stderr, "usage: histtool fill FILE [-k RAM_KB] [-n NOW] [-s SECONDS] NAME[:CLASS]...\n"
			"       histtool dump FILE [-k RAM_KB] [-n NOW] NAME[:CLASS]...\n");
	return 2;
}

static int parse_series(struct opts *o, const char *arg)
{
	const char *colon = strchr(arg, ':');
	size_t len = colon ? (size_t)(colon - arg) : strlen(arg);
	int class = MEM_CLASS_WIRED;

	if (!len || len >= CFG_NAME_LEN || o->nseries == HIST_MAX_SERIES)
		return -1;
	if (colon) {
		for (class = 0; class < (int)ARRAY_SIZE(classes); class++)
			if (!strcmp(classes[class], colon + 1))
				break;
		if (class == (int)ARRAY_SIZE(classes))
			return -1;
	}
	memcpy(o->names[o->nseries], arg, len);
	o->names[o->nseries][len] = '\0';
	o->want[o->nseries].name = o->names[o->nseries];
	o->want[o->nseries].layout = strcmp(o->names[o->nseries], HIST_SYSTEM) ?
				     series_member_layout((enum mem_class)class) :
				     series_system_layout();
	o->nseries++;
	return 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	int c;

	*o = (struct opts){ .ram_kb = 512, .now = time(NULL), .seconds = -1 };
	if (argc < 3)
		return -1;
	o->file = argv[2];
	optind = 3;
	while ((c = getopt(argc, argv, "k:n:s:")) != -1) {
		switch (c) {
		case 'k': o->ram_kb = atol(optarg); break;
		case 'n': o->now = atoll(optarg); break;
		case 's': o->seconds = atoll(optarg); break;
		default: return -1;
		}
	}
	for (; optind < argc; optind++)
		if (parse_series(o, argv[optind]) < 0)
			return -1;
	if (!o->nseries || o->ram_kb <= 0)
		return -1;
	hist_set_cap((size_t)o->ram_kb * 1024);
	hist_set(o->want, o->nseries);
	return 0;
}

/* Plausible, varied, deterministic. */
static void member_sample(unsigned *seed, int64_t t, double *v)
{
	double wave = sin((double)t / 600.0);

	v[SER_LATENCY] = 35 + 15 * wave + rand_r(seed) % 100 / 10.0;
	v[SER_LOSS] = rand_r(seed) % 50 ? 0 : rand_r(seed) % 2000 / 100.0;
	v[SER_JITTER] = 1 + rand_r(seed) % 50 / 10.0;
	v[SER_SCORE] = 85 + 10 * wave + rand_r(seed) % 50 / 10.0;
	v[SER_STATUS] = rand_r(seed) % 200 ? 1 : 2;
	v[SER_CLASS] = rand_r(seed) % 300 / 100.0;
	v[SER_CLASS + 1] = 30 + rand_r(seed) % 200 / 10.0;
	v[SER_CLASS + 2] = rand_r(seed) % 100 / 100.0;
}

static void system_sample(unsigned *seed, double *v)
{
	v[SER_RSS_KB] = 3300 + rand_r(seed) % 50;
	v[SER_CPU_PCT] = rand_r(seed) % 20 / 100.0;
	v[SER_WAKEUPS] = 20 + rand_r(seed) % 100 / 10.0;
	v[SER_SYS_CPU_PCT] = rand_r(seed) % 200 / 10.0;
	v[SER_SYS_MEM_AVAILABLE_MB] = 500 + rand_r(seed) % 20;
	v[SER_SYS_LOAD1] = rand_r(seed) % 100 / 100.0;
}

static int fill(const struct opts *o)
{
	int64_t seconds = o->seconds, from;
	unsigned seed = 1;
	double v[HIST_MAX_FIELDS];
	size_t len;
	char *buf;
	int rc;

	if (seconds < 0)
		for (int t = 0; t < __HIST_TIERS; t++)
			if (hist_capacity_s(t) > seconds)
				seconds = hist_capacity_s(t);
	from = o->now - seconds + 1;
	for (int64_t t = from; t <= o->now; t++) {
		for (int i = 0; i < o->nseries; i++) {
			if (strcmp(o->names[i], HIST_SYSTEM))
				member_sample(&seed, t, v);
			else
				system_sample(&seed, v);
			hist_append(i, t, v);
		}
	}
	buf = hist_save(o->now, &len);
	rc = write_file_atomic(o->file, buf, len, 0600);
	free(buf);
	if (rc < 0) {
		fprintf(stderr, "histtool: cannot write %s: %s\n", o->file, strerror(-rc));
		return 1;
	}
	printf("{\"file\":\"%s\",\"bytes\":%zu,\"series\":%d,\"seconds\":%lld,\"used_bytes\":%zu}\n",
	       o->file, len, o->nseries, (long long)seconds, hist_used_bytes());
	return 0;
}

static int dump(const struct opts *o)
{
	char err[CFG_ERR_LEN], *buf;
	long len = read_file(o->file, HIST_FILE_MAX, &buf);
	int n;

	if (len < 0) {
		fprintf(stderr, "histtool: cannot read %s: %s\n", o->file, strerror((int)-len));
		return 1;
	}
	n = hist_load(buf, (size_t)len, o->now, err, sizeof(err));
	free(buf);
	if (n < 0) {
		fprintf(stderr, "histtool: %s: %s\n", o->file, err);
		return 1;
	}
	for (int i = 0; i < o->nseries; i++) {
		for (int t = 0; t < __HIST_TIERS; t++) {
			struct json_object *q = hist_query(o->names[i], 8 * 86400, t, o->now);

			printf("%s\n", json_object_to_json_string_ext(q, JSON_PLAIN));
			json_object_put(q);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	int rc;

	log_init(LOG_TO_STDERR, LOG_LVL_WARN);
	if (argc < 2 || parse_args(argc, argv, &o) < 0)
		return usage();
	if (!strcmp(argv[1], "fill"))
		rc = fill(&o);
	else if (!strcmp(argv[1], "dump"))
		rc = dump(&o);
	else
		rc = usage();
	hist_fini();
	return rc;
}
