/* Unit tests for mwan3 takeover/release (src/control/takeover.c) on copies of the
 * realistic trees in tests/data/openwrt/ in a temporary directory: the exact uci
 * change lines, the round trip back to the original values, dry runs and
 * idempotence that write nothing, RutOS condition sections, interfaces that are
 * not managed, bad files left alone, and the API method with a real reload
 * command run on the loop. */
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

#include <ev.h>
#include <json-c/json.h>

#include "config/config.h"
#include "config/uci.h"
#include "control/takeover.h"
#include "core/util.h"
#include "telem/evlog.h"

#define DATA	"tests/data/openwrt"

struct tmp {
	char dir[64];
	char path[128];		/* dir/mwan3 */
};

static void put_file(const char *path, const char *text, unsigned mode)
{
	assert_int_equal(write_file_atomic(path, text, strlen(text), mode), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static char *slurp(const char *path)
{
	char *text;

	assert_true(read_file(path, 1 << 20, &text) >= 0);
	return text;
}

/* A temporary config root holding a copy of tree's mwan3 (or text). */
static void tmp_root(struct tmp *t, const char *tree, const char *text)
{
	char src[128];
	char *orig = NULL;

	strcpy(t->dir, "/tmp/test_takeover.XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->path, sizeof(t->path), "%s/mwan3", t->dir);
	if (tree) {
		snprintf(src, sizeof(src), "%s/%s/mwan3", DATA, tree);
		orig = slurp(src);
		text = orig;
	}
	if (text)
		put_file(t->path, text, 0644);
	free(orig);
}

static void tmp_done(struct tmp *t)
{
	char p[160];

	unlink(t->path);
	snprintf(p, sizeof(p), "%s/mwan3.tmp", t->dir);
	rmdir(p);
	unlink(p);
	snprintf(p, sizeof(p), "%s/reload.log", t->dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/reload.sh", t->dir);
	unlink(p);
	assert_int_equal(rmdir(t->dir), 0);
}

static void assert_changes(const struct tko_plan *p, const char *const *want)
{
	int n = 0;

	while (want[n])
		n++;
	for (int i = 0; i < p->nchanges && i < n; i++)
		assert_string_equal(p->changes[i], want[i]);
	assert_int_equal(p->nchanges, n);
}

static void plan_ok(const struct tmp *t, enum tko_cmd cmd, const struct tko_scope *scope,
		    struct tko_plan *p)
{
	char err[TKO_ERR_LEN] = "";

	assert_int_equal(tko_plan(t->dir, cmd, scope, p, err, sizeof(err)), 0);
	assert_string_equal(err, "");
}

static void apply(const struct tmp *t, enum tko_cmd cmd, const struct tko_scope *scope)
{
	char err[TKO_ERR_LEN] = "";
	struct tko_plan p;

	plan_ok(t, cmd, scope, &p);
	assert_int_equal(tko_write(t->dir, &p, err, sizeof(err)), 0);
	tko_plan_free(&p);
}

static struct uci_file parse(const char *path)
{
	struct uci_parser p;
	struct uci_file f;

	assert_int_equal(uci_parse_path(&p, path, &f), 0);
	uci_parser_free(&p);
	return f;
}

/* Same sections (type, name), options (name, kind) and values, in order. */
static void assert_same_model(const char *a_path, const char *b_path)
{
	struct uci_file a = parse(a_path), b = parse(b_path);

	assert_int_equal(a.nsecs, b.nsecs);
	for (int i = 0; i < a.nsecs; i++) {
		const struct uci_section *x = &a.secs[i], *y = &b.secs[i];

		assert_string_equal(x->type, y->type);
		assert_true((!x->name && !y->name) || (x->name && y->name &&
							 !strcmp(x->name, y->name)));
		assert_int_equal(x->nopts, y->nopts);
		for (int j = 0; j < x->nopts; j++) {
			assert_string_equal(x->opts[j].name, y->opts[j].name);
			assert_int_equal(x->opts[j].is_list, y->opts[j].is_list);
			assert_int_equal(x->opts[j].nvalues, y->opts[j].nvalues);
			for (int k = 0; k < x->opts[j].nvalues; k++)
				assert_string_equal(x->opts[j].values[k], y->opts[j].values[k]);
		}
	}
	uci_file_free(&a);
	uci_file_free(&b);
}

static const char *value_of(const struct uci_file *f, const char *sec, const char *opt, int k)
{
	const struct uci_option *o = uci_find_option(uci_find_section(f, sec), opt);

	return o && k < o->nvalues ? o->values[k] : NULL;
}

/* OpenWrt: the two enabled interfaces move, the disabled ones stay; release
 * gives back exactly the original values; a second round trip is byte-exact. */
static void test_openwrt_roundtrip(void **state)
{
	static const char *const want[] = {
		"uci del_list mwan3.wan.track_ip='1.0.0.1'",
		"uci add_list mwan3.wan.autonomy_track_ip='1.0.0.1'",
		"uci del_list mwan3.wan.track_ip='1.1.1.1'",
		"uci add_list mwan3.wan.autonomy_track_ip='1.1.1.1'",
		"uci del_list mwan3.wan.track_ip='208.67.222.222'",
		"uci add_list mwan3.wan.autonomy_track_ip='208.67.222.222'",
		"uci del_list mwan3.wan.track_ip='208.67.220.220'",
		"uci add_list mwan3.wan.autonomy_track_ip='208.67.220.220'",
		"uci del_list mwan3.wanb.track_ip='1.0.0.1'",
		"uci add_list mwan3.wanb.autonomy_track_ip='1.0.0.1'",
		"uci del_list mwan3.wanb.track_ip='1.1.1.1'",
		"uci add_list mwan3.wanb.autonomy_track_ip='1.1.1.1'",
		"uci del_list mwan3.wanb.track_ip='dns.google'",
		"uci add_list mwan3.wanb.autonomy_track_ip='dns.google'",
		NULL
	};
	struct tmp t;
	struct tko_plan p;
	struct uci_file f;
	char *once, *twice;

	(void)state;
	tmp_root(&t, "openwrt", NULL);
	assert_int_equal(tko_state(t.dir, NULL), TKO_MWAN3);
	plan_ok(&t, TKO_TAKEOVER, NULL, &p);
	assert_changes(&p, want);
	assert_int_equal(p.before, TKO_MWAN3);
	assert_int_equal(p.after, TKO_AUTONOMY);
	tko_plan_free(&p);

	apply(&t, TKO_TAKEOVER, NULL);
	assert_int_equal(tko_state(t.dir, NULL), TKO_AUTONOMY);
	f = parse(t.path);
	assert_null(uci_find_option(uci_find_section(&f, "wan"), "track_ip"));
	assert_string_equal(value_of(&f, "wan", "autonomy_track_ip", 3), "208.67.220.220");
	assert_string_equal(value_of(&f, "wanb", "autonomy_track_ip", 2), "dns.google");
	/* the list keeps its place: between enabled and family */
	assert_string_equal(uci_find_section(&f, "wan")->opts[1].name, "autonomy_track_ip");
	assert_true(uci_find_section(&f, "wan")->opts[1].is_list);
	/* disabled interfaces are not autonomy's */
	assert_string_equal(value_of(&f, "wan6", "track_ip", 0), "2606:4700:4700::1001");
	assert_null(value_of(&f, "wan6", "autonomy_track_ip", 0));
	uci_file_free(&f);

	apply(&t, TKO_RELEASE, NULL);
	assert_int_equal(tko_state(t.dir, NULL), TKO_MWAN3);
	assert_same_model(t.path, DATA "/openwrt/mwan3");
	once = slurp(t.path);
	apply(&t, TKO_TAKEOVER, NULL);
	apply(&t, TKO_RELEASE, NULL);
	twice = slurp(t.path);
	assert_string_equal(once, twice);
	free(once);
	free(twice);
	tmp_done(&t);
}

/* RutOS: tracking in anonymous condition sections, named @condition[N]. */
static void test_rutos_conditions(void **state)
{
	static const char *const want[] = {
		"uci del_list mwan3.@condition[0].track_ip='1.1.1.1'",
		"uci add_list mwan3.@condition[0].autonomy_track_ip='1.1.1.1'",
		"uci del_list mwan3.@condition[0].track_ip='8.8.8.8'",
		"uci add_list mwan3.@condition[0].autonomy_track_ip='8.8.8.8'",
		"uci del_list mwan3.@condition[1].track_ip='1.1.1.1'",
		"uci add_list mwan3.@condition[1].autonomy_track_ip='1.1.1.1'",
		"uci del_list mwan3.@condition[1].track_ip='8.8.4.4'",
		"uci add_list mwan3.@condition[1].autonomy_track_ip='8.8.4.4'",
		"uci del_list mwan3.@condition[1].track_ip='9.9.9.9'",
		"uci add_list mwan3.@condition[1].autonomy_track_ip='9.9.9.9'",
		"uci del_list mwan3.@condition[2].track_ip='8.8.8.8'",
		"uci add_list mwan3.@condition[2].autonomy_track_ip='8.8.8.8'",
		NULL
	};
	static const char *const want_release[] = {
		"uci del_list mwan3.@condition[0].autonomy_track_ip='1.1.1.1'",
		"uci add_list mwan3.@condition[0].track_ip='1.1.1.1'",
		"uci del_list mwan3.@condition[0].autonomy_track_ip='8.8.8.8'",
		"uci add_list mwan3.@condition[0].track_ip='8.8.8.8'",
		NULL
	};
	const char *only_wan[] = { "wan" };
	struct tko_scope wan = { only_wan, 1 };
	struct tko_plan p;
	struct uci_file f;
	struct tmp t;

	(void)state;
	tmp_root(&t, "rutos", NULL);
	plan_ok(&t, TKO_TAKEOVER, NULL, &p);
	assert_changes(&p, want);
	tko_plan_free(&p);
	apply(&t, TKO_TAKEOVER, NULL);
	/* mob2s1a1 has no tracking at all: it does not keep the state from autonomy */
	assert_int_equal(tko_state(t.dir, NULL), TKO_AUTONOMY);
	f = parse(t.path);
	for (int i = 0; i < f.nsecs; i++) {
		const struct uci_section *s = &f.secs[i];

		assert_null(uci_find_option(s, "track_ip"));
		if (!strcmp(s->type, "condition"))
			assert_non_null(uci_find_option(s, "autonomy_track_ip"));
	}
	uci_file_free(&f);

	/* giving back only wan: mixed until the rest follows */
	plan_ok(&t, TKO_RELEASE, &wan, &p);
	assert_changes(&p, want_release);
	assert_int_equal(p.before, TKO_AUTONOMY);
	assert_int_equal(p.after, TKO_MWAN3);	/* within the scope */
	assert_int_equal(tko_write(t.dir, &p, NULL, 0), 0);
	tko_plan_free(&p);
	assert_int_equal(tko_state(t.dir, NULL), TKO_MIXED);
	apply(&t, TKO_RELEASE, NULL);
	assert_same_model(t.path, DATA "/rutos/mwan3");
	tmp_done(&t);
}

/* With member sections only their interfaces are managed. */
static void test_scope(void **state)
{
	const char *names[] = { "wanb", "nosuch", "wan6" };
	struct tko_scope scope = { names, 3 }, none = { names, 0 };
	struct tko_plan p;
	struct uci_file f;
	struct tmp t;

	(void)state;
	tmp_root(&t, "openwrt", NULL);
	plan_ok(&t, TKO_TAKEOVER, &none, &p);
	assert_int_equal(p.nchanges, 0);
	assert_int_equal(p.before, TKO_NONE);
	tko_plan_free(&p);

	apply(&t, TKO_TAKEOVER, &scope);
	assert_int_equal(tko_state(t.dir, &scope), TKO_AUTONOMY);
	assert_int_equal(tko_state(t.dir, NULL), TKO_MIXED);
	f = parse(t.path);
	assert_string_equal(value_of(&f, "wan", "track_ip", 0), "1.0.0.1");
	assert_null(value_of(&f, "wan", "autonomy_track_ip", 0));
	assert_string_equal(value_of(&f, "wanb", "autonomy_track_ip", 0), "1.0.0.1");
	/* wan6 is named but disabled in mwan3 */
	assert_string_equal(value_of(&f, "wan6", "track_ip", 0), "2606:4700:4700::1001");
	uci_file_free(&f);
	tmp_done(&t);
}

/* Nothing to do: no changes, no new file; the file is not touched. */
static void test_idempotent(void **state)
{
	struct tko_plan p;
	struct stat a, b;
	struct tmp t;
	char *before, *after;

	(void)state;
	tmp_root(&t, "starlink", NULL);
	apply(&t, TKO_TAKEOVER, NULL);
	before = slurp(t.path);
	assert_int_equal(stat(t.path, &a), 0);
	plan_ok(&t, TKO_TAKEOVER, NULL, &p);
	assert_int_equal(p.nchanges, 0);
	assert_null(p.text);
	assert_int_equal(p.before, TKO_AUTONOMY);
	assert_int_equal(p.after, TKO_AUTONOMY);
	assert_int_equal(tko_write(t.dir, &p, NULL, 0), 0);
	tko_plan_free(&p);
	assert_int_equal(stat(t.path, &b), 0);
	assert_int_equal(a.st_ino, b.st_ino);
	after = slurp(t.path);
	assert_string_equal(before, after);
	free(before);
	free(after);

	apply(&t, TKO_RELEASE, NULL);
	plan_ok(&t, TKO_RELEASE, NULL, &p);
	assert_int_equal(p.nchanges, 0);
	tko_plan_free(&p);
	assert_same_model(t.path, DATA "/starlink/mwan3");
	tmp_done(&t);
}

/* An option (not a list) stays an option; values already on the other side
 * are not doubled; a repeated value is named once. */
static void test_options_and_mixed(void **state)
{
	static const char text[] =
		"config interface 'a'\n"
		"\toption enabled '1'\n"
		"\toption track_ip '1.1.1.1'\n"
		"\toption reliability '1'\n"
		"\n"
		"config interface 'b'\n"
		"\toption enabled '1'\n"
		"\tlist autonomy_track_ip '8.8.8.8'\n"
		"\tlist track_ip '8.8.8.8'\n"
		"\tlist track_ip '9.9.9.9'\n"
		"\tlist track_ip '9.9.9.9'\n";
	static const char *const want[] = {
		"uci delete mwan3.a.track_ip",
		"uci set mwan3.a.autonomy_track_ip='1.1.1.1'",
		"uci del_list mwan3.b.track_ip='8.8.8.8'",
		"uci del_list mwan3.b.track_ip='9.9.9.9'",
		"uci add_list mwan3.b.autonomy_track_ip='9.9.9.9'",
		NULL
	};
	static const char after_text[] =
		"config interface 'a'\n"
		"\toption enabled '1'\n"
		"\toption autonomy_track_ip '1.1.1.1'\n"
		"\toption reliability '1'\n"
		"\n"
		"config interface 'b'\n"
		"\toption enabled '1'\n"
		"\tlist autonomy_track_ip '8.8.8.8'\n"
		"\tlist autonomy_track_ip '9.9.9.9'\n";
	struct tko_plan p;
	struct tmp t;
	char *got;

	(void)state;
	tmp_root(&t, NULL, text);
	assert_int_equal(tko_state(t.dir, NULL), TKO_MIXED);
	plan_ok(&t, TKO_TAKEOVER, NULL, &p);
	assert_changes(&p, want);
	assert_string_equal(p.text, after_text);
	assert_int_equal(p.after, TKO_AUTONOMY);
	tko_plan_free(&p);
	apply(&t, TKO_TAKEOVER, NULL);
	apply(&t, TKO_RELEASE, NULL);
	got = slurp(t.path);
	assert_non_null(strstr(got, "\toption track_ip '1.1.1.1'\n"));
	assert_non_null(strstr(got, "\tlist track_ip '8.8.8.8'\n\tlist track_ip '9.9.9.9'\n"));
	free(got);
	tmp_done(&t);
}

/* Missing, malformed, too big, unwritable: an error, and the file unchanged. */
static void test_errors(void **state)
{
	static const char bad[] =
		"config interface 'wan'\n"
		"\toption enabled '1'\n"
		"\tlist track_ip '1.1.1.1'\n"
		"config interface-x 'wanb'\n"
		"\tlist track_ip 1.1.1.1 extra\n";
	char err[TKO_ERR_LEN] = "", p2[160], *big, *before, *after;
	struct tko_plan p;
	struct tmp t;

	(void)state;
	tmp_root(&t, NULL, NULL);
	assert_int_equal(tko_plan(t.dir, TKO_TAKEOVER, NULL, &p, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "does not exist"));
	tko_plan_free(&p);
	assert_int_equal(tko_state(t.dir, NULL), -ENOENT);

	put_file(t.path, bad, 0644);
	assert_int_equal(tko_plan(t.dir, TKO_TAKEOVER, NULL, &p, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "2 line(s) uci cannot read"));
	assert_non_null(strstr(err, "invalid section type"));
	assert_null(p.text);
	tko_plan_free(&p);
	before = slurp(t.path);
	assert_string_equal(before, bad);

	big = xcalloc(TKO_MAX_FILE + 2, 1);
	memset(big, '#', TKO_MAX_FILE + 1);
	put_file(t.path, big, 0644);
	free(big);
	assert_int_equal(tko_plan(t.dir, TKO_TAKEOVER, NULL, &p, err, sizeof(err)), -EFBIG);
	tko_plan_free(&p);

	/* the temporary file's name is taken by a directory: the write fails */
	put_file(t.path, "config interface 'wan'\n\toption enabled '1'\n"
		 "\tlist track_ip '1.1.1.1'\n", 0600);
	snprintf(p2, sizeof(p2), "%s/mwan3.tmp", t.dir);
	assert_int_equal(mkdir(p2, 0700), 0);
	free(before);
	before = slurp(t.path);
	plan_ok(&t, TKO_TAKEOVER, NULL, &p);
	assert_true(tko_write(t.dir, &p, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "cannot write"));
	tko_plan_free(&p);
	after = slurp(t.path);
	assert_string_equal(before, after);
	free(before);
	free(after);
	tmp_done(&t);
}

static void test_split(void **state)
{
	char line[] = "  /etc/init.d/mwan3   reload ", many[] = "a b c d";
	char *argv[4];

	(void)state;
	assert_int_equal(tko_split(line, argv, 4), 2);
	assert_string_equal(argv[0], "/etc/init.d/mwan3");
	assert_string_equal(argv[1], "reload");
	assert_null(argv[2]);
	assert_int_equal(tko_split(many, argv, 4), -1);
	assert_string_equal(tko_state_name(TKO_MIXED), "mixed");
}

/* ---- the API method, with a reload script run on the loop ---- */

static struct json_object *get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	json_object_object_get_ex(o, key, &v);
	return v;
}

static const char *str(struct json_object *o, const char *key)
{
	return json_object_get_string(get(o, key));
}

static void wait_reload(struct ev_loop *loop, const struct config *c)
{
	for (int i = 0; i < 500; i++) {
		struct json_object *st = tko_status_json(c), *r = get(st, "reload");
		bool done = r && !json_object_get_boolean(get(r, "running"));

		json_object_put(st);
		if (done)
			return;
		ev_run(loop, EVRUN_ONCE | EVRUN_NOWAIT);
		usleep(10000);
	}
	fail_msg("the reload did not finish");
}

static void test_api(void **state)
{
	struct ev_loop *loop = ev_default_loop(0);
	static struct config c;
	struct json_object *o, *st;
	char script[160], log[160], *before, *after;
	struct stat sb;
	struct tmp t;

	(void)state;
	evlog_init();
	tmp_root(&t, "openwrt", NULL);
	assert_int_equal(chmod(t.path, 0600), 0);
	snprintf(script, sizeof(script), "%s/reload.sh", t.dir);
	snprintf(log, sizeof(log), "%s/reload.log", t.dir);
	cfg_defaults(&c);
	snprintf(c.main.config_root, sizeof(c.main.config_root), "%s", t.dir);
	snprintf(c.main.mwan3_reload, sizeof(c.main.mwan3_reload), "%s reload", script);
	{
		char text[512];

		snprintf(text, sizeof(text), "#!/bin/sh\necho \"$*\" >>%s\n", log);
		put_file(script, text, 0755);
	}

	o = tko_call(NULL, false, &c, loop);
	assert_string_equal(str(get(o, "error"), "code"), "invalid_argument");
	json_object_put(o);
	o = tko_call("grab", false, &c, loop);
	assert_string_equal(str(get(o, "error"), "code"), "invalid_argument");
	json_object_put(o);

	/* dry run: the changes, nothing written, nothing run */
	before = slurp(t.path);
	o = tko_call("takeover", true, &c, loop);
	assert_int_equal(json_object_array_length(get(o, "changes")), 14);
	assert_string_equal(str(o, "state"), "mwan3");
	assert_string_equal(str(o, "planned_state"), "autonomy");
	assert_false(json_object_get_boolean(get(o, "applied")));
	assert_false(json_object_get_boolean(get(get(o, "reload"), "started")));
	json_object_put(o);
	after = slurp(t.path);
	assert_string_equal(before, after);
	free(before);
	free(after);
	assert_int_equal(access(log, F_OK), -1);
	st = tko_status_json(&c);
	assert_string_equal(str(st, "tracking"), "mwan3");
	assert_null(get(st, "reload"));
	json_object_put(st);

	/* for real: written (mode kept), reload started once */
	o = tko_call("takeover", false, &c, loop);
	assert_true(json_object_get_boolean(get(o, "applied")));
	assert_string_equal(str(o, "state"), "autonomy");
	assert_true(json_object_get_boolean(get(get(o, "reload"), "started")));
	assert_null(get(o, "warning"));		/* controller auto */
	json_object_put(o);
	assert_int_equal(stat(t.path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	assert_string_equal(evlog_last()->type, "mwan3");
	assert_string_equal(evlog_last()->reason, "takeover");
	wait_reload(loop, &c);
	assert_string_equal(evlog_last()->reason, "reload");
	st = tko_status_json(&c);
	assert_string_equal(str(st, "tracking"), "autonomy");
	assert_string_equal(str(get(st, "reload"), "result"), "ok");
	json_object_put(st);
	after = slurp(log);
	assert_string_equal(after, "reload\n");
	free(after);

	/* again: nothing to do, nothing run */
	o = tko_call("takeover", false, &c, loop);
	assert_false(json_object_get_boolean(get(o, "applied")));
	assert_int_equal(json_object_array_length(get(o, "changes")), 0);
	assert_non_null(strstr(str(o, "message"), "already"));
	json_object_put(o);
	o = tko_call("status", false, &c, loop);
	assert_string_equal(str(o, "state"), "autonomy");
	json_object_put(o);

	/* release with a reload that fails, and a warning for controller none */
	c.main.controller = CFG_CTL_NONE;
	put_file(script, "#!/bin/sh\necho 'mwan3 is busy' >&2\nexit 3\n", 0755);
	o = tko_call("release", false, &c, loop);
	assert_true(json_object_get_boolean(get(o, "applied")));
	assert_string_equal(str(o, "state"), "mwan3");
	assert_null(get(o, "warning"));		/* only a takeover warns */
	json_object_put(o);
	wait_reload(loop, &c);
	st = tko_status_json(&c);
	assert_string_equal(str(get(st, "reload"), "result"),
			    "failed: exit status 3: mwan3 is busy");
	json_object_put(st);
	assert_same_model(t.path, DATA "/openwrt/mwan3");

	/* a mwan3_reload that cannot be right: refused before anything changes */
	before = slurp(t.path);
	snprintf(c.main.mwan3_reload, sizeof(c.main.mwan3_reload),
		 "a b c d e f g h i j k l m n o p");
	o = tko_call("takeover", false, &c, loop);
	assert_string_equal(str(get(o, "error"), "code"), "invalid_argument");
	json_object_put(o);
	after = slurp(t.path);
	assert_string_equal(before, after);
	free(before);
	free(after);

	/* no loop (a test harness): applied, not reloaded, said so */
	snprintf(c.main.mwan3_reload, sizeof(c.main.mwan3_reload), "%s", script);
	o = tko_call("takeover", false, &c, NULL);
	assert_true(json_object_get_boolean(get(o, "applied")));
	assert_false(json_object_get_boolean(get(get(o, "reload"), "started")));
	assert_non_null(strstr(str(get(o, "reload"), "error"), "no event loop"));
	json_object_put(o);
	o = tko_call("release", false, &c, loop);
	assert_true(json_object_get_boolean(get(o, "applied")));
	json_object_put(o);
	wait_reload(loop, &c);

	/* an empty mwan3_reload: applied, not reloaded, said so */
	c.main.mwan3_reload[0] = '\0';
	o = tko_call("takeover", false, &c, loop);
	assert_true(json_object_get_boolean(get(o, "applied")));
	assert_false(json_object_get_boolean(get(get(o, "reload"), "started")));
	assert_non_null(strstr(str(get(o, "reload"), "error"), "empty"));
	assert_non_null(strstr(str(o, "warning"), "controller"));
	json_object_put(o);

	/* a bad file: an error object, the file left alone */
	put_file(t.path, "config interface 'wan'\n\tbogus line\n", 0644);
	o = tko_call("release", false, &c, loop);
	assert_string_equal(str(get(o, "error"), "code"), "unavailable");
	json_object_put(o);
	st = tko_status_json(&c);
	assert_null(get(st, "tracking"));
	assert_non_null(str(st, "error"));
	json_object_put(st);

	/* no file: status says none; the others are errors */
	unlink(t.path);
	assert_null(tko_status_json(&c));
	o = tko_call("status", false, &c, loop);
	assert_string_equal(str(o, "state"), "none");
	json_object_put(o);
	o = tko_call("takeover", true, &c, loop);
	assert_string_equal(str(get(o, "error"), "code"), "not_found");
	json_object_put(o);
	tmp_done(&t);
	evlog_fini();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_openwrt_roundtrip),
		cmocka_unit_test(test_rutos_conditions),
		cmocka_unit_test(test_scope),
		cmocka_unit_test(test_idempotent),
		cmocka_unit_test(test_options_and_mixed),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_api),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
