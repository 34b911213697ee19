/* The command runner on a real libev loop with real children: output, exit
 * codes, a missing program, a timeout, too much output, stderr, cancel. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ev.h>

#include "collect/runner.h"
#include "core/util.h"

static struct {
	int calls, rc;
	size_t len;
	char out[256];
	char err[RUN_ERR_MAX];
} got;

static void done(struct runner *r, int rc, const char *out, size_t len)
{
	got.calls++;
	got.rc = rc;
	got.len = len;
	strlcpy_ok(got.out, out, sizeof(got.out));
	strlcpy_ok(got.err, r->err, sizeof(got.err));
	ev_break(r->loop, EVBREAK_ALL);
}

static void guard_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

/* Runs argv to its end (or the loop's 10 s guard). */
static int run(struct runner *r, double timeout, char *const argv[])
{
	struct ev_loop *loop = ev_default_loop(0);
	ev_timer guard;
	int rc;

	memset(&got, 0, sizeof(got));
	rc = run_start(r, loop, argv, timeout, done);
	if (rc < 0)
		return rc;
	ev_timer_init(&guard, guard_cb, 10., 0.);
	ev_timer_start(loop, &guard);
	ev_run(loop, 0);
	ev_timer_stop(loop, &guard);
	return 0;
}

static void test_output_and_status(void **state)
{
	struct runner r = { .out_fd = -1, .err_fd = -1 };
	char *ok[] = { "sh", "-c", "printf '{\"a\":1}\\n'; echo oops >&2", NULL };
	char *fail[] = { "sh", "-c", "echo partial; echo 'Not found' >&2; echo more >&2; exit 4", NULL };

	(void)state;
	assert_int_equal(run(&r, 5, ok), 0);
	assert_int_equal(got.calls, 1);
	assert_int_equal(got.rc, 0);
	assert_string_equal(got.out, "{\"a\":1}\n");
	assert_int_equal(got.len, 8);
	assert_string_equal(got.err, "oops");
	assert_false(run_busy(&r));

	assert_int_equal(run(&r, 5, fail), 0);
	assert_int_equal(got.rc, -EIO);
	assert_true(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 4);
	assert_string_equal(got.err, "Not found");	/* the first line only */
	run_free(&r);
}

static void test_missing_program(void **state)
{
	struct runner r = { .out_fd = -1, .err_fd = -1 };
	char *argv[] = { "autonomy-no-such-tool", "--x", NULL };
	int rc;

	(void)state;
	rc = run(&r, 5, argv);
	/* glibc reports it at once; another libc may let the child exit 127 */
	assert_true(rc == -ENOENT || (rc == 0 && got.rc == -ENOENT));
	assert_false(run_busy(&r));
	run_free(&r);
}

static void test_timeout_kills_the_group(void **state)
{
	struct runner r = { .out_fd = -1, .err_fd = -1 };
	/* a child of the tool holds the pipe: the group is killed, not waited for */
	char *argv[] = { "sh", "-c", "echo started; sleep 30 & sleep 30", NULL };
	int64_t t0 = mono_ms();

	(void)state;
	assert_int_equal(run(&r, 0.3, argv), 0);
	assert_int_equal(got.rc, -ETIMEDOUT);
	assert_true(mono_ms() - t0 < 5000);
	assert_true(WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGKILL);
	run_free(&r);
}

static void test_output_cap(void **state)
{
	struct runner r = { .out_fd = -1, .err_fd = -1 };
	char *big[] = { "sh", "-c", "head -c 200000 /dev/zero | tr '\\0' x; sleep 5", NULL };
	char *exact[] = { "sh", "-c", "head -c 65536 /dev/zero | tr '\\0' y", NULL };

	(void)state;
	assert_int_equal(run(&r, 5, big), 0);
	assert_int_equal(got.rc, -EFBIG);
	assert_int_equal(got.len, 0);
	assert_int_equal(run(&r, 5, exact), 0);		/* RUN_OUT_MAX itself fits */
	assert_int_equal(got.rc, 0);
	assert_int_equal(got.len, RUN_OUT_MAX);
	run_free(&r);
}

static void test_busy_and_cancel(void **state)
{
	struct runner r = { .out_fd = -1, .err_fd = -1 };
	struct ev_loop *loop = ev_default_loop(0);
	char *slow[] = { "sleep", "30", NULL };
	char *quick[] = { "true", NULL };
	pid_t pid;

	(void)state;
	memset(&got, 0, sizeof(got));
	assert_int_equal(run_start(&r, loop, slow, 5, done), 0);
	assert_true(run_busy(&r));
	pid = r.pid;
	assert_int_equal(run_start(&r, loop, quick, 5, done), -EBUSY);
	run_cancel(&r);
	assert_false(run_busy(&r));
	/* killed and reaped by libev's SIGCHLD handling; done() is not called */
	for (int i = 0; i < 50 && kill(pid, 0) == 0; i++)
		ev_run(loop, EVRUN_NOWAIT), usleep(20000);
	assert_int_equal(kill(pid, 0), -1);
	assert_int_equal(got.calls, 0);
	assert_int_equal(run(&r, 5, quick), 0);		/* usable again */
	assert_int_equal(got.rc, 0);
	assert_int_equal(got.len, 0);
	run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_output_and_status),
		cmocka_unit_test(test_missing_program),
		cmocka_unit_test(test_timeout_kills_the_group),
		cmocka_unit_test(test_output_cap),
		cmocka_unit_test(test_busy_and_cancel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
