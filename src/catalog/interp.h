/*
 * interp: Compose's variable interpolation of one string.
 *
 * $$ is a literal $; $NAME and ${NAME} substitute; ${NAME:-default},
 * ${NAME-default}, ${NAME:?message}, ${NAME?message}, ${NAME:+alt} and
 * ${NAME+alt} behave as in Compose v2: defaults, messages and
 * alternatives are interpolated in turn (they nest), and, as in Compose,
 * before the variable is looked at, so a problem inside an unused default
 * still counts. Names match
 * [_A-Za-z][_A-Za-z0-9]*. A $ followed by anything else is kept as it is;
 * "${" that does not form a valid expression is a syntax error.
 */
#ifndef IMGVAULT_INTERP_H
#define IMGVAULT_INTERP_H

#include <stddef.h>

#include "../util/strbuf.h"

#define INTERP_MAX_DEPTH 32

struct interp_env {
	/* The value of a variable, or NULL when it is unset. */
	const char *(*lookup)(void *ctx, const char *name, size_t len);
	/* Called for each $NAME or ${NAME} left unset with no default; may be NULL. */
	void (*unset)(void *ctx, const char *name, size_t len);
	/* Called for every variable name the string refers to; may be NULL. */
	void (*seen)(void *ctx, const char *name, size_t len);
	void *ctx;
};

enum interp_status {
	INTERP_OK = 0,
	INTERP_SYNTAX = -1,	/* malformed: err says what, *err_offset where */
	INTERP_REQUIRED = -2,	/* ${X:?msg} / ${X?msg} with X missing: err is the message */
	INTERP_TOOBIG = -3,	/* out of memory, output over the cap, or nested too deep */
};

/*
 * Append the interpolation of in[0..len) to out. On failure returns a
 * negative interp_status, fills err and (for INTERP_SYNTAX) sets
 * *err_offset to the byte offset in `in` where the bad expression starts.
 */
int interp_expand(const char *in, size_t len, const struct interp_env *env,
		  struct strbuf *out, struct strbuf *err, size_t *err_offset);

/* Does the string contain any variable reference at all? (1/0) */
int interp_has_vars(const char *in, size_t len);

#endif
