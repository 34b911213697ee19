/* The failover engine: joins link events (nlmon), probes (sched), scores and
 * the decider, and drives the controller. Everything happens in callbacks: a
 * probe outcome or a netlink event updates its member and the decider runs at
 * once; the only timer of its own fires when a duration the decider waits for
 * (fail_min, restore_min, cooldown, min uptime) completes. */
#ifndef AUTONOMY_ENGINE_H
#define AUTONOMY_ENGINE_H

#include <stdbool.h>

struct config;
struct ev_loop;
struct json_object;
struct member;

/* After the configuration is applied and the state file read. Returns 0 or
 * -errno (message logged). */
int eng_init(struct ev_loop *loop);
/* Stops probing and lets the controller restore what it changed. */
void eng_fini(void);
bool eng_running(void);

/* The member list the registry should hold for c: c's members, or (when c has
 * none) the interfaces of <config_root>/mwan3 (config/mwan3.h), or members
 * discovered from default routes. */
const struct config *eng_effective_config(const struct config *c);
/* After mem_sync: start new members, reopen changed ones, decide. */
void eng_members_changed(void);

/* API helpers. */
void eng_status_json(struct json_object *o);
/* What the engine adds to a member object: the class object (e.g.
 * "starlink") always, the rest for `members` (detail). */
void eng_member_json(const struct member *m, struct json_object *o, bool detail);
/* failover [name] | restore | recheck [name]: a result or an API error object. */
struct json_object *eng_action(const char *cmd, const char *name);

#endif
