/*
 * fuzz_dockerfile: libFuzzer target for catalog/dockerfile.
 *
 * Reads the input as a Dockerfile with a few build args, as Compose would
 * pass them (one declared without a value), and checks what it promises:
 * every FROM line is kept as written, the base images are non-empty, never
 * `scratch` and never repeated; on error nothing is left to free. Then
 * frees everything. Crashes, leaks and failed checks (abort) are findings.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "catalog/dockerfile.h"
#include "util/strbuf.h"

static const struct build_arg args[] = {
	{ "BASE_VERSION", "1.36" },
	{ "REGISTRY", "registry.example.com:5000" },
	{ "UNSET_ARG", NULL },
	{ "EMPTY", "" },
};

static int by_string(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Base images: non-empty, never scratch, no repeats (checked sorted, not pairwise). */
static void check_images(const struct strlist *l)
{
	char **sorted;

	if (!l->n)
		return;
	sorted = malloc(l->n * sizeof(*sorted));
	if (!sorted)
		return;
	memcpy(sorted, l->items, l->n * sizeof(*sorted));
	qsort(sorted, l->n, sizeof(*sorted), by_string);
	for (size_t i = 0; i < l->n; i++)
		if (!*sorted[i] || !strcasecmp(sorted[i], "scratch") ||
		    (i && !strcmp(sorted[i - 1], sorted[i])))
			abort();
	free(sorted);
}

static void check_list(const struct strlist *l)
{
	if (l->n > l->alloc || (l->n && !l->items))
		abort();
	for (size_t i = 0; i < l->n; i++)
		if (!l->items[i])
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dockerfile df;
	struct strbuf err = STRBUF_INIT;
	int r = dockerfile_parse((const char *)data, size, args,
				 sizeof(args) / sizeof(args[0]), &df, &err);

	check_list(&df.from_lines);
	check_list(&df.base_images);
	if (r < 0) {
		/* Callers do not free after an error, so nothing may be held. */
		if (r != -1 || !err.len || df.from_lines.n || df.base_images.n)
			abort();
	} else if (r != 0) {
		abort();
	} else {
		for (size_t i = 0; i < df.from_lines.n; i++)
			if (strncasecmp(df.from_lines.items[i], "from", 4))
				abort();
		check_images(&df.base_images);
		if (df.base_images.n > df.from_lines.n)
			abort();
	}
	dockerfile_free(&df);
	strbuf_release(&err);
	return 0;
}
