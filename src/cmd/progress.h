/*
 * progress: what the user sees while a job runs — a pull, build, push,
 * export with compression, load, or hashing. When output.h allows it, one
 * live line for the running job: the overall "(N/M)", layers, bytes done
 * of the total, rate and time left for transfers, "step N/M" for builds;
 * redrawn at most ten times a second, cut to the terminal's width, and
 * cleared when the job is done. With --verbose, the engine's own output
 * (build steps, layer status changes) as plain lines instead. Otherwise
 * nothing until the outcome line.
 */
#ifndef IMGVAULT_CMD_PROGRESS_H
#define IMGVAULT_CMD_PROGRESS_H

#include <jansson.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/strmap.h"
#include "output.h"

struct progress {
	int live;		/* draw a live line (output.h's live) */
	int verbose;		/* print the engine's output */
	const char *verb;	/* "pull", "build", "push", "save", "load", "hash" */
	const char *image;
	struct strmap layers;	/* id → struct layer */
	int step, steps;	/* build: "Step N/M" */
	int drawn;		/* a live line is on screen */
	int64_t last_draw_ms, first_ms;	/* first_ms: the first byte moved */
	int at_line_start;	/* verbose build output ended with a newline */
	unsigned long long bytes;	/* progress_bytes, progress_add */
	unsigned long long total;	/* bytes expected; 0 when not known */
	size_t index, count;		/* the overall "(index/count)"; count 0: none */
	pthread_mutex_t mu;		/* progress_add's */
};

void progress_init(struct progress *p, const struct output *out);
/* The overall count shown before the job: image index (1-based) of count. */
void progress_count(struct progress *p, size_t index, size_t count);
/* Start showing `verb image` (image may be a summary such as "12 files"). */
void progress_start(struct progress *p, const char *verb, const char *image);
/* The bytes the job will move, for the rate and the time left. */
void progress_total(struct progress *p, unsigned long long total);
/* An engine_message_fn: show one stream message. */
int progress_message(void *ctx, json_t *msg);
/* Bytes moved so far (an export, a load): shown on the live line. */
void progress_bytes(struct progress *p, unsigned long long bytes);
/* Add n bytes moved; safe from any thread (hashing workers). */
void progress_add(struct progress *p, unsigned long long n);
/*
 * Between these two, no other thread draws and the live line is cleared:
 * for printing lines while hashing workers report bytes.
 */
void progress_pause(struct progress *p);
void progress_resume(struct progress *p);
/* Clear the live line, ready for the outcome line. */
void progress_end(struct progress *p);
void progress_release(struct progress *p);

#endif
