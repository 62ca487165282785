/*
 * fileio: read small input files (compose files, env files, Dockerfiles)
 * whole into memory, safely: never blocks on a FIFO or device, refuses
 * anything that is not a regular file, and refuses files over a size cap.
 */
#ifndef IMGVAULT_FILEIO_H
#define IMGVAULT_FILEIO_H

#include <stddef.h>

#include "strbuf.h"

enum fileio_status {
	FILEIO_OK = 0,
	FILEIO_MISSING = -1,	/* ENOENT (a dangling symlink included) */
	FILEIO_ERROR = -2,	/* anything else; err says what */
};

/*
 * Read `path` into `out` (replacing its contents). At most `max` bytes are
 * accepted. On failure `err` receives a message without the path (the
 * caller names the file), e.g. "is a directory" or "too large (50.0 MB,
 * limit 8.0 MB)".
 */
int file_read_all(const char *path, size_t max, struct strbuf *out,
		  struct strbuf *err);

/* 1 if path names a regular file (following symlinks), else 0. */
int file_is_regular(const char *path);
/* 1 if path names a directory (following symlinks), else 0. */
int file_is_dir(const char *path);
/* 1 if anything is at path, even a dangling symlink, else 0. */
int file_exists_nofollow(const char *path);

#endif
