/*
 * jsonstream: incremental parsing of engine progress streams; see
 * jsonstream.h. jansson parses one value at a time from the buffer
 * (JSON_DISABLE_EOF_CHECK) and says where it ended.
 */
#include "jsonstream.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../util/jsonsafe.h"

static int is_space(char c)
{
	return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static void note_error(struct jsonstream *js, json_t *msg)
{
	const char *text = json_string_value(json_object_get(msg, "error"));

	if (!text)
		text = json_string_value(json_object_get(json_object_get(msg, "errorDetail"), "message"));
	if (text && !js->error)
		js->error = strdup(text);
}

/*
 * Parse the complete messages at the start of pending and keep the rest.
 * Until the end of the stream only bytes up to the last newline are
 * looked at: a message is complete when its newline has come, and a
 * multi-byte character split between chunks is never judged early.
 */
static int drain(struct jsonstream *js, struct strbuf *err, int at_end)
{
	size_t off = 0, limit = js->pending.len;
	int r = 0;

	if (!at_end) {
		const char *nl = js->pending.len ? memrchr(js->pending.buf, '\n', js->pending.len) : NULL;

		limit = nl ? (size_t)(nl - js->pending.buf) + 1 : 0;
	}
	while (off < limit) {
		const char *p = js->pending.buf + off;
		size_t left = limit - off, skip = 0;
		json_error_t jerr;
		json_t *msg;

		while (skip < left && is_space(p[skip]))
			skip++;
		off += skip;
		if (skip == left)
			break;
		msg = json_parse(p + skip, left - skip, JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY, &jerr);
		if (!msg && errno == ENOMEM) {
			strbuf_addf(err, "reading the engine's messages: out of memory");
			r = -1;
			break;
		}
		if (!msg) {
			if ((size_t)jerr.position >= left - skip && !at_end)
				break;	/* a message spread over lines: wait for the rest */
			if ((size_t)jerr.position >= left - skip)
				strbuf_addstr(err, "engine stream ended in the middle of a message");
			else
				strbuf_addf(err, "engine sent invalid JSON after %zu messages: %s",
					    js->messages, jerr.text);
			r = -1;
			break;
		}
		off += (size_t)jerr.position;
		js->messages++;
		note_error(js, msg);
		if (js->on_message && js->on_message(js->ctx, msg) < 0) {
			json_decref(msg);
			strbuf_addstr(err, "stopped");
			r = -1;
			break;
		}
		json_decref(msg);
	}
	if (off) {
		memmove(js->pending.buf, js->pending.buf + off, js->pending.len - off);
		js->pending.len -= off;
		js->pending.buf[js->pending.len] = '\0';
	}
	return r;
}

int jsonstream_feed(struct jsonstream *js, const char *data, size_t len, struct strbuf *err)
{
	if (!js->pending.cap)
		js->pending.cap = JSONSTREAM_MAX_MESSAGE;
	if (strbuf_add(&js->pending, data, len) < 0) {
		if (len > js->pending.cap || js->pending.len > js->pending.cap - len)
			strbuf_addf(err, "engine sent a message larger than %zu MiB",
				    JSONSTREAM_MAX_MESSAGE >> 20);
		else
			strbuf_addstr(err, "reading the engine's messages: out of memory");
		return -1;
	}
	if (!memchr(data, '\n', len))
		return 0;	/* nothing new is complete yet */
	return drain(js, err, 0);
}

int jsonstream_finish(struct jsonstream *js, struct strbuf *err)
{
	int r = drain(js, err, 1);

	if (r == 0 && js->pending.len) {
		strbuf_addstr(err, "engine stream ended in the middle of a message");
		r = -1;
	}
	return r;
}

void jsonstream_release(struct jsonstream *js)
{
	free(js->error);
	js->error = NULL;
	strbuf_release(&js->pending);
}
