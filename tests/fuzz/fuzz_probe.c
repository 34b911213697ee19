/* libFuzzer target: the probe engines' packet parsers, which read whatever
 * arrives on raw ICMP and UDP sockets. The first byte picks the parser; a
 * well-formed echo reply built from the input must parse back to its fields. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probe/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void roundtrip(const uint8_t *data, size_t size)
{
	uint8_t buf[20 + PROBE_ICMP_LEN] = { 0x45 };
	struct timespec ts = { 0 };
	struct probe_echo e;
	uint16_t id, seq;

	if (size < 4)
		return;
	id = (uint16_t)(data[0] << 8 | data[1]);
	seq = (uint16_t)(data[2] << 8 | data[3]);
	ts.tv_nsec = size;
	/* an echo request turned into a reply, behind a minimal IPv4 header */
	probe_icmp_build(buf + 20, false, id, seq, &ts);
	buf[20] = 0;	/* echo reply */
	buf[22] = buf[23] = 0;
	{
		uint16_t c = probe_csum(buf + 20, PROBE_ICMP_LEN);

		buf[22] = (uint8_t)(c >> 8);
		buf[23] = (uint8_t)c;
	}
	buf[2] = 0;
	buf[3] = sizeof(buf);
	buf[9] = 1;	/* ICMP */
	if (probe_icmp_parse(buf, sizeof(buf), false, &e) != 0 || e.id != id || e.seq != seq ||
	    e.sent.tv_nsec != ts.tv_nsec)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct probe_echo e;
	uint8_t *copy;
	uint16_t id;

	if (!size)
		return 0;
	/* an exact-size copy, so reading past the end is caught */
	copy = malloc(size - 1 ? size - 1 : 1);
	memcpy(copy, data + 1, size - 1);
	switch (data[0] % 4) {
	case 0:
		probe_icmp_parse(copy, size - 1, false, &e);
		break;
	case 1:
		probe_icmp_parse(copy, size - 1, true, &e);
		break;
	case 2:
		probe_dns_parse(copy, size - 1, &id);
		break;
	default:
		roundtrip(copy, size - 1);
		break;
	}
	free(copy);
	return 0;
}
