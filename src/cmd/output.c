/*
 * output: text lines, colour, --quiet and the --json report; see output.h.
 */
#include "output.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../util/jsonsafe.h"
#include "../util/strbuf.h"
#include "../util/text.h"

void output_init(struct output *o, int quiet, int no_progress, int json, int verbose)
{
	const char *no_colour = getenv("NO_COLOR");
	int tty = isatty(STDOUT_FILENO);

	memset(o, 0, sizeof(*o));
	o->quiet = quiet;
	o->json = json;
	o->verbose = verbose && !json;
	o->colour = tty && !(no_colour && *no_colour) && !json;
	o->live = tty && !no_progress && !quiet && !json && !verbose;
	if (json)
		o->images = json_array();
}

static const char *colour_of(enum line_kind kind)
{
	switch (kind) {
	case LINE_GOOD:
		return "\033[32m";
	case LINE_SKIP:
		return "\033[2m";
	case LINE_WARN:
		return "\033[33m";
	case LINE_BAD:
		return "\033[31m";
	default:
		return NULL;
	}
}

const char *output_paint(const struct output *o, enum line_kind kind, const char *text, char *buf,
			 size_t len)
{
	const char *c = colour_of(kind);

	if (o->colour && c)
		snprintf(buf, len, "%s%s\033[0m", c, text);
	else
		snprintf(buf, len, "%s", text);
	return buf;
}

void output_line(struct output *o, enum line_kind kind, const char *fmt, ...)
{
	struct strbuf line = STRBUF_INIT, quoted = STRBUF_INIT;
	const char *s, *c = colour_of(kind);
	size_t tag;
	va_list ap;

	if (o->json || (o->quiet && kind != LINE_BAD))
		return;
	va_start(ap, fmt);
	strbuf_vaddf(&line, fmt, ap);
	va_end(ap);
	/* One event, one line, whatever the names in it hold (see say_error). */
	if (!strchr(fmt, '\n'))
		text_quote(&quoted, strbuf_str(&line));
	s = strbuf_str(quoted.len ? &quoted : &line);
	if (o->colour && c) {
		/* "[tag]" when the line starts with one, else the first word. */
		tag = s[0] == '[' && strchr(s, ']') ? (size_t)(strchr(s, ']') - s) + 1 : strcspn(s, " ");
		printf("%s%.*s\033[0m%s\n", c, (int)tag, s, s + tag);
	} else {
		printf("%s\n", s);
	}
	fflush(stdout);
	strbuf_release(&line);
	strbuf_release(&quoted);
}

void output_summary(struct output *o, const char *fmt, ...)
{
	va_list ap;

	if (o->json)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

void output_item(struct output *o, const char *item)
{
	struct strbuf q = STRBUF_INIT;

	if (o->json)
		return;
	text_quote(&q, item);
	printf("  - %s\n", strbuf_str(&q));
	fflush(stdout);
	strbuf_release(&q);
}

json_t *output_str(const char *s)
{
	struct strbuf q = STRBUF_INIT;
	json_t *j;

	if (!s)
		return json_null();
	if ((j = json_string(s)))
		return j;
	/* Not UTF-8 (a folder's name): its escaped display form. */
	text_quote(&q, s);
	j = json_string(strbuf_str(&q));
	strbuf_release(&q);
	return j;
}

json_t *output_image(struct output *o, const char *project, const char *image,
		     const char *outcome)
{
	json_t *obj;

	if (!o->images || !(obj = json_object()))
		return NULL;
	json_object_set_new(obj, "project", output_str(project));
	json_object_set_new(obj, "image", output_str(image));
	json_object_set_new(obj, "outcome", json_string(outcome));
	if (json_array_append_new(o->images, obj) < 0)
		return NULL;
	return obj;
}

void output_report(struct output *o, const char *command, json_t *top)
{
	json_t *report = json_object();
	char *text;

	if (!o->json || !report) {
		json_decref(top);
		json_decref(report);
		return;
	}
	json_object_set_new(report, "command", json_string(command));
	if (top)
		json_object_update(report, top);
	json_decref(top);
	json_object_set(report, "images", o->images ? o->images : json_array());
	text = json_text(report, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
	if (text)
		printf("%s\n", text);
	free(text);
	json_decref(report);
	fflush(stdout);
}

void output_release(struct output *o)
{
	json_decref(o->images);
	o->images = NULL;
}

void format_mb(char *buf, size_t len, unsigned long long bytes)
{
	snprintf(buf, len, "%.1f MB", (double)bytes / 1e6);
}

double output_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
