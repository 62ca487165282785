/*
 * vars: string variables over strmap; see vars.h.
 */
#include "vars.h"

#include <stdlib.h>
#include <string.h>

const char *vars_get(const struct vars *v, const char *name, size_t len)
{
	const struct strmap_item *it = strmap_find(&v->map, name, len);

	return it ? it->value : NULL;
}

int vars_set(struct vars *v, const char *name, size_t len, const char *value)
{
	char *copy = strdup(value);
	struct strmap_item *it;

	if (!copy)
		return -1;
	it = strmap_put(&v->map, name, len);
	if (!it) {
		free(copy);
		return -1;
	}
	free(it->value);
	it->value = copy;
	return 0;
}

void vars_free(struct vars *v)
{
	strmap_free(&v->map, free);
}
