/*
 * errtext: system and libarchive messages in the project's voice —
 * lowercase first letter, control characters escaped — for src/store.
 */
#ifndef IMGVAULT_STORE_ERRTEXT_H
#define IMGVAULT_STORE_ERRTEXT_H

#include <ctype.h>

#include "../util/strbuf.h"
#include "../util/text.h"

/* Append s with its first letter lowercased ("No such file" -> "no such file"). */
static inline void errtext_add(struct strbuf *out, const char *s)
{
	size_t at = out->len;

	text_quote(out, s);
	if (out->len > at && out->buf[at] >= 'A' && out->buf[at] <= 'Z' &&
	    !(out->len > at + 1 && isupper((unsigned char)out->buf[at + 1])))
		out->buf[at] = (char)tolower((unsigned char)out->buf[at]);
}

#endif
