/*
 * Unit tests for store/archive: whatever step fails — the source, the
 * file's fsync, the rename, the folder's fsync after the rename, the
 * caller's before_commit — archive_write returns -1 with a message naming
 * the step, and leaves nothing behind: no temporary and no file under the
 * final name. fsync and renameat are stood in for by this file's own
 * (the library is linked statically, so its calls land here), which fail
 * on request.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "table.h"
#include "store/archive.h"

enum fail_at { FAIL_NONE, FAIL_SOURCE, FAIL_FSYNC_FILE, FAIL_RENAME, FAIL_FSYNC_DIR,
	       FAIL_BEFORE_COMMIT };

static enum fail_at failing;

int fsync(int fd)
{
	struct stat st;

	if ((failing == FAIL_FSYNC_FILE || failing == FAIL_FSYNC_DIR) && fstat(fd, &st) == 0 &&
	    (failing == FAIL_FSYNC_FILE ? S_ISREG(st.st_mode) : S_ISDIR(st.st_mode))) {
		errno = EIO;
		return -1;
	}
	return (int)syscall(SYS_fsync, fd);
}

int renameat(int fromfd, const char *from, int tofd, const char *to)
{
	if (failing == FAIL_RENAME) {
		errno = EIO;
		return -1;
	}
	return (int)syscall(SYS_renameat, fromfd, from, tofd, to);
}

struct row {
	const char *name;
	enum fail_at fail;
	int old_file;		/* a file of an earlier run under the final name */
	int ret;
	const char *err;	/* in the message */
	const char *final;	/* the final name's content afterwards; NULL: none */
};

static const struct row rows[] = {
	{ "every step works", FAIL_NONE, 0, 0, "", "new" },
	{ "every step works, replacing an old file", FAIL_NONE, 1, 0, "", "new" },
	{ "the source fails", FAIL_SOURCE, 0, -1, "the engine went away", NULL },
	{ "the source fails, the old file stays", FAIL_SOURCE, 1, -1, "the engine went away", "old" },
	{ "the file's fsync fails", FAIL_FSYNC_FILE, 0, -1, "fsync '", NULL },
	{ "the rename fails, the old file stays", FAIL_RENAME, 1, -1, "rename '", "old" },
	{ "the folder's fsync after the rename fails: the file goes too", FAIL_FSYNC_DIR, 0, -1,
	  "fsync folder '", NULL },
	{ "the folder's fsync fails over an old file: neither stays", FAIL_FSYNC_DIR, 1, -1,
	  "fsync folder '", NULL },
	{ "before_commit refuses, the old file stays", FAIL_BEFORE_COMMIT, 1, -1,
	  "manifest not saved", "old" },
};

static int source(void *ctx, int (*sink)(void *, const char *, size_t), void *sink_ctx,
		  struct strbuf *err)
{
	const struct row *r = ctx;

	if (sink(sink_ctx, "new", 3) < 0)
		return -1;
	if (r->fail == FAIL_SOURCE) {
		strbuf_addstr(err, "the engine went away");
		return -1;
	}
	return 0;
}

static int before_commit(void *ctx, struct strbuf *err)
{
	const struct row *r = ctx;

	if (r->fail != FAIL_BEFORE_COMMIT)
		return 0;
	strbuf_addstr(err, "manifest not saved");
	return -1;
}

/* The final file's content, decompressed by gzip -dc; NULL when it is not there. */
static char *final_content(const char *path)
{
	struct strbuf cmd = STRBUF_INIT;
	char buf[64] = "";
	size_t n;
	FILE *f;

	if (access(path, F_OK) < 0)
		return NULL;
	strbuf_addf(&cmd, "gzip -dc '%s'", path);
	f = popen(cmd.buf, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	pclose(f);
	strbuf_release(&cmd);
	return strdup(buf);
}

static void test_archive_write(void **state)
{
	const struct row *r = *state;
	char dir[] = "/tmp/imgvault-test-archive.XXXXXX";
	struct strbuf err = STRBUF_INIT, path = STRBUF_INIT;
	struct archive_source src = { source, (void *)r };
	struct archive_target t = { .codec = LAYOUT_GZIP, .level = 1, .threads = 1,
				    .before_commit = before_commit, .ctx = (void *)r };
	struct archive_result res;
	struct dirent *de;
	char *got;
	DIR *d;
	int ret;

	assert_non_null(mkdtemp(dir));
	t.dir = dir;
	t.name = "img.tar.gz";
	strbuf_addf(&path, "%s/img.tar.gz", dir);
	if (r->old_file) {
		struct strbuf cmd = STRBUF_INIT;

		strbuf_addf(&cmd, "printf old | gzip > '%s'", path.buf);
		assert_int_equal(system(cmd.buf), 0);
		strbuf_release(&cmd);
	}
	failing = r->fail;
	ret = archive_write(&src, &t, &res, &err);
	failing = FAIL_NONE;
	assert_int_equal(ret, r->ret);
	if (!strstr(strbuf_str(&err), r->err))
		fail_msg("message \"%s\" lacks \"%s\"", strbuf_str(&err), r->err);
	got = final_content(path.buf);
	if (r->final && (!got || strcmp(got, r->final)))
		fail_msg("the final name holds \"%s\", wanted \"%s\"", got ? got : "(nothing)",
			 r->final);
	if (!r->final && got)
		fail_msg("the final name holds \"%s\", wanted nothing there", got);
	free(got);
	/* No temporary, whatever happened; then clean up. */
	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d))) {
		struct strbuf p = STRBUF_INIT;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (strcmp(de->d_name, "img.tar.gz"))
			fail_msg("left behind: %s", de->d_name);
		strbuf_addf(&p, "%s/%s", dir, de->d_name);
		unlink(p.buf);
		strbuf_release(&p);
	}
	closedir(d);
	rmdir(dir);
	strbuf_release(&err);
	strbuf_release(&path);
}

int main(void)
{
	return TABLE_RUN("archive_write failures", rows, test_archive_write);
}
