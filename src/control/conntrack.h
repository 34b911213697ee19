/* Conntrack flushing after a switch (DESIGN.md §7).
 *
 * When traffic moves off a member, connections that left through it keep their
 * conntrack entry. A masqueraded one the kernel NATs again when its output device
 * changes (it drops that packet and kills the entry); one with a fixed source NAT
 * (snat to a static address) it does not: its packets leave through the new member
 * with the old member's address, where nothing answers them, and a UDP flow that
 * keeps sending (VoIP, a VPN, a game) refreshes its entry with every packet and
 * never recovers. Deleting the entries lets the next packet start a fresh one, NATed
 * for the new member: UDP flows carry on at once, TCP connections get a reset and
 * reconnect instead of hanging until they time out.
 *
 * ct_flush() deletes the entries whose reply goes to one of the member's
 * addresses, that is connections masqueraded to it or sent by the router from
 * it; inbound connections (port forwards) and other members' connections stay.
 * It runs on the loop: a dump of the table over NETLINK_NETFILTER, one datagram per
 * loop iteration, and for every match a delete request, sent in batches on a second
 * socket while the dump goes on. The kernel removes masqueraded entries by itself when the device goes down
 * or loses the address; this is for an uplink that is up but dead.
 *
 * ct_match() is the parser, separate from the sockets so tests and the fuzzer
 * feed it bytes: one IPCTNL_MSG_CT_NEW message of a dump in, a delete request
 * for it out when it matches. It checks every length it reads.
 */
#ifndef AUTONOMY_CONNTRACK_H
#define AUTONOMY_CONNTRACK_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ev_loop;
struct json_object;

#define CT_MAX_ADDRS	8

/* The addresses whose connections go. */
struct ct_addrs {
	int n4, n6;
	struct in_addr v4[CT_MAX_ADDRS];
	struct in6_addr v6[CT_MAX_ADDRS];
};

/* MSG (LEN bytes, one netlink message) is a conntrack entry whose reply goes to
 * one of ADDRS: writes a delete request for it (sequence SEQ) to OUT and returns
 * its length. 0: not a match (or not an entry); -EBADMSG: malformed; -ENOSPC:
 * OUT is too small. */
int ct_match(const void *msg, size_t len, const struct ct_addrs *addrs, uint32_t seq,
	     void *out, size_t outlen);

int ct_init(struct ev_loop *loop);
void ct_fini(void);

/* Starts deleting the connections of MEMBER, whose addresses are ADDRS, and logs
 * what it deleted when done. Asked for while a flush runs, it follows that one. */
void ct_flush(const char *member, const struct ct_addrs *addrs);

/* {"flushes", "deleted", "last_error"} for info */
struct json_object *ct_json(void);

#endif
