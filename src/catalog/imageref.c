/*
 * imageref: Docker image reference grammar (distribution/reference):
 *   reference := [domain '/'] path [':' tag] ['@' digest]
 * The first component is a domain when it contains '.' or ':' or is
 * "localhost" (or starts with an uppercase letter, which a path may not).
 */
#include "imageref.h"

#include <stdlib.h>
#include <string.h>

static int is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* path-component := [a-z0-9]+ (('.' | '_' | '__' | '-'+) [a-z0-9]+)* */
static int valid_component(const char *s, size_t len)
{
	size_t i = 0;

	if (!len || !is_lower_alnum(s[0]) || !is_lower_alnum(s[len - 1]))
		return 0;
	while (i < len) {
		if (is_lower_alnum(s[i])) {
			i++;
			continue;
		}
		if (s[i] == '.' || s[i] == '_') {
			size_t n = 1;

			if (s[i] == '_' && i + 1 < len && s[i + 1] == '_')
				n = 2;
			if (!is_lower_alnum(s[i + n]))
				return 0;
			i += n;
			continue;
		}
		if (s[i] == '-') {
			while (i < len && s[i] == '-')
				i++;
			continue;
		}
		return 0;
	}
	return 1;
}

/* domain := host [':' port]; host is dot-separated [A-Za-z0-9-] labels or [ipv6]. */
static int valid_domain(const char *s, size_t len)
{
	const char *colon = memchr(s, ':', len);
	size_t hostlen = colon ? (size_t)(colon - s) : len;

	if (!hostlen)
		return 0;
	if (s[0] == '[') {
		if (s[hostlen - 1] != ']')
			return 0;
	} else {
		for (size_t i = 0; i < hostlen; i++)
			if (!is_alnum(s[i]) && s[i] != '.' && s[i] != '-')
				return 0;
		if (s[0] == '.' || s[0] == '-' || s[hostlen - 1] == '.' || s[hostlen - 1] == '-')
			return 0;
	}
	if (colon) {
		size_t plen = len - hostlen - 1;

		if (!plen)
			return 0;
		for (size_t i = 0; i < plen; i++)
			if (colon[1 + i] < '0' || colon[1 + i] > '9')
				return 0;
	}
	return 1;
}

int imageref_valid_tag(const char *tag)
{
	size_t len = strlen(tag);

	if (!len || len > 128 || !(is_alnum(tag[0]) || tag[0] == '_'))
		return 0;
	for (size_t i = 1; i < len; i++)
		if (!is_alnum(tag[i]) && !strchr("_.-", tag[i]))
			return 0;
	return 1;
}

/* digest := sha256:<64 hex> | sha384:<96 hex> | sha512:<128 hex>, lowercase, as the engine accepts. */
static int valid_digest(const char *d)
{
	static const struct { const char *algo; size_t hex; } known[] = {
		{ "sha256:", 64 }, { "sha384:", 96 }, { "sha512:", 128 },
	};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		size_t alen = strlen(known[i].algo);

		if (strncmp(d, known[i].algo, alen))
			continue;
		if (strlen(d + alen) != known[i].hex)
			return 0;
		for (const char *p = d + alen; *p; p++)
			if (!strchr("0123456789abcdef", *p))
				return 0;
		return 1;
	}
	return 0;
}

static int fail(struct strbuf *err, const char *why)
{
	strbuf_addstr(err, why);
	return -1;
}

int imageref_parse(const char *ref, struct imageref *out, struct strbuf *err)
{
	const char *at, *name_end, *slash, *colon, *path;
	size_t name_len;

	memset(out, 0, sizeof(*out));
	if (!*ref)
		return fail(err, "empty image reference");
	if (strlen(ref) > 4096)
		return fail(err, "image reference too long");
	at = strchr(ref, '@');
	name_end = at ? at : ref + strlen(ref);
	if (at && !valid_digest(at + 1))
		return fail(err, "invalid digest");

	/* The tag is after the last ':' that follows the last '/'. */
	slash = NULL;
	for (const char *p = ref; p < name_end; p++)
		if (*p == '/')
			slash = p;
	colon = NULL;
	for (const char *p = slash ? slash : ref; p < name_end; p++)
		if (*p == ':')
			colon = p;
	name_len = (size_t)((colon ? colon : name_end) - ref);
	if (colon) {
		out->tag = strndup(colon + 1, (size_t)(name_end - colon - 1));
		if (!out->tag)
			goto nomem;
		if (!imageref_valid_tag(out->tag)) {
			imageref_free(out);
			return fail(err, "invalid tag");
		}
	}

	/* Domain: the first component when it looks like a host. */
	path = ref;
	{
		const char *first = memchr(ref, '/', name_len);

		if (first) {
			size_t flen = (size_t)(first - ref);
			int domainish = memchr(ref, '.', flen) || memchr(ref, ':', flen) ||
					(flen == 9 && !strncmp(ref, "localhost", 9)) ||
					(ref[0] >= 'A' && ref[0] <= 'Z');

			if (domainish) {
				if (!valid_domain(ref, flen)) {
					imageref_free(out);
					return fail(err, "invalid registry host");
				}
				/* Checked here: a NULL below would become docker.io. */
				if (!(out->registry = strndup(ref, flen)))
					goto nomem;
				path = first + 1;
			}
		}
	}
	if (!out->registry)
		out->registry = strdup("docker.io");
	out->path = strndup(path, name_len - (size_t)(path - ref));
	if (!out->registry || !out->path)
		goto nomem;
	for (const char *c = out->path;;) {
		const char *e = strchr(c, '/');
		size_t clen = e ? (size_t)(e - c) : strlen(c);

		if (!valid_component(c, clen)) {
			imageref_free(out);
			return fail(err, "invalid repository name (lowercase letters, digits and separators only)");
		}
		if (!e)
			break;
		c = e + 1;
	}
	if (name_len > 255) {
		imageref_free(out);
		return fail(err, "repository name longer than 255 characters");
	}
	if (at && !(out->digest = strdup(at + 1)))
		goto nomem;
	return 0;
nomem:
	imageref_free(out);
	return fail(err, "out of memory");
}

void imageref_free(struct imageref *r)
{
	free(r->registry);
	free(r->path);
	free(r->tag);
	free(r->digest);
	memset(r, 0, sizeof(*r));
}

int imageref_is_pinned(const char *ref)
{
	struct imageref r;
	struct strbuf err = STRBUF_INIT;
	int pinned;

	if (imageref_parse(ref, &r, &err) < 0) {
		strbuf_release(&err);
		return 0;
	}
	pinned = r.digest || (r.tag && strcmp(r.tag, "latest"));
	imageref_free(&r);
	return pinned;
}

int imageref_file_stem(const char *ref, struct strbuf *out)
{
	for (const char *p = ref; *p; p++) {
		char c = *p;

		if (!is_alnum(c) && c != '_' && c != '.' && c != '-')
			c = '_';
		if (strbuf_addch(out, c) < 0)
			return -1;
	}
	return 0;
}
