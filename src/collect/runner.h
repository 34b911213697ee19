/* Runs one short-lived command on the event loop (the modem tools): never
 * blocks, caps what it reads, kills it after a timeout.
 *
 * The child gets /dev/null as stdin, its own process group (a timeout kills
 * the whole group) and default signal dispositions. Its stdout is collected
 * up to RUN_OUT_MAX bytes, the first line of its stderr up to RUN_ERR_MAX.
 * done() is called exactly once per started command, from the loop, after the
 * child has exited (the zombie is reaped by libev's SIGCHLD handling, so the
 * default loop is required):
 *	rc 0		exit status 0
 *	rc -ENOENT	the program is not on PATH
 *	rc -ETIMEDOUT	killed after the timeout
 *	rc -EFBIG	stdout longer than RUN_OUT_MAX (the child is killed)
 *	rc -EIO		non-zero exit status or killed by a signal; status says which
 * out is NUL-terminated; err holds the first line of stderr ("" if none).
 */
#ifndef AUTONOMY_RUNNER_H
#define AUTONOMY_RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <ev.h>

#define RUN_OUT_MAX	(64 * 1024)
#define RUN_ERR_MAX	160

struct runner {
	struct ev_loop *loop;
	pid_t pid;			/* 0 = nothing running */
	int out_fd, err_fd;
	ev_io out_io, err_io;
	ev_child child;
	ev_timer timer;
	char *out;
	size_t len, cap;
	char err[RUN_ERR_MAX];
	size_t err_len;
	int rc;				/* set early by a timeout or overflow */
	int status;			/* wait status of the child */
	void (*done)(struct runner *r, int rc, const char *out, size_t len);
};

/* Starts argv[0] (searched on PATH). Returns 0, or -errno without calling
 * done() (-EBUSY if this runner is still running a command). */
int run_start(struct runner *r, struct ev_loop *loop, char *const argv[], double timeout_s,
	      void (*done)(struct runner *r, int rc, const char *out, size_t len));
/* Kills a running command (its group) without calling done(). */
void run_cancel(struct runner *r);
bool run_busy(const struct runner *r);
/* Frees the output buffer (after run_cancel, when the runner goes away). */
void run_free(struct runner *r);

#endif
