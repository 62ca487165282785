/*
 * unpack: read an archive file back as the plain tar it holds — gzip
 * (one member or many), zstd (one frame or many) or an uncompressed tar,
 * told apart by the file's first bytes, not its name — so engines that
 * cannot read zstd (Engine 20.10) still load it, and every engine gets
 * the tar it loads fastest. The SHA-256 of the file's bytes as read is
 * taken on the way, so a file that changed after it was verified is
 * caught. Memory is a few fixed buffers.
 */
#ifndef IMGVAULT_CODEC_UNPACK_H
#define IMGVAULT_CODEC_UNPACK_H

#include <stddef.h>
#include <sys/types.h>

#include "../util/strbuf.h"

enum unpack_kind { UNPACK_PLAIN, UNPACK_GZIP, UNPACK_ZSTD };

struct unpack;

/*
 * Open path (never through a symlink at its last component). NULL with
 * err set when it cannot be opened or is not a regular file.
 */
struct unpack *unpack_open(const char *path, struct strbuf *err);

enum unpack_kind unpack_kind(const struct unpack *u);

/*
 * Up to n bytes of the tar: the count, 0 at the end of a complete stream,
 * -1 with the reason kept (unpack_error) on a read error or a corrupt or
 * truncated stream.
 */
ssize_t unpack_read(struct unpack *u, char *buf, size_t n);

/* Why the last read failed. */
const char *unpack_error(const struct unpack *u);

/* After the end: the hex SHA-256 and size of the file's bytes as read. */
void unpack_digest(struct unpack *u, char hex[65], unsigned long long *size);

/* The file's bytes read so far (compressed, as stored). */
unsigned long long unpack_consumed(const struct unpack *u);

void unpack_close(struct unpack *u);

#endif
