/*
 * vars: ordered variables with an open-addressing hash index; see vars.h.
 */
#include "vars.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static size_t hash_name(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return (size_t)h;
}

static size_t *find_slot(const struct vars *v, const char *name, size_t len)
{
	size_t mask = v->nslots - 1;
	size_t i = hash_name(name, len) & mask;

	for (;;) {
		size_t *slot = &v->slots[i];
		const char *have;

		if (!*slot)
			return slot;
		have = v->items[*slot - 1].name;
		if (!strncmp(have, name, len) && have[len] == '\0')
			return slot;
		i = (i + 1) & mask;
	}
}

static int rehash(struct vars *v, size_t nslots)
{
	size_t *slots = calloc(nslots, sizeof(*slots));

	if (!slots)
		return -1;
	free(v->slots);
	v->slots = slots;
	v->nslots = nslots;
	for (size_t i = 0; i < v->n; i++)
		*find_slot(v, v->items[i].name, strlen(v->items[i].name)) = i + 1;
	return 0;
}

const char *vars_get(const struct vars *v, const char *name, size_t len)
{
	size_t *slot;

	if (!v->nslots)
		return NULL;
	slot = find_slot(v, name, len);
	return *slot ? v->items[*slot - 1].value : NULL;
}

int vars_set(struct vars *v, const char *name, size_t len, const char *value)
{
	char *copy = strdup(value);
	size_t *slot;

	if (!copy)
		return -1;
	if ((v->n + 1) * 2 > v->nslots &&
	    rehash(v, v->nslots ? v->nslots * 2 : 64) < 0)
		goto fail;
	slot = find_slot(v, name, len);
	if (*slot) {
		free(v->items[*slot - 1].value);
		v->items[*slot - 1].value = copy;
		return 0;
	}
	if (v->n == v->alloc) {
		size_t alloc = v->alloc ? v->alloc * 2 : 32;
		struct var *p = realloc(v->items, alloc * sizeof(*p));

		if (!p)
			goto fail;
		v->items = p;
		v->alloc = alloc;
	}
	v->items[v->n].name = strndup(name, len);
	if (!v->items[v->n].name)
		goto fail;
	v->items[v->n].value = copy;
	*slot = ++v->n;
	return 0;
fail:
	free(copy);
	return -1;
}

void vars_free(struct vars *v)
{
	for (size_t i = 0; i < v->n; i++) {
		free(v->items[i].name);
		free(v->items[i].value);
	}
	free(v->items);
	free(v->slots);
	memset(v, 0, sizeof(*v));
}
