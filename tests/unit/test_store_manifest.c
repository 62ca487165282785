/*
 * test_store_manifest: store/manifest — loading good and bad manifest.json
 * texts (one row each; every bad kind names the file and its reason and
 * points to --rebuild-manifest), the "file" path rule row by row, the exact
 * text written back (key order, unknown keys kept, images sorted), and
 * put / find / remove with the same image under two projects.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "table.h"
#include "store/manifest.h"
#include "util/fileio.h"

#define H64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define H64B "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

/* One valid entry's keys, and the entry. */
#define ENTRY_KEYS(project, image, file) \
	"\"project\": \"" project "\", \"image\": \"" image "\", \"action\": \"pull+save\", " \
	"\"file\": \"" file "\", \"size\": 12345678, \"sha256\": \"" H64 "\", " \
	"\"docker_id\": \"sha256:" H64B "\", \"services\": [\"whoami\"], " \
	"\"archived_at\": \"2026-11-26T19:00:00+00:00\""
#define ENTRY(project, image, file) "{" ENTRY_KEYS(project, image, file) "}"
#define ONE(entry) "{\"images\": [" entry "]}"
/* A valid entry but for its size. */
#define ENTRY_NO_SIZE(v) \
	"{\"project\": \"p\", \"image\": \"i:1\", \"action\": \"pull+save\", \"file\": \"p/i_1.tar.gz\", " \
	"\"size\": " v ", \"sha256\": \"" H64 "\", \"docker_id\": \"sha256:" H64B "\", " \
	"\"services\": [], \"archived_at\": \"2026-11-26T19:00:00+00:00\"}"
/* An entry with project, image, file and size, then key: v. */
#define ENTRY_WITH(key, v) \
	"{\"project\": \"p\", \"image\": \"i:1\", \"file\": \"p/i_1.tar.gz\", " \
	"\"size\": 1, \"" key "\": " v "}"

struct parse_case {
	const char *name;
	const char *text;
	size_t count;		/* entries expected when err is NULL */
	const char *err;	/* substring of the message, or NULL: must load */
};

static const struct parse_case parse_cases[] = {
	{ "empty object", "{}", 0, NULL },
	{ "empty images", "{\"images\": []}", 0, NULL },
	{ "the documented example",
	  "{\n  \"archived_at\": \"2026-11-26T19:00:00+00:00\",\n  \"arch\": \"x86_64\",\n"
	  "  \"docker_context\": \"myserver\",\n  \"ssh_host\": \"user@host\",\n"
	  "  \"output_dir\": \"/path/to/_archive/images/x86_64\",\n  \"images\": [\n    "
	  ENTRY("whoami", "traefik/whoami:v1.11.0", "whoami/traefik_whoami_v1.11.0.tar.gz")
	  "\n  ]\n}\n", 1, NULL },
	{ "meta keys may be null", "{\"ssh_host\": null, \"docker_context\": null, \"images\": []}", 0, NULL },
	{ "unknown keys are accepted",
	  "{\"x\": {\"deep\": [1, 2.5, null]}, \"images\": [{\"note\": true, "
	  ENTRY_KEYS("p", "i:1", "p/i_1.tar.gz") "}]}", 1, NULL },
	{ "the same image under two projects",
	  "{\"images\": [" ENTRY("a", "i:1", "a/i_1.tar.gz") ", " ENTRY("b", "i:1", "b/i_1.tar.gz") "]}",
	  2, NULL },
	{ "size zero", "{\"images\": [" ENTRY_NO_SIZE("0") "]}", 1, NULL },
	{ "non-ASCII project and image are fine", ONE(ENTRY("caf\\u00e9", "\\u00e9:1", "p/x.tar.gz")), 1, NULL },

	{ "invalid JSON gives line and column",
	  "{\n  \"arch\": \"x86_64\",\n  \"images\": [,]\n}", 0, "invalid JSON at line 3, column 14: " },
	{ "truncated JSON", "{\"images\": [", 0, "invalid JSON at line 1" },
	{ "empty text", "", 0, "invalid JSON" },
	{ "trailing garbage", "{} x", 0, "invalid JSON" },
	{ "duplicate key", "{\"arch\": \"a\", \"arch\": \"b\"}", 0, "duplicate object key" },
	{ "NUL inside a string", "{\"arch\": \"a\\u0000b\"}", 0, "invalid JSON" },
	{ "top level is an array", "[]", 0, "the top level must be an object" },
	{ "images is not an array", "{\"images\": {}}", 0, "\"images\" must be an array" },
	{ "a meta key is a number", "{\"arch\": 64}", 0, "\"arch\" must be a string or null" },
	{ "an entry is not an object", "{\"images\": [1]}", 0, "images[0] must be an object" },
	{ "file is absolute", ONE(ENTRY("p", "i:1", "/etc/passwd")), 0,
	  "images[0] (project 'p', image 'i:1'): \"file\" '/etc/passwd' is absolute" },
	{ "file climbs out", ONE(ENTRY("p", "i:1", "../x.tar.gz")), 0, "leaves the archive folder (a '..' component)" },
	{ "file climbs out in the middle", ONE(ENTRY("p", "i:1", "p/../../x")), 0, "leaves the archive folder (a '..' component)" },
	{ "file is not a string",
	  "{\"images\": [{\"project\": \"p\", \"image\": \"i\", \"action\": \"pull+save\", \"file\": 7}]}",
	  0, "\"file\" must be a string" },
	{ "file is empty", ONE(ENTRY("p", "i:1", "")), 0, "\"file\" is empty" },
	{ "size is negative", "{\"images\": [" ENTRY_NO_SIZE("-1") "]}", 0, "\"size\" must be an integer >= 0" },
	{ "size is a real", "{\"images\": [" ENTRY_NO_SIZE("1.5") "]}", 0, "\"size\" must be an integer >= 0" },
	{ "size is a string", "{\"images\": [" ENTRY_NO_SIZE("\"1\"") "]}", 0, "\"size\" must be an integer" },
	{ "size too big for JSON integers", "{\"images\": [" ENTRY_NO_SIZE("99999999999999999999") "]}",
	  0, "invalid JSON" },
	{ "sha256 is short",
	  "{\"images\": [{\"project\": \"p\", \"image\": \"i\", \"action\": \"pull+save\", \"file\": \"f\", "
	  "\"size\": 1, \"sha256\": \"abc\"}]}", 0, "\"sha256\" must be 64 lowercase hex digits" },
	{ "sha256 is upper case",
	  "{\"images\": [{\"project\": \"p\", \"image\": \"i\", \"action\": \"pull+save\", \"file\": \"f\", "
	  "\"size\": 1, \"sha256\": \"" "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef" "\"}]}",
	  0, "\"sha256\" must be 64 lowercase hex digits" },
	{ "sha256 left out: not recorded, accepted (the image is archived again)",
	  "{\"images\": [{\"project\": \"p\", \"image\": \"i:1\", \"action\": \"pull+save\", "
	  "\"file\": \"p/i_1.tar.gz\", \"size\": 1, \"docker_id\": \"sha256:" H64B "\", "
	  "\"services\": [], \"archived_at\": \"2026-11-26T19:00:00+00:00\"}]}", 1, NULL },
	{ "sha256 null or empty: not recorded, accepted",
	  "{\"images\": [{\"project\": \"p\", \"image\": \"i:1\", \"action\": \"pull+save\", "
	  "\"file\": \"p/i_1.tar.gz\", \"size\": 1, \"sha256\": null, \"docker_id\": \"sha256:" H64B "\", "
	  "\"services\": [], \"archived_at\": \"2026-11-26T19:00:00+00:00\"}]}", 1, NULL },
	{ "sha256 of another type is refused",
	  "{\"images\": [{\"project\": \"p\", \"image\": \"i:1\", \"action\": \"pull+save\", "
	  "\"file\": \"p/i_1.tar.gz\", \"size\": 1, \"sha256\": 42}]}", 0,
	  "\"sha256\" must be 64 lowercase hex digits" },
	{ "docker_id without its algorithm",
	  "{\"images\": [{\"project\": \"p\", \"image\": \"i\", \"action\": \"build+save\", \"file\": \"f\", "
	  "\"size\": 1, \"sha256\": \"" H64 "\", \"docker_id\": \"" H64 "\"}]}", 0,
	  "\"docker_id\" must be \"sha256:\" and 64 lowercase hex digits" },
	{ "unknown action", ONE(ENTRY_WITH("action", "\"copy\"")), 0,
	  "\"action\" must be \"pull+save\" or \"build+save\" (got 'copy')" },
	{ "services is not an array",
	  "{\"images\": [{\"project\": \"p\", \"image\": \"i\", \"action\": \"pull+save\", \"file\": \"f\", "
	  "\"size\": 1, \"sha256\": \"" H64 "\", \"docker_id\": \"sha256:" H64 "\", \"services\": \"web\"}]}", 0,
	  "\"services\" must be an array of strings" },
	{ "services holds a number",
	  "{\"images\": [{\"project\": \"p\", \"image\": \"i\", \"action\": \"pull+save\", \"file\": \"f\", "
	  "\"size\": 1, \"sha256\": \"" H64 "\", \"docker_id\": \"sha256:" H64 "\", \"services\": [1]}]}", 0,
	  "\"services\" must be an array of strings" },
	{ "archived_at missing",
	  "{\"images\": [{\"project\": \"p\", \"image\": \"i\", \"action\": \"pull+save\", \"file\": \"f\", "
	  "\"size\": 1, \"sha256\": \"" H64 "\", \"docker_id\": \"sha256:" H64 "\", \"services\": []}]}", 0,
	  "\"archived_at\" must be a non-empty string" },
	{ "project missing", "{\"images\": [{\"image\": \"i\", \"services\": []}]}", 0,
	  "images[0]: \"project\" must be a non-empty string" },
	{ "project with a newline (a folder's name)", ONE(ENTRY("a\\nb", "i:1", "a_b/x.tar.gz")), 1, NULL },
	{ "empty project", ONE(ENTRY("", "i:1", "p/x.tar.gz")), 0, "\"project\" must be a non-empty string" },
	{ "image with a control character", ONE(ENTRY("p", "i\\n:1", "p/x.tar.gz")), 0,
	  "\"image\" must be a non-empty string without control characters" },
	{ "the same project and image twice",
	  "{\"images\": [" ENTRY("a", "i:1", "a/i_1.tar.gz") ", " ENTRY("b", "i:1", "b/i_1.tar.gz") ", "
	  ENTRY("a", "i:1", "a/other.tar.gz") "]}", 0,
	  "images[2] (project 'a', image 'i:1') repeats images[0]" },
};

static void check_parse(void **state)
{
	const struct parse_case *c = *state;
	struct manifest m = MANIFEST_INIT;
	struct strbuf err = STRBUF_INIT;
	size_t len = strlen(c->text);
	char *text = malloc(len ? len : 1);	/* no NUL after it: ASan sees overreads */
	int r;

	assert_non_null(text);
	memcpy(text, c->text, len);
	r = manifest_parse(&m, text, len, "/a/x86_64/manifest.json", &err);
	if (!c->err) {
		if (r != 0)
			fail_msg("%s", strbuf_str(&err));
		assert_int_equal(manifest_count(&m), c->count);
	} else {
		const char *msg = strbuf_str(&err);

		assert_int_equal(r, -1);
		assert_int_equal(manifest_count(&m), 0);
		if (!strstr(msg, c->err))
			fail_msg("error \"%s\" does not contain \"%s\"", msg, c->err);
		if (strncmp(msg, "manifest '/a/x86_64/manifest.json': ", 36) ||
		    !strstr(msg, "; fix it or run 'imgvault archive --rebuild-manifest'") ||
		    strchr(msg, '\n'))
			fail_msg("error \"%s\" is not in the one-line form", msg);
	}
	manifest_free(&m);
	strbuf_release(&err);
	free(text);
}

/*
 * Leniently (restore, verify, status): bad entries are set aside, each
 * with its own message, and the others load; a file that is not JSON is
 * still refused whole.
 */
struct lenient_case {
	const char *name;
	const char *text;	/* NULL: a key nested 100,000 arrays deep */
	size_t count;		/* entries loaded; NOT_LOADED: refused whole */
	size_t rejected;	/* entries set aside */
	const char *err;	/* in the first rejection, or in the error when refused whole */
	const char *err2;	/* in the second rejection, or NULL */
	long long size;		/* the size of entry (p, i:1) when loaded, or -1 */
};

#define NOT_LOADED ((size_t)-1)
#define GOOD_ENTRY ENTRY("q", "j:1", "q/j_1.tar.gz")
#define TWO(bad) "{\"images\": [" bad ", " GOOD_ENTRY "]}"
#define DIGITS100 "1000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"

static const struct lenient_case lenient_cases[] = {
	{ "all good", TWO(ENTRY("p", "i:1", "p/i_1.tar.gz")), 2, 0, NULL, NULL, 12345678 },
	{ "size 2^63 (past a JSON integer) is one absurd entry",
	  TWO(ENTRY_NO_SIZE("9223372036854775808")), 1, 1,
	  "images[0] (project 'p', image 'i:1'): \"size\" is absurd", NULL, -1 },
	{ "size 1e30 is one absurd entry", TWO(ENTRY_NO_SIZE("1e30")), 1, 1, "\"size\" is absurd",
	  NULL, -1 },
	{ "size of 300 digits is one absurd entry", TWO(ENTRY_NO_SIZE(DIGITS100 DIGITS100 DIGITS100)),
	  1, 1, "\"size\" is absurd", NULL, -1 },
	{ "size negative", TWO(ENTRY_NO_SIZE("-5")), 1, 1, "\"size\" must be an integer >= 0", NULL, -1 },
	{ "size a fraction", TWO(ENTRY_NO_SIZE("1.5")), 1, 1, "\"size\" must be an integer >= 0", NULL,
	  -1 },
	{ "a whole size written as a real is that size", TWO(ENTRY_NO_SIZE("1.2345678e7")), 2, 0, NULL,
	  NULL, 12345678 },
	{ "a repeat after a bad entry names the right indexes",
	  "{\"images\": [" ENTRY("p", "x:1", "../bad") ", " GOOD_ENTRY ", " GOOD_ENTRY "]}", 1, 2,
	  "images[0] (project 'p', image 'x:1'): \"file\" '../bad' leaves the archive folder",
	  "images[2] (project 'q', image 'j:1') repeats images[1]", -1 },
	{ "a file with ../ is one entry's error", TWO(ENTRY("p", "i:1", "p/../../etc/passwd")), 1, 1,
	  "leaves the archive folder (a '..' component)", NULL, -1 },
	{ "an absolute file is one entry's error", TWO(ENTRY("p", "i:1", "/etc/passwd")), 1, 1,
	  "is absolute", NULL, -1 },
	{ "not JSON is refused whole", "{\"images\": [", NOT_LOADED, 0, "invalid JSON", NULL, -1 },
	{ "nesting 100,000 deep is refused whole, not a crash", NULL, NOT_LOADED, 0,
	  "maximum parsing depth", NULL, -1 },
};

static void check_lenient(void **state)
{
	const struct lenient_case *c = *state;
	struct manifest m = MANIFEST_INIT;
	struct strlist rejected = STRLIST_INIT;
	struct strbuf err = STRBUF_INIT, text = STRBUF_INIT;
	const struct manifest_entry *e;
	int r;

	if (c->text) {
		strbuf_addstr(&text, c->text);
	} else {
		strbuf_addstr(&text, "{\"x\": ");
		for (int i = 0; i < 100000; i++)
			strbuf_addch(&text, '[');
		for (int i = 0; i < 100000; i++)
			strbuf_addch(&text, ']');
		strbuf_addstr(&text, ", \"images\": []}");
	}
	r = manifest_parse_lenient(&m, text.buf, text.len, "/a/x86_64/manifest.json", &rejected, &err);
	if (c->count == NOT_LOADED) {
		assert_int_equal(r, -1);
		if (!strstr(strbuf_str(&err), c->err))
			fail_msg("error \"%s\" does not contain \"%s\"", strbuf_str(&err), c->err);
	} else {
		if (r != 0)
			fail_msg("%s", strbuf_str(&err));
		assert_int_equal(manifest_count(&m), c->count);
		assert_int_equal(rejected.n, c->rejected);
		if (c->err && !strstr(rejected.items[0], c->err))
			fail_msg("rejection \"%s\" does not contain \"%s\"", rejected.items[0], c->err);
		if (c->err2 && !strstr(rejected.items[1], c->err2))
			fail_msg("rejection \"%s\" does not contain \"%s\"", rejected.items[1], c->err2);
		for (size_t i = 0; i < rejected.n; i++)
			assert_null(strchr(rejected.items[i], '\n'));
		if (c->size >= 0) {
			assert_non_null(e = manifest_find(&m, "p", "i:1"));
			assert_int_equal(e->size, c->size);
		}
	}
	manifest_free(&m);
	strlist_free(&rejected);
	strbuf_release(&err);
	strbuf_release(&text);
}

struct path_case {
	const char *name;
	const char *file;
	const char *err;	/* NULL: valid */
};

static const struct path_case path_cases[] = {
	{ "project and file", "a/b.tar.gz", NULL },
	{ "one component", "b.tar.zst", NULL },
	{ "dots inside names", "a.b/c..d.tar.gz", NULL },
	{ "hidden name", "a/.x", NULL },
	{ "absolute", "/abs", "is absolute" },
	{ "leading ..", "../x", "'..' component" },
	{ "inner ..", "a/../b", "'..' component" },
	{ "trailing ..", "a/..", "'..' component" },
	{ "double slash", "a//b", "empty path component" },
	{ "trailing slash", "a/", "empty path component" },
	{ "dot component", "a/./b", "'.' path component" },
	{ "just a dot", ".", "'.' path component" },
	{ "empty", "", "\"file\" is empty" },
	{ "space", "a/b c.tar.gz", "character outside" },
	{ "backslash", "a\\..\\b", "character outside" },
	{ "non-ASCII", "a/caf\xc3\xa9.tar.gz", "character outside" },
	{ "control character", "a/\n", "character outside" },
	{ "colon", "a/b:c", "character outside" },
	{ "component too long",
	  "a/0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
	  "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
	  "0123456789012345678901234567890123456789012345678901234567", "longer than 255 bytes" },
};

static void check_path(void **state)
{
	const struct path_case *c = *state;
	struct strbuf err = STRBUF_INIT;
	int r = manifest_file_valid(c->file, &err);

	if (!c->err) {
		if (r != 0)
			fail_msg("%s", strbuf_str(&err));
	} else {
		assert_int_equal(r, -1);
		if (!strstr(strbuf_str(&err), c->err))
			fail_msg("error \"%s\" does not contain \"%s\"", strbuf_str(&err), c->err);
		assert_null(strchr(strbuf_str(&err), '\n'));
	}
	strbuf_release(&err);
}

static const char *const web[] = { "web", "worker" };

static struct manifest_entry entry(const char *project, const char *image, const char *file)
{
	return (struct manifest_entry){
		.project = project, .image = image, .action = MANIFEST_ACTION_BUILD, .file = file,
		.size = 42, .sha256 = H64, .docker_id = "sha256:" H64B, .services = web,
		.nservices = 2, .archived_at = "2026-11-27T08:30:00+01:00",
	};
}

/* Unknown keys survive a replace and a save; output order and format are fixed. */
static void round_trip_keeps_unknown_keys(void **state)
{
	static const char in[] =
		"{\"images\": [" ENTRY("whoami", "traefik/whoami:v1.11.0",
				       "whoami/traefik_whoami_v1.11.0.tar.gz")
		", {\"zz_first\": 1, " ENTRY_KEYS("b", "x:1", "b/x_1.tar.gz") ", \"note\": {\"k\": [1, \"\\u00e9\"]}}],"
		" \"tool\": \"other\", \"arch\": \"x86_64\", \"extra\": null}";
	static const char want[] =
		"{\n"
		"  \"archived_at\": \"2026-11-27T08:30:00+01:00\",\n"
		"  \"arch\": \"aarch64\",\n"
		"  \"docker_context\": \"ctx\",\n"
		"  \"ssh_host\": null,\n"
		"  \"output_dir\": \"/o/aarch64\",\n"
		"  \"tool\": \"other\",\n"
		"  \"extra\": null,\n"
		"  \"images\": [\n"
		"    {\n"
		"      \"project\": \"a\",\n"
		"      \"image\": \"new:2\",\n"
		"      \"action\": \"build+save\",\n"
		"      \"file\": \"a/new_2.tar.zst\",\n"
		"      \"size\": 42,\n"
		"      \"sha256\": \"" H64 "\",\n"
		"      \"docker_id\": \"sha256:" H64B "\",\n"
		"      \"services\": [\n"
		"        \"web\",\n"
		"        \"worker\"\n"
		"      ],\n"
		"      \"archived_at\": \"2026-11-27T08:30:00+01:00\"\n"
		"    },\n"
		"    {\n"
		"      \"project\": \"b\",\n"
		"      \"image\": \"x:1\",\n"
		"      \"action\": \"build+save\",\n"
		"      \"file\": \"b/x_1.tar.gz\",\n"
		"      \"size\": 42,\n"
		"      \"sha256\": \"" H64 "\",\n"
		"      \"docker_id\": \"sha256:" H64B "\",\n"
		"      \"services\": [\n"
		"        \"web\",\n"
		"        \"worker\"\n"
		"      ],\n"
		"      \"archived_at\": \"2026-11-27T08:30:00+01:00\",\n"
		"      \"zz_first\": 1,\n"
		"      \"note\": {\n"
		"        \"k\": [\n"
		"          1,\n"
		"          \"\\u00E9\"\n"
		"        ]\n"
		"      }\n"
		"    },\n"
		"    {\n"
		"      \"project\": \"whoami\",\n"
		"      \"image\": \"traefik/whoami:v1.11.0\",\n"
		"      \"action\": \"pull+save\",\n"
		"      \"file\": \"whoami/traefik_whoami_v1.11.0.tar.gz\",\n"
		"      \"size\": 12345678,\n"
		"      \"sha256\": \"" H64 "\",\n"
		"      \"docker_id\": \"sha256:" H64B "\",\n"
		"      \"services\": [\n"
		"        \"whoami\"\n"
		"      ],\n"
		"      \"archived_at\": \"2026-11-26T19:00:00+00:00\"\n"
		"    }\n"
		"  ]\n"
		"}\n";
	struct manifest m = MANIFEST_INIT, again = MANIFEST_INIT;
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT, out2 = STRBUF_INIT;
	struct manifest_entry e = entry("b", "x:1", "b/x_1.tar.gz");

	(void)state;
	assert_int_equal(manifest_parse(&m, in, strlen(in), "in", &err), 0);
	assert_int_equal(manifest_put(&m, &e, &err), 0);
	e = entry("a", "new:2", "a/new_2.tar.zst");
	assert_int_equal(manifest_put(&m, &e, &err), 0);
	assert_int_equal(manifest_set_meta(&m, "2026-11-27T08:30:00+01:00", "aarch64", "ctx", NULL,
					   "/o/aarch64", &err), 0);
	assert_int_equal(manifest_dump(&m, &out, &err), 0);
	assert_string_equal(strbuf_str(&out), want);
	/* What was written reads back to the same text. */
	assert_int_equal(manifest_parse(&again, out.buf, out.len, "out", &err), 0);
	assert_int_equal(manifest_dump(&again, &out2, &err), 0);
	assert_string_equal(strbuf_str(&out2), want);
	assert_string_equal(manifest_meta(&again, "arch"), "aarch64");
	assert_null(manifest_meta(&again, "ssh_host"));
	manifest_free(&m);
	manifest_free(&again);
	strbuf_release(&err);
	strbuf_release(&out);
	strbuf_release(&out2);
}

static void same_image_in_two_projects(void **state)
{
	struct manifest m = MANIFEST_INIT;
	struct strbuf err = STRBUF_INIT;
	struct manifest_entry a = entry("a", "kv:2", "a/kv_2.tar.gz");
	struct manifest_entry b = entry("b", "kv:2", "b/kv_2.tar.gz");
	const struct manifest_entry *got;

	(void)state;
	assert_null(manifest_find(&m, "a", "kv:2"));
	assert_int_equal(manifest_put(&m, &a, &err), 0);
	assert_int_equal(manifest_put(&m, &b, &err), 0);
	assert_int_equal(manifest_count(&m), 2);
	assert_string_equal(manifest_find(&m, "a", "kv:2")->file, "a/kv_2.tar.gz");
	assert_string_equal(manifest_find(&m, "b", "kv:2")->file, "b/kv_2.tar.gz");
	assert_null(manifest_find(&m, "c", "kv:2"));

	/* Replace: same count, new values, put back from a view of itself. */
	a.size = 7;
	a.action = MANIFEST_ACTION_PULL;
	assert_int_equal(manifest_put(&m, &a, &err), 0);
	assert_int_equal(manifest_count(&m), 2);
	got = manifest_find(&m, "a", "kv:2");
	assert_int_equal(got->size, 7);
	assert_string_equal(got->action, "pull+save");
	assert_int_equal(got->nservices, 2);
	assert_string_equal(got->services[1], "worker");
	a = *got;
	a.size = 8;
	assert_int_equal(manifest_put(&m, &a, &err), 0);
	assert_int_equal(manifest_find(&m, "a", "kv:2")->size, 8);

	/* An invalid entry is refused and changes nothing. */
	b.file = "../escape.tar.gz";
	assert_int_equal(manifest_put(&m, &b, &err), -1);
	assert_non_null(strstr(strbuf_str(&err), "'..' component"));
	assert_string_equal(manifest_find(&m, "b", "kv:2")->file, "b/kv_2.tar.gz");
	strbuf_reset(&err);
	b.file = "b/kv_2.tar.gz";
	b.image = "bad\xff:1";
	assert_int_equal(manifest_put(&m, &b, &err), -1);
	assert_string_equal(strbuf_str(&err), "\"image\" is not valid UTF-8");
	assert_int_equal(manifest_count(&m), 2);

	/*
	 * Remove one, named by its own strings; a view of the other survives;
	 * the removed one can come back.
	 */
	got = manifest_find(&m, "b", "kv:2");
	a = *manifest_find(&m, "a", "kv:2");
	assert_int_equal(manifest_remove(&m, a.project, a.image), 1);
	assert_string_equal(got->file, "b/kv_2.tar.gz");
	assert_int_equal(manifest_remove(&m, "a", "kv:2"), 0);
	assert_null(manifest_find(&m, "a", "kv:2"));
	assert_string_equal(manifest_find(&m, "b", "kv:2")->project, "b");
	assert_int_equal(manifest_count(&m), 1);
	a = entry("a", "kv:2", "a/kv_2.tar.gz");
	assert_int_equal(manifest_put(&m, &a, &err), 0);
	assert_int_equal(manifest_count(&m), 2);
	assert_string_equal(manifest_find(&m, "a", "kv:2")->project, "a");
	assert_ptr_equal(manifest_find(&m, "b", "kv:2"), got);
	assert_string_equal(manifest_at(&m, 1)->project, "a");	/* put order kept */
	manifest_free(&m);
	strbuf_release(&err);
}

/* 1 when manifest.json is the only thing in dir (no temporary left behind). */
static int only_manifest_in(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0, ok = 1;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		n++;
		ok &= !strcmp(de->d_name, "manifest.json");
	}
	closedir(d);
	return ok && n == 1;
}

/* Save writes manifest.json atomically and load reads it back; a missing file is empty. */
static void save_and_load(void **state)
{
	char dir[] = "/tmp/imgvault-test-manifest.XXXXXX";
	struct manifest m = MANIFEST_INIT, back = MANIFEST_INIT;
	struct strbuf err = STRBUF_INIT, path = STRBUF_INIT, text = STRBUF_INIT;
	struct manifest_entry e = entry("whoami", "traefik/whoami:v1.11.0",
					"whoami/traefik_whoami_v1.11.0.tar.gz");

	(void)state;
	assert_non_null(mkdtemp(dir));
	strbuf_addf(&path, "%s/manifest.json", dir);
	assert_int_equal(manifest_load(&m, path.buf, &err), 0);
	assert_int_equal(manifest_count(&m), 0);
	assert_int_equal(manifest_put(&m, &e, &err), 0);
	assert_int_equal(manifest_save(&m, dir, &err), 0);
	assert_int_equal(manifest_load(&back, path.buf, &err), 0);
	assert_int_equal(manifest_count(&back), 1);
	assert_string_equal(manifest_at(&back, 0)->image, "traefik/whoami:v1.11.0");
	assert_int_equal(only_manifest_in(dir), 1);

	/* A broken file on disk is named in the message. */
	assert_int_equal(file_read_all(path.buf, 1 << 20, &text, &err), 0);
	{
		FILE *f = fopen(path.buf, "w");

		assert_non_null(f);
		fputs("{\"images\": [}\n", f);
		assert_int_equal(fclose(f), 0);
	}
	assert_int_equal(manifest_load(&back, path.buf, &err), -1);
	assert_non_null(strstr(strbuf_str(&err), path.buf));
	assert_non_null(strstr(strbuf_str(&err), "line 1, column 13"));
	assert_int_equal(manifest_count(&back), 0);

	/* Saving into a folder that is not there fails and says where. */
	strbuf_reset(&err);
	strbuf_reset(&text);
	strbuf_addf(&text, "%s/none", dir);
	assert_int_equal(manifest_save(&m, text.buf, &err), -1);
	assert_non_null(strstr(strbuf_str(&err), text.buf));

	unlink(path.buf);
	rmdir(dir);
	manifest_free(&m);
	manifest_free(&back);
	strbuf_release(&err);
	strbuf_release(&path);
	strbuf_release(&text);
}

int main(void)
{
	const struct CMUnitTest more[] = {
		cmocka_unit_test(round_trip_keeps_unknown_keys),
		cmocka_unit_test(same_image_in_two_projects),
		cmocka_unit_test(save_and_load),
	};
	int failed = TABLE_RUN("manifest_parse", parse_cases, check_parse);

	failed += TABLE_RUN("manifest_parse_lenient", lenient_cases, check_lenient);
	failed += TABLE_RUN("manifest_file_valid", path_cases, check_path);
	failed += cmocka_run_group_tests_name("manifest", more, NULL, NULL);
	return failed;
}
