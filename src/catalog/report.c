/*
 * report: the catalog's JSON and its summary counts; see report.h.
 */
#include "report.h"

#include <stdlib.h>
#include <string.h>

#include "../util/strmap.h"
#include "../util/text.h"
#include "imageref.h"

/*
 * A JSON string, never silently missing: text that is not UTF-8 (which
 * the loaders should have refused) is kept with its bad bytes escaped.
 */
static json_t *jstr(const char *s)
{
	json_t *j = json_string(s);
	struct strbuf q = STRBUF_INIT;

	if (j)
		return j;
	if (text_quote(&q, s) == 0)
		j = json_string(strbuf_str(&q));
	strbuf_release(&q);
	return j;
}

static json_t *str_or_null(const char *s)
{
	return s ? jstr(s) : json_null();
}

static json_t *str_array(const struct strlist *l)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < l->n; i++)
		json_array_append_new(a, jstr(l->items[i]));
	return a;
}

static json_t *entry_json(const struct catalog_entry *e)
{
	json_t *o = json_object();
	json_t *args = json_object();

	for (size_t i = 0; args && i < e->nargs; i++)
		json_object_set_new(args, e->args[i].name, str_or_null(e->args[i].value));
	json_object_set_new(o, "project", jstr(e->project));
	json_object_set_new(o, "service", jstr(e->service));
	json_object_set_new(o, "image_ref", str_or_null(e->image_ref));
	json_object_set_new(o, "image_resolved", str_or_null(e->image_resolved));
	json_object_set_new(o, "image", str_or_null(e->image));
	json_object_set_new(o, "source", json_string(image_source_name(e->source)));
	json_object_set_new(o, "build_context", str_or_null(e->build_context));
	json_object_set_new(o, "dockerfile", str_or_null(e->dockerfile));
	json_object_set_new(o, "build_args", args);
	json_object_set_new(o, "build_target", str_or_null(e->target));
	json_object_set_new(o, "dockerfile_from", str_array(&e->dockerfile_from));
	json_object_set_new(o, "base_images", str_array(&e->base_images));
	json_object_set_new(o, "env_var", str_or_null(e->env_var));
	json_object_set_new(o, "env_default", str_or_null(e->env_default));
	json_object_set_new(o, "profiles", str_array(&e->profiles));
	json_object_set_new(o, "version_pinned", json_boolean(e->version_pinned));
	json_object_set_new(o, "compose_project", jstr(e->compose_project));
	if (e->error)
		json_object_set_new(o, "error", jstr(e->error));
	return o;
}

json_t *catalog_to_json(const struct catalog *c)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < c->n; i++)
		if (json_array_append_new(a, entry_json(&c->entries[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* One unique image: the first entry that names it, and who uses it. */
struct image_group {
	size_t first;
	struct strbuf users;	/* "project/service, …" */
};

static void group_free(void *p)
{
	struct image_group *g = p;

	if (g)
		strbuf_release(&g->users);
	free(g);
}

static void count_registry(struct strmap *registries, const char *image)
{
	struct imageref ref;
	struct strbuf err = STRBUF_INIT;
	int parsed = imageref_parse(image, &ref, &err) == 0;
	const char *name = parsed ? ref.registry : "(invalid reference)";
	struct strmap_item *it = strmap_put(registries, name, strlen(name));

	if (it)
		it->value = (void *)((size_t)it->value + 1);
	strbuf_release(&err);
	if (parsed)
		imageref_free(&ref);
}

static int by_count(const void *a, const void *b)
{
	const struct registry_count *x = a, *y = b;

	if (x->images != y->images)
		return x->images < y->images ? 1 : -1;
	return strcmp(x->registry, y->registry);
}

/* Group entries by image in one pass (hashed), keeping first-seen order. */
static int group_images(const struct catalog *c, struct strmap *groups)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct catalog_entry *e = &c->entries[i];
		struct strmap_item *it;
		struct image_group *g;

		if (!e->image)
			continue;
		it = strmap_put(groups, e->image, strlen(e->image));
		if (!it)
			return -1;
		if (!it->value) {
			if (!(it->value = calloc(1, sizeof(struct image_group))))
				return -1;
			((struct image_group *)it->value)->first = i;
		}
		g = it->value;
		strbuf_addf(&g->users, "%s%s/%s", g->users.len ? ", " : "", e->project, e->service);
	}
	return 0;
}

static void list_image(struct strlist *l, const char *image, const struct image_group *g)
{
	struct strbuf line = STRBUF_INIT;

	strbuf_addf(&line, "%s (%s)", image, strbuf_str(&g->users));
	strlist_add(l, strbuf_str(&line));
	strbuf_release(&line);
}

int catalog_summarize(const struct catalog *c, struct catalog_summary *s)
{
	struct strmap groups = STRMAP_INIT, registries = STRMAP_INIT;
	int r = 0;

	memset(s, 0, sizeof(*s));
	s->projects = c->projects_scanned;
	s->projects_failed = c->projects_failed;
	s->entries = c->n;
	s->entry_errors = c->entry_errors;
	for (size_t i = 0; i < c->n; i++)
		s->by_source[c->entries[i].source]++;
	if (group_images(c, &groups) < 0) {
		r = -1;
		goto done;
	}
	s->unique_images = groups.n;
	for (size_t i = 0; i < groups.n; i++) {
		const struct image_group *g = groups.items[i].value;
		const struct catalog_entry *e = &c->entries[g->first];

		if (e->source != SOURCE_PULL)
			continue;
		count_registry(&registries, e->image);
		if (!e->version_pinned) {
			s->unpinned_pull++;
			list_image(&s->unpinned, e->image, g);
		}
		if (!e->env_var) {
			s->hardcoded_pull++;
			list_image(&s->hardcoded, e->image, g);
		}
	}
	s->registries = calloc(registries.n ? registries.n : 1, sizeof(*s->registries));
	if (!s->registries) {
		r = -1;
		goto done;
	}
	for (size_t i = 0; i < registries.n; i++) {
		s->registries[i].registry = strdup(registries.items[i].key);
		s->registries[i].images = (size_t)registries.items[i].value;
	}
	s->nregistries = registries.n;
	if (s->nregistries)
		qsort(s->registries, s->nregistries, sizeof(*s->registries), by_count);
done:
	strmap_free(&groups, group_free);
	strmap_free(&registries, NULL);
	return r;
}

void catalog_summary_free(struct catalog_summary *s)
{
	for (size_t i = 0; i < s->nregistries; i++)
		free(s->registries[i].registry);
	free(s->registries);
	strlist_free(&s->unpinned);
	strlist_free(&s->hardcoded);
	memset(s, 0, sizeof(*s));
}
