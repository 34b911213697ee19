/* Moving mwan3's tracking to autonomy and back: the contract is in takeover.h.
 *
 * The file is parsed with the UCI parser, the change is planned section by
 * section, and the new file is written from the parsed model (as `uci commit`
 * writes: one statement per line, values single-quoted). A file that does not
 * parse cleanly is never written: the lines the parser skipped would be lost.
 */
#include "control/takeover.h"
#include "api/api.h"
#include "collect/runner.h"
#include "config/config.h"
#include "config/uci.h"
#include "core/log.h"
#include "core/util.h"
#include "telem/evlog.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <json-c/json.h>

#define TRACK		"track_ip"
#define AUTO_TRACK	"autonomy_track_ip"

static const char *const state_names[] = {
	[TKO_NONE] = "none", [TKO_MWAN3] = "mwan3", [TKO_AUTONOMY] = "autonomy",
	[TKO_MIXED] = "mixed",
};

const char *tko_state_name(enum tko_state s)
{
	return (unsigned)s < ARRAY_SIZE(state_names) ? state_names[s] : "none";
}

/* ---- the model ---------------------------------------------------------------------- */

static bool in_scope(const struct tko_scope *scope, const char *name)
{
	if (!scope || !scope->names)
		return true;
	for (int i = 0; i < scope->nnames; i++)
		if (!strcmp(scope->names[i], name))
			return true;
	return false;
}

static bool managed(const struct uci_file *f, const struct tko_scope *scope, const char *iface)
{
	const struct uci_section *s = uci_find_section(f, iface);

	return s && !strcmp(s->type, "interface") && uci_get_bool(s, "enabled") &&
	       in_scope(scope, iface);
}

/* The managed interface whose tracking section s holds: the interface itself,
 * or the one a RutOS condition names; NULL for any other section. */
static const char *tracked_iface(const struct uci_file *f, const struct tko_scope *scope,
				 const struct uci_section *s)
{
	const char *iface = NULL;

	if (!strcmp(s->type, "interface"))
		iface = s->name;
	else if (!strcmp(s->type, "condition"))
		iface = uci_get(s, "interface");
	return iface && managed(f, scope, iface) ? iface : NULL;
}

static bool has_values(const struct uci_section *s, const char *name)
{
	const struct uci_option *o = uci_find_option(s, name);

	return o && o->nvalues > 0;
}

static enum tko_state state_of(const struct uci_file *f, const struct tko_scope *scope)
{
	int nmwan3 = 0, nauto = 0, nmixed = 0;

	for (int i = 0; i < f->nsecs; i++) {
		const struct uci_section *s = &f->secs[i];
		bool t = false, a = false;

		if (strcmp(s->type, "interface") || !s->name || !managed(f, scope, s->name))
			continue;
		for (int j = 0; j < f->nsecs; j++) {
			const struct uci_section *c = &f->secs[j];
			const char *iface = tracked_iface(f, scope, c);

			if (!iface || strcmp(iface, s->name))
				continue;
			t |= has_values(c, TRACK);
			a |= has_values(c, AUTO_TRACK);
		}
		nmwan3 += t && !a;
		nauto += a && !t;
		nmixed += a && t;
	}
	if (nmixed || (nmwan3 && nauto))
		return TKO_MIXED;
	return nmwan3 ? TKO_MWAN3 : nauto ? TKO_AUTONOMY : TKO_NONE;
}

/* ---- reading ------------------------------------------------------------------------ */

static int read_model(const char *root, struct uci_file *f, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct uci_parser p;
	char *text;
	long len;
	int rc;

	memset(f, 0, sizeof(*f));
	snprintf(path, sizeof(path), "%s/mwan3", root);
	len = read_file(path, TKO_MAX_FILE, &text);
	if (len == -ENOENT) {
		snprintf(err, errlen, "%s does not exist: mwan3 is not installed here "
			 "(or config_root is wrong)", path);
		return -ENOENT;
	}
	if (len == -EFBIG) {
		snprintf(err, errlen, "%s is larger than %d bytes", path, TKO_MAX_FILE);
		return -EFBIG;
	}
	if (len < 0) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror((int)-len));
		return (int)len;
	}
	uci_parser_init(&p, path);
	rc = uci_parse_buf(&p, text, (size_t)len, f);
	free(text);
	if (rc > 0) {
		snprintf(err, errlen, "%s has %d line(s) uci cannot read, so it is left alone; "
			 "fix it first: %s", path, rc, p.errors[0] ? p.errors[0] : "");
		uci_file_free(f);
		rc = -EINVAL;
	}
	uci_parser_free(&p);
	return rc;
}

int tko_state(const char *root, const struct tko_scope *scope)
{
	struct uci_file f;
	char err[TKO_ERR_LEN];
	int rc = read_model(root, &f, err, sizeof(err));

	if (rc < 0)
		return rc;
	rc = state_of(&f, scope);
	uci_file_free(&f);
	return rc;
}

/* ---- planning ----------------------------------------------------------------------- */

struct move {
	const char *src, *dst;
	const char *ref;	/* "mwan3.wan" or "mwan3.@condition[0]" */
	struct uci_option *from, *to;
	const char **add;	/* the values dst gains, in order (from's strings) */
	int nadd;
};

static bool has_value(const char *const *v, int n, const char *value)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(v[i], value))
			return true;
	return false;
}

static void add_change(struct tko_plan *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void add_change(struct tko_plan *p, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	p->changes = xreallocarray(p->changes, (size_t)p->nchanges + 1, sizeof(*p->changes));
	p->changes[p->nchanges++] = s;
}

static char *quoted(const char *v)
{
	size_t need = uci_quote(NULL, 0, v) + 1;
	char *q = xmalloc(need);

	uci_quote(q, need, v);
	return q;
}

/* The uci commands that do m, one value at a time (del_list removes every copy
 * of a value, so a repeated one is named once). */
static void plan_move(struct tko_plan *p, struct move *m)
{
	const struct uci_option *from = m->from, *to = m->to;

	m->add = xcalloc((size_t)from->nvalues, sizeof(*m->add));
	if (!from->is_list)
		add_change(p, "uci delete %s.%s", m->ref, m->src);
	for (int i = 0; i < from->nvalues; i++) {
		const char *v = from->values[i];
		char *q;

		if (has_value((const char *const *)from->values, i, v))
			continue;
		q = quoted(v);
		if (from->is_list)
			add_change(p, "uci del_list %s.%s=%s", m->ref, m->src, q);
		if (!(to && has_value((const char *const *)to->values, to->nvalues, v))) {
			m->add[m->nadd++] = v;
			/* an option stays an option where it is moved to */
			if (!to && !from->is_list)
				add_change(p, "uci set %s.%s=%s", m->ref, m->dst, q);
			else
				add_change(p, "uci add_list %s.%s=%s", m->ref, m->dst, q);
		}
		free(q);
	}
}

/* ---- changing the model -------------------------------------------------------------- */

/* Makes in the model what plan_move planned: dst gains the values (a new dst
 * takes src's place and keeps its kind, option or list) and src goes (an
 * option without values is not exported). */
static void apply_move(struct move *m)
{
	char **add = xcalloc((size_t)m->nadd + 1, sizeof(*add));

	for (int i = 0; i < m->nadd; i++)
		add[i] = xstrdup(m->add[i]);	/* m->add points into from's values */
	if (m->to) {
		m->to->values = xreallocarray(m->to->values, (size_t)(m->to->nvalues + m->nadd),
					      sizeof(*m->to->values));
		memcpy(m->to->values + m->to->nvalues, add, (size_t)m->nadd * sizeof(*add));
		m->to->nvalues += m->nadd;
		m->to->is_list = m->to->is_list || m->nadd;
		uci_option_clear(m->from);
		free(add);
	} else {
		uci_option_clear(m->from);
		m->from->values = add;
		m->from->nvalues = m->nadd;
		free(m->from->name);
		m->from->name = xstrdup(m->dst);
	}
}

/* "mwan3.wan", or "mwan3.@condition[N]" for an anonymous section (N counts
 * every section of that type before it, named or not, as uci does). */
static char *section_ref(const struct uci_file *f, int i)
{
	const struct uci_section *s = &f->secs[i];
	char *ref;
	int n = 0;

	if (s->name) {
		if (asprintf(&ref, "mwan3.%s", s->name) < 0)
			abort();
		return ref;
	}
	for (int j = 0; j < i; j++)
		n += !strcmp(f->secs[j].type, s->type);
	if (asprintf(&ref, "mwan3.@%s[%d]", s->type, n) < 0)
		abort();
	return ref;
}

static void free_moves(struct move *moves, int n)
{
	for (int i = 0; i < n; i++) {
		free((char *)moves[i].ref);
		free(moves[i].add);
	}
	free(moves);
}

/* The plan for a parsed file f (the pure part of tko_plan); f becomes the file
 * as planned. */
static int plan_model(struct uci_file *f, enum tko_cmd cmd, const struct tko_scope *scope,
		      struct tko_plan *p, char *err, size_t errlen)
{
	const char *src = cmd == TKO_TAKEOVER ? TRACK : AUTO_TRACK;
	const char *dst = cmd == TKO_TAKEOVER ? AUTO_TRACK : TRACK;
	struct move *moves = xcalloc((size_t)f->nsecs + 1, sizeof(*moves));
	struct uci_parser parser;
	struct uci_file after;
	int rc = 0;

	p->before = p->after = state_of(f, scope);
	for (int i = 0; i < f->nsecs; i++) {
		struct uci_section *s = &f->secs[i];
		struct move *m = &moves[i];

		if (!tracked_iface(f, scope, s) || !has_values(s, src))
			continue;
		m->src = src;
		m->dst = dst;
		m->ref = section_ref(f, i);
		m->from = uci_find_option(s, src);
		m->to = uci_find_option(s, dst);
		plan_move(p, m);
	}
	if (p->nchanges) {
		for (int i = 0; i < f->nsecs; i++)
			if (moves[i].from)
				apply_move(&moves[i]);
		p->text = uci_export(f, &p->len);
		/* what is written must read back as planned */
		uci_parser_init(&parser, "new mwan3");
		if (uci_parse_buf(&parser, p->text, p->len, &after) != 0) {
			snprintf(err, errlen, "internal error: the new file does not parse: %s",
				 parser.errors[0] ? parser.errors[0] : "");
			rc = -EPROTO;
		} else {
			p->after = state_of(&after, scope);
		}
		uci_parser_free(&parser);
		uci_file_free(&after);
	}
	free_moves(moves, f->nsecs);
	return rc;
}

int tko_plan(const char *root, enum tko_cmd cmd, const struct tko_scope *scope,
	     struct tko_plan *p, char *err, size_t errlen)
{
	struct uci_file f;
	int rc;

	memset(p, 0, sizeof(*p));
	rc = read_model(root, &f, err, errlen);
	if (rc < 0)
		return rc;
	rc = plan_model(&f, cmd, scope, p, err, errlen);
	uci_file_free(&f);
	return rc;
}

int tko_write(const char *root, const struct tko_plan *p, char *err, size_t errlen)
{
	char path[PATH_MAX], real[PATH_MAX];
	struct stat st;
	int rc;

	if (!p->text)
		return 0;
	snprintf(path, sizeof(path), "%s/mwan3", root);
	if (!realpath(path, real) || stat(real, &st) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(-rc));
		return rc;
	}
	rc = write_file_atomic(real, p->text, p->len, st.st_mode & 07777);
	/* the umask may have taken bits off the new file */
	if (!rc && chmod(real, st.st_mode & 07777) < 0)
		log_warn("mwan3: cannot keep the mode of %s: %s", real, strerror(errno));
	if (rc < 0)
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(-rc));
	return rc;
}

void tko_plan_free(struct tko_plan *p)
{
	for (int i = 0; i < p->nchanges; i++)
		free(p->changes[i]);
	free(p->changes);
	free(p->text);
	memset(p, 0, sizeof(*p));
}

int tko_split(char *buf, char **argv, int max)
{
	int n = 0;

	for (char *tok = strtok(buf, " \t"); tok; tok = strtok(NULL, " \t")) {
		if (n >= max - 1)
			return -1;
		argv[n++] = tok;
	}
	argv[n] = NULL;
	return n;
}

/* ---- the reload ------------------------------------------------------------------------ */

static struct {
	struct runner run;
	char cmd[CFG_PATH_LEN];
	int64_t started, finished;	/* wall ms; 0 = not yet */
	int rc;
	char err[RUN_ERR_MAX];
} R = { .run = { .out_fd = -1, .err_fd = -1 } };

static void reload_result(char *buf, size_t len, int rc, const struct runner *r)
{
	if (rc == 0)
		snprintf(buf, len, "ok");
	else if (rc == -ENOENT)
		snprintf(buf, len, "failed: not found");
	else if (rc == -ETIMEDOUT)
		snprintf(buf, len, "failed: killed after %.0f s", TKO_RELOAD_TIMEOUT_S);
	else if (rc == -EIO && WIFEXITED(r->status))
		snprintf(buf, len, "failed: exit status %d%s%s", WEXITSTATUS(r->status),
			 r->err[0] ? ": " : "", r->err);
	else if (rc == -EIO && WIFSIGNALED(r->status))
		snprintf(buf, len, "failed: killed by signal %d", WTERMSIG(r->status));
	else
		snprintf(buf, len, "failed: %s", strerror(-rc));
}

static void reload_done(struct runner *r, int rc, const char *out, size_t len)
{
	char what[RUN_ERR_MAX + 64];

	(void)out;
	(void)len;
	R.finished = wall_ms();
	R.rc = rc;
	reload_result(what, sizeof(what), rc, r);
	strlcpy_ok(R.err, what, sizeof(R.err));
	evlog_add("mwan3", "reload", NULL, NULL, "%s: %s", R.cmd, what);
	if (rc)
		log_warn("mwan3: '%s' %s: reload mwan3 by hand", R.cmd, what);
}

/* Starts mwan3_reload; the reply's "reload" object says what happened. */
static struct json_object *reload_start(const struct config *c, struct ev_loop *loop)
{
	struct json_object *o = json_object_new_object();
	char line[CFG_PATH_LEN], *argv[TKO_RELOAD_MAX_ARGS];
	int rc;

	json_object_object_add(o, "command", json_object_new_string(c->main.mwan3_reload));
	strlcpy_ok(line, c->main.mwan3_reload, sizeof(line));
	/* change() has checked the number of words */
	rc = loop ? tko_split(line, argv, TKO_RELOAD_MAX_ARGS) : 0;
	if (rc <= 0) {
		json_object_object_add(o, "started", json_object_new_boolean(0));
		json_object_object_add(o, "error", json_object_new_string(
			!loop ? "no event loop to run mwan3_reload on: reload mwan3 yourself" :
			     "mwan3_reload is empty: reload mwan3 yourself"));
		return o;
	}
	rc = run_start(&R.run, loop, argv, TKO_RELOAD_TIMEOUT_S, reload_done);
	json_object_object_add(o, "started", json_object_new_boolean(rc == 0));
	if (rc < 0) {
		char msg[CFG_PATH_LEN + 64];

		snprintf(msg, sizeof(msg), "cannot run %s: %s; reload mwan3 yourself", argv[0],
			 strerror(-rc));
		log_warn("mwan3: %s", msg);
		json_object_object_add(o, "error", json_object_new_string(msg));
		return o;
	}
	strlcpy_ok(R.cmd, c->main.mwan3_reload, sizeof(R.cmd));
	R.started = wall_ms();
	R.finished = 0;
	R.err[0] = '\0';
	return o;
}

static struct json_object *ts_json(int64_t ms)
{
	char buf[RFC3339_LEN];

	return ms ? json_object_new_string(fmt_rfc3339(buf, ms)) : NULL;
}

/* The last reload started through the API, or NULL. */
static struct json_object *last_reload_json(void)
{
	struct json_object *o;

	if (!R.started)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "command", json_object_new_string(R.cmd));
	json_object_object_add(o, "started", ts_json(R.started));
	json_object_object_add(o, "running", json_object_new_boolean(run_busy(&R.run)));
	json_object_object_add(o, "finished", ts_json(R.finished));
	json_object_object_add(o, "result", R.finished ? json_object_new_string(R.err) : NULL);
	return o;
}

/* ---- the API method ------------------------------------------------------------------- */

/* The enabled members when the configuration has member sections. */
static void scope_of(const struct config *c, struct tko_scope *scope,
		     const char *names[CFG_MAX_MEMBERS])
{
	scope->names = NULL;
	scope->nnames = 0;
	if (!c->nmembers)
		return;
	scope->names = names;
	for (int i = 0; i < c->nmembers; i++)
		if (c->member[i].enabled)
			names[scope->nnames++] = c->member[i].name;
}

static struct json_object *plan_error(int rc, const char *err)
{
	if (rc == -ENOENT)
		return api_error("not_found", "%s", err);
	if (rc == -EINVAL || rc == -EFBIG)
		return api_error("unavailable", "%s", err);
	return api_error("internal", "%s", err);
}

static struct json_object *changes_json(const struct tko_plan *p)
{
	struct json_object *arr = json_object_new_array();

	for (int i = 0; i < p->nchanges; i++)
		json_object_array_add(arr, json_object_new_string(p->changes[i]));
	return arr;
}

static struct json_object *reply(const char *cmd, bool dry_run, const struct tko_plan *p,
				 bool applied, struct json_object *reload)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "cmd", json_object_new_string(cmd));
	json_object_object_add(o, "dry_run", json_object_new_boolean(dry_run));
	json_object_object_add(o, "state", json_object_new_string(
		tko_state_name(applied ? p->after : p->before)));
	json_object_object_add(o, "planned_state", json_object_new_string(
		tko_state_name(p->after)));
	json_object_object_add(o, "changes", changes_json(p));
	json_object_object_add(o, "applied", json_object_new_boolean(applied));
	json_object_object_add(o, "reload", reload);
	return o;
}

/* A takeover is pointless while nothing tells mwan3 when an interface fails. */
static void warn_controller(struct json_object *o, const struct config *c, enum tko_cmd cmd)
{
	if (cmd != TKO_TAKEOVER || (c->main.controller != CFG_CTL_ROUTE &&
				    c->main.controller != CFG_CTL_NONE))
		return;
	json_object_object_add(o, "warning", json_object_new_string(
		"controller is not mwan3: without mwan3track nothing will tell mwan3 that an "
		"interface failed; set controller 'mwan3' (or 'auto')"));
}

static const char *nothing_to_do(enum tko_cmd cmd, enum tko_state st)
{
	if (st == TKO_AUTONOMY && cmd == TKO_TAKEOVER)
		return "nothing to change: autonomy already tracks every managed interface";
	if (st == TKO_MWAN3 && cmd == TKO_RELEASE)
		return "nothing to change: mwan3 already tracks every managed interface";
	if (cmd == TKO_TAKEOVER)
		return "nothing to change: no interface autonomy manages has track_ip";
	return "nothing to change: no interface autonomy manages has autonomy_track_ip";
}

static struct json_object *change(const char *cmd_name, enum tko_cmd cmd, bool dry_run,
				  const struct config *c, struct ev_loop *loop)
{
	char err[TKO_ERR_LEN], line[CFG_PATH_LEN], *argv[TKO_RELOAD_MAX_ARGS];
	const char *names[CFG_MAX_MEMBERS];
	struct json_object *o, *reload;
	struct tko_scope scope;
	struct tko_plan p;
	int rc;

	if (!dry_run && run_busy(&R.run))
		return api_error("unavailable", "the last mwan3 reload (%s) is still running; "
				 "try again when it is done", R.cmd);
	strlcpy_ok(line, c->main.mwan3_reload, sizeof(line));
	if (tko_split(line, argv, TKO_RELOAD_MAX_ARGS) < 0)
		return api_error("invalid_argument", "mwan3_reload has more than %d words",
				 TKO_RELOAD_MAX_ARGS - 1);
	scope_of(c, &scope, names);
	rc = tko_plan(c->main.config_root, cmd, &scope, &p, err, sizeof(err));
	if (rc < 0) {
		tko_plan_free(&p);
		return plan_error(rc, err);
	}
	if (dry_run || !p.nchanges) {
		reload = json_object_new_object();
		json_object_object_add(reload, "command",
				       json_object_new_string(c->main.mwan3_reload));
		json_object_object_add(reload, "started", json_object_new_boolean(0));
		o = reply(cmd_name, dry_run, &p, false, reload);
		if (!p.nchanges)
			json_object_object_add(o, "message", json_object_new_string(
				nothing_to_do(cmd, p.before)));
	} else if (tko_write(c->main.config_root, &p, err, sizeof(err)) < 0) {
		tko_plan_free(&p);
		return api_error("internal", "%s", err);
	} else {
		evlog_add("mwan3", cmd_name, NULL, NULL, "%d change(s) to %s/mwan3, tracking: %s",
			  p.nchanges, c->main.config_root, tko_state_name(p.after));
		o = reply(cmd_name, dry_run, &p, true, reload_start(c, loop));
	}
	warn_controller(o, c, cmd);
	tko_plan_free(&p);
	return o;
}

static struct json_object *status(const struct config *c)
{
	const char *names[CFG_MAX_MEMBERS];
	struct json_object *o;
	char err[TKO_ERR_LEN];
	struct tko_scope scope;
	struct uci_file f;
	int rc;

	scope_of(c, &scope, names);
	rc = read_model(c->main.config_root, &f, err, sizeof(err));
	if (rc < 0 && rc != -ENOENT)
		return plan_error(rc, err);
	o = json_object_new_object();
	json_object_object_add(o, "cmd", json_object_new_string("status"));
	json_object_object_add(o, "state", json_object_new_string(
		tko_state_name(rc < 0 ? TKO_NONE : state_of(&f, &scope))));
	json_object_object_add(o, "changes", json_object_new_array());
	json_object_object_add(o, "applied", json_object_new_boolean(0));
	json_object_object_add(o, "reload", last_reload_json());
	if (rc < 0)
		json_object_object_add(o, "message", json_object_new_string(err));
	uci_file_free(&f);
	return o;
}

struct json_object *tko_call(const char *cmd, bool dry_run, const struct config *c,
			     struct ev_loop *loop)
{
	if (!cmd)
		return api_error("invalid_argument", "mwan3 needs cmd (takeover, release, status)");
	if (!strcmp(cmd, "takeover"))
		return change(cmd, TKO_TAKEOVER, dry_run, c, loop);
	if (!strcmp(cmd, "release"))
		return change(cmd, TKO_RELEASE, dry_run, c, loop);
	if (!strcmp(cmd, "status"))
		return status(c);
	return api_error("invalid_argument", "unknown cmd '%s' (takeover, release, status)", cmd);
}

/* ---- status ------------------------------------------------------------------------- */

/* status is asked often: the state is kept while the file and the configuration
 * are the same (same inode, size and mtime; the same member names). */
static struct {
	bool valid;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	char root[CFG_PATH_LEN];
	unsigned names_crc;
	int state;		/* enum tko_state or -errno */
} S;

static unsigned names_crc(const struct tko_scope *scope)
{
	uint32_t crc = scope->names ? 1 : 0;

	for (int i = 0; i < scope->nnames; i++)
		crc = crc32_ieee((const uint8_t *)scope->names[i], strlen(scope->names[i]) + 1) ^
		      (crc * 31);
	return crc;
}

static int cached_state(const struct config *c, const struct stat *st,
			const struct tko_scope *scope)
{
	unsigned crc = names_crc(scope);

	if (S.valid && S.dev == st->st_dev && S.ino == st->st_ino && S.size == st->st_size &&
	    S.mtime.tv_sec == st->st_mtim.tv_sec && S.mtime.tv_nsec == st->st_mtim.tv_nsec &&
	    !strcmp(S.root, c->main.config_root) && S.names_crc == crc)
		return S.state;
	S.state = tko_state(c->main.config_root, scope);
	S.valid = true;
	S.dev = st->st_dev;
	S.ino = st->st_ino;
	S.size = st->st_size;
	S.mtime = st->st_mtim;
	S.names_crc = crc;
	strlcpy_ok(S.root, c->main.config_root, sizeof(S.root));
	return S.state;
}

struct json_object *tko_status_json(const struct config *c)
{
	const char *names[CFG_MAX_MEMBERS];
	char path[PATH_MAX];
	struct tko_scope scope;
	struct json_object *o;
	struct stat st;
	int state;

	snprintf(path, sizeof(path), "%s/mwan3", c->main.config_root);
	if (stat(path, &st) < 0)
		return NULL;
	scope_of(c, &scope, names);
	state = cached_state(c, &st, &scope);
	o = json_object_new_object();
	json_object_object_add(o, "tracking", state < 0 ? NULL :
			       json_object_new_string(tko_state_name(state)));
	if (state < 0)
		json_object_object_add(o, "error", json_object_new_string(
			state == -EINVAL ? "the mwan3 file has lines uci cannot read" :
					   strerror(-state)));
	json_object_object_add(o, "reload", last_reload_json());
	return o;
}
