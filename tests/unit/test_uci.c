/* Unit tests for the UCI parser (src/config/uci.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/uci.h"

/* Parse text as "test.conf"; the caller frees p and f. */
static int parse(struct uci_parser *p, struct uci_file *f, const char *text)
{
	int n;

	uci_parser_init(p, "test.conf");
	n = uci_parse_buf(p, text, strlen(text), f);
	assert_int_equal(n, p->nerrors);
	return n;
}

static void done(struct uci_parser *p, struct uci_file *f)
{
	uci_file_free(f);
	uci_parser_free(p);
}

static const struct uci_option *opt(const struct uci_section *s, const char *name)
{
	const struct uci_option *o;

	assert_non_null(s);
	o = uci_find_option(s, name);
	assert_non_null(o);
	return o;
}

/* The option exists, is a plain option and has this value. */
static void assert_opt(const struct uci_section *s, const char *name, const char *value)
{
	const struct uci_option *o = opt(s, name);

	assert_false(o->is_list);
	assert_int_equal(o->nvalues, 1);
	assert_string_equal(o->values[0], value);
}

/* Parse a file with one error and return nothing but its message check. */
static void assert_one_error(const char *text, const char *msg)
{
	struct uci_parser p;
	struct uci_file f;

	assert_int_equal(parse(&p, &f, text), 1);
	assert_non_null(p.errors[0]);
	assert_string_equal(p.errors[0], msg);
	done(&p, &f);
}

static void test_valid_file(void **state)
{
	static const char text[] =
		"package autonomy\n"
		"\n"
		"config autonomy 'main'\n"
		"\toption enabled '1'\n"
		"\toption log_level info\n"
		"\n"
		"config member\n"
		"\toption interface \"wan\"\n"
		"\tlist flags a\n"
		"\tlist flags 'b c'\n"
		"\n"
		"config member 'lte'\n";
	struct uci_parser p;
	struct uci_file f;
	const struct uci_section *s;
	const struct uci_option *o;

	(void)state;
	assert_int_equal(parse(&p, &f, text), 0);
	assert_int_equal(f.nsecs, 3);

	s = &f.secs[0];
	assert_string_equal(s->type, "autonomy");
	assert_string_equal(s->name, "main");
	assert_int_equal(s->line, 3);
	assert_int_equal(s->last_line, 5);
	assert_int_equal(s->nopts, 2);
	assert_opt(s, "enabled", "1");
	assert_opt(s, "log_level", "info");
	assert_int_equal(opt(s, "enabled")->line, 4);
	assert_ptr_equal(uci_find_section(&f, "main"), s);

	s = &f.secs[1];
	assert_string_equal(s->type, "member");
	assert_null(s->name);
	assert_int_equal(s->line, 7);
	assert_int_equal(s->last_line, 10);
	assert_opt(s, "interface", "wan");
	o = opt(s, "flags");
	assert_true(o->is_list);
	assert_int_equal(o->nvalues, 2);
	assert_string_equal(o->values[0], "a");
	assert_string_equal(o->values[1], "b c");
	assert_int_equal(o->line, 9);

	/* a section without options ends on its config line */
	s = &f.secs[2];
	assert_string_equal(s->name, "lte");
	assert_int_equal(s->nopts, 0);
	assert_int_equal(s->line, 12);
	assert_int_equal(s->last_line, 12);
	done(&p, &f);
}

static void test_comments_blanks_crlf_tabs(void **state)
{
	static const char text[] =
		"# leading comment\r\n"
		"   \t  \r\n"
		"\tconfig\tiface\t'wan'   # trailing comment\r\n"
		"  # indented comment\r\n"
		"\t\toption   proto\t\tdhcp\t\r\n"
		"\toption url http://x/#frag\r\n"
		"\toption hash a#b # real comment\r\n"
		"\toption q '#not a comment'\r\n"
		"# comment after the last option\r\n"
		"\r\n";
	struct uci_parser p;
	struct uci_file f;
	const struct uci_section *s;

	(void)state;
	assert_int_equal(parse(&p, &f, text), 0);
	assert_int_equal(f.nsecs, 1);
	s = uci_find_section(&f, "wan");
	assert_non_null(s);
	assert_string_equal(s->type, "iface");
	assert_int_equal(s->line, 3);
	/* comments do not extend a section: new options go after line 8 */
	assert_int_equal(s->last_line, 8);
	assert_opt(s, "proto", "dhcp");
	assert_opt(s, "url", "http://x/#frag");
	assert_opt(s, "hash", "a#b");
	assert_opt(s, "q", "#not a comment");
	assert_int_equal(p.lineno, 10);
	done(&p, &f);
}

static void test_quoting(void **state)
{
	static const char text[] =
		"config t 'n'\n"
		"option concat 'a'\"b\"c\n"
		"option escapes \"q\\\" bs\\\\ nl\\n tab\\t other\\q\"\n"
		"option single 'no \\n escapes \\'\n"
		"option empty ''\n"
		"option empty2 \"\"\n"
		"option spaces '  two  spaces  '\n"
		"option hashes \"# x #\"\n"
		"option bare_bs it\\'s\n"
		"option sq 'it'\\''s'\n"
		"option glued 'x''y'\n"
		"option tabs 'a\tb'\n"
		"option '_quoted_name' v\n"
		"'option' keyword_quoted v\n";
	struct uci_parser p;
	struct uci_file f;
	const struct uci_section *s;

	(void)state;
	assert_int_equal(parse(&p, &f, text), 0);
	s = uci_find_section(&f, "n");
	assert_opt(s, "concat", "abc");
	assert_opt(s, "escapes", "q\" bs\\ nl\n tab\t otherq");
	assert_opt(s, "single", "no \\n escapes \\");
	assert_opt(s, "empty", "");
	assert_opt(s, "empty2", "");
	assert_opt(s, "spaces", "  two  spaces  ");
	assert_opt(s, "hashes", "# x #");
	assert_opt(s, "bare_bs", "it's");
	assert_opt(s, "sq", "it's");
	assert_opt(s, "glued", "xy");
	assert_opt(s, "tabs", "a\tb");
	assert_opt(s, "_quoted_name", "v");
	assert_opt(s, "keyword_quoted", "v");
	done(&p, &f);
}

static void test_option_list_rules(void **state)
{
	static const char text[] =
		"config t 's'\n"
		"option a 1\n"		/* 2 */
		"option a 2\n"		/* 3: replaces, line stays 2 */
		"option b x\n"		/* 4 */
		"list b y\n"		/* 5: option becomes a list, x first */
		"list c 1\n"		/* 6 */
		"list c 2\n"		/* 7 */
		"option c 3\n"		/* 8: list replaced by one value */
		"list c 4\n"		/* 9: and it becomes a list again */
		"list d only\n";	/* 10 */
	struct uci_parser p;
	struct uci_file f;
	const struct uci_section *s;
	const struct uci_option *o;

	(void)state;
	assert_int_equal(parse(&p, &f, text), 0);
	s = uci_find_section(&f, "s");
	assert_int_equal(s->nopts, 4);
	assert_int_equal(s->last_line, 10);

	assert_opt(s, "a", "2");
	assert_int_equal(opt(s, "a")->line, 2);

	o = opt(s, "b");
	assert_true(o->is_list);
	assert_int_equal(o->nvalues, 2);
	assert_string_equal(o->values[0], "x");
	assert_string_equal(o->values[1], "y");
	assert_int_equal(o->line, 4);

	o = opt(s, "c");
	assert_true(o->is_list);
	assert_int_equal(o->nvalues, 2);
	assert_string_equal(o->values[0], "3");
	assert_string_equal(o->values[1], "4");
	assert_int_equal(o->line, 6);

	/* a one-element list is still a list */
	o = opt(s, "d");
	assert_true(o->is_list);
	assert_int_equal(o->nvalues, 1);
	done(&p, &f);
}

static void test_option_after_list(void **state)
{
	struct uci_parser p;
	struct uci_file f;

	(void)state;
	assert_int_equal(parse(&p, &f, "config t s\nlist a 1\nlist a 2\noption a 3\n"), 0);
	assert_opt(uci_find_section(&f, "s"), "a", "3");
	done(&p, &f);
}

static void test_many_values(void **state)
{
	char text[8192];
	size_t len = 0;
	struct uci_parser p;
	struct uci_file f;
	const struct uci_option *o;
	int i;

	(void)state;
	len += (size_t)snprintf(text + len, sizeof(text) - len, "config t s\n");
	for (i = 0; i < 300; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"list l v%d\noption o%d x\n", i, i);
	assert_true(len < sizeof(text));
	assert_int_equal(parse(&p, &f, text), 0);
	assert_int_equal(f.secs[0].nopts, 301);
	o = opt(&f.secs[0], "l");
	assert_int_equal(o->nvalues, 300);
	for (i = 0; i < 300; i++) {
		char want[16];

		snprintf(want, sizeof(want), "v%d", i);
		assert_string_equal(o->values[i], want);
	}
	assert_opt(&f.secs[0], "o299", "x");
	assert_int_equal(f.secs[0].last_line, 601);
	done(&p, &f);
}

static void test_merge_sections(void **state)
{
	static const char text[] =
		"config iface 'wan'\n"		/* 1 */
		"option proto dhcp\n"		/* 2 */
		"config iface\n"		/* 3 */
		"option x 1\n"			/* 4 */
		"config iface 'wan'\n"		/* 5 */
		"option proto static\n"		/* 6 */
		"option metric 10\n"		/* 7 */
		"config iface 'lan'\n"		/* 8 */
		"config iface 'lan'\n";		/* 9 */
	struct uci_parser p;
	struct uci_file f;
	const struct uci_section *s;

	(void)state;
	assert_int_equal(parse(&p, &f, text), 0);
	/* merging keeps the original order and position */
	assert_int_equal(f.nsecs, 3);
	assert_string_equal(f.secs[0].name, "wan");
	assert_null(f.secs[1].name);
	assert_string_equal(f.secs[2].name, "lan");

	s = &f.secs[0];
	assert_int_equal(s->line, 1);
	assert_int_equal(s->last_line, 7);
	assert_int_equal(s->nopts, 2);
	assert_opt(s, "proto", "static");
	assert_int_equal(opt(s, "proto")->line, 2);
	assert_opt(s, "metric", "10");

	/* the anonymous section did not receive the later options */
	assert_int_equal(f.secs[1].nopts, 1);
	assert_int_equal(f.secs[1].last_line, 4);

	/* an option-less repeat does not move last_line */
	assert_int_equal(f.secs[2].line, 8);
	assert_int_equal(f.secs[2].last_line, 8);
	done(&p, &f);
}

static void test_merge_type_conflict(void **state)
{
	static const char text[] =
		"config iface 'wan'\n"		/* 1 */
		"option proto dhcp\n"		/* 2 */
		"config member 'wan'\n"		/* 3: error */
		"option proto static\n"		/* 4: skipped silently */
		"list extra x\n"		/* 5: skipped silently */
		"config member 'm1'\n"		/* 6 */
		"option weight 3\n";		/* 7 */
	struct uci_parser p;
	struct uci_file f;
	const struct uci_section *s;

	(void)state;
	assert_int_equal(parse(&p, &f, text), 1);
	assert_string_equal(p.errors[0],
		"test.conf:3: section 'wan' redefined as type 'member' "
		"(it is type 'iface' since line 1): 'config member 'wan''");
	assert_int_equal(f.nsecs, 2);
	s = uci_find_section(&f, "wan");
	assert_string_equal(s->type, "iface");
	assert_int_equal(s->nopts, 1);
	assert_opt(s, "proto", "dhcp");
	assert_int_equal(s->last_line, 2);
	s = uci_find_section(&f, "m1");
	assert_int_equal(s->nopts, 1);
	assert_opt(s, "weight", "3");
	done(&p, &f);
}

static void test_bad_config_skips_its_options(void **state)
{
	static const char text[] =
		"config iface 'wan'\n"		/* 1 */
		"option a 1\n"			/* 2 */
		"config bad-type 'x'\n"		/* 3: error */
		"option a 2\n"			/* 4: dropped, no error */
		"option 'b c' 2\n"		/* 5: still a syntax error */
		"config iface\n"		/* 6 */
		"option a 3\n";			/* 7 */
	struct uci_parser p;
	struct uci_file f;

	(void)state;
	assert_int_equal(parse(&p, &f, text), 2);
	assert_string_equal(p.errors[0], "test.conf:3: invalid section type 'bad-type' "
			    "(use only letters, digits and _): 'config bad-type 'x''");
	assert_string_equal(p.errors[1], "test.conf:5: invalid option name 'b c' "
			    "(use only letters, digits and _): 'option 'b c' 2'");
	assert_int_equal(f.nsecs, 2);
	assert_opt(&f.secs[0], "a", "1");
	assert_int_equal(f.secs[0].last_line, 2);
	assert_opt(&f.secs[1], "a", "3");
	done(&p, &f);
}

static void test_error_messages(void **state)
{
	static const struct {
		const char *line;
		const char *msg;
	} cases[] = {
		{ "option device \"eth1",
		  "test.conf:2: unterminated quote: 'option device \"eth1'" },
		{ "  option device 'eth1  \t",
		  "test.conf:2: unterminated quote: 'option device 'eth1'" },
		{ "option device \"eth1\\\"",
		  "test.conf:2: unterminated quote: 'option device \"eth1\\\"'" },
		{ "option device \"eth1\\",
		  "test.conf:2: unterminated quote: 'option device \"eth1\\'" },
		{ "option device eth1\\",
		  "test.conf:2: backslash at end of line: 'option device eth1\\'" },
		{ "opton device eth1",
		  "test.conf:2: unknown statement 'opton' "
		  "(expected config, option, list or package): 'opton device eth1'" },
		{ "config",
		  "test.conf:2: config without a section type: 'config'" },
		{ "config iface wan extra",
		  "test.conf:2: too many words (expected: config TYPE 'NAME'): "
		  "'config iface wan extra'" },
		{ "config 'my iface'",
		  "test.conf:2: invalid section type 'my iface' "
		  "(use only letters, digits and _): 'config 'my iface''" },
		{ "config iface 'wan-1'",
		  "test.conf:2: invalid section name 'wan-1' "
		  "(use only letters, digits and _): 'config iface 'wan-1''" },
		{ "config iface ''",
		  "test.conf:2: invalid section name '' "
		  "(use only letters, digits and _): 'config iface '''" },
		{ "option",
		  "test.conf:2: option without a name: 'option'" },
		{ "list # comment",
		  "test.conf:2: list without a name: 'list # comment'" },
		{ "option dev.ice eth1",
		  "test.conf:2: invalid option name 'dev.ice' "
		  "(use only letters, digits and _): 'option dev.ice eth1'" },
		{ "option device",
		  "test.conf:2: option 'device' has no value: 'option device'" },
		{ "list dns",
		  "test.conf:2: list 'dns' has no value: 'list dns'" },
		{ "option device eth1 eth2",
		  "test.conf:2: extra text after the value of option 'device' "
		  "(quote values that contain spaces): 'option device eth1 eth2'" },
		{ "list dns 1.1.1.1 8.8.8.8 # both",
		  "test.conf:2: extra text after the value of list 'dns' "
		  "(quote values that contain spaces): 'list dns 1.1.1.1 8.8.8.8 # both'" },
	};
	char text[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "config t\n%s\n", cases[i].line);
		assert_one_error(text, cases[i].msg);
	}
}

static void test_outside_section(void **state)
{
	struct uci_parser p;
	struct uci_file f;

	(void)state;
	assert_int_equal(parse(&p, &f, "# hi\noption a 1\n\tlist b 2\nconfig t\noption c 3\n"), 2);
	assert_string_equal(p.errors[0], "test.conf:2: option 'a' outside of a section "
			    "(it needs a config line above it): 'option a 1'");
	assert_string_equal(p.errors[1], "test.conf:3: list 'b' outside of a section "
			    "(it needs a config line above it): 'list b 2'");
	assert_int_equal(f.nsecs, 1);
	assert_int_equal(f.secs[0].nopts, 1);
	assert_opt(&f.secs[0], "c", "3");
	done(&p, &f);
}

/* "option NAME '<fill>'" padded with c to exactly len bytes */
static char *long_option(const char *name, char c, size_t len)
{
	char *line = malloc(len + 1);
	int head;

	assert_non_null(line);
	head = snprintf(line, len + 1, "option %s '", name);
	memset(line + head, c, len - (size_t)head - 1);
	line[len - 1] = '\'';
	line[len] = 0;
	return line;
}

static void test_line_too_long(void **state)
{
	/* exactly UCI_MAX_LINE bytes (the newline not counted) is fine */
	char *ok = long_option("v", 'x', UCI_MAX_LINE);
	char *bad = long_option("w", 'y', UCI_MAX_LINE + 1);
	char *text = malloc(2 * UCI_MAX_LINE + 64);
	struct uci_parser p;
	struct uci_file f;
	char want[200];

	(void)state;
	assert_non_null(text);
	sprintf(text, "config t s\n%s\n%s\noption z 1\n", ok, bad);
	assert_int_equal(parse(&p, &f, text), 1);
	assert_int_equal(strlen(opt(&f.secs[0], "v")->values[0]), UCI_MAX_LINE - 11);
	assert_null(uci_find_option(&f.secs[0], "w"));
	assert_opt(&f.secs[0], "z", "1");
	snprintf(want, sizeof(want), "test.conf:3: line too long (over %d bytes): "
		 "'option w 'yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy…'",
		 UCI_MAX_LINE);
	assert_string_equal(p.errors[0], want);
	done(&p, &f);

	/* the push API: a trailing newline is not part of the length */
	uci_parser_init(&p, "t");
	assert_int_equal(uci_parser_line(&p, "config t s", 10), 0);
	ok[UCI_MAX_LINE] = '\n';
	assert_int_equal(uci_parser_line(&p, ok, UCI_MAX_LINE + 1), 0);
	assert_int_equal(uci_parser_line(&p, bad, UCI_MAX_LINE + 1), -1);
	assert_int_equal(uci_parser_finish(&p, &f), 1);
	done(&p, &f);
	free(text);
	free(ok);
	free(bad);
}

static void test_nul_byte(void **state)
{
	static const char text[] = "config t s\noption a 'x\0y'\noption b 2\n";
	struct uci_parser p;
	struct uci_file f;

	(void)state;
	uci_parser_init(&p, "test.conf");
	assert_int_equal(uci_parse_buf(&p, text, sizeof(text) - 1, &f), 1);
	assert_string_equal(p.errors[0], "test.conf:2: NUL byte: 'option a 'x?y''");
	assert_null(uci_find_option(&f.secs[0], "a"));
	assert_opt(&f.secs[0], "b", "2");
	done(&p, &f);
}

static void test_snippet_cut(void **state)
{
	char line[200], want[300];
	struct uci_parser p;
	struct uci_file f;
	int i;

	(void)state;
	/* 60 characters exactly: shown whole */
	uci_parser_init(&p, "x.conf");
	snprintf(line, sizeof(line), "bogus %.54s", "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefgh");
	assert_int_equal(strlen(line), 60);
	assert_int_equal(uci_parser_line(&p, line, strlen(line)), -1);
	snprintf(want, sizeof(want), "x.conf:1: unknown statement 'bogus' "
		 "(expected config, option, list or package): '%s'", line);
	assert_string_equal(p.errors[0], want);

	/* 61: cut to 60 plus an ellipsis */
	strcat(line, "Z");
	assert_int_equal(uci_parser_line(&p, line, strlen(line)), -1);
	line[60] = 0;
	snprintf(want, sizeof(want), "x.conf:2: unknown statement 'bogus' "
		 "(expected config, option, list or package): '%s…'", line);
	assert_string_equal(p.errors[1], want);

	/* UTF-8 counts per character and is not cut inside one; tabs and
	 * control characters are made harmless */
	strcpy(line, "bogus\t\x1b[31m");
	for (i = 0; i < 60; i++)
		strcat(line, "é");
	assert_int_equal(uci_parser_line(&p, line, strlen(line)), -1);
	strcpy(want, "x.conf:3: unknown statement 'bogus' "
	       "(expected config, option, list or package): 'bogus ?[31m");
	for (i = 0; i < 60 - 11; i++)
		strcat(want, "é");
	strcat(want, "…'");
	assert_string_equal(p.errors[2], want);

	/* a long bad word is shortened inside the message too */
	strcpy(line, "config t-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	assert_int_equal(uci_parser_line(&p, line, strlen(line)), -1);
	assert_string_equal(p.errors[3], "x.conf:4: invalid section type "
			    "'t-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa…' (use only letters, digits and _): "
			    "'config t-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'");
	uci_parser_finish(&p, &f);
	assert_int_equal(f.nsecs, 0);
	assert_null(f.secs);
	done(&p, &f);
}

static void test_parser_line_api(void **state)
{
	struct uci_parser p;
	struct uci_file f;

	(void)state;
	uci_parser_init(&p, "push.conf");
	assert_int_equal(uci_parser_line(&p, "config t s\n", 11), 0);
	assert_int_equal(uci_parser_line(&p, "option a 'x'\r\n", 14), 0);
	assert_int_equal(uci_parser_line(&p, "", 0), 0);
	assert_int_equal(uci_parser_line(&p, NULL, 0), 0);
	assert_int_equal(uci_parser_line(&p, "option b", 8), -1);
	/* only len counts, not a NUL further on */
	assert_int_equal(uci_parser_line(&p, "option c 1 trailing", 10), 0);
	assert_int_equal(p.lineno, 6);
	assert_int_equal(p.nerrors, 1);
	assert_string_equal(p.errors[0], "push.conf:5: option 'b' has no value: 'option b'");
	assert_int_equal(uci_parser_finish(&p, &f), 1);
	assert_opt(&f.secs[0], "a", "x");
	assert_opt(&f.secs[0], "c", "1");
	done(&p, &f);
}

static void test_keeps_going(void **state)
{
	static const char text[] =
		"config iface 'wan'\n"		/* 1 */
		"option a 'broken\n"		/* 2 */
		"option b ok\n"			/* 3 */
		"bogus\n"			/* 4 */
		"config iface 'lan'\n"		/* 5 */
		"option c \"also broken\n"	/* 6 */
		"option d ok\n"			/* 7 */
		"option e x y\n"		/* 8 */
		"list f ok";			/* 9, no newline */
	struct uci_parser p;
	struct uci_file f;

	(void)state;
	assert_int_equal(parse(&p, &f, text), 4);
	assert_true(strncmp(p.errors[0], "test.conf:2: unterminated quote:", 32) == 0);
	assert_true(strncmp(p.errors[1], "test.conf:4: unknown statement", 30) == 0);
	assert_true(strncmp(p.errors[2], "test.conf:6: unterminated quote:", 32) == 0);
	assert_true(strncmp(p.errors[3], "test.conf:8: extra text", 23) == 0);
	assert_int_equal(f.nsecs, 2);
	assert_int_equal(f.secs[0].nopts, 1);
	assert_opt(&f.secs[0], "b", "ok");
	assert_int_equal(f.secs[1].nopts, 2);
	assert_opt(&f.secs[1], "d", "ok");
	assert_true(opt(&f.secs[1], "f")->is_list);
	assert_int_equal(f.secs[1].last_line, 9);
	assert_int_equal(p.lineno, 9);
	done(&p, &f);
}

static void test_max_errors(void **state)
{
	char text[4096];
	size_t len = 0;
	struct uci_parser p;
	struct uci_file f;
	int i;

	(void)state;
	len += (size_t)snprintf(text + len, sizeof(text) - len, "config t s\n");
	for (i = 0; i < 40; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"option bad%d\noption good%d x\n", i, i);
	assert_true(len < sizeof(text));
	assert_int_equal(parse(&p, &f, text), 40);
	assert_int_equal(p.nerrors, 40);
	for (i = 0; i < UCI_MAX_ERRORS; i++) {
		char want[80];

		snprintf(want, sizeof(want), "test.conf:%d: option 'bad%d' has no value: 'option bad%d'",
			 2 + 2 * i, i, i);
		assert_string_equal(p.errors[i], want);
	}
	/* every good line after the cap still counts */
	assert_int_equal(f.secs[0].nopts, 40);
	assert_opt(&f.secs[0], "good39", "x");
	done(&p, &f);
	assert_int_equal(p.nerrors, 0);
}

static void test_buffer_lines(void **state)
{
	struct uci_parser p;
	struct uci_file f;

	(void)state;
	/* empty buffer: no lines, no sections */
	uci_parser_init(&p, "e");
	assert_int_equal(uci_parse_buf(&p, NULL, 0, &f), 0);
	assert_int_equal(p.lineno, 0);
	assert_int_equal(f.nsecs, 0);
	done(&p, &f);

	assert_int_equal(parse(&p, &f, "\n\n\n"), 0);
	assert_int_equal(p.lineno, 3);
	done(&p, &f);

	/* the last line needs no newline */
	assert_int_equal(parse(&p, &f, "config a\n\noption x 'y'"), 0);
	assert_int_equal(p.lineno, 3);
	assert_opt(&f.secs[0], "x", "y");
	assert_int_equal(f.secs[0].last_line, 3);
	done(&p, &f);

	/* package is accepted and ignored */
	assert_int_equal(parse(&p, &f, "package network\npackage\nconfig a\n"), 0);
	assert_int_equal(f.nsecs, 1);
	assert_int_equal(f.secs[0].line, 3);
	done(&p, &f);
}

static void test_find(void **state)
{
	struct uci_parser p;
	struct uci_file f;

	(void)state;
	assert_int_equal(parse(&p, &f, "config a\noption x 1\nconfig b 'n'\noption y 2\n"), 0);
	assert_null(uci_find_section(&f, "a"));		/* type, not name */
	assert_null(uci_find_section(&f, "N"));		/* case matters */
	assert_null(uci_find_section(&f, ""));
	assert_null(uci_find_section(&f, NULL));
	assert_null(uci_find_section(NULL, "n"));
	assert_ptr_equal(uci_find_section(&f, "n"), &f.secs[1]);
	assert_null(uci_find_option(&f.secs[1], "x"));
	assert_null(uci_find_option(&f.secs[1], NULL));
	assert_null(uci_find_option(NULL, "y"));
	assert_ptr_equal(uci_find_option(&f.secs[1], "y"), &f.secs[1].opts[0]);
	done(&p, &f);
}

static void test_quote(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(uci_quote(buf, sizeof(buf), "eth0"), 6);
	assert_string_equal(buf, "'eth0'");
	assert_int_equal(uci_quote(buf, sizeof(buf), ""), 2);
	assert_string_equal(buf, "''");
	assert_int_equal(uci_quote(buf, sizeof(buf), NULL), 2);
	assert_string_equal(buf, "''");
	assert_int_equal(uci_quote(buf, sizeof(buf), "it's"), 9);
	assert_string_equal(buf, "'it'\\''s'");
	assert_int_equal(uci_quote(buf, sizeof(buf), "a\nb"), 10);
	assert_string_equal(buf, "'a'\"\\n\"'b'");

	/* like snprintf: the full length back, a NUL-terminated prefix */
	assert_int_equal(uci_quote(NULL, 0, "it's"), 9);
	memset(buf, 'Z', sizeof(buf));
	assert_int_equal(uci_quote(buf, 1, "abc"), 5);
	assert_int_equal(buf[0], 0);
	assert_int_equal(buf[1], 'Z');
	assert_int_equal(uci_quote(buf, 4, "abc"), 5);
	assert_string_equal(buf, "'ab");
	assert_int_equal(buf[4], 'Z');
	assert_int_equal(uci_quote(buf, 5, "abc"), 5);
	assert_string_equal(buf, "'abc");
	assert_int_equal(uci_quote(buf, 6, "abc"), 5);
	assert_string_equal(buf, "'abc'");
	assert_int_equal(uci_quote(buf, 4, "'"), 6);
	assert_string_equal(buf, "''\\");
}

static void test_quote_round_trip(void **state)
{
	static const char *const values[] = {
		"", "plain", "two words", "it's", "'", "''", "'\\''", "\\", "\\\\n",
		"\"", "\"double\"", "a\nb", "\n", "\n\n'\n", "# not a comment",
		"#", "trailing space ", " leading", "\ttab\t", "\r", "x\r",
		"$(rm -rf /)", "`id`", "semi;colon", "é ü 中文", "'\"'\"'",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		struct uci_parser p;
		struct uci_file f;
		char q[128], line[160];
		size_t n = uci_quote(q, sizeof(q), values[i]);

		assert_true(n < sizeof(q));
		assert_int_equal(strlen(q), n);
		/* the quoted form must fit on one line */
		assert_null(strchr(q, '\n'));
		uci_parser_init(&p, "rt");
		snprintf(line, sizeof(line), "option v %s # comment", q);
		assert_int_equal(uci_parser_line(&p, "config t s", 10), 0);
		assert_int_equal(uci_parser_line(&p, line, strlen(line)), 0);
		snprintf(line, sizeof(line), "list l %s", q);
		assert_int_equal(uci_parser_line(&p, line, strlen(line)), 0);
		assert_int_equal(uci_parser_finish(&p, &f), 0);
		assert_opt(&f.secs[0], "v", values[i]);
		assert_string_equal(opt(&f.secs[0], "l")->values[0], values[i]);
		done(&p, &f);
	}
}

static char *write_temp(const char *text)
{
	char *path = strdup("/tmp/test_uci.XXXXXX");
	int fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_parse_path(void **state)
{
	char *path = write_temp("config iface 'wan'\r\n\toption proto dhcp\r\n"
				"\toption mtu\n\tlist dns '1.1.1.1'\n\tlist dns 9.9.9.9");
	struct uci_parser p;
	struct uci_file f;
	const struct uci_option *o;
	char want[128];

	(void)state;
	assert_int_equal(uci_parse_path(&p, path, &f), 1);
	snprintf(want, sizeof(want), "%s:3: option 'mtu' has no value: 'option mtu'", path);
	assert_string_equal(p.errors[0], want);
	assert_ptr_equal(p.filename, path);
	assert_opt(uci_find_section(&f, "wan"), "proto", "dhcp");
	o = opt(uci_find_section(&f, "wan"), "dns");
	assert_int_equal(o->nvalues, 2);
	assert_string_equal(o->values[1], "9.9.9.9");
	assert_int_equal(f.secs[0].last_line, 5);
	done(&p, &f);
	unlink(path);
	free(path);
}

static void test_parse_path_unreadable(void **state)
{
	struct uci_parser p;
	struct uci_file f = { (struct uci_section *)&f, 42 };	/* garbage */
	char want[128];

	(void)state;
	assert_int_equal(uci_parse_path(&p, "/nonexistent/autonomy.conf", &f), -ENOENT);
	assert_int_equal(p.nerrors, 1);
	snprintf(want, sizeof(want), "/nonexistent/autonomy.conf: cannot read: %s", strerror(ENOENT));
	assert_string_equal(p.errors[0], want);
	assert_null(f.secs);
	assert_int_equal(f.nsecs, 0);
	done(&p, &f);

	/* a directory opens but cannot be read */
	assert_int_equal(uci_parse_path(&p, "/tmp", &f), -EISDIR);
	snprintf(want, sizeof(want), "/tmp: cannot read: %s", strerror(EISDIR));
	assert_string_equal(p.errors[0], want);
	assert_null(f.secs);
	done(&p, &f);
}

/* Every order of finish/free must be safe and leak-free (run under ASan or
 * valgrind to see the leak half of this). */
static void test_free_orders(void **state)
{
	static const char text[] = "config a 'b'\noption x 1\nlist y 2\nbad\n";
	struct uci_parser p;
	struct uci_file f;

	(void)state;
	/* abandoned before finish: free takes the partial file with it */
	uci_parser_init(&p, "t");
	assert_int_equal(uci_parser_line(&p, "config a 'b'", 12), 0);
	assert_int_equal(uci_parser_line(&p, "option x 1", 10), 0);
	assert_int_equal(uci_parser_line(&p, "bad", 3), -1);
	uci_parser_free(&p);
	assert_int_equal(p.file.nsecs, 0);
	assert_null(p.file.secs);
	assert_null(p.errors[0]);
	uci_parser_free(&p);		/* idempotent */

	/* free the parser first, the file later */
	assert_int_equal(parse(&p, &f, text), 1);
	uci_parser_free(&p);
	uci_parser_free(&p);
	assert_opt(&f.secs[0], "x", "1");
	uci_file_free(&f);
	assert_null(f.secs);
	uci_file_free(&f);		/* also idempotent */
	uci_file_free(NULL);

	/* finish without a destination discards the file */
	uci_parser_init(&p, "t");
	assert_int_equal(uci_parser_line(&p, "config a 'b'", 12), 0);
	assert_int_equal(uci_parser_finish(&p, NULL), 0);
	assert_null(p.file.secs);
	uci_parser_free(&p);

	/* only a rejected config line: the result is a plain empty file */
	uci_parser_init(&p, "t");
	assert_int_equal(uci_parser_line(&p, "config a-b", 10), -1);
	assert_int_equal(uci_parser_finish(&p, &f), 1);
	assert_null(f.secs);
	assert_int_equal(f.nsecs, 0);
	done(&p, &f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_file),
		cmocka_unit_test(test_comments_blanks_crlf_tabs),
		cmocka_unit_test(test_quoting),
		cmocka_unit_test(test_option_list_rules),
		cmocka_unit_test(test_option_after_list),
		cmocka_unit_test(test_many_values),
		cmocka_unit_test(test_merge_sections),
		cmocka_unit_test(test_merge_type_conflict),
		cmocka_unit_test(test_bad_config_skips_its_options),
		cmocka_unit_test(test_error_messages),
		cmocka_unit_test(test_outside_section),
		cmocka_unit_test(test_line_too_long),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_snippet_cut),
		cmocka_unit_test(test_parser_line_api),
		cmocka_unit_test(test_keeps_going),
		cmocka_unit_test(test_max_errors),
		cmocka_unit_test(test_buffer_lines),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_quote),
		cmocka_unit_test(test_quote_round_trip),
		cmocka_unit_test(test_parse_path),
		cmocka_unit_test(test_parse_path_unreadable),
		cmocka_unit_test(test_free_orders),
	};

	return cmocka_run_group_tests_name("uci", tests, NULL, NULL);
}
