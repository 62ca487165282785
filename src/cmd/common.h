/*
 * common: settings every command resolves the same way (root folder,
 * build tag), so catalog, build and archive agree.
 */
#ifndef IMGVAULT_CMD_COMMON_H
#define IMGVAULT_CMD_COMMON_H

#include "../catalog/catalog.h"
#include "../catalog/plan.h"
#include "../engine/client.h"
#include "../engine/host.h"
#include "../util/strbuf.h"
#include "cmd.h"
#include "output.h"

/*
 * The projects root: --root, else IMGVAULT_ROOT, else (invoked as image-*
 * from a `_scripts` folder) that folder's parent, else ".". "From a
 * `_scripts` folder" means the binary's own path or the current folder.
 */
int resolve_root(const struct cmd_context *ctx, const char *flag, struct strbuf *out);

/* --build-tag, else IMGVAULT_BUILD_TAG, else d-rymcg-tech-YYYYMMDD; validated. */
int resolve_build_tag(const char *flag, struct strbuf *out);

/* A strlist as the NULL-terminated array catalog_options wants (NULL when empty). */
const char *const *strlist_argv(struct strlist *l);

/* Catalog problems, printed one line each (names escaped) and counted. */
struct report_counts {
	size_t warnings, errors;
};
void report_warning(void *counts, const char *msg);
void report_error(void *counts, const char *msg);

/*
 * The catalog entries of project that could not be resolved: one
 * "[error] service 'x': why" line each, and a line in failures.
 */
void report_entry_errors(struct output *out, const struct catalog *c, const char *project,
			 struct strlist *failures);

/* Every --project names a project found; else one line and EXIT_USAGE. */
int projects_exist(const struct strlist *wanted, const struct strlist *found, const char *root);

/* What build and archive scan: the tree, its build tag and project filters. */
struct tree_scan {
	const char *root, *build_tag_flag;
	struct strlist *projects, *excludes;
	struct report_counts *counts;
};

/*
 * Catalog the tree (problems printed and counted), check that every
 * --project exists, and plan one job per unique image. EXIT_OK, or
 * EXIT_USAGE after one line naming `command` and the problem.
 */
int scan_tree(const char *command, const struct tree_scan *t, struct catalog *c,
	      struct plan *p);

/*
 * The docker context the engine would be chosen from (-H flag or NULL,
 * then DOCKER_HOST, DOCKER_CONTEXT, the config's current context), for
 * <root>/.env_<context>, without reaching the engine; "default" when none.
 * Owned by the caller; NULL when out of memory (never "default" for another).
 */
char *context_name(const struct host_env *env, const char *flag);

/* The environment the engine and registry settings come from. */
void host_env_from_environ(struct host_env *env);

/*
 * Open the engine: -H/--host (flag, may be NULL), else DOCKER_HOST, a
 * context, or the default socket. ssh comes from IMGVAULT_SSH (default
 * "ssh") with IMGVAULT_SSH_CONFIG as its -F file when set. With verbose,
 * the ssh command is shown. On failure prints one line and returns
 * EXIT_USAGE; else EXIT_OK.
 */
int connect_engine(struct engine *e, const char *flag, int verbose);

#endif
