/* Fixed-decimals JSON numbers: the contract is in jsonnum.h. */
#include "core/jsonnum.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <json-c/json.h>

struct json_object *json_fixed(double v, int decimals)
{
	char buf[48];

	if (!isfinite(v))
		return NULL;
	if (decimals <= 0)
		return json_object_new_int64((int64_t)llround(v));
	snprintf(buf, sizeof(buf), "%.*f", decimals, v);
	return json_object_new_double_s(strtod(buf, NULL), buf);
}
