#include "core/daemon.h"
#include "core/log.h"
#include "core/util.h"
#include "member/member.h"
#include "telem/evlog.h"

#include <string.h>

struct daemon_ctx daemon_ctx;

void daemon_apply(const struct config *c)
{
	struct daemon_ctx *d = &daemon_ctx;

	if (d->state_dir[0] && strcmp(c->main.state_dir, d->state_dir))
		log_warn("state_dir changes to %s take effect at the next start (using %s)",
			 c->main.state_dir, d->state_dir);
	if (c->main.log_level != d->cfg.main.log_level || !d->cfg_loaded)
		log_set_level((enum log_level)c->main.log_level);
	d->cfg = *c;
	d->cfg_loaded = wall_ms();
	d->cfg_error[0] = '\0';
	mem_sync(&d->cfg);
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
