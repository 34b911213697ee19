/* The conntrack flush's parser: dump entries built the way ctnetlink builds them
 * (ctnetlink_fill_info: the original and reply tuples as nests of an IP nest and a
 * protocol nest, then status, timeout, id, zone …), which entries it picks, the
 * delete request it writes, and malformed or truncated entries. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include "control/conntrack.h"

#define ENTRY_ID	0x01020304u

struct entry {
	char buf[1024] __attribute__((aligned(8)));
	struct nlmsghdr *nlh;
};

static void put_tuple(struct nlmsghdr *nlh, int type, int family, const char *src,
		      const char *dst, uint16_t sport, uint16_t dport)
{
	struct nlattr *t = mnl_attr_nest_start(nlh, type), *ip, *proto;
	unsigned char a[16];

	ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	if (family == AF_INET) {
		inet_pton(AF_INET, src, a);
		mnl_attr_put(nlh, CTA_IP_V4_SRC, 4, a);
		inet_pton(AF_INET, dst, a);
		mnl_attr_put(nlh, CTA_IP_V4_DST, 4, a);
	} else {
		inet_pton(AF_INET6, src, a);
		mnl_attr_put(nlh, CTA_IP_V6_SRC, 16, a);
		inet_pton(AF_INET6, dst, a);
		mnl_attr_put(nlh, CTA_IP_V6_DST, 16, a);
	}
	mnl_attr_nest_end(nlh, ip);
	proto = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, 17);
	mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(sport));
	mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(dport));
	mnl_attr_nest_end(nlh, proto);
	mnl_attr_nest_end(nlh, t);
}

/* A UDP connection from ORIG_SRC to ORIG_DST whose replies go to REPLY_DST (the
 * address it was masqueraded to, or ORIG_SRC without NAT). */
static void entry(struct entry *e, int family, const char *orig_src, const char *orig_dst,
		  const char *reply_dst, bool zone)
{
	struct nfgenmsg *g;

	memset(e->buf, 0, sizeof(e->buf));
	e->nlh = mnl_nlmsg_put_header(e->buf);
	e->nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW;
	e->nlh->nlmsg_flags = NLM_F_MULTI;
	e->nlh->nlmsg_seq = 7;
	g = mnl_nlmsg_put_extra_header(e->nlh, sizeof(*g));
	g->nfgen_family = (uint8_t)family;
	g->version = NFNETLINK_V0;
	put_tuple(e->nlh, CTA_TUPLE_ORIG, family, orig_src, orig_dst, 40000, 7777);
	put_tuple(e->nlh, CTA_TUPLE_REPLY, family, orig_dst, reply_dst, 7777, 40001);
	mnl_attr_put_u32(e->nlh, CTA_STATUS, htonl(0x18e));
	mnl_attr_put_u32(e->nlh, CTA_TIMEOUT, htonl(170));
	mnl_attr_put_u32(e->nlh, CTA_ID, htonl(ENTRY_ID));
	if (zone)
		mnl_attr_put_u16(e->nlh, CTA_ZONE, htons(3));
}

static struct ct_addrs addrs(const char *v4, const char *v6)
{
	struct ct_addrs a = { 0 };

	if (v4)
		assert_int_equal(inet_pton(AF_INET, v4, &a.v4[a.n4++]), 1);
	if (v6)
		assert_int_equal(inet_pton(AF_INET6, v6, &a.v6[a.n6++]), 1);
	return a;
}

struct found {
	const struct nlattr *tb[CTA_MAX + 1];
};

static int found_cb(const struct nlattr *a, void *data)
{
	struct found *f = data;

	assert_true(mnl_attr_get_type(a) <= CTA_MAX);
	assert_null(f->tb[mnl_attr_get_type(a)]);	/* each once */
	f->tb[mnl_attr_get_type(a)] = a;
	return MNL_CB_OK;
}

/* OUT (LEN bytes) is one delete request for E's entry. */
static void check_delete(const struct entry *e, const char *out, int len, int family, bool zone)
{
	const struct nlmsghdr *d = (const void *)out;
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(d);
	struct found f = { { 0 } }, orig = { { 0 } };

	assert_true(len > 0);
	assert_int_equal(d->nlmsg_len, len);
	assert_int_equal(d->nlmsg_type, (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE);
	assert_int_equal(d->nlmsg_flags, NLM_F_REQUEST);
	assert_int_equal(d->nlmsg_seq, 99);
	assert_int_equal(g->nfgen_family, family);
	assert_int_equal(g->version, NFNETLINK_V0);
	assert_int_equal(mnl_attr_parse(d, sizeof(*g), found_cb, &f), MNL_CB_OK);
	/* the original tuple, byte for byte; the id; the zone if the entry had one;
	 * nothing else (a reply tuple or status would change what the kernel matches) */
	mnl_attr_parse(e->nlh, sizeof(*g), found_cb, &orig);
	assert_non_null(f.tb[CTA_TUPLE_ORIG]);
	assert_int_equal(f.tb[CTA_TUPLE_ORIG]->nla_len, orig.tb[CTA_TUPLE_ORIG]->nla_len);
	assert_memory_equal(f.tb[CTA_TUPLE_ORIG], orig.tb[CTA_TUPLE_ORIG],
			    orig.tb[CTA_TUPLE_ORIG]->nla_len);
	assert_non_null(f.tb[CTA_ID]);
	assert_int_equal(ntohl(mnl_attr_get_u32(f.tb[CTA_ID])), ENTRY_ID);
	if (zone)
		assert_int_equal(ntohs(mnl_attr_get_u16(f.tb[CTA_ZONE])), 3);
	else
		assert_null(f.tb[CTA_ZONE]);
	assert_null(f.tb[CTA_TUPLE_REPLY]);
	assert_null(f.tb[CTA_STATUS]);
}

static void test_masqueraded_entry_is_deleted(void **state)
{
	struct ct_addrs a = addrs("10.0.1.2", NULL);
	struct entry e;
	char out[512];
	int n;

	(void)state;
	entry(&e, AF_INET, "192.168.1.2", "203.0.113.80", "10.0.1.2", false);
	n = ct_match(e.nlh, e.nlh->nlmsg_len, &a, 99, out, sizeof(out));
	check_delete(&e, out, n, AF_INET, false);
	entry(&e, AF_INET, "192.168.1.2", "203.0.113.80", "10.0.1.2", true);
	n = ct_match(e.nlh, e.nlh->nlmsg_len, &a, 99, out, sizeof(out));
	check_delete(&e, out, n, AF_INET, true);
}

static void test_routers_own_connection_is_deleted(void **state)
{
	struct ct_addrs a = addrs("10.0.1.2", NULL);
	struct entry e;
	char out[512];

	(void)state;
	entry(&e, AF_INET, "10.0.1.2", "1.1.1.1", "10.0.1.2", false);
	check_delete(&e, out, ct_match(e.nlh, e.nlh->nlmsg_len, &a, 99, out, sizeof(out)),
		     AF_INET, false);
}

static void test_other_connections_stay(void **state)
{
	struct ct_addrs a = addrs("10.0.1.2", "2001:db8:1::2");
	struct entry e;
	char out[512];

	(void)state;
	/* masqueraded out of another member */
	entry(&e, AF_INET, "192.168.1.2", "203.0.113.80", "10.0.2.2", false);
	assert_int_equal(ct_match(e.nlh, e.nlh->nlmsg_len, &a, 99, out, sizeof(out)), 0);
	/* a port forward in through the member: the reply goes to the remote peer */
	entry(&e, AF_INET, "198.51.100.9", "10.0.1.2", "198.51.100.9", false);
	assert_int_equal(ct_match(e.nlh, e.nlh->nlmsg_len, &a, 99, out, sizeof(out)), 0);
	/* IPv6 from the LAN, not through the member's address */
	entry(&e, AF_INET6, "2001:db8:99::5", "2001:db8:ff::1", "2001:db8:99::5", false);
	assert_int_equal(ct_match(e.nlh, e.nlh->nlmsg_len, &a, 99, out, sizeof(out)), 0);
}

static void test_ipv6_entry_is_deleted(void **state)
{
	struct ct_addrs a = addrs("10.0.1.2", "2001:db8:1::2");
	struct entry e;
	char out[512];

	(void)state;
	entry(&e, AF_INET6, "2001:db8:1::2", "2001:db8:ff::1", "2001:db8:1::2", false);
	check_delete(&e, out, ct_match(e.nlh, e.nlh->nlmsg_len, &a, 99, out, sizeof(out)),
		     AF_INET6, false);
}

static void test_other_messages_are_not_entries(void **state)
{
	struct ct_addrs a = addrs("10.0.1.2", NULL);
	struct entry e;
	char out[512];

	(void)state;
	entry(&e, AF_INET, "192.168.1.2", "203.0.113.80", "10.0.1.2", false);
	e.nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK_EXP << 8) | IPCTNL_MSG_CT_NEW;
	assert_int_equal(ct_match(e.nlh, e.nlh->nlmsg_len, &a, 99, out, sizeof(out)), 0);
	e.nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE;
	assert_int_equal(ct_match(e.nlh, e.nlh->nlmsg_len, &a, 99, out, sizeof(out)), 0);
	e.nlh->nlmsg_type = NLMSG_DONE;
	assert_int_equal(ct_match(e.nlh, e.nlh->nlmsg_len, &a, 99, out, sizeof(out)), 0);
}

static void test_small_buffer(void **state)
{
	struct ct_addrs a = addrs("10.0.1.2", NULL);
	struct entry e;
	char out[512];
	int need;

	(void)state;
	entry(&e, AF_INET, "192.168.1.2", "203.0.113.80", "10.0.1.2", true);
	need = ct_match(e.nlh, e.nlh->nlmsg_len, &a, 99, out, sizeof(out));
	assert_true(need > 0);
	assert_int_equal(ct_match(e.nlh, e.nlh->nlmsg_len, &a, 99, out, (size_t)need - 1), -ENOSPC);
	assert_int_equal(ct_match(e.nlh, e.nlh->nlmsg_len, &a, 99, out, (size_t)need), need);
}

static void test_malformed(void **state)
{
	struct ct_addrs a = addrs("10.0.1.2", NULL);
	struct entry e;
	char out[512], copy[1024] __attribute__((aligned(8)));
	struct nlattr *reply;
	size_t len;

	(void)state;
	entry(&e, AF_INET, "192.168.1.2", "203.0.113.80", "10.0.1.2", false);
	len = e.nlh->nlmsg_len;
	/* every truncation: the header's length then claims more than there is */
	for (size_t cut = 0; cut < len; cut++) {
		memcpy(copy, e.buf, cut);
		assert_int_equal(ct_match(copy, cut, &a, 99, out, sizeof(out)), -EBADMSG);
	}
	/* every shorter header length over the full bytes: never a read past it */
	for (size_t l = 0; l < len; l++) {
		int r;

		memcpy(copy, e.buf, len);
		((struct nlmsghdr *)copy)->nlmsg_len = (uint32_t)l;
		r = ct_match(copy, len, &a, 99, out, sizeof(out));
		assert_true(r == -EBADMSG || r == 0 || r > 0);
	}
	/* an IPv4 address of 3 bytes */
	memcpy(copy, e.buf, len);
	reply = NULL;
	mnl_attr_for_each(reply, (struct nlmsghdr *)copy, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(reply) == CTA_TUPLE_REPLY)
			break;
	assert_non_null(reply);
	{
		struct nlattr *ip = mnl_attr_get_payload(reply);
		struct nlattr *src = mnl_attr_get_payload(ip);
		struct nlattr *dst = (void *)((char *)src + MNL_ALIGN(src->nla_len));

		assert_int_equal(mnl_attr_get_type(dst), CTA_IP_V4_DST);
		dst->nla_len = 3 + MNL_ATTR_HDRLEN;
		assert_int_equal(ct_match(copy, len, &a, 99, out, sizeof(out)), -EBADMSG);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_masqueraded_entry_is_deleted),
		cmocka_unit_test(test_routers_own_connection_is_deleted),
		cmocka_unit_test(test_other_connections_stay),
		cmocka_unit_test(test_ipv6_entry_is_deleted),
		cmocka_unit_test(test_other_messages_are_not_entries),
		cmocka_unit_test(test_small_buffer),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
