/*
 * strlist: owned string array; see strlist.h.
 */
#include "strlist.h"

#include "array.h"

#include <stdlib.h>
#include <string.h>

int strlist_addn(struct strlist *l, const char *s, size_t len)
{
	char **p = array_grow(l->items, &l->alloc, l->n, sizeof(*p));
	char *copy;

	if (!p)
		return -1;
	l->items = p;
	copy = malloc(len + 1);
	if (!copy)
		return -1;
	memcpy(copy, s, len);
	copy[len] = '\0';
	l->items[l->n++] = copy;
	return 0;
}

int strlist_add(struct strlist *l, const char *s)
{
	return strlist_addn(l, s, strlen(s));
}

int strlist_has(const struct strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->items[i], s))
			return 1;
	return 0;
}

int strlist_add_unique(struct strlist *l, const char *s)
{
	return strlist_has(l, s) ? 0 : strlist_add(l, s);
}

void strlist_free(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = l->alloc = 0;
}
