/*
 * fuzz_interp: libFuzzer target for catalog/interp.
 *
 * Expands the input against a small fixed set of variables (set, empty,
 * holding '$' or braces, long) with lookup, unset and seen callbacks that
 * check every name they are handed: a valid variable name lying inside the
 * input. Then checks the result codes, that interp_has_vars agrees with
 * what the expansion looked up, and that a second expansion with no
 * callbacks, no error offset and a small output cap gives the same text or
 * INTERP_TOOBIG. Crashes, leaks and failed checks (abort) are findings.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/interp.h"
#include "util/strbuf.h"

#define SMALL_CAP 256

static const struct {
	const char *name, *value;
} fixed_vars[] = {
	{ "A", "1" },
	{ "EMPTY", "" },
	{ "IMAGE", "registry.example.com:5000/team/app" },
	{ "TAG", "v1.2.3" },
	{ "DOLLAR", "$HOME ${A}" },
	{ "BRACES", "{\"k\": [1, 2]}" },
	{ "_under_9", "x" },
	{ "LONG", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" },
};

struct ctx {
	const char *in;
	size_t len;
	size_t nseen, nunset;
};

static int valid_name(const struct ctx *c, const char *name, size_t len)
{
	if (!name || !len || name < c->in || len > c->len || name > c->in + c->len - len)
		return 0;
	if (!(name[0] == '_' || (name[0] >= 'a' && name[0] <= 'z') ||
	      (name[0] >= 'A' && name[0] <= 'Z')))
		return 0;
	for (size_t i = 1; i < len; i++)
		if (!(name[i] == '_' || (name[i] >= 'a' && name[i] <= 'z') ||
		      (name[i] >= 'A' && name[i] <= 'Z') || (name[i] >= '0' && name[i] <= '9')))
			return 0;
	return 1;
}

static const char *lookup(void *ctx, const char *name, size_t len)
{
	struct ctx *c = ctx;

	if (!valid_name(c, name, len))
		abort();
	for (size_t i = 0; i < sizeof(fixed_vars) / sizeof(fixed_vars[0]); i++)
		if (strlen(fixed_vars[i].name) == len && !memcmp(fixed_vars[i].name, name, len))
			return fixed_vars[i].value;
	return NULL;
}

static void unset(void *ctx, const char *name, size_t len)
{
	struct ctx *c = ctx;

	if (!valid_name(c, name, len) || lookup(ctx, name, len))
		abort();
	c->nunset++;
}

static void seen(void *ctx, const char *name, size_t len)
{
	struct ctx *c = ctx;

	if (!valid_name(c, name, len))
		abort();
	c->nseen++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct ctx c = { in, size, 0, 0 };
	struct interp_env full = { lookup, unset, seen, &c };
	struct interp_env bare = { lookup, NULL, NULL, &c };
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	struct strbuf capped = { .cap = SMALL_CAP }, err2 = STRBUF_INIT;
	size_t off = (size_t)-1;
	int has = interp_has_vars(in, size);
	int r = interp_expand(in, size, &full, &out, &err, &off);
	int r2;

	switch (r) {
	case INTERP_OK:
		break;
	case INTERP_SYNTAX:
		if (!err.len || off >= size)
			abort();
		break;
	case INTERP_REQUIRED:
	case INTERP_TOOBIG:
		if (!err.len)
			abort();
		break;
	default:
		abort();
	}
	if (has != 0 && has != 1)
		abort();
	/* No reference at all: nothing looked up, nothing can go wrong. */
	if (!has && (r != INTERP_OK || c.nseen || c.nunset))
		abort();
	if (c.nseen && !has)
		abort();

	r2 = interp_expand(in, size, &bare, &capped, &err2, NULL);
	if (r == INTERP_OK && out.len <= SMALL_CAP &&
	    (r2 != INTERP_OK || capped.len != out.len ||
	     (out.len && memcmp(capped.buf, out.buf, out.len))))
		abort();
	if (r == INTERP_OK && out.len > SMALL_CAP && r2 != INTERP_TOOBIG)
		abort();

	strbuf_release(&out);
	strbuf_release(&err);
	strbuf_release(&capped);
	strbuf_release(&err2);
	return 0;
}
