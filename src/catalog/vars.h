/*
 * vars: an ordered set of NAME=value variables with hashed lookup, as read
 * from an env file. Names and values are copied in; vars owns them.
 */
#ifndef IMGVAULT_VARS_H
#define IMGVAULT_VARS_H

#include <stddef.h>

struct var {
	char *name;
	char *value;
};

struct vars {
	struct var *items;	/* in first-definition order */
	size_t n, alloc;
	size_t *slots;		/* hash slots: index + 1, 0 = empty */
	size_t nslots;
};

#define VARS_INIT { 0 }

/* Set name (len bytes) to value; a redefinition keeps the first position. */
int vars_set(struct vars *v, const char *name, size_t len, const char *value);
/* The value of name (len bytes), or NULL when it is not defined. */
const char *vars_get(const struct vars *v, const char *name, size_t len);
void vars_free(struct vars *v);

#endif
