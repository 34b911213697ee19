/* The sampler: once a second, on the daemon's loop, one sample per member
 * into the history store (latency, loss, jitter, final score, status, and the
 * fields of its class) and one of the resources into the "system" series.
 *
 * The series follow the member registry by name: a member that goes (from the
 * configuration, or from discovery) loses its history, a new one gets a
 * series, and the store is re-planned under max_ram_kb. A member called
 * "system" gets no series (the name belongs to the resources).
 *
 * The tick is an ev_periodic at every wall-clock second + 0.5 s, so each
 * sample falls into its own second even when the loop is a little late.
 *
 * history_file: read once at start (sampler_init), written at a clean stop
 * (sampler_fini); a reload that changes it only changes where the next
 * snapshot goes. A file that cannot be used is ignored with one warning.
 */
#ifndef AUTONOMY_SAMPLER_H
#define AUTONOMY_SAMPLER_H

struct ev_loop;

/* After eng_init: sizes the store for the current members, loads
 * history_file if there is one, and starts sampling. */
void sampler_init(struct ev_loop *loop);
/* Before eng_fini: stops sampling, writes history_file, frees the store. */
void sampler_fini(void);
/* From daemon_apply: a changed max_ram_kb re-plans the store, a changed
 * member set is followed at once. Does nothing before sampler_init. */
void sampler_apply(void);

#endif
