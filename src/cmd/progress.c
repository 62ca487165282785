/*
 * progress: live lines and verbose engine output; see progress.h.
 */
#include "progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "../util/strbuf.h"
#include "../util/text.h"

struct layer {
	int64_t current, total;
	int done;
	char *status;
};

static void free_layer(void *v)
{
	struct layer *l = v;

	if (l)
		free(l->status);
	free(l);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void progress_init(struct progress *p, const struct output *out)
{
	memset(p, 0, sizeof(*p));
	p->verbose = out->verbose;
	p->live = out->live;
	p->at_line_start = 1;
	pthread_mutex_init(&p->mu, NULL);
}

void progress_count(struct progress *p, size_t index, size_t count)
{
	p->index = index;
	p->count = count;
}

void progress_total(struct progress *p, unsigned long long total)
{
	p->total = total;
}

void progress_start(struct progress *p, const char *verb, const char *image)
{
	strmap_free(&p->layers, free_layer);
	memset(&p->layers, 0, sizeof(p->layers));
	p->verb = verb;
	p->image = image;
	p->step = p->steps = 0;
	p->bytes = p->total = 0;
	p->last_draw_ms = 0;
	p->first_ms = 0;
	p->at_line_start = 1;
	if (p->verbose) {
		printf("[%s] %s\n", verb, image);
		fflush(stdout);
	}
}

/* "  12.3/45.6 MB  30.1 MB/s  0:02 left", as far as it is known. */
static void add_transfer(struct strbuf *line, struct progress *p, int64_t t,
			 unsigned long long cur, unsigned long long total)
{
	double secs, rate;

	/* The rate counts from the first byte: an engine may think a while first. */
	if (cur && !p->first_ms)
		p->first_ms = t;
	secs = p->first_ms ? (double)(t - p->first_ms) / 1000.0 : 0;
	if (total && cur <= total)
		strbuf_addf(line, "  %.1f/%.1f MB", cur / 1e6, total / 1e6);
	else
		strbuf_addf(line, "  %.1f MB", cur / 1e6);
	if (secs < 1.0 || !cur)
		return;
	rate = (double)cur / secs;
	strbuf_addf(line, "  %.1f MB/s", rate / 1e6);
	if (total && cur < total) {
		long left = (long)((double)(total - cur) / rate + 0.5);

		strbuf_addf(line, "  %ld:%02ld left", left / 60, left % 60);
	}
}

static size_t terminal_width(void)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10)
		return ws.ws_col;
	return 80;
}

static void draw(struct progress *p, int force)
{
	struct strbuf line = STRBUF_INIT, name = STRBUF_INIT;
	int64_t t = now_ms();
	unsigned long long cur = 0, total = 0;
	size_t done = 0, width;

	if (!force && t - p->last_draw_ms < 100)
		return;
	p->last_draw_ms = t;
	if (p->count)
		strbuf_addf(&line, "(%zu/%zu) ", p->index, p->count);
	text_quote(&name, p->image ? p->image : "");
	strbuf_addf(&line, "[%s] %s", p->verb, strbuf_str(&name));
	if (p->bytes) {
		add_transfer(&line, p, t, p->bytes, p->total);
	} else if (p->steps) {
		strbuf_addf(&line, "  step %d/%d", p->step, p->steps);
	} else if (p->layers.n) {
		for (size_t i = 0; i < p->layers.n; i++) {
			struct layer *l = p->layers.items[i].value;

			done += l->done;
			cur += (unsigned long long)(l->done && l->total ? l->total : l->current);
			total += (unsigned long long)l->total;
		}
		strbuf_addf(&line, "  %zu/%zu layers", done, p->layers.n);
		if (total)
			add_transfer(&line, p, t, cur, total);
	}
	/* One screen line, or \r cannot take it back. */
	width = terminal_width() - 1;
	printf("\r\033[K%.*s", (int)(line.len < width ? line.len : width), strbuf_str(&line));
	fflush(stdout);
	p->drawn = 1;
	strbuf_release(&line);
	strbuf_release(&name);
}

/* "Step 3/7 : RUN make" → 3 and 7. */
static void parse_step(struct progress *p, const char *text)
{
	int n, m;

	if (sscanf(text, "Step %d/%d :", &n, &m) == 2 && n > 0 && m >= n) {
		p->step = n;
		p->steps = m;
	}
}

static void verbose_stream(struct progress *p, const char *text)
{
	struct strbuf q = STRBUF_INIT;
	size_t len = strlen(text);

	if (!len)
		return;
	/* Engine output is shown as it is, but never as terminal control codes. */
	for (const char *s = text; *s; s++) {
		if (*s == '\n' || *s == '\t' || (unsigned char)*s >= 0x20) {
			strbuf_addch(&q, *s);
		} else {
			char one[2] = { *s, 0 };

			text_quote(&q, one);
		}
	}
	fputs(strbuf_str(&q), stdout);
	p->at_line_start = text[len - 1] == '\n';
	fflush(stdout);
	strbuf_release(&q);
}

/* A layer's status changed ("Pull complete", "Pushed", "Already exists"). */
static void layer_message(struct progress *p, const char *id, const char *status, json_t *detail)
{
	struct strmap_item *it = strmap_put(&p->layers, id, strlen(id));
	struct layer *l;
	json_t *cur = json_object_get(detail, "current"), *tot = json_object_get(detail, "total");

	if (!it)
		return;
	if (!it->value)
		it->value = calloc(1, sizeof(struct layer));
	if (!(l = it->value))
		return;
	if (json_is_integer(cur))
		l->current = json_integer_value(cur);
	if (json_is_integer(tot))
		l->total = json_integer_value(tot);
	if (!strcmp(status, "Pull complete") || !strcmp(status, "Already exists") ||
	    !strcmp(status, "Pushed") || !strcmp(status, "Layer already exists") ||
	    !strcmp(status, "Mounted from") || !strncmp(status, "Mounted from ", 13))
		l->done = 1;
	if (p->verbose && !json_is_integer(cur) && (!l->status || strcmp(l->status, status))) {
		struct strbuf q = STRBUF_INIT;

		strbuf_addf(&q, "%s: ", id);
		text_quote(&q, status);
		printf("  %s\n", strbuf_str(&q));
		strbuf_release(&q);
		free(l->status);
		l->status = strdup(status);
	}
}

int progress_message(void *ctx, json_t *msg)
{
	struct progress *p = ctx;
	const char *stream = json_string_value(json_object_get(msg, "stream"));
	const char *status = json_string_value(json_object_get(msg, "status"));
	const char *id = json_string_value(json_object_get(msg, "id"));

	if (stream) {
		parse_step(p, stream);
		if (p->verbose)
			verbose_stream(p, stream);
	} else if (status && id && *id) {
		layer_message(p, id, status, json_object_get(msg, "progressDetail"));
	} else if (status && p->verbose) {
		struct strbuf q = STRBUF_INIT;

		text_quote(&q, status);
		printf("  %s\n", strbuf_str(&q));
		strbuf_release(&q);
	}
	if (p->live)
		draw(p, 0);
	return 0;
}

void progress_bytes(struct progress *p, unsigned long long bytes)
{
	p->bytes = bytes;
	if (p->live)
		draw(p, 0);
}

void progress_add(struct progress *p, unsigned long long n)
{
	pthread_mutex_lock(&p->mu);
	p->bytes += n;
	if (p->live)
		draw(p, 0);
	pthread_mutex_unlock(&p->mu);
}

void progress_pause(struct progress *p)
{
	pthread_mutex_lock(&p->mu);
	progress_end(p);
}

void progress_resume(struct progress *p)
{
	pthread_mutex_unlock(&p->mu);
}

void progress_end(struct progress *p)
{
	if (p->drawn) {
		printf("\r\033[K");
		p->drawn = 0;
	}
	if (p->verbose && !p->at_line_start) {
		putchar('\n');
		p->at_line_start = 1;
	}
	fflush(stdout);
}

void progress_release(struct progress *p)
{
	strmap_free(&p->layers, free_layer);
	memset(&p->layers, 0, sizeof(p->layers));
	pthread_mutex_destroy(&p->mu);
}
