/*
 * catalog: walk the root, load each project, and turn its services into
 * catalog entries; see catalog.h. Owns the entries it returns.
 */
#include "catalog.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../util/array.h"
#include "../util/fileio.h"
#include "../util/path.h"
#include "../util/text.h"
#include "compose.h"
#include "dockerfile.h"
#include "envfile.h"
#include "imageref.h"
#include "vars.h"

static const char *const compose_names[] = {
	"compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml",
};

/* What one project's loading needs to hand around. */
struct project {
	const struct catalog_options *opt;
	struct catalog *c;
	const char *folder;		/* name under the root */
	struct strbuf dir;		/* absolute, normalised */
	struct strbuf shown;		/* the folder as messages show it */
	struct strbuf compose_shown;	/* the compose file as messages show it */
	struct vars vars;
	char *compose_project;
};

const char *image_source_name(enum image_source s)
{
	switch (s) {
	case SOURCE_PULL:
		return "pull";
	case SOURCE_BUILD_LOCAL:
		return "build-local";
	case SOURCE_BUILD_REMOTE:
		return "build-remote";
	case SOURCE_BUILD_ONLY:
		return "build-only";
	}
	return "?";
}

int catalog_default_build_tag(struct strbuf *out)
{
	time_t now = time(NULL);
	struct tm tm;

	if (!localtime_r(&now, &tm))
		return -1;
	return strbuf_addf(out, "d-rymcg-tech-%04d%02d%02d", tm.tm_year + 1900,
			   tm.tm_mon + 1, tm.tm_mday);
}

static void report(const struct catalog_options *opt, int error, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void report(const struct catalog_options *opt, int error, const char *fmt, ...)
{
	struct strbuf msg = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&msg, fmt, ap);
	va_end(ap);
	if (opt->report) {
		void (*fn)(void *, const char *) = error ? opt->report->error : opt->report->warning;

		if (fn)
			fn(opt->report->ctx, strbuf_str(&msg));
	}
	strbuf_release(&msg);
}

static int listed(const char *const *names, const char *name)
{
	for (; names && *names; names++)
		if (!strcmp(*names, name))
			return 1;
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The first compose file name present in dir (even a dangling link), or
 * NULL, into *name; 0, or -1 when out of memory.
 */
static int find_compose_file(const char *dir, const char **name)
{
	*name = NULL;
	for (size_t i = 0; i < sizeof(compose_names) / sizeof(compose_names[0]); i++) {
		struct strbuf p = STRBUF_INIT;
		int found, r = path_join(&p, dir, compose_names[i]);

		found = r == 0 && file_exists_nofollow(strbuf_str(&p));
		strbuf_release(&p);
		if (r < 0)
			return -1;
		if (found) {
			*name = compose_names[i];
			return 0;
		}
	}
	return 0;
}

/* A project's folder as the catalog reads it: absolute and normalised; -1 when out of memory. */
static int project_dir(struct strbuf *out, const char *root_abs, const char *folder)
{
	struct strbuf joined = STRBUF_INIT;
	int r = path_join(&joined, root_abs, folder);

	if (r == 0)
		r = path_absolute(out, strbuf_str(&joined));
	strbuf_release(&joined);
	return r;
}

static struct catalog_entry *entry_new(struct catalog *c)
{
	struct catalog_entry *p = array_grow(c->entries, &c->alloc, c->n, sizeof(*p));

	if (!p)
		return NULL;
	c->entries = p;
	memset(&c->entries[c->n], 0, sizeof(c->entries[0]));
	return &c->entries[c->n++];
}

static void warn_unset(void *ctx, const char *service, const char *field, const char *var)
{
	struct project *p = ctx;

	if (service)
		report(p->opt, 0, "'%s': service '%s': variable '%s' is not set, using an empty "
		       "string; define it in '%s/.env-dist'", strbuf_str(&p->compose_shown),
		       service, var, strbuf_str(&p->shown));
	else
		report(p->opt, 0, "'%s': '%s': variable '%s' is not set, using an empty string; "
		       "define it in '%s/.env-dist'", strbuf_str(&p->compose_shown), field, var,
		       strbuf_str(&p->shown));
}

/* The variable that controls an image: one naming IMAGE, else VERSION, else the first. */
static const char *pick_env_var(const struct strlist *image_vars, const struct strlist *arg_vars)
{
	const struct strlist *l = image_vars->n ? image_vars : arg_vars;
	static const char *const prefer[] = { "IMAGE", "VERSION" };

	for (size_t k = 0; k < 2; k++)
		for (size_t i = 0; i < l->n; i++)
			if (strstr(l->items[i], prefer[k]))
				return l->items[i];
	return l->n ? l->items[0] : NULL;
}

/* A context that still names a git repository although it did not resolve to a URL. */
static int names_git_repo(const char *raw)
{
	return strstr(raw, ".git") || strstr(raw, "git@") || strstr(raw, "github.com") ||
	       strstr(raw, "GIT_REPO") || strstr(raw, "://");
}

static void read_dockerfile(struct project *p, struct catalog_entry *e,
			    const struct compose_service *s)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT, why = STRBUF_INIT;
	struct build_arg *args = calloc(s->nargs + 1, sizeof(*args));
	struct dockerfile df;
	size_t bad = 0;
	int r;

	if (!args)
		goto done;
	for (size_t i = 0; i < s->nargs; i++) {
		args[i].name = s->args[i].name;
		args[i].value = s->args[i].value;
	}
	if (s->dockerfile_inline) {
		strbuf_addstr(&text, s->dockerfile_inline);
	} else {
		if (path_join(&path, e->build_context, s->dockerfile) < 0) {
			p->c->oom = 1;
			goto done;
		}
		r = file_read_all(strbuf_str(&path), DOCKERFILE_MAX_BYTES, &text, &why);
		if (r < 0) {
			report(p->opt, 0, "'%s': service '%s': cannot read Dockerfile '%s': %s; "
			       "its base images are not listed", strbuf_str(&p->compose_shown),
			       s->name, strbuf_str(&path), strbuf_str(&why));
			goto done;
		}
	}
	if (!utf8_valid(text.buf ? text.buf : "", text.len, &bad)) {
		unsigned l, col;

		text_position(text.buf, text.len, bad, &l, &col);
		report(p->opt, 0, "'%s': service '%s': Dockerfile '%s' is not valid UTF-8 at "
		       "line %u, column %u; its base images are not listed",
		       strbuf_str(&p->compose_shown), s->name,
		       s->dockerfile_inline ? "dockerfile_inline" : strbuf_str(&path), l, col);
		goto done;
	}
	if (dockerfile_parse(text.buf ? text.buf : "", text.len, args, s->nargs, &df, &why) < 0) {
		report(p->opt, 0, "'%s': service '%s': Dockerfile: %s",
		       strbuf_str(&p->compose_shown), s->name, strbuf_str(&why));
		goto done;
	}
	for (size_t i = 0; i < df.undefined_args.n; i++)
		report(p->opt, 0, "'%s': service '%s': Dockerfile FROM uses '%s', which no ARG "
		       "before the first FROM nor build arg defines; it is empty",
		       strbuf_str(&p->compose_shown), s->name, df.undefined_args.items[i]);
	strlist_free(&df.undefined_args);
	e->dockerfile_from = df.from_lines;
	e->base_images = df.base_images;
done:
	free(args);
	strbuf_release(&path);
	strbuf_release(&text);
	strbuf_release(&why);
}

/* A context whose variables left it empty or with only a "#ref" part. */
static int unresolved_context(const char *ctx)
{
	return !ctx || !*ctx || *ctx == '#';
}

/* strdup, NULL for NULL; a failure marks the catalog out of memory. */
static char *dup(struct project *p, const char *s)
{
	char *d = xstrdup_or_null(s);

	if (s && !d)
		p->c->oom = 1;
	return d;
}

static void fill_build(struct project *p, struct catalog_entry *e, const struct compose_service *s)
{
	int local;

	if (s->context && compose_context_is_remote(s->context)) {
		e->source = SOURCE_BUILD_REMOTE;
		e->build_context = dup(p, s->context);
	} else if (unresolved_context(s->context) && names_git_repo(s->context_raw)) {
		e->source = SOURCE_BUILD_REMOTE;
		e->build_context = dup(p, s->context);
	} else if (s->context) {
		/* Compose reads an empty context as "."; relative ones from the project. */
		struct strbuf joined = STRBUF_INIT, ctx = STRBUF_INIT;

		e->source = SOURCE_BUILD_LOCAL;
		if (path_join(&joined, strbuf_str(&p->dir), *s->context ? s->context : ".") < 0 ||
		    path_absolute(&ctx, strbuf_str(&joined)) < 0)
			p->c->oom = 1;	/* or a path too long: either way no context */
		e->build_context = strbuf_detach(&ctx);
		strbuf_release(&joined);
	} else {
		e->source = SOURCE_BUILD_LOCAL;	/* the entry carries the error */
	}
	local = e->source == SOURCE_BUILD_LOCAL;
	if (e->image_ref && strlist_has(&s->profiles, "build-only"))
		e->source = SOURCE_BUILD_ONLY;
	e->dockerfile = dup(p, s->dockerfile);
	e->dockerfile_inline = dup(p, s->dockerfile_inline);
	e->target = dup(p, s->target);
	if (s->nargs && (e->args = calloc(s->nargs, sizeof(*e->args)))) {
		for (size_t i = 0; i < s->nargs; i++) {
			e->args[i].name = dup(p, s->args[i].name);
			e->args[i].value = dup(p, s->args[i].value);
		}
		e->nargs = s->nargs;
	} else if (s->nargs) {
		p->c->oom = 1;
	}
	if (!s->error && (s->dockerfile_inline || (local && e->build_context)))
		read_dockerfile(p, e, s);
}

static void add_service(struct project *p, const struct compose_service *s)
{
	struct catalog_entry *e = entry_new(p->c);
	const char *var;

	if (!e) {
		p->c->oom = 1;
		return;
	}
	e->project = dup(p, p->folder);
	e->compose_project = dup(p, p->compose_project);
	e->service = dup(p, s->name);
	e->image_ref = dup(p, s->image_raw);
	e->image_resolved = dup(p, s->image);
	e->source = SOURCE_PULL;
	if (s->has_build)
		fill_build(p, e, s);
	for (size_t i = 0; i < s->profiles.n; i++)
		if (strlist_add(&e->profiles, s->profiles.items[i]) < 0)
			p->c->oom = 1;
	var = pick_env_var(&s->image_vars, &s->arg_vars);
	if (var) {
		const char *def = vars_get(&p->vars, var, strlen(var));

		e->env_var = dup(p, var);
		e->env_default = dup(p, def);
	}
	if (s->error) {
		e->error = dup(p, s->error);
	} else if (s->image && *s->image) {
		struct imageref ref;
		struct strbuf why = STRBUF_INIT;

		e->image = dup(p, s->image);
		if (imageref_parse(s->image, &ref, &why) < 0)
			report(p->opt, 0, "'%s': service '%s': image '%.200s' is not a valid reference: %s",
			       strbuf_str(&p->compose_shown), s->name, s->image, strbuf_str(&why));
		else
			imageref_free(&ref);
		strbuf_release(&why);
		e->version_pinned = imageref_is_pinned(s->image);
	} else if (s->has_build) {
		struct strbuf name = STRBUF_INIT;

		if (strbuf_addf(&name, "%s-%s:%s", p->compose_project, s->name,
				p->opt->build_tag) < 0)
			p->c->oom = 1;
		e->image = strbuf_detach(&name);
	} else if (s->image_raw) {
		struct strbuf why = STRBUF_INIT;

		if (strbuf_addf(&why, "image '%.200s' resolves to an empty name; set %s in "
				"'%s/.env-dist'", s->image_raw,
				e->env_var ? e->env_var : "its variables", strbuf_str(&p->shown)) < 0)
			p->c->oom = 1;
		e->error = strbuf_detach(&why);
	} else if (s->uses_extends) {
		e->error = dup(p, "service uses 'extends:', which imgvault does not follow yet; "
			       "give it an image: or build:");
	} else {
		e->error = dup(p, "service has neither an image nor a build context");
	}
	if (e->error) {
		free(e->image_resolved);
		e->image_resolved = NULL;
		free(e->image);
		e->image = NULL;
		p->c->entry_errors++;
	}
}

static int load_env(struct project *p)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT, why = STRBUF_INIT;
	size_t line = 0, bad = 0;
	int r;

	/* Never read "no path" as "no .env-dist": its variables would be lost. */
	if (path_join(&path, strbuf_str(&p->dir), ".env-dist") < 0) {
		p->c->oom = 1;
		strbuf_release(&path);
		return -1;
	}
	r = file_read_all(strbuf_str(&path), CATALOG_MAX_ENV_BYTES, &text, &why);
	if (r == FILEIO_MISSING && !file_exists_nofollow(strbuf_str(&path))) {
		r = 0;
	} else if (r < 0) {
		report(p->opt, 1, "'%s/.env-dist': %s; project skipped", strbuf_str(&p->shown),
		       strbuf_str(&why));
	} else if (!utf8_valid(text.buf ? text.buf : "", text.len, &bad)) {
		unsigned l, col;

		text_position(text.buf, text.len, bad, &l, &col);
		report(p->opt, 1, "%s/.env-dist:%u:%u: not valid UTF-8; project skipped",
		       strbuf_str(&p->shown), l, col);
		r = -1;
	} else if (envfile_parse(text.buf ? text.buf : "", text.len, &p->vars, &why, &line) < 0) {
		report(p->opt, 1, "%s/.env-dist:%zu: %s; project skipped", strbuf_str(&p->shown),
		       line, strbuf_str(&why));
		r = -1;
	}
	strbuf_release(&path);
	strbuf_release(&text);
	strbuf_release(&why);
	return r;
}

static int load_project(struct project *p, const char *compose_name)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT, why = STRBUF_INIT;
	struct strbuf name = STRBUF_INIT;
	struct compose_warn warn = { warn_unset, p };
	struct compose_file cf;
	int r = -1;

	strbuf_addf(&p->compose_shown, "%s/%s", strbuf_str(&p->shown), compose_name);
	if (load_env(p) < 0)
		goto done;
	if (path_join(&path, strbuf_str(&p->dir), compose_name) < 0) {
		p->c->oom = 1;
		goto done;
	}
	if (file_read_all(strbuf_str(&path), CATALOG_MAX_COMPOSE_BYTES, &text, &why) < 0) {
		report(p->opt, 1, "'%s': %s; project skipped", strbuf_str(&p->compose_shown),
		       strbuf_str(&why));
		goto done;
	}
	if (compose_load(&cf, text.buf ? text.buf : "", text.len, &p->vars, &warn, &why) < 0) {
		report(p->opt, 1, "%s:%s; project skipped", strbuf_str(&p->compose_shown),
		       strbuf_str(&why));
		goto done;
	}
	/* As Compose: the normalised name:, else the normalised folder name. */
	if (cf.name)
		compose_project_name(cf.name, &name);
	if (!name.len)
		compose_project_name(p->folder, &name);
	if (name.toobig) {
		p->c->oom = 1;
		compose_free(&cf);
		goto done;
	}
	if (!name.len) {
		report(p->opt, 1, "'%s': project name '%s' has no letters or digits; set 'name:' "
		       "in the compose file; project skipped", strbuf_str(&p->compose_shown),
		       cf.name && *cf.name ? cf.name : p->folder);
		compose_free(&cf);
		goto done;
	}
	p->compose_project = strbuf_detach(&name);
	for (size_t i = 0; i < cf.nservices; i++)
		add_service(p, &cf.services[i]);
	compose_free(&cf);
	r = 0;
done:
	strbuf_release(&path);
	strbuf_release(&text);
	strbuf_release(&why);
	strbuf_release(&name);
	return r;
}

static void scan_project(struct catalog *c, const struct catalog_options *opt,
			 const char *root_abs, const char *folder)
{
	struct project p = { .opt = opt, .c = c, .folder = folder };
	const char *compose_name;

	if (project_dir(&p.dir, root_abs, folder) < 0 ||
	    find_compose_file(strbuf_str(&p.dir), &compose_name) < 0) {
		c->oom = 1;
		strbuf_release(&p.dir);
		return;
	}
	/* catalog_find_projects saw a compose file; it may have gone since. */
	if (!compose_name) {
		strbuf_release(&p.dir);
		return;
	}
	if (!strcmp(opt->root, "."))
		strbuf_addstr(&p.shown, folder);
	else
		path_join(&p.shown, opt->root, folder);
	c->projects_scanned++;
	if (strlist_add(&c->projects, folder) < 0)
		c->oom = 1;
	if (!utf8_valid(folder, strlen(folder), NULL)) {
		report(opt, 1, "project folder '%s' has a name that is not valid UTF-8; rename it; "
		       "project skipped", strbuf_str(&p.shown));
		c->projects_failed++;
	} else if (load_project(&p, compose_name) < 0)
		c->projects_failed++;
	strbuf_release(&p.dir);
	strbuf_release(&p.shown);
	strbuf_release(&p.compose_shown);
	vars_free(&p.vars);
	free(p.compose_project);
}

int catalog_find_projects(const char *root, const char *const *projects,
			  const char *const *excludes, struct strlist *out, struct strbuf *err)
{
	struct strbuf root_abs = STRBUF_INIT, dir = STRBUF_INIT;
	struct strlist names = STRLIST_INIT;
	const char *name = NULL;
	struct dirent *de;
	DIR *d;
	int r = 0;

	d = opendir(root);
	if (!d) {
		strbuf_addf(err, "cannot read root folder '%s': %m", root);
		return -1;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || de->d_name[0] == '_')
			continue;
		if (projects && !listed(projects, de->d_name))
			continue;
		if (listed(excludes, de->d_name))
			continue;
		if (strlist_add(&names, de->d_name) < 0) {
			strbuf_addf(err, "out of memory listing root folder '%s'", root);
			r = -1;
			break;
		}
	}
	closedir(d);
	if (names.n)
		qsort(names.items, names.n, sizeof(names.items[0]), cmp_names);
	if (r == 0 && path_absolute(&root_abs, root) < 0) {
		strbuf_addf(err, "out of memory listing root folder '%s'", root);
		r = -1;
	}
	for (size_t i = 0; r == 0 && i < names.n; i++) {
		strbuf_reset(&dir);
		if (project_dir(&dir, strbuf_str(&root_abs), names.items[i]) < 0) {
			strbuf_addf(err, "out of memory listing root folder '%s'", root);
			r = -1;
			break;
		}
		if (!file_is_dir(strbuf_str(&dir)))
			continue;
		if (find_compose_file(strbuf_str(&dir), &name) < 0) {
			strbuf_addf(err, "out of memory listing root folder '%s'", root);
			r = -1;
			break;
		}
		if (!name)
			continue;
		if (strlist_add(out, names.items[i]) < 0) {
			strbuf_addf(err, "out of memory listing root folder '%s'", root);
			r = -1;
		}
	}
	strlist_free(&names);
	strbuf_release(&root_abs);
	strbuf_release(&dir);
	return r;
}

int catalog_scan(struct catalog *c, const struct catalog_options *opt, struct strbuf *err)
{
	struct strbuf root_abs = STRBUF_INIT;
	struct strlist names = STRLIST_INIT;

	memset(c, 0, sizeof(*c));
	if (catalog_find_projects(opt->root, opt->projects, opt->excludes, &names, err) < 0) {
		strlist_free(&names);
		return -1;
	}
	if (path_absolute(&root_abs, opt->root) < 0)
		c->oom = 1;
	for (size_t i = 0; i < names.n && !c->oom; i++)
		scan_project(c, opt, strbuf_str(&root_abs), names.items[i]);
	strlist_free(&names);
	strbuf_release(&root_abs);
	if (c->oom) {
		/* Some entry lacks a value it should have: no partial catalog. */
		strbuf_addstr(err, "out of memory");
		return -1;
	}
	return 0;
}

void catalog_free(struct catalog *c)
{
	for (size_t i = 0; i < c->n; i++) {
		struct catalog_entry *e = &c->entries[i];

		free(e->project);
		free(e->compose_project);
		free(e->service);
		free(e->image_ref);
		free(e->image_resolved);
		free(e->image);
		free(e->build_context);
		free(e->dockerfile);
		free(e->dockerfile_inline);
		free(e->target);
		for (size_t j = 0; j < e->nargs; j++) {
			free(e->args[j].name);
			free(e->args[j].value);
		}
		free(e->args);
		strlist_free(&e->dockerfile_from);
		strlist_free(&e->base_images);
		free(e->env_var);
		free(e->env_default);
		strlist_free(&e->profiles);
		free(e->error);
	}
	free(c->entries);
	strlist_free(&c->projects);
	memset(c, 0, sizeof(*c));
}
