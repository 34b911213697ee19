#include "api/sock.h"
#include "api/api.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <ev.h>

/* Output beyond this stops reading from the client until it drains, so a
 * client that sends requests but never reads cannot make us buffer forever. */
#define SOCK_MAX_PENDING_OUT	(4u << 20)

struct client {
	ev_io io;
	ev_timer idle;
	bool used, closing;	/* closing: send what is queued, then close */
	char *in;		/* API_MAX_REQUEST bytes, allocated on first use */
	size_t inlen;
	char *out;
	size_t outlen, outoff, outcap;
};

static struct ev_loop *sock_loop;
static ev_io listen_io;
static char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static struct client clients[SOCK_MAX_CLIENTS];

static void client_close(struct client *c)
{
	ev_io_stop(sock_loop, &c->io);
	ev_timer_stop(sock_loop, &c->idle);
	close(c->io.fd);
	free(c->in);
	free(c->out);
	memset(c, 0, sizeof(*c));
}

static void client_queue(struct client *c, const char *data, size_t len)
{
	if (c->outoff == c->outlen)
		c->outoff = c->outlen = 0;
	if (c->outlen + len > c->outcap) {
		c->outcap = (c->outlen + len) * 2;
		c->out = xrealloc(c->out, c->outcap);
	}
	memcpy(c->out + c->outlen, data, len);
	c->outlen += len;
}

static void client_queue_error(struct client *c, const char *code, const char *msg)
{
	size_t len;
	char *line = api_error_line(code, msg, &len);

	client_queue(c, line, len);
	free(line);
}

/* Watch for reading unless closing or too much output is queued; for writing
 * while output is queued. */
static void client_rearm(struct client *c)
{
	int events = 0;

	if (!c->closing && c->outlen - c->outoff < SOCK_MAX_PENDING_OUT)
		events |= EV_READ;
	if (c->outlen > c->outoff)
		events |= EV_WRITE;
	if (!events) {
		client_close(c);
		return;
	}
	if (events != (c->io.events & (EV_READ | EV_WRITE))) {
		ev_io_stop(sock_loop, &c->io);
		ev_io_set(&c->io, c->io.fd, events);
		ev_io_start(sock_loop, &c->io);
	}
}

static void client_handle_lines(struct client *c)
{
	char *start = c->in, *nl;
	size_t left = c->inlen;

	while (!c->closing && (nl = memchr(start, '\n', left))) {
		size_t linelen = (size_t)(nl - start) + 1, outlen;
		char *reply = api_handle_line(start, linelen, &outlen);

		client_queue(c, reply, outlen);
		free(reply);
		start += linelen;
		left -= linelen;
	}
	memmove(c->in, start, left);
	c->inlen = left;
	if (c->inlen == API_MAX_REQUEST) {
		client_queue_error(c, "too_large", "request larger than 65536 bytes");
		c->closing = true;
	}
}

static void client_read(struct client *c)
{
	ssize_t n;

	if (!c->in)
		c->in = xmalloc(API_MAX_REQUEST);
	n = read(c->io.fd, c->in + c->inlen, API_MAX_REQUEST - c->inlen);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* The peer is gone (or half-closed): nothing more will come. */
		c->closing = true;
		return;
	}
	c->inlen += (size_t)n;
	ev_timer_again(sock_loop, &c->idle);
	client_handle_lines(c);
}

static void client_write(struct client *c)
{
	ssize_t n = send(c->io.fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		c->outoff = c->outlen;
		c->closing = true;
		return;
	}
	c->outoff += (size_t)n;
}

static void client_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct client *c = container_of(w, struct client, io);

	(void)loop;
	if (revents & EV_WRITE)
		client_write(c);
	if ((revents & EV_READ) && !c->closing)
		client_read(c);
	client_rearm(c);
}

static void client_idle_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct client *c = container_of(w, struct client, idle);

	(void)loop;
	(void)revents;
	if (c->closing) {
		/* It does not even read its error: give up on it. */
		client_close(c);
		return;
	}
	client_queue_error(c, "timeout", "no complete request within 10 s");
	c->closing = true;
	ev_timer_again(sock_loop, &c->idle);
	client_rearm(c);
}

static struct client *client_slot(void)
{
	for (int i = 0; i < SOCK_MAX_CLIENTS; i++)
		if (!clients[i].used)
			return &clients[i];
	return NULL;
}

static void refuse(int fd)
{
	size_t len;
	char *line = api_error_line("unavailable", "too many clients; try again", &len);

	if (send(fd, line, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_debug("control socket: refusing a client: %s", strerror(errno));
	free(line);
	close(fd);
}

static void listen_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct client *c;
	int fd;

	(void)revents;
	fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn("control socket: accept: %s", strerror(errno));
		return;
	}
	c = client_slot();
	if (!c) {
		log_warn("control socket: more than %d clients, refusing one", SOCK_MAX_CLIENTS);
		refuse(fd);
		return;
	}
	c->used = true;
	ev_io_init(&c->io, client_io_cb, fd, EV_READ);
	ev_timer_init(&c->idle, client_idle_cb, 0., SOCK_IDLE_S);
	ev_io_start(loop, &c->io);
	ev_timer_again(loop, &c->idle);
}

static int bind_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t old;
	int fd, rc;

	if (!strlcpy_ok(sa.sun_path, path, sizeof(sa.sun_path)))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* The pid file lock says no other autonomyd owns it: a leftover is stale. */
	unlink(path);
	old = umask(0177);
	rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0 || chmod(path, 0600) < 0 || listen(fd, SOMAXCONN) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

int sock_init(struct ev_loop *loop, const char *path)
{
	int fd = bind_socket(path);

	if (fd < 0) {
		log_err("cannot listen on %s: %s", path, strerror(-fd));
		return fd;
	}
	sock_loop = loop;
	strlcpy_ok(sock_path, path, sizeof(sock_path));
	ev_io_init(&listen_io, listen_cb, fd, EV_READ);
	ev_io_start(loop, &listen_io);
	log_info("control socket %s", path);
	return 0;
}

void sock_fini(void)
{
	if (!sock_loop)
		return;
	for (int i = 0; i < SOCK_MAX_CLIENTS; i++)
		if (clients[i].used)
			client_close(&clients[i]);
	ev_io_stop(sock_loop, &listen_io);
	close(listen_io.fd);
	unlink(sock_path);
	sock_loop = NULL;
}
