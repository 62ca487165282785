/*
 * output: how a command speaks, chosen once from its flags and stdout.
 * Text lines, one per event, with their "[tag]" coloured on a terminal
 * (never when NO_COLOR is set); --quiet keeps only failures and the
 * summary; --json prints nothing as it goes and one report at the end,
 * gathered here image by image. Whether a live progress line may be
 * drawn is decided here too (progress.h draws it).
 */
#ifndef IMGVAULT_CMD_OUTPUT_H
#define IMGVAULT_CMD_OUTPUT_H

#include <jansson.h>
#include <stddef.h>

enum line_kind {
	LINE_PLAIN,	/* headers, notes: no colour */
	LINE_GOOD,	/* an image done: green tag */
	LINE_SKIP,	/* skipped, dry run: dim tag */
	LINE_WARN,	/* stale, updated, orphaned: yellow tag */
	LINE_BAD,	/* failed, refused, mismatch: red tag; shown even when quiet */
};

struct output {
	int quiet;	/* only failures and the summary */
	int json;	/* one report at the end, no lines */
	int colour;	/* stdout is a terminal and NO_COLOR is unset or empty */
	int live;	/* a live progress line may be drawn */
	int verbose;	/* the engine's own output is shown */
	json_t *images;	/* the --json report's image objects, in order */
};

/*
 * Settle how to speak. The live line needs a terminal on stdout and none
 * of --no-progress, --quiet, --json or --verbose.
 */
void output_init(struct output *o, int quiet, int no_progress, int json, int verbose);

/*
 * One event line (a newline is added): nothing under --json, nothing
 * under --quiet unless kind is LINE_BAD. A leading "[tag]" or the first
 * word is coloured by kind.
 */
void output_line(struct output *o, enum line_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Summary text, printed as it is unless --json. */
void output_summary(struct output *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "  - ITEM" of a summary's list, on one line (control characters escaped), unless --json. */
void output_item(struct output *o, const char *item);

/* Colour `text` as kind when colour is on: into buf (always NUL-terminated). */
const char *output_paint(const struct output *o, enum line_kind kind, const char *text, char *buf,
			 size_t len);

/* A JSON string of s (escaped display form when not UTF-8); null for NULL. */
json_t *output_str(const char *s);

/*
 * --json: append {"project", "image", "outcome"} to the report and return
 * it (borrowed) for more keys; NULL when not --json or out of memory.
 * project may be NULL.
 */
json_t *output_image(struct output *o, const char *project, const char *image,
		     const char *outcome);

/*
 * --json: print {"command": command, <top's keys>, "images": […]} on
 * stdout. top is consumed (may be NULL). Nothing when not --json.
 */
void output_report(struct output *o, const char *command, json_t *top);

void output_release(struct output *o);

/* "12.3 MB" (decimal megabytes, one decimal). */
void format_mb(char *buf, size_t len, unsigned long long bytes);

/* Seconds since an arbitrary start, monotonic. */
double output_clock(void);

#endif
