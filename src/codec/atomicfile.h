/*
 * atomicfile: write a file so that its final name only ever shows the
 * whole, synced content: bytes go to a temporary in the same folder
 * (".<name>.tmp-<pid>-<8 hex digits>"), and commit syncs the file, renames
 * it onto the final name and syncs the folder. A file that is not
 * committed is removed; one left behind by a killed process is found by
 * atomic_remove_stale.
 *
 * Errors read "write '<dir>/<name>': No space left on device": the final
 * path, which is the one the user knows.
 */
#ifndef IMGVAULT_CODEC_ATOMICFILE_H
#define IMGVAULT_CODEC_ATOMICFILE_H

#include <limits.h>
#include <stddef.h>

#include "writer.h"

struct atomic_file;

/*
 * Create the temporary for dir/name (name is one path component, no '/').
 * The folder must exist. Returns NULL with err set on failure. The caller
 * owns the result: free it with atomic_file_free.
 */
struct atomic_file *atomic_file_open(const char *dir, const char *name,
				     struct strbuf *err);

/*
 * The writer that appends to the temporary. It belongs to the atomic_file
 * (writer_free on it does nothing) and writes straight through, unbuffered,
 * so hand it large blocks. Its close does nothing; commit is what
 * finishes the file. A failed write leaves it broken: commit then fails.
 */
struct writer *atomic_file_writer(struct atomic_file *af);

/*
 * fsync the temporary, rename it onto the final name, fsync the folder.
 * 0, or -1 with err set; after a failure before the rename the temporary
 * is still there, and atomic_file_free or atomic_file_abort removes it.
 * A failed folder fsync returns -1 although the file is in place.
 */
int atomic_file_commit(struct atomic_file *af, struct strbuf *err);

/* Close and unlink the temporary unless committed. Safe to repeat. */
void atomic_file_abort(struct atomic_file *af);

/*
 * 1 once the file has its final name, even when the commit that gave it
 * failed afterwards (syncing the folder); else 0.
 */
int atomic_file_committed(const struct atomic_file *af);

/* Abort unless committed, then release af. NULL is a no-op. */
void atomic_file_free(struct atomic_file *af);

/*
 * The temporary's full path, in a plain array inside af (no allocation),
 * so a signal handler may unlink() it; "" once committed or aborted.
 */
const char *atomic_file_temp_path(const struct atomic_file *af);

/* The final path, dir/name. */
const char *atomic_file_path(const struct atomic_file *af);

/* Write a small file (a manifest) the same way: temp, fsync, rename, fsync. */
int atomic_write_all(const char *dir, const char *name, const void *data,
		     size_t len, struct strbuf *err);

/*
 * Remove the temporaries that processes (any pid, this one included) left
 * in dir; run it only while holding the lock that keeps other writers out
 * of dir. Other files are left alone; a missing dir has nothing to remove.
 * Returns how many were removed, or -1 with err set (it still removes
 * what it can).
 */
int atomic_remove_stale(const char *dir, struct strbuf *err);

/* 1 if a folder entry's name has the temporaries' pattern, else 0. */
int atomic_is_temp_name(const char *name);

#endif
