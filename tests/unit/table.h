/*
 * table.h: run a table of cases as cmocka tests, one test per row.
 *
 * A row type starts with `const char *name`; TABLE_RUN(group, rows, fn)
 * runs fn once per row with *state pointing at the row, so cmocka names
 * each case and a failing row is reported by its name.
 */
#ifndef IMGVAULT_TEST_TABLE_H
#define IMGVAULT_TEST_TABLE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

static inline int table_run(const char *group, const void *rows, size_t rowsize,
			    size_t n, CMUnitTestFunction fn)
{
	struct CMUnitTest *t = calloc(n, sizeof(*t));
	int failed;

	if (!t)
		return 1;
	for (size_t i = 0; i < n; i++) {
		const char *row = (const char *)rows + i * rowsize;

		t[i].name = *(const char *const *)row;
		t[i].test_func = fn;
		t[i].initial_state = (void *)row;
	}
	failed = _cmocka_run_group_tests(group, t, n, NULL, NULL);
	free(t);
	return failed;
}

#define TABLE_RUN(group, rows, fn) \
	table_run((group), (rows), sizeof((rows)[0]), sizeof(rows) / sizeof((rows)[0]), (fn))

#endif
