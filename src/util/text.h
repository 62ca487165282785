/*
 * text: checks and quoting for text that came from files and folder names
 * — UTF-8 validity, and a display form with control characters escaped so
 * one message stays one line.
 */
#ifndef IMGVAULT_TEXT_H
#define IMGVAULT_TEXT_H

#include <stddef.h>

#include "strbuf.h"

/* 1 when s[0..len) is valid UTF-8; else 0 and *bad = offset of the first bad byte. */
int utf8_valid(const char *s, size_t len, size_t *bad);

/*
 * Append s to out with control characters as \n, \t, \r or \xNN and bytes
 * that are not valid UTF-8 as \xNN; everything else as it is.
 */
int text_quote(struct strbuf *out, const char *s);

/* 1-based line and column of byte offset `off` in data. */
void text_position(const char *data, size_t len, size_t off, unsigned *line, unsigned *col);

#endif
