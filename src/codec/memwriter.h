/*
 * memwriter: a writer that appends to a caller's strbuf, for small outputs
 * kept in memory (and for tests of the writers in front of it).
 */
#ifndef IMGVAULT_CODEC_MEMWRITER_H
#define IMGVAULT_CODEC_MEMWRITER_H

#include "writer.h"

/*
 * A writer appending to `out` (not owned; it must outlive the writer).
 * The strbuf's cap applies: going past it fails the write. Returns NULL
 * when out of memory.
 */
struct writer *mem_writer_new(struct strbuf *out);

#endif
