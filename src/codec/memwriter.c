/*
 * memwriter: the strbuf-backed writer (see memwriter.h). It owns nothing
 * but itself.
 */
#include "memwriter.h"

#include <stdlib.h>

struct mem_writer {
	struct writer w;
	struct strbuf *out;
};

static int mw_write(struct writer *w, const void *buf, size_t len, struct strbuf *err)
{
	struct mem_writer *m = (struct mem_writer *)w;

	if (strbuf_add(m->out, buf, len) < 0) {
		strbuf_setf(err, "memory writer: output too large");
		return -1;
	}
	return 0;
}

static int mw_close(struct writer *w, struct strbuf *err)
{
	(void)w;
	(void)err;
	return 0;
}

static void mw_free(struct writer *w)
{
	free(w);
}

struct writer *mem_writer_new(struct strbuf *out)
{
	struct mem_writer *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->w.write = mw_write;
	m->w.close = mw_close;
	m->w.free = mw_free;
	m->out = out;
	return &m->w;
}
