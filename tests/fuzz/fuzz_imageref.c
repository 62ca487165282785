/*
 * fuzz_imageref: libFuzzer target for catalog/imageref.
 *
 * The input, cut at its first NUL, is parsed as an image reference. A
 * parsed reference must have a registry and a valid path, tag and digest,
 * and must parse again, to the same parts, once written back out;
 * imageref_is_pinned must agree with the parse; imageref_file_stem must
 * map every byte to exactly one byte of [A-Za-z0-9_.-]. Crashes, leaks
 * and failed checks (abort) are findings.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/imageref.h"
#include "util/strbuf.h"

static int same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* Write r back out and parse it again: the parts must survive. */
static void check_roundtrip(const char *ref, const struct imageref *r)
{
	struct strbuf again = STRBUF_INIT, err = STRBUF_INIT;
	struct imageref r2;
	int explicit_registry = strcmp(r->registry, "docker.io") ||
				!strncmp(ref, "docker.io/", 10);

	if (explicit_registry)
		strbuf_addf(&again, "%s/", r->registry);
	strbuf_addstr(&again, r->path);
	if (r->tag)
		strbuf_addf(&again, ":%s", r->tag);
	if (r->digest)
		strbuf_addf(&again, "@%s", r->digest);
	if (again.toobig)
		abort();
	if (imageref_parse(strbuf_str(&again), &r2, &err) < 0)
		abort();
	if (!same(r->registry, r2.registry) || !same(r->path, r2.path) ||
	    !same(r->tag, r2.tag) || !same(r->digest, r2.digest))
		abort();
	imageref_free(&r2);
	strbuf_release(&again);
	strbuf_release(&err);
}

static void check_stem(const char *ref)
{
	struct strbuf stem = STRBUF_INIT;

	if (imageref_file_stem(ref, &stem) < 0 || stem.len != strlen(ref))
		abort();
	for (size_t i = 0; i < stem.len; i++) {
		char c = stem.buf[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			abort();
	}
	strbuf_release(&stem);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *ref = malloc(size + 1);
	struct imageref r;
	struct strbuf err = STRBUF_INIT;
	int pinned;

	if (!ref)
		return 0;
	memcpy(ref, data, size);
	ref[size] = '\0';

	pinned = imageref_is_pinned(ref);
	if (imageref_parse(ref, &r, &err) < 0) {
		if (!err.len || r.registry || r.path || r.tag || r.digest || pinned)
			abort();
	} else {
		if (!r.registry || !r.path || !*r.path)
			abort();
		if (r.tag && !imageref_valid_tag(r.tag))
			abort();
		if (r.digest && strncmp(r.digest, "sha", 3))
			abort();
		if (pinned != (r.digest || (r.tag && strcmp(r.tag, "latest"))))
			abort();
		check_roundtrip(ref, &r);
		imageref_free(&r);
	}
	(void)imageref_valid_tag(ref);
	check_stem(ref);
	strbuf_release(&err);
	free(ref);
	return 0;
}
