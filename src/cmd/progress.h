/*
 * progress: what the user sees while the engine pulls, builds or pushes.
 * On a terminal, one live line per image (layers and bytes for pulls and
 * pushes, "step N/M" for builds), redrawn at most ten times a second and
 * cleared when the image is done. With --verbose, the engine's own output
 * (build steps, layer status changes) as plain lines instead. Otherwise
 * nothing until the outcome line.
 */
#ifndef IMGVAULT_CMD_PROGRESS_H
#define IMGVAULT_CMD_PROGRESS_H

#include <jansson.h>
#include <stdint.h>

#include "../util/strmap.h"

struct progress {
	int live;		/* draw a live line (stdout is a terminal, not verbose) */
	int verbose;		/* print the engine's output */
	const char *verb;	/* "pull", "build", "push" */
	const char *image;
	struct strmap layers;	/* id → struct layer */
	int step, steps;	/* build: "Step N/M" */
	int drawn;		/* a live line is on screen */
	int64_t last_draw_ms;
	int at_line_start;	/* verbose build output ended with a newline */
	unsigned long long bytes;	/* progress_bytes */
};

void progress_init(struct progress *p, int verbose);
/* Start showing `verb image`. */
void progress_start(struct progress *p, const char *verb, const char *image);
/* An engine_message_fn: show one stream message. */
int progress_message(void *ctx, json_t *msg);
/* Bytes moved so far (an export): shown on the live line. */
void progress_bytes(struct progress *p, unsigned long long bytes);
/* Clear the live line, ready for the outcome line. */
void progress_end(struct progress *p);
void progress_release(struct progress *p);

#endif
