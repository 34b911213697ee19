/* The recent readings of one signal level (cellular RSRP, Wi-Fi signal), to
 * tell a fast fall from a level that is merely low: a ring of the last
 * TREND_N readings with their times. */
#ifndef AUTONOMY_TREND_H
#define AUTONOMY_TREND_H

#include <stdint.h>

#define TREND_N		32

struct trend {
	struct {
		int64_t t;	/* mono ms */
		float v;
	} s[TREND_N];
	unsigned n;		/* readings added so far */
};

void trend_add(struct trend *tr, int64_t t, double v);
/* The highest reading within window_ms before now, NAN without one. */
double trend_high(const struct trend *tr, int64_t now, int64_t window_ms);

#endif
