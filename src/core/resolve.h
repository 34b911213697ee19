/* Host name lookups that never block the loop.
 *
 * getaddrinfo() may wait many seconds for a DNS server, and on the daemon's one
 * thread that would stall probing and decisions. resolve_start() runs it in a
 * short-lived child process (fork, getaddrinfo, write the addresses to a pipe,
 * _exit) and calls back on the loop with up to RESOLVE_MAX addresses as text,
 * or with an error. A child that has not answered by the deadline is killed.
 * IP literals need none of this: callers check resolve_is_literal() first.
 * One lookup per struct resolve at a time; the callback runs exactly once per
 * started lookup unless it is cancelled.
 */
#ifndef AUTONOMY_RESOLVE_H
#define AUTONOMY_RESOLVE_H

#include <stdbool.h>
#include <sys/types.h>

#include <ev.h>

#define RESOLVE_MAX		4
#define RESOLVE_ADDR_LEN	46	/* INET6_ADDRSTRLEN */

struct resolve;
/* On success n >= 1 and err is NULL; on failure n is 0 and err says why. */
typedef void (*resolve_cb)(struct resolve *r, int n, char addrs[][RESOLVE_ADDR_LEN],
			   const char *err);

struct resolve {
	struct ev_loop *loop;
	ev_io io;
	ev_timer timer;
	pid_t pid;		/* the child; 0 while idle */
	resolve_cb cb;
	char buf[RESOLVE_MAX * RESOLVE_ADDR_LEN + 160];
	size_t len;
};

bool resolve_is_literal(const char *host);

/* Starts looking host up (TCP addresses, both families as configured).
 * Returns 0, or -errno when no child could be started (nothing will be called). */
int resolve_start(struct resolve *r, struct ev_loop *loop, const char *host, double timeout_s,
		  resolve_cb cb);
/* Stops a lookup in progress (kills the child); the callback is not called. */
void resolve_cancel(struct resolve *r);

static inline bool resolve_busy(const struct resolve *r)
{
	return r->pid > 0;
}

#endif
