/* autonomyctl as an rpcd exec plugin (/usr/libexec/rpcd/autonomy).
 *
 * rpcd runs `<plugin> list` once to learn the methods and `<plugin> call METHOD`
 * per ubus call, with the arguments as JSON on stdin. Whatever happens, the plugin
 * must print exactly one JSON object and exit 0: rpcd turns anything else into a
 * bare ubus status code and the caller (LuCI, a script) loses the reason.
 */
#include <json-c/json.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

/* The sample's JSON type is what rpcd/ubus use as the argument type. */
struct json_object *ctl_rpcd_signatures(void)
{
	struct json_object *sig = json_object_new_object(), *o;

	json_object_object_add(sig, "status", json_object_new_object());
	json_object_object_add(sig, "members", json_object_new_object());

	o = json_object_new_object();
	json_object_object_add(o, "limit", json_object_new_int(32));
	json_object_object_add(sig, "events", o);

	o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string("str"));
	json_object_object_add(o, "since_s", json_object_new_int(32));
	json_object_object_add(o, "resolution", json_object_new_string("str"));
	json_object_object_add(sig, "history", o);

	o = json_object_new_object();
	json_object_object_add(o, "cmd", json_object_new_string("str"));
	json_object_object_add(o, "name", json_object_new_string("str"));
	json_object_object_add(o, "level", json_object_new_string("str"));
	json_object_object_add(sig, "action", o);

	o = json_object_new_object();
	json_object_object_add(o, "schema", json_object_new_boolean(1));
	json_object_object_add(sig, "config.get", o);

	o = json_object_new_object();
	json_object_object_add(o, "values", json_object_new_object());
	json_object_object_add(sig, "config.set", o);

	json_object_object_add(sig, "info", json_object_new_object());

	o = json_object_new_object();
	json_object_object_add(o, "channel", json_object_new_string("str"));
	json_object_object_add(sig, "notify.test", o);

	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int(32));
	json_object_object_add(sig, "notify.status", o);

	o = json_object_new_object();
	json_object_object_add(o, "cmd", json_object_new_string("str"));
	json_object_object_add(o, "dry_run", json_object_new_boolean(1));
	json_object_object_add(sig, "mwan3", o);
	return sig;
}

static void ctl_rpcd_print(FILE *out, struct json_object *obj)
{
	fprintf(out, "%s\n", json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
							    JSON_C_TO_STRING_NOSLASHESCAPE));
	fflush(out);
}

void ctl_rpcd_list(FILE *out)
{
	struct json_object *sig = ctl_rpcd_signatures();

	ctl_rpcd_print(out, sig);
	json_object_put(sig);
}

struct json_object *ctl_rpcd_error(const char *code, const char *message)
{
	struct json_object *err = json_object_new_object(), *e = json_object_new_object();

	json_object_object_add(e, "code", json_object_new_string(code));
	json_object_object_add(e, "message", json_object_new_string(message));
	json_object_object_add(err, "error", e);
	return err;
}

static bool ctl_blank(const char *text, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!isspace((unsigned char)text[i]))
			return false;
	return true;
}

struct json_object *ctl_rpcd_args(const char *text, size_t len, char *err, size_t errlen)
{
	struct json_tokener *tok;
	struct json_object *args;
	bool bad = true;
	size_t used;

	if (ctl_blank(text, len))
		return json_object_new_object();
	if (len > CTL_RPCD_ARGS_MAX || memchr(text, 0, len)) {
		snprintf(err, errlen, "the arguments are not one JSON object");
		return NULL;
	}
	tok = json_tokener_new();
	args = json_tokener_parse_ex(tok, text, (int)len);
	used = json_tokener_get_parse_end(tok);
	if (!args && json_tokener_get_error(tok) != json_tokener_continue)
		snprintf(err, errlen, "the arguments are not JSON: %s",
			 json_tokener_error_desc(json_tokener_get_error(tok)));
	else if (!json_object_is_type(args, json_type_object) || !ctl_blank(text + used, len - used))
		snprintf(err, errlen, "the arguments are not one JSON object");
	else
		bad = false;
	json_tokener_free(tok);
	if (args && bad) {
		json_object_put(args);
		args = NULL;
	}
	return args;
}

struct json_object *ctl_rpcd_wrap(const char *method, struct json_object *reply)
{
	struct json_object *o;

	if (json_object_is_type(reply, json_type_object))
		return json_object_get(reply);
	/* ubus replies must be objects: arrays (events, members) and anything
	 * else the daemon might send become {"<method>": …}. */
	o = json_object_new_object();
	json_object_object_add(o, method, json_object_get(reply));
	return o;
}

/* stdin in full; NULL when it is over the limit or unreadable. */
static char *ctl_read_all(FILE *in, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap), *p;

	while (buf) {
		size_t got = fread(buf + n, 1, cap - n, in);

		n += got;
		if (got == 0)
			break;
		if (n == cap) {
			if (cap > CTL_RPCD_ARGS_MAX)
				break;
			p = realloc(buf, cap * 2);
			if (!p)
				break;
			buf = p;
			cap *= 2;
		}
	}
	if (!buf || ferror(in) || n > CTL_RPCD_ARGS_MAX) {
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

static struct json_object *ctl_rpcd_request(const char *method, struct json_object *args)
{
	struct json_object *req = json_object_new_object();

	json_object_object_add(req, "method", json_object_new_string(method));
	json_object_object_add(req, "params", args);
	return req;
}

/* The reply to print for one call: the daemon's, or an error object. */
static struct json_object *ctl_rpcd_answer(FILE *in, const char *method, ctl_send_fn send,
					   void *ctx)
{
	struct json_object *args, *req, *reply, *out;
	char err[256] = "", msg[320];
	size_t len = 0;
	char *text = ctl_read_all(in, &len);

	if (!text)
		return ctl_rpcd_error("invalid_request", "cannot read the arguments "
				      "(unreadable or over 1 MiB)");
	args = ctl_rpcd_args(text, len, err, sizeof(err));
	free(text);
	if (!args)
		return ctl_rpcd_error("invalid_request", err);

	/* An unknown method goes to the daemon too: it answers unknown_method. */
	req = ctl_rpcd_request(method, args);
	err[0] = 0;
	reply = send(ctx, req, err, sizeof(err));
	json_object_put(req);
	if (!reply) {
		snprintf(msg, sizeof(msg), "autonomyd is not running (%s)",
			 *err ? err : "no reply");
		return ctl_rpcd_error("unavailable", msg);
	}
	out = ctl_rpcd_wrap(method, reply);
	json_object_put(reply);
	return out;
}

int ctl_rpcd_call(FILE *in, FILE *out, const char *method, ctl_send_fn send, void *ctx)
{
	struct json_object *answer = ctl_rpcd_answer(in, method, send, ctx);

	ctl_rpcd_print(out, answer);
	json_object_put(answer);
	return CTL_EXIT_OK;	/* see the top of this file */
}
