/* Notifications: events of the daemon become messages to people, over the
 * notifier sections of the config (webhook, ntfy, Pushover, Telegram, e-mail).
 *
 * Events arrive through evlog_listen() (switches, members going down or up),
 * from a 5 s look at the members (a new Starlink dish alert), and at start (the
 * previous run did not stop cleanly). notify/rules.h decides what goes out now,
 * what is dropped as a repeat and what is held for a digest; notify/send.h
 * delivers without blocking. When the active member changes, waiting messages
 * are tried again at once, over the new uplink.
 *
 * notify_init() after eng_init() and before the first events it should see;
 * notify_apply() whenever the configuration is (re)applied; notify_fini()
 * before the loop is destroyed. */
#ifndef AUTONOMY_NOTIFY_H
#define AUTONOMY_NOTIFY_H

#include "notify/rules.h"

struct config;
struct ev_loop;
struct json_object;

int notify_init(struct ev_loop *loop);
void notify_apply(const struct config *c);
void notify_fini(void);

/* API notify.test: a test message to the notifier named channel (NULL: every
 * enabled one), past the rules. {"messages":[{"notifier","id"}…],"wait_s"} or
 * an error. */
struct json_object *notify_test_json(const char *channel);
/* API notify.status: {"id","notifier","state":"sending"|"delivered"|"failed"|
 * "dropped","answer"} of a recent message, or an error. */
struct json_object *notify_status_json(int64_t id);
/* For `info`: notifiers, rule counters, the queue. */
struct json_object *notify_info_json(void);

#endif
