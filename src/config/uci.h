/* UCI file format parser (the syntax of /etc/config/<package>).
 *
 * Push API so it can be fuzzed without files:
 *
 *	struct uci_parser p;
 *	uci_parser_init(&p, "autonomy.conf");
 *	while (getline(...)) uci_parser_line(&p, line, len);
 *	uci_parser_finish(&p, &file);	// file now owns everything
 *
 * Grammar (one statement per line, as uci(1) reads it):
 *	config TYPE ['NAME']
 *	option NAME 'VALUE'
 *	list NAME 'VALUE'
 *	package NAME		(accepted and ignored)
 *	# comment, blank lines
 * Words are bare (letters, digits, '_', '-', '.', '/', ':', '@', '+', ',' …), single
 * quoted (no escapes inside) or double quoted (backslash escapes \" \\ \n \t and any
 * other \c meaning c). Adjacent quoted/bare pieces concatenate as in the shell
 * ("a"'b'c is "abc"). A trailing '#' comment after the last word is allowed.
 * Section and option names must match [A-Za-z0-9_]+ (TYPE too).
 *
 * Errors never abort: the offending line is skipped, one message is recorded
 * ("FILE:LINE: what is wrong: 'the offending text'"), and parsing goes on, so a
 * single run reports every bad line. At most UCI_MAX_ERRORS messages are kept
 * (nerrors still counts all of them).
 */
#ifndef AUTONOMY_UCI_H
#define AUTONOMY_UCI_H

#include <stdbool.h>
#include <stddef.h>

#define UCI_MAX_ERRORS	16
#define UCI_MAX_LINE	4096	/* longer lines are an error */

struct uci_option {
	char *name;
	char **values;		/* nvalues entries; an 'option' has exactly one */
	int nvalues;
	bool is_list;
	int line;		/* line of the first statement that set it */
};

struct uci_section {
	char *type;
	char *name;		/* NULL for an anonymous section */
	int line;		/* line of the 'config' statement */
	int last_line;		/* line of its last option/list (its config line if none) */
	struct uci_option *opts;
	int nopts;
};

struct uci_file {
	struct uci_section *secs;
	int nsecs;
};

struct uci_parser {
	const char *filename;	/* not copied: must outlive the parser */
	int lineno;
	struct uci_file file;
	int nerrors;
	char *errors[UCI_MAX_ERRORS];
};

void uci_parser_init(struct uci_parser *p, const char *filename);
/* Feed one line (without or with its trailing '\n'); len excludes any NUL.
 * Returns 0, or -1 if this line was bad (its message is recorded). */
int uci_parser_line(struct uci_parser *p, const char *line, size_t len);
/* Hands the parsed file to *out (caller frees with uci_file_free) and frees the
 * parser's own state except errors. Returns the number of errors seen. */
int uci_parser_finish(struct uci_parser *p, struct uci_file *out);
/* Frees recorded error messages. */
void uci_parser_free(struct uci_parser *p);

/* Parse a whole file. Returns the number of errors (errors are in *p, which the
 * caller frees with uci_parser_free), or -errno if the file cannot be read (a
 * message is recorded then too). */
int uci_parse_path(struct uci_parser *p, const char *path, struct uci_file *out);
/* The same over a memory buffer (several lines). */
int uci_parse_buf(struct uci_parser *p, const char *buf, size_t len, struct uci_file *out);

void uci_file_free(struct uci_file *f);

const struct uci_section *uci_find_section(const struct uci_file *f, const char *name);
/* Like strchr(), a pointer into s that the caller may change if s is its own. */
struct uci_option *uci_find_option(const struct uci_section *s, const char *name);

/* The first value of option name in s, or NULL. */
const char *uci_get(const struct uci_section *s, const char *name);
/* A boolean as uci reads one: 1 for 1, true, yes, on or enabled; 0 for 0, false,
 * no, off or disabled; -1 for anything else. */
int uci_parse_bool(const char *s);
/* Frees o's values: o has none after. */
void uci_option_clear(struct uci_option *o);
/* Option name is true (uci_parse_bool gives 1). */
bool uci_get_bool(const struct uci_section *s, const char *name);

/* Quote a value for writing back as UCI: single quotes, with ' written as '\''.
 * Returns bytes needed (excluding NUL) like snprintf. */
size_t uci_quote(char *buf, size_t size, const char *value);

/* f in uci's own export format, as `uci commit` writes a file: every section and
 * option in order, values single-quoted, no comments. Options without values
 * are left out. malloc'd and NUL-terminated; *len is its length. */
char *uci_export(const struct uci_file *f, size_t *len);

#endif
