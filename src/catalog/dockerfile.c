/*
 * dockerfile: FROM/ARG reader; see dockerfile.h.
 *
 * The text is cut into logical lines (continuations joined, comment lines
 * inside a continuation dropped, as BuildKit does), then only ARG lines
 * before the first FROM and FROM lines are looked at.
 */
#include "dockerfile.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "vars.h"

/* The longest ARG value or FROM image once variables are substituted. */
#define DOCKERFILE_MAX_WORD 65536
/* All substituted ARG values and FROM images of one Dockerfile together. */
#define DOCKERFILE_MAX_TOTAL ((size_t)8 << 20)
/* FROM lines in one Dockerfile. */
#define DOCKERFILE_MAX_FROM 1000
#define DOCKERFILE_MAX_FROM_TEXT "1000"

struct scan {
	const char *p, *end;
	char escape;
};

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static const char *line_end(const struct scan *s)
{
	const char *nl = memchr(s->p, '\n', (size_t)(s->end - s->p));

	return nl ? nl : s->end;
}

/* Parser directives: leading "# key=value" lines; only escape matters here. */
static void read_directives(struct scan *s)
{
	while (s->p < s->end) {
		const char *e = line_end(s), *q = s->p;

		while (q < e && is_space(*q))
			q++;
		if (q == e || *q != '#')
			return;
		q++;
		while (q < e && is_space(*q))
			q++;
		if (e - q >= 7 && !strncasecmp(q, "escape", 6)) {
			const char *v = q + 6;

			while (v < e && is_space(*v))
				v++;
			if (v < e && *v == '=') {
				v++;
				while (v < e && is_space(*v))
					v++;
				if (v < e && (*v == '`' || *v == '\\'))
					s->escape = *v;
			}
		} else if (!((e - q >= 6 && !strncasecmp(q, "syntax", 6)) ||
			     (e - q >= 5 && !strncasecmp(q, "check", 5)))) {
			return;	/* any other comment ends the directives */
		}
		s->p = e < s->end ? e + 1 : e;
	}
}

static int blank_or_comment(const char *b, const char *e)
{
	while (b < e && is_space(*b))
		b++;
	return b == e || *b == '#';
}

/*
 * The next logical line into out; 0 when one was read, 1 at the end.
 * A physical line ending in the escape character (then blanks) continues.
 */
static int next_line(struct scan *s, struct strbuf *out)
{
	int continued = 0;

	strbuf_reset(out);
	while (s->p < s->end) {
		const char *b = s->p, *e = line_end(s), *t = e;

		s->p = e < s->end ? e + 1 : e;
		if (blank_or_comment(b, e))
			continue;	/* also inside a continuation, as BuildKit does */
		while (t > b && is_space(t[-1]))
			t--;
		if (t > b && t[-1] == s->escape) {
			strbuf_add(out, b, (size_t)(t - 1 - b));
			continued = 1;
			continue;
		}
		strbuf_add(out, b, (size_t)(e - b));
		return 0;
	}
	return continued ? 0 : 1;
}

static int is_name_start(char c)
{
	return c == '_' || isalpha((unsigned char)c);
}

static int is_name_char(char c)
{
	return c == '_' || isalnum((unsigned char)c);
}

/* The '}' closing a "${" whose body starts at p; nested "${" count. */
static const char *matching_brace(const char *p, const char *end)
{
	int open = 1;

	for (; p < end; p++) {
		if (*p == '$' && p + 1 < end && p[1] == '{') {
			open++;
			p++;
		} else if (*p == '}' && --open == 0) {
			return p;
		}
	}
	return NULL;
}

/* BuildKit word substitution for FROM and ARG values. */
/* A plain $V or ${V} that no ARG defines: noted in `undefined` (when given). */
static void note_undefined(struct strlist *undefined, const char *name, size_t len)
{
	char *copy;

	if (!undefined || undefined->n >= 16 || !(copy = strndup(name, len)))
		return;
	strlist_add_unique(undefined, copy);
	free(copy);
}

static void substitute_at(const char *in, size_t len, const struct vars *scope, char escape,
			  struct strbuf *out, struct strlist *undefined, int depth)
{
	if (depth > 32) {
		out->toobig = 1;	/* nested past reason: give up on this word */
		return;
	}
	for (size_t i = 0; i < len; i++) {
		const char *value;
		size_t n;

		if (in[i] == escape && i + 1 < len && in[i + 1] == '$') {
			strbuf_addch(out, '$');
			i++;
			continue;
		}
		if (in[i] != '$' || i + 1 >= len) {
			strbuf_addch(out, in[i]);
			continue;
		}
		if (is_name_start(in[i + 1])) {
			n = i + 1;
			while (n < len && is_name_char(in[n]))
				n++;
			value = vars_get(scope, in + i + 1, n - i - 1);
			if (!value)
				note_undefined(undefined, in + i + 1, n - i - 1);
			strbuf_addstr(out, value ? value : "");
			i = n - 1;
			continue;
		}
		if (in[i + 1] == '{') {
			const char *close = matching_brace(in + i + 2, in + len);
			size_t b = i + 2, nlen, rest;
			int colon = 0;

			if (!close) {
				strbuf_add(out, in + i, len - i);
				return;
			}
			n = b;
			while (n < (size_t)(close - in) && is_name_char(in[n]))
				n++;
			nlen = n - b;
			value = vars_get(scope, in + b, nlen);
			rest = n;
			if (in[rest] == ':') {
				colon = 1;
				rest++;
			}
			if (in + rest == close) {
				if (!value)
					note_undefined(undefined, in + b, nlen);
				strbuf_addstr(out, value ? value : "");
			} else if (in[rest] && strchr("-+?", in[rest])) {
				int set = value && (!colon || *value);
				const char *w = in + rest + 1;
				size_t wlen = (size_t)(close - w);

				if (in[rest] == '-' && !set)
					substitute_at(w, wlen, scope, escape, out, undefined, depth + 1);
				else if (in[rest] == '+' && set)
					substitute_at(w, wlen, scope, escape, out, undefined, depth + 1);
				else if (in[rest] != '+' && set)
					strbuf_addstr(out, value);
			}
			i = (size_t)(close - in);
			continue;
		}
		strbuf_addch(out, '$');
	}
}

static void substitute(const char *in, size_t len, const struct vars *scope, char escape,
		       struct strbuf *out, struct strlist *undefined)
{
	substitute_at(in, len, scope, escape, out, undefined, 0);
}

/* Split off the next whitespace-separated word; quotes group, and are removed. */
static int next_word(const char **pp, const char *end, char escape, struct strbuf *word)
{
	const char *p = *pp;
	char quote = 0;

	strbuf_reset(word);
	while (p < end && is_space(*p))
		p++;
	if (p == end)
		return 0;
	for (; p < end; p++) {
		if (quote) {
			if (*p == quote)
				quote = 0;
			else
				strbuf_addch(word, *p);
		} else if (*p == '"' || *p == '\'') {
			quote = *p;
		} else if (*p == escape && p + 1 < end && p[1] != '$') {
			strbuf_addch(word, *++p);
		} else if (is_space(*p)) {
			break;
		} else {
			strbuf_addch(word, *p);
		}
	}
	*pp = p;
	return 1;
}

/* What one parse carries from line to line. */
struct parse {
	struct dockerfile *df;
	struct vars scope;	/* global ARGs as FROM sees them */
	struct vars given;	/* build args with a value (one without keeps the default) */
	struct vars seen;	/* stage names (lowercase) and base images listed */
	size_t spent;		/* bytes substituted so far, against DOCKERFILE_MAX_TOTAL */
	char escape;
};

/* Account for a substituted word; -1 once the parse has spent its budget. */
static int spend(struct parse *ps, const struct strbuf *word)
{
	ps->spent += word->len;
	return word->toobig || ps->spent > DOCKERFILE_MAX_TOTAL ? -1 : 0;
}

static int global_arg(struct parse *ps, const char *rest, const char *end)
{
	struct strbuf word = STRBUF_INIT, value = { .cap = DOCKERFILE_MAX_WORD };
	int r = 0;

	while (r == 0 && next_word(&rest, end, ps->escape, &word)) {
		const char *w = strbuf_str(&word);
		const char *eq = strchr(w, '=');
		size_t nlen = eq ? (size_t)(eq - w) : word.len;
		const char *given = vars_get(&ps->given, w, nlen);

		strbuf_reset(&value);
		if (given)
			strbuf_addstr(&value, given);	/* a build arg beats the default */
		else if (eq)
			substitute(eq + 1, strlen(eq + 1), &ps->scope, ps->escape, &value, NULL);
		else
			continue;	/* declared with no value: stays unset */
		if (spend(ps, &value) < 0)
			r = -1;
		else
			vars_set(&ps->scope, w, nlen, strbuf_str(&value));
	}
	strbuf_release(&word);
	strbuf_release(&value);
	return r;
}

/* Lowercase copy for the case-insensitive stage and scratch checks. */
static void lowercase(struct strbuf *out, const char *s, size_t len)
{
	strbuf_reset(out);
	strbuf_add(out, s, len);
	for (size_t i = 0; i < out->len; i++)
		out->buf[i] = (char)tolower((unsigned char)out->buf[i]);
}

static int from_line(struct parse *ps, const char *rest, const char *end)
{
	struct strbuf word = STRBUF_INIT, image = { .cap = DOCKERFILE_MAX_WORD };
	struct strbuf stage = STRBUF_INIT, lower = STRBUF_INIT;
	int have_image = 0, r = 0;

	while (next_word(&rest, end, ps->escape, &word)) {
		if (!have_image) {
			if (!strncmp(strbuf_str(&word), "--", 2))
				continue;	/* --platform=… and other flags */
			substitute(word.buf, word.len, &ps->scope, ps->escape, &image,
				   &ps->df->undefined_args);
			have_image = 1;
			continue;
		}
		if (!strcasecmp(strbuf_str(&word), "as") && next_word(&rest, end, ps->escape, &word))
			lowercase(&stage, word.buf, word.len);
		break;
	}
	if (have_image && spend(ps, &image) < 0)
		r = -1;
	/* A NUL byte cannot be part of an image name: such a line names none. */
	if (!r && have_image && image.len && !memchr(image.buf, '\0', image.len)) {
		/* Only earlier stages count, so look before adding this one's name. */
		lowercase(&lower, image.buf, image.len);
		if (lower.toobig) {	/* out of memory */
			r = -1;
		} else if (strcmp(lower.buf, "scratch") &&
			   !vars_get(&ps->seen, lower.buf, lower.len) &&
			   !vars_get(&ps->seen, image.buf, image.len)) {
			if (ps->df->base_images.n >= DOCKERFILE_MAX_FROM)
				r = -1;
			else
				strlist_add(&ps->df->base_images, image.buf);
			vars_set(&ps->seen, image.buf, image.len, "image");
		}
	}
	if (stage.len)
		vars_set(&ps->seen, stage.buf, stage.len, "stage");
	strbuf_release(&word);
	strbuf_release(&image);
	strbuf_release(&stage);
	strbuf_release(&lower);
	return r;
}

static int fail(struct strbuf *err, const char *why)
{
	strbuf_addstr(err, why);
	return -1;
}

int dockerfile_parse(const char *data, size_t len, const struct build_arg *args,
		     size_t nargs, struct dockerfile *out, struct strbuf *err)
{
	struct scan s = { data, data + len, '\\' };
	struct parse ps = { .df = out };
	struct strbuf line = STRBUF_INIT;
	int seen_from = 0, r = 0;

	memset(out, 0, sizeof(*out));
	if (len > DOCKERFILE_MAX_BYTES)
		return fail(err, "Dockerfile too large");
	for (size_t i = 0; i < nargs; i++) {
		if (args[i].value)
			vars_set(&ps.given, args[i].name, strlen(args[i].name), args[i].value);
	}
	if (len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3))
		s.p += 3;	/* a UTF-8 byte order mark, as Windows editors write */
	read_directives(&s);
	ps.escape = s.escape;
	while (r == 0 && next_line(&s, &line) == 0) {
		const char *b = strbuf_str(&line), *e = b + line.len, *kw;
		size_t kwlen;

		if (line.toobig) {
			r = fail(err, "out of memory");
			break;
		}
		while (b < e && is_space(*b))
			b++;
		while (e > b && is_space(e[-1]))
			e--;
		kw = b;
		while (b < e && !is_space(*b))
			b++;
		kwlen = (size_t)(b - kw);
		if (kwlen == 4 && !strncasecmp(kw, "FROM", 4)) {
			seen_from = 1;
			if (out->from_lines.n >= DOCKERFILE_MAX_FROM)
				r = fail(err, "more than " DOCKERFILE_MAX_FROM_TEXT " FROM lines");
			else if (strlist_addn(&out->from_lines, kw, (size_t)(e - kw)) < 0 ||
				 from_line(&ps, b, e) < 0)
				r = fail(err, "FROM lines grow too large once ARGs are substituted");
		} else if (kwlen == 3 && !strncasecmp(kw, "ARG", 3) && !seen_from) {
			if (global_arg(&ps, b, e) < 0)
				r = fail(err, "ARG values grow too large once substituted");
		}
	}
	strbuf_release(&line);
	vars_free(&ps.scope);
	vars_free(&ps.given);
	vars_free(&ps.seen);
	if (r < 0)
		dockerfile_free(out);
	return r;
}

void dockerfile_free(struct dockerfile *df)
{
	strlist_free(&df->undefined_args);
	strlist_free(&df->from_lines);
	strlist_free(&df->base_images);
}
