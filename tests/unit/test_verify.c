/*
 * test_verify: store/verify — classifying a file against its entry
 * (size, then sha256), which folder entries can be orphans, where a
 * manifest "file" resolves (symlinks inside followed, anything leading
 * out refused, dangling ones included), the orphans of an arch folder,
 * one entry checked end to end, and the deep reader on small docker save
 * streams built here (both layouts; cut, damaged, or lying ones), one row
 * a case. The folder rows run in a temporary folder made in main; "@" in
 * an expected path stands for its arch folder.
 */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <ftw.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "table.h"
#include "codec/sha256.h"
#include "store/verify.h"

#define H0 "0000000000000000000000000000000000000000000000000000000000000000"
#define H1 "1111111111111111111111111111111111111111111111111111111111111111"

static char top[] = "/tmp/imgvault-test-verify.XXXXXX";
static struct strbuf arch = STRBUF_INIT;	/* <top>/arch, a realpath */

/* ---- verify_compare -------------------------------------------------------- */

struct compare_case {
	const char *name;
	long long want_size;
	const char *want_sha;
	unsigned long long got_size;
	const char *got_sha;
	enum verify_status status;
	const char *why;	/* exactly, "" when ok */
};

static const struct compare_case compare_cases[] = {
	{ "size and sha256 equal", 10, H0, 10, H0, VERIFY_OK, "" },
	{ "sha256 differs", 10, H0, 10, H1, VERIFY_MISMATCH,
	  "sha256 expected " H0 ", got " H1 },
	{ "shorter file", 10, H0, 7, NULL, VERIFY_MISMATCH, "size expected 10, got 7" },
	{ "longer file", 10, H0, 12, H0, VERIFY_MISMATCH, "size expected 10, got 12" },
	{ "size is checked before sha256", 10, H0, 7, H1, VERIFY_MISMATCH,
	  "size expected 10, got 7" },
	{ "empty file recorded as empty", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	  0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", VERIFY_OK, "" },
	{ "no sha256 recorded", 10, "", 10, H1, VERIFY_MISMATCH,
	  "the manifest records no sha256 (the file's is " H1 ")" },
	{ "not hashed", 10, H0, 10, NULL, VERIFY_MISMATCH, "sha256 expected " H0 ", got nothing" },
};

static void test_compare(void **state)
{
	const struct compare_case *c = *state;
	struct strbuf why = STRBUF_INIT;

	assert_int_equal(verify_compare(c->want_size, c->want_sha, c->got_size, c->got_sha, &why),
			 c->status);
	assert_string_equal(strbuf_str(&why), c->why);
	strbuf_release(&why);
}

/* ---- verify_orphan_name ------------------------------------------------------ */

struct orphan_name_case {
	const char *name;
	const char *entry;
	int want;
};

static const struct orphan_name_case orphan_name_cases[] = {
	{ "gzip archive", "traefik_whoami_v1.11.0.tar.gz", 1 },
	{ "zstd archive", "x.tar.zst", 1 },
	{ "temporary of an archive run", ".x.tar.gz.tmp-a1B2c3", 0 },
	{ "hidden archive", ".x.tar.gz", 0 },
	{ "the lock file", ".imgvault.lock", 0 },
	{ "the manifest", "manifest.json", 0 },
	{ "plain tar", "x.tar", 0 },
	{ "gzip without tar", "x.gz", 0 },
	{ "suffix alone", ".tar.gz", 0 },
	{ "suffix in the middle", "x.tar.gz.bak", 0 },
	{ "upper case suffix", "x.TAR.GZ", 0 },
};

static void test_orphan_name(void **state)
{
	const struct orphan_name_case *c = *state;

	assert_int_equal(verify_orphan_name(c->entry), c->want);
}

/* ---- the fixture folder ------------------------------------------------------ */

static void put(const char *rel, const char *text)
{
	struct strbuf p = STRBUF_INIT;
	FILE *f;

	strbuf_addf(&p, "%s/%s", top, rel);
	f = fopen(p.buf, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		abort();
	strbuf_release(&p);
}

static void folder(const char *rel)
{
	struct strbuf p = STRBUF_INIT;

	strbuf_addf(&p, "%s/%s", top, rel);
	if (mkdir(p.buf, 0755) < 0)
		abort();
	strbuf_release(&p);
}

/* A symlink at rel; "@@" in target stands for top. */
static void link_to(const char *rel, const char *target)
{
	struct strbuf p = STRBUF_INIT, t = STRBUF_INIT;
	const char *at = strstr(target, "@@");

	strbuf_addf(&p, "%s/%s", top, rel);
	if (at) {
		strbuf_add(&t, target, (size_t)(at - target));
		strbuf_addf(&t, "%s%s", top, at + 2);
	} else {
		strbuf_addstr(&t, target);
	}
	if (symlink(t.buf, p.buf) < 0)
		abort();
	strbuf_release(&p);
	strbuf_release(&t);
}

static void make_fixture(void)
{
	char *real;

	folder("arch");
	folder("outside");
	put("outside/x.tar.gz", "outside\n");
	folder("arch/web");
	folder("arch/db");
	folder("arch/cache");
	put("arch/web/a.tar.gz", "archive a\n");
	put("arch/web/b.tar.gz", "orphan b\n");
	put("arch/web/c.tar.zst", "orphan c\n");
	put("arch/web/.c.tar.zst.tmp-x1y2z3", "temporary\n");
	put("arch/web/.hidden.tar.gz", "hidden\n");
	put("arch/web/readme.txt", "not an archive\n");
	folder("arch/web/dir.tar.gz");
	put("arch/db/d.tar.gz", "archive d\n");
	put("arch/db/e.tar.gz", "orphan e\n");
	put("arch/top.tar.gz", "not in a project folder\n");
	put("arch/.imgvault.lock", "");
	put("arch/manifest.json", "{}\n");
	put("arch/not-a-folder", "a file\n");
	put("arch/cache/.keep", "");
	link_to("arch/web/in.tar.gz", "a.tar.gz");
	link_to("arch/web/up.tar.gz", "../db/d.tar.gz");
	link_to("arch/web/out.tar.gz", "@@/outside/x.tar.gz");
	link_to("arch/web/dangle-in.tar.gz", "gone.tar.gz");
	link_to("arch/web/dangle-out.tar.gz", "/nonexistent/y.tar.gz");
	link_to("arch/web/dangle-rel-out.tar.gz", "../../outside/none.tar.gz");
	link_to("arch/evil", "@@/outside");
	link_to("arch/alias", "web");
	real = realpath(top, NULL);
	if (!real)
		abort();
	strbuf_addf(&arch, "%s/arch", real);
	free(real);
}

/* ---- verify_resolve ------------------------------------------------------------ */

struct resolve_case {
	const char *name;
	const char *file;
	enum verify_status status;
	const char *want;	/* VERIFY_OK: the path, "@" for the arch folder; else in why */
};

static const struct resolve_case resolve_cases[] = {
	{ "a file", "web/a.tar.gz", VERIFY_OK, "@/web/a.tar.gz" },
	{ "a symlink inside is followed", "web/in.tar.gz", VERIFY_OK, "@/web/a.tar.gz" },
	{ "a symlink into another project folder", "web/up.tar.gz", VERIFY_OK, "@/db/d.tar.gz" },
	{ "through a folder symlink inside", "alias/a.tar.gz", VERIFY_OK, "@/web/a.tar.gz" },
	{ "no such file", "web/none.tar.gz", VERIFY_MISSING, "" },
	{ "no such project folder", "nope/x.tar.gz", VERIFY_MISSING, "" },
	{ "a file where a folder should be", "not-a-folder/x.tar.gz", VERIFY_MISSING, "" },
	{ "a dangling symlink inside", "web/dangle-in.tar.gz", VERIFY_MISSING, "" },
	{ "a symlink out", "web/out.tar.gz", VERIFY_CORRUPT,
	  "resolves outside the archive folder (to '" },
	{ "a folder symlink out", "evil/x.tar.gz", VERIFY_CORRUPT, "/outside/x.tar.gz'); not read" },
	{ "a folder symlink out, file missing there", "evil/none.tar.gz", VERIFY_CORRUPT,
	  "/outside'); not read" },
	{ "a dangling absolute symlink out", "web/dangle-out.tar.gz", VERIFY_CORRUPT,
	  "(to '/nonexistent/y.tar.gz')" },
	{ "a dangling relative symlink out", "web/dangle-rel-out.tar.gz", VERIFY_CORRUPT,
	  "/outside/none.tar.gz')" },
	{ "'..'", "../outside/x.tar.gz", VERIFY_CORRUPT, "leaves the archive folder" },
	{ "'..' inside the path", "web/../../outside/x.tar.gz", VERIFY_CORRUPT,
	  "leaves the archive folder" },
	{ "absolute", "/etc/passwd", VERIFY_CORRUPT, "is absolute" },
	{ "empty", "", VERIFY_CORRUPT, "\"file\" is empty" },
	{ "a '.' component", "web/./a.tar.gz", VERIFY_CORRUPT, "'.' path component" },
	{ "an empty component", "web//a.tar.gz", VERIFY_CORRUPT, "empty path component" },
	{ "a control character", "web/a\n.tar.gz", VERIFY_CORRUPT, "a character outside" },
};

static void test_resolve(void **state)
{
	const struct resolve_case *c = *state;
	struct strbuf out = STRBUF_INIT, why = STRBUF_INIT, want = STRBUF_INIT;

	assert_int_equal(verify_resolve(arch.buf, c->file, &out, &why), c->status);
	if (c->status == VERIFY_OK) {
		strbuf_addf(&want, "%s%s", arch.buf, c->want + 1);
		assert_string_equal(strbuf_str(&out), want.buf);
		assert_int_equal(why.len, 0);
	} else {
		assert_int_equal(out.len, 0);
		if (!strstr(strbuf_str(&why), c->want))
			fail_msg("why '%s' lacks '%s'", strbuf_str(&why), c->want);
	}
	strbuf_release(&out);
	strbuf_release(&why);
	strbuf_release(&want);
}

/* ---- verify_find_orphans ------------------------------------------------------- */

static const char orphan_manifest[] =
	"{\"images\": ["
	"{\"project\": \"web\", \"image\": \"a:1\", \"action\": \"pull+save\", "
	"\"file\": \"web/a.tar.gz\", \"size\": 10, \"sha256\": \"" H0 "\", "
	"\"docker_id\": \"sha256:" H0 "\", \"services\": [], \"archived_at\": \"x\"},"
	"{\"project\": \"db\", \"image\": \"d:1\", \"action\": \"pull+save\", "
	"\"file\": \"db/d.tar.gz\", \"size\": 10, \"sha256\": \"" H0 "\", "
	"\"docker_id\": \"sha256:" H0 "\", \"services\": [], \"archived_at\": \"x\"},"
	"{\"project\": \"other\", \"image\": \"e:1\", \"action\": \"pull+save\", "
	"\"file\": \"db/e.tar.gz\", \"size\": 10, \"sha256\": \"" H0 "\", "
	"\"docker_id\": \"sha256:" H0 "\", \"services\": [], \"archived_at\": \"x\"}"
	"]}";

/* web/'s archive-named files (and symlinks) but a.tar.gz, sorted. */
#define WEB_ORPHANS "web/b.tar.gz|web/c.tar.zst|web/dangle-in.tar.gz|web/dangle-out.tar.gz|" \
	"web/dangle-rel-out.tar.gz|web/in.tar.gz|web/out.tar.gz|web/up.tar.gz"

struct orphans_case {
	const char *name;
	const char *projects[3];	/* NULL-terminated; none: all */
	int named;			/* the manifest above (else an empty one) */
	const char *want;		/* the orphans, '|' between */
};

static const struct orphans_case orphans_cases[] = {
	{ "every project folder, sorted; symlinks too", { NULL }, 1, WEB_ORPHANS },
	{ "a file another project's entry names is no orphan", { "db", NULL }, 1, "" },
	{ "one project", { "web", NULL }, 1, WEB_ORPHANS },
	{ "a project with no folder", { "nope", NULL }, 1, "" },
	{ "a folder symlink is not a project folder", { "alias", "evil", NULL }, 1, "" },
	{ "no entries: every archive file",
	  { NULL }, 0, "db/d.tar.gz|db/e.tar.gz|web/a.tar.gz|" WEB_ORPHANS },
};

static void test_orphans(void **state)
{
	const struct orphans_case *c = *state;
	struct manifest m = MANIFEST_INIT;
	struct strlist projects = STRLIST_INIT, out = STRLIST_INIT;
	struct strbuf err = STRBUF_INIT, got = STRBUF_INIT;
	const char *text = c->named ? orphan_manifest : "{}";

	assert_int_equal(manifest_parse(&m, text, strlen(text), "test", &err), 0);
	for (size_t i = 0; c->projects[i]; i++)
		strlist_add(&projects, c->projects[i]);
	assert_int_equal(verify_find_orphans(arch.buf, &m, &projects, &out, &err), 0);
	for (size_t i = 0; i < out.n; i++)
		strbuf_addf(&got, "%s%s", i ? "|" : "", out.items[i]);
	assert_string_equal(strbuf_str(&got), c->want);
	manifest_free(&m);
	strlist_free(&projects);
	strlist_free(&out);
	strbuf_release(&err);
	strbuf_release(&got);
}

/* ---- verify_entry ------------------------------------------------------------- */

struct entry_case {
	const char *name;
	const char *file;
	long long size;		/* -1: the file's */
	const char *sha;	/* NULL: the file's */
	enum verify_status status;
	const char *why;	/* in why */
};

static const struct entry_case entry_cases[] = {
	{ "ok", "web/a.tar.gz", -1, NULL, VERIFY_OK, "" },
	{ "ok through a symlink inside", "web/in.tar.gz", -1, NULL, VERIFY_OK, "" },
	{ "other content", "web/a.tar.gz", -1, H1, VERIFY_MISMATCH, "sha256 expected " H1 },
	{ "other size", "web/a.tar.gz", 3, NULL, VERIFY_MISMATCH, "size expected 3, got 10" },
	{ "no sha256 recorded", "web/a.tar.gz", -1, "", VERIFY_MISMATCH, "records no sha256" },
	{ "missing", "web/none.tar.gz", 10, H0, VERIFY_MISSING, "" },
	{ "a folder", "web/dir.tar.gz", 10, H0, VERIFY_CORRUPT, "not a regular file" },
	{ "a symlink out is never read", "web/out.tar.gz", -1, NULL, VERIFY_CORRUPT,
	  "resolves outside" },
	{ "a path leaving the folder", "../outside/x.tar.gz", 8, H0, VERIFY_CORRUPT,
	  "leaves the archive folder" },
};

static void test_entry(void **state)
{
	const struct entry_case *c = *state;
	struct manifest_entry e = { .project = "web", .image = "x:1", .action = "pull+save",
				    .file = c->file, .size = c->size, .sha256 = c->sha,
				    .docker_id = "sha256:" H0 };
	struct verify_result r = { 0 };
	struct strbuf path = STRBUF_INIT, err = STRBUF_INIT;
	unsigned long long size = 0;
	char hex[SHA256_HEX_LEN + 1] = "";
	unsigned char buf[4096];

	strbuf_addf(&path, "%s/%s", arch.buf, c->file);
	if (!c->sha || c->size < 0) {
		assert_int_equal(sha256_file(path.buf, hex, &size, &err), 0);
		if (!c->sha)
			e.sha256 = hex;
		if (c->size < 0)
			e.size = (long long)size;
	}
	verify_entry(arch.buf, &e, 0, buf, sizeof(buf), &r);
	assert_int_equal(r.status, c->status);
	assert_string_equal(r.file, c->file);
	if (!strstr(strbuf_str(&r.why), c->why))
		fail_msg("why '%s' lacks '%s'", strbuf_str(&r.why), c->why);
	if (c->status == VERIFY_OK)
		assert_int_equal(r.size, size);
	strbuf_release(&r.why);
	strbuf_release(&path);
	strbuf_release(&err);
}

/* ---- verify_deep_fd: small docker save streams ------------------------------------- */

struct tar_file {
	const char *name;
	const void *data;	/* NULL with link: a symlink */
	size_t len;
	const char *link;
};

static void sha_hex(const void *p, size_t n, char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[32];
	unsigned int len;

	EVP_Digest(p, n, md, &len, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[64] = '\0';
}

/* A tar of files into out; without end blocks when cut. */
static void tar_build(const struct tar_file *f, size_t n, int cut, struct strbuf *out)
{
	static unsigned char buf[1 << 20];
	struct archive *a = archive_write_new();
	size_t used = 0;

	assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
	assert_int_equal(archive_write_set_bytes_in_last_block(a, 1), ARCHIVE_OK);
	assert_int_equal(archive_write_open_memory(a, buf, sizeof(buf), &used), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();

		archive_entry_set_pathname(e, f[i].name);
		archive_entry_set_perm(e, 0644);
		if (f[i].link) {
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_set_symlink(e, f[i].link);
		} else {
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_size(e, (la_int64_t)f[i].len);
		}
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		if (!f[i].link)
			assert_int_equal(archive_write_data(a, f[i].data, f[i].len), (la_ssize_t)f[i].len);
		archive_entry_free(e);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	while (cut && used >= 512 && !memcmp(buf + used - 512, (char[512]){ 0 }, 512))
		used -= 512;
	strbuf_reset(out);
	strbuf_add(out, buf, used);
}

static void gzip_of(const struct strbuf *in, struct strbuf *out)
{
	z_stream zs = { 0 };
	size_t cap = compressBound((uLong)in->len) + 64;
	unsigned char *buf = malloc(cap);

	assert_non_null(buf);
	assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
	zs.next_in = (unsigned char *)in->buf;
	zs.avail_in = (uInt)in->len;
	zs.next_out = buf;
	zs.avail_out = (uInt)cap;
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	strbuf_reset(out);
	strbuf_add(out, buf, zs.total_out);
	deflateEnd(&zs);
	free(buf);
}

enum mutation {
	MUT_NONE, MUT_CRC, MUT_CUT_GZIP, MUT_NO_END, MUT_OTHER_ID, MUT_LAYER, MUT_NO_MANIFEST,
	MUT_TRAILING, MUT_SUFFIX, MUT_PLAIN, MUT_EMPTY, MUT_LINK_OUT, MUT_LINK_IN, MUT_GZ_LAYER,
	MUT_BAD_BLOB, MUT_FEWER_IDS, MUT_BROKEN_GZ_LAYER,
};

struct deep_case {
	const char *name;
	int oci;
	enum mutation mut;
	int rc;
	const char *why;	/* in why */
};

static const struct deep_case deep_cases[] = {
	{ "legacy layout, intact", 0, MUT_NONE, 0, "" },
	{ "OCI layout, intact", 1, MUT_NONE, 0, "" },
	{ "a plain tar named .tar", 0, MUT_PLAIN, 0, "" },
	{ "a layer symlinked to another inside the tar", 0, MUT_LINK_IN, 0, "" },
	{ "a gzip layer blob hashed decompressed", 1, MUT_GZ_LAYER, 0, "" },
	{ "a damaged gzip CRC", 0, MUT_CRC, 1, "gzip data is damaged (incorrect data check)" },
	{ "a gzip stream cut short", 1, MUT_CUT_GZIP, 1, "the gzip stream is cut short" },
	{ "a tar without its end blocks", 0, MUT_NO_END, 1, "no end-of-archive blocks" },
	{ "a docker_id that is not the config's", 1, MUT_OTHER_ID, 1,
	  "not to the entry's docker_id sha256:111111111111" },
	{ "a layer that does not hash to its diff_id (legacy)", 0, MUT_LAYER, 1,
	  "layer 1 of 1 ('" },
	{ "a layer that does not hash to its diff_id (OCI)", 1, MUT_LAYER, 1, "but its diff_id" },
	{ "no manifest.json", 0, MUT_NO_MANIFEST, 1, "no manifest.json in the tar" },
	{ "data after the gzip stream", 0, MUT_TRAILING, 1, "data that is not gzip follows" },
	{ "gzip data named .tar.zst", 0, MUT_SUFFIX, 1, "not zstd data" },
	{ "an empty file", 0, MUT_EMPTY, 1, "the file is empty" },
	{ "a layer symlink leaving the tar", 0, MUT_LINK_OUT, 1, ") is not in the tar" },
	{ "a blob that does not hash to its name", 1, MUT_BAD_BLOB, 1,
	  "does not hash to its name" },
	{ "fewer diff_ids than layers", 0, MUT_FEWER_IDS, 1, "lists 0 diff_ids for the 1 layers" },
	{ "a gzip layer blob that does not decompress", 1, MUT_BROKEN_GZ_LAYER, 1,
	  "does not decompress: " },
};

/* The archive of case c into out (its docker_id into id, its file name into name). */
static void build_save(const struct deep_case *c, struct strbuf *out, char id[72],
		       const char **name)
{
	static const char layer_text[] = "layer content, layer content, layer content\n";
	struct tar_file layer_files[] = { { "etc/motd", layer_text, sizeof(layer_text) - 1, NULL } };
	struct strbuf layer = STRBUF_INIT, blob = STRBUF_INIT, config = STRBUF_INIT;
	struct strbuf man = STRBUF_INIT, tar = STRBUF_INIT, lname = STRBUF_INIT, cname = STRBUF_INIT;
	struct tar_file files[6];
	char diff[65], chex[65], bhex[65];
	size_t n = 0;

	tar_build(layer_files, 1, 0, &layer);
	sha_hex(layer.buf, layer.len, diff);
	if (c->mut == MUT_LAYER)
		diff[10] = diff[10] == 'a' ? 'b' : 'a';
	if (c->mut == MUT_GZ_LAYER || c->mut == MUT_BROKEN_GZ_LAYER) {
		gzip_of(&layer, &blob);
		if (c->mut == MUT_BROKEN_GZ_LAYER)
			blob.buf[blob.len - 8] ^= 1;
	} else {
		strbuf_add(&blob, layer.buf, layer.len);
	}
	sha_hex(blob.buf, blob.len, bhex);
	if (c->mut == MUT_FEWER_IDS)
		strbuf_addstr(&config, "{\"rootfs\": {\"type\": \"layers\", \"diff_ids\": []}}");
	else
		strbuf_addf(&config, "{\"rootfs\": {\"type\": \"layers\", \"diff_ids\": "
			    "[\"sha256:%s\"]}}", diff);
	sha_hex(config.buf, config.len, chex);
	snprintf(id, 72, "sha256:%s", c->mut == MUT_OTHER_ID ? H1 : chex);
	if (c->oci) {
		strbuf_addf(&lname, "blobs/sha256/%s", c->mut == MUT_BAD_BLOB ? H0 : bhex);
		strbuf_addf(&cname, "blobs/sha256/%s", chex);
		files[n++] = (struct tar_file){ "oci-layout", "{}", 2, NULL };
	} else {
		strbuf_addf(&lname, "%s/layer.tar", H1);
		strbuf_addf(&cname, "%s.json", chex);
	}
	if (c->mut == MUT_LINK_IN) {
		files[n++] = (struct tar_file){ H0 "/layer.tar", blob.buf, blob.len, NULL };
		files[n++] = (struct tar_file){ lname.buf, NULL, 0, "../" H0 "/layer.tar" };
	} else if (c->mut == MUT_LINK_OUT) {
		files[n++] = (struct tar_file){ lname.buf, NULL, 0, "../../" H0 "/layer.tar" };
	} else {
		files[n++] = (struct tar_file){ lname.buf, blob.buf, blob.len, NULL };
	}
	files[n++] = (struct tar_file){ cname.buf, config.buf, config.len, NULL };
	strbuf_addf(&man, "[{\"Config\": \"%s\", \"RepoTags\": [\"x:1\"], \"Layers\": [\"%s\"]}]",
		    cname.buf, lname.buf);
	if (c->mut != MUT_NO_MANIFEST)
		files[n++] = (struct tar_file){ "manifest.json", man.buf, man.len, NULL };
	tar_build(files, n, c->mut == MUT_NO_END, &tar);
	*name = c->mut == MUT_PLAIN ? "p/x.tar" : c->mut == MUT_SUFFIX ? "p/x.tar.zst" : "p/x.tar.gz";
	if (c->mut == MUT_PLAIN)
		strbuf_add(out, tar.buf, tar.len);
	else if (c->mut != MUT_EMPTY)
		gzip_of(&tar, out);
	if (c->mut == MUT_CRC)
		out->buf[out->len - 8] ^= 1;
	if (c->mut == MUT_CUT_GZIP)
		out->len -= 4;
	if (c->mut == MUT_TRAILING)
		strbuf_addstr(out, "junk");
	strbuf_release(&layer);
	strbuf_release(&blob);
	strbuf_release(&config);
	strbuf_release(&man);
	strbuf_release(&tar);
	strbuf_release(&lname);
	strbuf_release(&cname);
}

static void test_deep(void **state)
{
	const struct deep_case *c = *state;
	struct strbuf data = STRBUF_INIT, why = STRBUF_INIT, path = STRBUF_INIT;
	char id[72], raw[65], want[65];
	unsigned long long size = 1;
	const char *name;
	int fd;

	build_save(c, &data, id, &name);
	strbuf_addf(&path, "%s/deep.bin", top);
	fd = open(path.buf, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data.buf, data.len), (ssize_t)data.len);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(verify_deep_fd(fd, name, id, raw, &size, &why), c->rc);
	if (!strstr(strbuf_str(&why), c->why) || (!c->rc && why.len))
		fail_msg("why '%s', wanted '%s'", strbuf_str(&why), c->why);
	/* The file's own hash comes out of the same pass, whatever is inside. */
	sha_hex(data.len ? data.buf : "", data.len, want);
	assert_string_equal(raw, want);
	assert_int_equal(size, data.len);
	close(fd);
	unlink(path.buf);
	strbuf_release(&data);
	strbuf_release(&why);
	strbuf_release(&path);
}

static int remove_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

int main(void)
{
	int failed = 0;

	if (!mkdtemp(top))
		return 1;
	make_fixture();
	failed |= TABLE_RUN("verify compare", compare_cases, test_compare);
	failed |= TABLE_RUN("verify orphan names", orphan_name_cases, test_orphan_name);
	failed |= TABLE_RUN("verify resolve", resolve_cases, test_resolve);
	failed |= TABLE_RUN("verify orphans", orphans_cases, test_orphans);
	failed |= TABLE_RUN("verify entry", entry_cases, test_entry);
	failed |= TABLE_RUN("verify deep", deep_cases, test_deep);
	if (nftw(top, remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
		failed = 1;
	strbuf_release(&arch);
	return failed;
}
