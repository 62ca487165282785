/*
 * manifest_save: turn a struct manifest back into manifest.json text in a
 * stable order (known keys first, as the Python tool wrote them; unknown
 * keys after, as loaded; images sorted by project then image) and write it
 * atomically with codec/atomicfile.
 */
#include "manifest.h"

#include <stdlib.h>
#include <string.h>

#include "../codec/atomicfile.h"
#include "../util/jsonsafe.h"

static int is_one_of(const char *key, const char *const *keys)
{
	for (; *keys; keys++)
		if (!strcmp(key, *keys))
			return 1;
	return 0;
}

/*
 * A new object with obj's values (shared): `known` keys first, then the
 * rest in obj's order, leaving out `skip` (or nothing when NULL).
 */
static json_t *ordered(json_t *obj, const char *const *known, const char *skip)
{
	json_t *out = json_object(), *v;
	const char *k;

	if (!out)
		return NULL;
	for (const char *const *p = known; *p; p++)
		if ((v = json_object_get(obj, *p)) && json_object_set(out, *p, v) < 0)
			goto fail;
	json_object_foreach(obj, k, v) {
		if (is_one_of(k, known) || (skip && !strcmp(k, skip)))
			continue;
		if (json_object_set(out, k, v) < 0)
			goto fail;
	}
	return out;
fail:
	json_decref(out);
	return NULL;
}

static int by_project_image(const void *a, const void *b)
{
	const struct manifest_slot *x = *(const struct manifest_slot *const *)a;
	const struct manifest_slot *y = *(const struct manifest_slot *const *)b;
	int c = strcmp(x->e.project, y->e.project);

	return c ? c : strcmp(x->e.image, y->e.image);
}

static json_t *images_array(const struct manifest *m)
{
	const struct manifest_slot **sorted = malloc((m->n ? m->n : 1) * sizeof(*sorted));
	json_t *arr = json_array();

	if (!sorted || !arr)
		goto fail;
	for (size_t i = 0; i < m->n; i++)
		sorted[i] = m->slots[i];
	qsort(sorted, m->n, sizeof(*sorted), by_project_image);
	for (size_t i = 0; i < m->n; i++) {
		json_t *e = ordered(sorted[i]->obj, manifest_entry_keys, NULL);

		if (json_array_append_new(arr, e) < 0)
			goto fail;
	}
	free(sorted);
	return arr;
fail:
	free(sorted);
	json_decref(arr);
	return NULL;
}

int manifest_dump(const struct manifest *m, struct strbuf *out, struct strbuf *err)
{
	json_t *empty = m->root ? NULL : json_object();
	json_t *root = ordered(m->root ? m->root : empty, manifest_meta_keys, "images");
	char *text = NULL;
	int r = -1;

	if (root && json_object_set_new(root, "images", images_array(m)) == 0)
		text = json_text(root, JSON_INDENT(2) | JSON_ENSURE_ASCII);
	if (!text)
		strbuf_addstr(err, "out of memory");
	else if (strbuf_addstr(out, text) < 0 || strbuf_addch(out, '\n') < 0)
		strbuf_addstr(err, strlen(text) + 1 > (out->cap ? out->cap : STRBUF_DEFAULT_CAP)
					   ? "manifest too large" : "out of memory");
	else
		r = 0;
	free(text);
	json_decref(root);
	json_decref(empty);
	return r;
}

int manifest_save(const struct manifest *m, const char *dir, struct strbuf *err)
{
	struct strbuf text = STRBUF_INIT;
	int r = manifest_dump(m, &text, err);

	if (r == 0)
		r = atomic_write_all(dir, MANIFEST_NAME, text.buf, text.len, err);
	strbuf_release(&text);
	return r;
}
