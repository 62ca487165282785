/*
 * fuzz_dockerignore: libFuzzer target for engine/dockerignore.
 *
 * The first line of the input is a path (made clean: empty, "." and ".."
 * parts dropped, at most PATH_CAP bytes), the rest a .dockerignore text.
 * A failed parse must leave a "line N: …" message and no patterns. A
 * successful one is asked about the path and each of its parents, from
 * the root down, and the answers must agree with each other: a folder
 * that is excluded, and that dockerignore_may_reinclude says nothing can
 * come back from, excludes everything inside it; without exceptions
 * nothing can come back at all. Crashes, leaks and failed checks (abort)
 * are all findings.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/dockerignore.h"
#include "util/strbuf.h"

/* Matching costs path length times pattern length: keep runs short. */
#define PATH_CAP 256
#define LEVELS_CAP 24

/* Append the clean form of data[0..len) to out; out->len stays <= PATH_CAP. */
static void clean_path(struct strbuf *out, const uint8_t *data, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t e = i;

		while (e < len && data[e] != '/' && data[e] != '\0')
			e++;
		if (e - i && !(e - i == 1 && data[i] == '.') &&
		    !(e - i == 2 && data[i] == '.' && data[i + 1] == '.') &&
		    out->len + (out->len > 0) + (e - i) <= PATH_CAP) {
			if (out->len)
				strbuf_addch(out, '/');
			strbuf_add(out, data + i, e - i);
		}
		if (e < len && data[e] == '\0')
			break;
		i = e + 1;
	}
}

static void check_levels(const struct dockerignore *d, struct strbuf *path)
{
	int has = dockerignore_has_exceptions(d);
	int closed = 0;		/* an excluded parent lets nothing back */
	size_t levels = 0, full = path->len;

	if (has != 0 && has != 1)
		abort();
	for (size_t end = 0; end <= full && levels < LEVELS_CAP; end++) {
		int ex, back;

		if (end < full && path->buf[end] != '/')
			continue;
		levels++;
		path->buf[end] = '\0';	/* the parent folder, or the path itself */
		ex = dockerignore_excluded(d, path->buf);
		back = dockerignore_may_reinclude(d, path->buf);
		if (end < full)
			path->buf[end] = '/';
		if ((ex != 0 && ex != 1) || (back != 0 && back != 1))
			abort();
		if (closed && !ex)
			abort();
		if (!has && back)
			abort();
		closed = closed || (ex && !back);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t first = nl ? (size_t)(nl - data) : size;
	struct dockerignore d = DOCKERIGNORE_INIT;
	struct strbuf path = STRBUF_INIT, err = STRBUF_INIT;
	const char *text = (const char *)data + first + (nl != NULL);
	int r;

	clean_path(&path, data, first);
	r = dockerignore_parse(&d, text, size - first - (nl != NULL), &err);
	if (r < 0) {
		if (r != -1 || d.n || !err.len || strncmp(err.buf, "line ", 5))
			abort();
	} else if (r != 0) {
		abort();
	} else if (path.len) {
		check_levels(&d, &path);
	}
	if (dockerignore_excluded(&d, "") != 0)
		abort();
	dockerignore_free(&d);
	strbuf_release(&path);
	strbuf_release(&err);
	return 0;
}
