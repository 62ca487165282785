/*
 * test_unpack: archive files read back as the tar they hold — gzip (one
 * member and many), zstd, plain — and damaged ones refused, one row a
 * case. Files are written by the codec writers into a temporary folder.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "table.h"
#include "codec/gzip.h"
#include "codec/memwriter.h"
#include "codec/sha256.h"
#include "codec/unpack.h"
#include "codec/zstd.h"

static char dir[] = "/tmp/imgvault-test-unpack.XXXXXX";

enum damage { INTACT, TRUNCATE, FLIP };

struct unpack_case {
	const char *name;
	char codec;		/* 'g' gzip, 'z' zstd, 'p' plain */
	size_t len;		/* bytes of input */
	enum damage damage;
	enum unpack_kind kind;
	const char *error;	/* substring, or NULL: reads back equal */
};

static const struct unpack_case cases[] = {
	{ "empty gzip", 'g', 0, INTACT, UNPACK_GZIP, NULL },
	{ "gzip, one member", 'g', 1000, INTACT, UNPACK_GZIP, NULL },
	{ "gzip, many 1 MiB members", 'g', 5u << 20, INTACT, UNPACK_GZIP, NULL },
	{ "zstd", 'z', 3u << 20, INTACT, UNPACK_ZSTD, NULL },
	{ "plain tar bytes", 'p', 70000, INTACT, UNPACK_PLAIN, NULL },
	{ "a truncated gzip is refused", 'g', 3u << 20, TRUNCATE, UNPACK_GZIP, "cut short" },
	{ "a truncated zstd is refused", 'z', 3u << 20, TRUNCATE, UNPACK_ZSTD, "" },
	{ "a flipped byte in gzip is refused", 'g', 3u << 20, FLIP, UNPACK_GZIP, "corrupt gzip" },
	{ "a flipped byte in zstd is refused", 'z', 3u << 20, FLIP, UNPACK_ZSTD, "corrupt zstd" },
};

/* Text-like input that compresses, with some variety. */
static void make_input(struct strbuf *in, size_t len)
{
	for (size_t i = 0; in->len < len; i++)
		strbuf_addf(in, "line %zu of the layer %zu\n", i, i * 7919 % 1000);
	in->len = len;
}

static void write_file(const char *path, const struct unpack_case *c, const struct strbuf *in)
{
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	struct writer *mem = mem_writer_new(&out), *w = NULL;
	FILE *f;

	if (c->codec == 'g')
		w = gzip_writer_new(mem, 6, 2, &err);
	else if (c->codec == 'z')
		w = zstd_writer_new(mem, 3, 2, &err);
	if (w) {
		assert_int_equal(writer_write(w, in->buf ? in->buf : "", in->len, &err), 0);
		assert_int_equal(writer_close(w, &err), 0);
	} else {
		assert_int_equal(writer_write(mem, in->buf ? in->buf : "", in->len, &err), 0);
	}
	assert_int_equal(writer_close(mem, &err), 0);
	if (c->damage == TRUNCATE)
		out.len = out.len * 2 / 3;
	if (c->damage == FLIP)
		out.buf[out.len / 2] ^= 0x55;
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(out.buf ? out.buf : "", 1, out.len, f), out.len);
	assert_int_equal(fclose(f), 0);
	writer_free(w);
	writer_free(mem);
	strbuf_release(&out);
	strbuf_release(&err);
}

static void check_row(void **state)
{
	const struct unpack_case *c = *state;
	struct strbuf in = STRBUF_INIT, got = STRBUF_INIT, err = STRBUF_INIT;
	char path[256], hex[65], want[65];
	static char buf[65536];
	unsigned long long size = 0, fsize = 0;
	struct unpack *u;
	ssize_t n;

	make_input(&in, c->len);
	snprintf(path, sizeof(path), "%s/f", dir);
	write_file(path, c, &in);
	u = unpack_open(path, &err);
	assert_non_null(u);
	assert_int_equal(unpack_kind(u), c->kind);
	while ((n = unpack_read(u, buf, sizeof(buf))) > 0)
		strbuf_add(&got, buf, (size_t)n);
	if (c->error) {
		assert_int_equal(n, -1);
		assert_non_null(strstr(unpack_error(u), c->error));
	} else {
		assert_int_equal(n, 0);
		assert_int_equal(got.len, in.len);
		assert_memory_equal(got.buf ? got.buf : "", in.buf ? in.buf : "", in.len);
		unpack_digest(u, hex, &size);
		assert_int_equal(sha256_file(path, want, &fsize, &err), 0);
		assert_string_equal(hex, want);
		assert_int_equal(size, fsize);
	}
	unpack_close(u);
	unlink(path);
	strbuf_release(&in);
	strbuf_release(&got);
	strbuf_release(&err);
}

static void symlink_refused(void **state)
{
	char path[256], link[256];
	struct strbuf err = STRBUF_INIT;

	(void)state;
	snprintf(path, sizeof(path), "%s/target", dir);
	snprintf(link, sizeof(link), "%s/link", dir);
	close(open(path, O_CREAT | O_WRONLY, 0600));
	assert_int_equal(symlink(path, link), 0);
	assert_null(unpack_open(link, &err));
	assert_non_null(strstr(strbuf_str(&err), "symlink"));
	unlink(link);
	unlink(path);
	strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest extra[] = { cmocka_unit_test(symlink_refused) };
	int failed;

	if (!mkdtemp(dir))
		return 1;
	failed = TABLE_RUN("unpack", cases, check_row);
	failed += cmocka_run_group_tests_name("unpack files", extra, NULL, NULL);
	rmdir(dir);
	return failed;
}
