/*
 * strlist: a growable array of owned C strings, in insertion order.
 */
#ifndef IMGVAULT_STRLIST_H
#define IMGVAULT_STRLIST_H

#include <stddef.h>

struct strlist {
	char **items;
	size_t n, alloc;
};

#define STRLIST_INIT { 0 }

/* Each returns 0, or -1 when out of memory (the list is unchanged). */
int strlist_add(struct strlist *l, const char *s);
int strlist_addn(struct strlist *l, const char *s, size_t len);
/* Add unless an equal string is already there. */
int strlist_add_unique(struct strlist *l, const char *s);
int strlist_has(const struct strlist *l, const char *s);
void strlist_free(struct strlist *l);

#endif
