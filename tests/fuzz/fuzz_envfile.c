/*
 * fuzz_envfile: libFuzzer target for catalog/envfile.
 *
 * Parses the input as an env file into a fresh variable set, checks the
 * error contract (a 1-based line and a message) and that every variable
 * the parser defined can be found again by name, then frees everything.
 * Crashes, leaks and failed checks (abort) are all findings.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/envfile.h"
#include "catalog/vars.h"
#include "util/strbuf.h"

static size_t count_lines(const uint8_t *data, size_t size)
{
	size_t n = 1;

	for (size_t i = 0; i < size; i++)
		n += data[i] == '\n';
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vars v = VARS_INIT;
	struct strbuf err = STRBUF_INIT;
	size_t line = 0;
	int r = envfile_parse((const char *)data, size, &v, &err, &line);

	if (r < 0) {
		if (r != -1 || !err.len || line < 1 || line > count_lines(data, size))
			abort();
	} else if (r != 0) {
		abort();
	}
	/* Whatever was defined (even before an error) must be found again. */
	for (size_t i = 0; i < vars_count(&v); i++) {
		const char *name = vars_name(&v, i);
		size_t len = v.map.items[i].len;

		if (!name || !vars_value(&v, i))
			abort();
		if (vars_get(&v, name, len) != vars_value(&v, i))
			abort();
	}
	vars_free(&v);
	strbuf_release(&err);
	return 0;
}
