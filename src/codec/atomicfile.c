/*
 * atomicfile: temporary file, fsync, rename, folder fsync (see
 * atomicfile.h). An atomic_file owns the temporary's descriptor, a
 * descriptor on its folder (so the rename and unlink stay in that folder
 * whatever happens to the current directory) and the temporary itself
 * until it is committed.
 */
#include "atomicfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../util/path.h"

#define TEMP_MARK ".tmp-"
#define TEMP_HEX 8
#define TEMP_SUFFIX_MAX (sizeof(TEMP_MARK) - 1 + 10 + 1 + TEMP_HEX)
#define TEMP_TRIES 64

struct atomic_file {
	struct writer w;
	int fd, dirfd;
	int failed, closed, committed;
	char *dir;
	char name[NAME_MAX + 1];
	char temp_name[NAME_MAX + 1];
	char path[PATH_MAX];		/* dir/name, as given */
	char temp_path[PATH_MAX];	/* absolute; "" once gone */
};

static int af_write(struct writer *w, const void *buf, size_t len, struct strbuf *err)
{
	struct atomic_file *af = (struct atomic_file *)w;
	const char *p = buf;

	if (af->failed || af->closed || af->fd < 0) {
		strbuf_setf(err, "write '%s': file already failed or finished", af->path);
		return -1;
	}
	while (len) {
		ssize_t n = write(af->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			af->failed = 1;
			strbuf_setf(err, "write '%s': %s", af->path, strerror(n < 0 ? errno : EIO));
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int af_close(struct writer *w, struct strbuf *err)
{
	struct atomic_file *af = (struct atomic_file *)w;

	if (af->failed || af->closed) {
		strbuf_setf(err, "write '%s': file already failed or finished", af->path);
		return -1;
	}
	af->closed = 1;
	return 0;
}

static void af_writer_free(struct writer *w)
{
	(void)w;	/* the atomic_file owns its writer */
}

static unsigned int random32(void)
{
	static unsigned int counter;
	unsigned int r;
	struct timespec ts;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) == (ssize_t)sizeof(r))
		return r;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (unsigned int)ts.tv_nsec ^ ((unsigned int)ts.tv_sec << 12) ^
	       (__atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED) * 2654435761u);
}

/* Copy sb into a fixed array, or fail if it does not fit. */
static int set_fixed(char *dst, size_t size, const struct strbuf *sb)
{
	if (sb->toobig || sb->len >= size)
		return -1;
	memcpy(dst, strbuf_str(sb), sb->len + 1);
	return 0;
}

/* Pick a fresh temporary name and create it (O_EXCL, so never someone else's). */
static int create_temp(struct atomic_file *af, const char *absdir, struct strbuf *err)
{
	struct strbuf sb = STRBUF_INIT;
	/* Keep the temporary within NAME_MAX however long the name is. */
	int keep = (int)(NAME_MAX - 1 - TEMP_SUFFIX_MAX);
	int r = -1;

	for (int i = 0; i < TEMP_TRIES; i++) {
		/* The strbuf's cap is far past any name: its failures are memory's. */
		if (strbuf_setf(&sb, ".%.*s" TEMP_MARK "%ld-%08x", keep, af->name,
				(long)getpid(), random32()) < 0) {
			strbuf_setf(err, "'%s': out of memory", af->path);
			goto out;
		}
		if (set_fixed(af->temp_name, sizeof(af->temp_name), &sb) < 0)
			break;
		strbuf_reset(&sb);
		if (path_join(&sb, absdir, af->temp_name) < 0) {
			strbuf_setf(err, "'%s': out of memory", af->path);
			goto out;
		}
		if (set_fixed(af->temp_path, sizeof(af->temp_path), &sb) < 0) {
			strbuf_setf(err, "'%s': path too long", af->path);
			goto out;
		}
		af->fd = openat(af->dirfd, af->temp_name,
				O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (af->fd >= 0) {
			r = 0;
			goto out;
		}
		if (errno != EEXIST) {
			strbuf_setf(err, "create '%s': %s", af->temp_path, strerror(errno));
			goto out;
		}
	}
	strbuf_setf(err, "create a temporary for '%s': no free name", af->path);
out:
	if (r < 0)
		af->temp_path[0] = '\0';
	strbuf_release(&sb);
	return r;
}

static int valid_name(const char *name)
{
	return name[0] && !strchr(name, '/') && strcmp(name, ".") && strcmp(name, "..") &&
	       strlen(name) <= NAME_MAX;
}

struct atomic_file *atomic_file_open(const char *dir, const char *name,
				     struct strbuf *err)
{
	struct strbuf sb = STRBUF_INIT;
	struct atomic_file *af;

	if (!valid_name(name)) {
		strbuf_setf(err, "'%s': not a valid file name", name);
		return NULL;
	}
	af = calloc(1, sizeof(*af));
	if (!af || !(af->dir = strdup(dir))) {
		strbuf_setf(err, "'%s': out of memory", name);
		free(af);
		return NULL;
	}
	af->fd = af->dirfd = -1;
	af->w.write = af_write;
	af->w.close = af_close;
	af->w.free = af_writer_free;
	memcpy(af->name, name, strlen(name) + 1);
	if (path_join(&sb, dir, name) < 0) {
		strbuf_setf(err, "'%s/%s': out of memory", dir, name);
		goto fail;
	}
	if (set_fixed(af->path, sizeof(af->path), &sb) < 0) {
		strbuf_setf(err, "'%s/%s': path too long", dir, name);
		goto fail;
	}
	af->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (af->dirfd < 0) {
		strbuf_setf(err, "open folder '%s': %s", dir, strerror(errno));
		goto fail;
	}
	strbuf_reset(&sb);
	if (path_absolute(&sb, dir) < 0) {
		strbuf_setf(err, "'%s': cannot make the path absolute: %s", dir, strerror(errno));
		goto fail;
	}
	if (create_temp(af, strbuf_str(&sb), err) < 0)
		goto fail;
	strbuf_release(&sb);
	return af;

fail:
	strbuf_release(&sb);
	atomic_file_free(af);
	return NULL;
}

struct writer *atomic_file_writer(struct atomic_file *af)
{
	return &af->w;
}

const char *atomic_file_temp_path(const struct atomic_file *af)
{
	return af->temp_path;
}

const char *atomic_file_path(const struct atomic_file *af)
{
	return af->path;
}

/* Some file systems cannot sync a folder; that is no error. */
static int sync_dir(struct atomic_file *af, struct strbuf *err)
{
	if (fsync(af->dirfd) == 0 || errno == EINVAL || errno == ENOTSUP)
		return 0;
	strbuf_setf(err, "fsync folder '%s': %s", af->dir, strerror(errno));
	return -1;
}

int atomic_file_commit(struct atomic_file *af, struct strbuf *err)
{
	int r;

	if (af->committed)
		return 0;
	if (af->failed || af->fd < 0) {
		strbuf_setf(err, "'%s': not saved after an earlier failure", af->path);
		return -1;
	}
	if (fsync(af->fd) < 0) {
		af->failed = 1;
		strbuf_setf(err, "fsync '%s': %s", af->path, strerror(errno));
		return -1;
	}
	r = close(af->fd);
	af->fd = -1;
	if (r < 0 && errno != EINTR) {
		af->failed = 1;
		strbuf_setf(err, "close '%s': %s", af->path, strerror(errno));
		return -1;
	}
	if (renameat(af->dirfd, af->temp_name, af->dirfd, af->name) < 0) {
		af->failed = 1;
		strbuf_setf(err, "rename '%s' to '%s': %s", af->temp_path, af->path,
			    strerror(errno));
		return -1;
	}
	af->committed = 1;
	af->temp_path[0] = '\0';
	return sync_dir(af, err);
}

int atomic_file_committed(const struct atomic_file *af)
{
	return af->committed;
}

void atomic_file_abort(struct atomic_file *af)
{
	if (af->fd >= 0) {
		close(af->fd);
		af->fd = -1;
	}
	if (!af->committed && af->temp_path[0]) {
		unlinkat(af->dirfd, af->temp_name, 0);
		af->temp_path[0] = '\0';
	}
	af->failed = 1;
}

void atomic_file_free(struct atomic_file *af)
{
	if (!af)
		return;
	atomic_file_abort(af);
	if (af->dirfd >= 0)
		close(af->dirfd);
	free(af->dir);
	free(af);
}

int atomic_write_all(const char *dir, const char *name, const void *data,
		     size_t len, struct strbuf *err)
{
	struct atomic_file *af = atomic_file_open(dir, name, err);
	int r;

	if (!af)
		return -1;
	r = writer_write(&af->w, data, len, err);
	if (r == 0)
		r = atomic_file_commit(af, err);
	atomic_file_free(af);
	return r;
}

static int is_hex_lower(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

int atomic_is_temp_name(const char *name)
{
	size_t len = strlen(name), mark = sizeof(TEMP_MARK) - 1, i, digits = 0;

	/* "." name ".tmp-" pid "-" hex, read from the end */
	if (name[0] != '.' || len < 2 + mark + 1 + 1 + TEMP_HEX)
		return 0;
	for (i = len - TEMP_HEX; i < len; i++)
		if (!is_hex_lower(name[i]))
			return 0;
	i = len - TEMP_HEX - 1;
	if (name[i] != '-')
		return 0;
	while (i > 0 && name[i - 1] >= '0' && name[i - 1] <= '9') {
		i--;
		digits++;
	}
	if (digits == 0 || digits > 10 || i < 2 + mark)
		return 0;
	return memcmp(name + i - mark, TEMP_MARK, mark) == 0;
}

int atomic_remove_stale(const char *dir, struct strbuf *err)
{
	struct dirent *de;
	int removed = 0, failed = 0;
	DIR *d = opendir(dir);

	if (!d) {
		if (errno == ENOENT)
			return 0;
		strbuf_setf(err, "open folder '%s': %s", dir, strerror(errno));
		return -1;
	}
	while ((errno = 0, de = readdir(d))) {
		struct stat st;

		if (!atomic_is_temp_name(de->d_name))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == 0)
			removed++;
		else if (errno != ENOENT && !failed++)
			strbuf_setf(err, "remove '%s/%s': %s", dir, de->d_name, strerror(errno));
	}
	if (errno && !failed++)
		strbuf_setf(err, "read folder '%s': %s", dir, strerror(errno));
	closedir(d);
	return failed ? -1 : removed;
}
