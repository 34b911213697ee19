/* libFuzzer target: the saved data budgets (<state_dir>/budget.json, read at
 * start) as any bytes the file might hold. Whatever budget_load accepts must
 * describe the current period, and a refusal must leave the budget as it was;
 * what it holds must then count and print without trouble. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "telem/budget.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o, *j;
	struct budget b, before;
	struct budget_cfg c = { .budget_bytes = 1000 * BUDGET_MB, .reset_day = 5,
				.warn_pct = { 80, 90, 100 }, .nwarn = 3 };
	time_t now = 1795000000;	/* 2026-11-18 */
	int crossed, day = size ? 1 + data[0] % 28 : 1;

	if (!tok)
		return 0;
	o = size > 1 ? json_tokener_parse_ex(tok, (const char *)data + 1, (int)(size - 1)) : NULL;
	json_tokener_free(tok);
	budget_init(&b);
	before = b;
	if (budget_load(&b, o, now, day) == 0) {
		if (!b.have_period || b.period_start > now || b.period_end <= now ||
		    b.probe_bytes > b.used_bytes)
			abort();
	} else if (memcmp(&b, &before, sizeof(b))) {
		abort();
	}
	c.reset_day = day;
	budget_update(&b, &c, now, 5000, 7000, 100, &crossed);
	budget_update(&b, &c, now + 10, 9000, 1000, 50, &crossed);
	j = budget_json(&b, &c, now + 10);
	if (!j)
		abort();
	json_object_put(j);
	json_object_put(o);
	return 0;
}
