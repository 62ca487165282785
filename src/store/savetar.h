/*
 * savetar: what a stored `docker save` stream holds, read back from the
 * compressed archive file (.tar.gz, .tar.zst, or plain .tar) with
 * libarchive, for `archive --rebuild-manifest` and `verify`.
 *
 * Both layouts docker save writes are read: before Engine 25, manifest.json
 * (at the end of the tar) + <id>.json + <layer>/layer.tar; from 25 on, an
 * OCI layout (oci-layout, index.json, blobs/sha256/<hex>) that still
 * carries manifest.json. The whole stream is always read, so a truncated
 * or corrupt archive is caught; data nobody needs is skipped without
 * copying. Every file manifest.json names must be in the tar.
 *
 * With `deep`, content is hashed (OpenSSL SHA-256) as it streams past and
 * checked against what its name says: blobs/sha256/<hex> hash to <hex>,
 * a legacy config <hex>.json hashes to <hex>, and each legacy
 * <layer>/layer.tar hashes to the diff ID its image's config lists for it.
 */
#ifndef IMGVAULT_STORE_SAVETAR_H
#define IMGVAULT_STORE_SAVETAR_H

#include <stddef.h>

#include "../util/strbuf.h"
#include "../util/strlist.h"

#define SAVETAR_MAX_MANIFEST ((size_t)16 << 20)	/* docker's manifest.json */
#define SAVETAR_MAX_CONFIG ((size_t)16 << 20)	/* one legacy <hex>.json, kept for deep */
#define SAVETAR_MAX_ENTRIES 100000		/* tar entries */
#define SAVETAR_MAX_NAME 1024			/* bytes in one entry name */
#define SAVETAR_MAX_IMAGES 4096			/* images in one manifest.json */

struct savetar_image {
	char *id;		/* "sha256:<hex>" of the config */
	char *config;		/* Config as manifest.json wrote it */
	struct strlist tags;	/* RepoTags ("name:tag"); empty when null */
	struct strlist layers;	/* Layers as written */
};

/* What was found. Owns everything in it; release with savetar_release. */
struct savetar {
	struct savetar_image *images;	/* in manifest.json order */
	size_t n;
	int oci;			/* the OCI layout (oci-layout or index.json) */
	size_t entries;			/* tar entries read */
	size_t hashed;			/* files whose content was checked (deep) */
};

#define SAVETAR_INIT { 0 }

struct savetar_opts {
	int deep;			/* check content hashes (above) */
	unsigned long long max_bytes;	/* most uncompressed content accepted; 0: no limit */
};

/*
 * Read the archive at path (a regular file) into st (which must be empty).
 * opts may be NULL (not deep, no limit). Returns 0, or -1 with err set,
 * naming the file: what libarchive said of a corrupt or truncated
 * stream, no manifest.json, a manifest.json docker would not load, a
 * missing file, a hash mismatch. st is empty after an error.
 */
int savetar_read_file(struct savetar *st, const char *path, const struct savetar_opts *opts,
		      struct strbuf *err);
/* The same for an archive held in memory; name is how messages call it. */
int savetar_read_memory(struct savetar *st, const void *data, size_t len, const char *name,
			const struct savetar_opts *opts, struct strbuf *err);
void savetar_release(struct savetar *st);

#endif
