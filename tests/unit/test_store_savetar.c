/*
 * test_store_savetar: store/savetar — small docker-save-like tars are
 * built here with libarchive (the legacy layout of Engine < 25 and the OCI
 * layout of 25+), plain, gzip- or zstd-compressed, with one mutation each
 * (a truncated stream, a missing manifest.json or layer, content that does
 * not match its digest, ...), and read back from memory: one row a case.
 * Then the same from files on disk.
 */
#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "table.h"
#include "store/savetar.h"

#define TAG "traefik/whoami:v1.11.0"
#define V1ID "1111111111111111111111111111111111111111111111111111111111111111"
#define OUT_MAX ((size_t)1 << 20)

enum layout { LEGACY, OCI };
enum filt { PLAIN, GZIP, ZSTD };
enum mutation {
	M_NONE, M_TRUNCATE, M_GARBAGE, M_NO_MANIFEST, M_TWO_MANIFESTS, M_BAD_JSON,
	M_EMPTY_ARRAY, M_BAD_CONFIG_NAME, M_MISSING_LAYER, M_BAD_BLOB, M_BAD_LAYER,
	M_BAD_CONFIG, M_TWO_IMAGES, M_DOT_SLASH, M_MAX_BYTES,
};

struct savetar_case {
	const char *name;
	enum layout layout;
	enum filt filt;
	enum mutation mut;
	int deep;
	const char *err;	/* substring of the error; NULL: must read */
	size_t images;		/* expected when it reads */
	size_t hashed;		/* files checked by name (deep) */
};

static const struct savetar_case cases[] = {
	{ "legacy, plain tar", LEGACY, PLAIN, M_NONE, 0, NULL, 1, 0 },
	{ "legacy, gzip", LEGACY, GZIP, M_NONE, 0, NULL, 1, 0 },
	{ "legacy, zstd", LEGACY, ZSTD, M_NONE, 0, NULL, 1, 0 },
	{ "legacy, gzip, deep", LEGACY, GZIP, M_NONE, 1, NULL, 1, 1 },
	{ "OCI, plain tar", OCI, PLAIN, M_NONE, 0, NULL, 1, 0 },
	{ "OCI, gzip", OCI, GZIP, M_NONE, 0, NULL, 1, 0 },
	{ "OCI, zstd, deep", OCI, ZSTD, M_NONE, 1, NULL, 1, 3 },
	{ "names with ./ in front", LEGACY, GZIP, M_DOT_SLASH, 1, NULL, 1, 1 },
	{ "two images, one untagged", LEGACY, GZIP, M_TWO_IMAGES, 1, NULL, 2, 1 },
	{ "a blob that does not match its name is fine when not deep", OCI, GZIP, M_BAD_BLOB, 0, NULL, 1, 0 },
	{ "a layer that does not match its diff ID is fine when not deep", LEGACY, GZIP, M_BAD_LAYER, 0,
	  NULL, 1, 0 },

	{ "truncated gzip", LEGACY, GZIP, M_TRUNCATE, 0, "runcated", 0, 0 },
	{ "truncated zstd", OCI, ZSTD, M_TRUNCATE, 0, "runcated", 0, 0 },
	/* libarchive takes a plain tar cut between entries for a whole one: the missing manifest shows it. */
	{ "plain tar cut before its manifest.json", LEGACY, PLAIN, M_TRUNCATE, 0, "no manifest.json", 0, 0 },
	{ "not an archive", LEGACY, PLAIN, M_GARBAGE, 0, "unrecognized archive format", 0, 0 },
	{ "no manifest.json", OCI, GZIP, M_NO_MANIFEST, 0, "no manifest.json in the tar (not a docker save stream)", 0, 0 },
	{ "manifest.json twice", LEGACY, GZIP, M_TWO_MANIFESTS, 0, "manifest.json appears twice", 0, 0 },
	{ "manifest.json is not JSON", LEGACY, GZIP, M_BAD_JSON, 0, "manifest.json: invalid JSON at line 1, column", 0, 0 },
	{ "manifest.json lists nothing", OCI, PLAIN, M_EMPTY_ARRAY, 0, "manifest.json is not a non-empty array", 0, 0 },
	{ "a Config that is not a digest", LEGACY, GZIP, M_BAD_CONFIG_NAME, 0,
	  "\"Config\" 'config.json' is neither <hex>.json nor blobs/sha256/<hex>", 0, 0 },
	{ "a layer that is not in the tar", LEGACY, GZIP, M_MISSING_LAYER, 0,
	  "manifest.json names 'nope/layer.tar', which is not in the tar", 0, 0 },
	{ "deep: a blob that does not match its name", OCI, GZIP, M_BAD_BLOB, 1,
	  "': sha256 mismatch (the name says ", 0, 0 },
	{ "deep: a legacy config that does not match its name", LEGACY, ZSTD, M_BAD_CONFIG, 1,
	  ".json': sha256 mismatch (the name says ", 0, 0 },
	{ "deep: a legacy layer that does not match its diff ID", LEGACY, GZIP, M_BAD_LAYER, 1,
	  "'" V1ID "/layer.tar': sha256 mismatch (the config says sha256:", 0, 0 },
	{ "more content than allowed", LEGACY, GZIP, M_MAX_BYTES, 0, "more than 10 bytes of content", 0, 0 },
};

static void sha256_hex(const void *data, size_t len, char *hex)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	assert_true(EVP_Digest(data, len, md, &n, EVP_sha256(), NULL));
	for (unsigned i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

struct tar_out {
	struct archive *a;
	const char *prefix;
};

static void add(struct tar_out *t, const char *name, const char *data, const char *link)
{
	struct archive_entry *e = archive_entry_new();
	struct strbuf path = STRBUF_INIT;
	size_t len = data ? strlen(data) : 0;

	strbuf_addf(&path, "%s%s", t->prefix, name);
	archive_entry_set_pathname(e, path.buf);
	archive_entry_set_perm(e, 0644);
	if (link) {
		archive_entry_set_filetype(e, AE_IFLNK);
		archive_entry_set_symlink(e, link);
	} else if (!data) {
		archive_entry_set_filetype(e, AE_IFDIR);
	} else {
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_size(e, (la_int64_t)len);
	}
	assert_int_equal(archive_write_header(t->a, e), ARCHIVE_OK);
	if (len)
		assert_int_equal(archive_write_data(t->a, data, len), (la_ssize_t)len);
	archive_entry_free(e);
	strbuf_release(&path);
}

/* The docker-save files of case c, written into t. hc: the config's hex. */
static void add_files(struct tar_out *t, const struct savetar_case *c, char *hc)
{
	static const char layer[] = "layer tar bytes";
	struct strbuf config = STRBUF_INIT, man = STRBUF_INIT, name = STRBUF_INIT;
	const char *cfgname, *layername;
	char hl[65], hm[65];

	sha256_hex(layer, strlen(layer), hl);
	strbuf_addf(&config, "{\"architecture\":\"amd64\",\"rootfs\":{\"type\":\"layers\","
		    "\"diff_ids\":[\"sha256:%s\"]}}", hl);
	sha256_hex(config.buf, config.len, hc);
	sha256_hex("{}", 2, hm);
	if (c->layout == LEGACY) {
		strbuf_addf(&name, "%s.json", hc);
		layername = V1ID "/layer.tar";
	} else {
		strbuf_addf(&name, "blobs/sha256/%s", hc);
		layername = NULL;
	}
	cfgname = name.buf;
	strbuf_addstr(&man, "[{\"Config\":\"");
	strbuf_addstr(&man, c->mut == M_BAD_CONFIG_NAME ? "config.json" : cfgname);
	strbuf_addstr(&man, "\",\"RepoTags\":[\"" TAG "\"],\"Layers\":[\"");
	if (layername)
		strbuf_addstr(&man, layername);
	else
		strbuf_addf(&man, "blobs/sha256/%s", hl);
	if (c->mut == M_MISSING_LAYER)
		strbuf_addstr(&man, "\",\"nope/layer.tar");
	strbuf_addstr(&man, "\"]}");
	if (c->mut == M_TWO_IMAGES)
		strbuf_addf(&man, ",{\"Config\":\"%s\",\"RepoTags\":null,\"Layers\":[\"%s\"]}",
			    cfgname, layername);
	strbuf_addstr(&man, "]");
	if (c->mut == M_BAD_JSON)
		strbuf_setf(&man, "[{\"Config\": ");
	if (c->mut == M_EMPTY_ARRAY)
		strbuf_setf(&man, "[]");

	if (c->layout == OCI) {
		/* Engine 25 puts manifest.json before the blobs it names. */
		if (c->mut != M_NO_MANIFEST)
			add(t, "manifest.json", man.buf, NULL);
		add(t, "blobs", NULL, NULL);
		add(t, "blobs/sha256", NULL, NULL);
		add(t, cfgname, config.buf, NULL);
		strbuf_setf(&name, "blobs/sha256/%s", hl);
		add(t, name.buf, c->mut == M_BAD_BLOB ? "tampered layer" : layer, NULL);
		strbuf_setf(&name, "blobs/sha256/%s", hm);
		add(t, name.buf, "{}", NULL);
		add(t, V1ID, NULL, NULL);
		strbuf_setf(&name, "../blobs/sha256/%s", hl);
		add(t, V1ID "/layer.tar", NULL, name.buf);
		add(t, "index.json", "{\"schemaVersion\":2,\"manifests\":[]}", NULL);
		add(t, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", NULL);
	} else {
		/* Before Engine 25, manifest.json comes last. */
		add(t, V1ID, NULL, NULL);
		add(t, V1ID "/VERSION", "1.0", NULL);
		add(t, V1ID "/json", "{}", NULL);
		add(t, layername, c->mut == M_BAD_LAYER ? "tampered layer" : layer, NULL);
		add(t, cfgname, c->mut == M_BAD_CONFIG ? "{\"tampered\":1}" : config.buf, NULL);
		if (c->mut != M_NO_MANIFEST)
			add(t, "manifest.json", man.buf, NULL);
		if (c->mut == M_TWO_MANIFESTS)
			add(t, "manifest.json", man.buf, NULL);
		add(t, "repositories", "{}", NULL);
	}
	strbuf_release(&config);
	strbuf_release(&man);
	strbuf_release(&name);
}

/* Build case c's archive into out (*len bytes); hc gets the config's hex. */
static void build(const struct savetar_case *c, unsigned char *out, size_t *len, char *hc)
{
	struct tar_out t = { archive_write_new(), c->mut == M_DOT_SLASH ? "./" : "" };
	size_t used = 0;

	assert_non_null(t.a);
	assert_int_equal(archive_write_set_format_pax_restricted(t.a), ARCHIVE_OK);
	if (c->filt == GZIP)
		assert_int_equal(archive_write_add_filter_gzip(t.a), ARCHIVE_OK);
	if (c->filt == ZSTD)
		assert_int_equal(archive_write_add_filter_zstd(t.a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_memory(t.a, out, OUT_MAX, &used), ARCHIVE_OK);
	add_files(&t, c, hc);
	assert_int_equal(archive_write_close(t.a), ARCHIVE_OK);
	archive_write_free(t.a);
	*len = used;
	if (c->mut == M_TRUNCATE)
		*len = used * 6 / 10;
	if (c->mut == M_GARBAGE) {
		memset(out, 'x', 2048);
		*len = 2048;
	}
}

static void check_row(void **state)
{
	const struct savetar_case *c = *state;
	struct savetar_opts opts = { .deep = c->deep, .max_bytes = c->mut == M_MAX_BYTES ? 10 : 0 };
	unsigned char *buf = malloc(OUT_MAX);
	struct savetar st = SAVETAR_INIT;
	struct strbuf err = STRBUF_INIT, id = STRBUF_INIT;
	size_t len = 0;
	char hc[65];
	int r;

	assert_non_null(buf);
	build(c, buf, &len, hc);
	r = savetar_read_memory(&st, buf, len, "x/whoami.tar.gz", &opts, &err);
	if (!c->err) {
		if (r != 0)
			fail_msg("%s", strbuf_str(&err));
		strbuf_addf(&id, "sha256:%s", hc);
		assert_int_equal(st.n, c->images);
		assert_string_equal(st.images[0].id, id.buf);
		assert_int_equal(st.images[0].tags.n, 1);
		assert_string_equal(st.images[0].tags.items[0], TAG);
		assert_int_equal(st.images[0].layers.n, 1);
		assert_int_equal(st.oci, c->layout == OCI);
		assert_int_equal(st.hashed, c->hashed);
		if (c->images > 1) {
			assert_string_equal(st.images[1].id, id.buf);
			assert_int_equal(st.images[1].tags.n, 0);
		}
	} else {
		const char *msg = strbuf_str(&err);

		assert_int_equal(r, -1);
		assert_int_equal(st.n, 0);
		if (!strstr(msg, c->err))
			fail_msg("error \"%s\" does not contain \"%s\"", msg, c->err);
		if (strncmp(msg, "archive 'x/whoami.tar.gz': ", 27) || strchr(msg, '\n'))
			fail_msg("error \"%s\" is not in the one-line form", msg);
	}
	savetar_release(&st);
	strbuf_release(&err);
	strbuf_release(&id);
	free(buf);
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* The same reader from a file: whole, truncated, missing, a folder. */
static void from_files(void **state)
{
	static const struct savetar_case whole = { "whole", OCI, GZIP, M_NONE, 1, NULL, 1, 3 };
	char dir[] = "/tmp/imgvault-test-savetar.XXXXXX";
	struct strbuf path = STRBUF_INIT, err = STRBUF_INIT, want = STRBUF_INIT;
	unsigned char *buf = malloc(OUT_MAX);
	struct savetar_opts deep = { .deep = 1 };
	struct savetar st = SAVETAR_INIT;
	size_t len;
	char hc[65];

	(void)state;
	assert_non_null(buf);
	assert_non_null(mkdtemp(dir));
	strbuf_addf(&path, "%s/a.tar.gz", dir);
	build(&whole, buf, &len, hc);
	write_file(path.buf, buf, len);
	assert_int_equal(savetar_read_file(&st, path.buf, &deep, &err), 0);
	strbuf_addf(&want, "sha256:%s", hc);
	assert_string_equal(st.images[0].id, want.buf);
	savetar_release(&st);
	assert_int_equal(savetar_read_file(&st, path.buf, NULL, &err), 0);
	assert_int_equal(st.hashed, 0);
	savetar_release(&st);

	write_file(path.buf, buf, len - 40);
	assert_int_equal(savetar_read_file(&st, path.buf, NULL, &err), -1);
	strbuf_setf(&want, "archive '%s': ", path.buf);
	assert_memory_equal(err.buf, want.buf, want.len);
	assert_int_equal(st.n, 0);

	strbuf_reset(&err);
	assert_int_equal(savetar_read_file(&st, dir, NULL, &err), -1);
	strbuf_setf(&want, "archive '%s': not a regular file", dir);
	assert_string_equal(strbuf_str(&err), want.buf);

	unlink(path.buf);
	strbuf_reset(&err);
	assert_int_equal(savetar_read_file(&st, path.buf, NULL, &err), -1);
	strbuf_setf(&want, "archive '%s': no such file or directory", path.buf);
	assert_string_equal(strbuf_str(&err), want.buf);

	rmdir(dir);
	free(buf);
	strbuf_release(&path);
	strbuf_release(&err);
	strbuf_release(&want);
}

int main(void)
{
	const struct CMUnitTest more[] = {
		cmocka_unit_test(from_files),
	};

	return TABLE_RUN("savetar_read_memory", cases, check_row) +
	       cmocka_run_group_tests_name("savetar_read_file", more, NULL, NULL);
}
