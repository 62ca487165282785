/*
 * path: lexical path helpers (no symlinks resolved, nothing touched on disk).
 */
#ifndef IMGVAULT_PATH_H
#define IMGVAULT_PATH_H

#include "strbuf.h"

/* Append a/b to out, with one '/' between (b absolute: just b). */
int path_join(struct strbuf *out, const char *a, const char *b);
/*
 * Append the absolute, normalised form of p to out: relative paths are
 * taken from the current directory; ".", "..", and repeated '/' resolve
 * lexically, as filepath.Abs does in Go.
 */
int path_absolute(struct strbuf *out, const char *p);

#endif
