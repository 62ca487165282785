/*
 * fileio: bounded, non-blocking reads of whole regular files.
 */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void size_text(struct strbuf *sb, unsigned long long n)
{
	strbuf_addf(sb, "%.1f MiB", (double)n / (1024.0 * 1024.0));
}

int file_read_all(const char *path, size_t max, struct strbuf *out,
		  struct strbuf *err)
{
	struct stat st;
	int fd;

	strbuf_reset(out);
	/* O_NONBLOCK: opening a FIFO for reading must not wait for a writer. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		int e = errno;

		strbuf_addstr(err, strerror(e));
		if (e == ENOENT && file_exists_nofollow(path)) {
			strbuf_reset(err);
			strbuf_addstr(err, "dangling symlink");
		}
		return e == ENOENT ? FILEIO_MISSING : FILEIO_ERROR;
	}
	if (fstat(fd, &st) < 0) {
		strbuf_addstr(err, strerror(errno));
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		strbuf_addstr(err, "is a directory");
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		strbuf_addstr(err, "not a regular file");
		goto fail;
	}
	if ((unsigned long long)st.st_size > max) {
		strbuf_addstr(err, "too large (");
		size_text(err, (unsigned long long)st.st_size);
		strbuf_addstr(err, ", limit ");
		size_text(err, max);
		strbuf_addch(err, ')');
		goto fail;
	}
	for (;;) {
		char chunk[65536];
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			strbuf_addstr(err, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		if (out->len + (size_t)n > max) {
			strbuf_addstr(err, "too large (grew while read)");
			goto fail;
		}
		if (strbuf_add(out, chunk, (size_t)n) < 0) {
			strbuf_addstr(err, "out of memory");
			goto fail;
		}
	}
	close(fd);
	return FILEIO_OK;
fail:
	close(fd);
	strbuf_reset(out);
	return FILEIO_ERROR;
}

int file_is_regular(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int file_is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int file_exists_nofollow(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}
