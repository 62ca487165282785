/*
 * strmap: open-addressing hash map with FNV-1a; see strmap.h.
 */
#include "strmap.h"

#include "array.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* FNV-1a of s[0..len), continuing from h. */
static uint64_t fnv1a(uint64_t h, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

/* FNV-1a of the key a[0..alen) followed by b[0..blen). */
static size_t hash_key(const char *a, size_t alen, const char *b, size_t blen)
{
	return (size_t)fnv1a(fnv1a(1469598103934665603ULL, a, alen), b, blen);
}

/* The slot of the key a ++ b (b may be empty), or the empty slot it would take. */
static size_t *find_slot(const struct strmap *m, const char *a, size_t alen, const char *b,
			 size_t blen)
{
	size_t mask = m->nslots - 1;

	for (size_t i = hash_key(a, alen, b, blen) & mask;; i = (i + 1) & mask) {
		size_t *slot = &m->slots[i];
		const struct strmap_item *it;

		if (!*slot)
			return slot;
		it = &m->items[*slot - 1];
		if (it->len == alen + blen && !memcmp(it->key, a, alen) &&
		    (!blen || !memcmp(it->key + alen, b, blen)))
			return slot;
	}
}

static int rehash(struct strmap *m, size_t nslots)
{
	size_t *slots = calloc(nslots, sizeof(*slots));

	if (!slots)
		return -1;
	free(m->slots);
	m->slots = slots;
	m->nslots = nslots;
	for (size_t i = 0; i < m->n; i++)
		*find_slot(m, m->items[i].key, m->items[i].len, NULL, 0) = i + 1;
	return 0;
}

struct strmap_item *strmap_find(const struct strmap *m, const char *key, size_t len)
{
	return strmap_find2(m, key, len, NULL, 0);
}

struct strmap_item *strmap_find2(const struct strmap *m, const char *a, size_t alen,
				 const char *b, size_t blen)
{
	size_t *slot;

	if (!m->nslots)
		return NULL;
	slot = find_slot(m, a, alen, b, blen);
	return *slot ? &m->items[*slot - 1] : NULL;
}

struct strmap_item *strmap_put(struct strmap *m, const char *key, size_t len)
{
	struct strmap_item *it;
	size_t *slot;

	if ((m->n + 1) * 2 > m->nslots && rehash(m, m->nslots ? m->nslots * 2 : 64) < 0)
		return NULL;
	slot = find_slot(m, key, len, NULL, 0);
	if (*slot)
		return &m->items[*slot - 1];
	it = array_grow(m->items, &m->alloc, m->n, sizeof(*it));
	if (!it)
		return NULL;
	m->items = it;
	it = &m->items[m->n];
	it->key = malloc(len + 1);
	if (!it->key)
		return NULL;
	memcpy(it->key, key, len);
	it->key[len] = '\0';
	it->len = len;
	it->value = NULL;
	*slot = ++m->n;
	return it;
}

void strmap_free(struct strmap *m, void (*free_value)(void *))
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->items[i].key);
		if (free_value)
			free_value(m->items[i].value);
	}
	free(m->items);
	free(m->slots);
	memset(m, 0, sizeof(*m));
}
