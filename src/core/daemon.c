#include "core/daemon.h"
#include "api/http.h"
#include "decide/engine.h"
#include "core/log.h"
#include "core/util.h"
#include "member/member.h"
#include "notify/notify.h"
#include "telem/evlog.h"
#include "telem/mqtt.h"
#include "telem/sampler.h"

#include <string.h>

struct daemon_ctx daemon_ctx;

/* Options read only at start: say so when a reload changes them. */
static void warn_restart_only(const struct cfg_main *old, const struct cfg_main *new)
{
	for (const struct cfg_opt *o = cfg_schema; o->name; o++) {
		if (!(o->flags & CFG_F_RESTART) || strcmp(o->section, "autonomy"))
			continue;
		if (memcmp((const char *)old + o->off, (const char *)new + o->off, o->size))
			log_warn("%s changes take effect at the next start", o->name);
	}
}

void daemon_apply(const struct config *c)
{
	struct daemon_ctx *d = &daemon_ctx;
	struct cfg_main keep = d->cfg.main;

	if (d->cfg_loaded)
		warn_restart_only(&d->cfg.main, &c->main);
	if (c->main.log_level != d->cfg.main.log_level || !d->cfg_loaded)
		log_set_level((enum log_level)c->main.log_level);
	d->cfg = *c;
	if (d->cfg_loaded) {
		/* the running values of restart-only options stay */
		for (const struct cfg_opt *o = cfg_schema; o->name; o++)
			if ((o->flags & CFG_F_RESTART) && !strcmp(o->section, "autonomy"))
				memcpy((char *)&d->cfg.main + o->off, (const char *)&keep + o->off, o->size);
	}
	d->cfg_loaded = wall_ms();
	d->cfg_error[0] = '\0';
	mem_sync(eng_effective_config(&d->cfg));
	eng_members_changed();
	sampler_apply();
	mqtt_apply(&d->cfg.main);
	notify_apply(&d->cfg);
	http_apply();
}

int daemon_reload(void)
{
	struct daemon_ctx *d = &daemon_ctx;
	static struct config next;	/* static: struct config is large for the stack */
	char err[CFG_ERR_LEN];

	if (cfg_load(&next, d->cfg_path, err, sizeof(err)) != 0) {
		strlcpy_ok(d->cfg_error, err, sizeof(d->cfg_error));
		evlog_add("config", "rejected", NULL, NULL,
			  "reload refused, still running the configuration loaded before: %s", err);
		return -1;
	}
	daemon_apply(&next);
	evlog_add("config", "reload", NULL, NULL, "configuration reloaded from %s (%d members)",
		  d->cfg_path, d->cfg.nmembers);
	return 0;
}
