/* Data use of the members: the contract is in usage.h. */
#include "telem/usage.h"
#include "core/daemon.h"
#include "core/log.h"
#include "core/state.h"
#include "core/util.h"
#include "member/member.h"
#include "telem/budget.h"
#include "telem/evlog.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#define USAGE_FILE	"budget.json"
#define USAGE_FILE_MAX	(64 * 1024)

static struct {
	struct ev_loop *loop;
	ev_timer tick;
	unsigned ticks;
	bool running;
	struct json_object *saved;	/* budget.json as read at start */
} U;

static bool watched(const struct member *m)
{
	return m->cfg.metered || m->cfg.data_budget_mb > 0;
}

static void cfg_of(const struct member *m, struct budget_cfg *bc)
{
	int n = cfg_parse_pcts(daemon_ctx.cfg.main.data_warn_pct, bc->warn_pct, BUDGET_WARN_MAX);

	bc->budget_bytes = (uint64_t)m->cfg.data_budget_mb * BUDGET_MB;
	bc->reset_day = m->cfg.data_reset_day;
	bc->nwarn = n < 0 ? 0 : n;
}

static void save(void)
{
	struct json_object *root = json_object_new_object(), *ms = json_object_new_object();
	const char *text;
	char path[512];
	int rc;

	for (int i = 0; i < mem_count(); i++) {
		struct member *m = mem_get(i);
		struct json_object *o = json_object_new_object();

		if (m->running && watched(m) && budget_save(&m->budget, o) == 0)
			json_object_object_add(ms, m->cfg.name, o);
		else
			json_object_put(o);
	}
	json_object_object_add(root, "members", ms);
	text = json_object_to_json_string_ext(root, JSON_PLAIN);
	rc = write_file_atomic(state_path(path, sizeof(path), USAGE_FILE), text, strlen(text), 0644);
	if (rc < 0)
		log_warn("data budgets: cannot write %s: %s", path, strerror(-rc));
	json_object_put(root);
}

static void load(void)
{
	char path[512], *text = NULL;
	long n = read_file(state_path(path, sizeof(path), USAGE_FILE), USAGE_FILE_MAX, &text);

	if (n < 0) {
		if (n != -ENOENT)
			log_warn("data budgets: cannot read %s: %s", path, strerror((int)-n));
		return;
	}
	U.saved = json_tokener_parse(text);
	if (!json_object_is_type(U.saved, json_type_object)) {
		log_warn("data budgets: %s is not what autonomyd writes: counting afresh", path);
		json_object_put(U.saved);
		U.saved = NULL;
	}
	free(text);
}

static void count(struct member *m, time_t now);

void usage_member_started(struct member *m)
{
	struct json_object *ms, *o;
	int rc;

	budget_init(&m->budget);
	m->proof_valid = false;
	if (!watched(m))
		return;
	if (U.saved && json_object_object_get_ex(U.saved, "members", &ms) &&
	    json_object_object_get_ex(ms, m->cfg.name, &o)) {
		rc = budget_load(&m->budget, o, time(NULL), m->cfg.data_reset_day);
		if (rc == 0)
			log_info("member %s: %.1f MB used since the data period began (saved)",
				 m->cfg.name, (double)m->budget.used_bytes / BUDGET_MB);
		else if (rc != -ESTALE)
			log_warn("member %s: the saved data use is not valid: counting afresh",
				 m->cfg.name);
	}
	count(m, time(NULL));	/* the baseline: what moves from now on counts */
}

static void count(struct member *m, time_t now)
{
	struct budget_cfg bc;
	uint64_t rx, tx, probe = m->sched.bytes_sent + m->sched.bytes_received;
	int crossed = 0, rc;

	cfg_of(m, &bc);
	rc = budget_read_counters(m->cfg.device, &rx, &tx);
	if (rc < 0) {
		budget_forget_counters(&m->budget);
		return;
	}
	if (budget_update(&m->budget, &bc, now, rx, tx, probe, &crossed) == BUDGET_ROLLED)
		log_info("member %s: a new data period begins", m->cfg.name);
	if (crossed)
		evlog_add("member", "data-budget", m->cfg.name, NULL,
			  "%s has used %d %% of its %d MB data budget (%.1f MB)", m->cfg.name,
			  crossed, m->cfg.data_budget_mb, (double)m->budget.used_bytes / BUDGET_MB);
}

static void count_all(void)
{
	time_t now = time(NULL);

	for (int i = 0; i < mem_count(); i++) {
		struct member *m = mem_get(i);

		if (m->running && watched(m))
			count(m, now);
	}
}

static void tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	count_all();
	if (++U.ticks % (USAGE_SAVE_EVERY_S / USAGE_EVERY_S) == 0)
		save();
}

bool usage_traffic_proof(struct member *m)
{
	uint64_t rx, tx, probe_rx = m->sched.bytes_received;
	bool alive;

	if (budget_read_counters(m->cfg.device, &rx, &tx) < 0) {
		m->proof_valid = false;
		return false;
	}
	alive = m->proof_valid && rx >= m->proof_rx && probe_rx >= m->proof_probe_rx &&
		(rx - m->proof_rx) > (probe_rx - m->proof_probe_rx) + USAGE_PROOF_BYTES;
	m->proof_rx = rx;
	m->proof_probe_rx = probe_rx;
	m->proof_valid = true;
	return alive;
}

struct json_object *usage_json(const struct member *m)
{
	struct budget_cfg bc;

	if (!watched(m))
		return NULL;
	cfg_of(m, &bc);
	return budget_json(&m->budget, &bc, time(NULL));
}

void usage_init(struct ev_loop *loop)
{
	memset(&U, 0, sizeof(U));
	U.loop = loop;
	load();
	ev_timer_init(&U.tick, tick_cb, USAGE_EVERY_S, USAGE_EVERY_S);
	ev_timer_start(loop, &U.tick);
	U.running = true;
}

void usage_fini(void)
{
	if (!U.running)
		return;
	ev_timer_stop(U.loop, &U.tick);
	count_all();	/* the last bytes, then the file */
	save();
	json_object_put(U.saved);
	U.saved = NULL;
	U.running = false;
}
