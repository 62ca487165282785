/*
 * archive: one image's bytes into one archive file — the seam between an
 * image source (today the engine's export; later a registry read
 * directly) and the archive writer (today one compressed `docker save`
 * file per image). The stream is compressed on all cores while it is
 * read, its SHA-256 taken in the same pass, and written under a temporary
 * name that only becomes the final name once fsynced: there is never an
 * uncompressed copy on disk, nor a half-written file under a final name.
 */
#ifndef IMGVAULT_STORE_ARCHIVE_H
#define IMGVAULT_STORE_ARCHIVE_H

#include "../util/strbuf.h"
#include "layout.h"

/* Where an image's bytes come from: stream() feeds sink until the end. */
struct archive_source {
	int (*stream)(void *ctx, int (*sink)(void *sctx, const char *data, size_t len),
		      void *sink_ctx, struct strbuf *err);
	void *ctx;
};

struct archive_target {
	const char *dir;		/* the project folder (must exist) */
	const char *name;		/* the file name in it */
	enum layout_codec codec;
	int level;			/* 0: the codec's default */
	int threads;			/* 0: one per CPU */
	/* The temporary's path while it exists ("" once gone), for signal handlers. */
	void (*on_temp)(void *ctx, const char *temp_path);
	/*
	 * Called once every byte is written, just before the file takes
	 * its final name (e.g. to drop a manifest entry the old file had);
	 * a negative return abandons it. May be NULL.
	 */
	int (*before_commit)(void *ctx, struct strbuf *err);
	/* Uncompressed bytes read so far; may be NULL. */
	void (*on_progress)(void *ctx, unsigned long long bytes);
	void *ctx;
};

struct archive_result {
	char sha256[65];		/* of the compressed file */
	unsigned long long size;	/* of the compressed file */
	unsigned long long raw;		/* uncompressed bytes streamed */
};

/* Write the source into the target. 0, or -1 with err set and nothing left behind. */
int archive_write(const struct archive_source *src, const struct archive_target *t,
		  struct archive_result *out, struct strbuf *err);

#endif
