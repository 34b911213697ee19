#include "notify/notify.h"
#include "api/api.h"
#include "core/daemon.h"
#include "core/log.h"
#include "core/sha256.h"
#include "core/util.h"
#include "notify/send.h"
#include "telem/evlog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>
#include <json-c/json.h>

#define TICK_S		1.0
#define ALERT_EVERY	5		/* ticks between looks at the dish alerts */
#define RESULTS		32		/* recent messages notify.status knows */
#define TITLE_LEN	128
#define TEXT_LEN	1024
#define ALERTS_LEN	512

struct msg {
	const char *event;		/* "failover", …, "test" */
	int prio;			/* enum notify_prio */
	char title[TITLE_LEN];
	char text[TEXT_LEN];
	const char *from, *to, *reason;	/* may be NULL */
};

struct result {
	unsigned id;
	char notifier[CFG_NAME_LEN];
	const char *state;		/* "sending", "delivered", "failed", "dropped" */
	char answer[NSEND_ANSWER_LEN];
};

struct seen_alerts {
	char member[CFG_NAME_LEN];
	char alerts[ALERTS_LEN];	/* " a b c " */
};

static struct {
	struct ev_loop *loop;
	bool running;
	int nnf;
	struct cfg_notifier nf[CFG_MAX_NOTIFIERS];
	struct nrules rules;
	ev_timer tick;
	unsigned ticks;
	char host[64];
	struct result results[RESULTS];
	unsigned nresults;
	struct seen_alerts seen[CFG_MAX_MEMBERS];
	bool alerts_primed;
	bool crash_pending;
} T;

/* ---- results (notify.status) ---------------------------------------------------- */

static struct result *result_of(unsigned id)
{
	for (int i = 0; i < RESULTS; i++)
		if (T.results[i].id == id)
			return &T.results[i];
	return NULL;
}

static void sent_cb(unsigned id, enum nsend_result res, const char *answer, void *ctx)
{
	struct result *r = result_of(id);

	(void)ctx;
	if (!r)
		return;
	r->state = res == NSEND_OK ? "delivered" : res == NSEND_FAILED ? "failed" : "dropped";
	strlcpy_ok(r->answer, answer, sizeof(r->answer));
}

static void remember(unsigned id, const char *notifier)
{
	struct result *r = &T.results[T.nresults++ % RESULTS];

	memset(r, 0, sizeof(*r));
	r->id = id;
	r->state = "sending";
	strlcpy_ok(r->notifier, notifier, sizeof(r->notifier));
}

/* ---- channels ------------------------------------------------------------------- */

static const char *base_url(const struct cfg_notifier *n, const char *public)
{
	return n->url[0] ? n->url : public;
}

/* url + path without a doubled '/'. */
static void join_url(char *buf, size_t size, const char *base, const char *path)
{
	size_t len = strlen(base);

	snprintf(buf, size, "%.*s%s", (int)(len && base[len - 1] == '/' ? len - 1 : len), base, path);
}

static char *json_body(struct json_object *o, size_t *len)
{
	const char *s = json_object_to_json_string_length(o, JSON_PLAIN, len);
	char *copy = xstrdup(s);

	json_object_put(o);
	return copy;
}

static void add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, v && *v ? json_object_new_string(v) : NULL);
}

/* HMAC-SHA256 of "TIMESTAMP.BODY" with the notifier's token, in hex. */
static void sign(const char *key, const char *ts, const char *body, size_t len, char *hex)
{
	uint8_t mac[SHA256_LEN];
	size_t tl = strlen(ts);
	char *data = xmalloc(tl + 1 + len);

	memcpy(data, ts, tl);
	data[tl] = '.';
	memcpy(data + tl + 1, body, len);
	hmac_sha256((const uint8_t *)key, strlen(key), (const uint8_t *)data, tl + 1 + len, mac);
	free(data);
	for (int i = 0; i < SHA256_LEN; i++)
		sprintf(hex + 2 * i, "%02x", mac[i]);
	hex[2 * SHA256_LEN] = '\0';
}

static unsigned send_webhook(const struct cfg_notifier *n, const struct msg *m, char *err,
			     size_t errlen)
{
	struct json_object *o = json_object_new_object();
	char ts[24], when[RFC3339_LEN], hts[64], hsig[192], hex[2 * SHA256_LEN + 1];
	const char *headers[4] = { "Content-Type: application/json", NULL, NULL, NULL };
	struct nsend_req r = { .url = n->url, .headers = headers, .cafile = n->cafile };
	int64_t now = wall_ms();
	unsigned id;
	char *body;

	add_str(o, "event", m->event);
	add_str(o, "priority", cfg_prio_names[m->prio]);
	add_str(o, "title", m->title);
	add_str(o, "message", m->text);
	add_str(o, "host", T.host);
	add_str(o, "ts", fmt_rfc3339(when, now));
	add_str(o, "from", m->from);
	add_str(o, "to", m->to);
	add_str(o, "reason", m->reason);
	body = json_body(o, &r.body_len);
	r.body = body;
	snprintf(ts, sizeof(ts), "%lld", (long long)(now / 1000));
	snprintf(hts, sizeof(hts), "X-Autonomy-Timestamp: %s", ts);
	headers[1] = hts;
	if (n->token[0]) {
		sign(n->token, ts, body, r.body_len, hex);
		snprintf(hsig, sizeof(hsig), "X-Autonomy-Signature: sha256=%s", hex);
		headers[2] = hsig;
	}
	id = nsend_queue(n->name, &r, sent_cb, NULL, err, errlen);
	free(body);
	return id;
}

static unsigned send_ntfy(const struct cfg_notifier *n, const struct msg *m, char *err,
			  size_t errlen)
{
	static const int prio[] = { 2, 3, 4, 5 };
	struct json_object *o = json_object_new_object(), *tags = json_object_new_array();
	char auth[300];
	const char *headers[3] = { "Content-Type: application/json", NULL, NULL };
	struct nsend_req r = { .url = base_url(n, "https://ntfy.sh"), .headers = headers,
			       .cafile = n->cafile };
	unsigned id;
	char *body;

	add_str(o, "topic", n->to);
	add_str(o, "title", m->title);
	add_str(o, "message", m->text);
	json_object_object_add(o, "priority", json_object_new_int(prio[m->prio]));
	json_object_array_add(tags, json_object_new_string(m->event));
	json_object_object_add(o, "tags", tags);
	body = json_body(o, &r.body_len);
	r.body = body;
	if (n->token[0]) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", n->token);
		headers[1] = auth;
	}
	id = nsend_queue(n->name, &r, sent_cb, NULL, err, errlen);
	free(body);
	return id;
}

/* application/x-www-form-urlencoded value */
static void form_add(char **buf, size_t *len, const char *key, const char *v)
{
	size_t need = *len + strlen(key) + 3 * strlen(v) + 3;

	*buf = xrealloc(*buf, need);
	*len += (size_t)sprintf(*buf + *len, "%s%s=", *len ? "&" : "", key);
	for (const unsigned char *c = (const unsigned char *)v; *c; c++) {
		if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		    (*c >= '0' && *c <= '9') || strchr("-._~", *c))
			(*buf)[(*len)++] = (char)*c;
		else
			*len += (size_t)sprintf(*buf + *len, "%%%02X", *c);
	}
	(*buf)[*len] = '\0';
}

static unsigned send_pushover(const struct cfg_notifier *n, const struct msg *m, char *err,
			      size_t errlen)
{
	static const char *const prio[] = { "-1", "0", "1", "1" };
	static const char *const headers[] = {
		"Content-Type: application/x-www-form-urlencoded", NULL
	};
	char url[CFG_URL_LEN + 32], *body = NULL;
	struct nsend_req r = { .url = url, .headers = headers, .cafile = n->cafile };
	size_t len = 0;
	unsigned id;

	join_url(url, sizeof(url), base_url(n, "https://api.pushover.net"), "/1/messages.json");
	form_add(&body, &len, "token", n->token);
	form_add(&body, &len, "user", n->to);
	form_add(&body, &len, "title", m->title);
	form_add(&body, &len, "message", m->text);
	form_add(&body, &len, "priority", prio[m->prio]);
	r.body = body;
	r.body_len = len;
	id = nsend_queue(n->name, &r, sent_cb, NULL, err, errlen);
	free(body);
	return id;
}

static unsigned send_telegram(const struct cfg_notifier *n, const struct msg *m, char *err,
			      size_t errlen)
{
	static const char *const headers[] = { "Content-Type: application/json", NULL };
	struct json_object *o = json_object_new_object();
	char url[CFG_URL_LEN + 300], path[300], text[TITLE_LEN + TEXT_LEN + 2];
	struct nsend_req r = { .url = url, .headers = headers, .cafile = n->cafile };
	unsigned id;
	char *body;

	/* The bot token is part of the URL: the URL is never logged. */
	snprintf(path, sizeof(path), "/bot%s/sendMessage", n->token);
	join_url(url, sizeof(url), base_url(n, "https://api.telegram.org"), path);
	snprintf(text, sizeof(text), "%s\n%s", m->title, m->text);
	add_str(o, "chat_id", n->to);
	add_str(o, "text", text);
	json_object_object_add(o, "disable_notification",
			       json_object_new_boolean(m->prio == NOTIFY_PRIO_LOW));
	body = json_body(o, &r.body_len);
	r.body = body;
	id = nsend_queue(n->name, &r, sent_cb, NULL, err, errlen);
	free(body);
	return id;
}

/* A plain-text mail with CRLF line ends (curl dot-stuffs the body). */
static unsigned send_email(const struct cfg_notifier *n, const struct msg *m, char *err,
			   size_t errlen)
{
	struct nsend_req r = { .url = n->url, .cafile = n->cafile, .mail_from = n->from,
			       .mail_rcpt = n->to, .username = n->user, .password = n->token,
			       .starttls = n->starttls };
	size_t len = 0, cap = 2 * TEXT_LEN + 1024;
	char *body = xmalloc(cap), date[64];
	time_t now = time(NULL);
	struct tm tm;
	unsigned id;

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	len += (size_t)snprintf(body + len, cap - len,
				"From: %s\r\nTo: %s\r\nSubject: [%s] %s\r\nDate: %s\r\n"
				"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
				"Content-Transfer-Encoding: 8bit\r\nX-Autonomy-Event: %s\r\n\r\n",
				n->from, n->to, cfg_prio_names[m->prio], m->title, date, m->event);
	for (const char *c = m->text; *c && len + 3 < cap; c++) {
		if (*c == '\n')
			body[len++] = '\r';
		body[len++] = *c;
	}
	len += (size_t)snprintf(body + len, cap - len, "\r\n");
	r.body = body;
	r.body_len = len < cap ? len : cap - 1;
	id = nsend_queue(n->name, &r, sent_cb, NULL, err, errlen);
	free(body);
	return id;
}

static unsigned send_to(const struct cfg_notifier *n, const struct msg *m, char *err,
			size_t errlen)
{
	switch (n->type) {
	case NOTIFIER_WEBHOOK: return send_webhook(n, m, err, errlen);
	case NOTIFIER_NTFY: return send_ntfy(n, m, err, errlen);
	case NOTIFIER_PUSHOVER: return send_pushover(n, m, err, errlen);
	case NOTIFIER_TELEGRAM: return send_telegram(n, m, err, errlen);
	case NOTIFIER_EMAIL: return send_email(n, m, err, errlen);
	default:
		snprintf(err, errlen, "unknown notifier type");
		return 0;
	}
}

static bool has_scheme(const char *url, const char *a, const char *b)
{
	return !strncmp(url, a, strlen(a)) || !strncmp(url, b, strlen(b));
}

/* What a notifier needs before anything can be sent; NULL when it has it. */
static const char *missing(const struct cfg_notifier *n)
{
	if (n->type == NOTIFIER_EMAIL && n->url[0] && !has_scheme(n->url, "smtp://", "smtps://"))
		return "url must start with smtp:// or smtps://";
	if (n->type != NOTIFIER_EMAIL && n->url[0] && !has_scheme(n->url, "http://", "https://"))
		return "url must start with http:// or https://";
	switch (n->type) {
	case NOTIFIER_WEBHOOK:
		return n->url[0] ? NULL : "a webhook needs a url";
	case NOTIFIER_NTFY:
		return n->to[0] ? NULL : "ntfy needs the topic in 'to'";
	case NOTIFIER_PUSHOVER:
		return n->to[0] && n->token[0] ? NULL :
		       "Pushover needs the user key in 'to' and the app token in 'token'";
	case NOTIFIER_TELEGRAM:
		return n->to[0] && n->token[0] ? NULL :
		       "Telegram needs the chat id in 'to' and the bot token in 'token'";
	case NOTIFIER_EMAIL:
		return n->url[0] && n->to[0] && n->from[0] ? NULL :
		       "email needs url (smtp://host:587), from and to";
	default:
		return "unknown notifier type";
	}
}

/* To every enabled notifier that takes the priority; returns how many took it. */
static int fan_out(const struct msg *m)
{
	char err[256];
	int n = 0;

	for (int i = 0; i < T.nnf; i++) {
		const struct cfg_notifier *nf = &T.nf[i];
		unsigned id;

		if (!nf->enabled || m->prio < nf->min_priority || missing(nf))
			continue;
		id = send_to(nf, m, err, sizeof(err));
		if (!id) {
			log_warn("notify: %s: cannot send: %s", nf->name, err);
			continue;
		}
		remember(id, nf->name);
		n++;
	}
	return n;
}

/* ---- events -------------------------------------------------------------------- */

/* Without a notifier that can send, events are not even counted. */
static bool any_enabled(void)
{
	for (int i = 0; i < T.nnf; i++)
		if (T.nf[i].enabled && !missing(&T.nf[i]))
			return true;
	return false;
}

static int local_minute(void)
{
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	return tm.tm_hour * 60 + tm.tm_min;
}

static void offer(enum notify_event ev, const char *key, const char *title, const char *text,
		  const char *from, const char *to, const char *reason)
{
	struct msg m = { .event = cfg_notify_event_names[ev], .from = from, .to = to,
			 .reason = reason };
	char line[NR_LINE_LEN];
	enum nr_verdict v;

	if (!T.running || !any_enabled())
		return;
	snprintf(line, sizeof(line), "%s", text);
	v = nrules_offer(&T.rules, ev, key, line, mono_ms(), local_minute());
	if (v != NR_SEND) {
		if (v != NR_OFF)
			log_info("notify: %s not sent now (%s): %s", m.event, nrules_verdict_name(v),
				 line);
		return;
	}
	m.prio = nrules_prio(&T.rules, ev);
	snprintf(m.title, sizeof(m.title), "%s: %s", T.host, title);
	snprintf(m.text, sizeof(m.text), "%s", text);
	fan_out(&m);
}

static void on_switch(const struct evlog_entry *e)
{
	char key[NR_KEY_LEN], title[TITLE_LEN];
	bool back = !strcmp(e->reason, "failback");

	/* Messages that wait for a retry go out over the new uplink now. */
	nsend_retry_now();
	snprintf(key, sizeof(key), "%s->%s %s", e->from, e->to, e->reason);
	snprintf(title, sizeof(title), "%s to %s", back ? "failback" : "failover", e->to);
	offer(back ? NEV_FAILBACK : NEV_FAILOVER, key, title, e->msg, e->from, e->to, e->reason);
}

static void listener(const struct evlog_entry *e, void *ctx)
{
	char key[NR_KEY_LEN], title[TITLE_LEN];

	(void)ctx;
	if (!strcmp(e->type, "switch")) {
		if (strcmp(e->reason, "initial"))
			on_switch(e);
		return;
	}
	if (strcmp(e->type, "member"))
		return;
	if (!strcmp(e->reason, "data-budget")) {
		/* "lte has used 90 % of …": the percentage makes each threshold its own message */
		snprintf(title, sizeof(title), "%s data budget", e->from);
		offer(NEV_DATA_BUDGET, e->msg, title, e->msg, e->from, NULL, e->reason);
		return;
	}
	if (strcmp(e->reason, "down") && strcmp(e->reason, "up"))
		return;
	snprintf(key, sizeof(key), "%s %s", e->from, e->reason);
	snprintf(title, sizeof(title), "%s is %s", e->from, e->reason);
	offer(!strcmp(e->reason, "down") ? NEV_MEMBER_DOWN : NEV_MEMBER_UP, key, title, e->msg,
	      e->from, NULL, e->reason);
}

/* ---- dish alerts ---------------------------------------------------------------- */

static struct seen_alerts *seen_of(const char *member)
{
	struct seen_alerts *free_slot = NULL;

	for (int i = 0; i < CFG_MAX_MEMBERS; i++) {
		if (!strcmp(T.seen[i].member, member))
			return &T.seen[i];
		if (!free_slot && !T.seen[i].member[0])
			free_slot = &T.seen[i];
	}
	if (free_slot)
		strlcpy_ok(free_slot->member, member, sizeof(free_slot->member));
	return free_slot;
}

static void member_alerts(const char *name, struct json_object *alerts)
{
	struct seen_alerts *s = name ? seen_of(name) : NULL;
	char now[ALERTS_LEN] = " ", word[80], key[NR_KEY_LEN], text[NR_LINE_LEN], title[TITLE_LEN];
	size_t len = 1;

	if (!s)
		return;
	for (size_t i = 0; i < json_object_array_length(alerts); i++) {
		const char *a = json_object_get_string(json_object_array_get_idx(alerts, i));

		snprintf(word, sizeof(word), " %s ", a ? a : "");
		if (len + strlen(word) < sizeof(now))
			len += (size_t)snprintf(now + len, sizeof(now) - len, "%s ", word + 1);
		if (!a || strstr(s->alerts, word))
			continue;
		snprintf(key, sizeof(key), "%s %s", name, a);
		snprintf(title, sizeof(title), "dish alert on %s: %s", name, a);
		snprintf(text, sizeof(text), "%s: the Starlink dish reports the alert %s", name, a);
		offer(NEV_DISH_ALERT, key, title, text, name, NULL, a);
	}
	strlcpy_ok(s->alerts, now, sizeof(s->alerts));
}

/* Read-only: the same members JSON the API gives. A dish that is not
 * reachable has alerts null, which keeps what was seen before. */
static void check_alerts(void)
{
	struct json_object *arr = api_call("members", NULL);

	for (size_t i = 0; json_object_is_type(arr, json_type_array) &&
			   i < json_object_array_length(arr); i++) {
		struct json_object *m = json_object_array_get_idx(arr, i), *name, *sl, *alerts;

		if (json_object_object_get_ex(m, "name", &name) &&
		    json_object_object_get_ex(m, "starlink", &sl) &&
		    json_object_object_get_ex(sl, "alerts", &alerts) &&
		    json_object_is_type(alerts, json_type_array))
			member_alerts(json_object_get_string(name), alerts);
	}
	json_object_put(arr);
}

/* ---- the tick ------------------------------------------------------------------- */

static void send_digests(void)
{
	char text[TEXT_LEN], title[48];
	int64_t now = mono_ms();
	int minute = local_minute();

	for (int ev = 0; ev < __NEV_MAX; ev++) {
		struct msg m = { .event = cfg_notify_event_names[ev] };

		if (!nrules_digest(&T.rules, ev, now, minute, text, sizeof(text)))
			continue;
		m.prio = nrules_prio(&T.rules, ev);
		snprintf(title, sizeof(title), "digest of %s events", m.event);
		snprintf(m.title, sizeof(m.title), "%s: %s", T.host, title);
		snprintf(m.text, sizeof(m.text), "%s", text);
		log_info("notify: sending the digest of held %s events", m.event);
		fan_out(&m);
	}
}

static void tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	if (T.crash_pending) {
		T.crash_pending = false;
		offer(NEV_CRASH, "crash", "restarted after an unclean stop",
		      "autonomyd started, and its previous run did not stop cleanly "
		      "(a crash, a kill or a power loss)", NULL, NULL, NULL);
	}
	if (T.ticks++ % ALERT_EVERY == 0 && (T.rules.cfg.events & (1u << NEV_DISH_ALERT)))
		check_alerts();
	send_digests();
}

/* ---- API ------------------------------------------------------------------------ */

static const struct cfg_notifier *find_nf(const char *name)
{
	for (int i = 0; i < T.nnf; i++)
		if (!strcmp(T.nf[i].name, name))
			return &T.nf[i];
	return NULL;
}

static struct json_object *test_one(const struct cfg_notifier *n, struct json_object *arr,
				    char *err, size_t errlen)
{
	struct msg m = { .event = "test", .prio = NOTIFY_PRIO_NORMAL };
	const char *why = missing(n);
	struct json_object *o;
	unsigned id;

	if (why) {
		snprintf(err, errlen, "notifier '%s': %s", n->name, why);
		return NULL;
	}
	snprintf(m.title, sizeof(m.title), "%s: test message", T.host);
	snprintf(m.text, sizeof(m.text), "A test of the notifier '%s' (%s), sent by autonomyctl "
		 "notify test.", n->name, cfg_notifier_names[n->type]);
	id = send_to(n, &m, err, errlen);
	if (!id)
		return NULL;
	remember(id, n->name);
	o = json_object_new_object();
	json_object_object_add(o, "notifier", json_object_new_string(n->name));
	json_object_object_add(o, "id", json_object_new_int64(id));
	json_object_array_add(arr, o);
	return arr;
}

struct json_object *notify_test_json(const char *channel)
{
	struct json_object *res, *arr;
	const struct cfg_notifier *n;
	char err[300] = "";

	if (!T.running)
		return api_error("unavailable", "notifications are not running");
	if (channel) {
		n = find_nf(channel);
		if (!n)
			return api_error("invalid_argument", "no notifier named '%s'", channel);
		if (!n->enabled)
			return api_error("invalid_argument", "notifier '%s' is disabled (enabled 0)",
					 channel);
	}
	arr = json_object_new_array();
	for (int i = 0; i < T.nnf; i++) {
		n = &T.nf[i];
		if ((channel && strcmp(n->name, channel)) || (!channel && !n->enabled))
			continue;
		if (!test_one(n, arr, err, sizeof(err)) && channel) {
			json_object_put(arr);
			return api_error("invalid_argument", "%s", err);
		}
	}
	if (!json_object_array_length(arr)) {
		json_object_put(arr);
		return api_error("invalid_argument", "%s", err[0] ? err :
				 "no notifier is configured (config notifier 'NAME')");
	}
	res = json_object_new_object();
	json_object_object_add(res, "messages", arr);
	json_object_object_add(res, "wait_s", json_object_new_int(
		daemon_ctx.cfg.main.notify_timeout_s + 2));
	return res;
}

struct json_object *notify_status_json(int64_t id)
{
	struct result *r = id > 0 && id <= UINT32_MAX ? result_of((unsigned)id) : NULL;
	struct json_object *o;
	char buf[NSEND_ANSWER_LEN + 64];
	const char *pending;

	if (!r)
		return api_error("invalid_argument", "no recent message with id %lld", (long long)id);
	pending = nsend_state(r->id, buf, sizeof(buf));
	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int64(r->id));
	json_object_object_add(o, "notifier", json_object_new_string(r->notifier));
	json_object_object_add(o, "state", json_object_new_string(r->state));
	json_object_object_add(o, "answer", pending ? json_object_new_string(pending) :
			       json_object_new_string(r->answer));
	return o;
}

struct json_object *notify_info_json(void)
{
	struct json_object *o = json_object_new_object(), *arr = json_object_new_array();

	for (int i = 0; i < T.nnf; i++) {
		struct json_object *n = json_object_new_object();

		json_object_object_add(n, "name", json_object_new_string(T.nf[i].name));
		json_object_object_add(n, "type", json_object_new_string(
			cfg_notifier_names[T.nf[i].type]));
		json_object_object_add(n, "enabled", json_object_new_boolean(T.nf[i].enabled));
		json_object_object_add(n, "problem", missing(&T.nf[i]) ?
				       json_object_new_string(missing(&T.nf[i])) : NULL);
		json_object_array_add(arr, n);
	}
	json_object_object_add(o, "notifiers", arr);
	json_object_object_add(o, "sent", json_object_new_int64((int64_t)T.rules.n_sent));
	json_object_object_add(o, "held", json_object_new_int64((int64_t)T.rules.n_held));
	json_object_object_add(o, "duplicates", json_object_new_int64((int64_t)T.rules.n_dup));
	json_object_object_add(o, "queue", nsend_json());
	return o;
}

/* ---- start, apply, stop ---------------------------------------------------------- */

static void warn_incomplete(void)
{
	for (int i = 0; i < T.nnf; i++)
		if (T.nf[i].enabled && missing(&T.nf[i]))
			log_warn("notify: notifier '%s' sends nothing: %s", T.nf[i].name,
				 missing(&T.nf[i]));
}

void notify_apply(const struct config *c)
{
	struct nrules_cfg rc;

	T.nnf = c->nnotifiers;
	memcpy(T.nf, c->notifier, sizeof(T.nf));
	nrules_cfg_from(&rc, &c->main);
	nrules_set_cfg(&T.rules, &rc);
	nsend_set_limits(c->main.notify_timeout_s * 1000, c->main.notify_deadline_s * 1000);
	if (!T.running)
		return;
	warn_incomplete();
	if (T.nnf && !ev_is_active(&T.tick))
		ev_timer_start(T.loop, &T.tick);
	else if (!T.nnf)
		ev_timer_stop(T.loop, &T.tick);
}

int notify_init(struct ev_loop *loop)
{
	struct nrules_cfg rc;

	T.loop = loop;
	if (gethostname(T.host, sizeof(T.host) - 1) < 0 || !T.host[0])
		strlcpy_ok(T.host, "autonomy", sizeof(T.host));
	nrules_cfg_from(&rc, &daemon_ctx.cfg.main);
	nrules_init(&T.rules, &rc);
	ev_timer_init(&T.tick, tick_cb, TICK_S, TICK_S);
	if (nsend_init(loop) < 0)
		return -1;
	if (evlog_listen(listener, NULL) < 0) {
		log_err("notify: no room for another event listener; notifications are off");
		nsend_fini();
		return -1;
	}
	T.running = true;
	T.crash_pending = daemon_ctx.saved.crashed;
	notify_apply(&daemon_ctx.cfg);
	return 0;
}

void notify_fini(void)
{
	if (!T.running)
		return;
	evlog_unlisten(listener, NULL);
	ev_timer_stop(T.loop, &T.tick);
	nsend_fini();
	T.running = false;
}
