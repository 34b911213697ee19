/* libFuzzer target: the cellular radio parsers on whatever a modem tool might
 * print. The first byte picks the query (radio_query order; one past the last
 * is an unknown query), the rest is the output, handed over without a NUL
 * after it. What comes back must keep radio.h's promises: values unknown or
 * in their plausible ranges, strings terminated and printable, and on an error
 * a reason and the struct exactly as it was. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collect/radio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool in(double v, double lo, double hi)
{
	return isnan(v) || (v >= lo && v <= hi);
}

static void check_text(const char *s, size_t size)
{
	const char *end = memchr(s, '\0', size);

	if (!end)
		abort();
	for (; s < end; s++)
		if (*s < 0x20 || *s > 0x7e)
			abort();
}

static void check(const struct radio_info *r)
{
	size_t n = strlen(r->mccmnc);

	if ((unsigned)r->tech >= __RADIO_TECH_MAX || !in(r->rssi, -130, 0) ||
	    !in(r->rsrp, -160, -30) || !in(r->rsrq, -40, 10) || !in(r->sinr, -30, 50) ||
	    !in(r->nr_rsrp, -160, -30) || !in(r->nr_rsrq, -40, 10) || !in(r->nr_sinr, -30, 50))
		abort();
	if (r->roaming < -1 || r->roaming > 1 || r->registered < -1 || r->registered > 1 ||
	    r->sim_slot < 0 || r->sim_slot > 8)
		abort();
	check_text(r->operator_name, sizeof(r->operator_name));
	check_text(r->cell_id, sizeof(r->cell_id));
	check_text(r->band, sizeof(r->band));
	check_text(r->mccmnc, sizeof(r->mccmnc));
	if (n && (n < 5 || n > 6 || strspn(r->mccmnc, "0123456789") != n))
		abort();
	if (strcmp(radio_tech_name(r->tech), "unknown") == 0 && r->tech != RADIO_TECH_UNKNOWN)
		abort();
}

/* One parse into r; on failure r must not have moved. */
static void parse_into(enum radio_query q, const char *text, size_t len, struct radio_info *r)
{
	const char *prefix = q < __RADIO_Q_MAX ? radio_query_name(q) : "radio: unknown query";
	struct radio_info before;
	char err[RADIO_ERR_LEN];
	int rc;

	memcpy(&before, r, sizeof(before));
	memset(err, 'x', sizeof(err));
	rc = radio_parse(q, text, len, r, err, sizeof(err));
	if (!memchr(err, '\0', sizeof(err)))
		abort();
	if (rc == 0) {
		if (err[0])
			abort();
	} else if (rc != -1 || !err[0] || memcmp(&before, r, sizeof(*r)) ||
		   strncmp(err, prefix, strlen(prefix))) {
		abort();
	}
	check(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct radio_info r;
	enum radio_query q;
	char *copy;

	if (!size)
		return 0;
	q = (enum radio_query)(data[0] % (__RADIO_Q_MAX + 1));
	/* an exact-size copy, so reading past the end is caught */
	copy = malloc(size - 1 ? size - 1 : 1);
	memcpy(copy, data + 1, size - 1);

	radio_clear(&r);
	parse_into(q, copy, size - 1, &r);

	/* the same on a struct that already holds a reading, as in a poll */
	radio_clear(&r);
	r.tech = RADIO_TECH_LTE;
	r.rsrp = -100;
	r.roaming = 0;
	r.registered = 1;
	r.sim_slot = 2;
	memcpy(r.operator_name, "Before", 7);
	parse_into(q, copy, size - 1, &r);

	free(copy);
	return 0;
}
