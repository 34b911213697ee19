/* autonomyctl: building requests from command words and printing replies.
 *
 * Everything here works on json-c objects and FILE streams only, so it is tested
 * without a daemon: the socket client lives in autonomyctl.c and reaches the rpcd
 * code through a ctl_send_fn.
 *
 * Exit codes of autonomyctl (also printed by `autonomyctl help`):
 *	0  success
 *	1  the daemon answered with an error object, or `config get` was asked for a
 *	   section/option the configuration does not have
 *	2  usage error (the usage goes to stderr)
 *	3  the daemon is not reachable: socket missing, connection refused, no reply
 *	   within the timeout, connection closed early, or a reply that is not JSON
 * `rpcd list` and `rpcd call` always exit 0: rpcd only forwards what the plugin
 * prints when it exits 0, and the error object is the reply ubus callers expect.
 */
#ifndef AUTONOMY_CTL_H
#define AUTONOMY_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct json_object;

#define CTL_DEFAULT_SOCKET	"/var/run/autonomy/autonomy.sock"
#define CTL_DEFAULT_TIMEOUT_S	5.0
#define CTL_REPLY_MAX		(16u << 20)	/* longest reply line we accept */
#define CTL_RPCD_ARGS_MAX	(1u << 20)	/* longest ubus argument text on stdin */

enum ctl_exit {
	CTL_EXIT_OK = 0,
	CTL_EXIT_ERROR = 1,
	CTL_EXIT_USAGE = 2,
	CTL_EXIT_UNREACHABLE = 3,
};

enum ctl_cmd {
	CTL_CMD_NONE,
	CTL_CMD_STATUS,
	CTL_CMD_MEMBERS,
	CTL_CMD_EVENTS,
	CTL_CMD_FAILOVER,
	CTL_CMD_RESTORE,
	CTL_CMD_RECHECK,
	CTL_CMD_SETLOG,
	CTL_CMD_CONFIG_GET,
	CTL_CMD_CONFIG_SET,
	CTL_CMD_CONFIG_UNSET,
	CTL_CMD_INFO,
	CTL_CMD_STARLINK,
	CTL_CMD_CELLULAR,
	CTL_CMD_HISTORY,
	CTL_CMD_NOTIFY_TEST,
	CTL_CMD_MWAN3_TAKEOVER,
	CTL_CMD_MWAN3_RELEASE,
	CTL_CMD_MWAN3_STATUS,
	CTL_CMD_RPCD_LIST,
	CTL_CMD_RPCD_CALL,
	CTL_CMD_HELP,
};

/* One parsed command line (the words after the options). */
struct ctl_call {
	enum ctl_cmd cmd;
	/* The request to send, owned by the call; NULL for the local commands
	 * (help, rpcd list, rpcd call: the rpcd request is built from stdin). */
	struct json_object *request;
	/* config get: "SECTION" or "SECTION.OPTION" or NULL; rpcd call: the method.
	 * Points into argv. */
	const char *arg;
};

/* Parse the command words argv[0..argc-1]. On success fill *call and return 0;
 * on a usage error return -1 with a one-line message in err (call->request NULL).
 * Free with ctl_call_free(). "list" and "call METHOD" are accepted as aliases of
 * "rpcd list" / "rpcd call METHOD": that is how rpcd runs the plugin when
 * autonomyctl is installed (or linked) as /usr/libexec/rpcd/autonomy. */
int ctl_parse(int argc, char **argv, struct ctl_call *call, char *err, size_t errlen);
void ctl_call_free(struct ctl_call *call);

/* The usage text, including the exit codes. */
void ctl_usage(FILE *out);

/* True if reply is an error object ({"error": …}). */
bool ctl_reply_is_error(struct json_object *reply);
/* "autonomyctl: <message> (<code>)\n"; tolerates any shape of "error". */
void ctl_print_error(FILE *out, struct json_object *reply);

/* Human-readable output. Each printer accepts any JSON (or NULL) and prints "-"
 * for what is missing or of the wrong type; none of them fails. */
void ctl_print_status(FILE *out, struct json_object *reply);
void ctl_print_members(FILE *out, struct json_object *reply);
void ctl_print_events(FILE *out, struct json_object *reply);
void ctl_print_info(FILE *out, struct json_object *reply);
void ctl_print_starlink(FILE *out, struct json_object *reply);
void ctl_print_cellular(FILE *out, struct json_object *reply);
/* A `history` reply: one line about it, then a table with the reply's fields. */
void ctl_print_history(FILE *out, struct json_object *reply);
/* SINCE of `history NAME [SINCE]`: seconds, or a number with s, m, h or d.
 * Returns -1 when it is not one. */
long long ctl_parse_since(const char *s);
/* An `mwan3` reply: the uci change lines, the tracking state, the reload. */
void ctl_print_mwan3(FILE *out, struct json_object *reply);
/* --dry-run: only mwan3 takeover and release take it (sets params.dry_run).
 * Returns 0, or -1 with a message in err. */
int ctl_set_dry_run(struct ctl_call *call, char *err, size_t errlen);
/* "message", else "changed: a.b, c.d", else "ok". */
void ctl_print_result(FILE *out, struct json_object *reply);
/* uci-show style lines of a config.get reply, limited to filter ("SECTION" or
 * "SECTION.OPTION", NULL for all). Returns 0, or -1 with a message in err when the
 * filter names a section or option the reply does not have. out == NULL only
 * checks the filter (for --json, which prints the reply as received). */
int ctl_print_config(FILE *out, struct json_object *reply, const char *filter,
		     char *err, size_t errlen);

/* Dispatch on call->cmd to the printers above. Returns an enum ctl_exit; on
 * CTL_EXIT_ERROR the message is in err. */
int ctl_print(FILE *out, const struct ctl_call *call, struct json_object *reply,
	      char *err, size_t errlen);

/* Seconds as "3d 04h 05m 06s" (leading zero units left out). */
void ctl_fmt_duration(char *buf, size_t len, long long seconds);

/* ---- rpcd exec plugin (ctl_rpcd.c) ---- */

/* Send one request, return the parsed reply (caller owns it), or NULL with a short
 * reason in err when the daemon cannot be reached. */
typedef struct json_object *(*ctl_send_fn)(void *ctx, struct json_object *request,
					   char *err, size_t errlen);

/* The method signatures rpcd asks for with `list` (a new object). */
struct json_object *ctl_rpcd_signatures(void);
/* Print them as one JSON object. */
void ctl_rpcd_list(FILE *out);
/* Parse ubus arguments: empty or blank text is {}; returns a new object, or NULL
 * with a message in err when the text is not one JSON object. */
struct json_object *ctl_rpcd_args(const char *text, size_t len, char *err, size_t errlen);
/* What ubus gets for a reply: the reply itself if it is an object, anything else
 * wrapped as {"<method>": reply}. Returns a new reference. */
struct json_object *ctl_rpcd_wrap(const char *method, struct json_object *reply);
/* {"error":{"code":code,"message":message}} */
struct json_object *ctl_rpcd_error(const char *code, const char *message);
/* The whole `call METHOD`: read arguments from in, send, print exactly one JSON
 * object on out. Always returns CTL_EXIT_OK (see the top of this file). */
int ctl_rpcd_call(FILE *in, FILE *out, const char *method, ctl_send_fn send, void *ctx);

#endif
