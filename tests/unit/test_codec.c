/*
 * test_codec: the codec writers. gzip and zstd round trips decoded by
 * other code than the encoders (zlib's inflate, member by member; libzstd's
 * streaming decoder), sha256 against the FIPS 180-2 examples, next writers
 * that fail (which must surface as -1, never hang), and atomic files:
 * commit, abort, write errors, stale temporaries. An alarm turns a
 * deadlock into a failure.
 */
#include "table.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libdeflate.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "codec/atomicfile.h"
#include "codec/gzip.h"
#include "codec/memwriter.h"
#include "codec/sha256.h"
#include "codec/zstd.h"
#include "util/strbuf.h"

#define MiB ((size_t)1 << 20)
#define CHUNK GZIP_WRITER_CHUNK

enum data_kind { DATA_RANDOM, DATA_TEXT, DATA_ZEROS };

/* Deterministic input: random bytes, word-salad text, or zeros. */
static unsigned char *make_data(enum data_kind kind, size_t len, unsigned long long seed)
{
	static const char *const words[] = {
		"usr", "lib", "bin", "share", "docker", "layer", "tar", "json", "image",
		"the", "of", "and", "config", "sha256", "0644", "root", "\n", "/", " ", "=",
	};
	unsigned char *p = malloc(len ? len : 1);
	unsigned long long x = seed * 0x9E3779B97F4A7C15ull + 1;
	size_t i = 0;

	assert_non_null(p);
	while (i < len) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		if (kind == DATA_ZEROS) {
			p[i++] = 0;
		} else if (kind == DATA_RANDOM) {
			for (int b = 0; b < 8 && i < len; b++)
				p[i++] = (unsigned char)(x >> (8 * b));
		} else {
			const char *w = words[x % (sizeof(words) / sizeof(words[0]))];

			for (; *w && i < len; w++)
				p[i++] = (unsigned char)*w;
			if (i < len && (x >> 40) % 7 == 0)
				p[i++] = (unsigned char)('0' + (x >> 20) % 10);
		}
	}
	return p;
}

static void assert_same_bytes(const unsigned char *want, size_t want_len,
			      const struct strbuf *got)
{
	if (got->len != want_len)
		fail_msg("got %zu bytes, want %zu", got->len, want_len);
	for (size_t i = 0; i < want_len; i++)
		if ((unsigned char)got->buf[i] != want[i])
			fail_msg("bytes differ at offset %zu", i);
}

/* Write all of data to w in pieces of `block` bytes (0: at once). */
static int write_blocks(struct writer *w, const unsigned char *data, size_t len,
			size_t block, struct strbuf *err)
{
	size_t off = 0;

	if (!block)
		block = len ? len : 1;
	for (; off < len; off += block)
		if (writer_write(w, data + off, len - off < block ? len - off : block, err) < 0)
			return -1;
	return 0;
}

/* Inflate a (multi-member) gzip file with zlib; -1 if it is not one. */
static int gunzip_all(const unsigned char *in, size_t in_len, struct strbuf *out,
		      size_t *members)
{
	unsigned char buf[1 << 16];
	z_stream zs;
	int r = -1;

	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 15 + 16) != Z_OK)
		return -1;
	zs.next_in = (unsigned char *)in;
	zs.avail_in = (uInt)in_len;
	*members = 0;
	for (;;) {
		int z;

		zs.next_out = buf;
		zs.avail_out = sizeof(buf);
		z = inflate(&zs, Z_NO_FLUSH);
		if (strbuf_add(out, buf, sizeof(buf) - zs.avail_out) < 0)
			break;
		if (z == Z_STREAM_END) {
			++*members;
			if (zs.avail_in == 0) {
				r = 0;
				break;
			}
			inflateReset(&zs);
		} else if (z != Z_OK) {
			break;
		}
	}
	inflateEnd(&zs);
	return r;
}

/* Decode one zstd frame with libzstd's streaming decoder; -1 on error. */
static int unzstd_all(const unsigned char *in, size_t in_len, struct strbuf *out)
{
	unsigned char buf[1 << 16];
	ZSTD_DCtx *d = ZSTD_createDCtx();
	ZSTD_inBuffer zin = { in, in_len, 0 };
	size_t left = 1;

	assert_non_null(d);
	while (zin.pos < zin.size || left) {
		ZSTD_outBuffer zout = { buf, sizeof(buf), 0 };
		size_t before = zin.pos;

		left = ZSTD_decompressStream(d, &zout, &zin);
		if (ZSTD_isError(left) || strbuf_add(out, buf, zout.pos) < 0 ||
		    (zin.pos == before && zout.pos == 0 && left)) {
			ZSTD_freeDCtx(d);
			return -1;
		}
	}
	ZSTD_freeDCtx(d);
	return 0;
}

/* Round trips */

struct rt_case {
	const char *name;
	size_t len;
	enum data_kind kind;
	size_t block;		/* write in pieces of this many bytes; 0: at once */
	int level, threads;	/* 0: the writer's defaults */
	int vs_whole;		/* gzip: within 1% of one member made of the whole input */
};

static const struct rt_case rt_cases[] = {
	{ .name = "empty input", .len = 0, .threads = 2 },
	{ .name = "one byte", .len = 1, .threads = 2 },
	{ .name = "exactly one chunk", .len = CHUNK, .threads = 2 },
	{ .name = "one chunk less a byte", .len = CHUNK - 1, .threads = 2 },
	{ .name = "one chunk and a byte", .len = CHUNK + 1, .threads = 2 },
	{ .name = "chunk and a byte in odd-sized writes", .len = CHUNK + 1, .block = 4093,
	  .kind = DATA_TEXT, .threads = 2 },
	{ .name = "a chunk and more in one-byte writes", .len = CHUNK + 300, .block = 1,
	  .kind = DATA_TEXT, .threads = 2 },
	{ .name = "20 MiB random in 64 KiB writes", .len = 20 * MiB, .block = 64 << 10,
	  .threads = 2, .vs_whole = 1 },
	{ .name = "20 MiB text in 1 MiB writes", .len = 20 * MiB, .block = MiB,
	  .kind = DATA_TEXT, .threads = 2, .vs_whole = 1 },
	{ .name = "20 MiB zeros in one write", .len = 20 * MiB, .kind = DATA_ZEROS, .threads = 2 },
	{ .name = "one thread, many chunks", .len = 5 * MiB + 17, .block = 100000,
	  .kind = DATA_TEXT, .threads = 1 },
	{ .name = "more threads than chunks", .len = 3 * MiB, .kind = DATA_TEXT, .threads = 8 },
	{ .name = "one thread per cpu", .len = 6 * MiB + 5, .block = 333333,
	  .kind = DATA_TEXT, .threads = 0 },
	{ .name = "fastest level", .len = 3 * MiB + 1, .kind = DATA_TEXT, .level = 1, .threads = 2 },
	{ .name = "level 12", .len = 2 * MiB + 3, .kind = DATA_TEXT, .level = 12, .threads = 2 },
};

/* libdeflate on the whole input as one member: what chunking may cost against. */
static size_t whole_size(const unsigned char *data, size_t len, int level)
{
	struct libdeflate_compressor *c = libdeflate_alloc_compressor(level ? level : 6);
	size_t cap, n;
	unsigned char *out;

	assert_non_null(c);
	cap = libdeflate_gzip_compress_bound(c, len);
	out = malloc(cap);
	assert_non_null(out);
	n = libdeflate_gzip_compress(c, data, len, out, cap);
	assert_true(n > 0);
	free(out);
	libdeflate_free_compressor(c);
	return n;
}

static void test_gzip_round_trip(void **state)
{
	const struct rt_case *c = *state;
	struct strbuf out = STRBUF_INIT, back = STRBUF_INIT, err = STRBUF_INIT;
	unsigned char *data = make_data(c->kind, c->len, c->len);
	struct writer *mem = mem_writer_new(&out);
	struct writer *gz = gzip_writer_new(mem, c->level, c->threads, &err);
	size_t members = 0, want_members = c->len ? (c->len + CHUNK - 1) / CHUNK : 1;

	if (!gz)
		fail_msg("gzip_writer_new: %s", err.buf);
	if (write_blocks(gz, data, c->len, c->block, &err) < 0 || writer_close(gz, &err) < 0)
		fail_msg("gzip: %s", err.buf);
	writer_free(gz);
	writer_free(mem);

	if (gunzip_all((unsigned char *)out.buf, out.len, &back, &members) < 0)
		fail_msg("zlib cannot inflate the output (%zu bytes)", out.len);
	assert_same_bytes(data, c->len, &back);
	assert_int_equal(members, want_members);
	if (c->vs_whole) {
		size_t whole = whole_size(data, c->len, c->level);

		if (out.len > whole + whole / 100)
			fail_msg("chunked output %zu bytes, one member %zu bytes", out.len, whole);
	}
	free(data);
	strbuf_release(&out);
	strbuf_release(&back);
	strbuf_release(&err);
}

static void test_zstd_round_trip(void **state)
{
	const struct rt_case *c = *state;
	struct strbuf out = STRBUF_INIT, back = STRBUF_INIT, err = STRBUF_INIT;
	unsigned char *data = make_data(c->kind, c->len, c->len + 1);
	struct writer *mem = mem_writer_new(&out);
	struct writer *zw = zstd_writer_new(mem, c->level, c->threads, &err);

	if (!zw)
		fail_msg("zstd_writer_new: %s", err.buf);
	if (write_blocks(zw, data, c->len, c->block, &err) < 0 || writer_close(zw, &err) < 0)
		fail_msg("zstd: %s", err.buf);
	writer_free(zw);
	writer_free(mem);

	/* Magic number, then the frame header descriptor: bit 2 is the checksum flag. */
	assert_true(out.len > 5);
	assert_memory_equal(out.buf, "\x28\xb5\x2f\xfd", 4);
	assert_true(out.buf[4] & 4);
	assert_int_equal(ZSTD_findFrameCompressedSize(out.buf, out.len), out.len);
	if (unzstd_all((unsigned char *)out.buf, out.len, &back) < 0)
		fail_msg("libzstd cannot decode the output (%zu bytes)", out.len);
	assert_same_bytes(data, c->len, &back);
	free(data);
	strbuf_release(&out);
	strbuf_release(&back);
	strbuf_release(&err);
}

/* Next writers that fail */

struct fail_writer {
	struct writer w;
	size_t budget;		/* bytes accepted before writes fail */
};

static int fw_write(struct writer *w, const void *buf, size_t len, struct strbuf *err)
{
	struct fail_writer *f = (struct fail_writer *)w;

	(void)buf;
	if (len > f->budget) {
		f->budget = 0;
		strbuf_setf(err, "write 'x.tar.gz': No space left on device");
		return -1;
	}
	f->budget -= len;
	return 0;
}

static int fw_close(struct writer *w, struct strbuf *err)
{
	(void)w;
	(void)err;
	return 0;
}

static void fw_free(struct writer *w)
{
	(void)w;
}

enum codec { GZ, ZST };

struct fail_case {
	const char *name;
	enum codec codec;
	size_t len, budget;
	int threads;
	int fails_at_close;	/* writes all succeed; close reports the failure */
	int free_early;		/* no failure: free in mid-stream, without close */
};

static const struct fail_case fail_cases[] = {
	{ .name = "gzip: next fails at once", .codec = GZ, .len = 20 * MiB, .threads = 2 },
	{ .name = "gzip: next fails after 3 MiB", .codec = GZ, .len = 20 * MiB,
	  .budget = 3 * MiB, .threads = 2 },
	{ .name = "gzip: next fails with 8 threads busy", .codec = GZ, .len = 30 * MiB,
	  .budget = 1, .threads = 8 },
	{ .name = "gzip: next fails at close", .codec = GZ, .len = 1000, .threads = 2,
	  .fails_at_close = 1 },
	{ .name = "gzip: free in mid-stream", .codec = GZ, .len = 9 * MiB + 1,
	  .budget = (size_t)-1, .threads = 2, .free_early = 1 },
	{ .name = "zstd: next fails at once", .codec = ZST, .len = 20 * MiB, .threads = 2 },
	{ .name = "zstd: next fails after 2 MiB", .codec = ZST, .len = 20 * MiB,
	  .budget = 2 * MiB, .threads = 2 },
	{ .name = "zstd: next fails at close", .codec = ZST, .len = 1000, .threads = 2,
	  .fails_at_close = 1 },
	{ .name = "zstd: free in mid-stream", .codec = ZST, .len = 9 * MiB + 1,
	  .budget = (size_t)-1, .threads = 2, .free_early = 1 },
};

static void test_failing_next(void **state)
{
	const struct fail_case *c = *state;
	struct fail_writer next = { { fw_write, fw_close, fw_free }, c->budget };
	struct strbuf err = STRBUF_INIT;
	unsigned char *data = make_data(DATA_RANDOM, c->len, 7);
	struct writer *w = c->codec == GZ ? gzip_writer_new(&next.w, 6, c->threads, &err)
					  : zstd_writer_new(&next.w, 3, c->threads, &err);
	int wr, cl = 0;

	assert_non_null(w);
	wr = write_blocks(w, data, c->len, 256 << 10, &err);
	if (c->free_early) {
		assert_int_equal(wr, 0);
		goto out;
	}
	if (wr == 0) {
		if (!c->fails_at_close)
			fail_msg("every write succeeded although next failed");
		cl = writer_close(w, &err);
	} else if (c->fails_at_close) {
		fail_msg("a write failed early: %s", err.buf);
	}
	assert_true(wr < 0 || cl < 0);
	if (!strstr(strbuf_str(&err), "No space left on device"))
		fail_msg("error \"%s\" does not pass next's message on", strbuf_str(&err));
	/* The writer stays broken. */
	strbuf_reset(&err);
	assert_int_equal(writer_write(w, data, 1, &err), -1);
	assert_true(err.len > 0);
out:
	writer_free(w);
	free(data);
	strbuf_release(&err);
}

static void test_bad_levels(void **state)
{
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	struct writer *mem = mem_writer_new(&out);

	(void)state;
	assert_null(gzip_writer_new(mem, 13, 1, &err));
	assert_non_null(strstr(err.buf, "level 13"));
	assert_null(gzip_writer_new(mem, -1, 1, &err));
	strbuf_reset(&err);
	assert_null(zstd_writer_new(mem, 23, 1, &err));
	assert_non_null(strstr(err.buf, "level 23"));
	writer_free(mem);
	strbuf_release(&out);
	strbuf_release(&err);
}

/* SHA-256 */

struct sha_case {
	const char *name;
	const char *text;
	size_t repeat;		/* the text this many times (0: once) */
	size_t block;		/* written in pieces of this size (0: at once) */
	const char *hex;
};

static const struct sha_case sha_cases[] = {
	{ .name = "empty", .text = "",
	  .hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
	{ .name = "abc", .text = "abc",
	  .hex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
	{ .name = "448 bits in one-byte writes",
	  .text = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", .block = 1,
	  .hex = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	{ .name = "a million a in odd writes", .text = "a", .repeat = 1000000, .block = 4097,
	  .hex = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0" },
};

static char tmpdir[] = "/tmp/imgvault-test-codec-XXXXXX";

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void test_sha256(void **state)
{
	const struct sha_case *c = *state;
	struct strbuf in = STRBUF_INIT, out = STRBUF_INIT, err = STRBUF_INIT, path = STRBUF_INIT;
	struct writer *mem = mem_writer_new(&out);
	struct writer *sw = sha256_writer_new(mem);
	char hex[SHA256_HEX_LEN + 1];
	unsigned long long size = 0;

	assert_non_null(sw);
	for (size_t i = 0; i < (c->repeat ? c->repeat : 1); i++)
		strbuf_addstr(&in, c->text);
	assert_int_equal(write_blocks(sw, (unsigned char *)strbuf_str(&in), in.len, c->block, &err), 0);
	assert_int_equal(sha256_writer_hex(sw, hex), -1);	/* not closed yet */
	assert_int_equal(writer_close(sw, &err), 0);
	assert_int_equal(sha256_writer_hex(sw, hex), 0);
	assert_string_equal(hex, c->hex);
	assert_int_equal(sha256_writer_bytes(sw), in.len);
	assert_same_bytes((unsigned char *)strbuf_str(&in), in.len, &out);

	strbuf_addf(&path, "%s/sha-input", tmpdir);
	write_file(path.buf, strbuf_str(&in), in.len);
	if (sha256_file(path.buf, hex, &size, &err) < 0)
		fail_msg("sha256_file: %s", err.buf);
	assert_string_equal(hex, c->hex);
	assert_int_equal(size, in.len);
	unlink(path.buf);

	writer_free(sw);
	writer_free(mem);
	strbuf_release(&in);
	strbuf_release(&out);
	strbuf_release(&err);
	strbuf_release(&path);
}

static void test_sha256_file_errors(void **state)
{
	struct strbuf err = STRBUF_INIT, path = STRBUF_INIT;
	char hex[SHA256_HEX_LEN + 1];

	(void)state;
	strbuf_addf(&path, "%s/missing", tmpdir);
	assert_int_equal(sha256_file(path.buf, hex, NULL, &err), -1);
	assert_non_null(strstr(err.buf, path.buf));
	assert_non_null(strstr(err.buf, "No such file"));
	assert_int_equal(sha256_file(tmpdir, hex, NULL, &err), -1);
	assert_non_null(strstr(err.buf, "not a regular file"));
	assert_string_equal(hex, "");
	strbuf_release(&err);
	strbuf_release(&path);
}

/* Atomic files */

struct temp_name_case {
	const char *name;
	const char *entry;
	int is_temp;
};

static const struct temp_name_case temp_name_cases[] = {
	{ "archive temporary", ".traefik_whoami_v1.11.0.tar.gz.tmp-4242-0a1b2c3d", 1 },
	{ "manifest temporary", ".manifest.json.tmp-1-deadbeef", 1 },
	{ "one-letter name", ".a.tmp-7-00000000", 1 },
	{ "no leading dot", "a.tmp-7-00000000", 0 },
	{ "nothing before the mark", "..tmp-7-00000000", 0 },
	{ "no pid", ".a.tmp--00000000", 0 },
	{ "pid not a number", ".a.tmp-x1-00000000", 0 },
	{ "upper-case hex", ".a.tmp-7-DEADBEEF", 0 },
	{ "seven hex digits", ".a.tmp-7-0000000", 0 },
	{ "something after the hex", ".a.tmp-7-00000000.gz", 0 },
	{ "the final file", "a.tar.gz", 0 },
	{ "a hidden file", ".hidden", 0 },
	{ "dot", ".", 0 },
};

static void test_temp_name(void **state)
{
	const struct temp_name_case *c = *state;

	assert_int_equal(atomic_is_temp_name(c->entry), c->is_temp);
}

/* The folder's entries, sorted, joined by spaces ("" when empty). */
static char *list_dir(const char *dir)
{
	struct strbuf sb = STRBUF_INIT;
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);

	assert_true(n >= 0);
	for (int i = 0; i < n; i++) {
		if (strcmp(names[i]->d_name, ".") && strcmp(names[i]->d_name, ".."))
			strbuf_addf(&sb, "%s%s", sb.len ? " " : "", names[i]->d_name);
		free(names[i]);
	}
	free(names);
	return strbuf_detach(&sb);
}

static void assert_dir(const char *dir, const char *want)
{
	char *got = list_dir(dir);

	if (strcmp(got, want))
		fail_msg("folder holds \"%s\", want \"%s\"", got, want);
	free(got);
}

static char *read_file(const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	FILE *f = fopen(path, "rb");
	size_t n;

	assert_non_null(f);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_add(&sb, buf, n);
	fclose(f);
	return strbuf_detach(&sb);
}

/* A fresh empty folder under tmpdir for one test; rm_dir removes it. */
static char *make_dir(const char *leaf)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addf(&sb, "%s/%s", tmpdir, leaf);
	assert_int_equal(mkdir(sb.buf, 0755), 0);
	return strbuf_detach(&sb);
}

static void rm_dir(char *dir)
{
	struct strbuf sb = STRBUF_INIT;
	struct dirent *de;
	DIR *d = opendir(dir);

	while (d && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		strbuf_reset(&sb);
		strbuf_addf(&sb, "%s/%s", dir, de->d_name);
		if (unlink(sb.buf) < 0)
			rmdir(sb.buf);
	}
	if (d)
		closedir(d);
	rmdir(dir);
	free(dir);
	strbuf_release(&sb);
}

static void atomic_commit_shows_the_whole_file(void **state)
{
	char *dir = make_dir("commit");
	struct strbuf err = STRBUF_INIT, path = STRBUF_INIT;
	struct atomic_file *af = atomic_file_open(dir, "img.tar.gz", &err);
	struct writer *w;
	struct stat st;
	char *got;

	(void)state;
	assert_non_null(af);
	w = atomic_file_writer(af);
	assert_int_equal(stat(atomic_file_temp_path(af), &st), 0);
	assert_true(atomic_file_temp_path(af)[0] == '/');
	assert_int_equal(writer_write(w, "hello ", 6, &err), 0);
	assert_int_equal(writer_write(w, "world", 5, &err), 0);
	assert_int_equal(writer_close(w, &err), 0);
	strbuf_addf(&path, "%s/img.tar.gz", dir);
	assert_int_equal(stat(path.buf, &st), -1);	/* not before commit */
	assert_string_equal(atomic_file_path(af), path.buf);
	if (atomic_file_commit(af, &err) < 0)
		fail_msg("commit: %s", err.buf);
	assert_string_equal(atomic_file_temp_path(af), "");
	writer_free(w);		/* a no-op: af owns it */
	atomic_file_free(af);
	assert_dir(dir, "img.tar.gz");
	got = read_file(path.buf);
	assert_string_equal(got, "hello world");
	free(got);
	strbuf_release(&err);
	strbuf_release(&path);
	rm_dir(dir);
}

static void atomic_commit_replaces_an_old_file(void **state)
{
	char *dir = make_dir("replace");
	struct strbuf err = STRBUF_INIT, path = STRBUF_INIT;
	char *got;

	(void)state;
	strbuf_addf(&path, "%s/manifest.json", dir);
	write_file(path.buf, "old old old", 11);
	if (atomic_write_all(dir, "manifest.json", "{}\n", 3, &err) < 0)
		fail_msg("atomic_write_all: %s", err.buf);
	assert_dir(dir, "manifest.json");
	got = read_file(path.buf);
	assert_string_equal(got, "{}\n");
	free(got);
	strbuf_release(&err);
	strbuf_release(&path);
	rm_dir(dir);
}

static void atomic_abort_and_free_leave_nothing(void **state)
{
	char *dir = make_dir("abort");
	struct strbuf err = STRBUF_INIT;
	struct atomic_file *af = atomic_file_open(dir, "a.tar.zst", &err);
	struct atomic_file *af2 = atomic_file_open(dir, "b.tar.zst", &err);

	(void)state;
	assert_non_null(af);
	assert_non_null(af2);
	assert_int_equal(writer_write(atomic_file_writer(af), "x", 1, &err), 0);
	assert_int_equal(writer_write(atomic_file_writer(af2), "y", 1, &err), 0);
	atomic_file_abort(af);
	assert_string_equal(atomic_file_temp_path(af), "");
	atomic_file_abort(af);	/* twice is fine */
	assert_int_equal(atomic_file_commit(af, &err), -1);
	atomic_file_free(af);
	atomic_file_free(af2);	/* never committed */
	assert_dir(dir, "");
	strbuf_release(&err);
	rm_dir(dir);
}

static void atomic_write_error_names_the_file(void **state)
{
	char *dir = make_dir("full");
	struct strbuf err = STRBUF_INIT;
	struct atomic_file *af = atomic_file_open(dir, "big.tar.gz", &err);
	struct rlimit old, lim;
	static char block[4096];
	int r;

	(void)state;
	assert_non_null(af);
	/* A file size limit makes the first write short and the next fail. */
	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = 1000;
	setrlimit(RLIMIT_FSIZE, &lim);
	r = writer_write(atomic_file_writer(af), block, sizeof(block), &err);
	setrlimit(RLIMIT_FSIZE, &old);
	assert_int_equal(r, -1);
	if (!strstr(err.buf, "write '") || !strstr(err.buf, "/big.tar.gz': File too large"))
		fail_msg("unexpected message \"%s\"", err.buf);
	assert_int_equal(atomic_file_commit(af, &err), -1);
	assert_non_null(strstr(err.buf, "not saved"));
	atomic_file_free(af);
	assert_dir(dir, "");
	strbuf_release(&err);
	rm_dir(dir);
}

static void atomic_open_refuses_bad_names(void **state)
{
	static const char *const bad[] = { "", "a/b", ".", "..", "/abs" };
	char *dir = make_dir("names");
	struct strbuf err = STRBUF_INIT, missing = STRBUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		strbuf_reset(&err);
		assert_null(atomic_file_open(dir, bad[i], &err));
		assert_non_null(strstr(err.buf, "not a valid file name"));
	}
	strbuf_addf(&missing, "%s/nope", dir);
	assert_null(atomic_file_open(missing.buf, "a", &err));
	assert_non_null(strstr(err.buf, missing.buf));
	assert_dir(dir, "");
	strbuf_release(&err);
	strbuf_release(&missing);
	rm_dir(dir);
}

static void atomic_remove_stale_removes_only_temporaries(void **state)
{
	static const char *const files[] = {
		".a.tar.gz.tmp-123-deadbeef", ".manifest.json.tmp-99999-0123abcd",
		"a.tar.gz", ".hidden", "a.tmp-1-deadbeef", ".b.tmp-12-DEADBEEF",
	};
	char *dir = make_dir("stale");
	struct strbuf err = STRBUF_INIT, path = STRBUF_INIT;
	struct atomic_file *live;

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/%s", dir, files[i]);
		write_file(path.buf, "x", 1);
	}
	strbuf_reset(&path);
	strbuf_addf(&path, "%s/.d.tmp-5-00000000", dir);	/* a folder: left alone */
	assert_int_equal(mkdir(path.buf, 0755), 0);
	live = atomic_file_open(dir, "c.tar.gz", &err);	/* this process's own */
	assert_non_null(live);

	assert_int_equal(atomic_remove_stale(dir, &err), 3);
	assert_dir(dir, ".b.tmp-12-DEADBEEF .d.tmp-5-00000000 .hidden a.tar.gz a.tmp-1-deadbeef");
	assert_int_equal(atomic_remove_stale(dir, &err), 0);
	atomic_file_free(live);

	strbuf_reset(&path);
	strbuf_addf(&path, "%s/absent", dir);
	assert_int_equal(atomic_remove_stale(path.buf, &err), 0);
	strbuf_release(&err);
	strbuf_release(&path);
	rm_dir(dir);
}

/* The archive chain: gzip -> sha256 -> atomic file, checked end to end. */
static void chain_gzip_sha256_file(void **state)
{
	char *dir = make_dir("chain");
	struct strbuf err = STRBUF_INIT, path = STRBUF_INIT, packed = STRBUF_INIT,
		      back = STRBUF_INIT;
	size_t len = 7 * MiB + 3, members;
	unsigned char *data = make_data(DATA_TEXT, len, 42);
	struct atomic_file *af = atomic_file_open(dir, "x.tar.gz", &err);
	struct writer *sw, *gz;
	char hex[SHA256_HEX_LEN + 1], file_hex[SHA256_HEX_LEN + 1];
	unsigned long long size;
	char *text;

	(void)state;
	assert_non_null(af);
	sw = sha256_writer_new(atomic_file_writer(af));
	gz = gzip_writer_new(sw, 0, 2, &err);
	assert_non_null(sw);
	assert_non_null(gz);
	if (write_blocks(gz, data, len, MiB, &err) < 0 || writer_close(gz, &err) < 0 ||
	    writer_close(sw, &err) < 0 || writer_close(atomic_file_writer(af), &err) < 0 ||
	    atomic_file_commit(af, &err) < 0)
		fail_msg("chain: %s", err.buf);
	assert_int_equal(sha256_writer_hex(sw, hex), 0);

	strbuf_addf(&path, "%s/x.tar.gz", dir);
	assert_int_equal(sha256_file(path.buf, file_hex, &size, &err), 0);
	assert_string_equal(hex, file_hex);
	assert_int_equal(size, sha256_writer_bytes(sw));
	text = read_file(path.buf);
	assert_int_equal(gunzip_all((unsigned char *)text, (size_t)size, &back, &members), 0);
	assert_same_bytes(data, len, &back);

	free(text);
	writer_free(gz);
	writer_free(sw);
	atomic_file_free(af);
	assert_dir(dir, "x.tar.gz");
	free(data);
	strbuf_release(&err);
	strbuf_release(&path);
	strbuf_release(&packed);
	strbuf_release(&back);
	rm_dir(dir);
}

int main(void)
{
	const struct CMUnitTest files[] = {
		cmocka_unit_test(test_bad_levels),
		cmocka_unit_test(test_sha256_file_errors),
		cmocka_unit_test(atomic_commit_shows_the_whole_file),
		cmocka_unit_test(atomic_commit_replaces_an_old_file),
		cmocka_unit_test(atomic_abort_and_free_leave_nothing),
		cmocka_unit_test(atomic_write_error_names_the_file),
		cmocka_unit_test(atomic_open_refuses_bad_names),
		cmocka_unit_test(atomic_remove_stale_removes_only_temporaries),
		cmocka_unit_test(chain_gzip_sha256_file),
	};
	int failed;

	if (!mkdtemp(tmpdir))
		return 1;
	alarm(600);	/* a deadlock fails the run instead of hanging it */
	failed = TABLE_RUN("gzip_writer round trip", rt_cases, test_gzip_round_trip);
	failed += TABLE_RUN("zstd_writer round trip", rt_cases, test_zstd_round_trip);
	failed += TABLE_RUN("failing next writer", fail_cases, test_failing_next);
	failed += TABLE_RUN("sha256_writer", sha_cases, test_sha256);
	failed += TABLE_RUN("atomic_is_temp_name", temp_name_cases, test_temp_name);
	failed += cmocka_run_group_tests_name("codec errors, atomic files, chain", files, NULL, NULL);
	rmdir(tmpdir);
	return failed;
}
