/* The "mwan3" controller (DESIGN.md §7): autonomy acts as mwan3's tracker.
 *
 * mwan3 sends traffic through the online member with the lowest metric. For each
 * managed interface (a member, named as the mwan3/network interface) autonomy
 * keeps it online in mwan3 exactly when:
 *  - it is the active member, or
 *  - it is up and its weight is below the active member's (a fallback mwan3 may
 *    use behind the active one; with discovery, lower weight = higher metric).
 * Everything else (down, or preferred over the active one by weight, e.g. during a
 * manual or soft failover) is offline. A change is announced the way mwan3track
 * does: `env -i ACTION=connected|disconnected INTERFACE=<iface> DEVICE=<dev>
 * <hotplug_call> iface`, spawned without blocking the loop, one at a time (a
 * queue; a newer state for an interface replaces its queued one), reaped with
 * ev_child, killed after MWAN3_EVENT_TIMEOUT_S. An event is emitted only when an
 * interface's wanted state differs from what was last announced (every measured
 * interface once at start; again after its device changed); a member not yet
 * measured or disabled is not announced, and one removed by a reload is left as
 * it was last announced. mwan3 is never restarted or reconfigured.
 *
 * On stop, interfaces that are up but were announced offline (bypassed by
 * autonomy's choice) are announced connected, so mwan3 is left with the state
 * its own tracker would report; interfaces that are down stay offline. The
 * queue is then run to the end, waiting at most MWAN3_EVENT_TIMEOUT_S for each.
 */
#ifndef AUTONOMY_CONTROL_MWAN3_H
#define AUTONOMY_CONTROL_MWAN3_H

#include <sys/types.h>

struct ev_loop;

#define MWAN3_BYPASS_MARK	0x3F00u	/* mwan3's mmx_mask: "route by the main table" */
#define MWAN3_EVENT_TIMEOUT_S	30

/* Starts argv[0] = path with envp; fills *pid. Returns 0 or -errno. */
typedef int (*mwan3_spawn_fn)(const char *path, char *const argv[], char *const envp[],
			      pid_t *pid);

/* Before init: the loop for child watchers (must be the default loop), the
 * program to run, and the spawner (NULL = posix_spawn; tests record instead). */
void ctl_mwan3_setup(struct ev_loop *loop, const char *hotplug_call, mwan3_spawn_fn spawn);

/* Events queued or running (for status and tests). */
int ctl_mwan3_pending(void);

#endif
