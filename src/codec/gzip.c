/*
 * gzip: the parallel chunked gzip writer (see gzip.h). It owns its worker
 * threads, one libdeflate compressor per worker, and a ring of slots, each
 * holding one chunk's input and the gzip member made from it.
 *
 * Chunk number n lives in slot n % nslots. The caller's thread fills slots
 * in order and queues them; workers take queued chunks in order; the
 * caller's thread writes finished members to next in order and frees their
 * slots. A slot is reused only once its member has been written, which
 * bounds memory and lets a slow next writer hold the caller back. Workers
 * never wait for the caller, so stopping them can never deadlock.
 */
#include "gzip.h"

#include <libdeflate.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum slot_state { SLOT_FREE, SLOT_QUEUED, SLOT_DONE, SLOT_FAILED };

struct slot {
	unsigned char *in, *out;
	size_t in_len, out_len;
	enum slot_state state;	/* under mu */
};

struct worker {
	struct gzip_writer *gz;
	struct libdeflate_compressor *c;
	pthread_t tid;
	int started;
};

struct gzip_writer {
	struct writer w;
	struct writer *next;
	size_t out_cap, nslots, nworkers;
	struct slot *slots;
	struct worker *workers;

	pthread_mutex_t mu;
	pthread_cond_t work;		/* a chunk was queued, or stop was set */
	pthread_cond_t done;		/* a chunk was compressed */
	unsigned long long queued;	/* chunks handed to the workers (under mu) */
	unsigned long long taken;	/* chunks workers have started (under mu) */
	int stop;			/* under mu */

	/* Used by the caller's thread only. */
	int sync_ready;			/* mu and the conds exist */
	int stopped;			/* workers joined */
	unsigned long long flushed;	/* members written to next */
	struct slot *filling;		/* chunk number `queued`, being filled */
	unsigned long long total_in;
	int failed, closed;
};

static void *worker_main(void *arg)
{
	struct worker *wk = arg;
	struct gzip_writer *gz = wk->gz;

	pthread_mutex_lock(&gz->mu);
	for (;;) {
		struct slot *s;
		size_t n;

		while (!gz->stop && gz->taken == gz->queued)
			pthread_cond_wait(&gz->work, &gz->mu);
		if (gz->stop)
			break;
		s = &gz->slots[gz->taken++ % gz->nslots];
		pthread_mutex_unlock(&gz->mu);

		n = libdeflate_gzip_compress(wk->c, s->in, s->in_len, s->out, gz->out_cap);

		pthread_mutex_lock(&gz->mu);
		s->out_len = n;
		s->state = n ? SLOT_DONE : SLOT_FAILED;
		pthread_cond_signal(&gz->done);
	}
	pthread_mutex_unlock(&gz->mu);
	return NULL;
}

/*
 * Write finished members to next, oldest first: every chunk numbered below
 * `upto` (waiting for those), then any later ones already finished.
 */
static int flush(struct gzip_writer *gz, unsigned long long upto, struct strbuf *err)
{
	while (gz->flushed < gz->queued) {
		struct slot *s = &gz->slots[gz->flushed % gz->nslots];
		enum slot_state st;

		pthread_mutex_lock(&gz->mu);
		while (s->state == SLOT_QUEUED && gz->flushed < upto)
			pthread_cond_wait(&gz->done, &gz->mu);
		st = s->state;
		pthread_mutex_unlock(&gz->mu);

		if (st == SLOT_QUEUED)
			return 0;
		if (st == SLOT_FAILED) {
			gz->failed = 1;
			strbuf_setf(err, "gzip: cannot compress chunk %llu", gz->flushed);
			return -1;
		}
		if (writer_write(gz->next, s->out, s->out_len, err) < 0) {
			gz->failed = 1;
			return -1;
		}
		pthread_mutex_lock(&gz->mu);
		s->state = SLOT_FREE;
		pthread_mutex_unlock(&gz->mu);
		gz->flushed++;
	}
	return 0;
}

/* Take the slot for the next chunk, first writing out its previous member. */
static int start_chunk(struct gzip_writer *gz, struct strbuf *err)
{
	if (gz->queued - gz->flushed == gz->nslots &&
	    flush(gz, gz->queued - gz->nslots + 1, err) < 0)
		return -1;
	gz->filling = &gz->slots[gz->queued % gz->nslots];
	gz->filling->in_len = 0;
	return 0;
}

static int queue_chunk(struct gzip_writer *gz, struct strbuf *err)
{
	pthread_mutex_lock(&gz->mu);
	gz->filling->state = SLOT_QUEUED;
	gz->queued++;
	pthread_cond_signal(&gz->work);
	pthread_mutex_unlock(&gz->mu);
	gz->filling = NULL;
	/* Pass on whatever is already done, so output flows while input does. */
	return flush(gz, 0, err);
}

static int broken(struct strbuf *err)
{
	strbuf_setf(err, "gzip: writer used after it failed or was closed");
	return -1;
}

static int gz_write(struct writer *w, const void *buf, size_t len, struct strbuf *err)
{
	struct gzip_writer *gz = (struct gzip_writer *)w;
	const unsigned char *p = buf;

	if (gz->failed || gz->closed)
		return broken(err);
	while (len) {
		struct slot *s;
		size_t n;

		if (!gz->filling && start_chunk(gz, err) < 0)
			return -1;
		s = gz->filling;
		n = GZIP_WRITER_CHUNK - s->in_len;
		if (n > len)
			n = len;
		memcpy(s->in + s->in_len, p, n);
		s->in_len += n;
		p += n;
		len -= n;
		gz->total_in += n;
		if (s->in_len == GZIP_WRITER_CHUNK && queue_chunk(gz, err) < 0)
			return -1;
	}
	return 0;
}

static void stop_workers(struct gzip_writer *gz)
{
	if (gz->stopped)
		return;
	pthread_mutex_lock(&gz->mu);
	gz->stop = 1;
	pthread_cond_broadcast(&gz->work);
	pthread_mutex_unlock(&gz->mu);
	for (size_t i = 0; i < gz->nworkers; i++)
		if (gz->workers[i].started)
			pthread_join(gz->workers[i].tid, NULL);
	gz->stopped = 1;
}

static int gz_close(struct writer *w, struct strbuf *err)
{
	struct gzip_writer *gz = (struct gzip_writer *)w;

	if (gz->failed || gz->closed)
		return broken(err);
	/* An empty input still makes one (empty) member: a valid gzip file. */
	if (gz->filling || gz->total_in == 0) {
		if (!gz->filling && start_chunk(gz, err) < 0)
			return -1;
		if (queue_chunk(gz, err) < 0)
			return -1;
	}
	if (flush(gz, gz->queued, err) < 0)
		return -1;
	stop_workers(gz);
	gz->closed = 1;
	return 0;
}

static void gz_free(struct writer *w)
{
	struct gzip_writer *gz = (struct gzip_writer *)w;

	if (gz->sync_ready) {
		stop_workers(gz);
		pthread_cond_destroy(&gz->done);
		pthread_cond_destroy(&gz->work);
		pthread_mutex_destroy(&gz->mu);
	}
	for (size_t i = 0; gz->workers && i < gz->nworkers; i++)
		libdeflate_free_compressor(gz->workers[i].c);
	for (size_t i = 0; gz->slots && i < gz->nslots; i++) {
		free(gz->slots[i].in);
		free(gz->slots[i].out);
	}
	free(gz->workers);
	free(gz->slots);
	free(gz);
}

static int alloc_buffers(struct gzip_writer *gz, int level)
{
	gz->workers = calloc(gz->nworkers, sizeof(*gz->workers));
	gz->slots = calloc(gz->nslots, sizeof(*gz->slots));
	if (!gz->workers || !gz->slots)
		return -1;
	for (size_t i = 0; i < gz->nworkers; i++) {
		gz->workers[i].gz = gz;
		gz->workers[i].c = libdeflate_alloc_compressor(level);
		if (!gz->workers[i].c)
			return -1;
	}
	gz->out_cap = libdeflate_gzip_compress_bound(gz->workers[0].c, GZIP_WRITER_CHUNK);
	for (size_t i = 0; i < gz->nslots; i++) {
		gz->slots[i].in = malloc(GZIP_WRITER_CHUNK);
		gz->slots[i].out = malloc(gz->out_cap);
		if (!gz->slots[i].in || !gz->slots[i].out)
			return -1;
	}
	return 0;
}

/* Workers block every signal, so signals reach the caller's threads. */
static int start_workers(struct gzip_writer *gz, struct strbuf *err)
{
	sigset_t all, old;
	int r = 0;

	if (pthread_mutex_init(&gz->mu, NULL) != 0) {
		strbuf_setf(err, "gzip: cannot create a lock");
		return -1;
	}
	pthread_cond_init(&gz->work, NULL);
	pthread_cond_init(&gz->done, NULL);
	gz->sync_ready = 1;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (size_t i = 0; i < gz->nworkers && !r; i++) {
		r = pthread_create(&gz->workers[i].tid, NULL, worker_main, &gz->workers[i]);
		gz->workers[i].started = !r;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		strbuf_setf(err, "gzip: cannot start a worker thread: %s", strerror(r));
		return -1;
	}
	return 0;
}

struct writer *gzip_writer_new(struct writer *next, int level, int threads,
			       struct strbuf *err)
{
	struct gzip_writer *gz;

	if (level == 0)
		level = GZIP_WRITER_DEFAULT_LEVEL;
	if (level < 1 || level > 12) {
		strbuf_setf(err, "gzip: compression level %d is out of range (1-12)", level);
		return NULL;
	}
	if (threads <= 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		threads = n < 1 ? 1 : n > GZIP_WRITER_MAX_THREADS ? GZIP_WRITER_MAX_THREADS : (int)n;
	}
	if (threads > GZIP_WRITER_MAX_THREADS)
		threads = GZIP_WRITER_MAX_THREADS;

	gz = calloc(1, sizeof(*gz));
	if (!gz) {
		strbuf_setf(err, "gzip: out of memory");
		return NULL;
	}
	gz->w.write = gz_write;
	gz->w.close = gz_close;
	gz->w.free = gz_free;
	gz->next = next;
	gz->nworkers = (size_t)threads;
	gz->nslots = 2 * (size_t)threads;
	if (alloc_buffers(gz, level) < 0) {
		strbuf_setf(err, "gzip: out of memory");
		gz_free(&gz->w);
		return NULL;
	}
	if (start_workers(gz, err) < 0) {
		gz_free(&gz->w);
		return NULL;
	}
	return &gz->w;
}
