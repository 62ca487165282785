/*
 * zstd: the zstd writer (see zstd.h). It owns a ZSTD_CCtx, which owns
 * libzstd's worker threads, and one output buffer that is handed to the
 * next writer whenever it fills up, and at the end of the frame.
 */
#include "zstd.h"

#include <stdlib.h>
#include <unistd.h>
#include <zstd.h>

#define ZSTD_WRITER_JOB (4 << 20)
#define ZSTD_WRITER_SMALL_JOB_LEVELS 9

struct zstd_writer {
	struct writer w;
	struct writer *next;
	ZSTD_CCtx *cctx;
	unsigned char *out;
	size_t out_len;
	int failed, closed;
};

static int broken(struct strbuf *err)
{
	strbuf_setf(err, "zstd: writer used after it failed or was closed");
	return -1;
}

static int pass_on(struct zstd_writer *z, struct strbuf *err)
{
	if (z->out_len && writer_write(z->next, z->out, z->out_len, err) < 0) {
		z->failed = 1;
		return -1;
	}
	z->out_len = 0;
	return 0;
}

/* One step of compression; the output goes to next whenever it is full. */
static int step(struct zstd_writer *z, ZSTD_inBuffer *in, ZSTD_EndDirective end,
		size_t *left, struct strbuf *err)
{
	ZSTD_outBuffer out = { z->out, ZSTD_WRITER_OUT, z->out_len };
	size_t r = ZSTD_compressStream2(z->cctx, &out, in, end);

	z->out_len = out.pos;
	if (ZSTD_isError(r)) {
		z->failed = 1;
		strbuf_setf(err, "zstd: %s", ZSTD_getErrorName(r));
		return -1;
	}
	*left = r;
	if (z->out_len == ZSTD_WRITER_OUT)
		return pass_on(z, err);
	return 0;
}

static int zw_write(struct writer *w, const void *buf, size_t len, struct strbuf *err)
{
	struct zstd_writer *z = (struct zstd_writer *)w;
	ZSTD_inBuffer in = { buf, len, 0 };
	size_t left;

	if (z->failed || z->closed)
		return broken(err);
	while (in.pos < in.size)
		if (step(z, &in, ZSTD_e_continue, &left, err) < 0)
			return -1;
	return 0;
}

static int zw_close(struct writer *w, struct strbuf *err)
{
	struct zstd_writer *z = (struct zstd_writer *)w;
	ZSTD_inBuffer in = { NULL, 0, 0 };
	size_t left;

	if (z->failed || z->closed)
		return broken(err);
	do {
		if (step(z, &in, ZSTD_e_end, &left, err) < 0)
			return -1;
	} while (left);
	if (pass_on(z, err) < 0)
		return -1;
	z->closed = 1;
	return 0;
}

static void zw_free(struct writer *w)
{
	struct zstd_writer *z = (struct zstd_writer *)w;

	ZSTD_freeCCtx(z->cctx);	/* stops and joins libzstd's workers */
	free(z->out);
	free(z);
}

static int set(struct zstd_writer *z, ZSTD_cParameter p, int v, struct strbuf *err)
{
	size_t r = ZSTD_CCtx_setParameter(z->cctx, p, v);

	if (!ZSTD_isError(r))
		return 0;
	strbuf_setf(err, "zstd: %s", ZSTD_getErrorName(r));
	return -1;
}

struct writer *zstd_writer_new(struct writer *next, int level, int threads,
			       struct strbuf *err)
{
	struct zstd_writer *z;

	if (level == 0)
		level = ZSTD_WRITER_DEFAULT_LEVEL;
	if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel()) {
		strbuf_setf(err, "zstd: compression level %d is out of range (%d-%d)",
			    level, ZSTD_minCLevel(), ZSTD_maxCLevel());
		return NULL;
	}
	if (threads <= 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		threads = n < 1 ? 1 : n > 256 ? 256 : (int)n;
	}

	z = calloc(1, sizeof(*z));
	if (!z || !(z->cctx = ZSTD_createCCtx()) || !(z->out = malloc(ZSTD_WRITER_OUT))) {
		strbuf_setf(err, "zstd: out of memory");
		goto fail;
	}
	z->w.write = zw_write;
	z->w.close = zw_close;
	z->w.free = zw_free;
	z->next = next;
	if (set(z, ZSTD_c_compressionLevel, level, err) < 0 ||
	    set(z, ZSTD_c_checksumFlag, 1, err) < 0)
		goto fail;
	/* Without thread support libzstd refuses workers: stay on this thread. */
	if (ZSTD_isError(ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_nbWorkers, threads)))
		ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_nbWorkers, 0);
	/*
	 * libzstd's default job (4 x window, 8 MiB at level 3) holds about
	 * 64 MiB with two workers; 4 MiB jobs halve that for 0.3% more output.
	 * The high levels need their big windows, and much more memory anyway.
	 */
	else if (level <= ZSTD_WRITER_SMALL_JOB_LEVELS)
		ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_jobSize, ZSTD_WRITER_JOB);
	return &z->w;

fail:
	if (z)
		zw_free(&z->w);
	return NULL;
}
