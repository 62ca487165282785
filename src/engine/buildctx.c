/*
 * buildctx: the build context as a tar stream; see buildctx.h.
 *
 * The walk holds one open folder a level and reaches every entry through
 * its parent's descriptor with O_NOFOLLOW, so a symlink is never followed
 * and cannot make the walk loop or leave the context. libarchive writes
 * the tar (restricted pax: ustar unless a name or size needs more) into
 * the caller's writer.
 */
#include "buildctx.h"

#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util/fileio.h"
#include "../util/path.h"
#include "../util/strlist.h"
#include "../util/text.h"
#include "dockerignore.h"

#define CHUNK ((size_t)64 << 10)
#define LINK_MAX_LEN ((size_t)64 << 10)

struct walk {
	struct archive *a;
	struct dockerignore ign;
	const char *dockerfile;	/* without a leading "./" */
	const char *extra_name;
	buildctx_write_fn out;
	void *wctx;
	int out_failed;		/* the writer said stop */
	int aborted;		/* stop writing: the stream must stay cut short */
	struct strbuf *err;
	size_t err_start;
	struct strbuf path;	/* the entry at hand, relative to the context */
	char *chunk;
};

/* A folder being walked: its path is path.buf[0..len). */
struct frame {
	struct frame *up;
	size_t len;
	struct stat st;
	int sent;		/* its entry is in the tar (the root never is) */
};

static la_ssize_t on_write(struct archive *a, void *ctx, const void *buf, size_t len)
{
	struct walk *w = ctx;

	if (w->aborted || w->out_failed || w->out(w->wctx, buf, len) < 0) {
		w->out_failed = 1;
		archive_set_error(a, EIO, "the writer stopped");
		return -1;
	}
	return (la_ssize_t)len;
}

static void add_quoted(struct strbuf *sb, const char *rel)
{
	strbuf_addch(sb, '\'');
	text_quote(sb, rel);
	strbuf_addch(sb, '\'');
}

/* "'rel': what (errno text)", lowercase like every message here. */
static int fail_errno(struct walk *w, const char *rel, const char *what, int e)
{
	const char *s = strerror(e);

	add_quoted(w->err, rel);
	strbuf_addf(w->err, ": %s (%c%s)", what, tolower((unsigned char)s[0]), s + 1);
	return -1;
}

static int fail_archive(struct walk *w, const char *rel)
{
	/* libarchive gives no reason when the allocation for one failed. */
	int oom = archive_errno(w->a) == ENOMEM || errno == ENOMEM;

	if (w->out_failed) {
		/* The writer may have said why already, into the same buffer. */
		if (w->err->len == w->err_start)
			strbuf_addstr(w->err, "cannot send the build context: the writer stopped");
		return -1;
	}
	add_quoted(w->err, rel);
	strbuf_addf(w->err, ": %s", archive_error_string(w->a) ? archive_error_string(w->a)
				 : oom ? "cannot write to the tar stream: out of memory"
				 : "cannot write to the tar stream");
	return -1;
}

static int put_header(struct walk *w, const char *rel, const struct stat *st, const char *link)
{
	struct archive_entry *e = archive_entry_new();
	int r;

	if (!e) {
		add_quoted(w->err, rel);
		strbuf_addstr(w->err, ": out of memory");
		return -1;
	}
	archive_entry_copy_pathname(e, rel);
	archive_entry_set_filetype(e, S_ISDIR(st->st_mode) ? AE_IFDIR
				   : S_ISLNK(st->st_mode) ? AE_IFLNK : AE_IFREG);
	archive_entry_set_perm(e, st->st_mode & 07777);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_mtime(e, st->st_mtime, 0);
	archive_entry_set_size(e, S_ISREG(st->st_mode) ? st->st_size : 0);
	if (link)
		archive_entry_copy_symlink(e, link);
	r = archive_write_header(w->a, e);
	archive_entry_free(e);
	return r < ARCHIVE_WARN ? fail_archive(w, rel) : 0;
}

/* Send the entries of the folders above that were left out until now. */
static int send_parents(struct walk *w, struct frame *f)
{
	struct strbuf rel = STRBUF_INIT;
	int r;

	if (f->sent)
		return 0;
	if (send_parents(w, f->up) < 0)
		return -1;
	if (strbuf_add(&rel, w->path.buf, f->len) < 0) {
		strbuf_release(&rel);
		return fail_errno(w, strbuf_str(&w->path), "cannot send", ENOMEM);
	}
	r = put_header(w, rel.buf, &f->st, NULL);
	strbuf_release(&rel);
	f->sent = r == 0;
	return r;
}

static int send_file(struct walk *w, int dirfd, const char *name, struct frame *up)
{
	const char *rel = w->path.buf;
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	off_t left;
	struct stat st;
	int r = -1;

	if (fd < 0)
		return fail_errno(w, rel, "cannot read", errno);
	if (fstat(fd, &st) < 0) {
		fail_errno(w, rel, "cannot read", errno);
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		add_quoted(w->err, rel);
		strbuf_addstr(w->err, ": changed while the context was read");
		goto done;
	}
	if (send_parents(w, up) < 0 || put_header(w, rel, &st, NULL) < 0)
		goto done;
	/* The header promised st_size bytes: a file that grows is cut there. */
	for (left = st.st_size; left > 0;) {
		ssize_t n = read(fd, w->chunk, (size_t)left < CHUNK ? (size_t)left : CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fail_errno(w, rel, "cannot read", errno);
			goto done;
		}
		if (n == 0) {
			add_quoted(w->err, rel);
			strbuf_addstr(w->err, ": shrank while the context was read");
			goto done;
		}
		if (archive_write_data(w->a, w->chunk, (size_t)n) != n) {
			fail_archive(w, rel);
			goto done;
		}
		left -= n;
	}
	r = 0;
done:
	close(fd);
	return r;
}

static int send_link(struct walk *w, int dirfd, const char *name, const struct stat *st,
		     struct frame *up)
{
	const char *rel = w->path.buf;
	size_t size = 256;
	int r;

	for (;;) {
		char *target = malloc(size);
		ssize_t n = target ? readlinkat(dirfd, name, target, size) : -1;
		int e = target ? errno : ENOMEM;

		if (n >= 0 && (size_t)n < size) {
			target[n] = '\0';
			r = send_parents(w, up) < 0 ? -1 : put_header(w, rel, st, target);
			free(target);
			return r;
		}
		free(target);
		if (n < 0)
			return fail_errno(w, rel, "cannot read the link", e);
		if (size >= LINK_MAX_LEN)
			return fail_errno(w, rel, "cannot read the link", ENAMETOOLONG);
		size *= 2;
	}
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in the folder, sorted; -1 with errno set on failure. */
static int read_names(DIR *dp, struct strlist *names)
{
	struct dirent *de;

	for (;;) {
		errno = 0;
		if (!(de = readdir(dp)))
			break;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (strlist_add(names, de->d_name) < 0) {
			errno = ENOMEM;
			return -1;
		}
	}
	if (errno)
		return -1;
	if (names->n)
		qsort(names->items, names->n, sizeof(names->items[0]), by_name);
	return 0;
}

/* 1 when the entry at w->path goes into the tar, 0 when not, -1 on error. */
static int kept(struct walk *w)
{
	const char *rel = w->path.buf;
	int r;

	if (!strcmp(rel, w->dockerfile) || !strcmp(rel, ".dockerignore"))
		return 1;
	r = dockerignore_excluded(&w->ign, rel);
	if (r < 0)
		return fail_errno(w, rel, "cannot match .dockerignore", ENOMEM);
	return !r;
}

/* 1 when the Dockerfile is somewhere below the folder at w->path. */
static int holds_dockerfile(const struct walk *w)
{
	return !strncmp(w->dockerfile, w->path.buf, w->path.len) &&
	       w->dockerfile[w->path.len] == '/';
}

static int walk_dir(struct walk *w, int fd, struct frame *f, int depth);

/*
 * A folder: sent and walked when kept; when excluded, walked only when
 * something inside may still be sent, then sent only if something is.
 */
static int enter_dir(struct walk *w, int dirfd, const char *name, struct frame *up,
		     int keep, int depth)
{
	const char *rel = w->path.buf;
	struct frame f = { .up = up, .len = w->path.len };
	int fd, r = 0, maybe = 1;

	if (!keep && !holds_dockerfile(w)) {
		if ((maybe = dockerignore_may_reinclude(&w->ign, rel)) < 0)
			return fail_errno(w, rel, "cannot match .dockerignore", ENOMEM);
		if (!maybe)
			return 0;
		maybe = 2;	/* only a guess: a folder we cannot read is skipped */
	}
	if (depth >= BUILDCTX_MAX_DEPTH) {
		add_quoted(w->err, rel);
		strbuf_addf(w->err, ": folders nest deeper than %d levels", BUILDCTX_MAX_DEPTH);
		return -1;
	}
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &f.st) < 0) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		if (maybe == 2 && e == EACCES)
			return 0;
		return fail_errno(w, rel, "cannot read", e);
	}
	if (keep && (send_parents(w, up) < 0 || put_header(w, rel, &f.st, NULL) < 0)) {
		close(fd);
		return -1;
	}
	f.sent = keep;
	r = walk_dir(w, fd, &f, depth + 1);
	if (r > 0)	/* w->path is back to this folder, perhaps moved: no rel */
		r = maybe == 2 && r == EACCES ? 0 : fail_errno(w, w->path.buf, "cannot read", r);
	return r;
}

static int walk_entry(struct walk *w, int dirfd, const char *name, struct frame *up,
		      int depth)
{
	struct stat st;
	int keep;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : fail_errno(w, w->path.buf, "cannot read", errno);
	if (w->extra_name && !strcmp(w->path.buf, w->extra_name))
		return 0;	/* the in-memory file takes its place */
	if ((keep = kept(w)) < 0)
		return -1;
	if (S_ISDIR(st.st_mode))
		return enter_dir(w, dirfd, name, up, keep, depth);
	if (!keep)
		return 0;
	if (S_ISREG(st.st_mode))
		return send_file(w, dirfd, name, up);
	if (S_ISLNK(st.st_mode))
		return send_link(w, dirfd, name, &st, up);
	return 0;	/* sockets, FIFOs and devices do not travel */
}

/*
 * Walk the open folder fd (closed here) whose frame is f. Returns 0, -1
 * with err set, or an errno when the folder itself cannot be listed (the
 * caller decides whether that matters).
 */
static int walk_dir(struct walk *w, int fd, struct frame *f, int depth)
{
	struct strlist names = STRLIST_INIT;
	DIR *dp = fdopendir(fd);
	int r = 0;

	if (!dp) {
		r = errno;
		close(fd);
		return r;
	}
	if (read_names(dp, &names) < 0)
		r = errno ? errno : EIO;
	for (size_t i = 0; i < names.n && r == 0; i++) {
		w->path.len = f->len;
		if ((f->len && strbuf_addch(&w->path, '/') < 0) ||
		    strbuf_addstr(&w->path, names.items[i]) < 0)
			r = fail_errno(w, names.items[i], "cannot add it", ENOMEM);	/* far below the cap */
		else
			r = walk_entry(w, dirfd(dp), names.items[i], f, depth);
	}
	w->path.len = f->len;
	if (w->path.buf)
		w->path.buf[f->len] = '\0';
	closedir(dp);
	strlist_free(&names);
	return r;
}

static int load_ignore(struct walk *w, const char *dir)
{
	struct strbuf file = STRBUF_INIT, text = STRBUF_INIT, why = STRBUF_INIT;
	int r = 0;

	if (path_join(&file, dir, ".dockerignore") < 0) {
		r = fail_errno(w, ".dockerignore", "cannot read", ENOMEM);	/* far below the cap */
	} else {
		r = file_read_all(strbuf_str(&file), DOCKERIGNORE_MAX_TEXT, &text, &why);
		if (r == FILEIO_MISSING)
			r = 0;
		else if (r == FILEIO_OK)
			r = dockerignore_parse(&w->ign, strbuf_str(&text), text.len, &why);
		if (r < 0) {
			strbuf_addf(w->err, "'.dockerignore': %s", strbuf_str(&why));
			r = -1;
		}
	}
	strbuf_release(&file);
	strbuf_release(&text);
	strbuf_release(&why);
	return r;
}

/* A name for a file of its own: relative, with no empty, "." or ".." part. */
static int plain_name(const char *p)
{
	if (!*p || *p == '/')
		return 0;
	for (const char *s = p; *s;) {
		size_t n = strcspn(s, "/");

		if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
			return 0;
		s += n;
		if (*s == '/' && !*++s)
			return 0;
	}
	return 1;
}

static int send_extra(struct walk *w, const struct buildctx_options *o)
{
	struct stat st = { .st_mode = S_IFREG | 0600, .st_size = (off_t)o->extra_len };

	if (put_header(w, o->extra_name, &st, NULL) < 0)
		return -1;
	if (o->extra_len && archive_write_data(w->a, o->extra_data, o->extra_len) !=
	    (la_ssize_t)o->extra_len)
		return fail_archive(w, o->extra_name);
	return 0;
}

static int open_context(const struct buildctx_options *o, struct strbuf *err)
{
	int fd;

	if (!o->dir || !*o->dir) {
		strbuf_addstr(err, "no build context folder given");
		return -1;
	}
	fd = open(o->dir, O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		strbuf_addstr(err, "build context ");
		add_quoted(err, o->dir);
		if (e == ENOTDIR)
			strbuf_addstr(err, " is not a folder");
		else if (e == ENOENT)
			strbuf_addstr(err, " does not exist");
		else
			strbuf_addf(err, ": %s", strerror(e));
	}
	return fd;
}

static int start_archive(struct walk *w)
{
	if (!(w->a = archive_write_new())) {
		strbuf_addstr(w->err, "out of memory");
		return -1;
	}
	if (archive_write_set_format_pax_restricted(w->a) != ARCHIVE_OK ||
	    archive_write_add_filter_none(w->a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(w->a, 1) != ARCHIVE_OK ||
	    archive_write_open(w->a, w, NULL, on_write, NULL) != ARCHIVE_OK)
		return fail_archive(w, "build context");
	return 0;
}

static int write_all(struct walk *w, const struct buildctx_options *o, int fd)
{
	struct frame root = { .sent = 1 };
	int r;

	if (load_ignore(w, o->dir) < 0 || start_archive(w) < 0) {
		close(fd);
		return -1;
	}
	if (fstat(fd, &root.st) < 0 || strbuf_addstr(&w->path, "") < 0) {
		close(fd);
		return fail_errno(w, o->dir, "cannot read", errno ? errno : ENOMEM);
	}
	r = walk_dir(w, fd, &root, 0);
	if (r > 0) {
		strbuf_addstr(w->err, "build context ");
		return fail_errno(w, o->dir, "cannot read", r);
	}
	if (r < 0 || (o->extra_name && send_extra(w, o) < 0))
		return -1;
	if (archive_write_close(w->a) != ARCHIVE_OK)
		return fail_archive(w, "build context");
	return 0;
}

int buildctx_write(const struct buildctx_options *o, buildctx_write_fn out, void *wctx,
		   struct strbuf *err)
{
	struct walk w = { .out = out, .wctx = wctx, .err = err, .err_start = err->len,
			  .extra_name = o->extra_name };
	int fd, r = -1;

	w.dockerfile = o->dockerfile && *o->dockerfile ? o->dockerfile : "Dockerfile";
	while (w.dockerfile[0] == '.' && w.dockerfile[1] == '/')
		w.dockerfile += 2;
	if (o->extra_name && !plain_name(o->extra_name)) {
		strbuf_addstr(err, "extra build context file ");
		add_quoted(err, o->extra_name);
		strbuf_addstr(err, " needs a plain relative name");
		return -1;
	}
	if ((fd = open_context(o, err)) < 0)
		return -1;
	if (!(w.chunk = malloc(CHUNK))) {
		close(fd);
		strbuf_addstr(err, "out of memory");
		return -1;
	}
	r = write_all(&w, o, fd);
	if (w.a) {
		/* Freeing closes, and closing would end the tar: not after a failure. */
		w.aborted = r < 0;
		archive_write_free(w.a);
	}
	dockerignore_free(&w.ign);
	strbuf_release(&w.path);
	free(w.chunk);
	return r;
}
