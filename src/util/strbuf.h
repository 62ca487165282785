/*
 * strbuf: a growable, NUL-terminated byte buffer with a size cap.
 *
 * Every path, URL, message and generated name goes through a strbuf so no
 * fixed array can overflow. Appending past the cap (or failing to allocate)
 * sets `toobig`, keeps the contents as they were, and makes the append
 * return -1; later appends keep failing until strbuf_reset. A zeroed or
 * STRBUF_INIT buffer is valid and empty; strbuf_release frees it.
 */
#ifndef IMGVAULT_STRBUF_H
#define IMGVAULT_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

#define STRBUF_DEFAULT_CAP ((size_t)64 << 20)

struct strbuf {
	char *buf;	/* always NUL-terminated when len > 0 or alloc > 0 */
	size_t len;
	size_t alloc;
	size_t cap;	/* 0 means STRBUF_DEFAULT_CAP */
	int toobig;
};

#define STRBUF_INIT { 0 }

/* The contents as a C string; "" for an empty buffer, never NULL. */
const char *strbuf_str(const struct strbuf *sb);

int strbuf_add(struct strbuf *sb, const void *data, size_t len);
int strbuf_addstr(struct strbuf *sb, const char *s);
int strbuf_addch(struct strbuf *sb, char c);
int strbuf_addf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap);

/* Empty the buffer (keeps its memory and cap, clears toobig). */
void strbuf_reset(struct strbuf *sb);
/* Replace the contents with a formatted string. */
int strbuf_setf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Hand the string to the caller (who frees it); the buffer becomes empty. */
char *strbuf_detach(struct strbuf *sb);
void strbuf_release(struct strbuf *sb);

/* Duplicate a string or abort-free fail: returns NULL on allocation failure. */
char *xstrdup_or_null(const char *s);

#endif
