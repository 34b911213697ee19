/* UCI file parser: the grammar and the error policy are described in uci.h.
 *
 * Choices uci.h leaves open, following what uci(1) does where it can:
 *  - outside quotes a backslash takes the next character literally (so the
 *    '\'' that uci_quote writes reads back); a lone one at the end of a line
 *    is an error, as lines are never continued;
 *  - '#' starts a comment only at the start of a word: a#b is a value;
 *  - a repeated "config TYPE 'NAME'" continues that section where it stands;
 *    last_line then stays on the last option/list of it. Comments never
 *    count for last_line, so new options go right after the last real one;
 *  - any rejected config line drops the options after it, silently, until the
 *    next config line; syntax errors on those lines are still reported;
 *  - "package" takes any words and is ignored.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "config/uci.h"

#define SHOW_LINE	60	/* characters of the offending line in a message */
#define SHOW_WORD	32	/* characters of a bad name inside a message */
#define KEEP_WORDS	3	/* no statement has more than keyword + 2 words */

/* The API has no field for the parser's cursor (which section the next option
 * belongs to), so it lives in a spare zeroed slot one past the last section:
 * while parsing, secs has nsecs + 1 entries as soon as it exists. The slot's
 * 'line' is the index of the current section + 1, CUR_NONE before the first
 * config line, or CUR_SKIP while the options of a rejected config line are
 * being dropped. */
#define CUR_NONE	0
#define CUR_SKIP	(-1)

struct words {
	const char *w[KEEP_WORDS];
	int n;			/* every word seen, also the ones not kept */
};

/* Running out of memory while reading a config file leaves nothing sensible
 * to do, so the allocators abort instead of making every caller check. */
static void *xrealloc(void *ptr, size_t size)
{
	void *ret = realloc(ptr, size ? size : 1);

	if (!ret)
		abort();
	return ret;
}

static void *xmalloc(size_t size)
{
	return xrealloc(NULL, size);
}

static char *xstrdup(const char *s)
{
	size_t len = strlen(s) + 1;

	return memcpy(xmalloc(len), s, len);
}

static char *xvasprintf(const char *fmt, va_list ap)
{
	char *ret;

	if (vasprintf(&ret, fmt, ap) < 0)
		abort();
	return ret;
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *ret;

	va_start(ap, fmt);
	ret = xvasprintf(fmt, ap);
	va_end(ap);
	return ret;
}

/* Make room for element n of an array holding n. The public structs carry no
 * capacity, so it is implied by the count: arrays double whenever the count
 * reaches 0 or a power of two. Counts only drop when an array is freed. */
static void *grow(void *arr, int n, size_t size)
{
	if (n & (n - 1))
		return arr;
	if (n > INT_MAX / 2)
		abort();
	return xrealloc(arr, (n ? 2 * (size_t)n : 1) * size);
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static int is_name(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++) {
		char c = *s;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_'))
			return 0;
	}
	return 1;
}

static void trim(const char **s, size_t *len)
{
	while (*len && is_blank(**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len && is_blank((*s)[*len - 1]))
		(*len)--;
}

/* At most max characters of s for a message. Control bytes would garble the
 * admin's terminal, so tabs become spaces and the others '?'. UTF-8 sequences
 * count as one character and are never cut in half. */
static char *shorten(const char *s, size_t len, size_t max)
{
	char *out = xmalloc(len + sizeof("…")), *o = out;
	size_t i, chars = 0;
	int cont = 0;		/* continuation bytes the last lead byte allows */

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c & 0xc0) == 0x80 && cont > 0) {
			cont--;
		} else {
			if (chars++ == max)
				break;
			cont = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
		}
		if (c == '\t')
			c = ' ';
		else if (c < 0x20 || c == 0x7f)
			c = '?';
		*o++ = (char)c;
	}
	if (i < len)
		o = stpcpy(o, "…");
	*o = 0;
	return out;
}

static char *show_word(const char *w)
{
	return shorten(w, strlen(w), SHOW_WORD);
}

static void push_error(struct uci_parser *p, char *msg)
{
	if (p->nerrors < UCI_MAX_ERRORS)
		p->errors[p->nerrors] = msg;
	else
		free(msg);
	p->nerrors++;
}

static const char *file_name(const struct uci_parser *p)
{
	return p->filename ? p->filename : "-";
}

/* Record "FILE:LINE: what: 'text'" and return -1 for uci_parser_line. */
static int line_error(struct uci_parser *p, const char *text, size_t len,
		      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int line_error(struct uci_parser *p, const char *text, size_t len,
		      const char *fmt, ...)
{
	va_list ap;
	char *what, *shown;

	va_start(ap, fmt);
	what = xvasprintf(fmt, ap);
	va_end(ap);
	shown = shorten(text, len, SHOW_LINE);
	push_error(p, xasprintf("%s:%d: %s: '%s'", file_name(p), p->lineno, what, shown));
	free(what);
	free(shown);
	return -1;
}

static const char *single_quoted(const char **sp, const char *end, char **op)
{
	const char *s = *sp + 1, *close = memchr(s, '\'', (size_t)(end - s));
	size_t n;

	if (!close)
		return "unterminated quote";
	n = (size_t)(close - s);
	memcpy(*op, s, n);
	*op += n;
	*sp = close + 1;
	return NULL;
}

static char unescape(char c)
{
	switch (c) {
	case 'n':
		return '\n';
	case 't':
		return '\t';
	default:
		return c;
	}
}

static const char *double_quoted(const char **sp, const char *end, char **op)
{
	const char *s = *sp + 1;
	char *o = *op;

	for (;;) {
		if (s == end)
			return "unterminated quote";
		if (*s == '"')
			break;
		if (*s == '\\') {
			if (++s == end)
				return "unterminated quote";
			*o++ = unescape(*s++);
		} else {
			*o++ = *s++;
		}
	}
	*sp = s + 1;
	*op = o;
	return NULL;
}

/* Split a trimmed line into words, unquoted into buf. len + 1 bytes are
 * enough: unquoting never lengthens a word, and every word but the last is
 * followed by a blank that pays for its NUL. Returns what is wrong, or NULL. */
static const char *split_words(const char *s, size_t len, char *buf, struct words *w)
{
	const char *end = s + len, *err = NULL;
	char *o = buf;

	w->n = 0;
	for (;;) {
		while (s < end && is_blank(*s))
			s++;
		if (s == end || *s == '#')
			return NULL;
		if (w->n < KEEP_WORDS)
			w->w[w->n] = o;
		w->n++;
		while (s < end && !is_blank(*s)) {
			switch (*s) {
			case '\'':
				err = single_quoted(&s, end, &o);
				break;
			case '"':
				err = double_quoted(&s, end, &o);
				break;
			case '\\':
				/* as in the shell and uci: outside quotes a
				 * backslash takes the next character literally,
				 * which is what makes '\'' work */
				if (s + 1 == end)
					return "backslash at end of line";
				*o++ = s[1];
				s += 2;
				break;
			default:
				*o++ = *s++;
			}
			if (err)
				return err;
		}
		*o++ = 0;
	}
}

static int cursor(const struct uci_file *f)
{
	return f->secs ? f->secs[f->nsecs].line : CUR_NONE;
}

static void set_cursor(struct uci_file *f, int cur)
{
	if (!f->secs) {
		f->secs = grow(NULL, 0, sizeof(*f->secs));
		memset(f->secs, 0, sizeof(*f->secs));
	}
	f->secs[f->nsecs].line = cur;
}

static struct uci_section *add_section(struct uci_file *f, const char *type,
				       const char *name, int line)
{
	struct uci_section *s;

	set_cursor(f, CUR_NONE);	/* the slot must exist to move it up */
	f->secs = grow(f->secs, f->nsecs + 1, sizeof(*f->secs));
	f->secs[f->nsecs + 1] = f->secs[f->nsecs];
	s = &f->secs[f->nsecs++];
	memset(s, 0, sizeof(*s));
	s->type = xstrdup(type);
	s->name = name ? xstrdup(name) : NULL;
	s->line = s->last_line = line;
	set_cursor(f, f->nsecs);
	return s;
}

static int find_section_index(const struct uci_file *f, const char *name)
{
	int i;

	for (i = 0; i < f->nsecs; i++)
		if (f->secs[i].name && !strcmp(f->secs[i].name, name))
			return i;
	return -1;
}

/* "invalid section type 'x-y' (…)" and the like, with the word made printable */
static int bad_word(struct uci_parser *p, const char *text, size_t len,
		    const char *what, const char *word, const char *hint)
{
	char *shown = show_word(word);

	line_error(p, text, len, "%s '%s'%s", what, shown, hint);
	free(shown);
	return -1;
}

static int redefined(struct uci_parser *p, const char *text, size_t len,
		     const struct uci_section *s, const char *type)
{
	char *name = show_word(s->name), *was = show_word(s->type);
	char *what = xasprintf("section '%s' redefined as type", name);
	char *hint = xasprintf(" (it is type '%s' since line %d)", was, s->line);

	bad_word(p, text, len, what, type, hint);
	free(name);
	free(was);
	free(what);
	free(hint);
	return -1;
}

#define NAME_HINT	" (use only letters, digits and _)"

static int parse_config(struct uci_parser *p, const char *text, size_t len,
			const struct words *w)
{
	const char *type = w->w[1], *name = w->n > 2 ? w->w[2] : NULL;
	struct uci_file *f = &p->file;
	int i;

	/* whatever is wrong, the options up to the next config line must not
	 * land in the previous section */
	set_cursor(f, CUR_SKIP);
	if (w->n < 2)
		return line_error(p, text, len, "config without a section type");
	if (w->n > 3)
		return line_error(p, text, len,
				  "too many words (expected: config TYPE 'NAME')");
	if (!is_name(type))
		return bad_word(p, text, len, "invalid section type", type, NAME_HINT);
	if (name && !is_name(name))
		return bad_word(p, text, len, "invalid section name", name, NAME_HINT);
	if (!name) {
		add_section(f, type, NULL, p->lineno);
		return 0;
	}

	/* a repeated name continues the earlier section, as uci does */
	i = find_section_index(f, name);
	if (i < 0) {
		add_section(f, type, name, p->lineno);
		return 0;
	}
	if (strcmp(f->secs[i].type, type))
		return redefined(p, text, len, &f->secs[i], type);
	set_cursor(f, i + 1);
	return 0;
}

static struct uci_option *find_opt(const struct uci_section *s, const char *name)
{
	int i;

	for (i = 0; i < s->nopts; i++)
		if (!strcmp(s->opts[i].name, name))
			return &s->opts[i];
	return NULL;
}

void uci_option_clear(struct uci_option *o)
{
	int i;

	for (i = 0; i < o->nvalues; i++)
		free(o->values[i]);
	free(o->values);
	o->values = NULL;
	o->nvalues = 0;
}

/* option replaces whatever was there; list appends, turning an earlier option
 * of that name into the first element of the list */
static void set_option(struct uci_section *s, const char *name, const char *value,
		       bool is_list, int line)
{
	struct uci_option *o = find_opt(s, name);

	if (!o) {
		s->opts = grow(s->opts, s->nopts, sizeof(*s->opts));
		o = &s->opts[s->nopts++];
		memset(o, 0, sizeof(*o));
		o->name = xstrdup(name);
		o->line = line;
	} else if (!is_list) {
		uci_option_clear(o);
	}
	o->values = grow(o->values, o->nvalues, sizeof(*o->values));
	o->values[o->nvalues++] = xstrdup(value);
	o->is_list = is_list;
	s->last_line = line;
}

static int parse_option(struct uci_parser *p, const char *text, size_t len,
			const struct words *w, bool is_list)
{
	const char *kw = is_list ? "list" : "option", *name = w->w[1];
	int cur = cursor(&p->file), ret;
	char *a;

	if (w->n < 2)
		return line_error(p, text, len, "%s without a name", kw);
	a = show_word(name);
	if (!is_name(name))
		ret = line_error(p, text, len, "invalid %s name '%s' "
				 "(use only letters, digits and _)", kw, a);
	else if (w->n < 3)
		ret = line_error(p, text, len, "%s '%s' has no value", kw, a);
	else if (w->n > 3)
		ret = line_error(p, text, len, "extra text after the value of %s '%s' "
				 "(quote values that contain spaces)", kw, a);
	else if (cur == CUR_NONE)
		ret = line_error(p, text, len, "%s '%s' outside of a section "
				 "(it needs a config line above it)", kw, a);
	else
		ret = 0;
	free(a);
	if (ret || cur == CUR_SKIP)
		return ret;
	set_option(&p->file.secs[cur - 1], name, w->w[2], is_list, p->lineno);
	return 0;
}

void uci_parser_init(struct uci_parser *p, const char *filename)
{
	memset(p, 0, sizeof(*p));
	p->filename = filename;
}

int uci_parser_line(struct uci_parser *p, const char *line, size_t len)
{
	char buf[UCI_MAX_LINE + 1];
	struct words w;
	const char *err, *kw;

	p->lineno++;
	if (!line) {
		line = "";
		len = 0;
	}
	if (len && line[len - 1] == '\n')
		len--;
	if (len > UCI_MAX_LINE) {
		trim(&line, &len);
		return line_error(p, line, len, "line too long (over %d bytes)",
				  UCI_MAX_LINE);
	}
	trim(&line, &len);
	if (memchr(line, 0, len))
		return line_error(p, line, len, "NUL byte");
	err = split_words(line, len, buf, &w);
	if (err)
		return line_error(p, line, len, "%s", err);
	if (!w.n)
		return 0;

	kw = w.w[0];
	if (!strcmp(kw, "config"))
		return parse_config(p, line, len, &w);
	if (!strcmp(kw, "option"))
		return parse_option(p, line, len, &w, false);
	if (!strcmp(kw, "list"))
		return parse_option(p, line, len, &w, true);
	if (!strcmp(kw, "package"))
		return 0;

	return bad_word(p, line, len, "unknown statement", kw,
			" (expected config, option, list or package)");
}

int uci_parser_finish(struct uci_parser *p, struct uci_file *out)
{
	struct uci_file *f = &p->file;

	/* nothing but the cursor slot: hand out a plain empty file */
	if (f->secs && !f->nsecs) {
		free(f->secs);
		f->secs = NULL;
	}
	if (f->secs)
		f->secs[f->nsecs].line = CUR_NONE;
	if (out)
		*out = *f;
	else
		uci_file_free(f);
	memset(f, 0, sizeof(*f));
	return p->nerrors;
}

void uci_parser_free(struct uci_parser *p)
{
	int i;

	for (i = 0; i < UCI_MAX_ERRORS; i++) {
		free(p->errors[i]);
		p->errors[i] = NULL;
	}
	p->nerrors = 0;
	/* a parser abandoned before uci_parser_finish still owns its file */
	uci_file_free(&p->file);
}

static int read_error(struct uci_parser *p, const char *path, int err)
{
	push_error(p, xasprintf("%s: cannot read: %s", path, strerror(err)));
	return -err;
}

/* Initialises *p itself (the path names the messages); *out is an empty file
 * when the result is negative. */
int uci_parse_path(struct uci_parser *p, const char *path, struct uci_file *out)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int err = 0;
	FILE *fp;

	uci_parser_init(p, path);
	if (out)
		memset(out, 0, sizeof(*out));
	fp = fopen(path, "re");
	if (!fp)
		return read_error(p, path, errno);
	errno = 0;
	while ((n = getline(&line, &cap, fp)) >= 0)
		uci_parser_line(p, line, (size_t)n);
	if (ferror(fp))
		err = errno ? errno : EIO;
	free(line);
	fclose(fp);
	if (err) {
		uci_file_free(&p->file);
		return read_error(p, path, err);
	}
	return uci_parser_finish(p, out);
}

/* Unlike uci_parse_path this needs uci_parser_init first: it is what names
 * the buffer in messages. */
int uci_parse_buf(struct uci_parser *p, const char *buf, size_t len, struct uci_file *out)
{
	const char *end = buf + len;

	while (buf && buf < end) {
		const char *nl = memchr(buf, '\n', (size_t)(end - buf));
		size_t n = nl ? (size_t)(nl - buf) : (size_t)(end - buf);

		uci_parser_line(p, buf, n);
		buf += nl ? n + 1 : n;
	}
	return uci_parser_finish(p, out);
}

void uci_file_free(struct uci_file *f)
{
	int i, j;

	if (!f)
		return;
	for (i = 0; i < f->nsecs; i++) {
		struct uci_section *s = &f->secs[i];

		for (j = 0; j < s->nopts; j++) {
			uci_option_clear(&s->opts[j]);
			free(s->opts[j].name);
		}
		free(s->opts);
		free(s->type);
		free(s->name);
	}
	free(f->secs);
	memset(f, 0, sizeof(*f));
}

const struct uci_section *uci_find_section(const struct uci_file *f, const char *name)
{
	int i;

	if (!f || !name)
		return NULL;
	i = find_section_index(f, name);
	return i < 0 ? NULL : &f->secs[i];
}

struct uci_option *uci_find_option(const struct uci_section *s, const char *name)
{
	if (!s || !name)
		return NULL;
	return find_opt(s, name);
}

const char *uci_get(const struct uci_section *s, const char *name)
{
	const struct uci_option *o = uci_find_option(s, name);

	return o && o->nvalues > 0 ? o->values[0] : NULL;
}

int uci_parse_bool(const char *s)
{
	static const char *const yes[] = { "1", "true", "yes", "on", "enabled", NULL };
	static const char *const no[] = { "0", "false", "no", "off", "disabled", NULL };

	for (int i = 0; yes[i]; i++) {
		if (!strcmp(s, yes[i]))
			return 1;
		if (!strcmp(s, no[i]))
			return 0;
	}
	return -1;
}

bool uci_get_bool(const struct uci_section *s, const char *name)
{
	const char *v = uci_get(s, name);

	return v && uci_parse_bool(v) == 1;
}

/* Append the n bytes of s to the output, keeping what fits (like snprintf). */
static void put(char *buf, size_t size, size_t *pos, const char *s, size_t n)
{
	if (*pos + 1 < size) {
		size_t room = size - 1 - *pos;

		memcpy(buf + *pos, s, n < room ? n : room);
	}
	*pos += n;
}

/* A newline cannot stay literal because the parser reads one statement per
 * line, so it leaves the single quotes as "\n"; ' becomes '\''. */
size_t uci_quote(char *buf, size_t size, const char *value)
{
	size_t pos = 0;

	if (!value)
		value = "";
	put(buf, size, &pos, "'", 1);
	for (; *value; value++) {
		if (*value == '\'')
			put(buf, size, &pos, "'\\''", 4);
		else if (*value == '\n')
			put(buf, size, &pos, "'\"\\n\"'", 6);
		else
			put(buf, size, &pos, value, 1);
	}
	put(buf, size, &pos, "'", 1);
	if (size)
		buf[pos < size ? pos : size - 1] = 0;
	return pos;
}

static void put_quoted(FILE *out, const char *v)
{
	size_t need = uci_quote(NULL, 0, v) + 1;
	char *q = xmalloc(need);

	uci_quote(q, need, v);
	fputs(q, out);
	free(q);
}

char *uci_export(const struct uci_file *f, size_t *len)
{
	char *buf = NULL;
	FILE *out = open_memstream(&buf, len);

	if (!out)
		abort();	/* out of memory, as the allocators above */
	for (int i = 0; i < f->nsecs; i++) {
		const struct uci_section *s = &f->secs[i];

		fprintf(out, "%sconfig %s", i ? "\n" : "", s->type);
		if (s->name) {
			fputc(' ', out);
			put_quoted(out, s->name);
		}
		fputc('\n', out);
		for (int j = 0; j < s->nopts; j++) {
			const struct uci_option *u = &s->opts[j];

			for (int k = 0; k < u->nvalues; k++) {
				fprintf(out, "\t%s %s ", u->is_list ? "list" : "option", u->name);
				put_quoted(out, u->values[k]);
				fputc('\n', out);
			}
		}
	}
	if (fclose(out) != 0)
		abort();
	return buf;
}
