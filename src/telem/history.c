#include "telem/history.h"
#include "core/log.h"
#include "core/util.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <json-c/printbuf.h>

const uint32_t hist_step_s[__HIST_TIERS] = { 1, 10, 60 };
const uint32_t hist_full_len[__HIST_TIERS] = { 900, 2160, 10080 };
const char *const hist_tier_names[__HIST_TIERS] = { "raw", "10s", "1m" };

#define HIST_NONE	INT64_MIN	/* head of a tier that holds nothing */
#define HIST_MIN_CAP	(64u << 10)	/* the smallest cap (max_ram_kb's minimum) */

struct hist_tier {
	uint16_t *cells;	/* len slots of ncells: n, then the fields' cells */
	uint32_t len;
	uint8_t ncells;
	int64_t head;		/* bucket of the newest slot */
};

struct hist_acc_field {
	double sum;
	float min, max;
	uint32_t cnt;
};

/* The aggregate of the newest bucket of a tier, as it is being built. */
struct hist_acc {
	int64_t bucket;		/* HIST_NONE: nothing yet */
	uint32_t n;
	struct hist_acc_field f[HIST_MAX_FIELDS];
};

/* One allocation per series: this, then the cells of its three tiers. */
struct hist_series {
	char name[CFG_NAME_LEN];
	const struct hist_layout *layout;
	size_t bytes;
	struct hist_tier tier[__HIST_TIERS];
	struct hist_acc acc[__HIST_TIERS - 1];	/* of the 10s and 1m tiers */
	uint16_t data[];
};
#define ACC(s, t)	(&(s)->acc[(t) - 1])

_Static_assert(HIST_MAX_SERIES * sizeof(struct hist_series) < HIST_MIN_CAP,
	       "the bookkeeping of every series must fit in the smallest cap");

static struct {
	struct hist_series *s[HIST_MAX_SERIES];
	int n;
	size_t cap;
	struct hist_plan plan;
} H = { .cap = 512u << 10 };

static const uint32_t pow10_u[] = { 1, 10, 100, 1000 };

/* ---- layouts and planning ---------------------------------------------------- */

static int field_cells(const struct hist_field *f, enum hist_tier_id t)
{
	if (t == HIST_RAW || (f->agg & HIST_WORST))
		return 1;
	return 1 + !!(f->agg & HIST_MIN) + !!(f->agg & HIST_MAX);
}

static int rec_cells(const struct hist_layout *l, enum hist_tier_id t)
{
	int n = 1;

	for (int i = 0; i < l->nfields; i++)
		n += field_cells(&l->field[i], t);
	return n;
}

void hist_plan(const struct hist_layout *const *layouts, int n, size_t cap, struct hist_plan *out)
{
	uint64_t fixed = (uint64_t)n * sizeof(struct hist_series), full = 0, avail;

	memset(out, 0, sizeof(*out));
	for (int i = 0; i < n; i++)
		for (int t = 0; t < __HIST_TIERS; t++)
			full += (uint64_t)hist_full_len[t] * (uint64_t)rec_cells(layouts[i], t) *
				sizeof(uint16_t);
	avail = cap > fixed ? cap - fixed : 0;
	out->permille = !full || avail >= full ? 1000 : (uint32_t)(avail * 1000 / full);
	out->bytes = (size_t)fixed;
	/* Rounding every length down keeps the sum of the rings within avail. */
	for (int t = 0; t < __HIST_TIERS; t++) {
		out->len[t] = !full || avail >= full ? hist_full_len[t] :
			      (uint32_t)((uint64_t)hist_full_len[t] * avail / full);
		for (int i = 0; i < n; i++)
			out->bytes += (size_t)out->len[t] * (size_t)rec_cells(layouts[i], t) *
				      sizeof(uint16_t);
	}
}

/* ---- values -------------------------------------------------------------------- */

static double value_max(const struct hist_field *f)
{
	return (double)HIST_VALUE_MAX / pow10_u[f->decimals];
}

static uint16_t quantize(const struct hist_field *f, double v)
{
	double q;

	if (isnan(v))
		return HIST_MISSING;
	q = round(v * pow10_u[f->decimals]);
	if (!(q > 0))
		return 0;
	return q > HIST_VALUE_MAX ? HIST_VALUE_MAX : (uint16_t)q;
}

static double dequantize(const struct hist_field *f, uint16_t q)
{
	return q == HIST_MISSING ? NAN : (double)q / pow10_u[f->decimals];
}

/* Floor division: buckets of times before 1970 stay in order too. */
static int64_t bucket_of(int64_t ts, enum hist_tier_id t)
{
	int64_t step = hist_step_s[t], b = ts / step;

	return ts % step < 0 ? b - 1 : b;
}

/* ---- rings --------------------------------------------------------------------- */

static uint16_t *slot(const struct hist_tier *t, int64_t b)
{
	int64_t i = b % (int64_t)t->len;

	if (i < 0)
		i += t->len;
	return t->cells + (size_t)i * t->ncells;
}

static void tier_empty(struct hist_tier *t)
{
	memset(t->cells, 0, (size_t)t->len * t->ncells * sizeof(uint16_t));
	t->head = HIST_NONE;
}

/* Makes b the newest bucket (b > head): the slots in between are emptied. A
 * tier without a head is empty already (zeroed when it was made or emptied),
 * so its pages are not touched before samples come: the store's RSS grows as
 * it fills. */
static void tier_advance(struct hist_tier *t, int64_t b)
{
	int64_t from = b - (int64_t)t->len + 1;

	if (t->head == HIST_NONE) {
		t->head = b;
		return;
	}
	if (t->head >= from)
		from = t->head + 1;
	for (int64_t x = from; x <= b; x++)
		memset(slot(t, x), 0, (size_t)t->ncells * sizeof(uint16_t));
	t->head = b;
}

/* Lays out the tiers of a fresh (zeroed) series in its data. */
static struct hist_series *series_new(const char *name, const struct hist_layout *l,
				      const struct hist_plan *p)
{
	size_t bytes = sizeof(struct hist_series), off = 0;
	struct hist_series *s;

	for (int t = 0; t < __HIST_TIERS; t++)
		bytes += (size_t)p->len[t] * (size_t)rec_cells(l, t) * sizeof(uint16_t);
	s = xcalloc(1, bytes);
	strlcpy_ok(s->name, name, sizeof(s->name));
	s->layout = l;
	s->bytes = bytes;
	for (int t = 0; t < __HIST_TIERS; t++) {
		s->tier[t].ncells = (uint8_t)rec_cells(l, t);
		s->tier[t].len = p->len[t];
		s->tier[t].cells = s->data + off;
		s->tier[t].head = HIST_NONE;
		if (t != HIST_RAW)
			ACC(s, t)->bucket = HIST_NONE;
		off += (size_t)p->len[t] * s->tier[t].ncells;
	}
	return s;
}

/* ---- copying slots between layouts (resizing, loading) ------------------------- */

/* Where the slots come from: another series' ring, or a snapshot's records
 * (little-endian, oldest first). */
struct cell_src {
	const struct hist_field *fields;
	int nfields;
	uint32_t len;
	uint8_t ncells;
	int64_t head;
	const uint16_t *ring;		/* a ring, or */
	const uint8_t *le;		/* len records in bucket order */
};

static uint16_t src_cell(const struct cell_src *s, int64_t b, int cell)
{
	if (s->ring) {
		int64_t i = b % (int64_t)s->len;

		if (i < 0)
			i += s->len;
		return s->ring[(size_t)i * s->ncells + (size_t)cell];
	} else {
		size_t k = (size_t)(b - (s->head - (int64_t)s->len + 1)), at;

		at = (k * s->ncells + (size_t)cell) * 2;
		return (uint16_t)(s->le[at] | s->le[at + 1] << 8);
	}
}

static bool same_field(const struct hist_field *a, const struct hist_field *b)
{
	return !strcmp(a->name, b->name) && a->decimals == b->decimals && a->agg == b->agg;
}

/* map[j]: the source cell of destination cell j, or -1 (missing). */
static void cell_map(const struct cell_src *src, const struct hist_layout *to,
		     enum hist_tier_id t, int *map)
{
	int j = 1;

	map[0] = 0;
	for (int k = 0; k < to->nfields; k++) {
		const struct hist_field *f = &to->field[k];
		int from = -1, c = 1;

		for (int i = 0; i < src->nfields; i++) {
			if (same_field(&src->fields[i], f)) {
				from = c;
				break;
			}
			c += field_cells(&src->fields[i], t);
		}
		for (int n = 0; n < field_cells(f, t); n++)
			map[j++] = from < 0 ? -1 : from + n;
	}
}

/* Copies the buckets lo..src->head into an empty tier. */
static void copy_tier(struct hist_series *to, enum hist_tier_id t, const struct cell_src *src,
		      int64_t lo)
{
	struct hist_tier *dt = &to->tier[t];
	int map[1 + 3 * HIST_MAX_FIELDS];

	if (!dt->len || !src->len || src->head == HIST_NONE)
		return;
	/* only what both rings hold */
	if (lo < src->head - (int64_t)src->len + 1)
		lo = src->head - (int64_t)src->len + 1;
	if (lo < src->head - (int64_t)dt->len + 1)
		lo = src->head - (int64_t)dt->len + 1;
	if (lo > src->head)
		return;
	cell_map(src, to->layout, t, map);
	dt->head = src->head;
	for (int64_t b = lo; b <= src->head; b++) {
		uint16_t *d = slot(dt, b);

		if (!src_cell(src, b, 0))
			continue;
		for (int j = 0; j < dt->ncells; j++)
			d[j] = map[j] < 0 ? HIST_MISSING : src_cell(src, b, map[j]);
	}
}

static struct hist_series *series_resize(struct hist_series *old, const struct hist_layout *l,
					 const struct hist_plan *p)
{
	struct hist_series *s;
	bool same = old->layout == l;

	for (int t = 0; t < __HIST_TIERS && same; t++)
		same = old->tier[t].len == p->len[t];
	if (same)
		return old;
	s = series_new(old->name, l, p);
	for (int t = 0; t < __HIST_TIERS; t++) {
		const struct hist_tier *ot = &old->tier[t];
		struct cell_src src = {
			.fields = old->layout->field, .nfields = old->layout->nfields,
			.len = ot->len, .ncells = ot->ncells, .head = ot->head, .ring = ot->cells,
		};

		if (ot->len)
			copy_tier(s, t, &src, ot->head == HIST_NONE ? 0 : ot->head - ot->len + 1);
		/* An unchanged layout keeps its running aggregates exactly; else the
		 * next sample takes the bucket up from its slot. */
		if (t != HIST_RAW && old->layout == l && s->tier[t].head == ot->head)
			*ACC(s, t) = *ACC(old, t);
	}
	free(old);
	return s;
}

/* ---- the set of series ------------------------------------------------------------- */

static void plan_for(const struct hist_want *want, int n, struct hist_plan *p)
{
	const struct hist_layout *layouts[HIST_MAX_SERIES] = { 0 };

	for (int i = 0; i < n; i++)
		layouts[i] = want[i].layout;
	hist_plan(layouts, n, H.cap, p);
}

static bool unchanged(const struct hist_want *want, int n)
{
	if (n != H.n)
		return false;
	for (int i = 0; i < n; i++)
		if (strcmp(H.s[i]->name, want[i].name) || H.s[i]->layout != want[i].layout)
			return false;
	return true;
}

static bool wanted(const char *name, const struct hist_want *want, int n)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(want[i].name, name))
			return true;
	return false;
}

static void log_plan(void)
{
	const struct hist_plan *p = &H.plan;

	log_info("history: %d series in %zu of %zu KB (%u.%u%% of the full spans: raw %.1f min, "
		 "10s %.1f h, 1m %.1f days)", H.n, (p->bytes + 1023) / 1024, H.cap / 1024,
		 p->permille / 10, p->permille % 10, p->len[HIST_RAW] / 60.0,
		 p->len[HIST_10S] * 10 / 3600.0, p->len[HIST_1M] / 1440.0);
}

/* Frees what goes, then resizes what stays (one series at a time, so the
 * store never holds more than the cap plus one series), then adds what is new. */
static void apply(const struct hist_want *want, int n)
{
	struct hist_series *next[HIST_MAX_SERIES] = { 0 };
	struct hist_plan p;

	plan_for(want, n, &p);
	for (int i = 0; i < H.n; i++) {
		if (!wanted(H.s[i]->name, want, n)) {
			free(H.s[i]);
			H.s[i] = NULL;
		}
	}
	for (int i = 0; i < n; i++) {
		for (int j = 0; j < H.n; j++) {
			if (H.s[j] && !strcmp(H.s[j]->name, want[i].name)) {
				next[i] = series_resize(H.s[j], want[i].layout, &p);
				H.s[j] = NULL;
				break;
			}
		}
	}
	for (int i = 0; i < n; i++)
		if (!next[i])
			next[i] = series_new(want[i].name, want[i].layout, &p);
	memcpy(H.s, next, sizeof(next));
	H.n = n;
	H.plan = p;
}

bool hist_set(const struct hist_want *want, int n)
{
	if (n > HIST_MAX_SERIES)
		n = HIST_MAX_SERIES;
	if (unchanged(want, n))
		return false;
	apply(want, n);
	if (n)
		log_plan();
	return true;
}

void hist_set_cap(size_t cap)
{
	static char names[HIST_MAX_SERIES][CFG_NAME_LEN];	/* resizing frees the old */
	struct hist_want want[HIST_MAX_SERIES];

	if (cap < HIST_MIN_CAP)
		cap = HIST_MIN_CAP;
	if (cap == H.cap)
		return;
	H.cap = cap;
	for (int i = 0; i < H.n; i++) {
		memcpy(names[i], H.s[i]->name, sizeof(names[i]));
		want[i] = (struct hist_want){ names[i], H.s[i]->layout };
	}
	apply(want, H.n);
	if (H.n)
		log_plan();
}

void hist_fini(void)
{
	for (int i = 0; i < H.n; i++)
		free(H.s[i]);
	H.n = 0;
	memset(&H.plan, 0, sizeof(H.plan));
}

void hist_clear(void)
{
	for (int i = 0; i < H.n; i++) {
		for (int t = 0; t < __HIST_TIERS; t++) {
			tier_empty(&H.s[i]->tier[t]);
			if (t != HIST_RAW)
				ACC(H.s[i], t)->bucket = HIST_NONE;
		}
	}
}

int hist_count(void)
{
	return H.n;
}

int hist_find(const char *name)
{
	for (int i = 0; i < H.n; i++)
		if (!strcmp(H.s[i]->name, name))
			return i;
	return -1;
}

const char *hist_name(int i)
{
	return i >= 0 && i < H.n ? H.s[i]->name : NULL;
}

size_t hist_used_bytes(void)
{
	size_t sum = 0;

	for (int i = 0; i < H.n; i++)
		sum += H.s[i]->bytes;
	return sum;
}

int64_t hist_capacity_s(enum hist_tier_id t)
{
	return (int64_t)H.plan.len[t] * hist_step_s[t];
}

/* ---- appending ------------------------------------------------------------------------ */

static void raw_put(struct hist_series *s, int64_t b, const double *vals)
{
	struct hist_tier *t = &s->tier[HIST_RAW];
	uint16_t *d;

	if (t->head != HIST_NONE && b <= t->head) {
		if (t->head - b <= HIST_CLOCK_SLACK_S)
			return;		/* that second is taken, or the clock stepped back a little */
		tier_empty(t);
	}
	tier_advance(t, b);
	d = slot(t, b);
	d[0] = 1;
	for (int i = 0; i < s->layout->nfields; i++)
		d[1 + i] = quantize(&s->layout->field[i], vals[i]);
}

static void acc_reset(struct hist_acc *a, int64_t b)
{
	memset(a, 0, sizeof(*a));
	a->bucket = b;
}

/* A bucket that holds samples from before (a snapshot, a resize with another
 * layout): taken up with every known value counted n times. */
static void acc_seed(struct hist_acc *a, int64_t b, const uint16_t *d, const struct hist_layout *l)
{
	int c = 1;

	acc_reset(a, b);
	a->n = d[0];
	for (int i = 0; i < l->nfields; i++) {
		const struct hist_field *f = &l->field[i];
		struct hist_acc_field *af = &a->f[i];
		double lo, avg, hi;

		if (f->agg & HIST_WORST) {
			avg = lo = hi = dequantize(f, d[c++]);
		} else {
			lo = f->agg & HIST_MIN ? dequantize(f, d[c++]) : NAN;
			avg = dequantize(f, d[c++]);
			hi = f->agg & HIST_MAX ? dequantize(f, d[c++]) : NAN;
		}
		if (isnan(avg))
			continue;
		af->cnt = a->n;
		af->sum = avg * a->n;
		af->min = (float)(isnan(lo) ? avg : lo);
		af->max = (float)(isnan(hi) ? avg : hi);
	}
}

static void acc_add(struct hist_acc *a, const struct hist_layout *l, const double *vals)
{
	a->n++;
	for (int i = 0; i < l->nfields; i++) {
		struct hist_acc_field *af = &a->f[i];
		double v = vals[i];

		if (!isfinite(v))
			continue;
		v = fmin(fmax(v, 0), value_max(&l->field[i]));
		if (!af->cnt || v < af->min)
			af->min = (float)v;
		if (!af->cnt || v > af->max)
			af->max = (float)v;
		af->sum += v;
		af->cnt++;
	}
}

static void acc_write(const struct hist_acc *a, const struct hist_layout *l, uint16_t *d)
{
	int c = 1;

	d[0] = a->n > HIST_VALUE_MAX ? HIST_VALUE_MAX : (uint16_t)a->n;
	for (int i = 0; i < l->nfields; i++) {
		const struct hist_field *f = &l->field[i];
		const struct hist_acc_field *af = &a->f[i];
		bool none = !af->cnt;

		if (f->agg & HIST_WORST) {
			d[c++] = none ? HIST_MISSING : quantize(f, af->max);
			continue;
		}
		if (f->agg & HIST_MIN)
			d[c++] = none ? HIST_MISSING : quantize(f, af->min);
		d[c++] = none ? HIST_MISSING : quantize(f, af->sum / af->cnt);
		if (f->agg & HIST_MAX)
			d[c++] = none ? HIST_MISSING : quantize(f, af->max);
	}
}

static void agg_add(struct hist_series *s, enum hist_tier_id id, int64_t b, const double *vals)
{
	struct hist_tier *t = &s->tier[id];
	struct hist_acc *a = ACC(s, id);

	if (t->head != HIST_NONE && b < t->head) {
		if ((t->head - b) * hist_step_s[id] <= HIST_CLOCK_SLACK_S) {
			b = t->head;	/* counts in the newest bucket */
		} else {
			tier_empty(t);
			a->bucket = HIST_NONE;
		}
	}
	if (t->head == HIST_NONE || b > t->head) {
		tier_advance(t, b);
		acc_reset(a, b);
	} else if (a->bucket != b) {
		acc_seed(a, b, slot(t, b), s->layout);
	}
	acc_add(a, s->layout, vals);
	acc_write(a, s->layout, slot(t, b));
}

void hist_append(int i, int64_t ts, const double *vals)
{
	struct hist_series *s;

	if (i < 0 || i >= H.n)
		return;
	s = H.s[i];
	if (s->tier[HIST_RAW].len)
		raw_put(s, bucket_of(ts, HIST_RAW), vals);
	for (int t = HIST_10S; t < __HIST_TIERS; t++)
		if (s->tier[t].len)
			agg_add(s, (enum hist_tier_id)t, bucket_of(ts, (enum hist_tier_id)t), vals);
}

/* ---- queries ---------------------------------------------------------------------------- */

int hist_res_parse(const char *s)
{
	if (!strcmp(s, "auto"))
		return HIST_AUTO;
	for (int t = 0; t < __HIST_TIERS; t++)
		if (!strcmp(s, hist_tier_names[t]))
			return t;
	return -2;
}

enum hist_tier_id hist_pick(int64_t since_s, int res)
{
	int best = HIST_RAW;

	if (res >= 0 && res < __HIST_TIERS)
		return (enum hist_tier_id)res;
	for (int t = 0; t < __HIST_TIERS; t++)
		if (hist_capacity_s(t) >= since_s)
			return (enum hist_tier_id)t;
	for (int t = 1; t < __HIST_TIERS; t++)
		if (hist_capacity_s(t) > hist_capacity_s(best))
			best = t;
	return (enum hist_tier_id)best;
}

/* A growing text buffer for the points. */
struct sbuf {
	char *p;
	size_t len, cap;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_str(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

/* The exact decimal of a stored value: 234 with 1 decimal is 23.4, 230 is 23. */
static void sb_value(struct sbuf *b, const struct hist_field *f, uint16_t q)
{
	unsigned p = pow10_u[f->decimals], ip = q / p, fp = q % p;
	int digits = f->decimals;
	char buf[32];

	if (q == HIST_MISSING) {
		sb_str(b, "null");
		return;
	}
	if (f->names) {
		if (q < f->nnames && f->names[q]) {
			snprintf(buf, sizeof(buf), "\"%s\"", f->names[q]);
			sb_str(b, buf);
		} else {
			sb_str(b, "null");
		}
		return;
	}
	while (fp && fp % 10 == 0) {
		fp /= 10;
		digits--;
	}
	if (fp)
		snprintf(buf, sizeof(buf), "%u.%0*u", ip, digits, fp);
	else
		snprintf(buf, sizeof(buf), "%u", ip);
	sb_str(b, buf);
}

static void sb_point(struct sbuf *b, const struct hist_series *s, enum hist_tier_id t,
		     int64_t bucket, const uint16_t *d)
{
	char when[RFC3339_LEN], num[16];
	int c = 1;

	sb_str(b, b->len > 1 ? ",[\"" : "[\"");
	sb_str(b, fmt_rfc3339(when, bucket * hist_step_s[t] * 1000));
	sb_str(b, "\"");
	if (t != HIST_RAW) {
		snprintf(num, sizeof(num), ",%u", d[0]);
		sb_str(b, num);
	}
	for (int i = 0; i < s->layout->nfields; i++) {
		const struct hist_field *f = &s->layout->field[i];

		for (int n = 0; n < field_cells(f, t); n++) {
			sb_str(b, ",");
			sb_value(b, f, d[c++]);
		}
	}
	sb_str(b, "]");
}

static struct json_object *fields_json(const struct hist_layout *l, enum hist_tier_id t)
{
	struct json_object *arr = json_object_new_array();
	char name[HIST_FIELD_LEN + 8];

	json_object_array_add(arr, json_object_new_string("ts"));
	if (t != HIST_RAW)
		json_object_array_add(arr, json_object_new_string("n"));
	for (int i = 0; i < l->nfields; i++) {
		const struct hist_field *f = &l->field[i];

		if (t != HIST_RAW && (f->agg & HIST_MIN)) {
			snprintf(name, sizeof(name), "%s_min", f->name);
			json_object_array_add(arr, json_object_new_string(name));
		}
		json_object_array_add(arr, json_object_new_string(f->name));
		if (t != HIST_RAW && !(f->agg & HIST_WORST) && (f->agg & HIST_MAX)) {
			snprintf(name, sizeof(name), "%s_max", f->name);
			json_object_array_add(arr, json_object_new_string(name));
		}
	}
	return arr;
}

/* The points go out as text prepared here: thousands of points as json-c
 * objects would take about ten times the memory of the reply itself. */
static int points_serialize(struct json_object *o, struct printbuf *pb, int level, int flags)
{
	const char *text = json_object_get_userdata(o);

	(void)level;
	(void)flags;
	return printbuf_memappend(pb, text, (int)strlen(text));
}

static void points_free(struct json_object *o, void *userdata)
{
	(void)o;
	free(userdata);
}

static struct json_object *ts_json(int64_t sec)
{
	char buf[RFC3339_LEN];

	return json_object_new_string(fmt_rfc3339(buf, sec * 1000));
}

/* From the oldest point (or the start of the window) to now. */
static int64_t covered(int64_t oldest, int64_t start, int64_t now)
{
	if (oldest < start)
		oldest = start;
	return oldest < now ? now - oldest : 0;
}

struct json_object *hist_query(const char *name, int64_t since_s, int res, int64_t now)
{
	int i = hist_find(name);
	enum hist_tier_id t = hist_pick(since_s, res);
	int64_t start = now - since_s, step = hist_step_s[t], first = HIST_NONE, last = 0, lo;
	struct sbuf b = { 0 };
	struct json_object *o, *points;
	const struct hist_series *s;
	const struct hist_tier *tr;
	int count = 0;

	if (i < 0)
		return NULL;
	s = H.s[i];
	tr = &s->tier[t];
	sb_str(&b, "[");
	if (tr->len && tr->head != HIST_NONE) {
		lo = bucket_of(start, t);
		if (lo < tr->head - (int64_t)tr->len + 1)
			lo = tr->head - (int64_t)tr->len + 1;
		for (int64_t x = lo; x <= tr->head; x++) {
			const uint16_t *d = slot(tr, x);

			if (!d[0] || (x + 1) * step <= start)
				continue;
			sb_point(&b, s, t, x, d);
			if (first == HIST_NONE)
				first = x;
			last = x;
			count++;
		}
	}
	sb_str(&b, "]");
	o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(s->name));
	json_object_object_add(o, "resolution", json_object_new_string(hist_tier_names[t]));
	json_object_object_add(o, "step_s", json_object_new_int64(step));
	json_object_object_add(o, "since_s", json_object_new_int64(since_s));
	json_object_object_add(o, "covered_s",
			       json_object_new_int64(count ? covered(first * step, start, now) : 0));
	json_object_object_add(o, "capacity_s", json_object_new_int64(hist_capacity_s(t)));
	json_object_object_add(o, "from", count ? ts_json(first * step) : NULL);
	json_object_object_add(o, "to", count ? ts_json(last * step) : NULL);
	json_object_object_add(o, "count", json_object_new_int(count));
	json_object_object_add(o, "fields", fields_json(s->layout, t));
	points = json_object_new_array();
	json_object_set_serializer(points, points_serialize, b.p, points_free);
	json_object_object_add(o, "points", points);
	return o;
}

struct json_object *hist_info_json(void)
{
	struct json_object *o = json_object_new_object(), *span = json_object_new_object();

	json_object_object_add(o, "max_ram_kb", json_object_new_int64((int64_t)(H.cap / 1024)));
	json_object_object_add(o, "used_bytes", json_object_new_int64((int64_t)hist_used_bytes()));
	json_object_object_add(o, "series", json_object_new_int(H.n));
	for (int t = 0; t < __HIST_TIERS; t++)
		json_object_object_add(span, hist_tier_names[t],
				       json_object_new_int64(hist_capacity_s(t)));
	json_object_object_add(o, "span_s", span);
	return o;
}

/* ---- snapshot ------------------------------------------------------------------------------ *
 *
 * All integers little-endian:
 *	"AUTOHIST" u16 version=1 u16 nseries u32 0 i64 saved (wall-clock s)
 *	per series: u8 len, name; u8 nfields; per field: u8 len, name, u8 decimals, u8 agg;
 *	            per tier (raw, 10s, 1m): u32 step_s, u32 count, i64 head (INT64_MIN: empty),
 *	            count slots oldest first (buckets head-count+1 … head), each of u16 cells
 *	            (n, then the fields' cells as in the layout; n = 0: an empty slot)
 *	u32 CRC-32 (IEEE 802.3, as zlib's crc32) of everything before it
 */

#define SNAP_MAGIC	"AUTOHIST"
#define SNAP_VERSION	1
#define SNAP_HEADER	24

struct wbuf {
	uint8_t *p;
	size_t len;
};

static void put_le(struct wbuf *w, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		w->p[w->len++] = (uint8_t)(v >> (8 * i));
}

static void put_name(struct wbuf *w, const char *s)
{
	size_t n = strlen(s);

	put_le(w, n, 1);
	memcpy(w->p + w->len, s, n);
	w->len += n;
}

/* Slots from the oldest that holds samples to the newest: a young store
 * makes a small file. */
static uint32_t tier_used(const struct hist_tier *t)
{
	if (t->head == HIST_NONE)
		return 0;
	for (uint32_t k = t->len; k > 0; k--)
		if (slot(t, t->head - (int64_t)k + 1)[0])
			return k;
	return 0;
}

static size_t series_file_size(const struct hist_series *s)
{
	size_t n = 1 + strlen(s->name) + 1;

	for (int i = 0; i < s->layout->nfields; i++)
		n += 1 + strlen(s->layout->field[i].name) + 2;
	for (int t = 0; t < __HIST_TIERS; t++)
		n += 16 + (size_t)tier_used(&s->tier[t]) * s->tier[t].ncells * 2;
	return n;
}

static void put_tier(struct wbuf *w, const struct hist_tier *t, enum hist_tier_id id)
{
	uint32_t used = tier_used(t);

	put_le(w, hist_step_s[id], 4);
	put_le(w, used, 4);
	put_le(w, (uint64_t)(used ? t->head : HIST_NONE), 8);
	for (uint32_t k = 0; k < used; k++) {
		const uint16_t *d = slot(t, t->head - (int64_t)used + 1 + k);

		for (int c = 0; c < t->ncells; c++)
			put_le(w, d[c], 2);
	}
}

/* The end of the newest bucket held: after the clock stepped back a little
 * it can be later than now, and a file must not hold samples from after it
 * was saved. */
static int64_t newest_end(int64_t now)
{
	for (int i = 0; i < H.n; i++) {
		for (int t = 0; t < __HIST_TIERS; t++) {
			const struct hist_tier *tr = &H.s[i]->tier[t];
			int64_t end;

			if (tr->head == HIST_NONE)
				continue;
			end = (tr->head + 1) * hist_step_s[t] - 1;
			if (end > now)
				now = end;
		}
	}
	return now;
}

char *hist_save(int64_t now, size_t *len)
{
	struct wbuf w;
	size_t size = SNAP_HEADER + 4;

	now = newest_end(now);
	for (int i = 0; i < H.n; i++)
		size += series_file_size(H.s[i]);
	w.p = xmalloc(size);
	w.len = 0;
	memcpy(w.p, SNAP_MAGIC, 8);
	w.len = 8;
	put_le(&w, SNAP_VERSION, 2);
	put_le(&w, (uint64_t)H.n, 2);
	put_le(&w, 0, 4);
	put_le(&w, (uint64_t)now, 8);
	for (int i = 0; i < H.n; i++) {
		const struct hist_series *s = H.s[i];

		put_name(&w, s->name);
		put_le(&w, (uint64_t)s->layout->nfields, 1);
		for (int f = 0; f < s->layout->nfields; f++) {
			put_name(&w, s->layout->field[f].name);
			put_le(&w, s->layout->field[f].decimals, 1);
			put_le(&w, s->layout->field[f].agg, 1);
		}
		for (int t = 0; t < __HIST_TIERS; t++)
			put_tier(&w, &s->tier[t], (enum hist_tier_id)t);
	}
	put_le(&w, crc32_ieee(w.p, w.len), 4);
	*len = w.len;
	return (char *)w.p;
}

/* Reading: a cursor that turns every overrun into one error. */
struct rbuf {
	const uint8_t *p;
	size_t len, off;
	char *err;
	size_t errlen;
	bool bad;
};

static void rfail(struct rbuf *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void rfail(struct rbuf *r, const char *fmt, ...)
{
	va_list ap;

	if (r->bad)
		return;
	r->bad = true;
	va_start(ap, fmt);
	vsnprintf(r->err, r->errlen, fmt, ap);
	va_end(ap);
}

static uint64_t get_le(struct rbuf *r, int bytes)
{
	uint64_t v = 0;

	if (r->bad || r->len - r->off < (size_t)bytes) {
		rfail(r, "truncated at byte %zu", r->off);
		return 0;
	}
	for (int i = 0; i < bytes; i++)
		v |= (uint64_t)r->p[r->off + (size_t)i] << (8 * i);
	r->off += (size_t)bytes;
	return v;
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == '.';
}

static void get_name(struct rbuf *r, char *out, size_t size, const char *what)
{
	size_t n = (size_t)get_le(r, 1);

	out[0] = '\0';
	if (r->bad)
		return;
	if (!n || n >= size || r->len - r->off < n) {
		rfail(r, "bad %s name at byte %zu", what, r->off);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (!name_char((char)r->p[r->off + i])) {
			rfail(r, "bad %s name at byte %zu", what, r->off);
			return;
		}
		out[i] = (char)r->p[r->off + i];
	}
	out[n] = '\0';
	r->off += n;
}

/* One series of the file, read and checked. */
struct snap_series {
	char name[CFG_NAME_LEN];
	char fname[HIST_MAX_FIELDS][HIST_FIELD_LEN];
	struct hist_field fields[HIST_MAX_FIELDS];
	int nfields;
	struct cell_src tier[__HIST_TIERS];
};

static bool agg_ok(unsigned agg)
{
	return !(agg & ~(unsigned)(HIST_MIN | HIST_MAX | HIST_WORST)) &&
	       (!(agg & HIST_WORST) || agg == HIST_WORST);
}

static void read_fields(struct rbuf *r, struct snap_series *ss)
{
	ss->nfields = (int)get_le(r, 1);
	if (!r->bad && (ss->nfields < 1 || ss->nfields > HIST_MAX_FIELDS))
		rfail(r, "series %s: %d fields", ss->name, ss->nfields);
	for (int f = 0; f < ss->nfields && !r->bad; f++) {
		struct hist_field *hf = &ss->fields[f];

		get_name(r, ss->fname[f], HIST_FIELD_LEN, "field");
		hf->name = ss->fname[f];
		hf->decimals = (uint8_t)get_le(r, 1);
		hf->agg = (uint8_t)get_le(r, 1);
		if (!r->bad && (hf->decimals >= ARRAY_SIZE(pow10_u) || !agg_ok(hf->agg)))
			rfail(r, "series %s: field %s is not one this daemon knows", ss->name, hf->name);
	}
}

static void read_tier(struct rbuf *r, struct snap_series *ss, enum hist_tier_id t, int64_t saved)
{
	struct cell_src *c = &ss->tier[t];
	struct hist_layout l = { .nfields = ss->nfields };
	uint32_t step = (uint32_t)get_le(r, 4);
	size_t bytes;

	memcpy(l.field, ss->fields, sizeof(l.field));
	c->fields = ss->fields;
	c->nfields = ss->nfields;
	c->len = (uint32_t)get_le(r, 4);
	c->head = (int64_t)get_le(r, 8);
	c->ncells = (uint8_t)rec_cells(&l, t);
	if (r->bad)
		return;
	if (step != hist_step_s[t] || c->len > hist_full_len[t]) {
		rfail(r, "series %s: tier %s is not one this daemon knows", ss->name,
		      hist_tier_names[t]);
		return;
	}
	if ((c->head == HIST_NONE) != !c->len ||
	    (c->head != HIST_NONE && (c->head < 0 || c->head > bucket_of(saved, t)))) {
		rfail(r, "series %s: tier %s ends after the file was saved", ss->name,
		      hist_tier_names[t]);
		return;
	}
	bytes = (size_t)c->len * c->ncells * 2;
	if (r->len - r->off < bytes) {
		rfail(r, "truncated in series %s", ss->name);
		return;
	}
	c->le = r->p + r->off;
	r->off += bytes;
}

static void read_series(struct rbuf *r, struct snap_series *ss, int64_t saved)
{
	get_name(r, ss->name, sizeof(ss->name), "series");
	read_fields(r, ss);
	for (int t = 0; t < __HIST_TIERS && !r->bad; t++)
		read_tier(r, ss, (enum hist_tier_id)t, saved);
}

static bool series_empty(const struct hist_series *s)
{
	for (int t = 0; t < __HIST_TIERS; t++)
		if (s->tier[t].head != HIST_NONE)
			return false;
	return true;
}

/* Fills the empty series of the same name with what is recent enough. */
static bool take_series(const struct snap_series *ss, int64_t now)
{
	int i = hist_find(ss->name);
	struct hist_series *s;

	if (i < 0 || !series_empty(H.s[i]))
		return false;
	s = H.s[i];
	for (int t = 0; t < __HIST_TIERS; t++) {
		const struct cell_src *c = &ss->tier[t];

		if (!c->len || c->head == HIST_NONE)
			continue;
		copy_tier(s, (enum hist_tier_id)t, c,
			  bucket_of(now, (enum hist_tier_id)t) - (int64_t)s->tier[t].len + 1);
	}
	return true;
}

static int check_header(struct rbuf *r, int64_t now, int64_t *saved, int *nseries)
{
	unsigned version;

	if (r->len < SNAP_HEADER + 4 || memcmp(r->p, SNAP_MAGIC, 8)) {
		rfail(r, "not a history snapshot");
		return -1;
	}
	if (crc32_ieee(r->p, r->len - 4) != (uint32_t)(r->p[r->len - 4] | r->p[r->len - 3] << 8 |
						      r->p[r->len - 2] << 16 |
						      (uint32_t)r->p[r->len - 1] << 24)) {
		rfail(r, "checksum mismatch (damaged or cut short)");
		return -1;
	}
	r->off = 8;
	r->len -= 4;
	version = (unsigned)get_le(r, 2);
	*nseries = (int)get_le(r, 2);
	get_le(r, 4);
	*saved = (int64_t)get_le(r, 8);
	if (version != SNAP_VERSION) {
		rfail(r, "format version %u (this daemon reads %d)", version, SNAP_VERSION);
		return -1;
	}
	if (*nseries > HIST_MAX_SERIES) {
		rfail(r, "%d series (at most %d)", *nseries, HIST_MAX_SERIES);
		return -1;
	}
	if (*saved < 0 || *saved > now + HIST_CLOCK_SLACK_S) {
		rfail(r, "saved at %" PRId64 ", after the time now (%" PRId64 "): is the clock set?",
		      *saved, now);
		return -1;
	}
	return 0;
}

int hist_load(const void *buf, size_t len, int64_t now, char *err, size_t errlen)
{
	struct rbuf r = { .p = buf, .len = len, .err = err, .errlen = errlen };
	struct snap_series *ss;
	int64_t saved;
	int n, loaded = 0;

	if (errlen)
		err[0] = '\0';
	if (check_header(&r, now, &saved, &n) < 0)
		return -1;
	ss = xcalloc((size_t)n ? (size_t)n : 1, sizeof(*ss));
	for (int i = 0; i < n && !r.bad; i++) {
		read_series(&r, &ss[i], saved);
		for (int j = 0; j < i && !r.bad; j++)
			if (!strcmp(ss[i].name, ss[j].name))
				rfail(&r, "series %s appears twice", ss[i].name);
	}
	if (!r.bad && r.off != r.len)
		rfail(&r, "%zu bytes after the last series", r.len - r.off);
	for (int i = 0; i < n && !r.bad; i++)
		loaded += take_series(&ss[i], now);
	free(ss);
	return r.bad ? -1 : loaded;
}
