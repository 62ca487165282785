/*
 * vars: NAME=value variables as read from an env file, in first-definition
 * order, with hashed lookup. Names and values are copied in; vars owns
 * them. Names are compared by bytes and length, so any byte string is a name.
 */
#ifndef IMGVAULT_VARS_H
#define IMGVAULT_VARS_H

#include <stddef.h>

#include "../util/strmap.h"

struct vars {
	struct strmap map;	/* name -> char * value */
};

#define VARS_INIT { STRMAP_INIT }

/* Set name (len bytes) to value; a redefinition keeps the first position. */
int vars_set(struct vars *v, const char *name, size_t len, const char *value);
/* The value of name (len bytes), or NULL when it is not defined. */
const char *vars_get(const struct vars *v, const char *name, size_t len);
/* How many variables, and the i-th name and value, in definition order. */
static inline size_t vars_count(const struct vars *v) { return v->map.n; }
static inline const char *vars_name(const struct vars *v, size_t i) { return v->map.items[i].key; }
static inline const char *vars_value(const struct vars *v, size_t i) { return v->map.items[i].value; }
void vars_free(struct vars *v);

#endif
