/* libFuzzer target: the history snapshot loader (hist_load) against a store
 * of three series, as autonomyd has at start. Inputs of odd length get their
 * checksum fixed first, so the fuzzer reaches the parser behind it. After a
 * load that succeeds, every series must answer every query with valid JSON,
 * take new samples, and survive a save and load again. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core/log.h"
#include "core/util.h"
#include "telem/history.h"
#include "telem/series.h"

#define NOW	1800000000	/* the seeds are saved at this time */

static void quiet(enum log_level level, const char *msg)
{
	(void)level;
	(void)msg;
}

static void setup(void)
{
	static const struct hist_want want[] = {
		{ "m1", NULL }, { "sl", NULL }, { HIST_SYSTEM, NULL },
	};
	struct hist_want w[3];

	memcpy(w, want, sizeof(w));
	w[0].layout = series_member_layout(MEM_CLASS_WIRED);
	w[1].layout = series_member_layout(MEM_CLASS_STARLINK);
	w[2].layout = series_system_layout();
	log_set_hook(quiet);
	hist_set_cap(64 << 10);		/* short rings: fast runs; the parser is the same */
	hist_set(w, 3);
}

static void check_queries(void)
{
	for (int i = 0; i < hist_count(); i++) {
		for (int t = HIST_AUTO; t < __HIST_TIERS; t++) {
			struct json_object *q = hist_query(hist_name(i), 8 * 86400, t, NOW), *back;

			back = json_tokener_parse(json_object_to_json_string_ext(q, JSON_PLAIN));
			if (!q || !back)
				abort();
			json_object_put(back);
			json_object_put(q);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	uint8_t *buf = xmalloc(size + 1);
	char err[CFG_ERR_LEN] = "", *again;
	double v[HIST_MAX_FIELDS] = { 12.5, NAN, 1, 99, 1, 0.5, 30, 0 };
	size_t len;
	int n;

	if (!ready) {
		setup();
		ready = 1;
	}
	memcpy(buf, data, size);
	if (size >= 4 && (size & 1)) {
		uint32_t c = crc32_ieee(buf, size - 4);

		for (int i = 0; i < 4; i++)
			buf[size - 4 + (size_t)i] = (uint8_t)(c >> (8 * i));
	}
	hist_clear();
	n = hist_load(buf, size, NOW, err, sizeof(err));
	free(buf);
	if (n < 0) {
		if (!err[0])
			abort();	/* a refusal always says why */
		return 0;
	}
	check_queries();
	for (int i = 0; i < hist_count(); i++)
		hist_append(i, NOW + 1, v);
	check_queries();
	again = hist_save(NOW + 1, &len);
	hist_clear();
	if (hist_load(again, len, NOW + 1, err, sizeof(err)) != hist_count())
		abort();
	free(again);
	return 0;
}
