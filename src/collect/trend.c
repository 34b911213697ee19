/* Recent signal readings: the contract is in trend.h. */
#include "collect/trend.h"

#include <math.h>

void trend_add(struct trend *tr, int64_t t, double v)
{
	tr->s[tr->n % TREND_N].t = t;
	tr->s[tr->n % TREND_N].v = (float)v;
	tr->n++;
}

double trend_high(const struct trend *tr, int64_t now, int64_t window_ms)
{
	double hi = NAN;

	for (unsigned i = 0; i < TREND_N && i < tr->n; i++)
		if (now - tr->s[i].t <= window_ms && (isnan(hi) || tr->s[i].v > hi))
			hi = tr->s[i].v;
	return hi;
}
