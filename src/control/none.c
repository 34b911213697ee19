/* The "none" controller (DESIGN.md §7): observe and report only. The engine
 * runs as usual and says what it would do; no route is ever changed. */
#include "control/control.h"
#include "core/log.h"

static int none_init(uint32_t metric_base)
{
	log_debug("none: observing only; routes are left alone (metric_base %u unused)", metric_base);
	return 0;
}

static void none_fini(void)
{
	log_debug("none: nothing to restore");
}

static int none_apply(const struct ctl_member *ranking, int n)
{
	if (n > 0)
		log_debug("none: would send default traffic through %s (%s)",
			  ranking[0].name ? ranking[0].name : "?", ranking[0].device ? ranking[0].device : "?");
	else
		log_debug("none: no member to send default traffic through");
	return 0;
}

const struct ctl_ops ctl_none_ops = {
	.name = "none",
	.init = none_init,
	.fini = none_fini,
	.apply = none_apply,
};
