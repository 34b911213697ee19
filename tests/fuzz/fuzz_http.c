/* libFuzzer target for the HTTP front end's own parsing (libmicrohttpd parses
 * HTTP itself) and for the Prometheus rendering of arbitrary API data.
 *
 * The input is NUL-separated pieces: a request path, an Authorization header,
 * a method name, a query key, a query value, then JSON for members, status and
 * info. Beyond "does not crash", it checks:
 *  - a path accepted for the static files has no "." or ".." segment, no hidden
 *    file and no backslash;
 *  - a bearer token is a tail of the header it came from;
 *  - a query parameter is either added or refused with a message;
 *  - whatever the JSON holds, the exposition is lines of "# HELP"/"# TYPE" or
 *    `name{labels} value` with a valid metric name, and nothing else.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "api/http.h"
#include "telem/metrics.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(x) do { \
		if (!(x)) { \
			fprintf(stderr, "fuzz_http.c:%d: check failed: %s\n", __LINE__, #x); \
			abort(); \
		} \
	} while (0)

#define NPIECES	8

static void check_path(const char *url)
{
	const char *seg;

	if (!http_path_ok(url))
		return;
	check(!strchr(url, '\\'));
	for (seg = url; (seg = strchr(seg, '/')); seg++)
		check(seg[1] != '.');
	check(url[0] != '.');
}

static void check_bearer(const char *hdr)
{
	const char *t = http_bearer(hdr);
	size_t hl = strlen(hdr), tl;

	if (!t)
		return;
	tl = strlen(t);
	check(tl <= hl && !strcmp(hdr + hl - tl, t));
}

static void check_query(const char *method, const char *key, const char *value)
{
	struct json_object *params = json_object_new_object();
	char err[160] = "";

	if (http_query_param(params, method, key, *value ? value : NULL, err, sizeof(err)) != 0)
		check(err[0]);
	json_object_put(params);
}

static bool name_char(char c, bool first)
{
	return isalpha((unsigned char)c) || c == '_' || c == ':' || (!first && isdigit((unsigned char)c));
}

static void check_exposition(const char *text, size_t len)
{
	const char *line = text, *end = text + len;

	check(strlen(text) == len);
	while (line < end) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));

		check(nl);	/* every line ends with a newline */
		if (*line == '#') {
			check(!strncmp(line, "# HELP ", 7) || !strncmp(line, "# TYPE ", 7));
		} else {
			const char *p = line;

			check(name_char(*p, true));
			while (p < nl && name_char(*p, false))
				p++;
			check(p < nl && (*p == '{' || *p == ' '));
		}
		line = nl + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + NPIECES + 1), *piece[NPIECES];
	struct json_object *members, *status, *info;
	struct metrics_switches sw = { 0 };
	size_t pos = 0, len;
	char *text;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	memset(buf + size, 0, NPIECES + 1);
	for (int i = 0; i < NPIECES; i++) {
		piece[i] = buf + pos;
		pos += strlen(buf + pos);
		if (pos < size + NPIECES)
			pos++;
	}
	check_path(piece[0]);
	check_bearer(piece[1]);
	check_query(piece[2], piece[3], piece[4]);
	members = json_tokener_parse(piece[5]);
	status = json_tokener_parse(piece[6]);
	info = json_tokener_parse(piece[7]);
	metrics_count_switch(&sw, piece[2]);
	metrics_count_switch(&sw, "hard:no-reply");
	text = metrics_render(status, members, info, &sw, &len);
	if (text)
		check_exposition(text, len);
	free(text);
	json_object_put(members);
	json_object_put(status);
	json_object_put(info);
	free(buf);
	return 0;
}
