/*
 * lock: flock() on <arch>/.imgvault.lock, with the holder's pid written
 * into it; see lock.h.
 */
#include "lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util/path.h"
#include "../util/text.h"
#include "errtext.h"

static void folder_prefix(struct strbuf *err, const char *dir)
{
	strbuf_addstr(err, "archive folder '");
	text_quote(err, dir);
	strbuf_addstr(err, "'");
}

static int lock_error(struct strbuf *err, const char *dir, const char *what, int e)
{
	folder_prefix(err, dir);
	strbuf_addf(err, ": cannot %s lock file " LOCK_FILE_NAME ": ", what);
	errtext_add(err, strerror(e));
	return LOCK_ERROR;
}

/* The pid the holder wrote, or 0 when there is none (yet). */
static long holder_pid(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	char *end;
	long pid;

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	errno = 0;
	pid = strtol(buf, &end, 10);
	if (errno || end == buf || (*end && *end != '\n') || pid <= 0)
		return 0;
	return pid;
}

static void write_pid(int fd)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

	/* Only a hint for the message a refused run prints: failures are harmless. */
	if (n > 0 && (size_t)n < sizeof(buf) && ftruncate(fd, 0) == 0 &&
	    pwrite(fd, buf, (size_t)n, 0) < 0)
		return;
}

int lock_acquire(struct store_lock *l, const char *dir, int wait, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	struct stat st;
	int fd;

	l->fd = -1;
	if (path_join(&path, dir, LOCK_FILE_NAME) < 0) {
		strbuf_release(&path);
		return lock_error(err, dir, "name", ENOMEM);	/* the cap is far past any path */
	}
	fd = open(path.buf, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK,
		  0644);
	strbuf_release(&path);
	if (fd < 0 && errno == EROFS)
		return LOCK_OK;	/* a read-only archive cannot change under us */
	if (fd < 0)
		return lock_error(err, dir, "open", errno);
	if (fstat(fd, &st) < 0) {
		int e = errno;

		close(fd);
		return lock_error(err, dir, "use", e);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		folder_prefix(err, dir);
		strbuf_addstr(err, ": lock file " LOCK_FILE_NAME " is not a regular file");
		return LOCK_ERROR;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;

		if (e != EWOULDBLOCK) {
			close(fd);
			return lock_error(err, dir, "lock", e);
		}
		if (!wait) {
			long pid = holder_pid(fd);

			folder_prefix(err, dir);
			strbuf_addstr(err, " is in use by another imgvault");
			if (pid)
				strbuf_addf(err, " (pid %ld)", pid);
			strbuf_addstr(err, "; wait for it or stop it");
			close(fd);
			return LOCK_BUSY;
		}
		while (flock(fd, LOCK_EX) < 0) {
			if (errno != EINTR) {
				e = errno;
				close(fd);
				return lock_error(err, dir, "lock", e);
			}
		}
	}
	write_pid(fd);
	l->fd = fd;
	return LOCK_OK;
}

void lock_release(struct store_lock *l)
{
	if (l->fd < 0)
		return;
	if (ftruncate(l->fd, 0) < 0) {
		/* The stale pid only shows in a later refusal's message. */
	}
	close(l->fd);	/* closing drops the flock */
	l->fd = -1;
}
