/* The API method table: one set of methods (docs/API.md) for every transport.
 * Transports hand in a request line and send back the reply line; they never
 * look inside. */
#ifndef AUTONOMY_API_H
#define AUTONOMY_API_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json_types.h>

#define API_MAX_REQUEST	65536	/* bytes in one request line, newline included */

/* Runs one method. params may be NULL. Returns the result, or an error object
 * {"error":{"code","message"}}; the caller owns it. */
struct json_object *api_call(const char *method, struct json_object *params);

/* The JSON type method expects for param; json_type_null when the method does
 * not exist or takes no such parameter. For transports whose parameters arrive
 * as text (the HTTP query string). */
enum json_type api_param_type(const char *method, const char *param);
/* The method changes something (HTTP asks for the token and for POST). */
bool api_is_write(const char *method);

/* Parses one request line ({"method":…,"params":{…}}), runs it and returns the
 * reply as a malloc'd, newline-terminated string (*outlen bytes). Never fails:
 * a bad request gets an error reply. */
char *api_handle_line(const char *line, size_t len, size_t *outlen);

/* {"error":{"code":code,"message":…}} */
struct json_object *api_error(const char *code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The reply line for an error that happens outside any method (too large,
 * timeout, too many clients); malloc'd and newline-terminated. */
char *api_error_line(const char *code, const char *message, size_t *outlen);

#endif
