/*
 * envfile: Compose's env-file syntax (.env, .env-dist).
 *
 * Blank lines and # comments are skipped; an `export ` prefix is dropped;
 * KEY=value or KEY: value, with blanks around the separator trimmed.
 * Unquoted values end at the line's end, are cut at " #", trimmed, and
 * interpolated. 'single' quotes are literal; "double" quotes expand \n \r
 * \t and backslash escapes, then interpolate. Quoted values may span lines.
 * ${OTHER} in a value sees only keys defined earlier in the same file (the
 * process environment is never consulted). A KEY alone on a line is unset.
 */
#ifndef IMGVAULT_ENVFILE_H
#define IMGVAULT_ENVFILE_H

#include <stddef.h>

#include "../util/strbuf.h"
#include "vars.h"

/*
 * Parse data[0..len) into vars (adding to what is there). On error returns
 * -1, sets *err_line (1-based) and writes the reason into err.
 */
int envfile_parse(const char *data, size_t len, struct vars *out,
		  struct strbuf *err, size_t *err_line);

#endif
