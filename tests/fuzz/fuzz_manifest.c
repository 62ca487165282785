/*
 * fuzz_manifest: libFuzzer target for store/manifest.
 *
 * The input is parsed as a manifest.json. A failure must leave the
 * manifest empty and give a one-line message naming the file. A success
 * must hold only entries that pass manifest_entry_validate and are found
 * again by (project, image); its dump must parse back to the same count
 * and dump to the same text; removing the first entry must leave the
 * others findable. Crashes, leaks and failed checks (abort) are findings.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/manifest.h"
#include "util/strbuf.h"

#define NAME "/a/x86_64/manifest.json"

static void check_entries(const struct manifest *m)
{
	struct strbuf err = STRBUF_INIT;

	for (size_t i = 0; i < manifest_count(m); i++) {
		const struct manifest_entry *e = manifest_at(m, i);

		if (manifest_entry_validate(e, &err) < 0 || manifest_find(m, e->project, e->image) != e)
			abort();
	}
	strbuf_release(&err);
}

static void round_trip(const struct manifest *m)
{
	struct manifest back = MANIFEST_INIT;
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT, again = STRBUF_INIT;

	if (manifest_dump(m, &out, &err) < 0)
		abort();
	if (manifest_parse(&back, out.buf, out.len, "dump", &err) < 0 ||
	    manifest_count(&back) != manifest_count(m))
		abort();
	if (manifest_dump(&back, &again, &err) < 0 || out.len != again.len ||
	    memcmp(out.buf, again.buf, out.len))
		abort();
	manifest_free(&back);
	strbuf_release(&err);
	strbuf_release(&out);
	strbuf_release(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct manifest m = MANIFEST_INIT;
	struct strbuf err = STRBUF_INIT;

	if (manifest_parse(&m, (const char *)data, size, NAME, &err) < 0) {
		if (manifest_count(&m) || !err.len || strchr(err.buf, '\n') ||
		    strncmp(err.buf, "manifest '" NAME "': ", sizeof("manifest '" NAME "': ") - 1))
			abort();
	} else {
		check_entries(&m);
		round_trip(&m);
		if (manifest_count(&m)) {
			/* Removed by its own strings, which the removal frees. */
			const struct manifest_entry *first = manifest_at(&m, 0);
			size_t n = manifest_count(&m);

			if (manifest_remove(&m, first->project, first->image) != 1 ||
			    manifest_count(&m) != n - 1)
				abort();
			check_entries(&m);
		}
	}
	manifest_free(&m);
	strbuf_release(&err);
	return 0;
}
