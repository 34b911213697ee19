/* Optional libraries loaded when a feature is first used (libcurl for
 * notifications, libmosquitto for MQTT): a router that configures neither
 * never maps them or the TLS, Kerberos and LDAP libraries they pull in
 * (docs/PERFORMANCE.md, several MB of RSS on Debian).
 *
 * A module lists the functions it calls in an X-macro and keeps them in a
 * struct of pointers typed from the library's own header, so every call is
 * checked against the real prototype:
 *
 *	#define FOO_FNS(X) X(foo_open) X(foo_close)
 *	static struct { FOO_FNS(DL_MEMBER) } F;
 *	static const char *const foo_names[] = { FOO_FNS(DL_NAME) };
 *	... dl_load("libfoo.so.1", foo_names, (void **)&F, ARRAY_SIZE(foo_names), err, len)
 *	F.foo_open(...);
 */
#ifndef AUTONOMY_DL_H
#define AUTONOMY_DL_H

#include <stddef.h>

#define DL_MEMBER(f)	__typeof__(f) *f;
#define DL_NAME(f)	#f,

/* Opens soname once (later calls return 0 at once) and resolves every name
 * into ptrs[i], all or nothing. The struct behind ptrs must consist of the n
 * function pointers in names' order. Returns 0, or -1 with what failed in
 * err ("libcurl.so.4: cannot open shared object file: …"). */
int dl_load(const char *soname, const char *const *names, void **ptrs, size_t n, char *err,
	    size_t errlen);

#endif
