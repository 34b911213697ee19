/* libFuzzer target: the API request parser and method table. Each input is fed
 * as request lines to api_handle_line against a small running configuration;
 * every reply must be one newline-terminated JSON value. config.set is left
 * out of the table's reach (it would write the file), everything else runs. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "api/api.h"
#include "config/config.h"
#include "core/daemon.h"
#include "core/log.h"
#include "member/member.h"
#include "telem/evlog.h"

static void quiet(enum log_level level, const char *msg)
{
	(void)level;
	(void)msg;
}

static void setup(void)
{
	static struct config c;
	char path[] = "/tmp/fuzz-api-XXXXXX", err[CFG_ERR_LEN];
	const char *text = "config member 'a'\n\toption device 'eth0'\n"
			   "config member 'b'\n\toption device 'wwan0'\n";
	int fd = mkstemp(path);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		abort();
	close(fd);
	log_set_hook(quiet);
	evlog_init();
	mem_init();
	if (cfg_load(&c, path, err, sizeof(err)) != 0)
		abort();
	/* mwan3 takeover must find no mwan3 file to change */
	snprintf(c.main.config_root, sizeof(c.main.config_root), "/nonexistent");
	/* config.set must fail to write: point the daemon at a path that cannot exist */
	snprintf(daemon_ctx.cfg_path, sizeof(daemon_ctx.cfg_path), "/nonexistent/fuzz.conf");
	daemon_apply(&c);
	unlink(path);
}

static void check_reply(const char *out, size_t outlen)
{
	struct json_object *o;

	if (!outlen || out[outlen - 1] != '\n' || memchr(out, '\n', outlen - 1))
		abort();
	o = json_tokener_parse(out);
	if (!o)
		abort();
	json_object_put(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	const char *p = (const char *)data, *end = p + size;

	if (!ready) {
		setup();
		ready = 1;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p), outlen;
		char *out = api_handle_line(p, len, &outlen);

		check_reply(out, outlen);
		free(out);
		p += len;
	}
	log_set_level(LOG_LVL_WARN);	/* set_level may have changed it */
	return 0;
}
