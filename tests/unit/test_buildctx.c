/*
 * test_buildctx: engine/buildctx against real folders. Each row builds a
 * context in a temporary folder from a list of entries, writes it as a
 * tar into memory, reads that back with libarchive and checks the entry
 * names in order, then every entry's type, mode, owner, mtime, content or
 * link target against what was made. Other tests cover the writer
 * failing, a context that is not a folder, and unreadable files.
 *
 * Entry specs: "name/" a folder, "name -> target" a symlink, "name|" a
 * FIFO, "name=text" a file holding text, "name +x" an executable file
 * holding its name, "name" a file holding its name.
 */
#include "table.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/buildctx.h"
#include "util/strbuf.h"

#define MTIME 1600000000
#define LONG50 "abcdefghij-abcdefghij-abcdefghij-abcdefghij-abcdef"

struct ctx_case {
	const char *name;
	const char *files[20];
	const char *dockerfile;
	const char *extra_name, *extra_data;
	const char *want[20];	/* entry names in tar order */
	const char *err;	/* substring of the error; then want is not checked */
};

static const struct ctx_case cases[] = {
	{ .name = "ignored files and folders, an exception inside, links, a FIFO",
	  .files = { ".dockerignore=Dockerfile\n.dockerignore\n*.log\nsecret\n!secret/keep.txt\n",
		     "Dockerfile=FROM scratch\n", "app.log", "main.c", "link -> main.c",
		     "dangle -> ../nowhere", "run.sh +x", "secret/", "secret/key.pem",
		     "secret/keep.txt", "sub/", "sub/a.txt", "sub/pipe|", "sub/deep/",
		     "sub/deep/debug.log", "empty/" },
	  .want = { ".dockerignore", "Dockerfile", "dangle", "empty/", "link", "main.c", "run.sh",
		    "secret/", "secret/keep.txt", "sub/", "sub/a.txt", "sub/deep/",
		    "sub/deep/debug.log" } },
	{ .name = "no .dockerignore sends everything, names in byte order",
	  .files = { "b", "a/", "a/c", "B", "a-", "Dockerfile" },
	  .want = { "B", "Dockerfile", "a/", "a/c", "a-", "b" } },
	{ .name = "an excluded folder holding the Dockerfile is entered for it",
	  .files = { ".dockerignore=build\n", "build/", "build/Dockerfile", "build/other",
		     "main.c" },
	  .dockerfile = "build/Dockerfile",
	  .want = { ".dockerignore", "build/", "build/Dockerfile", "main.c" } },
	{ .name = "a leading ./ on the Dockerfile path",
	  .files = { ".dockerignore=*\n", "Dockerfile.dev", "x" },
	  .dockerfile = "./Dockerfile.dev",
	  .want = { ".dockerignore", "Dockerfile.dev" } },
	{ .name = "a double star keeps only the Dockerfile and .dockerignore",
	  .files = { ".dockerignore=**\n", "Dockerfile", "a/", "a/b", "c" },
	  .want = { ".dockerignore", "Dockerfile" } },
	{ .name = "an exception elsewhere does not bring back an excluded folder",
	  .files = { ".dockerignore=node_modules\n!docs/keep\n", "docs/", "docs/keep",
		     "node_modules/", "node_modules/x/", "node_modules/x/y" },
	  .want = { ".dockerignore", "docs/", "docs/keep" } },
	{ .name = "a wildcard exception reaches into excluded folders",
	  .files = { ".dockerignore=vendor\n!**/*.go\n", "vendor/", "vendor/a/", "vendor/a/b.go",
		     "vendor/a/b.c" },
	  .want = { ".dockerignore", "vendor/", "vendor/a/", "vendor/a/b.go" } },
	{ .name = "the extra file goes last",
	  .files = { "a", "Dockerfile" },
	  .extra_name = ".dockerfile.0123abcd", .extra_data = "FROM busybox\n",
	  .want = { "Dockerfile", "a", ".dockerfile.0123abcd" } },
	{ .name = "the extra file replaces one of the same name",
	  .files = { "a", "Dockerfile=FROM old\n" },
	  .extra_name = "Dockerfile", .extra_data = "FROM new\n",
	  .want = { "a", "Dockerfile" } },
	{ .name = "an empty extra file",
	  .files = { "a" }, .extra_name = "e", .extra_data = "",
	  .want = { "a", "e" } },
	{ .name = "names longer than ustar's 100 bytes",
	  .files = { LONG50 "/", LONG50 "/" LONG50 "/", LONG50 "/" LONG50 "/" LONG50 ".txt" },
	  .want = { LONG50 "/", LONG50 "/" LONG50 "/", LONG50 "/" LONG50 "/" LONG50 ".txt" } },
	{ .name = "names that are not UTF-8 stay bytes",
	  .files = { "caf\xE9", "\xC3\xA9t\xC3\xA9/", "\xC3\xA9t\xC3\xA9/x" },
	  .want = { "caf\xE9", "\xC3\xA9t\xC3\xA9/", "\xC3\xA9t\xC3\xA9/x" } },
	{ .name = "a bad .dockerignore names its line",
	  .files = { ".dockerignore=a\n!\n", "a" },
	  .err = "'.dockerignore': line 2: illegal exclusion pattern: \"!\"" },
	{ .name = "an extra file name that climbs out is refused",
	  .files = { "a" }, .extra_name = "../x", .extra_data = "",
	  .err = "extra build context file '../x' needs a plain relative name" },
	{ .name = "an absolute extra file name is refused",
	  .files = { "a" }, .extra_name = "/x", .extra_data = "",
	  .err = "needs a plain relative name" },
};

static char *make_tmpdir(void)
{
	const char *tmp = getenv("TMPDIR");
	struct strbuf sb = STRBUF_INIT;

	strbuf_addf(&sb, "%s/imgvault-buildctx.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(sb.buf));
	return strbuf_detach(&sb);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)ftw;
	chmod(path, flag == FTW_DP ? 0700 : 0600);
	return remove(path);
}

static void rm_tree(char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

/* The parts of a spec: the entry's name, its kind and content or target. */
struct spec {
	char name[512];
	char kind;	/* 'f' file, 'd' folder, 'l' link, 'p' FIFO */
	const char *text;	/* file content or link target */
	mode_t mode;
};

static void parse_spec(const char *s, struct spec *sp)
{
	const char *arrow = strstr(s, " -> "), *eq = strchr(s, '=');
	size_t n = strlen(s);

	sp->kind = 'f', sp->mode = 0644, sp->text = NULL;
	if (arrow) {
		sp->kind = 'l', sp->text = arrow + 4, n = (size_t)(arrow - s);
	} else if (eq) {
		sp->text = eq + 1, n = (size_t)(eq - s);
	} else if (n > 3 && !strcmp(s + n - 3, " +x")) {
		sp->mode = 0755, n -= 3;
	} else if (s[n - 1] == '/') {
		sp->kind = 'd', sp->mode = 0755, n--;
	} else if (s[n - 1] == '|') {
		sp->kind = 'p', n--;
	}
	assert_true(n < sizeof(sp->name));
	memcpy(sp->name, s, n);
	sp->name[n] = '\0';
	if (sp->kind == 'f' && !sp->text)
		sp->text = sp->name;
}

static void make_entry(const char *dir, const char *s)
{
	struct strbuf p = STRBUF_INIT;
	struct spec sp;
	int fd;

	parse_spec(s, &sp);
	strbuf_addf(&p, "%s/%s", dir, sp.name);
	switch (sp.kind) {
	case 'd':
		assert_int_equal(mkdir(p.buf, sp.mode), 0);
		break;
	case 'l':
		assert_int_equal(symlink(sp.text, p.buf), 0);
		break;
	case 'p':
		assert_int_equal(mkfifo(p.buf, 0644), 0);
		break;
	default:
		fd = open(p.buf, O_WRONLY | O_CREAT | O_EXCL, 0600);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, sp.text, strlen(sp.text)), (ssize_t)strlen(sp.text));
		assert_int_equal(close(fd), 0);
	}
	if (sp.kind != 'l')
		assert_int_equal(chmod(p.buf, sp.mode), 0);
	strbuf_release(&p);
}

/* Make the entries, then give them all one mtime (folders last). */
static char *make_context(const char *const *files, size_t n)
{
	char *dir = make_tmpdir();
	struct timespec t[2] = { { .tv_sec = MTIME }, { .tv_sec = MTIME } };

	for (size_t i = 0; i < n && files[i]; i++)
		make_entry(dir, files[i]);
	for (size_t i = n; i-- > 0;) {
		struct strbuf p = STRBUF_INIT;
		struct spec sp;

		if (!files[i])
			continue;
		parse_spec(files[i], &sp);
		strbuf_addf(&p, "%s/%s", dir, sp.name);
		assert_int_equal(utimensat(AT_FDCWD, p.buf, t, AT_SYMLINK_NOFOLLOW), 0);
		strbuf_release(&p);
	}
	return dir;
}

static int to_memory(void *ctx, const void *buf, size_t len)
{
	return strbuf_add(ctx, buf, len);
}

/* Check one entry read back against the spec it came from. */
static void check_entry(struct archive *a, struct archive_entry *e, const struct ctx_case *c)
{
	const char *name = archive_entry_pathname(e);
	size_t n = strlen(name);
	struct spec sp = { .kind = 'f', .mode = 0600 };
	int found = c->extra_name && !strcmp(name, c->extra_name);
	char buf[4096];
	la_ssize_t got;

	if (found) {
		sp.text = c->extra_data;
	} else {
		for (size_t i = 0; i < 20 && c->files[i] && !found; i++) {
			parse_spec(c->files[i], &sp);
			found = !strncmp(name, sp.name, n) && sp.name[n] == '\0';
			found |= n && name[n - 1] == '/' && !strncmp(name, sp.name, n - 1) &&
				 sp.name[n - 1] == '\0';
		}
		assert_true(found);
		assert_int_equal(archive_entry_mtime(e), MTIME);
	}
	assert_int_equal(archive_entry_uid(e), 0);
	assert_int_equal(archive_entry_gid(e), 0);
	assert_true(!archive_entry_uname(e) || !*archive_entry_uname(e));
	assert_true(!archive_entry_gname(e) || !*archive_entry_gname(e));
	assert_int_equal(archive_entry_filetype(e), sp.kind == 'd' ? AE_IFDIR
			 : sp.kind == 'l' ? AE_IFLNK : AE_IFREG);
	if (sp.kind == 'l') {
		assert_string_equal(archive_entry_symlink(e), sp.text);
		return;
	}
	assert_int_equal(archive_entry_perm(e), sp.mode);
	if (sp.kind != 'f')
		return;
	got = archive_read_data(a, buf, sizeof(buf));
	assert_true(got >= 0);
	assert_int_equal((size_t)got, strlen(sp.text));
	assert_memory_equal(buf, sp.text, (size_t)got);
}

static void check_tar(const struct strbuf *tar, const struct ctx_case *c)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	size_t i = 0;
	int r;

	assert_non_null(a);
	archive_read_support_format_all(a);
	assert_int_equal(archive_read_open_memory(a, tar->buf, tar->len), ARCHIVE_OK);
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		if (i >= 20 || !c->want[i])
			fail_msg("unexpected entry '%s'", archive_entry_pathname(e));
		if (strcmp(archive_entry_pathname(e), c->want[i]))
			fail_msg("entry %zu is '%s', want '%s'", i, archive_entry_pathname(e),
				 c->want[i]);
		check_entry(a, e, c);
		i++;
	}
	assert_int_equal(r, ARCHIVE_EOF);
	if (i < 20 && c->want[i])
		fail_msg("entry '%s' is missing", c->want[i]);
	archive_read_free(a);
}

static void test_context(void **state)
{
	const struct ctx_case *c = *state;
	char *dir = make_context(c->files, 20);
	struct buildctx_options o = {
		.dir = dir, .dockerfile = c->dockerfile, .extra_name = c->extra_name,
		.extra_data = c->extra_data, .extra_len = c->extra_data ? strlen(c->extra_data) : 0,
	};
	struct strbuf tar = STRBUF_INIT, err = STRBUF_INIT;
	int r = buildctx_write(&o, to_memory, &tar, &err);

	if (c->err) {
		assert_int_equal(r, -1);
		if (!strstr(strbuf_str(&err), c->err))
			fail_msg("error \"%s\" does not contain \"%s\"", strbuf_str(&err), c->err);
	} else {
		if (r != 0)
			fail_msg("%s", strbuf_str(&err));
		check_tar(&tar, c);
	}
	strbuf_release(&tar);
	strbuf_release(&err);
	rm_tree(dir);
}

/* A file of 200000 zero bytes: more than libarchive buffers. */
static void make_big(const char *dir, const char *name)
{
	static const char zeros[200000];
	struct strbuf p = STRBUF_INIT;
	int fd;

	strbuf_addf(&p, "%s/%s", dir, name);
	fd = open(p.buf, O_WRONLY | O_CREAT | O_EXCL, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, zeros, sizeof(zeros)), (ssize_t)sizeof(zeros));
	assert_int_equal(close(fd), 0);
	strbuf_release(&p);
}

/* 1 when libarchive reads the tar to its proper end. */
static int reads_to_end(const struct strbuf *tar)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	int r = ARCHIVE_FATAL;

	assert_non_null(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_memory(a, tar->buf, tar->len) == ARCHIVE_OK)
		while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK)
			if (archive_read_data_skip(a) != ARCHIVE_OK)
				break;
	archive_read_free(a);
	return r == ARCHIVE_EOF;
}

/* A writer that takes `left` bytes, then fails (saying why when asked). */
struct failing {
	size_t left;
	struct strbuf *err;
};

static int fail_later(void *ctx, const void *buf, size_t len)
{
	struct failing *f = ctx;

	(void)buf;
	if (len > f->left) {
		if (f->err)
			strbuf_addstr(f->err, "sending the build context: connection closed");
		return -1;
	}
	f->left -= len;
	return 0;
}

static void writer_failure(size_t after, int says_why, const char *want)
{
	const char *files[] = { "Dockerfile", "z/", "z/a" };
	char *dir = make_context(files, 3);
	struct buildctx_options o = { .dir = dir };
	struct strbuf err = STRBUF_INIT;
	struct failing f = { .left = after, .err = says_why ? &err : NULL };

	make_big(dir, "big");
	assert_int_equal(buildctx_write(&o, fail_later, &f, &err), -1);
	assert_string_equal(strbuf_str(&err), want);
	strbuf_release(&err);
	rm_tree(dir);
}

static void writer_fails_at_once(void **state)
{
	(void)state;
	writer_failure(0, 0, "cannot send the build context: the writer stopped");
}

static void writer_fails_mid_file_and_says_why(void **state)
{
	(void)state;
	writer_failure(50000, 1, "sending the build context: connection closed");
}

static void context_must_be_a_folder(void **state)
{
	char *dir = make_context((const char *[]){ "file" }, 1);
	struct strbuf p = STRBUF_INIT, err = STRBUF_INIT, tar = STRBUF_INIT;
	struct buildctx_options o = { .dir = p.buf };

	(void)state;
	strbuf_addf(&p, "%s/file", dir);
	o.dir = p.buf;
	assert_int_equal(buildctx_write(&o, to_memory, &tar, &err), -1);
	assert_non_null(strstr(strbuf_str(&err), "/file' is not a folder"));
	strbuf_reset(&err);
	strbuf_reset(&p);
	strbuf_addf(&p, "%s/missing", dir);
	o.dir = p.buf;
	assert_int_equal(buildctx_write(&o, to_memory, &tar, &err), -1);
	assert_non_null(strstr(strbuf_str(&err), "/missing' does not exist"));
	assert_int_equal(tar.len, 0);
	strbuf_release(&p);
	strbuf_release(&err);
	strbuf_release(&tar);
	rm_tree(dir);
}

static void same_folder_same_bytes(void **state)
{
	char *dir = make_context(cases[0].files, 20);
	struct buildctx_options o = { .dir = dir };
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT, err = STRBUF_INIT;

	(void)state;
	assert_int_equal(buildctx_write(&o, to_memory, &a, &err), 0);
	assert_int_equal(buildctx_write(&o, to_memory, &b, &err), 0);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.buf, b.buf, a.len);
	strbuf_release(&a);
	strbuf_release(&b);
	strbuf_release(&err);
	rm_tree(dir);
}

/*
 * Unreadable files are an error naming them, and the stream sent so far
 * does not end as a tar; an unreadable excluded folder is no error.
 */
static void unreadable_entries(void **state)
{
	const char *files[] = { ".dockerignore=private\n!**/keep\n", "a/", "a/secret.key", "keep",
				"private/" };
	char *dir;
	struct strbuf p = STRBUF_INIT, err = STRBUF_INIT, tar = STRBUF_INIT;
	struct buildctx_options o = { 0 };

	(void)state;
	if (geteuid() == 0)
		skip();	/* root reads everything */
	dir = make_context(files, 5);
	o.dir = dir;
	strbuf_addf(&p, "%s/private", dir);
	assert_int_equal(chmod(p.buf, 0), 0);
	make_big(dir, "a/big");
	assert_int_equal(buildctx_write(&o, to_memory, &tar, &err), 0);
	assert_true(reads_to_end(&tar));
	strbuf_reset(&tar);
	strbuf_reset(&p);
	strbuf_addf(&p, "%s/a/secret.key", dir);
	assert_int_equal(chmod(p.buf, 0), 0);
	assert_int_equal(buildctx_write(&o, to_memory, &tar, &err), -1);
	assert_string_equal(strbuf_str(&err), "'a/secret.key': cannot read (permission denied)");
	assert_true(tar.len > 0);
	assert_false(reads_to_end(&tar));
	strbuf_release(&p);
	strbuf_release(&err);
	strbuf_release(&tar);
	rm_tree(dir);
}

int main(void)
{
	const struct CMUnitTest extra[] = {
		cmocka_unit_test(writer_fails_at_once),
		cmocka_unit_test(writer_fails_mid_file_and_says_why),
		cmocka_unit_test(context_must_be_a_folder),
		cmocka_unit_test(same_folder_same_bytes),
		cmocka_unit_test(unreadable_entries),
	};

	return TABLE_RUN("buildctx_write", cases, test_context) |
	       cmocka_run_group_tests_name("buildctx failures", extra, NULL, NULL);
}
