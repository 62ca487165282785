/*
 * interp: Compose v2 variable interpolation; see interp.h.
 *
 * A "${" expression ends at the "}" that closes it, counting every "{"
 * inside it (so JSON-like defaults keep their braces), as Compose v2 does
 * since compose-go 2.0; it may not span a newline.
 */
#include "interp.h"

#include <string.h>

static int is_name_start(char c)
{
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_name_char(char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9');
}

/* Offset of the "}" closing the "${" at s[0], or -1 (none on this line). */
static long closing_brace(const char *s, size_t len)
{
	long open = 0, last = -1;
	size_t i;

	for (i = 0; i < len && s[i] != '\n'; i++) {
		if (s[i] == '}' && --open == 0)
			return (long)i;
		if (s[i] == '{') {
			open++;
			i++;	/* compose-go skips the byte after every "{" */
			if (i < len && s[i] == '\n')
				break;
		}
	}
	/* Unbalanced: Compose's pattern then takes all up to the line's last "}". */
	for (i = 0; i < len && s[i] != '\n'; i++)
		if (s[i] == '}')
			last = (long)i;
	return last;
}

struct expander {
	const struct interp_env *env;
	struct strbuf *err;
	size_t *err_offset;
	const char *base;	/* the outermost input, for offsets */
};

static int expand(struct expander *x, const char *in, size_t len,
		  struct strbuf *out, int depth);

static int syntax_error(struct expander *x, const char *at, const char *expr,
			size_t exprlen, const char *why)
{
	strbuf_addf(x->err, "%s '%.*s'", why, (int)(exprlen > 80 ? 80 : exprlen), expr);
	if (x->err_offset)
		*x->err_offset = (size_t)(at - x->base);
	return INTERP_SYNTAX;
}

static const char *lookup(struct expander *x, const char *name, size_t len)
{
	if (x->env->seen)
		x->env->seen(x->env->ctx, name, len);
	return x->env->lookup ? x->env->lookup(x->env->ctx, name, len) : NULL;
}

static int add(struct strbuf *out, const char *s, size_t len)
{
	return strbuf_add(out, s, len) < 0 ? INTERP_TOOBIG : 0;
}

/* One ${...} expression whose body (between the braces) is body[0..len). */
static int expand_braced(struct expander *x, const char *dollar, size_t exprlen,
			 const char *body, size_t len, struct strbuf *out, int depth)
{
	size_t n = 0, rest;
	const char *value;
	struct strbuf arg = STRBUF_INIT;
	int colon = 0, r;
	char op;

	if (len == 0 || !is_name_start(body[0]))
		return syntax_error(x, dollar, dollar, exprlen, "invalid interpolation format");
	while (n < len && is_name_char(body[n]))
		n++;
	if (n == len) {
		value = lookup(x, body, n);
		if (!value && x->env->unset)
			x->env->unset(x->env->ctx, body, n);
		return value ? add(out, value, strlen(value)) : 0;
	}
	rest = n;
	if (body[rest] == ':') {
		colon = 1;
		rest++;
	}
	if (rest >= len || !body[rest] || !strchr("-+?", body[rest]))
		return syntax_error(x, dollar, dollar, exprlen, "invalid interpolation format");
	op = body[rest++];

	/* Compose interpolates the word first, whether or not it is used. */
	r = expand(x, body + rest, len - rest, &arg, depth + 1);
	if (r < 0)
		goto done;
	value = lookup(x, body, n);
	switch (op) {
	case '-':
		if (!value || (colon && !*value))
			value = strbuf_str(&arg);
		r = add(out, value, strlen(value));
		break;
	case '+':
		if (value && (!colon || *value))
			r = add(out, arg.buf ? arg.buf : "", arg.len);
		break;
	case '?':
		if (!value || (colon && !*value)) {
			strbuf_addf(x->err, "required variable %.*s is missing a value",
				    (int)n, body);
			if (arg.len)
				strbuf_addf(x->err, ": %s", arg.buf);
			r = INTERP_REQUIRED;
		} else {
			r = add(out, value, strlen(value));
		}
		break;
	}
done:
	strbuf_release(&arg);
	return r;
}

static int expand(struct expander *x, const char *in, size_t len,
		  struct strbuf *out, int depth)
{
	size_t i = 0;

	if (depth > INTERP_MAX_DEPTH) {
		strbuf_addf(x->err, "interpolation nested deeper than %d levels",
			    INTERP_MAX_DEPTH);
		return INTERP_TOOBIG;
	}
	while (i < len) {
		const char *dollar = memchr(in + i, '$', len - i);
		size_t at, n;
		int r;

		if (!dollar)
			return add(out, in + i, len - i);
		at = (size_t)(dollar - in);
		if (add(out, in + i, at - i) < 0)
			return INTERP_TOOBIG;
		i = at + 1;
		if (i >= len) {
			r = add(out, "$", 1);
		} else if (in[i] == '$') {
			r = add(out, "$", 1);
			i++;
		} else if (is_name_start(in[i])) {
			const char *value;

			n = i;
			while (n < len && is_name_char(in[n]))
				n++;
			value = lookup(x, in + i, n - i);
			if (!value && x->env->unset)
				x->env->unset(x->env->ctx, in + i, n - i);
			r = value ? add(out, value, strlen(value)) : 0;
			i = n;
		} else if (in[i] == '{') {
			long close = closing_brace(dollar, len - at);

			if (close < 0)
				return syntax_error(x, dollar, dollar, len - at,
						    "unterminated interpolation");
			r = expand_braced(x, dollar, (size_t)close + 1, dollar + 2,
					  (size_t)close - 2, out, depth);
			i = at + (size_t)close + 1;
		} else {
			r = add(out, "$", 1);	/* "$1", "$ ", "$-": literal */
		}
		if (r < 0)
			return r;
	}
	return 0;
}

int interp_expand(const char *in, size_t len, const struct interp_env *env,
		  struct strbuf *out, struct strbuf *err, size_t *err_offset)
{
	struct expander x = { env, err, err_offset, in };
	int r = expand(&x, in, len, out, 0);

	if (r == INTERP_TOOBIG && !err->len)
		strbuf_addstr(err, "interpolated value too large");
	return r;
}

int interp_has_vars(const char *in, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (in[i] != '$')
			continue;
		if (in[i + 1] == '$') {
			i++;
			continue;
		}
		if (in[i + 1] == '{' || is_name_start(in[i + 1]))
			return 1;
	}
	return 0;
}
