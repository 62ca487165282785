/*
 * zstd: a writer that compresses its input to one standard zstd frame
 * (content checksum on, so `zstd -t` checks the data) and passes it to the
 * next writer in writes of up to ZSTD_WRITER_OUT bytes.
 *
 * Threads and memory: libzstd's own worker threads compress while the
 * caller keeps writing; libzstd bounds what they hold, whatever the input
 * size. Up to level 9 jobs are 4 MiB, about 35 MiB in all with two
 * threads at level 3; higher levels use libzstd's larger jobs and need
 * much more. The next writer is only ever called from the thread that
 * calls write and close.
 */
#ifndef IMGVAULT_CODEC_ZSTD_H
#define IMGVAULT_CODEC_ZSTD_H

#include "writer.h"

#define ZSTD_WRITER_OUT ((size_t)1 << 20)
#define ZSTD_WRITER_DEFAULT_LEVEL 3

/*
 * A zstd writer feeding `next` (not owned). `level` is zstd's, 1-19 (or
 * up to 22, or negative for the fast levels); 0 means
 * ZSTD_WRITER_DEFAULT_LEVEL. `threads` is libzstd's nbWorkers: <= 0 means
 * one per online CPU; a libzstd built without threads compresses on the
 * caller's thread instead. Returns NULL with err set on a bad level or no
 * memory. A failing next writer makes that write or close return -1 with
 * next's message.
 */
struct writer *zstd_writer_new(struct writer *next, int level, int threads,
			       struct strbuf *err);

#endif
