/*
 * fuzz_compose: libFuzzer target for catalog/compose and catalog/yamltree.
 *
 * The input is first read with ytree_parse alone, and every node of the
 * tree is checked for shape (a scalar's text is NUL-terminated at its
 * length, a mapping holds key/value pairs, positions are 1-based); then it
 * is loaded with compose_load against a few variables, and every field of
 * every service is checked for the invariants compose.h promises. The
 * loader and the tree are freed whole. Crashes, leaks and failed checks
 * (abort) are findings.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/compose.h"
#include "catalog/vars.h"
#include "catalog/yamltree.h"
#include "util/strbuf.h"

static const struct {
	const char *name, *value;
} fixed_vars[] = {
	{ "IMAGE", "registry.example.com:5000/team/app" },
	{ "TAG", "1.25" },
	{ "EMPTY", "" },
	{ "CONTEXT", "./src" },
	{ "ARG_VALUE", "hello world" },
	{ "DOLLAR", "$$not a var" },
};

static void check_string(const char *s)
{
	if (s)
		(void)strlen(s);	/* ASan reports a freed or unterminated string */
}

static void check_list(const struct strlist *l)
{
	if (l->n > l->alloc || (l->n && !l->items))
		abort();
	for (size_t i = 0; i < l->n; i++)
		if (!l->items[i])
			abort();
		else
			check_string(l->items[i]);
}

static void on_unset(void *ctx, const char *service, const char *field, const char *var)
{
	(void)ctx;
	if (!field || !var || !*var)
		abort();
	check_string(service);
	check_string(field);
}

static void check_tree(const struct ytree *t)
{
	for (size_t i = 0; i < t->nall; i++) {
		const struct ynode *n = t->all[i];

		if (!n || n->line < 1 || n->col < 1 || n->weight < 1)
			abort();
		switch (n->kind) {
		case YN_SCALAR:
			if (!n->str || n->str[n->len] != '\0' || n->n ||
			    (n->quote && n->quote != '\'' && n->quote != '"'))
				abort();
			break;
		case YN_MAP:
			if (n->n % 2)
				abort();
			/* fall through */
		case YN_SEQ:
			if (n->str || (n->n && !n->items) || n->is_null)
				abort();
			for (size_t j = 0; j < n->n; j++)
				if (!n->items[j])
					abort();
			break;
		default:
			abort();
		}
	}
	if (t->root) {
		(void)ynode_get(t->root, "services");
		(void)ynode_get(t->root, "<<");
	}
}

static void fuzz_ytree(const char *data, size_t size)
{
	struct ytree t;
	struct strbuf err = STRBUF_INIT;
	unsigned line = 0, col = 0;

	if (ytree_parse(&t, data, size, &err, &line, &col) < 0) {
		if (!err.len || line < 1 || t.root || t.nall)
			abort();
	} else {
		check_tree(&t);
	}
	ytree_free(&t);
	strbuf_release(&err);
}

static void check_service(const struct compose_service *s)
{
	if (!s->name)
		abort();
	check_string(s->name);
	check_string(s->image_raw);
	check_string(s->image);
	check_string(s->context_raw);
	check_string(s->context);
	check_string(s->dockerfile);
	check_string(s->dockerfile_inline);
	check_string(s->target);
	check_string(s->error);
	check_list(&s->image_vars);
	check_list(&s->arg_vars);
	check_list(&s->profiles);
	if (s->nargs && !s->args)
		abort();
	for (size_t i = 0; i < s->nargs; i++) {
		if (!s->args[i].name)
			abort();
		check_string(s->args[i].value);
	}
	if (s->error && s->image)
		abort();
	if (s->image && !s->image_raw)
		abort();
	if (s->has_build && !s->error &&
	    (!s->context_raw || !s->context || (!s->dockerfile && !s->dockerfile_inline)))
		abort();
	(void)compose_context_is_remote(s->context ? s->context : "");
}

static void fuzz_load(const char *data, size_t size, const struct vars *vars)
{
	struct compose_file cf;
	struct compose_warn warn = { on_unset, NULL };
	struct strbuf err = STRBUF_INIT, project = STRBUF_INIT;

	if (compose_load(&cf, data, size, vars, &warn, &err) < 0) {
		if (!err.len || cf.services || cf.nservices || cf.name)
			abort();
	} else {
		check_string(cf.name);
		if (cf.nservices && !cf.services)
			abort();
		for (size_t i = 0; i < cf.nservices; i++)
			check_service(&cf.services[i]);
		if (cf.name && compose_project_name(cf.name, &project) < 0)
			abort();
	}
	compose_free(&cf);
	strbuf_release(&err);
	strbuf_release(&project);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vars vars = VARS_INIT;

	for (size_t i = 0; i < sizeof(fixed_vars) / sizeof(fixed_vars[0]); i++)
		if (vars_set(&vars, fixed_vars[i].name, strlen(fixed_vars[i].name),
			     fixed_vars[i].value) < 0)
			abort();
	fuzz_ytree((const char *)data, size);
	fuzz_load((const char *)data, size, &vars);
	vars_free(&vars);
	return 0;
}
