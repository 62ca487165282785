/*
 * path: lexical joins and normalisation; see path.h.
 */
#include "path.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int path_join(struct strbuf *out, const char *a, const char *b)
{
	size_t alen = strlen(a);

	if (b[0] == '/')
		return strbuf_addstr(out, b);
	while (alen > 1 && a[alen - 1] == '/')
		alen--;
	if (strbuf_add(out, a, alen) < 0)
		return -1;
	if (alen && a[alen - 1] != '/' && strbuf_addch(out, '/') < 0)
		return -1;
	return strbuf_addstr(out, b);
}

int path_absolute(struct strbuf *out, const char *p)
{
	struct strbuf full = STRBUF_INIT;
	size_t base = out->len;
	const char *s;
	int r = -1;

	if (p[0] != '/') {
		char *cwd = getcwd(NULL, 0);

		if (!cwd)
			return -1;
		r = path_join(&full, cwd, p);
		free(cwd);
	} else {
		r = strbuf_addstr(&full, p);
	}
	if (r < 0)
		goto done;
	r = -1;
	s = strbuf_str(&full);
	while (*s) {
		const char *e;
		size_t n;

		while (*s == '/')
			s++;
		e = strchr(s, '/');
		n = e ? (size_t)(e - s) : strlen(s);
		if (n == 0 || (n == 1 && s[0] == '.')) {
			/* nothing */
		} else if (n == 2 && s[0] == '.' && s[1] == '.') {
			while (out->len > base && out->buf[out->len - 1] != '/')
				out->len--;
			if (out->len > base)
				out->len--;
			if (out->buf)
				out->buf[out->len] = '\0';
		} else if (strbuf_addch(out, '/') < 0 || strbuf_add(out, s, n) < 0) {
			goto done;
		}
		s += n;
	}
	if (out->len == base && strbuf_addch(out, '/') < 0)
		goto done;
	r = 0;
done:
	strbuf_release(&full);
	return r;
}
