/*
 * test_imageref: image reference parsing, pinning, archive file name stems
 * and tag validation, checked against what the Docker engine
 * (distribution/reference) accepts and what the archive layout needs.
 * One row a case.
 */
#include "table.h"

#include <string.h>

#include "catalog/imageref.h"

#define HEX16 "0123456789abcdef"
#define HEX64 HEX16 HEX16 HEX16 HEX16
#define DIGEST "sha256:" HEX64
#define T16 "abcdefghijklmnop"
#define TAG128 T16 T16 T16 T16 T16 T16 T16 T16
#define TAG129 TAG128 "q"

static int same(const char *got, const char *want)
{
	if (!got || !want)
		return got == want;
	return !strcmp(got, want);
}

static const char *show(const char *s)
{
	return s ? s : "(null)";
}

/* imageref_parse: ok 0 means the reference must be rejected. */
struct parse_case {
	const char *name;
	const char *ref;
	int ok;
	const char *registry, *path, *tag, *digest;
};

static const struct parse_case parse_cases[] = {
	{ "bare name gets docker.io", "nginx", 1, "docker.io", "nginx", NULL, NULL },
	{ "name with tag", "nginx:1.25", 1, "docker.io", "nginx", "1.25", NULL },
	{ "user repository", "traefik/whoami:v1.11.0", 1,
	  "docker.io", "traefik/whoami", "v1.11.0", NULL },
	{ "explicit docker.io keeps path as written", "docker.io/library/nginx", 1,
	  "docker.io", "library/nginx", NULL, NULL },
	{ "ghcr registry with tag", "ghcr.io/org/app:1.2", 1,
	  "ghcr.io", "org/app", "1.2", NULL },
	{ "localhost with port, nested path and tag", "localhost:5000/a/b:t", 1,
	  "localhost:5000", "a/b", "t", NULL },
	{ "localhost without port is a registry", "localhost/app", 1,
	  "localhost", "app", NULL, NULL },
	{ "ip address with port, no tag", "127.0.0.1:5000/x", 1,
	  "127.0.0.1:5000", "x", NULL, NULL },
	{ "dotted first component is a registry", "a.b/c", 1, "a.b", "c", NULL, NULL },
	{ "host:port without slash is name:tag", "myhost:5000", 1,
	  "docker.io", "myhost", "5000", NULL },
	{ "undotted first component is a path", "org/team/app", 1,
	  "docker.io", "org/team/app", NULL, NULL },
	{ "digest only", "nginx@" DIGEST, 1, "docker.io", "nginx", NULL, DIGEST },
	{ "tag and digest", "repo:tag@" DIGEST, 1, "docker.io", "repo", "tag", DIGEST },
	{ "registry, tag and digest", "ghcr.io/o/a:1@" DIGEST, 1,
	  "ghcr.io", "o/a", "1", DIGEST },
	{ "path separators . _ __ -", "org/a.b_c__d-e--f", 1,
	  "docker.io", "org/a.b_c__d-e--f", NULL, NULL },
	{ "underscore in a dotted first component is a bad host", "a.b_c/d", 0,
	  NULL, NULL, NULL, NULL },
	{ "tag of 128 chars", "nginx:" TAG128, 1, "docker.io", "nginx", TAG128, NULL },
	{ "tag with upper case and dots", "nginx:V1.2_rc-1", 1,
	  "docker.io", "nginx", "V1.2_rc-1", NULL },

	{ "empty", "", 0, NULL, NULL, NULL, NULL },
	{ "upper case repository", "Nginx", 0, NULL, NULL, NULL, NULL },
	{ "upper case in path after registry", "ghcr.io/Org/app", 0, NULL, NULL, NULL, NULL },
	{ "empty tag", "nginx:", 0, NULL, NULL, NULL, NULL },
	{ "empty name before tag", ":tag", 0, NULL, NULL, NULL, NULL },
	{ "empty path component", "a//b", 0, NULL, NULL, NULL, NULL },
	{ "trailing slash", "a/", 0, NULL, NULL, NULL, NULL },
	{ "space inside", "ngi nx", 0, NULL, NULL, NULL, NULL },
	{ "component starts with separator", "-a", 0, NULL, NULL, NULL, NULL },
	{ "three underscores", "a___b", 0, NULL, NULL, NULL, NULL },
	{ "tag over 128 chars", "nginx:" TAG129, 0, NULL, NULL, NULL, NULL },
	{ "tag starting with dot", "nginx:.x", 0, NULL, NULL, NULL, NULL },
	{ "digest too short", "nginx@sha256:abc", 0, NULL, NULL, NULL, NULL },
	{ "digest not hex", "nginx@sha256:" HEX16 HEX16 HEX16 "0123456789abcdeg",
	  0, NULL, NULL, NULL, NULL },
	{ "empty digest", "nginx@", 0, NULL, NULL, NULL, NULL },
	{ "digest without algorithm", "nginx@" HEX64, 0, NULL, NULL, NULL, NULL },
	/* The engine checks a sha256 digest's length (64) and its lower-case hex. */
	{ "sha256 digest of 63 hex chars", "nginx@sha256:" HEX16 HEX16 HEX16 "0123456789abcde",
	  0, NULL, NULL, NULL, NULL },
	{ "sha256 digest in upper case hex", "nginx@sha256:" HEX16 HEX16 HEX16 "0123456789ABCDEF",
	  0, NULL, NULL, NULL, NULL },
};

static void test_parse(void **state)
{
	const struct parse_case *c = *state;
	struct imageref r;
	struct strbuf err = STRBUF_INIT;
	int rc = imageref_parse(c->ref, &r, &err), bad;

	if (!c->ok) {
		if (rc == 0)
			imageref_free(&r);
		bad = rc != -1 || err.len == 0;
		strbuf_release(&err);
		if (bad)
			fail_msg("'%s': rc %d, want -1 and a message", c->ref, rc);
		return;
	}
	if (rc != 0) {
		print_error("'%s' rejected: %s\n", c->ref, strbuf_str(&err));
		strbuf_release(&err);
		fail();
	}
	strbuf_release(&err);
	bad = !same(r.registry, c->registry) || !same(r.path, c->path) ||
	      !same(r.tag, c->tag) || !same(r.digest, c->digest);
	if (bad)
		print_error("got registry %s path %s tag %s digest %s\n"
			    "want registry %s path %s tag %s digest %s\n",
			    show(r.registry), show(r.path), show(r.tag), show(r.digest),
			    show(c->registry), show(c->path), show(c->tag), show(c->digest));
	imageref_free(&r);
	if (bad)
		fail();
}

/* imageref_is_pinned */
struct pinned_case {
	const char *name;
	const char *ref;
	int pinned;
};

static const struct pinned_case pinned_cases[] = {
	{ "no tag is unpinned", "nginx", 0 },
	{ "latest is unpinned", "nginx:latest", 0 },
	{ "version tag is pinned", "nginx:1.25", 1 },
	{ "digest is pinned", "nginx@" DIGEST, 1 },
	{ "latest with digest is pinned", "nginx:latest@" DIGEST, 1 },
	{ "registry port is not a tag", "localhost:5000/app", 0 },
	{ "registry port and tag", "localhost:5000/app:v2", 1 },
	{ "registry port and latest", "localhost:5000/app:latest", 0 },
	{ "unparsable is not pinned", "Nginx:1.0", 0 },
	{ "empty is not pinned", "", 0 },
};

static void test_pinned(void **state)
{
	const struct pinned_case *c = *state;

	assert_int_equal(!!imageref_is_pinned(c->ref), c->pinned);
}

/* imageref_file_stem: the archive layout's <file> rule, before the suffix. */
struct stem_case {
	const char *name;
	const char *ref;
	const char *stem;
};

static const struct stem_case stem_cases[] = {
	{ "design example", "traefik/whoami:v1.11.0", "traefik_whoami_v1.11.0" },
	{ "bare name unchanged", "nginx", "nginx" },
	{ "registry port and path", "localhost:5000/a/b:t", "localhost_5000_a_b_t" },
	{ "dots kept", "ghcr.io/org/app:1.2", "ghcr.io_org_app_1.2" },
	{ "at sign and colon", "a/b@sha256:ab", "a_b_sha256_ab" },
	{ "tag and digest", "r:t@sha256:ff", "r_t_sha256_ff" },
	{ "other punctuation", "a b+c=d", "a_b_c_d" },
	{ "upper case, dash and underscore kept", "Ab-C_d", "Ab-C_d" },
	{ "each byte of utf-8 becomes _", "caf\xc3\xa9", "caf__" },
};

static void test_stem(void **state)
{
	const struct stem_case *c = *state;
	struct strbuf out = STRBUF_INIT;

	assert_int_equal(imageref_file_stem(c->ref, &out), 0);
	assert_string_equal(strbuf_str(&out), c->stem);
	strbuf_release(&out);
}

/* imageref_valid_tag */
struct tag_case {
	const char *name;
	const char *tag;
	int valid;
};

static const struct tag_case tag_cases[] = {
	{ "latest", "latest", 1 },
	{ "version", "v1.11.0", 1 },
	{ "leading underscore", "_x", 1 },
	{ "mixed case and separators", "A_b-C.d", 1 },
	{ "single char", "1", 1 },
	{ "128 chars", TAG128, 1 },
	{ "129 chars", TAG129, 0 },
	{ "empty", "", 0 },
	{ "leading dot", ".x", 0 },
	{ "leading dash", "-x", 0 },
	{ "colon", "a:b", 0 },
	{ "slash", "a/b", 0 },
	{ "space", "a b", 0 },
	{ "plus", "1.0+build", 0 },
};

static void test_tag(void **state)
{
	const struct tag_case *c = *state;

	assert_int_equal(!!imageref_valid_tag(c->tag), c->valid);
}

int main(void)
{
	int failed = 0;

	failed |= TABLE_RUN("imageref_parse", parse_cases, test_parse);
	failed |= TABLE_RUN("imageref_is_pinned", pinned_cases, test_pinned);
	failed |= TABLE_RUN("imageref_file_stem", stem_cases, test_stem);
	failed |= TABLE_RUN("imageref_valid_tag", tag_cases, test_tag);
	return failed;
}
