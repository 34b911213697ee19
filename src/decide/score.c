#include "decide/score.h"

#include <math.h>
#include <string.h>

void score_target_reset(struct score_target *t)
{
	memset(t, 0, sizeof(*t));
}

void score_target_add(struct score_target *t, double rtt_ms)
{
	t->rtt[t->pos] = rtt_ms < 0 ? -1.0f : (float)rtt_ms;
	t->pos = (uint8_t)((t->pos + 1) % SCORE_SAMPLES);
	if (t->n < SCORE_SAMPLES)
		t->n++;
}

/* The i-th newest sample (0 = newest). */
static float sample(const struct score_target *t, int i)
{
	return t->rtt[(t->pos + SCORE_SAMPLES - 1 - i) % SCORE_SAMPLES];
}

void score_stats(const struct score_target *t, int ntargets, int last, struct score_stats *out)
{
	double sum = 0, jsum = 0;
	int replies = 0, lost = 0, jn = 0;

	for (int k = 0; k < ntargets; k++) {
		int n = last > 0 && last < t[k].n ? last : t[k].n;
		float prev = -1;

		/* oldest to newest, so jitter follows the order replies arrived in */
		for (int i = n - 1; i >= 0; i--) {
			float r = sample(&t[k], i);

			if (r < 0) {
				lost++;
				continue;
			}
			sum += r;
			replies++;
			if (prev >= 0) {
				jsum += fabs((double)r - prev);
				jn++;
			}
			prev = r;
		}
	}
	out->samples = replies + lost;
	out->latency_ms = replies ? sum / replies : NAN;
	out->loss_pct = out->samples ? 100.0 * lost / out->samples : NAN;
	out->jitter_ms = jn ? jsum / jn : NAN;
}

double score_norm(double x, double ok, double bad)
{
	double v;

	if (isnan(x) || bad <= ok)
		return 0;
	v = (x - ok) / (bad - ok);
	return v < 0 ? 0 : v > 1 ? 1 : v;
}

double score_instant(const struct score_params *p, const struct score_stats *s)
{
	double v;

	if (!s->samples)
		return NAN;
	v = 100.0 - 30.0 * score_norm(s->latency_ms, p->lat_ok, p->lat_bad)
		  - 50.0 * score_norm(s->loss_pct, p->loss_ok, p->loss_bad)
		  - 20.0 * score_norm(s->jitter_ms, p->jit_ok, p->jit_bad);
	/* nothing answered: latency and jitter are unknown, not perfect */
	if (isnan(s->latency_ms))
		v -= 50.0;
	return v < 0 ? 0 : v;
}

void score_reset(struct score_state *s)
{
	memset(s, 0, sizeof(*s));
	s->instant = s->ewma = s->window = s->final = NAN;
}

void score_update(struct score_state *s, double instant)
{
	double sum = 0;

	if (isnan(instant))
		return;
	s->instant = instant;
	s->ewma = isnan(s->ewma) ? instant : SCORE_ALPHA * instant + (1 - SCORE_ALPHA) * s->ewma;
	s->history[s->pos] = (float)instant;
	s->pos = (uint8_t)((s->pos + 1) % SCORE_HISTORY);
	if (s->n < SCORE_HISTORY)
		s->n++;
	for (int i = 0; i < s->n; i++)
		sum += s->history[i];
	s->window = sum / s->n;
	s->final = 0.3 * s->instant + 0.5 * s->ewma + 0.2 * s->window;
}
