/* The control socket: a unix stream socket (mode 0600) on the daemon's loop.
 * One JSON request per line, one reply per line (see api.h). Limits protect the
 * daemon from clients: SOCK_MAX_CLIENTS at once, API_MAX_REQUEST bytes per
 * line, SOCK_IDLE_S seconds of silence. */
#ifndef AUTONOMY_SOCK_H
#define AUTONOMY_SOCK_H

struct ev_loop;

#define SOCK_MAX_CLIENTS	32
#define SOCK_IDLE_S		10.0

/* Binds path (replacing a stale socket file) and starts accepting.
 * Returns 0 or -errno with a message logged. */
int sock_init(struct ev_loop *loop, const char *path);
/* Closes every client and removes the socket file. */
void sock_fini(void);

#endif
