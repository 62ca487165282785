/*
 * array: geometric growth with overflow checks; see array.h.
 */
#include "array.h"

#include <stdint.h>
#include <stdlib.h>

void *array_grow(void *items, size_t *alloc, size_t n, size_t size)
{
	size_t want;
	void *p;

	if (n < *alloc)
		return items;
	want = *alloc ? *alloc * 2 : 16;
	if (want < *alloc || want > SIZE_MAX / size)
		return NULL;
	p = realloc(items, want * size);
	if (p)
		*alloc = want;
	return p;
}
