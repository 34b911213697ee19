#include "api/api.h"
#include "api/http.h"
#include "config/config.h"
#include "control/conntrack.h"
#include "control/takeover.h"
#include "core/daemon.h"
#include "core/log.h"
#include "core/util.h"
#include "decide/engine.h"
#include "member/member.h"
#include "notify/notify.h"
#include "telem/evlog.h"
#include "telem/mqtt.h"
#include "telem/history.h"
#include "telem/resource.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <json-c/json.h>

struct api_param {
	const char *name;
	enum json_type type;
};

struct api_method {
	const char *name;
	struct json_object *(*fn)(struct json_object *params);
	const struct api_param *params;	/* ends with a NULL name */
};

struct json_object *api_error(const char *code, const char *fmt, ...)
{
	struct json_object *res = json_object_new_object(), *err = json_object_new_object();
	char msg[CFG_ERR_LEN + 64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(err, "code", json_object_new_string(code));
	json_object_object_add(err, "message", json_object_new_string(msg));
	json_object_object_add(res, "error", err);
	return res;
}

static const char *param_str(struct json_object *params, const char *name)
{
	struct json_object *v;

	if (!params || !json_object_object_get_ex(params, name, &v) || !v)
		return NULL;
	return json_object_get_string(v);
}

static struct json_object *ts_or_null(int64_t wall)
{
	char buf[RFC3339_LEN];

	return wall > 0 ? json_object_new_string(fmt_rfc3339(buf, wall)) : NULL;
}

/* ---- methods ------------------------------------------------------------------ */

static struct json_object *members_json(bool detail)
{
	struct json_object *arr = json_object_new_array();

	for (int i = 0; i < mem_count(); i++) {
		struct json_object *o = mem_to_json(mem_get(i), detail);

		if (eng_running())
			eng_member_json(mem_get(i), o, detail);
		json_object_array_add(arr, o);
	}
	return arr;
}

static struct json_object *config_state_json(void)
{
	struct json_object *o = json_object_new_object();
	const struct daemon_ctx *d = &daemon_ctx;

	json_object_object_add(o, "path", json_object_new_string(d->cfg_path));
	json_object_object_add(o, "loaded", ts_or_null(d->cfg_loaded));
	json_object_object_add(o, "error", d->cfg_error[0] ? json_object_new_string(d->cfg_error) : NULL);
	return o;
}

static struct json_object *m_status(struct json_object *params)
{
	const struct daemon_ctx *d = &daemon_ctx;
	struct json_object *o = json_object_new_object(), *mwan3;
	const struct evlog_entry *last = evlog_last();

	(void)params;
	json_object_object_add(o, "version", json_object_new_string(AUTONOMY_VERSION));
	if (eng_running()) {
		eng_status_json(o);
	} else {
		/* Without the engine nothing decides, so nothing is claimed active. */
		json_object_object_add(o, "active", NULL);
		json_object_object_add(o, "active_since", NULL);
		json_object_object_add(o, "controller", json_object_new_string("none"));
		json_object_object_add(o, "state", json_object_new_string("observing"));
	}
	json_object_object_add(o, "uptime_s", json_object_new_int64((mono_ms() - d->started_mono) / 1000));
	json_object_object_add(o, "members", members_json(false));
	json_object_object_add(o, "last_event", last ? evlog_entry_json(last) : NULL);
	json_object_object_add(o, "config", config_state_json());
	/* only where config_root/mwan3 exists, whatever the controller */
	mwan3 = tko_status_json(&d->cfg);
	if (mwan3)
		json_object_object_add(o, "mwan3", mwan3);
	return o;
}

static struct json_object *m_members(struct json_object *params)
{
	(void)params;
	return members_json(true);
}

static struct json_object *m_events(struct json_object *params)
{
	struct json_object *v;
	int64_t limit = 50;

	if (params && json_object_object_get_ex(params, "limit", &v)) {
		limit = json_object_get_int64(v);
		if (limit < 1 || limit > EVLOG_SIZE)
			return api_error("invalid_argument", "limit must be between 1 and %d",
					 EVLOG_SIZE);
	}
	return evlog_json((int)limit);
}

static struct json_object *m_history(struct json_object *params)
{
	const char *name = param_str(params, "name"), *res_name = param_str(params, "resolution");
	struct json_object *v, *o;
	int64_t since = 3600;
	int res = HIST_AUTO;

	if (!name)
		return api_error("invalid_argument", "history needs name (a member, or system)");
	if (params && json_object_object_get_ex(params, "since_s", &v)) {
		since = json_object_get_int64(v);
		if (since < 1 || since > HIST_MAX_SINCE_S)
			return api_error("invalid_argument", "since_s must be between 1 and %d",
					 HIST_MAX_SINCE_S);
	}
	if (res_name) {
		res = hist_res_parse(res_name);
		if (res < HIST_AUTO)
			return api_error("invalid_argument", "unknown resolution '%s' "
					 "(raw, 10s, 1m or auto)", res_name);
	}
	o = hist_query(name, since, res, wall_ms() / 1000);
	if (!o)
		return api_error("not_found", "no history for '%s' (a member's name, or system)",
				 name);
	return o;
}

static struct json_object *ok_message(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static struct json_object *ok_message(const char *fmt, ...)
{
	struct json_object *o = json_object_new_object();
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "message", json_object_new_string(msg));
	return o;
}

static struct json_object *action_set_level(struct json_object *params)
{
	const char *level = param_str(params, "level");
	int lvl;

	if (!level)
		return api_error("invalid_argument", "set_level needs a level (debug, info, warn, error)");
	lvl = log_level_parse(level);
	if (lvl < 0)
		return api_error("invalid_argument", "unknown log level '%s' (debug, info, warn, error)",
				 level);
	log_set_level((enum log_level)lvl);
	evlog_add("log", "level", NULL, NULL, "log level set to %s", log_level_name((enum log_level)lvl));
	return ok_message("log level set to %s", log_level_name((enum log_level)lvl));
}

static struct json_object *m_action(struct json_object *params)
{
	static const char *const engine_cmds[] = { "failover", "restore", "recheck", NULL };
	const char *cmd = param_str(params, "cmd"), *name = param_str(params, "name");

	if (!cmd)
		return api_error("invalid_argument", "action needs cmd (failover, restore, recheck, set_level)");
	if (!strcmp(cmd, "set_level"))
		return action_set_level(params);
	for (int i = 0; engine_cmds[i]; i++) {
		if (strcmp(cmd, engine_cmds[i]))
			continue;
		if (name && !mem_find(name))
			return api_error("invalid_argument", "no member named '%s'", name);
		if (!eng_running())
			return api_error("unavailable", "%s needs the decision engine, which is not running",
					 cmd);
		return eng_action(cmd, name);
	}
	return api_error("invalid_argument", "unknown cmd '%s' (failover, restore, recheck, set_level)",
			 cmd);
}

static struct json_object *m_config_get(struct json_object *params)
{
	struct json_object *v;
	bool schema = params && json_object_object_get_ex(params, "schema", &v) &&
		      json_object_get_boolean(v);

	return cfg_to_json(&daemon_ctx.cfg, daemon_ctx.cfg_path, schema);
}

static struct json_object *m_config_set(struct json_object *params)
{
	static struct config next;	/* large; the loop is single-threaded */
	struct json_object *values = NULL, *changed = NULL, *res, *err;
	struct cfg_set_error e = { 0 };

	if (!params || !json_object_object_get_ex(params, "values", &values))
		return api_error("invalid_argument", "config.set needs values {\"section.option\": value}");
	if (cfg_set(daemon_ctx.cfg_path, values, &next, &changed, &e) < 0) {
		res = api_error(e.code, "%s", e.msg);
		if (e.field[0] && json_object_object_get_ex(res, "error", &err))
			json_object_object_add(err, "field", json_object_new_string(e.field));
		return res;
	}
	if (json_object_array_length(changed)) {
		daemon_apply(&next);
		evlog_add("config", "set", NULL, NULL, "configuration changed through the API: %s",
			  json_object_to_json_string_ext(changed, JSON_PLAIN));
	}
	res = json_object_new_object();
	json_object_object_add(res, "ok", json_object_new_boolean(1));
	json_object_object_add(res, "changed", changed);
	return res;
}

static struct json_object *features_json(void)
{
	static const char *const features[] = { "unix-socket", "uci-config", "http", "prometheus",
						 "mqtt", "history", "notify", "cellular", "wifi",
						 "data-budget", "mwan3-takeover",
						 WITH_STARLINK ? "starlink" : NULL,
						 NULL };
	struct json_object *arr = json_object_new_array();

	for (int i = 0; features[i]; i++)
		json_object_array_add(arr, json_object_new_string(features[i]));
	if (daemon_ctx.engine)
		json_object_array_add(arr, json_object_new_string("engine"));
	return arr;
}

static struct json_object *m_info(struct json_object *params)
{
	const struct daemon_ctx *d = &daemon_ctx;
	struct json_object *o = json_object_new_object(), *build = json_object_new_object(),
			   *cpu = json_object_new_object();
	struct rusage ru;
	double rss = res_last()->rss_kb;	/* telem/resource.c reads /proc/self/statm */

	(void)params;
	getrusage(RUSAGE_SELF, &ru);
	json_object_object_add(o, "version", json_object_new_string(AUTONOMY_VERSION));
	json_object_object_add(build, "git", json_object_new_string(AUTONOMY_GIT));
	json_object_object_add(build, "date", json_object_new_string(__DATE__ " " __TIME__));
#ifdef __clang__
	json_object_object_add(build, "compiler", json_object_new_string("clang " __clang_version__));
#else
	json_object_object_add(build, "compiler", json_object_new_string("gcc " __VERSION__));
#endif
	json_object_object_add(o, "build", build);
	json_object_object_add(o, "features", features_json());
	json_object_object_add(o, "pid", json_object_new_int(getpid()));
	json_object_object_add(o, "started", ts_or_null(d->started_wall));
	json_object_object_add(o, "uptime_s", json_object_new_int64((mono_ms() - d->started_mono) / 1000));
	json_object_object_add(o, "rss_kb", isnan(rss) || rss <= 0 ? NULL :
			       json_object_new_int64((int64_t)rss));
	json_object_object_add(cpu, "user", json_object_new_int64((int64_t)ru.ru_utime.tv_sec * 1000 +
								  ru.ru_utime.tv_usec / 1000));
	json_object_object_add(cpu, "system", json_object_new_int64((int64_t)ru.ru_stime.tv_sec * 1000 +
								    ru.ru_stime.tv_usec / 1000));
	json_object_object_add(o, "cpu_ms", cpu);
	json_object_object_add(o, "resources", res_json());
	json_object_object_add(o, "history", hist_info_json());
	json_object_object_add(o, "config_path", json_object_new_string(d->cfg_path));
	json_object_object_add(o, "state_dir", json_object_new_string(d->state_dir));
	json_object_object_add(o, "log_level", json_object_new_string(log_level_name(log_threshold)));
	json_object_object_add(o, "mqtt", mqtt_info_json());
	json_object_object_add(o, "http", http_info_json());
	json_object_object_add(o, "notify", notify_info_json());
	json_object_object_add(o, "conntrack", ct_json());
	return o;
}

static struct json_object *m_notify_test(struct json_object *params)
{
	return notify_test_json(param_str(params, "channel"));
}

static struct json_object *m_notify_status(struct json_object *params)
{
	struct json_object *v;

	if (!params || !json_object_object_get_ex(params, "id", &v))
		return api_error("invalid_argument", "notify.status needs the id notify.test gave");
	return notify_status_json(json_object_get_int64(v));
}

static struct json_object *m_mwan3(struct json_object *params)
{
	struct json_object *v;
	bool dry_run = params && json_object_object_get_ex(params, "dry_run", &v) &&
		       json_object_get_boolean(v);

	return tko_call(param_str(params, "cmd"), dry_run, &daemon_ctx.cfg, daemon_ctx.loop);
}

/* ---- the table ------------------------------------------------------------------ */

static const struct api_param no_params[] = { { NULL, 0 } };
static const struct api_param events_params[] = { { "limit", json_type_int }, { NULL, 0 } };
static const struct api_param history_params[] = {
	{ "name", json_type_string }, { "since_s", json_type_int },
	{ "resolution", json_type_string }, { NULL, 0 }
};
static const struct api_param action_params[] = {
	{ "cmd", json_type_string }, { "name", json_type_string },
	{ "level", json_type_string }, { NULL, 0 }
};
static const struct api_param get_params[] = { { "schema", json_type_boolean }, { NULL, 0 } };
static const struct api_param set_params[] = { { "values", json_type_object }, { NULL, 0 } };
static const struct api_param ntest_params[] = { { "channel", json_type_string }, { NULL, 0 } };
static const struct api_param nstatus_params[] = { { "id", json_type_int }, { NULL, 0 } };
static const struct api_param mwan3_params[] = {
	{ "cmd", json_type_string }, { "dry_run", json_type_boolean }, { NULL, 0 }
};

static const struct api_method methods[] = {
	{ "status", m_status, no_params },
	{ "members", m_members, no_params },
	{ "events", m_events, events_params },
	{ "history", m_history, history_params },
	{ "action", m_action, action_params },
	{ "config.get", m_config_get, get_params },
	{ "config.set", m_config_set, set_params },
	{ "info", m_info, no_params },
	{ "notify.test", m_notify_test, ntest_params },
	{ "notify.status", m_notify_status, nstatus_params },
	{ "mwan3", m_mwan3, mwan3_params },
};

static const char *type_word(enum json_type t)
{
	switch (t) {
	case json_type_int: return "a number";
	case json_type_boolean: return "true or false";
	case json_type_object: return "an object";
	default: return "a string";
	}
}

/* Unknown parameters are refused so a typo does not silently do nothing. */
static struct json_object *check_params(const struct api_method *m, struct json_object *params)
{
	if (!params)
		return NULL;
	json_object_object_foreach(params, key, val) {
		const struct api_param *p = m->params;

		while (p->name && strcmp(p->name, key))
			p++;
		if (!p->name)
			return api_error("invalid_argument", "%s takes no parameter '%s'", m->name, key);
		if (!json_object_is_type(val, p->type))
			return api_error("invalid_argument", "parameter '%s' must be %s", key,
					 type_word(p->type));
	}
	return NULL;
}

struct json_object *api_call(const char *method, struct json_object *params)
{
	for (size_t i = 0; i < ARRAY_SIZE(methods); i++) {
		struct json_object *err;

		if (strcmp(methods[i].name, method))
			continue;
		err = check_params(&methods[i], params);
		return err ? err : methods[i].fn(params);
	}
	return api_error("unknown_method", "unknown method '%s'", method);
}

enum json_type api_param_type(const char *method, const char *param)
{
	for (size_t i = 0; i < ARRAY_SIZE(methods); i++) {
		if (strcmp(methods[i].name, method))
			continue;
		for (const struct api_param *p = methods[i].params; p->name; p++)
			if (!strcmp(p->name, param))
				return p->type;
	}
	return json_type_null;
}

/* By name only (HTTP decides before it reads parameters): mwan3 is a write with
 * every cmd, status too; its state alone is in status. */
bool api_is_write(const char *method)
{
	return !strcmp(method, "action") || !strcmp(method, "config.set") ||
	       !strcmp(method, "notify.test") || !strcmp(method, "mwan3");
}

static char *to_line(struct json_object *o, size_t *outlen)
{
	size_t len;
	const char *s = json_object_to_json_string_length(o, JSON_PLAIN, &len);
	char *line = xmalloc(len + 2);

	memcpy(line, s, len);
	line[len] = '\n';
	line[len + 1] = '\0';
	*outlen = len + 1;
	return line;
}

char *api_error_line(const char *code, const char *message, size_t *outlen)
{
	struct json_object *o = api_error(code, "%s", message);
	char *line = to_line(o, outlen);

	json_object_put(o);
	return line;
}

static struct json_object *parse_request(const char *line, size_t len)
{
	struct json_tokener *tok;
	struct json_object *req;

	if (len > API_MAX_REQUEST || memchr(line, '\0', len))
		return NULL;
	tok = json_tokener_new();
	req = json_tokener_parse_ex(tok, line, (int)len);
	/* Everything after the object must be white space. */
	if (req && json_tokener_get_error(tok) == json_tokener_success) {
		for (size_t i = json_tokener_get_parse_end(tok); i < len; i++) {
			if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r' && line[i] != '\n') {
				json_object_put(req);
				req = NULL;
				break;
			}
		}
	} else {
		json_object_put(req);
		req = NULL;
	}
	json_tokener_free(tok);
	return req;
}

static struct json_object *handle(struct json_object *req)
{
	struct json_object *method, *params = NULL;

	if (!json_object_is_type(req, json_type_object))
		return api_error("invalid_request", "a request is a JSON object {\"method\":…,\"params\":{…}}");
	if (!json_object_object_get_ex(req, "method", &method) ||
	    !json_object_is_type(method, json_type_string))
		return api_error("invalid_request", "the request has no method (a string)");
	json_object_object_foreach(req, key, val) {
		(void)val;
		if (strcmp(key, "method") && strcmp(key, "params"))
			return api_error("invalid_request", "unknown request field '%s'", key);
	}
	if (json_object_object_get_ex(req, "params", &params) && params &&
	    !json_object_is_type(params, json_type_object))
		return api_error("invalid_request", "params must be an object");
	return api_call(json_object_get_string(method), params);
}

char *api_handle_line(const char *line, size_t len, size_t *outlen)
{
	struct json_object *req = parse_request(line, len), *res;
	char *out;

	if (!req && len > API_MAX_REQUEST)
		return api_error_line("too_large", "request larger than 65536 bytes", outlen);
	res = req ? handle(req) : api_error("invalid_request", "the request is not valid JSON");
	out = to_line(res, outlen);
	json_object_put(res);
	json_object_put(req);
	return out;
}
