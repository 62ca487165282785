/*
 * test_oom: the library when memory runs out. For each row, every
 * allocation the call under test makes is failed in turn, the Nth on the
 * Nth run, until a run makes no more than N-1. Each run must return
 * without crashing, and either fail with a message, or succeed with the
 * very result a run with nothing failed gives: never a value read wrong
 * (an image resolved without its .env-dist, a project left out, another
 * archive folder, an ssh port dropped for the default).
 *
 *   catalog_scan       a small tree per row; success may also come with a
 *                      project or entry reported as failed (then only every
 *                      entry must be whole: project, compose project,
 *                      service, and an image or an error)
 *   engine_host_resolve  -H URLs of each form
 *   layout_base_dir    --output-dir, IMAGE_ARCHIVE_DIR, <root>/.env_<context>
 *   imageref_parse     references with a registry, a port, a digest: never
 *                      one read as another (a registry dropped for docker.io)
 *   json_parse         the engine's answers and a manifest: never a document
 *                      with a string missing a character (plain json_loadb
 *                      of jansson 2.14 gives one: it drops the character it
 *                      could not append, and parses on)
 *   json_text          the same documents dumped as the manifest and the
 *                      reports are: never text missing a key (plain
 *                      json_dumps drops a key it could not append)
 *   unpack             a gzip and a zstd archive read back: never data
 *                      called corrupt when zlib could not allocate its
 *                      window
 *   manifest_find      with every allocation failing, still finds each
 *   manifest_remove    entry (a lookup once allocated its key, and under
 *                      out of memory archive took "no entry" and dropped
 *                      no old entry before replacing its file)
 *   verify_resolve     a manifest entry's file, there or not: never one
 *                      that is there called missing (an empty resolved
 *                      path once made restore say "[missing]")
 *
 * The allocator is this file's own malloc family, which hands every call
 * to glibc's (__libc_malloc…) and fails the chosen one while armed. Under
 * AddressSanitizer, whose allocator cannot be replaced, the tests skip.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "table.h"
#include "catalog/catalog.h"
#include "catalog/imageref.h"
#include "codec/unpack.h"
#include "engine/host.h"
#include "store/layout.h"
#include "store/manifest.h"
#include "store/verify.h"
#include "util/jsonsafe.h"

#if defined(__SANITIZE_ADDRESS__)
#define OOM_TESTABLE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define OOM_TESTABLE 0
#endif
#endif
#ifndef OOM_TESTABLE
#define OOM_TESTABLE 1
#endif

static long counted, fail_at;
static int armed;

#if OOM_TESTABLE
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

/* 1 when this allocation is the one to fail. */
static int failing(void)
{
	if (!armed || ++counted != fail_at)
		return 0;
	errno = ENOMEM;
	return 1;
}

void *malloc(size_t n)
{
	return failing() ? NULL : __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
	return failing() ? NULL : __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
	return n && failing() ? NULL : __libc_realloc(p, n);
}

void free(void *p)
{
	__libc_free(p);
}
#endif

/*
 * One call under test: 0 with its result described in out, or -1 with a
 * message in err; *partial set when it succeeded but reported a failed
 * part (then out need not match, but must be whole: the call checks). It
 * disarms the allocator before describing the result.
 */
typedef int (*call_fn)(const void *row, const char *dir, struct strbuf *out, struct strbuf *err,
		       int *partial);

/* Fail each allocation of call in turn; see the top of the file. */
static void sweep(const void *row, const char *dir, call_fn call)
{
	struct strbuf want = STRBUF_INIT, werr = STRBUF_INIT;
	int partial = 0;
	long runs = 0;

	if (call(row, dir, &want, &werr, &partial) < 0 || partial)
		fail_msg("with nothing failed: %s", strbuf_str(&werr));
	for (fail_at = 1;; fail_at++) {
		struct strbuf got = STRBUF_INIT, err = STRBUF_INIT;
		int ret;

		partial = 0;
		counted = 0;
		armed = 1;
		ret = call(row, dir, &got, &err, &partial);
		armed = 0;
		runs++;
		if (ret < 0 && !err.len)
			fail_msg("allocation %ld failed: an error without a message", fail_at);
		if (ret == 0 && !partial && strcmp(strbuf_str(&got), strbuf_str(&want)))
			fail_msg("allocation %ld failed, nothing said so, and the result differs:\n%s"
				 "\n--- instead of:\n%s", fail_at, strbuf_str(&got), strbuf_str(&want));
		strbuf_release(&got);
		strbuf_release(&err);
		if (counted < fail_at)	/* nothing failed: the sweep is complete */
			break;
	}
	assert_true(runs > 1);	/* at least one allocation was failed */
	strbuf_release(&want);
	strbuf_release(&werr);
}

struct file {
	const char *path;	/* under the folder */
	const char *text;
};

/* Write files under dir, making their folders. */
static void write_files(const char *dir, const struct file *files, size_t n)
{
	for (size_t i = 0; i < n && files[i].path; i++) {
		struct strbuf path = STRBUF_INIT;
		FILE *f;

		strbuf_addf(&path, "%s/%s", dir, files[i].path);
		for (char *s = path.buf + strlen(dir) + 1; (s = strchr(s, '/')); s++) {
			*s = '\0';
			mkdir(path.buf, 0755);
			*s = '/';
		}
		f = fopen(path.buf, "w");
		assert_non_null(f);
		fputs(files[i].text, f);
		assert_int_equal(fclose(f), 0);
		strbuf_release(&path);
	}
}

static void remove_dir(const char *dir)
{
	struct strbuf cmd = STRBUF_INIT;

	strbuf_addf(&cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd.buf), 0);
	strbuf_release(&cmd);
}

/* A fresh folder with the files, the sweep, and the folder removed. */
static void sweep_in_folder(const void *row, const struct file *files, size_t nfiles, call_fn call)
{
	char dir[] = "/tmp/imgvault-test-oom.XXXXXX";

	if (!OOM_TESTABLE)
		skip();
	assert_non_null(mkdtemp(dir));
	write_files(dir, files, nfiles);
	sweep(row, dir, call);
	remove_dir(dir);
}

/* ---- catalog_scan ------------------------------------------------------ */

struct catalog_row {
	const char *name;
	struct file files[6];
};

static const struct catalog_row catalog_rows[] = {
	{ "a build with image: and a pull, its tag from .env-dist",
	  { { "app/docker-compose.yaml", "services:\n  app:\n    build: .\n    image: local/app:1\n" },
	    { "app/Dockerfile", "FROM base:1\nRUN echo app\n" },
	    { "kv/docker-compose.yaml", "services:\n  kv:\n    image: reg.example/kv:${KV_VERSION:-0}\n" },
	    { "kv/.env-dist", "KV_VERSION=1.2\n" } } },
	{ "a build without image:, args, a target, profiles, an env var",
	  { { "web/docker-compose.yaml",
	      "name: Web\nservices:\n  svc:\n    build:\n      context: ctx\n      args:\n"
	      "        BASE: ${BASE_IMAGE:-base}\n        EMPTY:\n      target: final\n"
	      "    profiles: [a, b]\n  db:\n    image: ${DB_IMAGE}\n" },
	    { "web/ctx/Dockerfile", "ARG BASE=x\nFROM ${BASE}:1 AS build\nFROM scratch AS final\n" },
	    { "web/.env-dist", "BASE_IMAGE=base\nDB_IMAGE=postgres:16\n" } } },
	{ "anchors, merge keys and an error entry",
	  { { "x/compose.yaml",
	      "x-common: &c\n  image: busybox:1\nservices:\n  one:\n    <<: *c\n  two:\n    <<: *c\n"
	      "  three:\n    image: ${MISSING:?set it}\n" } } },
};

static void count_error(void *ctx, const char *msg)
{
	(void)msg;
	(*(int *)ctx)++;
}

static void quiet(void *ctx, const char *msg)
{
	(void)ctx;
	(void)msg;
}

static int scan_call(const void *row, const char *dir, struct strbuf *out, struct strbuf *err,
		     int *partial)
{
	int errors = 0;
	struct catalog_report rep = { quiet, count_error, &errors };
	struct catalog_options opt = { .root = dir, .build_tag = "t1", .report = &rep };
	struct catalog c;
	int ret;

	(void)row;
	ret = catalog_scan(&c, &opt, err);
	armed = 0;
	for (size_t i = 0; ret == 0 && i < c.n; i++) {
		const struct catalog_entry *e = &c.entries[i];

		if (!e->project || !e->compose_project || !e->service || !e->image == !e->error)
			fail_msg("allocation %ld failed: entry %zu of %zu is not whole (project %s, "
				 "service %s, image %s, error %s)", fail_at, i, c.n,
				 e->project ? e->project : "-", e->service ? e->service : "-",
				 e->image ? e->image : "-", e->error ? e->error : "-");
		strbuf_addf(out, "%s/%s=%s%s\n", e->project, e->service, e->image ? "" : "!",
			    e->image ? e->image : e->error);
	}
	*partial = errors > 0;
	catalog_free(&c);
	return ret;
}

static void test_catalog(void **state)
{
	const struct catalog_row *r = *state;

	sweep_in_folder(r, r->files, 6, scan_call);
}

/* ---- engine_host_resolve -------------------------------------------------- */

struct host_row {
	const char *name;
	const char *flag;
};

static const struct host_row host_rows[] = {
	{ "a unix socket", "unix:///run/engine.sock" },
	{ "tcp without a port", "tcp://engine" },
	{ "ssh with a user and a port", "ssh://root@box:2222" },
	{ "ssh with a host only", "ssh://box" },
};

static int host_call(const void *row, const char *dir, struct strbuf *out, struct strbuf *err,
		     int *partial)
{
	const struct host_row *r = row;
	struct host_env env = { .docker_config = dir, .home = dir };
	struct engine_host h = { 0 };
	int ret = engine_host_resolve(&h, r->flag, &env, err);

	armed = 0;
	(void)partial;
	if (ret == 0)
		strbuf_addf(out, "%s %d %s %s", h.url ? h.url : "-", (int)h.scheme,
			    h.address ? h.address : "-", h.ssh_port ? h.ssh_port : "-");
	engine_host_free(&h);
	return ret;
}

static void test_host(void **state)
{
	sweep_in_folder(*state, NULL, 0, host_call);
}

/* ---- layout_base_dir ---------------------------------------------------------- */

struct base_row {
	const char *name;
	const char *output_dir, *env, *context;
	struct file files[2];	/* under the root */
};

static const struct base_row base_rows[] = {
	{ "--output-dir, relative", "backups/images", NULL, NULL, { { NULL, NULL } } },
	{ "IMAGE_ARCHIVE_DIR", NULL, "/srv/archive", NULL, { { NULL, NULL } } },
	{ "IMAGE_ARCHIVE_DIR= in <root>/.env_prod", NULL, NULL, "prod",
	  { { ".env_prod", "IMAGE_ARCHIVE_DIR=/mnt/backup/images\n" } } },
	{ "a context with no env file: <root>/_archive/images", NULL, NULL, "other",
	  { { NULL, NULL } } },
};

static int base_call(const void *row, const char *dir, struct strbuf *out, struct strbuf *err,
		     int *partial)
{
	const struct base_row *r = row;
	struct layout_base_in in = { r->output_dir, r->env, dir, r->context };
	struct strbuf got = STRBUF_INIT;
	int ret = layout_base_dir(&in, &got, err);

	armed = 0;
	(void)partial;
	/* The result names the temporary root: compare what follows it. */
	if (ret == 0)
		strbuf_addstr(out, strncmp(strbuf_str(&got), dir, strlen(dir)) ? strbuf_str(&got)
			      : strbuf_str(&got) + strlen(dir));
	strbuf_release(&got);
	return ret;
}

static void test_base(void **state)
{
	const struct base_row *r = *state;

	sweep_in_folder(r, r->files, 2, base_call);
}

/* ---- imageref_parse ------------------------------------------------------------ */

struct ref_row {
	const char *name;
	const char *ref;
};

static const struct ref_row ref_rows[] = {
	{ "a registry with a port", "127.0.0.1:5000/demo/kv:1" },
	{ "a registry host and a digest",
	  "registry.example.com/team/app@sha256:2a837c21f13ad1571d0a7fd3397313465e635d558a4577cd8b528aea7ed1e6a4" },
	{ "a Docker Hub name", "library/busybox:1.36" },
};

static int ref_call(const void *row, const char *dir, struct strbuf *out, struct strbuf *err,
		    int *partial)
{
	const struct ref_row *r = row;
	struct imageref ir = { 0 };
	int ret = imageref_parse(r->ref, &ir, err);

	armed = 0;
	(void)dir;
	(void)partial;
	if (ret == 0)
		strbuf_addf(out, "%s %s %s %s", ir.registry, ir.path, ir.tag ? ir.tag : "-",
			    ir.digest ? ir.digest : "-");
	imageref_free(&ir);
	return ret;
}

static void test_ref(void **state)
{
	sweep_in_folder(*state, NULL, 0, ref_call);
}

/* ---- json_parse ---------------------------------------------------------------- */

struct json_row {
	const char *name;
	const char *text;
};

static const struct json_row json_rows[] = {
	{ "an image inspect answer",
	  "{\"Id\":\"sha256:2a837c21f13a9e0d3a6c4b2f8e1d5c7a9b0e3f6d2c8a1b4e7f0d3c6a9b2e5f8d1\","
	  "\"RepoTags\":[\"local/app:1\",\"127.0.0.1:5000/demo/kv:2.1\"],\"Size\":1048576}" },
	{ "a build stream message", "{\"aux\":{\"ID\":\"sha256:904bd14acbec0123456789abcdef\"}}" },
	{ "a manifest entry with escapes",
	  "{\"images\":[{\"project\":\"web\\u00e9\",\"file\":\"web/a_b_1.tar.gz\","
	  "\"services\":[\"x\",\"y\"],\"size\":1.5e3,\"archived_at\":\"2026-11-27T04:30:00Z\"}]}" },
};

static int json_call(const void *row, const char *dir, struct strbuf *out, struct strbuf *err,
		     int *partial)
{
	const struct json_row *r = row;
	json_error_t je;
	json_t *v = json_parse(r->text, strlen(r->text), 0, &je);
	int oom = errno == ENOMEM;
	char *text;

	armed = 0;
	(void)dir;
	(void)partial;
	if (!v) {
		strbuf_addstr(err, oom ? "out of memory" : je.text);
		return -1;
	}
	text = json_dumps(v, JSON_SORT_KEYS | JSON_COMPACT);
	strbuf_addstr(out, text ? text : "(cannot dump)");
	free(text);
	json_decref(v);
	return 0;
}

static void test_json(void **state)
{
	sweep_in_folder(*state, NULL, 0, json_call);
}

static int dump_call(const void *row, const char *dir, struct strbuf *out, struct strbuf *err,
		     int *partial)
{
	const struct json_row *r = row;
	int was = armed;
	json_t *v;
	char *text;

	(void)dir;
	(void)partial;
	armed = 0;	/* only the dump is under test */
	v = json_loads(r->text, 0, NULL);
	assert_non_null(v);
	armed = was;
	text = json_text(v, JSON_INDENT(2) | JSON_ENSURE_ASCII);
	armed = 0;
	json_decref(v);
	if (!text) {
		strbuf_addstr(err, errno == ENOMEM ? "out of memory" : "no text, and no reason");
		return -1;
	}
	strbuf_addstr(out, text);
	free(text);
	return 0;
}

static void test_dump(void **state)
{
	sweep_in_folder(*state, NULL, 0, dump_call);
}

/* ---- verify_resolve ----------------------------------------------------------- */

struct resolve_row {
	const char *name;
	const char *file;	/* the manifest's "file" */
	struct file files[2];	/* under the archive folder */
};

static const struct resolve_row resolve_rows[] = {
	{ "a file that is there", "app/local_app_1.tar.gz",
	  { { "app/local_app_1.tar.gz", "x" } } },
	{ "a file that is not there", "app/local_app_2.tar.gz",
	  { { "app/local_app_1.tar.gz", "x" } } },
	{ "a project folder that is not there", "kv/kv_1.tar.zst", { { "app/a.tar.gz", "x" } } },
};

static int resolve_call(const void *row, const char *dir, struct strbuf *out, struct strbuf *err,
			int *partial)
{
	static const char *const names[] = { [VERIFY_OK] = "ok", [VERIFY_MISSING] = "missing" };
	const struct resolve_row *r = row;
	struct strbuf got = STRBUF_INIT, why = STRBUF_INIT;
	int was = armed;
	char real[PATH_MAX];
	enum verify_status st;

	(void)partial;
	armed = 0;
	assert_non_null(realpath(dir, real));
	armed = was;
	st = verify_resolve(real, r->file, &got, &why);
	armed = 0;
	if (st != VERIFY_OK && st != VERIFY_MISSING) {
		strbuf_addstr(err, strbuf_str(&why));
		strbuf_release(&got);
		strbuf_release(&why);
		return -1;
	}
	/* The resolved path names the temporary folder: compare what follows it. */
	strbuf_addf(out, "%s '%s'", names[st],
		    strncmp(strbuf_str(&got), real, strlen(real)) ? strbuf_str(&got)
		    : strbuf_str(&got) + strlen(real));
	strbuf_release(&got);
	strbuf_release(&why);
	return 0;
}

static void test_resolve(void **state)
{
	const struct resolve_row *r = *state;

	sweep_in_folder(r, r->files, 2, resolve_call);
}

/* ---- unpack ------------------------------------------------------------------- */

struct unpack_row {
	const char *name;
	int zstd;		/* else gzip */
	int lines;		/* of text the archive holds: more than one read's worth */
};

static const struct unpack_row unpack_rows[] = {
	{ "a gzip archive", 0, 20000 },
	{ "a zstd archive", 1, 20000 },
};

/* The row's archive in dir, made once, with the allocator disarmed. */
static void write_archive(const struct unpack_row *r, const char *path)
{
	struct strbuf text = STRBUF_INIT;
	FILE *f;

	if (access(path, F_OK) == 0)
		return;
	/* Lines that do not repeat soon, so the stream refers back across reads. */
	for (int i = 0; i < r->lines; i++)
		strbuf_addf(&text, "line %d\n", (int)((long)i * 7919 % 100003));
	if (r->zstd) {
		size_t cap = ZSTD_compressBound(text.len), n;
		char *out = malloc(cap);

		assert_non_null(out);
		n = ZSTD_compress(out, cap, text.buf, text.len, 3);
		assert_false(ZSTD_isError(n));
		f = fopen(path, "wb");
		assert_non_null(f);
		assert_int_equal(fwrite(out, 1, n, f), n);
		assert_int_equal(fclose(f), 0);
		free(out);
	} else {
		gzFile gz = gzopen(path, "wb");

		assert_non_null(gz);
		assert_int_equal(gzwrite(gz, text.buf, (unsigned)text.len), (int)text.len);
		assert_int_equal(gzclose(gz), Z_OK);
	}
	strbuf_release(&text);
}

static int unpack_call(const void *row, const char *dir, struct strbuf *out, struct strbuf *err,
		       int *partial)
{
	const struct unpack_row *r = row;
	struct strbuf path = STRBUF_INIT, got = STRBUF_INIT;
	int was = armed, ret = 0;
	struct unpack *u;
	char buf[4096];
	ssize_t n;

	(void)partial;
	armed = 0;
	strbuf_addf(&path, "%s/a.tar.%s", dir, r->zstd ? "zst" : "gz");
	write_archive(r, path.buf);
	armed = was;
	u = unpack_open(path.buf, err);
	if (!u)
		ret = -1;
	while (u && (n = unpack_read(u, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			strbuf_addstr(err, unpack_error(u));
			ret = -1;
			break;
		}
		armed = 0;	/* only unpack is under test */
		strbuf_add(&got, buf, (size_t)n);
		armed = was;
	}
	unpack_close(u);
	armed = 0;
	if (ret == 0)
		strbuf_addstr(out, strbuf_str(&got));
	/* An archive this small is never really damaged: only memory can fail. */
	if (ret < 0 && !strstr(strbuf_str(err), "memory"))
		fail_msg("allocation %ld failed, and the reason does not say so: %s", fail_at,
			 strbuf_str(err));
	strbuf_release(&path);
	strbuf_release(&got);
	return ret;
}

static void test_unpack(void **state)
{
	sweep_in_folder(*state, NULL, 0, unpack_call);
}

/* ---- manifest_find, manifest_remove ------------------------------------------- */

struct lookup_row {
	const char *name;
	const char *project, *image;
};

static const struct lookup_row lookup_rows[] = {
	{ "a short name", "web", "traefik/whoami:v1.11.0" },
	{ "a project with spaces, a registry with a port", "my project",
	  "127.0.0.1:5000/demo/kv:1" },
};

static void test_lookup(void **state)
{
	const struct lookup_row *r = *state;
	struct manifest m = MANIFEST_INIT;
	struct strbuf text = STRBUF_INIT, err = STRBUF_INIT;
	static const char hex[] = "0000000000000000000000000000000000000000000000000000000000000000";

	if (!OOM_TESTABLE)
		skip();
	for (int i = 0; i < 2; i++)
		strbuf_addf(&text, "%s{\"project\": \"%s\", \"image\": \"%s\", "
			    "\"action\": \"pull+save\", \"file\": \"%s/x.tar.gz\", \"size\": 1, "
			    "\"sha256\": \"%s\", \"docker_id\": \"sha256:%s\", \"services\": [], "
			    "\"archived_at\": \"2026-11-27T08:30:00+00:00\"}%s",
			    i ? ", " : "{\"images\": [", i ? r->project : "other", r->image,
			    i ? "p" : "other", hex, hex, i ? "]}" : "");
	if (manifest_parse(&m, text.buf, text.len, "t", &err) < 0)
		fail_msg("%s", strbuf_str(&err));
	/* Every allocation from here on fails. */
	for (fail_at = 1; fail_at <= 3; fail_at++) {
		const struct manifest_entry *e;

		counted = 0;
		armed = 1;
		e = manifest_find(&m, r->project, r->image);
		armed = 0;
		assert_non_null(e);
		assert_string_equal(e->file, "p/x.tar.gz");
	}
	counted = 0;
	fail_at = 1;
	armed = 1;
	assert_int_equal(manifest_remove(&m, r->project, r->image), 1);
	armed = 0;
	assert_null(manifest_find(&m, r->project, r->image));
	assert_non_null(manifest_find(&m, "other", r->image));
	manifest_free(&m);
	strbuf_release(&text);
	strbuf_release(&err);
}

int main(void)
{
	int failed = TABLE_RUN("catalog_scan with each allocation failing", catalog_rows,
			       test_catalog);

	failed += TABLE_RUN("engine_host_resolve with each allocation failing", host_rows,
			    test_host);
	failed += TABLE_RUN("layout_base_dir with each allocation failing", base_rows, test_base);
	failed += TABLE_RUN("imageref_parse with each allocation failing", ref_rows, test_ref);
	failed += TABLE_RUN("json_parse with each allocation failing", json_rows, test_json);
	failed += TABLE_RUN("json_text with each allocation failing", json_rows, test_dump);
	failed += TABLE_RUN("unpack with each allocation failing", unpack_rows, test_unpack);
	failed += TABLE_RUN("manifest lookups with allocations failing", lookup_rows, test_lookup);
	failed += TABLE_RUN("verify_resolve with each allocation failing", resolve_rows,
			    test_resolve);
	return failed;
}
