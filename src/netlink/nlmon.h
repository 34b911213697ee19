/* rtnetlink monitor: what the kernel says about links, addresses and default
 * routes, kept current from netlink events on the daemon's loop.
 *
 * nlmon_init() dumps links, addresses and routes once (blocking, at start) and
 * then subscribes to RTMGRP_LINK, RTMGRP_IPV4_IFADDR, RTMGRP_IPV6_IFADDR,
 * RTMGRP_IPV4_ROUTE and RTMGRP_IPV6_ROUTE. Every change that matters to a
 * member calls the callback at once with the link's new state and what changed.
 * A lost event (ENOBUFS on the socket) triggers a fresh dump, and the callback
 * then reports every link whose state differs from before.
 */
#ifndef AUTONOMY_NLMON_H
#define AUTONOMY_NLMON_H

#include <netinet/in.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

struct ev_loop;

#define NLMON_MAX_ROUTES	128

/* One IPv4 or IPv6 default route (dst 0/0) in the main table. */
struct nl_route {
	int family;		/* AF_INET or AF_INET6 */
	int ifindex;		/* output device */
	bool has_gw;
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} gw;
	uint32_t metric;	/* RTA_PRIORITY (0 if absent) */
	uint8_t protocol;	/* RTPROT_* */
	uint8_t scope;
	uint8_t type;		/* RTN_UNICAST, RTN_BLACKHOLE, … (only unicast is kept) */
};

struct nl_link {
	int ifindex;
	char name[IF_NAMESIZE];
	bool admin_up;		/* IFF_UP */
	bool carrier;		/* IFF_LOWER_UP */
	bool has_addr4;		/* a global-scope IPv4 address (the first one) */
	struct in_addr addr4;
	bool has_addr6;		/* a global-scope IPv6 address (the first one) */
	struct in6_addr addr6;
	bool has_default4;	/* at least one IPv4 default route through it */
	bool has_default6;
};

/* What changed, for the callback. */
#define NLMON_NEW	0x01	/* link appeared */
#define NLMON_GONE	0x02	/* link removed; the struct is valid only during the call */
#define NLMON_CARRIER	0x04	/* admin_up or carrier changed */
#define NLMON_ADDR	0x08	/* has_addr4/6 or the address changed */
#define NLMON_ROUTE	0x10	/* a default route through it was added, removed or changed */

typedef void (*nlmon_cb)(const struct nl_link *link, unsigned changed, void *ctx);

/* Returns 0 or -errno (message logged). */
int nlmon_init(struct ev_loop *loop, nlmon_cb cb, void *ctx);
void nlmon_fini(void);

const struct nl_link *nlmon_find(const char *ifname);
const struct nl_link *nlmon_find_index(int ifindex);
/* Calls fn for every known link; stops early when fn returns non-zero. */
void nlmon_foreach(int (*fn)(const struct nl_link *link, void *ctx), void *ctx);

/* All default routes in the main table (IPv4 and IPv6); *n gets the count. */
const struct nl_route *nlmon_routes(int *n);

#endif
