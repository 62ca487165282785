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
		for (size_t i = 0; i < df.base_images.n; i++) {
			const char *img = df.base_images.items[i];

			if (!*img || !strcasecmp(img, "scratch"))
				abort();
			for (size_t j = 0; j < i; j++)
				if (!strcmp(img, df.base_images.items[j]))
					abort();
		}
		if (df.base_images.n > df.from_lines.n)
			abort();
	}
	dockerfile_free(&df);
	strbuf_release(&err);
	return 0;
}
