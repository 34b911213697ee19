/* Measurement windows and scores (DESIGN.md §5).
 *
 * Each target keeps its last SCORE_SAMPLES regular probe outcomes (a round
 * trip time, or lost). A member's latency, loss and jitter come from all of its
 * targets' samples; the instant score uses only the newest SCORE_SHORT samples
 * per target, so it reacts at once, while the window average and the EWMA
 * smooth it:
 *
 *	instant = 100 - 30*norm(latency) - 50*norm(loss) - 20*norm(jitter)
 *	final   = 0.3*instant + 0.5*ewma(instant, alpha 0.2) + 0.2*mean(last 30 instants)
 *
 * norm(x, ok, bad) maps x linearly from ok (0) to bad (1), clamped.
 */
#ifndef AUTONOMY_SCORE_H
#define AUTONOMY_SCORE_H

#include <stdint.h>

#define SCORE_SAMPLES	16
#define SCORE_SHORT	4
#define SCORE_HISTORY	30
#define SCORE_ALPHA	0.2

struct score_target {
	float rtt[SCORE_SAMPLES];	/* ms; < 0 = lost */
	uint8_t n, pos;
};

struct score_stats {
	double latency_ms;	/* NAN when no sample has a reply */
	double loss_pct;	/* NAN when there is no sample */
	double jitter_ms;	/* mean absolute difference of consecutive replies; NAN if < 2 */
	int samples;
};

struct score_params {
	double lat_ok, lat_bad;
	double loss_ok, loss_bad;
	double jit_ok, jit_bad;
};

struct score_state {
	double instant, ewma, window, final;	/* NAN until the first update */
	float history[SCORE_HISTORY];
	uint8_t n, pos;
};

void score_target_add(struct score_target *t, double rtt_ms);	/* rtt < 0: lost */
void score_target_reset(struct score_target *t);
/* Over the newest `last` samples of each target (0 = all of them). */
void score_stats(const struct score_target *t, int ntargets, int last, struct score_stats *out);

double score_norm(double x, double ok, double bad);
double score_instant(const struct score_params *p, const struct score_stats *s);
void score_reset(struct score_state *s);
void score_update(struct score_state *s, double instant);

#endif
