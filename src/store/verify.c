/*
 * verify: one entry's file against the manifest (path, size, sha256, and
 * deep through verify_deep.c), the orphans of an arch folder, and the
 * pool of threads that checks a whole manifest. See verify.h.
 *
 * A manifest's "file" is only opened once it resolves, symlinks and all,
 * to a path inside the arch folder; the file is then opened by that
 * resolved path without following a final symlink, and where /proc lets
 * us, the open descriptor's path is checked once more, so a symlink
 * swapped in between never makes us read outside.
 */
#include "verify.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../util/path.h"
#include "../util/strmap.h"
#include "../util/text.h"
#include "errtext.h"
#include "lock.h"

#define HASH_BLOCK ((size_t)1 << 20)

/* ---- pure checks ------------------------------------------------------- */

enum verify_status verify_compare(long long want_size, const char *want_sha,
				  unsigned long long got_size, const char *got_sha,
				  struct strbuf *why)
{
	if (want_size < 0 || (unsigned long long)want_size != got_size) {
		strbuf_addf(why, "size expected %lld, got %llu", want_size, got_size);
		return VERIFY_MISMATCH;
	}
	if (!want_sha || !*want_sha) {
		strbuf_addf(why, "the manifest records no sha256 (the file's is %s)",
			    got_sha ? got_sha : "not known");
		return VERIFY_MISMATCH;
	}
	if (!got_sha || strcmp(want_sha, got_sha)) {
		strbuf_addf(why, "sha256 expected %s, got %s", want_sha, got_sha ? got_sha : "nothing");
		return VERIFY_MISMATCH;
	}
	return VERIFY_OK;
}

static int has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && !strcmp(s + n - m, suffix);
}

int verify_orphan_name(const char *name)
{
	return name[0] != '.' && (has_suffix(name, ".tar.gz") || has_suffix(name, ".tar.zst"));
}

/* ---- where a file is ------------------------------------------------------ */

static int inside(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (!strcmp(dir, "/"))
		return path[0] == '/';
	return !strncmp(path, dir, n) && (path[n] == '/' || path[n] == '\0');
}

static enum verify_status outside(const char *to, struct strbuf *why)
{
	strbuf_addstr(why, "resolves outside the archive folder (to '");
	text_quote(why, to);
	strbuf_addstr(why, "'); not read");
	return VERIFY_CORRUPT;
}

/* Where the dangling symlink at path would lead, taken lexically, into out. */
static int dangling_target(const char *path, struct strbuf *out)
{
	struct strbuf dir = STRBUF_INIT, joined = STRBUF_INIT;
	const char *slash = strrchr(path, '/');
	char buf[PATH_MAX], *real = NULL;
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	int ret = -1;

	if (n >= 0 && slash) {
		buf[n] = '\0';
		strbuf_add(&dir, path, (size_t)(slash - path));
		real = realpath(dir.len ? dir.buf : "/", NULL);
	}
	if (real && path_join(&joined, real, buf) == 0 && path_absolute(out, joined.buf) == 0)
		ret = 0;
	free(real);
	strbuf_release(&dir);
	strbuf_release(&joined);
	return ret;
}

/*
 * full (under arch_real) does not resolve. Find the deepest thing on the
 * way that exists: VERIFY_MISSING when it (or, dangling, the symlink's
 * target) stays inside arch_real, else VERIFY_CORRUPT.
 */
static enum verify_status missing_or_outside(const char *arch_real, const char *full,
					     struct strbuf *why)
{
	struct strbuf p = STRBUF_INIT, to = STRBUF_INIT;
	enum verify_status st = VERIFY_MISSING;
	struct stat sb;

	strbuf_addstr(&p, full);
	while (p.len > strlen(arch_real)) {
		char *slash, *real;

		if (lstat(p.buf, &sb) == 0) {
			real = realpath(p.buf, NULL);
			if (real ? !inside(real, arch_real)
				 : S_ISLNK(sb.st_mode) && dangling_target(p.buf, &to) == 0 &&
					   !inside(to.buf, arch_real))
				st = outside(real ? real : to.buf, why);
			free(real);
			break;
		}
		if (!(slash = strrchr(p.buf, '/')))
			break;
		p.len = (size_t)(slash - p.buf);
		p.buf[p.len] = '\0';
	}
	strbuf_release(&p);
	strbuf_release(&to);
	return st;
}

enum verify_status verify_resolve(const char *arch_real, const char *file, struct strbuf *out,
				  struct strbuf *why)
{
	struct strbuf full = STRBUF_INIT;
	enum verify_status st = VERIFY_OK;
	char *real;

	if (manifest_file_valid(file, why) < 0) {
		strbuf_addstr(why, "; not read");
		return VERIFY_CORRUPT;
	}
	if (path_join(&full, arch_real, file) < 0) {
		/* 64 MiB of path is not a real case: the allocation failed. */
		strbuf_addstr(why, strlen(arch_real) + strlen(file) + 2 > STRBUF_DEFAULT_CAP
					   ? "path too long" : "out of memory");
		strbuf_release(&full);
		return VERIFY_CORRUPT;
	}
	real = realpath(full.buf, NULL);
	if (real && inside(real, arch_real)) {
		if (strbuf_addstr(out, real) < 0) {
			strbuf_addstr(why, "out of memory");
			st = VERIFY_CORRUPT;
		}
	} else if (real) {
		st = outside(real, why);
	} else if (errno == ENOENT || errno == ENOTDIR) {
		st = missing_or_outside(arch_real, full.buf, why);
	} else {
		strbuf_addstr(why, "cannot resolve it: ");
		errtext_add(why, strerror(errno));
		st = VERIFY_CORRUPT;
	}
	free(real);
	strbuf_release(&full);
	return st;
}

/* Where the open descriptor really is, when /proc says; 1 when inside or unknown. */
static int fd_inside(int fd, const char *arch_real, struct strbuf *where)
{
	char link[64], buf[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf, sizeof(buf) - 1);
	if (n < 0)
		return 1;
	buf[n] = '\0';
	strbuf_addstr(where, buf);
	return inside(buf, arch_real);
}

/* ---- one entry ---------------------------------------------------------- */

static int hash_fd(int fd, unsigned char *buf, size_t bufsize, const struct verify_result *r,
		   char hex[65], unsigned long long *size, struct strbuf *why)
{
	static const char digits[] = "0123456789abcdef";
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char sum[EVP_MAX_MD_SIZE];
	int ret = -1;

	*size = 0;
	if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
		unsigned long e = ERR_get_error();

		/*
		 * SHA-256 is built into OpenSSL's default provider: failing to
		 * start it means OpenSSL could not set itself up, in practice
		 * for lack of memory, whatever reason it records ("unsupported"
		 * when the provider could not be loaded, "internal error", …).
		 */
		if (!md || !e || !ERR_reason_error_string(e))
			strbuf_addstr(why, "sha256 could not start: out of memory");
		else
			strbuf_addf(why, "sha256 could not start (OpenSSL: %s; out of memory?)",
				    ERR_reason_error_string(e));
		ERR_clear_error();
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf, bufsize);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			strbuf_addstr(why, "read error: ");
			errtext_add(why, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (!EVP_DigestUpdate(md, buf, (size_t)n)) {
			strbuf_addstr(why, "sha256 failed");
			goto out;
		}
		*size += (unsigned long long)n;
		if (r->on_bytes)
			r->on_bytes(r->bytes_ctx, (unsigned long long)n);
	}
	if (!EVP_DigestFinal_ex(md, sum, NULL)) {
		strbuf_addstr(why, "sha256 failed");
		goto out;
	}
	for (int i = 0; i < 32; i++) {
		hex[2 * i] = digits[sum[i] >> 4];
		hex[2 * i + 1] = digits[sum[i] & 15];
	}
	hex[64] = '\0';
	ret = 0;
out:
	EVP_MD_CTX_free(md);
	return ret;
}

/* Open the resolved path; VERIFY_OK with *fd, else the status with why set. */
static enum verify_status open_file(const char *arch_real, const char *path,
				    int *fd, struct stat *sb, struct strbuf *why)
{
	struct strbuf where = STRBUF_INIT;
	enum verify_status st = VERIFY_OK;

	*fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
	if (*fd < 0) {
		if (errno == ENOENT)
			return VERIFY_MISSING;
		strbuf_addstr(why, "cannot open it: ");
		errtext_add(why, strerror(errno));
		return VERIFY_CORRUPT;
	}
	if (!fd_inside(*fd, arch_real, &where)) {
		st = outside(strbuf_str(&where), why);
	} else if (fstat(*fd, sb) < 0) {
		strbuf_addstr(why, "cannot stat it: ");
		errtext_add(why, strerror(errno));
		st = VERIFY_CORRUPT;
	} else if (!S_ISREG(sb->st_mode)) {
		strbuf_addstr(why, "not a regular file");
		st = VERIFY_CORRUPT;
	}
	if (st != VERIFY_OK) {
		close(*fd);
		*fd = -1;
	}
	strbuf_release(&where);
	return st;
}

/* Read the whole file: plain hashing, or deep. Sets r; -1 when it could not be read. */
static void read_file(int fd, const struct manifest_entry *e, int deep, unsigned char *buf,
		      size_t bufsize, struct verify_result *r)
{
	struct strbuf inner = STRBUF_INIT;
	unsigned long long got = 0;
	char hex[65];
	int rc;

	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	if (deep) {
		rc = verify_deep_fd(fd, e->file, e->docker_id, hex, &got, &inner);
		if (r->on_bytes)
			r->on_bytes(r->bytes_ctx, got);
	} else {
		rc = hash_fd(fd, buf, bufsize, r, hex, &got, &inner);
	}
	if (rc >= 0)
		memcpy(r->sha256, hex, sizeof(r->sha256));
	if (rc < 0) {
		r->status = VERIFY_CORRUPT;
		strbuf_addstr(&r->why, strbuf_str(&inner));
	} else if ((r->status = verify_compare(e->size, e->sha256, got, hex, &r->why)) !=
		   VERIFY_OK) {
		if (deep && rc == 1)
			strbuf_addf(&r->why, "; the archive itself is also corrupt: %s",
				    strbuf_str(&inner));
		else if (deep)
			strbuf_addstr(&r->why, "; the archive itself reads back intact");
	} else if (rc == 1) {
		r->status = VERIFY_CORRUPT;
		strbuf_addstr(&r->why, strbuf_str(&inner));
	}
	strbuf_release(&inner);
}

void verify_entry(const char *arch_real, const struct manifest_entry *e, int deep,
		  unsigned char *buf, size_t bufsize, struct verify_result *r)
{
	struct strbuf path = STRBUF_INIT;
	struct stat sb;
	struct timespec t0, t1;
	int fd = -1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	r->file = e->file;
	r->entry = e;
	r->status = verify_resolve(arch_real, e->file, &path, &r->why);
	if (r->status == VERIFY_OK)
		r->status = open_file(arch_real, strbuf_str(&path), &fd, &sb, &r->why);
	strbuf_release(&path);
	if (r->status != VERIFY_OK)
		return;
	r->size = (unsigned long long)sb.st_size;
	/* A file of the wrong size needs no hashing to be known wrong. */
	if (e->size < 0 || (unsigned long long)e->size != r->size)
		r->status = verify_compare(e->size, e->sha256, r->size, NULL, &r->why);
	else
		read_file(fd, e, deep, buf, bufsize, r);
	close(fd);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	r->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
}

/* ---- orphans ------------------------------------------------------------ */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list_error(struct strbuf *err, const char *dir)
{
	if (err->len)
		return;	/* the first one says enough */
	strbuf_addstr(err, "cannot list '");
	text_quote(err, dir);
	strbuf_addstr(err, "': ");
	errtext_add(err, strerror(errno));
}

/* The orphans in one project folder. */
static int project_orphans(const char *dir, const char *project, const struct strmap *named,
			   struct strlist *out, struct strbuf *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int ret = 0;

	if (!d) {
		list_error(err, dir);
		return -1;
	}
	while ((de = readdir(d))) {
		struct strbuf rel = STRBUF_INIT, full = STRBUF_INIT;
		struct stat sb;

		if (!verify_orphan_name(de->d_name))
			continue;
		strbuf_addf(&rel, "%s/%s", project, de->d_name);
		path_join(&full, dir, de->d_name);
		if (!strmap_find(named, rel.buf, rel.len) && lstat(full.buf, &sb) == 0 &&
		    !S_ISDIR(sb.st_mode) && strlist_add(out, rel.buf) < 0) {
			strbuf_addstr(err, "out of memory");
			ret = -1;
		}
		strbuf_release(&rel);
		strbuf_release(&full);
	}
	closedir(d);
	return ret;
}

int verify_find_orphans(const char *arch_dir, const struct manifest *m,
			const struct strlist *projects, struct strlist *out, struct strbuf *err)
{
	struct strmap named = STRMAP_INIT;
	size_t first = out->n;
	DIR *d;
	struct dirent *de;
	int ret = 0;

	for (size_t i = 0; i < manifest_count(m); i++) {
		const char *f = manifest_at(m, i)->file;

		if (!strmap_put(&named, f, strlen(f))) {
			strbuf_addstr(err, "out of memory");
			strmap_free(&named, NULL);
			return -1;
		}
	}
	if (!(d = opendir(arch_dir))) {
		list_error(err, arch_dir);
		strmap_free(&named, NULL);
		return -1;
	}
	while ((de = readdir(d))) {
		struct strbuf sub = STRBUF_INIT;
		struct stat sb;

		if (de->d_name[0] == '.' ||
		    (projects && projects->n && !strlist_has(projects, de->d_name)))
			continue;
		path_join(&sub, arch_dir, de->d_name);
		if (lstat(sub.buf, &sb) == 0 && S_ISDIR(sb.st_mode) &&
		    project_orphans(sub.buf, de->d_name, &named, out, err) < 0)
			ret = -1;
		strbuf_release(&sub);
	}
	closedir(d);
	strmap_free(&named, NULL);
	if (out->n > first)
		qsort(out->items + first, out->n - first, sizeof(char *), cmp_str);
	return ret;
}

/* ---- the pool ------------------------------------------------------------ */

struct job {
	const struct manifest_entry *e;
	const struct manifest_entry *first;	/* an earlier entry naming the same file */
	struct verify_result r;
	int done;		/* under mu */
};

struct pool {
	const char *arch_real;
	int deep;
	struct job *jobs;
	size_t n, next;		/* next under mu */
	pthread_mutex_t mu;
	pthread_cond_t done;
};

/*
 * A second entry naming a file already named: imgvault writes one image
 * per file, so the file cannot hold both (the earlier entry checks it).
 * Restore would load it and find its image missing afterwards.
 */
static void shared_file(struct job *j)
{
	j->r.file = j->e->file;
	j->r.entry = j->e;
	j->r.status = VERIFY_CORRUPT;
	strbuf_addstr(&j->r.why, "the entry for '");
	text_quote(&j->r.why, j->e->image);
	strbuf_addstr(&j->r.why, "' names the file of '");
	text_quote(&j->r.why, j->first->image);
	strbuf_addstr(&j->r.why, "' (project '");
	text_quote(&j->r.why, j->first->project);
	strbuf_addstr(&j->r.why, "'), but one file holds one image (run 'imgvault archive "
		      "--rebuild-manifest' to list what the files hold); not read");
}

/* Point each job whose file an earlier entry of m names at that entry. -1: out of memory. */
static int find_shared(const struct manifest *m, struct pool *p)
{
	struct strmap files = STRMAP_INIT;
	struct strmap_item *it;
	int ret = 0;

	for (size_t i = 0; i < manifest_count(m) && !ret; i++) {
		const struct manifest_entry *e = manifest_at(m, i);

		if (!(it = strmap_put(&files, e->file, strlen(e->file))))
			ret = -1;
		else if (!it->value)
			it->value = (void *)e;
	}
	for (size_t i = 0; i < p->n && !ret; i++) {
		it = strmap_find(&files, p->jobs[i].e->file, strlen(p->jobs[i].e->file));
		if (it && it->value != p->jobs[i].e)
			p->jobs[i].first = it->value;
	}
	strmap_free(&files, NULL);
	return ret;
}

static void *worker(void *arg)
{
	struct pool *p = arg;
	unsigned char *buf = malloc(HASH_BLOCK);

	for (;;) {
		size_t i;

		pthread_mutex_lock(&p->mu);
		i = p->next < p->n ? p->next++ : p->n;
		pthread_mutex_unlock(&p->mu);
		if (i >= p->n)
			break;
		if (p->jobs[i].first) {
			shared_file(&p->jobs[i]);
		} else if (buf) {
			verify_entry(p->arch_real, p->jobs[i].e, p->deep, buf, HASH_BLOCK,
				     &p->jobs[i].r);
		} else {
			p->jobs[i].r.file = p->jobs[i].e->file;
			p->jobs[i].r.status = VERIFY_CORRUPT;
			strbuf_addstr(&p->jobs[i].r.why, "out of memory");
		}
		pthread_mutex_lock(&p->mu);
		p->jobs[i].done = 1;
		pthread_cond_broadcast(&p->done);
		pthread_mutex_unlock(&p->mu);
	}
	free(buf);
	return NULL;
}

static void count(struct verify_counts *c, enum verify_status st)
{
	switch (st) {
	case VERIFY_OK:
		c->ok++;
		break;
	case VERIFY_MISMATCH:
		c->mismatched++;
		break;
	case VERIFY_MISSING:
		c->missing++;
		break;
	case VERIFY_CORRUPT:
		c->corrupt++;
		break;
	case VERIFY_ORPHAN:
		c->orphans++;
		return;
	}
	c->checked++;
}

static int threads_for(int jobs, size_t n)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (jobs <= 0)
		jobs = cpus > 0 ? (int)(cpus < VERIFY_MAX_JOBS ? cpus : VERIFY_MAX_JOBS) : 1;
	if (jobs > VERIFY_MAX_JOBS)
		jobs = VERIFY_MAX_JOBS;
	if ((size_t)jobs > n)
		jobs = n ? (int)n : 1;
	return jobs;
}

/* Check the jobs on the pool, reporting each in order as soon as it is done. */
static void run_jobs(struct pool *p, int jobs, verify_report_fn *report, void *ctx,
		     struct verify_counts *counts)
{
	pthread_t tid[VERIFY_MAX_JOBS];
	int started = 0;

	for (int i = 0; i < jobs; i++)
		if (pthread_create(&tid[started], NULL, worker, p) == 0)
			started++;
	if (!started)
		worker(p);	/* no threads to be had: check them here, in turn */
	for (size_t i = 0; i < p->n; i++) {
		pthread_mutex_lock(&p->mu);
		while (!p->jobs[i].done)
			pthread_cond_wait(&p->done, &p->mu);
		pthread_mutex_unlock(&p->mu);
		count(counts, p->jobs[i].r.status);
		report(ctx, &p->jobs[i].r);
		strbuf_release(&p->jobs[i].r.why);
	}
	for (int i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
}

/* Entries the manifest set aside (verify_opts.rejected): CORRUPT, never read. */
static void report_rejected(const struct strlist *rejected, verify_report_fn *report, void *ctx,
			    struct verify_counts *counts)
{
	for (size_t i = 0; rejected && i < rejected->n; i++) {
		struct verify_result r = { .status = VERIFY_CORRUPT };

		strbuf_addstr(&r.why, rejected->items[i]);
		strbuf_addstr(&r.why, "; not read");
		count(counts, VERIFY_CORRUPT);
		report(ctx, &r);
		strbuf_release(&r.why);
	}
}

static void report_orphans(const struct strlist *orphans, verify_report_fn *report, void *ctx,
			   struct verify_counts *counts)
{
	for (size_t i = 0; i < orphans->n; i++) {
		struct verify_result r = { .status = VERIFY_ORPHAN, .file = orphans->items[i] };

		count(counts, VERIFY_ORPHAN);
		report(ctx, &r);
	}
}

int verify_run(const char *arch_dir, const struct manifest *m, const struct verify_opts *opts,
	       verify_report_fn *report, void *ctx, struct verify_counts *counts,
	       struct strbuf *err)
{
	struct pool p = { .deep = opts->deep, .mu = PTHREAD_MUTEX_INITIALIZER,
			  .done = PTHREAD_COND_INITIALIZER };
	const struct strlist *projects = opts->projects && opts->projects->n ? opts->projects : NULL;
	struct strlist orphans = STRLIST_INIT;
	char *real = realpath(arch_dir, NULL);
	int ret = -1;

	memset(counts, 0, sizeof(*counts));
	if (!real) {
		strbuf_addstr(err, "archive folder '");
		text_quote(err, arch_dir);
		strbuf_addstr(err, "': ");
		errtext_add(err, strerror(errno));
		return -1;
	}
	p.arch_real = real;
	if (manifest_count(m) && !(p.jobs = calloc(manifest_count(m), sizeof(*p.jobs)))) {
		strbuf_addstr(err, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < manifest_count(m); i++) {
		const struct manifest_entry *e = manifest_at(m, i);

		if (!projects || strlist_has(projects, e->project)) {
			p.jobs[p.n].r.on_bytes = opts->on_bytes;
			p.jobs[p.n].r.bytes_ctx = opts->bytes_ctx;
			p.jobs[p.n++].e = e;
		}
	}
	if (find_shared(m, &p) < 0) {
		strbuf_addstr(err, "out of memory");
		goto out;
	}
	/* jansson seeds its hash function once; do it before any thread parses JSON. */
	json_object_seed(0);
	report_rejected(opts->rejected, report, ctx, counts);
	run_jobs(&p, threads_for(opts->jobs, p.n), report, ctx, counts);
	ret = verify_find_orphans(real, m, projects, &orphans, err) < 0 ? 1 : 0;
	report_orphans(&orphans, report, ctx, counts);
out:
	strlist_free(&orphans);
	free(p.jobs);
	free(real);
	return ret;
}

/* ---- the archive run's lock ------------------------------------------------ */

int verify_lock(const char *arch_dir, int *fd, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	const int flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK;
	struct stat sb;
	int f;

	*fd = -1;
	if (path_join(&path, arch_dir, LOCK_FILE_NAME) < 0) {
		strbuf_release(&path);
		return 0;
	}
	f = open(path.buf, flags | O_CREAT, 0644);
	if (f < 0)
		f = open(path.buf, flags);
	strbuf_release(&path);
	/* No lock file to be had (read-only, not ours): nobody can be archiving here. */
	if (f < 0)
		return 0;
	if (fstat(f, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		close(f);
		return 0;
	}
	if (flock(f, LOCK_SH | LOCK_NB) == 0) {
		*fd = f;
		return 0;
	}
	if (errno == EWOULDBLOCK) {
		char buf[32];
		ssize_t n = pread(f, buf, sizeof(buf) - 1, 0);
		long pid = n > 0 ? (buf[n] = '\0', strtol(buf, NULL, 10)) : 0;

		strbuf_addstr(err, "archive folder '");
		text_quote(err, arch_dir);
		strbuf_addstr(err, "' is being written by another imgvault");
		if (pid > 0)
			strbuf_addf(err, " (pid %ld)", pid);
		strbuf_addstr(err, "; verify it once that run is done");
		close(f);
		return -1;
	}
	close(f);
	return 0;
}

void verify_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}
