/*
 * fuzz_jsonstream: libFuzzer target for engine/jsonstream.
 *
 * The first byte picks a chunk size; the rest is fed in chunks of that
 * size and finished. Whole and chunked feeds of a stream that parses must
 * agree on the message count and the first error. Crashes, leaks and
 * failed checks (abort) are findings.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/jsonstream.h"

static int count(void *ctx, json_t *msg)
{
	(void)msg;
	(*(size_t *)ctx)++;
	return 0;
}

static int feed(const uint8_t *data, size_t size, size_t step, size_t *n, char **error)
{
	struct jsonstream js = { .on_message = count, .ctx = n };
	struct strbuf err = STRBUF_INIT;
	int r = 0;

	for (size_t off = 0; r == 0 && off < size; off += step)
		r = jsonstream_feed(&js, (const char *)data + off, size - off < step ? size - off : step, &err);
	if (r == 0)
		r = jsonstream_finish(&js, &err);
	if (r < 0 && !err.len)
		abort();
	*error = js.error ? strdup(js.error) : NULL;
	jsonstream_release(&js);
	strbuf_release(&err);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n1 = 0, n2 = 0, step;
	char *e1, *e2;
	int r1, r2;

	if (!size)
		return 0;
	step = (size_t)data[0] % 64 + 1;
	data++;
	size--;
	r1 = feed(data, size, size ? size : 1, &n1, &e1);
	r2 = feed(data, size, step, &n2, &e2);
	if (r1 == 0 && (r2 != 0 || n1 != n2 || (!e1) != (!e2) || (e1 && strcmp(e1, e2))))
		abort();
	free(e1);
	free(e2);
	return 0;
}
