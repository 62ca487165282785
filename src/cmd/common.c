/*
 * common: root folder and build tag resolution; see common.h.
 */
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../catalog/catalog.h"
#include "../catalog/imageref.h"
#include "../util/fileio.h"
#include "../util/text.h"

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

void host_env_from_environ(struct host_env *env)
{
	env->docker_host = getenv("DOCKER_HOST");
	env->docker_context = getenv("DOCKER_CONTEXT");
	env->docker_config = getenv("DOCKER_CONFIG");
	env->home = getenv("HOME");
	env->tls_verify = getenv("DOCKER_TLS_VERIFY");
	env->cert_path = getenv("DOCKER_CERT_PATH");
}

static void verbose_line(void *ctx, const char *line)
{
	(void)ctx;
	fflush(stdout);
	fprintf(stderr, "imgvault: %s\n", line);
}

int connect_engine(struct engine *e, const char *flag, int verbose)
{
	struct host_env env;
	struct engine_host host = { 0 };
	struct engine_options opt = { .ssh_program = getenv("IMGVAULT_SSH"),
				      .ssh_config = getenv("IMGVAULT_SSH_CONFIG") };
	struct strbuf err = STRBUF_INIT;

	if (verbose)
		opt.log = verbose_line;
	host_env_from_environ(&env);
	if (engine_host_resolve(&host, flag, &env, &err) < 0) {
		say_error("%s", strbuf_str(&err));
		engine_host_free(&host);
		strbuf_release(&err);
		return EXIT_USAGE;
	}
	if (engine_open(e, &host, &opt, &err) < 0) {
		say_error("%s; check that the engine runs and is reachable, or choose "
			  "another with -H or DOCKER_HOST", strbuf_str(&err));
		engine_close(e);
		strbuf_release(&err);
		return EXIT_USAGE;
	}
	strbuf_release(&err);
	return EXIT_OK;
}

/* Messages carry names from the disk: escape control bytes, keep one line. */
void report_warning(void *counts, const char *msg)
{
	struct report_counts *c = counts;
	struct strbuf q = STRBUF_INIT;

	c->warnings++;
	text_quote(&q, msg);
	say_warning("%s", strbuf_str(&q));
	strbuf_release(&q);
}

void report_error(void *counts, const char *msg)
{
	struct report_counts *c = counts;
	struct strbuf q = STRBUF_INIT;

	c->errors++;
	text_quote(&q, msg);
	say_error("%s", strbuf_str(&q));
	strbuf_release(&q);
}

int projects_exist(const struct strlist *wanted, const struct strlist *found, const char *root)
{
	for (size_t i = 0; i < wanted->n; i++) {
		if (strlist_has(found, wanted->items[i]))
			continue;
		say_error("no project '%s' under '%s' (a folder with a compose file); "
			  "see 'imgvault catalog --summary' for the list", wanted->items[i], root);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

void report_entry_errors(struct output *out, const struct catalog *c, const char *project,
			 struct strlist *failures)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct catalog_entry *e = &c->entries[i];
		struct strbuf why = STRBUF_INIT;
		json_t *image;

		if (!e->error || strcmp(e->project, project))
			continue;
		text_quote(&why, e->error);
		output_line(out, LINE_BAD, "[error] service '%s': %s", e->service, strbuf_str(&why));
		image = output_image(out, e->project, NULL, "failed");
		json_object_set_new(image, "service", output_str(e->service));
		json_object_set_new(image, "error", output_str(e->error));
		strbuf_reset(&why);
		strbuf_addf(&why, "service %s/%s: ", e->project, e->service);
		text_quote(&why, e->error);
		strlist_add(failures, strbuf_str(&why));
		strbuf_release(&why);
	}
}

int scan_tree(const char *command, const struct tree_scan *t, struct catalog *c,
	      struct plan *p)
{
	struct strbuf tag = STRBUF_INIT, err = STRBUF_INIT;
	struct catalog_report rep = { report_warning, report_error, t->counts };
	struct catalog_options opt = { .report = &rep, .root = t->root };
	int code = EXIT_USAGE;

	if (resolve_build_tag(t->build_tag_flag, &tag) < 0) {
		if (tag.toobig)
			say_error("out of memory");
		else
			say_error("%s: invalid build tag '%s' (letters, digits, '_', '.', '-'; "
				  "at most 128, not starting with '.' or '-')", command,
				  strbuf_str(&tag));
		goto done;
	}
	opt.build_tag = strbuf_str(&tag);
	opt.projects = strlist_argv(t->projects);
	opt.excludes = strlist_argv(t->excludes);
	/* NULL there means every project: never widen --project or --exclude. */
	if ((t->projects->n && !opt.projects) || (t->excludes->n && !opt.excludes))
		say_error("out of memory");
	else if (catalog_scan(c, &opt, &err) < 0)
		say_error("%s", strbuf_str(&err));
	else if (projects_exist(t->projects, &c->projects, t->root) != EXIT_OK)
		; /* said */
	else if (plan_from_catalog(p, c) < 0)
		say_error("out of memory");
	else
		code = EXIT_OK;
done:
	strbuf_release(&tag);
	strbuf_release(&err);
	return code;
}

char *context_name(const struct host_env *env, const char *flag)
{
	struct engine_host h = { 0 };
	struct strbuf err = STRBUF_INIT;
	char *name = NULL;

	if (engine_host_resolve(&h, flag, env, &err) == 0)
		name = strdup(h.context ? h.context : "default");
	else
		name = strdup("default");
	engine_host_free(&h);
	strbuf_release(&err);
	return name;
}
