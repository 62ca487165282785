/*
 * jsonsafe: jansson's parse and dump, made to fail whole under memory
 * pressure. jansson 2.14 loses text when an allocation fails half-way and
 * carries on: its lexer drops the character it could not append (lex_save
 * ignores the failure), so an image ID "sha256:2a837c21f13a…" can come back
 * as "sha256:2a837c2f13a…", and its dump drops an object's key it could not
 * append (dump_string's result is not checked), so a manifest can be
 * written as `{ ": "2026-…",` — valid-looking calls, wrong results. Every
 * jansson allocation goes through a counting function; a parse or dump
 * during which one of them failed is thrown away.
 */
#ifndef IMGVAULT_JSONSAFE_H
#define IMGVAULT_JSONSAFE_H

#include <jansson.h>

/*
 * Install the counting allocator (once; the first json_parse or json_text
 * also does). Call it before any thread uses jansson.
 */
void json_safe_init(void);

/*
 * json_loadb(buf, len, flags, error); NULL with errno ENOMEM (and error's
 * text "out of memory") when an allocation failed during the parse, whether
 * or not jansson noticed; NULL with errno 0 for text that is not JSON.
 */
json_t *json_parse(const char *buf, size_t len, size_t flags, json_error_t *error);

/* json_dumps(json, flags); NULL with errno ENOMEM when any allocation failed. */
char *json_text(const json_t *json, size_t flags);

#endif
