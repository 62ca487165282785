/*
 * gzip: a writer that compresses its input to gzip on several threads
 * (libdeflate) and passes the result, in order, to the next writer.
 *
 * The input is cut into GZIP_WRITER_CHUNK-byte chunks; each chunk becomes
 * one complete gzip member (RFC 1952 allows a file to be several members
 * back to back; gzip, zcat, pigz, Python's gzip module and Go's
 * compress/gzip read them as one stream). An empty input still gives one
 * (empty) member, so the output is always a valid gzip file.
 *
 * Threads and memory: `threads` workers compress while the caller keeps
 * writing; at most 2 x threads chunks are in flight, so memory is about
 * 4 x threads x GZIP_WRITER_CHUNK (plus libdeflate's state per thread)
 * whatever the input size, and a slow next writer holds the caller back.
 * The next writer is only ever called from the thread that calls write and
 * close, so it needs no locking.
 */
#ifndef IMGVAULT_CODEC_GZIP_H
#define IMGVAULT_CODEC_GZIP_H

#include "writer.h"

#define GZIP_WRITER_CHUNK ((size_t)1 << 20)
#define GZIP_WRITER_DEFAULT_LEVEL 6
#define GZIP_WRITER_MAX_THREADS 64

/*
 * A gzip writer feeding `next` (not owned). `level` is libdeflate's, 1-12
 * (6 compresses a little better than gzip -6, about three times as fast);
 * 0 means GZIP_WRITER_DEFAULT_LEVEL. `threads` <= 0 means one per online
 * CPU; at most GZIP_WRITER_MAX_THREADS. Returns NULL with err set on a bad
 * level or when memory or threads cannot be had.
 *
 * A failing next writer makes that write or close return -1 with next's
 * message; close returns only when every worker has stopped.
 */
struct writer *gzip_writer_new(struct writer *next, int level, int threads,
			       struct strbuf *err);

#endif
