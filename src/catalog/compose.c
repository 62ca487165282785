/*
 * compose: one compose file -> the services imgvault needs; see compose.h.
 *
 * Two passes over the YAML tree. The check pass interpolates every value
 * (not keys, not top-level x- extensions, which are only templates for
 * aliases) to report syntax errors, required variables and unset ones,
 * the way Compose fails or warns for any field. The read pass then takes
 * the few fields we use.
 */
#include "compose.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "interp.h"
#include "yamltree.h"

/* Bytes interpolated in one file, counting alias expansions. */
#define COMPOSE_MAX_EXPANDED_BYTES ((size_t)64 << 20)

struct loader {
	struct compose_file *cf;
	const struct vars *vars;
	const struct compose_warn *warn;
	struct strbuf *err;
	struct strbuf path;		/* "services.web.image" while checking */
	const char *service;		/* the service being checked, or NULL */
	struct compose_service *svc;	/* its record, or NULL */
	struct vars warned;		/* "service\nVAR" already warned about (a set) */
	struct strlist *seen;		/* where referenced names go, or NULL */
	size_t expanded;
	int fatal;
};

static const char *lookup_var(void *ctx, const char *name, size_t len)
{
	struct loader *L = ctx;

	return vars_get(L->vars, name, len);
}

static void note_unset(void *ctx, const char *name, size_t len)
{
	struct loader *L = ctx;
	struct strbuf key = STRBUF_INIT;

	if (!L->warn || !L->warn->unset)
		return;
	strbuf_addf(&key, "%s\n%.*s", L->service ? L->service : "", (int)len, name);
	if (!vars_get(&L->warned, key.buf, key.len)) {
		char *var = strndup(name, len);

		vars_set(&L->warned, key.buf, key.len, "");
		if (var)
			L->warn->unset(L->warn->ctx, L->service, strbuf_str(&L->path), var);
		free(var);
	}
	strbuf_release(&key);
}

static void note_seen(void *ctx, const char *name, size_t len)
{
	struct loader *L = ctx;
	char *var;

	/* Only the first few names matter (to pick env_var); keep it linear. */
	if (!L->seen || L->seen->n >= 64 || !(var = strndup(name, len)))
		return;
	strlist_add_unique(L->seen, var);
	free(var);
}

static int fatal(struct loader *L, const struct ynode *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fatal(struct loader *L, const struct ynode *at, const char *fmt, ...)
{
	va_list ap;

	strbuf_addf(L->err, "%u:%u: ", at ? at->line : 0, at ? at->col : 0);
	va_start(ap, fmt);
	strbuf_vaddf(L->err, fmt, ap);
	va_end(ap);
	L->fatal = 1;
	return -1;
}

/* strdup (NULL for NULL), or NULL and a fatal "out of memory". */
static char *ldup(struct loader *L, const char *s)
{
	char *d = s ? strdup(s) : NULL;

	if (s && !d)
		fatal(L, NULL, "out of memory");
	return d;
}

/*
 * The column of byte `off` of a scalar's value, when the value is the text
 * as written on one line (plain, or quoted without escapes before it);
 * else the scalar's own column.
 */
static unsigned column_of(const struct ynode *n, size_t off)
{
	if (off > n->len || memchr(n->str, '\n', n->len))
		return n->col;
	if (n->quote && (memchr(n->str, '\\', off) || memchr(n->str, '\'', off)))
		return n->col;
	return n->col + (n->quote ? 1 : 0) + (unsigned)off;
}

/*
 * Interpolate scalar n into out. Unset variables are reported only in the
 * check pass (`report`). A required-variable error marks the service being
 * read (or is fatal outside services); returns -1 on any error.
 */
static int interpolate(struct loader *L, const struct ynode *n, struct strbuf *out, int report)
{
	struct interp_env env = { lookup_var, report ? note_unset : NULL, note_seen, L };
	struct strbuf why = STRBUF_INIT;
	size_t off = 0;
	int r;

	L->expanded += n->len;
	if (L->expanded > COMPOSE_MAX_EXPANDED_BYTES)
		return fatal(L, n, "document too large once aliases are expanded");
	if (!memchr(n->str, '$', n->len))
		return strbuf_add(out, n->str, n->len) < 0 ? fatal(L, n, "out of memory") : 0;
	{
		size_t before = out->len;

		r = interp_expand(n->str, n->len, &env, out, &why, &off);
		/* Count what variables expand to, not only what is written. */
		L->expanded += out->len - before;
		if (r == 0 && L->expanded > COMPOSE_MAX_EXPANDED_BYTES) {
			strbuf_release(&why);
			return fatal(L, n, "document too large once variables and aliases are expanded");
		}
	}
	if (r != 0 && why.toobig) {	/* no memory left even for the message */
		strbuf_release(&why);
		return fatal(L, n, "out of memory");
	}
	if (r == INTERP_REQUIRED && L->svc) {
		if (!L->svc->error)
			L->svc->error = ldup(L, strbuf_str(&why));
	} else if (r == INTERP_REQUIRED) {
		fatal(L, n, "%s in '%s'", strbuf_str(&why), strbuf_str(&L->path));
	} else if (r == INTERP_SYNTAX) {
		struct ynode at = *n;

		at.col = column_of(n, off);
		fatal(L, &at, "%s in '%s' (write a literal $ as $$)", strbuf_str(&why),
		      strbuf_str(&L->path));
	} else if (r < 0) {
		fatal(L, n, "%s in '%s'", strbuf_str(&why), strbuf_str(&L->path));
	}
	strbuf_release(&why);
	return r < 0 ? -1 : 0;
}

/* The check pass: every value below n, with L->path naming n. */
static int check_node(struct loader *L, const struct ynode *n)
{
	size_t mark = L->path.len;

	if (n->kind == YN_SCALAR) {
		struct strbuf out = STRBUF_INIT;
		int r;

		if (++L->expanded > COMPOSE_MAX_EXPANDED_BYTES)
			return fatal(L, n, "document too large once variables and aliases are expanded");
		r = n->is_null ? 0 : interpolate(L, n, &out, 1);

		strbuf_release(&out);
		return L->fatal ? -1 : r;
	}
	for (size_t i = 0; i < n->n; i += (n->kind == YN_MAP ? 2 : 1)) {
		const struct ynode *child = n->kind == YN_MAP ? n->items[i + 1] : n->items[i];

		if (n->kind == YN_MAP) {
			const struct ynode *k = n->items[i];

			strbuf_addch(&L->path, '.');
			if (k->kind != YN_SCALAR)
				strbuf_addch(&L->path, '?');
			else
				strbuf_add(&L->path, k->str, k->len > 128 ? 128 : k->len);
			L->expanded += k->len + 1;	/* walking a key costs too */
		} else {
			strbuf_addf(&L->path, "[%zu]", i);
		}
		check_node(L, child);
		if (L->path.buf) {	/* NULL when no byte of it could be allocated */
			L->path.len = mark;
			L->path.buf[mark] = '\0';
		}
		if (L->fatal)
			return -1;
	}
	return 0;
}

static char *scalar_value(struct loader *L, const struct ynode *n, const char *what)
{
	struct strbuf out = STRBUF_INIT;
	char *v;

	if (!n || n->is_null)
		return NULL;
	if (n->kind != YN_SCALAR) {
		fatal(L, n, "'%s' must be a string", what);
		return NULL;
	}
	if (interpolate(L, n, &out, 0) < 0) {
		strbuf_release(&out);
		return NULL;
	}
	if (!(v = strbuf_detach(&out)))
		fatal(L, n, "out of memory");
	return v;
}

static int add_arg(struct loader *L, struct compose_service *s, const char *name, size_t nlen,
		   const char *value)
{
	struct compose_arg *a;

	if ((s->nargs & (s->nargs - 1)) == 0) {	/* grow at powers of two */
		struct compose_arg *p = realloc(s->args, (s->nargs ? s->nargs * 2 : 4) * sizeof(*p));

		if (!p)
			return fatal(L, NULL, "out of memory");
		s->args = p;
	}
	a = &s->args[s->nargs];
	a->name = strndup(name, nlen);
	a->value = value ? strdup(value) : NULL;
	if (!a->name || (value && !a->value)) {
		free(a->name);
		free(a->value);
		return fatal(L, NULL, "out of memory");
	}
	s->nargs++;
	return 0;
}

/* A build arg with no value takes it from the variables (never the shell). */
static const char *arg_default(struct loader *L, const char *name, size_t len)
{
	return vars_get(L->vars, name, len);
}

static void read_args(struct loader *L, struct compose_service *s, const struct ynode *args)
{
	L->seen = &s->arg_vars;
	if (args->kind == YN_MAP) {
		for (size_t i = 0; i + 1 < args->n && !L->fatal; i += 2) {
			const struct ynode *k = args->items[i];
			char *v = scalar_value(L, args->items[i + 1], "build.args");

			if (k->kind == YN_SCALAR)
				add_arg(L, s, k->str, k->len,
					v ? v : (args->items[i + 1]->is_null ? arg_default(L, k->str, k->len) : NULL));
			free(v);
		}
	} else if (args->kind == YN_SEQ) {
		for (size_t i = 0; i < args->n && !L->fatal; i++) {
			char *item = scalar_value(L, args->items[i], "build.args");
			const char *eq;

			if (!item)
				continue;
			eq = strchr(item, '=');
			if (eq)
				add_arg(L, s, item, (size_t)(eq - item), eq + 1);
			else
				add_arg(L, s, item, strlen(item), arg_default(L, item, strlen(item)));
			free(item);
		}
	} else {
		fatal(L, args, "'build.args' must be a mapping or a list");
	}
	L->seen = NULL;
}

static void read_build(struct loader *L, struct compose_service *s, const struct ynode *b)
{
	const struct ynode *ctx = b;

	if (b->is_null)
		return;
	s->has_build = 1;
	if (b->kind == YN_MAP) {
		const struct ynode *args = ynode_get(b, "args");

		ctx = ynode_get(b, "context");
		s->dockerfile = scalar_value(L, ynode_get(b, "dockerfile"), "build.dockerfile");
		s->dockerfile_inline = scalar_value(L, ynode_get(b, "dockerfile_inline"),
						    "build.dockerfile_inline");
		s->target = scalar_value(L, ynode_get(b, "target"), "build.target");
		if (args && !args->is_null)
			read_args(L, s, args);
	} else if (b->kind != YN_SCALAR) {
		fatal(L, b, "'build' must be a string or a mapping");
		return;
	}
	if (ctx && !ctx->is_null && ctx->kind == YN_SCALAR) {
		s->context_raw = ldup(L, ctx->str);
		s->context = scalar_value(L, ctx, "build.context");
	} else if (ctx && !ctx->is_null) {
		fatal(L, ctx, "'build.context' must be a string");
		return;
	}
	if (!s->context_raw)
		s->context_raw = ldup(L, ".");

	if (!s->context && !s->error)
		s->context = ldup(L, ".");
	if (!s->dockerfile && !s->dockerfile_inline)
		s->dockerfile = ldup(L, "Dockerfile");
}

static void read_service(struct loader *L, struct compose_service *s, const struct ynode *def)
{
	const struct ynode *image = ynode_get(def, "image");
	const struct ynode *build = ynode_get(def, "build");
	const struct ynode *profiles = ynode_get(def, "profiles");

	L->svc = s;
	s->uses_extends = ynode_get(def, "extends") != NULL;
	if (image && !image->is_null) {
		if (image->kind == YN_SCALAR)
			s->image_raw = ldup(L, image->str);
		L->seen = &s->image_vars;
		s->image = scalar_value(L, image, "image");
		L->seen = NULL;
	}
	if (build && !L->fatal)
		read_build(L, s, build);
	if (profiles && !profiles->is_null && !L->fatal) {
		if (profiles->kind != YN_SEQ) {
			fatal(L, profiles, "'profiles' must be a list");
		} else {
			for (size_t i = 0; i < profiles->n && !L->fatal; i++) {
				char *p = scalar_value(L, profiles->items[i], "profiles");

				if (p && strlist_add(&s->profiles, p) < 0)
					fatal(L, NULL, "out of memory");
				free(p);
			}
		}
	}
	if (s->error) {
		free(s->image);
		s->image = NULL;
	}
	L->svc = NULL;
}

static int check_all(struct loader *L, const struct ynode *root,
		     const struct ynode *services)
{
	for (size_t i = 0; i + 1 < root->n; i += 2) {
		const struct ynode *k = root->items[i], *v = root->items[i + 1];

		if (k->kind != YN_SCALAR || !strncmp(k->str, "x-", 2))
			continue;
		if (v == services && v->kind == YN_MAP) {
			for (size_t j = 0; j + 1 < v->n; j += 2) {
				const struct ynode *name = v->items[j];

				if (name->kind != YN_SCALAR)
					return fatal(L, name, "a service name must be a string");
				L->svc = &L->cf->services[j / 2];
				L->service = name->str;
				strbuf_setf(&L->path, "services.%s", name->str);
				check_node(L, v->items[j + 1]);
				L->svc = NULL;
				L->service = NULL;
				if (L->fatal)
					return -1;
			}
			continue;
		}
		strbuf_setf(&L->path, "%s", k->str);
		if (check_node(L, v) < 0)
			return -1;
	}
	return 0;
}

static int load_tree(struct loader *L, const struct ynode *root)
{
	const struct ynode *services, *name;

	if (!root || root->is_null)
		return 0;
	if (root->kind != YN_MAP)
		return fatal(L, root, "the top level must be a mapping");
	services = ynode_get(root, "services");
	if (services && !services->is_null && services->kind != YN_MAP)
		return fatal(L, services, "'services' must be a mapping");
	if (services && services->kind == YN_MAP && services->n) {
		L->cf->services = calloc(services->n / 2, sizeof(*L->cf->services));
		if (!L->cf->services)
			return fatal(L, NULL, "out of memory");
		L->cf->nservices = services->n / 2;
		for (size_t j = 0; j + 1 < services->n; j += 2) {
			const struct ynode *def = services->items[j + 1];

			if (services->items[j]->kind != YN_SCALAR)
				return fatal(L, services->items[j], "a service name must be a string");
			if (def->kind != YN_MAP)
				return fatal(L, def, "service '%s' must be a mapping",
					     services->items[j]->str);
			if (!(L->cf->services[j / 2].name = ldup(L, services->items[j]->str)))
				return -1;
		}
	}
	if (check_all(L, root, services) < 0)
		return -1;
	name = ynode_get(root, "name");
	strbuf_setf(&L->path, "name");
	L->cf->name = scalar_value(L, name, "name");
	for (size_t i = 0; i < L->cf->nservices && !L->fatal; i++) {
		L->service = L->cf->services[i].name;
		read_service(L, &L->cf->services[i], services->items[2 * i + 1]);
	}
	return L->fatal ? -1 : 0;
}

int compose_load(struct compose_file *cf, const char *data, size_t len,
		 const struct vars *vars, const struct compose_warn *warn,
		 struct strbuf *err)
{
	struct loader L = { .cf = cf, .vars = vars, .warn = warn, .err = err };
	struct ytree t;
	struct strbuf why = STRBUF_INIT;
	unsigned line = 0, col = 0;
	int r;

	memset(cf, 0, sizeof(*cf));
	if (ytree_parse(&t, data, len, &why, &line, &col) < 0) {
		strbuf_addf(err, "%u:%u: %s", line, col, strbuf_str(&why));
		strbuf_release(&why);
		return -1;
	}
	r = load_tree(&L, t.root);
	ytree_free(&t);
	strbuf_release(&L.path);
	vars_free(&L.warned);
	if (r < 0)
		compose_free(cf);
	return r;
}

void compose_free(struct compose_file *cf)
{
	for (size_t i = 0; i < cf->nservices; i++) {
		struct compose_service *s = &cf->services[i];

		free(s->name);
		free(s->image_raw);
		free(s->image);
		strlist_free(&s->image_vars);
		free(s->context_raw);
		free(s->context);
		free(s->dockerfile);
		free(s->dockerfile_inline);
		free(s->target);
		for (size_t j = 0; j < s->nargs; j++) {
			free(s->args[j].name);
			free(s->args[j].value);
		}
		free(s->args);
		strlist_free(&s->arg_vars);
		strlist_free(&s->profiles);
		free(s->error);
	}
	free(cf->services);
	free(cf->name);
	memset(cf, 0, sizeof(*cf));
}

int compose_project_name(const char *in, struct strbuf *out)
{
	int started = 0;

	for (const char *p = in; *p; p++) {
		char c = (char)tolower((unsigned char)*p);

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			continue;
		if (!started && (c == '_' || c == '-'))
			continue;
		started = 1;
		if (strbuf_addch(out, c) < 0)
			return -1;
	}
	return 0;
}

int compose_context_is_remote(const char *c)
{
	static const char *const prefixes[] = {
		"http://", "https://", "git://", "ssh://", "git@", "github.com/",
	};

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(c, prefixes[i], strlen(prefixes[i])))
			return 1;
	return 0;
}
