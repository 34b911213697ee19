/* Moving mwan3's tracking to autonomy and back (`autonomyctl mwan3 takeover|release`).
 *
 * mwan3 starts its own tracker (mwan3track) for every enabled interface with a
 * `list track_ip`; with autonomy as the tracker (the mwan3 controller) the two
 * would contradict each other. Takeover renames, for every interface autonomy
 * manages, each `track_ip` value to `autonomy_track_ip` (mwan3 ignores options it
 * does not know), in the interface section and in RutOS `condition` sections with
 * `option interface IFACE`; release renames them back. Nothing else in the file
 * changes: sections, options, lists and their order stay, the renamed list keeps
 * its place. Comments, blank lines and `package` lines are dropped and values are
 * written single-quoted, as `uci commit` does.
 *
 * Managed interfaces: the enabled `config interface` sections of <root>/mwan3;
 * when the autonomy configuration has member sections, only those named like an
 * enabled member.
 *
 * The pure part (plan, write, state) works on files under root only and is what
 * the unit tests use. tko_call() is the API method: it plans, writes and starts
 * the reload command (main option mwan3_reload) on the loop without waiting; the
 * reload's outcome is logged, recorded as an event and shown by tko_status_json().
 */
#ifndef AUTONOMY_TAKEOVER_H
#define AUTONOMY_TAKEOVER_H

#include <stdbool.h>
#include <stddef.h>

struct config;
struct ev_loop;
struct json_object;

#define TKO_MAX_FILE		(1 << 20)	/* a bigger mwan3 file is refused */
#define TKO_ERR_LEN		256
#define TKO_RELOAD_TIMEOUT_S	60.0		/* a reload still running is killed */
#define TKO_RELOAD_MAX_ARGS	16

enum tko_cmd {
	TKO_TAKEOVER,
	TKO_RELEASE,
};

/* Who tracks the managed interfaces. An interface with neither option (mwan3
 * starts no tracker for it) does not count either way. */
enum tko_state {
	TKO_NONE,	/* no mwan3 file, no managed interface, or none has tracking */
	TKO_MWAN3,	/* every counted interface has track_ip only */
	TKO_AUTONOMY,	/* every counted interface has autonomy_track_ip only */
	TKO_MIXED,
};

struct tko_plan {
	char **changes;		/* "uci del_list mwan3.wan.track_ip='1.1.1.1'", … */
	int nchanges;
	char *text;		/* the new file (NULL when nothing changes) */
	size_t len;
	enum tko_state before, after;
};

/* Which interfaces are managed: names[0..nnames-1] (member names), or every
 * enabled interface when names is NULL. */
struct tko_scope {
	const char *const *names;
	int nnames;
};

const char *tko_state_name(enum tko_state s);

/* Reads <root>/mwan3 and computes what cmd changes. Returns 0 (nchanges may be
 * 0), or -errno with a message in err: -ENOENT without the file, -EINVAL when it
 * does not parse cleanly (writing it back would lose the bad lines), -EFBIG over
 * TKO_MAX_FILE. Free with tko_plan_free() either way. */
int tko_plan(const char *root, enum tko_cmd cmd, const struct tko_scope *scope,
	     struct tko_plan *p, char *err, size_t errlen);
/* Writes p->text over <root>/mwan3 atomically, keeping the file's mode (a link
 * is followed). Returns 0 or -errno with a message in err; the file is unchanged
 * on error. */
int tko_write(const char *root, const struct tko_plan *p, char *err, size_t errlen);
void tko_plan_free(struct tko_plan *p);

/* The state of <root>/mwan3; -errno as tko_plan (-ENOENT without the file). */
int tko_state(const char *root, const struct tko_scope *scope);

/* Splits a command line on spaces into argv (pointing into buf, which it
 * modifies). Returns the number of words, or -1 when there are more than
 * max - 1. */
int tko_split(char *buf, char **argv, int max);

/* The API method `mwan3` {cmd: takeover|release|status, dry_run}: the reply
 * object, or an API error object. Uses c (config_root, mwan3_reload, members)
 * and starts the reload on loop (the default loop). */
struct json_object *tko_call(const char *cmd, bool dry_run, const struct config *c,
			     struct ev_loop *loop);
/* {"tracking": STATE, "reload": {…}|null} for `status`, or NULL when
 * <config_root>/mwan3 does not exist. The state is cached while the file and
 * the configuration stay the same. */
struct json_object *tko_status_json(const struct config *c);

#endif
