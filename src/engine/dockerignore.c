/*
 * dockerignore: .dockerignore parsing and matching; see dockerignore.h.
 *
 * Each pattern compiles to a small automaton over characters (UTF-8 code
 * points, and each byte that is not UTF-8 as a symbol of its own): one
 * state a pattern element, state n the end. A path is run through all of
 * a pattern's states at once, so hostile patterns cost time proportional
 * to the path times the pattern and never backtrack. Reaching the end just
 * before a '/' means a parent folder matched.
 */
#include "dockerignore.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../util/array.h"

/* A byte that is not part of valid UTF-8 is symbol SYM_BAD + the byte. */
#define SYM_BAD 0x110000u

enum di_kind {
	DI_LIT,		/* the symbol in val */
	DI_ONE,		/* '?': any symbol but '/' */
	DI_CLASS,	/* [...]: ranges val .. val+n-1 */
	DI_NCLASS,	/* [^...] */
	/* The kinds from here on can move on without a character. */
	DI_STAR,	/* '*': loops on anything but '/', or moves on */
	DI_ALL,		/* a final "**": loops on anything, or moves on */
	DI_DIRS,	/* a "**" elsewhere: nothing, or anything up to a '/' */
};

struct di_state {
	unsigned char kind;
	uint32_t val, n;
	uint32_t seg;	/* how many states before this one can take a '/' */
};

struct di_range {
	uint32_t lo, hi;
};

struct dockerignore_pattern {
	struct di_state *states;
	size_t n, alloc;
	struct di_range *ranges;
	size_t nranges, ralloc;
	int exception;
};

/* Decode one symbol at p (n > 0 bytes left) as Go's utf8.DecodeRune does. */
static size_t decode(const unsigned char *p, size_t n, uint32_t *sym)
{
	unsigned b = p[0], lo = 0x80, hi = 0xBF;
	size_t need;
	uint32_t c;

	*sym = SYM_BAD + b;
	if (b < 0x80) {
		*sym = b;
		return 1;
	}
	if (b < 0xC2 || b > 0xF4)
		return 1;
	if (b < 0xE0) {
		need = 1, c = b & 0x1F;
	} else if (b < 0xF0) {
		need = 2, c = b & 0x0F;
		lo = b == 0xE0 ? 0xA0 : lo;
		hi = b == 0xED ? 0x9F : hi;
	} else {
		need = 3, c = b & 0x07;
		lo = b == 0xF0 ? 0x90 : lo;
		hi = b == 0xF4 ? 0x8F : hi;
	}
	if (n <= need || p[1] < lo || p[1] > hi)
		return 1;
	for (size_t i = 1; i <= need; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 1;
		c = c << 6 | (p[i] & 0x3F);
	}
	*sym = c;
	return need + 1;
}

/* Go's unicode.IsSpace, which strings.TrimSpace uses. */
static int is_space(uint32_t c)
{
	return c == ' ' || (c >= '\t' && c <= '\r') || c == 0x85 || c == 0xA0 ||
	       c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
	       c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

static void trim(const char **s, size_t *n)
{
	const unsigned char *p = (const unsigned char *)*s;
	size_t len = *n, k;
	uint32_t c;

	while (len && (k = decode(p, len, &c)) && is_space(c))
		p += k, len -= k;
	for (;;) {
		/* The last symbol starts at most three bytes before the end. */
		for (k = 1; k <= 3 && k <= len; k++)
			if (decode(p + len - k, k, &c) == k && is_space(c))
				break;
		if (k > 3 || k > len)
			break;
		len -= k;
	}
	*s = (const char *)p;
	*n = len;
}

/* Append Go's filepath.Clean of p to out (p non-empty). */
static int clean(struct strbuf *out, const char *p, size_t n)
{
	int rooted = p[0] == '/';
	size_t base = out->len, r = (size_t)rooted, dotdot;

	if (rooted && strbuf_addch(out, '/') < 0)
		return -1;
	dotdot = out->len;
	while (r < n) {
		size_t e = r;

		while (e < n && p[e] != '/')
			e++;
		if (e == r || (e - r == 1 && p[r] == '.')) {
			/* an empty or "." part */
		} else if (e - r == 2 && p[r] == '.' && p[r + 1] == '.') {
			if (out->len > dotdot) {
				while (out->len > dotdot && out->buf[out->len - 1] != '/')
					out->len--;
				if (out->len > dotdot)
					out->len--;
				out->buf[out->len] = '\0';
			} else if (!rooted) {
				if (out->len > base && strbuf_addch(out, '/') < 0)
					return -1;
				if (strbuf_add(out, "..", 2) < 0)
					return -1;
				dotdot = out->len;
			}
		} else {
			if (out->len > base + (size_t)rooted && strbuf_addch(out, '/') < 0)
				return -1;
			if (strbuf_add(out, p + r, e - r) < 0)
				return -1;
		}
		r = e + 1;
	}
	if (out->len == base)
		return strbuf_addch(out, '.');
	return 0;
}

static int add_state(struct dockerignore_pattern *pt, int kind, uint32_t val, uint32_t n)
{
	struct di_state *s = array_grow(pt->states, &pt->alloc, pt->n, sizeof(*s));

	if (!s)
		return -1;
	pt->states = s;
	s[pt->n++] = (struct di_state){ .kind = (unsigned char)kind, .val = val, .n = n };
	return 0;
}

static int in_class(const struct dockerignore_pattern *pt, const struct di_state *s, uint32_t c)
{
	for (uint32_t k = 0; k < s->n; k++)
		if (pt->ranges[s->val + k].lo <= c && c <= pt->ranges[s->val + k].hi)
			return 1;
	return 0;
}

/* 1 when the state can consume a '/'. */
static int takes_slash(const struct dockerignore_pattern *pt, const struct di_state *s)
{
	switch (s->kind) {
	case DI_LIT:
		return s->val == '/';
	case DI_CLASS:
	case DI_NCLASS:
		return in_class(pt, s, '/') == (s->kind == DI_CLASS);
	case DI_ALL:
	case DI_DIRS:
		return 1;
	}
	return 0;
}

/* One member of a class, as Go's getEsc reads it. */
static int class_char(const unsigned char *p, size_t n, size_t *j, uint32_t *c,
		      const char **why)
{
	*why = "unterminated '[' in pattern";
	if (*j >= n)
		return -1;
	if (p[*j] == '-' || p[*j] == ']') {
		*why = "empty or malformed '[...]'";
		return -1;
	}
	if (p[*j] == '\\' && ++*j >= n)
		return -1;
	*j += decode(p + *j, n - *j, c);
	if (*c >= SYM_BAD) {
		*why = "invalid UTF-8 in '[...]'";
		return -1;
	}
	return 0;
}

/* The class that starts at p[*i] == '['; *i moves past its ']'. */
static int compile_class(struct dockerignore_pattern *pt, const unsigned char *p, size_t n,
			 size_t *i, const char **why)
{
	size_t j = *i + 1, first = pt->nranges;
	int negated = j < n && p[j] == '^';

	j += (size_t)negated;
	for (;;) {
		struct di_range r;

		if (j < n && p[j] == ']' && pt->nranges > first)
			break;
		if (class_char(p, n, &j, &r.lo, why) < 0)
			return -1;
		r.hi = r.lo;
		if (j < n && p[j] == '-') {
			j++;
			if (class_char(p, n, &j, &r.hi, why) < 0)
				return -1;
		}
		if (r.lo > r.hi) {
			*why = "reversed range in '[...]'";
			return -1;
		}
		if (!(pt->ranges = array_grow(pt->ranges, &pt->ralloc, pt->nranges, sizeof(r)))) {
			*why = "out of memory";
			return -1;
		}
		pt->ranges[pt->nranges++] = r;
	}
	*i = j + 1;
	if (add_state(pt, negated ? DI_NCLASS : DI_CLASS, (uint32_t)first,
		      (uint32_t)(pt->nranges - first)) < 0) {
		*why = "out of memory";
		return -1;
	}
	return 0;
}

/*
 * Compile a cleaned pattern, translating it as moby's Pattern.compile
 * does. One of its shortcuts is kept because users rely on it: a leading
 * "**" not followed by '/', with only plain characters after it, matches
 * any path that ends with them ("**.md" excludes "a/README.md").
 */
static int compile(struct dockerignore_pattern *pt, const unsigned char *p, size_t n,
		   const char **why)
{
	int suffix = 0, r = 0;

	for (size_t i = 0, tok = 0; i < n && r == 0; tok++) {
		uint32_t c;

		if (p[i] == '*' && i + 1 < n && p[i + 1] == '*') {
			int slash = i + 2 < n && p[i + 2] == '/';

			i += 2 + (size_t)slash;
			/* After a "**" another matches what it alone does: keep one state. */
			if (pt->n && pt->states[pt->n - 1].kind == DI_DIRS)
				pt->states[pt->n - 1].kind = i == n ? DI_ALL : DI_DIRS;
			else
				r = add_state(pt, i == n ? DI_ALL : DI_DIRS, 0, 0);
			suffix = tok == 0 && !slash && i < n;
			continue;
		}
		if (p[i] == '[') {
			if (compile_class(pt, p, n, &i, why) < 0)
				return -1;
			suffix = 0;
			continue;
		}
		if (p[i] == '*' || p[i] == '?' || p[i] == ']' || p[i] == '\\')
			suffix = 0;
		if (p[i] == '*' || p[i] == '?') {
			r = add_state(pt, p[i] == '*' ? DI_STAR : DI_ONE, 0, 0);
			i++;
			continue;
		}
		if (p[i] == '\\' && ++i == n) {
			*why = "trailing '\\' in pattern";
			return -1;
		}
		i += decode(p + i, n - i, &c);
		r = add_state(pt, DI_LIT, c, 0);
	}
	if (r < 0) {
		*why = "out of memory";
		return -1;
	}
	if (suffix)
		pt->states[0].kind = DI_ALL;
	for (size_t i = 0, seg = 0; i < pt->n; i++) {
		pt->states[i].seg = (uint32_t)seg;
		seg += (size_t)takes_slash(pt, &pt->states[i]);
	}
	return 0;
}

static void pattern_release(struct dockerignore_pattern *pt)
{
	free(pt->states);
	free(pt->ranges);
}

/* Add the pattern in `line` (trimmed, cleaned, '!' in front for an exception). */
static int add_pattern(struct dockerignore *d, const char *line, size_t n, const char **why)
{
	struct dockerignore_pattern pt = { 0 }, *items;

	if (line[0] == '!') {
		if (n == 1) {
			*why = "illegal exclusion pattern: \"!\"";
			return -1;
		}
		pt.exception = 1;
		line++, n--;
	}
	if (d->n >= DOCKERIGNORE_MAX_PATTERNS) {
		*why = "too many patterns (limit 100000)";
		return -1;
	}
	if (compile(&pt, (const unsigned char *)line, n, why) < 0)
		goto fail;
	*why = "out of memory";
	items = array_grow(d->items, &d->alloc, d->n, sizeof(*items));
	if (!items)
		goto fail;
	d->items = items;
	d->items[d->n++] = pt;
	d->exceptions += (size_t)pt.exception;
	if (pt.n > d->max_states)
		d->max_states = pt.n;
	return 0;
fail:
	pattern_release(&pt);
	return -1;
}

/*
 * One line, as ignorefile.ReadAll and then patternmatcher.New see it:
 * comment, trim, '!', trim, clean, drop one leading '/', put the '!'
 * back; then trim and clean once more (which turns "!/" into "!").
 */
static int add_line(struct dockerignore *d, const char *p, size_t n, int first,
		    struct strbuf *a, struct strbuf *b, const char **why)
{
	int invert;

	if (first && n >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3))
		p += 3, n -= 3;
	if (n && p[0] == '#')
		return 0;
	trim(&p, &n);
	if (!n)
		return 0;
	invert = p[0] == '!';
	if (invert) {
		p++, n--;
		trim(&p, &n);
	}
	strbuf_reset(a);
	strbuf_reset(b);
	*why = "out of memory";
	if (invert && strbuf_addch(a, '!') < 0)
		return -1;
	if (n && clean(b, p, n) < 0)
		return -1;
	p = strbuf_str(b), n = b->len;
	if (n > 1 && p[0] == '/')
		p++, n--;
	if (strbuf_add(a, p, n) < 0)
		return -1;
	p = strbuf_str(a), n = a->len;
	trim(&p, &n);
	if (!n)
		return 0;
	strbuf_reset(b);
	if (clean(b, p, n) < 0)
		return -1;
	return add_pattern(d, b->buf, b->len, why);
}

int dockerignore_parse(struct dockerignore *d, const char *text, size_t len,
		       struct strbuf *err)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	size_t off = 0, line = 0;
	const char *why = NULL;
	int r = 0;

	if (len > DOCKERIGNORE_MAX_TEXT) {
		strbuf_addstr(err, "larger than 1 MiB");
		return -1;
	}
	while (off < len && r == 0) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t end = nl ? (size_t)(nl - text) : len;

		line++;
		if (end - off > DOCKERIGNORE_MAX_LINE) {
			why = "longer than 65536 bytes";
			r = -1;
		} else {
			r = add_line(d, text + off, end - off, line == 1, &a, &b, &why);
		}
		off = end + 1;
	}
	if (r < 0) {
		strbuf_addf(err, "line %zu: %s", line, why);
		dockerignore_free(d);
	}
	strbuf_release(&a);
	strbuf_release(&b);
	return r;
}

/*
 * A set of states: on[] says which (0 off, 1 on but only looping inside a
 * "**", 2 on and moved on past the states that need no character), list
 * holds them in the order they came, so a step costs what is on.
 */
struct set {
	unsigned char *on;
	uint32_t *list;
	size_t n;
};

struct run {
	const struct dockerignore_pattern *pt;
	struct set *cur, *nxt;
	uint32_t *top;	/* by seg: 1 + the highest '*' on there, 0 for none */
};

/* Switch state j on, and the states after it that need no character. */
static void enter(const struct run *r, struct set *s, size_t j)
{
	while (s->on[j] != 2) {
		if (!s->on[j])
			s->list[s->n++] = (uint32_t)j;
		s->on[j] = 2;
		if (j == r->pt->n || r->pt->states[j].kind < DI_STAR)
			break;
		j++;
	}
}

/* Switch state j on without moving past it. */
static void loop(struct set *s, size_t j)
{
	if (!s->on[j]) {
		s->on[j] = 1;
		s->list[s->n++] = (uint32_t)j;
	}
}

static void clear(struct set *s)
{
	for (size_t k = 0; k < s->n; k++)
		s->on[s->list[k]] = 0;
	s->n = 0;
}

static void step(const struct run *r, size_t j, uint32_t c)
{
	const struct di_state *s = &r->pt->states[j];

	switch (s->kind) {
	case DI_LIT:
		if (c == s->val)
			enter(r, r->nxt, j + 1);
		break;
	case DI_ONE:
		if (c != '/')
			enter(r, r->nxt, j + 1);
		break;
	case DI_CLASS:
	case DI_NCLASS:
		if (in_class(r->pt, s, c) == (s->kind == DI_CLASS))
			enter(r, r->nxt, j + 1);
		break;
	case DI_STAR:
		if (c != '/')
			enter(r, r->nxt, j);
		break;
	case DI_ALL:
		enter(r, r->nxt, j);
		break;
	case DI_DIRS:
		/* Looping here must not move on: only the '/' that ends the run does. */
		loop(r->nxt, j);
		if (c == '/')
			enter(r, r->nxt, j + 1);
		break;
	}
}

/*
 * Drop the states a '*' further on in the same folder name makes useless:
 * that '*' can take whatever they would have taken before reaching it.
 * This keeps "*a*a*a*b" linear instead of path length times pattern.
 */
static void prune(struct run *r, struct set *s)
{
	const struct di_state *st = r->pt->states;
	size_t m = r->pt->n, keep = 0;

	for (size_t k = 0; k < s->n; k++) {
		uint32_t j = s->list[k];

		if (j < m && st[j].kind == DI_STAR && r->top[st[j].seg] < j + 1)
			r->top[st[j].seg] = j + 1;
	}
	for (size_t k = 0; k < s->n; k++) {
		uint32_t j = s->list[k];

		if (j < m && r->top[st[j].seg] > j + 1)
			s->on[j] = 0;
		else
			s->list[keep++] = j;
	}
	s->n = keep;
	/* Each seg's highest '*' was kept, so this clears every top set above. */
	for (size_t k = 0; k < s->n; k++)
		if (s->list[k] < m)
			r->top[st[s->list[k]].seg] = 0;
}

/* Move every state on by the character c; 0 when none is left. */
static int advance(struct run *r, uint32_t c)
{
	struct set *t;

	for (size_t k = 0; k < r->cur->n; k++)
		if (r->cur->list[k] < r->pt->n)
			step(r, r->cur->list[k], c);
	prune(r, r->nxt);
	clear(r->cur);
	t = r->cur, r->cur = r->nxt, r->nxt = t;
	return r->cur->n > 0;
}

/* 1 when the pattern matches path or one of its parent folders. */
static int match(struct run *r, const char *path, size_t len)
{
	const unsigned char *p = (const unsigned char *)path;
	int found = -1;

	enter(r, r->cur, 0);
	for (size_t i = 0; i < len && found < 0;) {
		uint32_t c;

		i += decode(p + i, len - i, &c);
		if (c == '/' && r->cur->on[r->pt->n])
			found = 1;
		else if (!advance(r, c))
			found = 0;
	}
	if (found < 0)
		found = r->cur->on[r->pt->n] != 0;
	clear(r->cur);
	return found;
}

/* 1 when states are left after dir and a '/' (what is inside may match). */
static int live_inside(struct run *r, const char *dir, size_t len)
{
	const unsigned char *p = (const unsigned char *)dir;
	int live = 1;

	enter(r, r->cur, 0);
	for (size_t i = 0; i < len && live;) {
		uint32_t c;

		i += decode(p + i, len - i, &c);
		live = advance(r, c);
	}
	live = live && advance(r, '/');
	clear(r->cur);
	return live;
}

/* Two empty sets and a top array for the longest pattern, in small when they fit. */
struct scratch {
	struct set a, b;
	uint32_t *top;
	void *mem;
	uint32_t small[768];
};

#define SCRATCH_PER_STATE (3 * sizeof(uint32_t) + 2)

static int scratch_init(struct scratch *s, const struct dockerignore *d)
{
	size_t n = d->max_states + 1;
	uint32_t *words = s->small;

	s->mem = NULL;
	if (n > sizeof(s->small) / SCRATCH_PER_STATE) {
		if (n > SIZE_MAX / SCRATCH_PER_STATE)
			return -1;
		if (!(s->mem = words = malloc(n * SCRATCH_PER_STATE)))
			return -1;
	}
	s->a = (struct set){ .list = words, .on = (unsigned char *)(words + 3 * n) };
	s->b = (struct set){ .list = words + n, .on = s->a.on + n };
	s->top = words + 2 * n;
	memset(s->top, 0, n * sizeof(uint32_t) + 2 * n);
	return 0;
}

int dockerignore_excluded(const struct dockerignore *d, const char *relpath)
{
	struct scratch s;
	size_t len = strlen(relpath);
	int excluded = 0;

	if (!len || !d->n)
		return 0;
	if (scratch_init(&s, d) < 0)
		return -1;
	for (size_t i = 0; i < d->n; i++) {
		struct run r = { .pt = &d->items[i], .cur = &s.a, .nxt = &s.b, .top = s.top };

		/* A pattern that cannot change the answer need not run. */
		if (r.pt->exception != excluded)
			continue;
		if (match(&r, relpath, len))
			excluded = !r.pt->exception;
	}
	free(s.mem);
	return excluded;
}

int dockerignore_may_reinclude(const struct dockerignore *d, const char *dir)
{
	struct scratch s;
	size_t len = strlen(dir);
	int found = 0;

	if (!d->exceptions)
		return 0;
	if (scratch_init(&s, d) < 0)
		return -1;
	for (size_t i = 0; i < d->n && !found; i++) {
		struct run r = { .pt = &d->items[i], .cur = &s.a, .nxt = &s.b, .top = s.top };

		if (r.pt->exception)
			found = live_inside(&r, dir, len);
	}
	free(s.mem);
	return found;
}

int dockerignore_has_exceptions(const struct dockerignore *d)
{
	return d->exceptions > 0;
}

void dockerignore_free(struct dockerignore *d)
{
	for (size_t i = 0; i < d->n; i++)
		pattern_release(&d->items[i]);
	free(d->items);
	*d = (struct dockerignore)DOCKERIGNORE_INIT;
}
