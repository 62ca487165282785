/*
 * report: the catalog's JSON and its summary counts; see report.h.
 */
#include "report.h"

#include <stdlib.h>
#include <string.h>

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

/* The first entry with this image, or NULL when i is the first. */
static const struct catalog_entry *earlier_with_image(const struct catalog *c, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (c->entries[j].image && !strcmp(c->entries[j].image, c->entries[i].image))
			return &c->entries[j];
	return NULL;
}

static void count_registry(struct catalog_summary *s, const char *image)
{
	struct imageref ref;
	struct strbuf err = STRBUF_INIT;
	int parsed = imageref_parse(image, &ref, &err) == 0;
	const char *name = parsed ? ref.registry : "(invalid reference)";

	strbuf_release(&err);
	for (size_t i = 0; i < s->nregistries; i++)
		if (!strcmp(s->registries[i].registry, name)) {
			s->registries[i].images++;
			goto done;
		}
	{
		struct registry_count *p = realloc(s->registries, (s->nregistries + 1) * sizeof(*p));

		if (p) {
			s->registries = p;
			p[s->nregistries].registry = strdup(name);
			p[s->nregistries].images = 1;
			s->nregistries++;
		}
	}
done:
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

static void list_users(const struct catalog *c, const char *image, struct strbuf *out)
{
	int first = 1;

	strbuf_addf(out, "%s (", image);
	for (size_t i = 0; i < c->n; i++)
		if (c->entries[i].image && !strcmp(c->entries[i].image, image)) {
			strbuf_addf(out, "%s%s/%s", first ? "" : ", ", c->entries[i].project,
				    c->entries[i].service);
			first = 0;
		}
	strbuf_addch(out, ')');
}

int catalog_summarize(const struct catalog *c, struct catalog_summary *s)
{
	memset(s, 0, sizeof(*s));
	s->projects = c->projects_scanned;
	s->projects_failed = c->projects_failed;
	s->entries = c->n;
	s->entry_errors = c->entry_errors;
	for (size_t i = 0; i < c->n; i++) {
		const struct catalog_entry *e = &c->entries[i];
		struct strbuf line = STRBUF_INIT;

		s->by_source[e->source]++;
		if (!e->image || earlier_with_image(c, i))
			continue;
		s->unique_images++;
		if (e->source != SOURCE_PULL)
			continue;
		count_registry(s, e->image);
		if (!e->version_pinned) {
			s->unpinned_pull++;
			list_users(c, e->image, &line);
			strlist_add(&s->unpinned, strbuf_str(&line));
			strbuf_reset(&line);
		}
		if (!e->env_var) {
			s->hardcoded_pull++;
			list_users(c, e->image, &line);
			strlist_add(&s->hardcoded, strbuf_str(&line));
		}
		strbuf_release(&line);
	}
	if (s->nregistries)
		qsort(s->registries, s->nregistries, sizeof(*s->registries), by_count);
	return 0;
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
