/*
 * sha256: a tee writer that hashes (SHA-256, OpenSSL EVP) and counts every
 * byte passing through on its way to the next writer, so an archive's
 * digest and size come out of the same pass that writes it; and a helper
 * that hashes an existing file.
 */
#ifndef IMGVAULT_CODEC_SHA256_H
#define IMGVAULT_CODEC_SHA256_H

#include "writer.h"

#define SHA256_HEX_LEN 64

/*
 * A hashing writer that forwards everything to `next` (not owned; may be
 * NULL to hash only). Returns NULL when memory or OpenSSL fail. A failing
 * next write is passed back as is (the bytes are hashed all the same: the
 * writer is broken after it anyway). close finishes the digest; it does
 * not close next.
 */
struct writer *sha256_writer_new(struct writer *next);

/*
 * After a successful close: the digest as 64 lowercase hex digits and a
 * NUL in out. Returns -1 (out set to "") if w is not a closed sha256
 * writer.
 */
int sha256_writer_hex(struct writer *w, char out[SHA256_HEX_LEN + 1]);

/* Bytes written through w so far (0 if w is not a sha256 writer). */
unsigned long long sha256_writer_bytes(struct writer *w);

/*
 * Hash the regular file at path, reading it in large blocks: 0 with the
 * hex digest in out and its size in *size (size may be NULL), or -1 with
 * err set to e.g. "read 'path': Input/output error".
 */
int sha256_file(const char *path, char out[SHA256_HEX_LEN + 1],
		unsigned long long *size, struct strbuf *err);

#endif
