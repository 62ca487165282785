/*
 * build: POST /build with the context streamed as a tar while it is made
 * (a writer thread fills a socket pair that curl reads), or with a remote
 * context URL. A Dockerfile outside the context, or given inline, travels
 * inside the tar under a name of its own, as the docker CLI does.
 */
#include "images.h"

#include <errno.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../util/fileio.h"
#include "../util/jsonsafe.h"
#include "../util/path.h"
#include "buildctx.h"

#define DOCKERFILE_MAX ((size_t)8 << 20)

struct tar_feed {
	struct buildctx_options opt;
	int fds[2];			/* [0] curl reads, [1] the thread writes */
	pthread_t thread;
	int started, joined;
	int cut;			/* the reader went away first: the feed's error is an echo */
	int result;
	struct strbuf err;
};

static int feed_write(void *ctx, const void *buf, size_t len)
{
	struct tar_feed *f = ctx;
	const char *p = buf;

	while (len) {
		ssize_t n = send(f->fds[1], p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			strbuf_addf(&f->err, "sending the build context: %s",
				    n < 0 ? strerror(errno) : "connection closed");
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void *feed_thread(void *arg)
{
	struct tar_feed *f = arg;

	f->result = buildctx_write(&f->opt, feed_write, f, &f->err);
	shutdown(f->fds[1], SHUT_WR);
	return NULL;
}

/* Wait for the feed; cut: the reader stopped early, so unblock the writer. */
static void feed_join(struct tar_feed *f, int cut)
{
	if (f->started && !f->joined) {
		f->cut = cut;
		if (cut)
			shutdown(f->fds[0], SHUT_RD);
		pthread_join(f->thread, NULL);
		f->joined = 1;
	}
}

static ssize_t feed_read(void *ctx, char *buf, size_t n)
{
	struct tar_feed *f = ctx;
	ssize_t got;

	do
		got = read(f->fds[0], buf, n);
	while (got < 0 && errno == EINTR);
	if (got == 0) {
		feed_join(f, 0);
		if (f->result < 0)
			return -1;
	}
	return got < 0 ? -1 : got;
}

/*
 * Where the Dockerfile is for a local context: a path inside the context
 * is passed by name; one outside is read and carried in the tar.
 */
static int place_dockerfile(const struct build_request *b, struct tar_feed *f,
			    struct strbuf *name, struct strbuf *extra, struct strbuf *err)
{
	struct strbuf full = STRBUF_INIT, ctx = STRBUF_INIT, why = STRBUF_INIT;
	struct strbuf joined = STRBUF_INIT;
	const char *df = b->dockerfile && *b->dockerfile ? b->dockerfile : "Dockerfile";
	unsigned char md[SHA256_DIGEST_LENGTH];
	int r = -1;

	/*
	 * Every path and name is checked: one cut short by a failed
	 * allocation could name another Dockerfile, or none (then the
	 * engine would build the context's default one).
	 */
	if (b->dockerfile_inline) {
		if (strbuf_addstr(extra, b->dockerfile_inline) < 0)
			goto oom;
	} else {
		int p = path_absolute(&ctx, b->context_dir);

		if (p == 0 && df[0] == '/')
			p = path_absolute(&full, df);
		else if (p == 0 && (p = path_join(&joined, strbuf_str(&ctx), df)) == 0)
			p = path_absolute(&full, strbuf_str(&joined));
		if (p < 0)
			goto oom;
		if (!strncmp(full.buf, ctx.buf, ctx.len) && full.buf[ctx.len] == '/') {
			if (strbuf_addstr(name, full.buf + ctx.len + 1) < 0)
				goto oom;
			r = 0;
			goto done;
		}
		if (file_read_all(strbuf_str(&full), DOCKERFILE_MAX, extra, &why) != FILEIO_OK) {
			strbuf_addf(err, "Dockerfile '%s': %s", strbuf_str(&full),
				    why.len ? strbuf_str(&why) : "missing");
			goto done;
		}
	}
	SHA256((const unsigned char *)strbuf_str(extra), extra->len, md);
	if (strbuf_addf(name, ".dockerfile.%02x%02x%02x%02x%02x%02x", md[0], md[1], md[2], md[3],
			md[4], md[5]) < 0)
		goto oom;
	f->opt.extra_name = strbuf_str(name);
	f->opt.extra_data = strbuf_str(extra);
	f->opt.extra_len = extra->len;
	r = 0;
	goto done;
oom:
	strbuf_addstr(err, "Dockerfile: out of memory");
done:
	f->opt.dockerfile = strbuf_str(name);
	strbuf_release(&full);
	strbuf_release(&ctx);
	strbuf_release(&why);
	strbuf_release(&joined);
	return r;
}

/* 0, or -1 when out of memory (never a query with a parameter cut short or dropped). */
static int build_query(const struct build_request *b, const char *dockerfile,
		       struct strbuf *q)
{
	strbuf_addstr(q, "/build?rm=1&forcerm=1&t=");
	engine_query_escape(q, b->tag);
	if (dockerfile && *dockerfile) {
		strbuf_addstr(q, "&dockerfile=");
		engine_query_escape(q, dockerfile);
	}
	if (b->remote) {
		strbuf_addstr(q, "&remote=");
		engine_query_escape(q, b->remote);
	}
	if (b->target && *b->target) {
		strbuf_addstr(q, "&target=");
		engine_query_escape(q, b->target);
	}
	if (b->buildargs && json_object_size(b->buildargs)) {
		char *args = json_text(b->buildargs, JSON_COMPACT);

		if (!args)
			return -1;
		strbuf_addstr(q, "&buildargs=");
		engine_query_escape(q, args);
		free(args);
	}
	if (b->pull)
		strbuf_addstr(q, "&pull=1");
	if (b->nocache)
		strbuf_addstr(q, "&nocache=1");
	return q->toobig ? -1 : 0;	/* toobig stays once set: nothing after a failure got in */
}

struct build_watch {
	engine_message_fn fn;
	void *ctx;
	char *id;
};

/* The image ID comes as {"aux": {"ID": "sha256:…"}}. */
static int watch(void *ctx, json_t *msg)
{
	struct build_watch *w = ctx;
	const char *id = json_string_value(json_object_get(json_object_get(msg, "aux"), "ID"));

	if (id) {
		free(w->id);
		w->id = strdup(id);
	}
	return w->fn ? w->fn(w->ctx, msg) : 0;
}

int image_build(struct engine *e, const struct build_request *b, engine_message_fn fn,
		void *ctx, char **image_id, struct strbuf *err)
{
	struct tar_feed f = { .fds = { -1, -1 } };
	struct strbuf q = STRBUF_INIT, dfname = STRBUF_INIT, extra = STRBUF_INIT, cfg = STRBUF_INIT;
	struct build_watch w = { .fn = fn, .ctx = ctx };
	const char *headers[2] = { NULL, NULL };
	struct engine_request r = { .method = "POST", .headers = headers };
	int ret = -1;

	*image_id = NULL;
	if (b->context_dir) {
		f.opt.dir = b->context_dir;
		if (place_dockerfile(b, &f, &dfname, &extra, err) < 0)
			goto done;
	} else if (b->dockerfile) {
		strbuf_addstr(&dfname, b->dockerfile);
	}
	if (dfname.toobig || build_query(b, strbuf_str(&dfname), &q) < 0 ||
	    (b->registry_config && json_object_size(b->registry_config) &&
	     auth_config_header(b->registry_config, &cfg) < 0)) {
		strbuf_addstr(err, "out of memory");
		goto done;
	}
	if (cfg.len)
		headers[0] = strbuf_str(&cfg);
	r.path = strbuf_str(&q);
	if (b->context_dir) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, f.fds) < 0) {
			strbuf_addf(err, "socketpair: %s", strerror(errno));
			goto done;
		}
		if (pthread_create(&f.thread, NULL, feed_thread, &f)) {
			strbuf_addstr(err, "cannot start a thread for the build context");
			goto done;
		}
		f.started = 1;
		r.content_type = "application/x-tar";
		r.read_body = feed_read;
		r.body_ctx = &f;
	}
	ret = engine_stream(e, &r, watch, &w, err);
	feed_join(&f, 1);
	if (f.started && f.result < 0 && (!f.cut || !err->len)) {
		/* The context could not be sent: that is the reason, not the engine's echo. */
		strbuf_reset(err);
		strbuf_addstr(err, strbuf_str(&f.err));
		ret = -1;
	}
	if (ret == 0)
		*image_id = w.id, w.id = NULL;
done:
	if (f.fds[0] >= 0)
		close(f.fds[0]);
	if (f.fds[1] >= 0)
		close(f.fds[1]);
	free(w.id);
	strbuf_release(&f.err);
	strbuf_release(&q);
	strbuf_release(&dfname);
	strbuf_release(&extra);
	strbuf_release(&cfg);
	return ret;
}
