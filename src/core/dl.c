/* Loading optional libraries: the contract is in dl.h. */
#include "core/dl.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

int dl_load(const char *soname, const char *const *names, void **ptrs, size_t n, char *err,
	    size_t errlen)
{
	void *h;

	if (n && ptrs[0])
		return 0;		/* loaded before */
	h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(err, errlen, "%s", dlerror());
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		ptrs[i] = dlsym(h, names[i]);
		if (!ptrs[i]) {
			snprintf(err, errlen, "%s: no %s (too old?)", soname, names[i]);
			memset(ptrs, 0, n * sizeof(*ptrs));
			dlclose(h);
			return -1;
		}
	}
	return 0;
}
