/*
 * jsonparse: json_loadb that never hands back a document missing part of
 * its text. jansson 2.14's lexer drops a character when it cannot grow a
 * token's buffer (lex_save ignores the failed append) and parses on, so
 * under memory pressure an image ID "sha256:2a837c21f13a…" can come back
 * as "sha256:2a837c2f13a…", valid JSON and wrong. jansson's allocations go
 * through counting functions; a parse during which one of them failed is
 * thrown away.
 */
#ifndef IMGVAULT_JSONPARSE_H
#define IMGVAULT_JSONPARSE_H

#include <jansson.h>

/*
 * Install the counting allocator (once; also done by the first
 * json_parse). Call it before any thread uses jansson.
 */
void json_parse_init(void);

/*
 * json_loadb(buf, len, flags, error); NULL with errno ENOMEM when an
 * allocation failed during the parse (whether or not jansson noticed),
 * NULL with errno 0 for text that is not JSON (error says why).
 */
json_t *json_parse(const char *buf, size_t len, size_t flags, json_error_t *error);

#endif
