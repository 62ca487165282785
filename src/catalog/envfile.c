/*
 * envfile: Compose's env-file parser; see envfile.h for the syntax.
 */
#include "envfile.h"

#include <string.h>

#include "interp.h"

/* All values of one file together, once expanded (stops A1=$A0$A0 … chains). */
#define ENVFILE_MAX_TOTAL ((size_t)64 << 20)

struct parser {
	const char *p, *end;
	size_t line;
	struct vars *vars;
	struct strbuf *err;
	size_t total;		/* bytes of values so far */
};

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static int is_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (unsigned char)c >= 0x80 ||
	       (c && strchr("_.-[]", c) != NULL);
}

static void skip_blanks(struct parser *ps)
{
	while (ps->p < ps->end && is_blank(*ps->p))
		ps->p++;
}

/* Move past the rest of the line, newline included. */
static void skip_line(struct parser *ps)
{
	const char *nl = memchr(ps->p, '\n', (size_t)(ps->end - ps->p));

	ps->p = nl ? nl + 1 : ps->end;
	ps->line++;
}

static const char *lookup_earlier(void *ctx, const char *name, size_t len)
{
	return vars_get(ctx, name, len);
}

static int interpolate(struct parser *ps, const char *s, size_t len, struct strbuf *out)
{
	struct interp_env env = { lookup_earlier, NULL, NULL, ps->vars };
	struct strbuf why = STRBUF_INIT;
	int r;

	if (!memchr(s, '$', len))
		return strbuf_add(out, s, len);
	r = interp_expand(s, len, &env, out, &why, NULL);

	if (r < 0)
		strbuf_addstr(ps->err, strbuf_str(&why));
	strbuf_release(&why);
	return r < 0 ? -1 : 0;
}

/*
 * "\0" and up to three digits at s, as Compose reads it: "\0NNN" with
 * NNN octal (at most 377) is that character, UTF-8 encoded; otherwise the
 * "0" is dropped and the digits stay behind the backslash. Returns how
 * many bytes past s[0] were used.
 */
static size_t octal_escape(const char *s, size_t len, struct strbuf *out)
{
	size_t n = 0;
	unsigned v = 0;

	while (n < 3 && 2 + n < len && s[2 + n] >= '0' && s[2 + n] <= '9')
		n++;
	for (size_t k = 0; k < n; k++)
		v = v * 8 + (unsigned)(s[2 + k] - '0');
	if (n == 3 && s[2] <= '3' && s[2] < '8' && s[3] < '8' && s[4] < '8') {
		if (v < 0x80) {
			strbuf_addch(out, (char)v);
		} else {
			strbuf_addch(out, (char)(0xC0 | (v >> 6)));
			strbuf_addch(out, (char)(0x80 | (v & 0x3F)));
		}
	} else {
		strbuf_addch(out, '\\');
		strbuf_add(out, s + 2, n);
	}
	return n + 1;
}

/*
 * Backslash escapes inside double quotes: \a \b \f \v \n \r \t, \\, \" and
 * \0NNN (octal); \$ is a
 * literal dollar (written as $$ so interpolation keeps it); any other
 * backslash stays as written.
 */
static int unescape(const char *s, size_t len, struct strbuf *out)
{
	for (size_t i = 0; i < len; i++) {
		const char *rep = NULL;
		char one[2] = { s[i], 0 };

		if (s[i] == '\\' && i + 1 < len) {
			if (s[i + 1] == '0') {
				i += octal_escape(s + i, len - i, out);
				continue;
			}
			switch (s[i + 1]) {
			case 'a': rep = "\a"; break;
			case 'b': rep = "\b"; break;
			case 'f': rep = "\f"; break;
			case 'v': rep = "\v"; break;
			case 'n': rep = "\n"; break;
			case 'r': rep = "\r"; break;
			case 't': rep = "\t"; break;
			case '\\': rep = "\\"; break;
			case '"': rep = "\""; break;
			case '$': rep = "$$"; break;
			}
			if (rep)
				i++;
		}
		if (strbuf_addstr(out, rep ? rep : one) < 0)
			return -1;
	}
	return 0;
}

/* Inside single quotes only \' is special: it stands for the quote. */
static int unescape_single(const char *s, size_t len, struct strbuf *out)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 1 < len && s[i + 1] == '\'')
			i++;
		if (strbuf_addch(out, s[i]) < 0)
			return -1;
	}
	return 0;
}

static int unquoted_value(struct parser *ps, struct strbuf *value)
{
	const char *start = ps->p;
	const char *nl = memchr(start, '\n', (size_t)(ps->end - start));
	const char *stop = nl ? nl : ps->end;
	size_t len = (size_t)(stop - start);

	for (size_t i = 0; i + 1 < len; i++)
		if (start[i] == ' ' && start[i + 1] == '#') {
			len = i;
			break;
		}
	while (len && (is_blank(start[len - 1])))
		len--;
	skip_line(ps);
	return interpolate(ps, start, len, value);
}

static int quoted_value(struct parser *ps, struct strbuf *value)
{
	char quote = *ps->p;
	size_t start_line = ps->line;
	const char *s = ps->p + 1;
	int escaped = 0;

	for (const char *q = s; q < ps->end; q++) {
		if (*q == '\n')
			ps->line++;
		if (escaped) {
			escaped = 0;
			continue;
		}
		if (*q == '\\') {
			escaped = 1;
			continue;
		}
		if (*q != quote)
			continue;
		ps->p = q + 1;
		if (quote == '\'')
			return unescape_single(s, (size_t)(q - s), value);
		{
			struct strbuf raw = STRBUF_INIT;
			int r = unescape(s, (size_t)(q - s), &raw);

			if (r == 0)
				r = interpolate(ps, strbuf_str(&raw), raw.len, value);
			strbuf_release(&raw);
			return r;
		}
	}
	ps->line = start_line;
	strbuf_addstr(ps->err, "unterminated quoted value");
	return -1;
}

/* One KEY=value statement starting at ps->p (blanks and comments skipped). */
static int statement(struct parser *ps)
{
	const char *key, *key_end;
	struct strbuf value = STRBUF_INIT;
	int r;

	if (ps->end - ps->p > 7 && !strncmp(ps->p, "export", 6) && is_blank(ps->p[6])) {
		ps->p += 7;
		skip_blanks(ps);
	}
	key = ps->p;
	while (ps->p < ps->end && is_key_char(*ps->p))
		ps->p++;
	key_end = ps->p;
	skip_blanks(ps);
	if (ps->p == ps->end || *ps->p == '\n') {
		/* KEY alone: inherited from the environment, which we never read. */
		if (key == key_end)
			return 0;
		if (ps->p < ps->end)
			skip_line(ps);
		return 0;
	}
	if (*ps->p != '=' && *ps->p != ':') {
		strbuf_addf(ps->err, "unexpected character '%c' in variable name", *ps->p);
		return -1;
	}
	if (key == key_end) {
		strbuf_addstr(ps->err, "missing variable name before '='");
		return -1;
	}
	ps->p++;
	skip_blanks(ps);
	if (ps->p < ps->end && (*ps->p == '"' || *ps->p == '\''))
		r = quoted_value(ps, &value);
	else
		r = unquoted_value(ps, &value);
	ps->total += value.len;
	if (r == 0 && (value.toobig || ps->total > ENVFILE_MAX_TOTAL)) {
		strbuf_addstr(ps->err, "values grow past 64 MiB once variables are expanded");
		r = -1;
	}
	if (r == 0 && vars_set(ps->vars, key, (size_t)(key_end - key), strbuf_str(&value)) < 0) {
		strbuf_addstr(ps->err, "out of memory");
		r = -1;
	}
	strbuf_release(&value);
	return r;
}

int envfile_parse(const char *data, size_t len, struct vars *out,
		  struct strbuf *err, size_t *err_line)
{
	struct parser ps = { data, data + len, 1, out, err, 0 };

	if (len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3))
		ps.p += 3;	/* a UTF-8 byte order mark */

	while (ps.p < ps.end) {
		size_t line;

		skip_blanks(&ps);
		if (ps.p == ps.end)
			break;
		if (*ps.p == '\n' || *ps.p == '#') {
			skip_line(&ps);
			continue;
		}
		line = ps.line;
		if (statement(&ps) < 0) {
			if (err_line)
				*err_line = ps.line > line ? line : ps.line;
			return -1;
		}
	}
	return 0;
}
