/*
 * compose: load one compose file into the services imgvault cares about,
 * interpolated with one set of variables, as Compose v2 would see them.
 *
 * Every scalar value in the file is interpolated once to find syntax
 * errors (fatal for the file) and unset variables (warnings); a required
 * variable missing inside a service marks that service, outside services
 * it is fatal. Fields read: top-level `name`, and per service `image`,
 * `build` (string or mapping: context, dockerfile, dockerfile_inline,
 * args as map or list, target) and `profiles`.
 */
#ifndef IMGVAULT_COMPOSE_H
#define IMGVAULT_COMPOSE_H

#include <stddef.h>

#include "../util/strbuf.h"
#include "../util/strlist.h"
#include "vars.h"

struct compose_arg {
	char *name;
	char *value;	/* NULL: declared without a value and not in the variables */
};

struct compose_service {
	char *name;
	char *image_raw;	/* the image: scalar as written, or NULL */
	char *image;		/* interpolated, or NULL */
	struct strlist image_vars;	/* variables named in image:, in order */
	int has_build;
	char *context_raw;	/* as written (default ".") */
	char *context;		/* interpolated */
	char *dockerfile;	/* interpolated, default "Dockerfile" */
	char *dockerfile_inline;	/* interpolated, or NULL */
	char *target;		/* or NULL */
	struct compose_arg *args;
	size_t nargs;
	struct strlist arg_vars;	/* variables named in build args */
	struct strlist profiles;
	int uses_extends;	/* has an extends: key (not followed) */
	char *error;		/* why this service cannot be resolved, or NULL */
};

struct compose_file {
	char *name;		/* top-level name:, interpolated, or NULL */
	struct compose_service *services;	/* in file order */
	size_t nservices;
};

struct compose_warn {
	/* A variable used with no value and no default; service may be NULL. */
	void (*unset)(void *ctx, const char *service, const char *field, const char *var);
	void *ctx;
};

/*
 * Load data[0..len) with variables vars. On a fatal error returns -1 and
 * writes "LINE:COL: reason" into err (the caller adds the file name).
 */
int compose_load(struct compose_file *cf, const char *data, size_t len,
		 const struct vars *vars, const struct compose_warn *warn,
		 struct strbuf *err);
void compose_free(struct compose_file *cf);

/*
 * Compose's project name from a folder name or `name:`: lowercased, only
 * [a-z0-9_-] kept, leading '_' and '-' removed. May produce "".
 */
int compose_project_name(const char *in, struct strbuf *out);

/* Does a build context name a remote source (URL or git address)? */
int compose_context_is_remote(const char *context);

#endif
