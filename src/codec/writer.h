/*
 * writer: a byte sink as a small interface, so compress -> hash -> file is
 * a chain of writers, each passing what it makes to the next (redis's
 * rio). A writer does not own the next one in its chain.
 *
 * Lifecycle: write any number of times, then close exactly once to finish
 * the stream (flush trailers, wait for worker threads); free releases it
 * whether or not it was closed. After a failed write or close the writer
 * is broken: only free is allowed.
 */
#ifndef IMGVAULT_CODEC_WRITER_H
#define IMGVAULT_CODEC_WRITER_H

#include <stddef.h>

#include "../util/strbuf.h"

struct writer {
	/* 0, or -1 with err set. */
	int (*write)(struct writer *w, const void *buf, size_t len, struct strbuf *err);
	/*
	 * Finish this writer's stream: everything it holds goes to the next
	 * writer. It does not close the next one: whoever built the chain
	 * closes each writer, front to back.
	 */
	int (*close)(struct writer *w, struct strbuf *err);
	void (*free)(struct writer *w);
};

static inline int writer_write(struct writer *w, const void *buf, size_t len, struct strbuf *err)
{
	return w->write(w, buf, len, err);
}

static inline int writer_close(struct writer *w, struct strbuf *err)
{
	return w->close(w, err);
}

static inline void writer_free(struct writer *w)
{
	if (w)
		w->free(w);
}

#endif
