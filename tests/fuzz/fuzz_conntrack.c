/* libFuzzer target: the conntrack flush's parser (ct_match) on what a dump could
 * hold. The input is one message in an exact-size, aligned heap copy, so a read
 * past its end is caught. A delete request it writes must be a well-formed netlink
 * message of the length returned, inside the output buffer. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include "control/conntrack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int attr_ok(const struct nlattr *attr, void *data)
{
	(void)attr, (void)data;
	return MNL_CB_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ct_addrs a;
	void *msg;
	char out[600] __attribute__((aligned(4)));
	int r;

	if (!a.n4) {
		inet_pton(AF_INET, "10.0.1.2", &a.v4[a.n4++]);
		inet_pton(AF_INET6, "2001:db8:1::2", &a.v6[a.n6++]);
	}
	msg = malloc(size ? size : 1);	/* malloc aligns it */
	if (!msg)
		return 0;
	memcpy(msg, data, size);
	r = ct_match(msg, size, &a, 5, out, sizeof(out));
	if (r > 0) {
		const struct nlmsghdr *d = (const void *)out;

		if ((size_t)r > sizeof(out) || d->nlmsg_len != (uint32_t)r ||
		    d->nlmsg_type != ((NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE) ||
		    mnl_attr_parse(d, sizeof(struct nfgenmsg), attr_ok, NULL) == MNL_CB_ERROR)
			abort();
	} else if (r != 0 && r != -EBADMSG && r != -ENOSPC) {
		abort();
	}
	free(msg);
	return 0;
}
