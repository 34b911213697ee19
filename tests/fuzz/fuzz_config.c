/* libFuzzer target for what turns configuration text into a struct config:
 * the typed value parsers behind cfg_from_uci (every option type, including
 * the notifier and MQTT ones) and mwan3 discovery from a router's own files.
 *
 * The input is up to four files separated by a line "%%": autonomy's config,
 * then network, mwan3 and wireless (written under a private directory that
 * mwan3_discover reads). Beyond "does not crash", it checks:
 *  - cfg_from_uci either succeeds or fails with a message, and a result keeps
 *    its limits (member and notifier counts, names, reliability <= targets);
 *  - the accepted config converts to JSON (config.get) without trouble;
 *  - mwan3 discovery only ever adds members within the same limits.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "config/config.h"
#include "config/mwan3.h"
#include "config/uci.h"
#include "core/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(x) do { \
		if (!(x)) { \
			fprintf(stderr, "fuzz_config.c:%d: check failed: %s\n", __LINE__, #x); \
			abort(); \
		} \
	} while (0)

static char root[64];

static void quiet(enum log_level lvl, const char *msg)
{
	(void)lvl;
	(void)msg;
}

static void check_members(const struct config *c)
{
	check(c->nmembers >= 0 && c->nmembers <= CFG_MAX_MEMBERS);
	for (int i = 0; i < c->nmembers; i++) {
		const struct cfg_member *m = &c->member[i];

		check(m->name[0] && strlen(m->name) < CFG_NAME_LEN);
		check(m->targets.n >= 0 && m->targets.n <= CFG_MAX_TARGETS);
		check(m->targets.n == 0 || m->reliability <= m->targets.n);
	}
}

static void write_part(const char *name, const uint8_t *p, size_t len)
{
	char path[96];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, name);
	if (!len) {
		unlink(path);
		return;
	}
	f = fopen(path, "w");
	check(f);
	check(fwrite(p, 1, len, f) == len);
	check(fclose(f) == 0);
}

/* The next part up to a "\n%%\n" separator; *pos moves past it. */
static size_t next_part(const uint8_t *data, size_t size, size_t *pos, const uint8_t **start)
{
	const uint8_t *s = data + *pos;
	size_t left = size - *pos;

	*start = s;
	for (size_t i = 0; i + 4 <= left; i++)
		if (!memcmp(s + i, "\n%%\n", 4)) {
			*pos += i + 4;
			return i + 1;	/* keep the newline */
		}
	*pos = size;
	return left;
}

static void fuzz_main_config(const uint8_t *p, size_t len)
{
	static struct config c;	/* large for the stack */
	struct uci_parser up;
	struct uci_file f;
	char err[CFG_ERR_LEN] = "";

	uci_parser_init(&up, "fuzz");
	if (uci_parse_buf(&up, (const char *)p, len, &f) != 0) {
		uci_file_free(&f);	/* handed over even with errors */
		uci_parser_free(&up);
		return;
	}
	if (cfg_from_uci(&c, &f, "fuzz", err, sizeof(err)) != 0) {
		check(err[0]);
	} else {
		struct json_object *j = cfg_to_json(&c, "fuzz", true);

		check(j);
		check(json_object_to_json_string(j));
		json_object_put(j);
		check_members(&c);
		check(c.nnotifiers >= 0 && c.nnotifiers <= CFG_MAX_NOTIFIERS);
	}
	uci_file_free(&f);
	uci_parser_free(&up);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const files[] = { "network", "mwan3", "wireless" };
	static struct config c;
	const uint8_t *part;
	size_t pos = 0, len;
	int rc;

	if (!root[0]) {
		log_set_hook(quiet);
		snprintf(root, sizeof(root), "/tmp/fuzz_config.%d", (int)getpid());
		check(mkdir(root, 0700) == 0 || errno == EEXIST);
	}
	len = next_part(data, size, &pos, &part);
	fuzz_main_config(part, len);
	for (int i = 0; i < 3; i++) {
		len = pos < size ? next_part(data, size, &pos, &part) : 0;
		write_part(files[i], part, len);
	}
	cfg_defaults(&c);
	rc = mwan3_discover(root, &c);
	check(rc < 0 || c.nmembers == rc);	/* added to an empty list */
	check_members(&c);
	return 0;
}
