/*
 * verify: check an arch folder (<base>/<arch>/) against its manifest.json
 * — every entry's file is there, inside the folder, with the size and
 * SHA-256 the manifest records; files no entry names are orphans — and,
 * deep, that each archive decompresses to a complete `docker save` tar
 * whose image config hashes to the entry's docker_id and whose layers
 * hash to the config's diff_ids.
 *
 * Files are checked on a pool of worker threads, one whole file each;
 * results come back to the caller's thread in manifest order. Nothing
 * here prints: results go to a callback, messages into strbufs.
 */
#ifndef IMGVAULT_STORE_VERIFY_H
#define IMGVAULT_STORE_VERIFY_H

#include <stddef.h>

#include "../util/strbuf.h"
#include "../util/strlist.h"
#include "manifest.h"

#define VERIFY_MAX_JOBS 64
#define VERIFY_MAX_TAR_ENTRIES 100000		/* tar entries in one archive (deep) */
#define VERIFY_MAX_JSON ((size_t)16 << 20)	/* docker's manifest.json, one config (deep) */

enum verify_status {
	VERIFY_OK,
	VERIFY_MISMATCH,	/* size or sha256 differ from the manifest */
	VERIFY_MISSING,		/* no file where the entry says */
	VERIFY_CORRUPT,		/* refused (path), unreadable, or broken inside (deep) */
	VERIFY_ORPHAN,		/* an archive file no entry names */
};

/*
 * One file's outcome. file is the manifest's "file" (or, for an orphan,
 * "project/name" as found; NULL for an entry the manifest set aside, whose
 * why then names it), borrowed from the manifest or owned by the run; both
 * stay valid only during the callback. why says what is wrong (empty when
 * ok): "size expected 10, got 7", "sha256 expected …, got …", or the
 * reason a file is corrupt. size is the file's size on disk; sha256 its
 * hash when it was read through ("" when not); seconds the time checking
 * it took. entry is the manifest entry checked (NULL for an orphan or an
 * entry set aside).
 *
 * on_bytes, when the caller sets it before the check, is called with
 * each block's length as the file is read (on the checking thread).
 */
struct verify_result {
	enum verify_status status;
	const char *file;
	const struct manifest_entry *entry;
	unsigned long long size;
	char sha256[65];
	double seconds;
	struct strbuf why;
	void (*on_bytes)(void *ctx, unsigned long long n);
	void *bytes_ctx;
};

struct verify_opts {
	int deep;				/* also read every archive through (above) */
	int jobs;				/* worker threads; <= 0: one per online CPU */
	const struct strlist *projects;		/* only these projects; NULL or empty: all */
	/*
	 * The messages manifest_load_lenient gave for the entries it set
	 * aside, or NULL: each is reported first, as VERIFY_CORRUPT with
	 * file NULL, whatever projects says (its project may be the bad key).
	 */
	const struct strlist *rejected;
	/* Called from the worker threads as files are read (verify_result's on_bytes). */
	void (*on_bytes)(void *ctx, unsigned long long n);
	void *bytes_ctx;
};

struct verify_counts {
	size_t checked, ok, mismatched, missing, corrupt, orphans;
};

typedef void verify_report_fn(void *ctx, const struct verify_result *r);

/*
 * Check every entry of m (of the chosen projects) against the files under
 * arch_dir, then look for orphans there. report is called on the caller's
 * thread once per rejected entry (verify_opts), then once per entry, in
 * manifest order, then once per orphan, sorted by name; counts (zeroed
 * first) add them up. Returns 0; 1 when a project folder could not be
 * listed for orphans (err says which; everything else was checked and
 * reported); or -1 with err set when nothing could be checked (arch_dir
 * unusable, out of memory).
 */
int verify_run(const char *arch_dir, const struct manifest *m, const struct verify_opts *opts,
	       verify_report_fn *report, void *ctx, struct verify_counts *counts,
	       struct strbuf *err);

/*
 * While an archive run writes into arch_dir (it holds the exclusive lock
 * on LOCK_FILE_NAME there), files come and go under the manifest: take
 * the lock shared, without waiting. 0 with *fd to pass to verify_unlock
 * (-1 when no lock file can be opened: a read-only folder), or -1 with err
 * set when an archive run holds it.
 */
int verify_lock(const char *arch_dir, int *fd, struct strbuf *err);
void verify_unlock(int fd);

/*
 * Check one entry: resolve its file under arch_real (arch_dir as realpath
 * gives it), compare size and sha256, and, deep, read the archive through
 * (verify_deep_fd). r must be zeroed but for on_bytes and bytes_ctx;
 * release r->why with strbuf_release.
 * buf is a scratch block of bufsize bytes for hashing.
 */
void verify_entry(const char *arch_real, const struct manifest_entry *e, int deep,
		  unsigned char *buf, size_t bufsize, struct verify_result *r);

/*
 * Where file (a manifest "file") lives under arch_real, which must be a
 * realpath. VERIFY_OK with the resolved absolute path in out (no symlinks
 * left in it); VERIFY_MISSING when nothing is there (a dangling symlink
 * that would stay inside included); VERIFY_CORRUPT with why set when file
 * is not a safe relative path (manifest_file_valid) or it, a folder on
 * the way, or a dangling symlink leads outside arch_real.
 */
enum verify_status verify_resolve(const char *arch_real, const char *file, struct strbuf *out,
				  struct strbuf *why);

/*
 * Classify a file of got_size bytes hashing to got_sha (NULL when not
 * hashed because the sizes differ) against what the manifest wants:
 * VERIFY_OK, or VERIFY_MISMATCH with why set ("size expected 10, got 7";
 * "sha256 expected <64 hex>, got <64 hex>"; an empty want_sha, which the
 * manifest allows for a hash never recorded, never matches). The size is
 * checked first.
 */
enum verify_status verify_compare(long long want_size, const char *want_sha,
				  unsigned long long got_size, const char *got_sha,
				  struct strbuf *why);

/*
 * 1 when a folder entry named name could be an archive: it ends in
 * ".tar.gz" or ".tar.zst" and is not hidden (temporaries are
 * ".<name>.tmp-<random>", the lock is ".imgvault.lock").
 */
int verify_orphan_name(const char *name);

/*
 * Append to out, sorted bytewise, "project/name" for each archive file
 * (verify_orphan_name; not a folder) directly inside a project folder of
 * arch_dir (a real folder, not hidden, not a symlink) that no entry of m
 * names. projects limits the folders looked at (NULL or empty: all).
 * Returns 0, or -1 with err set naming a folder that could not be listed
 * (the others are still looked at).
 */
int verify_find_orphans(const char *arch_dir, const struct manifest *m,
			const struct strlist *projects, struct strlist *out, struct strbuf *err);

/*
 * Read the archive open at fd from where it is to its end: hash it
 * (SHA-256, as stored: into raw_hex, its length into *raw_size),
 * decompress it (gzip, several members allowed, CRC and length checked;
 * or zstd, checksums checked; or a plain tar), and read the tar inside:
 * it must end with the end-of-archive blocks and hold a docker save
 * manifest.json naming an image whose config hashes to docker_id
 * ("sha256:<hex>"), whose layers (legacy <id>/layer.tar or OCI
 * blobs/sha256/<hex>, links followed, gzip/zstd blobs decompressed) hash
 * to the config's rootfs.diff_ids in order; and every
 * blobs/sha256/<hex> and top-level <hex>.json must hash to its name.
 * name is the file's name, for its suffix (.tar.gz must be gzip, .tar.zst
 * zstd). Memory stays bounded: content is hashed as it streams past; only
 * docker's manifest.json and one config are kept (VERIFY_MAX_JSON each).
 *
 * Returns 0 (intact), 1 (corrupt: why says how; raw_hex and *raw_size are
 * still of the whole file), or -1 (could not read the file: why says so;
 * raw_hex is "").
 */
int verify_deep_fd(int fd, const char *name, const char *docker_id,
		   char raw_hex[65], unsigned long long *raw_size, struct strbuf *why);

#endif
