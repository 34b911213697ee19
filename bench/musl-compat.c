/* For scripts/musl.sh: the one glibc symbol Debian's libmnl.so.0 needs that musl
 * does not have. libmnl calls it only from mnl_nlmsg_fprintf(), its debug printer. */
#include <stdarg.h>
#include <stdio.h>

int __fprintf_chk(FILE *f, int flag, const char *fmt, ...);

int __fprintf_chk(FILE *f, int flag, const char *fmt, ...)
{
	va_list ap;
	int n;

	(void)flag;
	va_start(ap, fmt);
	n = vfprintf(f, fmt, ap);
	va_end(ap);
	return n;
}
