/* libFuzzer target for the UCI parser.
 *
 * Beyond "does not crash", it checks:
 *  - uci_parse_buf and uci_parser_line fed line by line (with '\n' kept, as
 *    getline gives them) agree on the result, the errors and their count;
 *  - every bad line returns -1 and records exactly one message;
 *  - the parsed file keeps its invariants (valid unique names, an option has
 *    one value, line numbers in order) and the find functions locate it all;
 *  - every value survives uci_quote and a parse back, and so does the whole
 *    file written out again as UCI;
 *  - a parser dropped halfway frees everything (ASan's leak check).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/uci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(x) do { \
		if (!(x)) { \
			fprintf(stderr, "fuzz_uci.c:%d: check failed: %s\n", __LINE__, #x); \
			abort(); \
		} \
	} while (0)

static int valid_name(const char *s)
{
	if (!s || !*s)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

static int same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static void check_section(const struct uci_file *f, const struct uci_section *s, int lines)
{
	int i;

	check(valid_name(s->type));
	check(!s->name || valid_name(s->name));
	if (s->name)
		check(uci_find_section(f, s->name) == s);
	check(s->line >= 1 && s->line <= s->last_line && s->last_line <= lines);
	check(s->nopts >= 0 && (s->nopts == 0) == (s->opts == NULL));
	for (i = 0; i < s->nopts; i++) {
		const struct uci_option *o = &s->opts[i];
		int j;

		check(valid_name(o->name));
		check(uci_find_option(s, o->name) == o);
		check(o->nvalues >= 1 && o->values);
		check(o->is_list || o->nvalues == 1);
		check(o->line > s->line && o->line <= s->last_line);
		for (j = 0; j < o->nvalues; j++)
			check(o->values[j]);
	}
}

static void check_file(const struct uci_file *f, int lines)
{
	int i;

	check(f->nsecs >= 0 && (f->nsecs == 0) == (f->secs == NULL));
	for (i = 0; i < f->nsecs; i++)
		check_section(f, &f->secs[i], lines);
}

static void check_errors(const struct uci_parser *p)
{
	int i;

	for (i = 0; i < UCI_MAX_ERRORS; i++) {
		if (i < p->nerrors) {
			check(p->errors[i]);
			check(!strncmp(p->errors[i], "fuzz:", 5));
			check(strlen(p->errors[i]) < 1024);
		} else {
			check(!p->errors[i]);
		}
	}
}

static int same_file(const struct uci_file *a, const struct uci_file *b, int lines)
{
	int i, j, k;

	if (a->nsecs != b->nsecs)
		return 0;
	for (i = 0; i < a->nsecs; i++) {
		const struct uci_section *x = &a->secs[i], *y = &b->secs[i];

		if (!same_str(x->type, y->type) || !same_str(x->name, y->name) ||
		    x->nopts != y->nopts)
			return 0;
		if (lines && (x->line != y->line || x->last_line != y->last_line))
			return 0;
		for (j = 0; j < x->nopts; j++) {
			const struct uci_option *o = &x->opts[j], *q = &y->opts[j];

			if (strcmp(o->name, q->name) || o->is_list != q->is_list ||
			    o->nvalues != q->nvalues || (lines && o->line != q->line))
				return 0;
			for (k = 0; k < o->nvalues; k++)
				if (strcmp(o->values[k], q->values[k]))
					return 0;
		}
	}
	return 1;
}

static char *quote(const char *value)
{
	size_t n = uci_quote(NULL, 0, value), m;
	char *q = malloc(n + 1), *part;

	check(q);
	check(uci_quote(q, n + 1, value) == n && strlen(q) == n);
	check(q[0] == '\'' && q[n - 1] == '\'' && !strchr(q, '\n'));

	/* a short buffer gets a NUL-terminated prefix and the same answer */
	m = n / 2;
	part = malloc(m + 1);
	check(part);
	check(uci_quote(part, m + 1, value) == n);
	check(strlen(part) == m && !memcmp(part, q, m));
	free(part);
	return q;
}

/* option v <quoted> must give back exactly the value */
static void value_round_trip(const char *value)
{
	char *q = quote(value), *line;
	struct uci_parser p;
	struct uci_file f;
	int len;

	len = asprintf(&line, "\toption v %s # c", q);
	check(len > 0);
	if (len <= UCI_MAX_LINE) {
		uci_parser_init(&p, "fuzz");
		check(uci_parser_line(&p, "config t", 8) == 0);
		check(uci_parser_line(&p, line, (size_t)len) == 0);
		check(uci_parser_finish(&p, &f) == 0);
		check(f.nsecs == 1 && f.secs[0].nopts == 1);
		check(!strcmp(f.secs[0].opts[0].values[0], value));
		uci_file_free(&f);
		uci_parser_free(&p);
	}
	free(line);
	free(q);
}

/* Write f out as UCI; NULL if a line would be too long to read back. */
static char *export(const struct uci_file *f, size_t *len)
{
	char *buf = NULL;
	FILE *out = open_memstream(&buf, len);
	int i, j, k, fit = 1;

	check(out);
	for (i = 0; i < f->nsecs; i++) {
		const struct uci_section *s = &f->secs[i];

		fprintf(out, "config %s", s->type);
		if (s->name)
			fprintf(out, " '%s'", s->name);
		fputs("\n", out);
		for (j = 0; j < s->nopts; j++) {
			const struct uci_option *o = &s->opts[j];

			for (k = 0; k < o->nvalues; k++) {
				char *q = quote(o->values[k]);

				/* the line without its newline: "\toption NAME VALUE" */
				if (strlen(q) + strlen(o->name) + (o->is_list ? 7 : 9) > UCI_MAX_LINE)
					fit = 0;
				fprintf(out, "\t%s %s %s\n", o->is_list ? "list" : "option",
					o->name, q);
				free(q);
			}
		}
	}
	check(fclose(out) == 0);
	if (!fit) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void file_round_trip(const struct uci_file *f)
{
	struct uci_parser p;
	struct uci_file g;
	size_t len;
	char *text = export(f, &len);
	int i, j, k;

	if (!text)
		return;
	for (i = 0; i < f->nsecs; i++)
		for (j = 0; j < f->secs[i].nopts; j++)
			for (k = 0; k < f->secs[i].opts[j].nvalues; k++)
				value_round_trip(f->secs[i].opts[j].values[k]);
	uci_parser_init(&p, "fuzz");
	check(uci_parse_buf(&p, text, len, &g) == 0);
	check(same_file(f, &g, 0));
	uci_file_free(&g);
	uci_parser_free(&p);
	free(text);
}

/* Feed the lines one at a time; stop after max lines (-1: all). */
static int feed_lines(struct uci_parser *p, const char *data, size_t size, int max)
{
	const char *end = data + size;
	int bad = 0;

	while (data < end && max--) {
		const char *nl = memchr(data, '\n', (size_t)(end - data));
		size_t n = nl ? (size_t)(nl - data) + 1 : (size_t)(end - data);
		int before = p->nerrors, ret = uci_parser_line(p, data, n);

		check(ret == 0 || ret == -1);
		check(p->nerrors == before + (ret ? 1 : 0));
		bad += ret ? 1 : 0;
		data += n;
	}
	return bad;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct uci_parser a, b;
	struct uci_file fa, fb;
	int na, bad, i;

	uci_parser_init(&a, "fuzz");
	na = uci_parse_buf(&a, text, size, &fa);
	check(na == a.nerrors && na >= 0);
	check_errors(&a);
	check_file(&fa, a.lineno);

	uci_parser_init(&b, "fuzz");
	bad = feed_lines(&b, text, size, -1);
	check(b.lineno == a.lineno);
	check(uci_parser_finish(&b, &fb) == na && bad == na);
	check(same_file(&fa, &fb, 1));
	for (i = 0; i < UCI_MAX_ERRORS && i < na; i++)
		check(!strcmp(a.errors[i], b.errors[i]));
	uci_file_free(&fb);
	uci_parser_free(&b);

	file_round_trip(&fa);
	uci_file_free(&fa);
	uci_parser_free(&a);
	uci_parser_free(&a);

	/* abandoned halfway: free alone must release the partial file */
	uci_parser_init(&b, "fuzz");
	feed_lines(&b, text, size, size ? data[0] % 16 : 0);
	uci_parser_free(&b);
	return 0;
}
