/*
 * strmap: a hash map from byte-string keys to pointers, in insertion
 * order. Keys are copied in and owned; values belong to the caller (pass a
 * free function to strmap_free to release them). Lookups are O(1), so
 * nothing that hostile input controls can make them quadratic.
 */
#ifndef IMGVAULT_STRMAP_H
#define IMGVAULT_STRMAP_H

#include <stddef.h>

struct strmap_item {
	char *key;	/* NUL-terminated copy; may hold NUL bytes itself (see len) */
	size_t len;
	void *value;
};

struct strmap {
	struct strmap_item *items;	/* in first-insertion order */
	size_t n, alloc;
	size_t *slots;			/* index + 1, 0 = empty */
	size_t nslots;
};

#define STRMAP_INIT { 0 }

/* The item for key, or NULL. */
struct strmap_item *strmap_find(const struct strmap *m, const char *key, size_t len);
/*
 * The item for the key a[0..alen) followed by b[0..blen), or NULL: a
 * two-part key found without joining the parts, so with no allocation to
 * fail (a lookup never takes "no memory" for "not there").
 */
struct strmap_item *strmap_find2(const struct strmap *m, const char *a, size_t alen,
				 const char *b, size_t blen);
/* The item for key, added with a NULL value when new; NULL when out of memory. */
struct strmap_item *strmap_put(struct strmap *m, const char *key, size_t len);
void strmap_free(struct strmap *m, void (*free_value)(void *));

#endif
