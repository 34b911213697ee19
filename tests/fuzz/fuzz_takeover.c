/* libFuzzer target for mwan3 takeover/release planning (src/control/takeover.c):
 * the input is an mwan3 file, written under a private directory that tko_plan
 * reads. Beyond "does not crash", it checks:
 *  - a plan fails only as documented (-EINVAL for lines uci cannot read, -EFBIG),
 *    never with the internal "the new file does not parse";
 *  - the new file of a plan with changes is there, and a plan without changes
 *    has no file and leaves the state as it was;
 *  - after a takeover nothing is tracked by mwan3 (state autonomy or none) and a
 *    second takeover has nothing to do; the same for release the other way;
 *  - every change line is a uci command on mwan3.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "control/takeover.h"
#include "core/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(x) do { \
		if (!(x)) { \
			fprintf(stderr, "fuzz_takeover.c:%d: check failed: %s\n", __LINE__, #x); \
			abort(); \
		} \
	} while (0)

static char root[64];

static void quiet(enum log_level lvl, const char *msg)
{
	(void)lvl;
	(void)msg;
}

static void write_mwan3(const void *p, size_t len)
{
	char path[96];
	FILE *f;

	snprintf(path, sizeof(path), "%s/mwan3", root);
	f = fopen(path, "w");
	check(f);
	check(fwrite(p, 1, len, f) == len);
	check(fclose(f) == 0);
}

static void check_lines(const struct tko_plan *p)
{
	for (int i = 0; i < p->nchanges; i++)
		check(!strncmp(p->changes[i], "uci del_list mwan3.", 19) ||
		      !strncmp(p->changes[i], "uci add_list mwan3.", 19) ||
		      !strncmp(p->changes[i], "uci delete mwan3.", 17) ||
		      !strncmp(p->changes[i], "uci set mwan3.", 14));
}

/* Plans cmd on what is in the file, writes the result; returns the new state,
 * or -1 when the file is refused. */
static int step(enum tko_cmd cmd, const struct tko_scope *scope)
{
	char err[TKO_ERR_LEN] = "";
	struct tko_plan p;
	int rc = tko_plan(root, cmd, scope, &p, err, sizeof(err));

	if (rc < 0) {
		check(rc == -EINVAL || rc == -EFBIG);
		check(err[0]);
		tko_plan_free(&p);
		return -1;
	}
	check_lines(&p);
	check(!p.nchanges == !p.text);
	if (!p.nchanges)
		check(p.before == p.after);
	if (p.text)
		write_mwan3(p.text, p.len);
	rc = (int)p.after;
	tko_plan_free(&p);
	return rc;
}

static void round_trip(const struct tko_scope *scope)
{
	char err[TKO_ERR_LEN];
	struct tko_plan p;
	int st;

	st = step(TKO_TAKEOVER, scope);
	if (st < 0)
		return;
	check(st == TKO_AUTONOMY || st == TKO_NONE);
	check(tko_plan(root, TKO_TAKEOVER, scope, &p, err, sizeof(err)) == 0);
	check(p.nchanges == 0);
	tko_plan_free(&p);
	st = step(TKO_RELEASE, scope);
	check(st == TKO_MWAN3 || st == TKO_NONE);
	check(tko_plan(root, TKO_RELEASE, scope, &p, err, sizeof(err)) == 0);
	check(p.nchanges == 0);
	tko_plan_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const wan[] = { "wan", "mob1s1a1" };
	const struct tko_scope some = { wan, 2 };

	if (!root[0]) {
		log_set_hook(quiet);
		snprintf(root, sizeof(root), "/tmp/fuzz_takeover.%d", (int)getpid());
		check(mkdir(root, 0700) == 0 || errno == EEXIST);
	}
	write_mwan3(data, size);
	round_trip(NULL);
	write_mwan3(data, size);
	round_trip(&some);
	return 0;
}
