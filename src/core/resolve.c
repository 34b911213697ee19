#include "core/resolve.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

bool resolve_is_literal(const char *host)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

static const char *addr_text(const struct sockaddr *sa, char *buf, size_t size)
{
	const void *a;

	if (sa->sa_family == AF_INET)
		a = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	else
		return NULL;
	return inet_ntop(sa->sa_family, a, buf, (socklen_t)size);
}

/* The child: "+ADDR ADDR…" or "-why" on fd, then _exit. The loop's signal
 * handlers are reset first: a signal meant for the daemon's process group must
 * not be relayed into the parent's loop from here. */
static void __attribute__((noreturn)) child(int fd, const char *host)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG };
	struct addrinfo *res = NULL;
	char out[sizeof(((struct resolve *)0)->buf)], addr[RESOLVE_ADDR_LEN];
	size_t len = 1;
	int rc, n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		signal(sigs[i], SIG_DFL);
	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc) {
		snprintf(out, sizeof(out), "-%s",
			 rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		len = strlen(out);
	} else {
		out[0] = '+';
		for (struct addrinfo *a = res; a && n < RESOLVE_MAX; a = a->ai_next) {
			if (!addr_text(a->ai_addr, addr, sizeof(addr)))
				continue;
			len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s",
						n ? " " : "", addr);
			n++;
		}
		if (!n)
			len = (size_t)snprintf(out, sizeof(out), "-no IPv4 or IPv6 address");
		freeaddrinfo(res);
	}
	if (write(fd, out, len) < 0)
		_exit(1);
	_exit(0);
}

static void reap(struct resolve *r, bool kill_it)
{
	ev_io_stop(r->loop, &r->io);
	ev_timer_stop(r->loop, &r->timer);
	close(r->io.fd);
	if (kill_it)
		kill(r->pid, SIGKILL);
	/* The child has closed its end (or was just killed): this does not wait long. */
	while (waitpid(r->pid, NULL, 0) < 0 && errno == EINTR)
		;
	r->pid = 0;
}

static void finish(struct resolve *r)
{
	char addrs[RESOLVE_MAX][RESOLVE_ADDR_LEN], *save = NULL;
	int n = 0;

	reap(r, false);
	r->buf[r->len] = '\0';
	if (r->buf[0] != '+') {
		r->cb(r, 0, NULL, r->len > 1 ? r->buf + 1 : "the lookup failed");
		return;
	}
	for (char *t = strtok_r(r->buf + 1, " ", &save); t && n < RESOLVE_MAX;
	     t = strtok_r(NULL, " ", &save))
		snprintf(addrs[n++], RESOLVE_ADDR_LEN, "%s", t);
	if (n)
		r->cb(r, n, addrs, NULL);
	else
		r->cb(r, 0, NULL, "the lookup failed");
}

static void io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct resolve *r = container_of(w, struct resolve, io);
	ssize_t n;

	(void)loop;
	(void)revents;
	n = read(w->fd, r->buf + r->len, sizeof(r->buf) - 1 - r->len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0) {
		r->len += (size_t)n;
		if (r->len < sizeof(r->buf) - 1)
			return;
	}
	finish(r);	/* end of file, a read error or a full buffer */
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct resolve *r = container_of(w, struct resolve, timer);

	(void)loop;
	(void)revents;
	reap(r, true);
	r->cb(r, 0, NULL, "the lookup timed out");
}

int resolve_start(struct resolve *r, struct ev_loop *loop, const char *host, double timeout_s,
		  resolve_cb cb)
{
	int fds[2], err;
	pid_t pid;

	if (r->pid > 0)
		return -EBUSY;
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		err = errno;
		close(fds[0]);
		close(fds[1]);
		return -err;
	}
	if (pid == 0) {
		close(fds[0]);
		child(fds[1], host);
	}
	close(fds[1]);
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	r->loop = loop;
	r->pid = pid;
	r->cb = cb;
	r->len = 0;
	ev_io_init(&r->io, io_cb, fds[0], EV_READ);
	ev_timer_init(&r->timer, timer_cb, timeout_s, 0.);
	ev_io_start(loop, &r->io);
	ev_timer_start(loop, &r->timer);
	return 0;
}

void resolve_cancel(struct resolve *r)
{
	if (r->pid > 0)
		reap(r, true);
}
