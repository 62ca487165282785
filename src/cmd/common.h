/*
 * common: settings every command resolves the same way (root folder,
 * build tag), so catalog, build and archive agree.
 */
#ifndef IMGVAULT_CMD_COMMON_H
#define IMGVAULT_CMD_COMMON_H

#include "../util/strbuf.h"
#include "cmd.h"

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

#endif
