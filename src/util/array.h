/*
 * array: growing the arrays the modules keep as (items, n, alloc).
 */
#ifndef IMGVAULT_ARRAY_H
#define IMGVAULT_ARRAY_H

#include <stddef.h>

/*
 * Room for at least one more element after n: returns items (moved when
 * it had to grow, *alloc updated), or NULL when out of memory or the size
 * would overflow — then items is untouched and still owned by the caller.
 */
void *array_grow(void *items, size_t *alloc, size_t n, size_t size);

#endif
