/* Running a command on the loop: the contract is in runner.h. */
#include "collect/runner.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

bool run_busy(const struct runner *r)
{
	return r->pid > 0;
}

static void close_fd(struct runner *r, int *fd, ev_io *io)
{
	if (*fd < 0)
		return;
	ev_io_stop(r->loop, io);
	close(*fd);
	*fd = -1;
}

static void stop_all(struct runner *r)
{
	close_fd(r, &r->out_fd, &r->out_io);
	close_fd(r, &r->err_fd, &r->err_io);
	ev_child_stop(r->loop, &r->child);
	ev_timer_stop(r->loop, &r->timer);
}

static void kill_group(struct runner *r, int rc)
{
	if (!r->rc)
		r->rc = rc;
	kill(-r->pid, SIGKILL);
}

/* Reads what is there; returns false at EOF or on an error. */
static bool drain_out(struct runner *r)
{
	for (;;) {
		ssize_t n;

		if (r->cap - r->len < 4096) {
			size_t cap = r->cap ? r->cap * 2 : 4096;

			if (cap > RUN_OUT_MAX + 1)
				cap = RUN_OUT_MAX + 1;
			if (cap > r->cap) {
				r->out = xrealloc(r->out, cap);
				r->cap = cap;
			}
		}
		if (r->len + 1 >= r->cap) {		/* over the cap */
			char sink[1024];

			n = read(r->out_fd, sink, sizeof(sink));
			if (n > 0) {
				kill_group(r, -EFBIG);
				continue;
			}
		} else {
			n = read(r->out_fd, r->out + r->len, r->cap - 1 - r->len);
			if (n > 0) {
				r->len += (size_t)n;
				continue;
			}
		}
		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 && errno == EAGAIN;
	}
}

static bool drain_err(struct runner *r)
{
	for (;;) {
		char buf[256];
		ssize_t n = read(r->err_fd, buf, sizeof(buf));

		if (n > 0) {
			size_t room = sizeof(r->err) - 1 - r->err_len;
			size_t k = (size_t)n < room ? (size_t)n : room;

			memcpy(r->err + r->err_len, buf, k);
			r->err_len += k;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 && errno == EAGAIN;
	}
}

static void out_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct runner *r = container_of(w, struct runner, out_io);

	(void)loop;
	(void)revents;
	if (!drain_out(r))
		close_fd(r, &r->out_fd, &r->out_io);
}

static void err_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct runner *r = container_of(w, struct runner, err_io);

	(void)loop;
	(void)revents;
	if (!drain_err(r))
		close_fd(r, &r->err_fd, &r->err_io);
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct runner *r = container_of(w, struct runner, timer);

	(void)loop;
	(void)revents;
	kill_group(r, -ETIMEDOUT);
}

static void child_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	struct runner *r = container_of(w, struct runner, child);
	int rc = r->rc;
	char *nl;

	(void)loop;
	(void)revents;
	r->status = w->rstatus;
	/* what the child wrote before it exited is in the pipes already (a
	 * grandchild that keeps them open is not waited for) */
	if (r->out_fd >= 0)
		drain_out(r);
	if (r->err_fd >= 0)
		drain_err(r);
	if (r->rc && r->rc != rc)
		rc = r->rc;
	stop_all(r);
	r->pid = 0;
	if (!rc && WIFEXITED(r->status) && WEXITSTATUS(r->status) == 127 && !r->len)
		rc = -ENOENT;		/* the shell's "not found", should a wrapper exec it */
	else if (!rc && !(WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0))
		rc = -EIO;
	if (rc == -EFBIG)
		r->len = 0;
	r->out[r->len] = '\0';
	r->err[r->err_len] = '\0';
	nl = strchr(r->err, '\n');
	if (nl)
		*nl = '\0';
	r->done(r, rc, r->out, r->len);
}

static int make_pipe(int fds[2])
{
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	if (fcntl(fds[0], F_SETFL, O_NONBLOCK) < 0) {
		int e = errno;

		close(fds[0]);
		close(fds[1]);
		return -e;
	}
	return 0;
}

static int spawn(pid_t *pid, char *const argv[], int out, int err)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	int rc;

	sigemptyset(&none);
	sigfillset(&all);
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out, 1);
	posix_spawn_file_actions_adddup2(&fa, err, 2);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &all);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
				      POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawnp(pid, argv[0], &fa, &at, argv, environ);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	return -rc;
}

int run_start(struct runner *r, struct ev_loop *loop, char *const argv[], double timeout_s,
	      void (*done)(struct runner *r, int rc, const char *out, size_t len))
{
	int out[2], err[2], rc;

	if (r->pid > 0)
		return -EBUSY;
	rc = make_pipe(out);
	if (rc < 0)
		return rc;
	rc = make_pipe(err);
	if (rc < 0) {
		close(out[0]);
		close(out[1]);
		return rc;
	}
	rc = spawn(&r->pid, argv, out[1], err[1]);
	close(out[1]);
	close(err[1]);
	if (rc < 0) {
		close(out[0]);
		close(err[0]);
		r->pid = 0;
		return rc;
	}
	r->loop = loop;
	r->done = done;
	r->out_fd = out[0];
	r->err_fd = err[0];
	r->len = r->err_len = 0;
	r->rc = 0;
	if (!r->out) {
		r->out = xmalloc(4096);
		r->cap = 4096;
	}
	ev_io_init(&r->out_io, out_cb, r->out_fd, EV_READ);
	ev_io_init(&r->err_io, err_cb, r->err_fd, EV_READ);
	ev_child_init(&r->child, child_cb, r->pid, 0);
	ev_timer_init(&r->timer, timer_cb, timeout_s, 0.);
	ev_io_start(loop, &r->out_io);
	ev_io_start(loop, &r->err_io);
	ev_child_start(loop, &r->child);
	ev_timer_start(loop, &r->timer);
	return 0;
}

void run_cancel(struct runner *r)
{
	if (r->pid <= 0)
		return;
	kill(-r->pid, SIGKILL);		/* libev's SIGCHLD handler reaps it */
	stop_all(r);
	r->pid = 0;
}

void run_free(struct runner *r)
{
	free(r->out);
	r->out = NULL;
	r->cap = r->len = 0;
}
