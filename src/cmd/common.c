/*
 * common: root folder and build tag resolution; see common.h.
 */
#include "common.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../catalog/catalog.h"
#include "../catalog/imageref.h"
#include "../util/fileio.h"

/* The parent of dir when dir's last component is "_scripts", else -1. */
static int scripts_parent(const char *dir, struct strbuf *out)
{
	size_t len = strlen(dir);
	const char *last;

	while (len > 1 && dir[len - 1] == '/')
		len--;
	last = memrchr(dir, '/', len);
	last = last ? last + 1 : dir;
	if ((size_t)(dir + len - last) != 8 || strncmp(last, "_scripts", 8))
		return -1;
	if (last == dir)
		return strbuf_addstr(out, ".");	/* "_scripts" itself, relative */
	if (last - 1 == dir)
		return strbuf_addstr(out, "/");
	return strbuf_add(out, dir, (size_t)(last - 1 - dir));
}

int resolve_root(const struct cmd_context *ctx, const char *flag, struct strbuf *out)
{
	const char *env = getenv("IMGVAULT_ROOT");

	strbuf_reset(out);
	if (flag)
		return strbuf_addstr(out, flag);
	if (env && *env)
		return strbuf_addstr(out, env);
	if (ctx->via_alias) {
		const char *slash = strrchr(ctx->argv0, '/');
		char *cwd;

		if (slash) {
			struct strbuf dir = STRBUF_INIT;
			int r;

			strbuf_add(&dir, ctx->argv0, (size_t)(slash - ctx->argv0));
			r = scripts_parent(dir.len ? dir.buf : "/", out);
			strbuf_release(&dir);
			if (r == 0)
				return 0;
		}
		cwd = getcwd(NULL, 0);
		if (cwd && scripts_parent(cwd, out) == 0) {
			free(cwd);
			return 0;
		}
		free(cwd);
	}
	return strbuf_addstr(out, ".");
}

int resolve_build_tag(const char *flag, struct strbuf *out)
{
	const char *env = getenv("IMGVAULT_BUILD_TAG");
	const char *tag = flag ? flag : (env && *env ? env : NULL);

	strbuf_reset(out);
	if (!tag)
		return catalog_default_build_tag(out);
	if (!imageref_valid_tag(tag)) {
		say_error("build tag '%s' is not a valid image tag (letters, digits, '_', '.', "
			  "'-', at most 128, not starting with '.' or '-')", tag);
		return -1;
	}
	return strbuf_addstr(out, tag);
}

const char *const *strlist_argv(struct strlist *l)
{
	if (!l->n)
		return NULL;
	if (strlist_add(l, "") < 0)
		return NULL;
	/* The list keeps ownership; the last slot becomes the terminator. */
	free(l->items[l->n - 1]);
	l->items[--l->n] = NULL;
	return (const char *const *)l->items;
}
