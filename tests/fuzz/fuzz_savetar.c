/*
 * fuzz_savetar: libFuzzer target for store/savetar.
 *
 * The input is read as a (possibly gzip- or zstd-compressed) docker save
 * tar from memory, deep, with at most 64 MiB of content so a compression
 * bomb cannot time the run out. A failure must give a one-line message
 * naming the archive and leave nothing behind; a success must list at
 * least one image, each with a "sha256:<64 hex>" ID and a Config. Crashes,
 * leaks and failed checks (abort) are findings.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/manifest.h"
#include "store/savetar.h"
#include "util/strbuf.h"

#define NAME "x/fuzz.tar.gz"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct savetar_opts opts = { .deep = 1, .max_bytes = (unsigned long long)64 << 20 };
	struct savetar st = SAVETAR_INIT;
	struct strbuf err = STRBUF_INIT;

	if (savetar_read_memory(&st, data, size, NAME, &opts, &err) < 0) {
		if (st.n || st.images || !err.len || strchr(err.buf, '\n') ||
		    strncmp(err.buf, "archive '" NAME "': ", sizeof("archive '" NAME "': ") - 1))
			abort();
	} else {
		if (!st.n || st.entries > SAVETAR_MAX_ENTRIES)
			abort();
		for (size_t i = 0; i < st.n; i++) {
			const struct savetar_image *img = &st.images[i];

			if (!img->config || !img->id || strncmp(img->id, "sha256:", 7) ||
			    !manifest_hex64(img->id + 7))
				abort();
		}
	}
	savetar_release(&st);
	strbuf_release(&err);
	return 0;
}
