/*
 * buildctx: a local build context as the uncompressed tar stream the
 * engine's POST /build reads, made the way the docker CLI makes it.
 *
 * The folder is walked in byte order of names (the output depends only on
 * the files), leaving out what its .dockerignore excludes, except the
 * Dockerfile in use and .dockerignore itself, which are always sent.
 * Regular files, folders and symlinks (stored as links, never followed)
 * keep their mode and mtime (whole seconds); owner is 0:0 with no names.
 * Sockets, FIFOs and devices are skipped. An excluded folder is looked
 * into only when an exception could bring something back or the
 * Dockerfile is inside; it is sent only when something inside it is.
 * Files are read in chunks as they are written, never whole.
 */
#ifndef IMGVAULT_ENGINE_BUILDCTX_H
#define IMGVAULT_ENGINE_BUILDCTX_H

#include <stddef.h>

#include "../util/strbuf.h"

/* How deep folders may nest below the context root. */
#define BUILDCTX_MAX_DEPTH 512

struct buildctx_options {
	const char *dir;	/* the context folder (a symlink to one is followed) */
	const char *dockerfile;	/* relative to dir, always sent; NULL: "Dockerfile" */
	/*
	 * An in-memory file added at the end (mode 0600, mtime 0), e.g. a
	 * Dockerfile from outside the context as ".dockerfile.<hex>"; it
	 * replaces a file of the same name in dir. NULL for none.
	 */
	const char *extra_name;
	const char *extra_data;
	size_t extra_len;
};

/*
 * Called with each piece of the stream in order; returns 0, or -1 to stop
 * (it may write its own reason into the err given to buildctx_write).
 */
typedef int (*buildctx_write_fn)(void *ctx, const void *buf, size_t len);

/*
 * Write the context of o->dir as a tar through out(wctx, …). Returns 0,
 * or -1 with a message in err naming the path relative to the context,
 * e.g. "'secret.key': cannot read (permission denied)". On failure the
 * stream is cut short, never ended as a valid tar, so a reader cannot
 * mistake it for a complete context.
 */
int buildctx_write(const struct buildctx_options *o, buildctx_write_fn out, void *wctx,
		   struct strbuf *err);

#endif
