/*
 * catalog: every service image of a tree of compose projects.
 *
 * A project is a folder directly under the root whose name starts with
 * neither '.' nor '_' and that holds compose.yaml, compose.yml,
 * docker-compose.yaml or docker-compose.yml (first found). Variables come
 * from the project's .env-dist only. Projects are sorted by folder name;
 * services keep file order. Problems are reported through callbacks; a
 * project that cannot be read is skipped and counted.
 */
#ifndef IMGVAULT_CATALOG_H
#define IMGVAULT_CATALOG_H

#include <stddef.h>

#include "../util/strbuf.h"
#include "../util/strlist.h"

#define CATALOG_MAX_COMPOSE_BYTES ((size_t)8 << 20)
#define CATALOG_MAX_ENV_BYTES ((size_t)4 << 20)

enum image_source {
	SOURCE_PULL,
	SOURCE_BUILD_LOCAL,
	SOURCE_BUILD_REMOTE,
	SOURCE_BUILD_ONLY,
};

struct catalog_arg {
	char *name;
	char *value;	/* NULL when unset */
};

struct catalog_entry {
	char *project;		/* folder name */
	char *compose_project;	/* normalised compose project name */
	char *service;
	char *image_ref;	/* raw image:, or NULL */
	char *image_resolved;	/* interpolated image:, or NULL */
	char *image;		/* what build/archive use, or NULL on error */
	enum image_source source;
	char *build_context;	/* resolved (absolute path or URL), or NULL */
	char *dockerfile;	/* as in the compose file, or NULL */
	char *dockerfile_inline;/* or NULL */
	char *target;		/* or NULL */
	struct catalog_arg *args;
	size_t nargs;
	struct strlist dockerfile_from;
	struct strlist base_images;
	char *env_var;		/* or NULL */
	char *env_default;	/* or NULL */
	struct strlist profiles;
	int version_pinned;
	char *error;		/* or NULL */
};

struct catalog_report {
	void (*warning)(void *ctx, const char *msg);
	void (*error)(void *ctx, const char *msg);	/* a project skipped */
	void *ctx;
};

struct catalog_options {
	const char *root;
	const char *build_tag;
	const char *const *projects;	/* only these folder names, NULL-terminated; NULL = all */
	const char *const *excludes;	/* NULL-terminated, or NULL */
	const struct catalog_report *report;
};

struct catalog {
	struct catalog_entry *entries;
	size_t n, alloc;
	struct strlist projects;	/* folder names of the projects found, sorted */
	size_t projects_scanned;
	size_t projects_failed;
	size_t entry_errors;
	int oom;			/* an allocation failed: catalog_scan fails */
};

/*
 * Catalogue the tree. Returns 0 (problems with single projects are
 * reported and counted, not returned), or -1 with err set when the root
 * itself cannot be read or memory runs out (never a catalog with an entry
 * missing a value it should have).
 */
int catalog_scan(struct catalog *c, const struct catalog_options *opt,
		 struct strbuf *err);
void catalog_free(struct catalog *c);

/*
 * The project folders catalog_scan reads under root: names starting with
 * neither '.' nor '_', kept by projects and excludes (NULL-terminated
 * arrays, or NULL), that are folders holding a compose file; appended to
 * out sorted by name (the caller frees out). Nothing is loaded. Returns 0,
 * or -1 with err set when the root cannot be read (or memory runs out).
 */
int catalog_find_projects(const char *root, const char *const *projects,
			  const char *const *excludes, struct strlist *out, struct strbuf *err);

const char *image_source_name(enum image_source s);

/* The default build tag for a date: "d-rymcg-tech-YYYYMMDD". */
int catalog_default_build_tag(struct strbuf *out);

#endif
