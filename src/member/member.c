#include "member/member.h"
#include "core/log.h"
#include "core/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

static struct member *members[CFG_MAX_MEMBERS];
static int nmembers;
static void (*remove_hook)(struct member *m);

void mem_set_remove_hook(void (*fn)(struct member *m))
{
	remove_hook = fn;
}

static const char *const status_names[__MEM_STATUS_MAX] = {
	[MEM_UNKNOWN] = "unknown",
	[MEM_UP] = "up",
	[MEM_DEGRADED] = "degraded",
	[MEM_DOWN] = "down",
};

void mem_init(void)
{
	nmembers = 0;
}

void mem_fini(void)
{
	for (int i = 0; i < nmembers; i++) {
		if (remove_hook)
			remove_hook(members[i]);
		free(members[i]);
	}
	nmembers = 0;
}

static bool has_prefix(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

enum mem_class mem_classify(const char *device)
{
	static const char *const cellular[] = { "wwan", "qmimux", "mob", "rmnet", "usb", "3g-", "ppp", NULL };
	static const char *const wifi[] = { "wlan", "wl", "phy", NULL };

	for (int i = 0; cellular[i]; i++)
		if (has_prefix(device, cellular[i]))
			return MEM_CLASS_CELLULAR;
	for (int i = 0; wifi[i]; i++)
		if (has_prefix(device, wifi[i]))
			return MEM_CLASS_WIFI;
	return MEM_CLASS_WIRED;
}

static struct member *mem_new(const struct cfg_member *c)
{
	struct member *m = xcalloc(1, sizeof(*m));

	m->cfg = *c;
	m->status = MEM_UNKNOWN;
	m->is_new = true;
	score_reset(&m->score);
	m->latency_ms = m->loss_pct = m->jitter_ms = NAN;
	log_info("member %s added (device %s)", c->name, c->device);
	return m;
}

static void mem_update(struct member *m, const struct cfg_member *c)
{
	if (strcmp(m->cfg.device, c->device))
		log_info("member %s: device %s -> %s", c->name, m->cfg.device, c->device);
	m->is_new = false;
	m->cfg_changed = memcmp(&m->cfg, c, sizeof(*c)) != 0;
	m->cfg = *c;
}

void mem_sync(const struct config *c)
{
	struct member *next[CFG_MAX_MEMBERS];
	int n = 0;

	for (int i = 0; i < c->nmembers; i++) {
		struct member *m = mem_find(c->member[i].name);

		if (m)
			mem_update(m, &c->member[i]);
		else
			m = mem_new(&c->member[i]);
		if (m->cfg_changed)
			m->dish_found = false;	/* another device perhaps: look again */
		m->class = m->cfg.class != MEM_CLASS_AUTO ? (enum mem_class)m->cfg.class
			 : m->dish_found ? MEM_CLASS_STARLINK : mem_classify(m->cfg.device);
		next[n++] = m;
	}
	for (int i = 0; i < nmembers; i++) {
		if (cfg_find_member(c, members[i]->cfg.name))
			continue;
		log_info("member %s removed", members[i]->cfg.name);
		if (remove_hook)
			remove_hook(members[i]);
		free(members[i]);
	}
	memcpy(members, next, sizeof(next[0]) * (size_t)n);
	nmembers = n;
}

int mem_count(void)
{
	return nmembers;
}

struct member *mem_get(int i)
{
	return i >= 0 && i < nmembers ? members[i] : NULL;
}

struct member *mem_find(const char *name)
{
	for (int i = 0; i < nmembers; i++)
		if (!strcmp(members[i]->cfg.name, name))
			return members[i];
	return NULL;
}

const char *mem_status_name(enum mem_status s)
{
	return s < __MEM_STATUS_MAX ? status_names[s] : "unknown";
}

const char *mem_class_name(enum mem_class c)
{
	return c < __MEM_CLASS_MAX ? cfg_class_names[c] : "other";
}

/* NAN (not known) becomes null, never 0. */
static struct json_object *num_or_null(double v)
{
	return isnan(v) ? NULL : json_object_new_double(round(v * 10) / 10);
}

static struct json_object *probes_json(const struct sched *s)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "sent", json_object_new_int64((int64_t)s->sent));
	json_object_object_add(o, "received", json_object_new_int64((int64_t)s->received));
	json_object_object_add(o, "bytes_sent", json_object_new_int64((int64_t)s->bytes_sent));
	json_object_object_add(o, "bytes_received", json_object_new_int64((int64_t)s->bytes_received));
	json_object_object_add(o, "bytes_today", json_object_new_int64((int64_t)s->bytes_today));
	json_object_object_add(o, "skipped", json_object_new_int64((int64_t)s->skipped));
	json_object_object_add(o, "burst", json_object_new_boolean(s->burst && !s->decided_down));
	return o;
}

static void add_detail(struct json_object *o, const struct member *m)
{
	struct json_object *targets = json_object_new_array();

	json_object_object_add(o, "latency_ms", num_or_null(m->latency_ms));
	json_object_object_add(o, "loss_pct", num_or_null(m->loss_pct));
	json_object_object_add(o, "jitter_ms", num_or_null(m->jitter_ms));
	for (int i = 0; i < m->cfg.targets.n; i++)
		json_object_array_add(targets, json_object_new_string(m->cfg.targets.addr[i]));
	json_object_object_add(o, "targets", targets);
	json_object_object_add(o, "reliability", json_object_new_int(m->cfg.reliability));
	json_object_object_add(o, "probe", json_object_new_string(cfg_probe_names[m->cfg.probe]));
	json_object_object_add(o, "probes", probes_json(&m->sched));
}

struct json_object *mem_to_json(const struct member *m, bool detail)
{
	struct json_object *o = json_object_new_object(), *score = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(m->cfg.name));
	json_object_object_add(o, "class", json_object_new_string(mem_class_name(m->class)));
	json_object_object_add(o, "device", json_object_new_string(m->cfg.device));
	json_object_object_add(o, "enabled", json_object_new_boolean(m->cfg.enabled));
	json_object_object_add(o, "status", json_object_new_string(mem_status_name(m->status)));
	json_object_object_add(o, "eligible", json_object_new_boolean(m->eligible));
	json_object_object_add(o, "weight", json_object_new_int(m->cfg.weight));
	json_object_object_add(o, "metered", json_object_new_boolean(m->cfg.metered));
	json_object_object_add(score, "instant", num_or_null(m->score.instant));
	json_object_object_add(score, "ewma", num_or_null(m->score.ewma));
	json_object_object_add(score, "window", num_or_null(m->score.window));
	json_object_object_add(score, "final", num_or_null(m->score.final));
	json_object_object_add(o, "score", score);
	if (detail)
		add_detail(o, m);
	return o;
}
