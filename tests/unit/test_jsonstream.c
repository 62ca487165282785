/*
 * test_jsonstream: the engine's progress streams parsed as they arrive —
 * every row is fed whole, and again split at every byte, and must give
 * the same messages and the same first error.
 */
#include <string.h>

#include "table.h"
#include "engine/jsonstream.h"

struct stream_case {
	const char *name;
	const char *input;
	size_t messages;	/* expected count */
	const char *last_status;	/* "status" of the last message, or NULL */
	const char *error;	/* engine error kept, or NULL */
	const char *fail;	/* substring of a parse failure, or NULL */
};

static const struct stream_case cases[] = {
	{ "pull progress, newline-separated",
	  "{\"status\":\"Pulling from demo/kv\",\"id\":\"2.1\"}\n"
	  "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":10,\"total\":100},\"id\":\"abc\"}\n"
	  "{\"status\":\"Status: Downloaded newer image for demo/kv:2.1\"}\n",
	  3, "Status: Downloaded newer image for demo/kv:2.1", NULL, NULL },
	{ "CRLF separators", "{\"status\":\"a\"}\r\n{\"status\":\"b\"}\r\n", 2, "b", NULL, NULL },
	{ "objects with no separator", "{\"status\":\"a\"}{\"status\":\"b\"}", 2, "b", NULL, NULL },
	{ "an error inside a 200 stream is kept",
	  "{\"status\":\"Pulling\"}\n{\"errorDetail\":{\"message\":\"manifest unknown\"},"
	  "\"error\":\"manifest unknown\"}\n", 2, NULL, "manifest unknown", NULL },
	{ "errorDetail alone is an error", "{\"errorDetail\":{\"message\":\"denied\"}}\n", 1, NULL,
	  "denied", NULL },
	{ "the first error wins", "{\"error\":\"one\"}\n{\"error\":\"two\"}\n", 2, NULL, "one", NULL },
	{ "build stream lines", "{\"stream\":\"Step 1/3 : FROM scratch\\n\"}\n"
	  "{\"aux\":{\"ID\":\"sha256:0123\"}}\n{\"stream\":\"Successfully built 0123\\n\"}\n",
	  3, NULL, NULL, NULL },
	{ "load answer", "{\"stream\":\"Loaded image: demo/kv:2.1\\n\"}\n", 1, NULL, NULL, NULL },
	{ "empty stream", "", 0, NULL, NULL, NULL },
	{ "blank lines only", "\n\r\n  \n", 0, NULL, NULL, NULL },
	{ "non-ASCII text in a message", "{\"stream\":\"caf\\u00e9 \xc3\xa9\"}\n", 1, NULL, NULL, NULL },
	{ "garbage is a failure", "{\"status\":\"a\"}\nnot json\n", 1, "a", NULL, "invalid JSON" },
	{ "a stream cut inside a message is a failure", "{\"status\":\"a\"}\n{\"status\":\"b", 1, "a",
	  NULL, "middle of a message" },
};

struct seen {
	size_t n;
	char last_status[128];
};

static int on_message(void *ctx, json_t *msg)
{
	struct seen *s = ctx;
	const char *status = json_string_value(json_object_get(msg, "status"));

	s->n++;
	s->last_status[0] = '\0';
	if (status)
		snprintf(s->last_status, sizeof(s->last_status), "%s", status);
	return 0;
}

/* Feed input in pieces of `step` bytes (0: whole); returns the result of the run. */
static int run(const struct stream_case *c, size_t step, struct seen *s, struct jsonstream *js,
	       struct strbuf *err)
{
	size_t len = strlen(c->input);
	int r = 0;

	memset(s, 0, sizeof(*s));
	memset(js, 0, sizeof(*js));
	js->on_message = on_message;
	js->ctx = s;
	for (size_t off = 0; r == 0 && off < len; off += step ? step : len)
		r = jsonstream_feed(js, c->input + off, step && len - off > step ? step : len - off, err);
	if (r == 0)
		r = jsonstream_finish(js, err);
	return r;
}

static void check_row(void **state)
{
	const struct stream_case *c = *state;

	for (size_t step = 0; step <= 3; step++) {
		struct jsonstream js;
		struct strbuf err = STRBUF_INIT;
		struct seen s;
		int r = run(c, step, &s, &js, &err);

		if (c->fail) {
			assert_int_equal(r, -1);
			assert_non_null(strstr(strbuf_str(&err), c->fail));
		} else if (r != 0) {
			fail_msg("step %zu: %s", step, strbuf_str(&err));
		}
		assert_int_equal(s.n, c->messages);
		if (c->last_status)
			assert_string_equal(s.last_status, c->last_status);
		if (c->error)
			assert_string_equal(js.error, c->error);
		else
			assert_null(js.error);
		jsonstream_release(&js);
		strbuf_release(&err);
	}
}

static void big_message_in_small_chunks(void **state)
{
	struct jsonstream js = { 0 };
	struct strbuf err = STRBUF_INIT, msg = STRBUF_INIT;
	struct seen s = { 0 };

	(void)state;
	js.on_message = on_message;
	js.ctx = &s;
	strbuf_addstr(&msg, "{\"stream\":\"");
	for (int i = 0; i < 400000; i++)
		strbuf_addch(&msg, 'x');
	strbuf_addstr(&msg, "\"}\n");
	for (size_t off = 0; off < msg.len; off += 1000)
		assert_int_equal(jsonstream_feed(&js, msg.buf + off, msg.len - off > 1000 ? 1000 : msg.len - off, &err), 0);
	assert_int_equal(jsonstream_finish(&js, &err), 0);
	assert_int_equal(s.n, 1);
	jsonstream_release(&js);
	strbuf_release(&msg);
	strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest extra[] = {
		cmocka_unit_test(big_message_in_small_chunks),
	};

	return TABLE_RUN("jsonstream", cases, check_row) |
	       cmocka_run_group_tests_name("jsonstream chunks", extra, NULL, NULL);
}
