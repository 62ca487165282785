/*
 * jsonstream: the engine's progress streams (pull, push, build, load) —
 * JSON objects one after another, usually newline-separated — parsed as
 * the bytes arrive, in whatever chunks they come. An object with "error"
 * (or "errorDetail": {"message": …}) inside an HTTP 200 stream is a
 * failure: the first such message is kept in `error`.
 */
#ifndef IMGVAULT_ENGINE_JSONSTREAM_H
#define IMGVAULT_ENGINE_JSONSTREAM_H

#include <jansson.h>
#include <stddef.h>

#include "../util/strbuf.h"

/* The largest single message accepted (build output lines can be long). */
#define JSONSTREAM_MAX_MESSAGE ((size_t)16 << 20)

struct jsonstream {
	/* Called for each message (borrowed reference); a negative return stops the feed. */
	int (*on_message)(void *ctx, json_t *msg);
	void *ctx;
	char *error;		/* the first error message the engine sent, or NULL */
	size_t messages;	/* how many were parsed */
	struct strbuf pending;	/* bytes of a message not yet complete */
};

/*
 * Parse what `data` completes. Returns 0, or -1 with err set when the
 * bytes are not JSON, a message is too large, or on_message stopped it.
 */
int jsonstream_feed(struct jsonstream *js, const char *data, size_t len, struct strbuf *err);
/* At the end of the stream: -1 with err set when a message was cut short. */
int jsonstream_finish(struct jsonstream *js, struct strbuf *err);
void jsonstream_release(struct jsonstream *js);

#endif
