/* Loading optional libraries: a library that is not there, one without a
 * function we need (nothing half-loaded), and one that is (libm). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "core/dl.h"
#include "core/util.h"

static void test_missing_library(void **state)
{
	static const char *const names[] = { "cos" };
	void *ptrs[1] = { NULL };
	char err[256] = "";

	(void)state;
	assert_int_equal(dl_load("libautonomy-not-there.so.9", names, ptrs, 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "libautonomy-not-there.so.9"));
	assert_null(ptrs[0]);
}

static void test_missing_function_loads_nothing(void **state)
{
	static const char *const names[] = { "cos", "autonomy_no_such_function" };
	void *ptrs[2] = { NULL, NULL };
	char err[256] = "";

	(void)state;
	assert_int_equal(dl_load("libm.so.6", names, ptrs, 2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "autonomy_no_such_function"));
	assert_null(ptrs[0]);
	assert_null(ptrs[1]);
}

#define M_FNS(X) X(cos) X(sqrt)

static void test_loads_typed_functions(void **state)
{
	static struct {
		M_FNS(DL_MEMBER)
	} F;
	static const char *const names[] = { M_FNS(DL_NAME) };
	char err[256] = "";

	(void)state;
	assert_int_equal(dl_load("libm.so.6", names, (void **)&F, ARRAY_SIZE(names), err,
				 sizeof(err)), 0);
	assert_true(F.cos(0.0) == 1.0 && F.sqrt(16.0) == 4.0);
	/* loaded once: a second call changes nothing */
	assert_int_equal(dl_load("libm.so.6", names, (void **)&F, ARRAY_SIZE(names), err,
				 sizeof(err)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_missing_library),
		cmocka_unit_test(test_missing_function_loads_nothing),
		cmocka_unit_test(test_loads_typed_functions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
