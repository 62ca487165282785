/*
 * manifest: parse manifest.json into a struct manifest, and the in-memory
 * operations on it (find, put, remove, meta). Each entry keeps its own
 * JSON object, so keys imgvault does not know survive; the view handed
 * out (struct manifest_entry) borrows that object's strings. Writing is
 * in manifest_save.c, the value rules in manifest_check.c.
 */
#include "manifest.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../util/array.h"
#include "../util/fileio.h"
#include "../util/jsonsafe.h"
#include "../util/text.h"

const char *const manifest_meta_keys[] = {
	"archived_at", "arch", "docker_context", "ssh_host", "output_dir", NULL,
};

const char *const manifest_entry_keys[] = {
	"project", "image", "action", "file", "size", "sha256", "docker_id",
	"services", "archived_at", NULL,
};

#define REBUILD_HINT "; fix it or run 'imgvault archive --rebuild-manifest'"

static void slot_free(struct manifest_slot *s)
{
	if (!s)
		return;
	json_decref(s->obj);
	free(s->services);
	free(s);
}

void manifest_free(struct manifest *m)
{
	json_decref(m->root);
	for (size_t i = 0; i < m->n; i++)
		slot_free(m->slots[i]);
	free(m->slots);
	strmap_free(&m->index, NULL);
	memset(m, 0, sizeof(*m));
}

static int make_key(struct strbuf *key, const char *project, const char *image)
{
	strbuf_reset(key);
	if (strbuf_addstr(key, project) < 0 || strbuf_addch(key, '\0') < 0 ||
	    strbuf_addstr(key, image) < 0)
		return -1;
	return 0;
}

/*
 * The index item of (project, image) (its value NULL once removed), or
 * NULL. The key is make_key's, "project\0image", looked up in its two
 * parts (project with its NUL, then image): nothing to allocate, so a
 * lookup never fails for lack of memory and reads as "no entry" (archive
 * would then drop no old entry before replacing its file).
 */
static struct strmap_item *find_item(const struct manifest *m, const char *project,
				     const char *image)
{
	return strmap_find2(&m->index, project, strlen(project) + 1, image, strlen(image));
}

static struct manifest_slot *find_slot(const struct manifest *m, const char *project,
				       const char *image)
{
	struct strmap_item *it = find_item(m, project, image);

	return it ? it->value : NULL;
}

const struct manifest_entry *manifest_find(const struct manifest *m, const char *project,
					   const char *image)
{
	struct manifest_slot *s = find_slot(m, project, image);

	return s ? &s->e : NULL;
}

static const char *string_of(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* A key that may be left out or null ("not recorded"): "" then; NULL when of another type. */
static const char *optional_string_of(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return !v || json_is_null(v) ? "" : json_string_value(v);
}

/*
 * A size as a long long: an integer as it is; a whole real (read
 * leniently, every number is one) as its value, or just past
 * MANIFEST_MAX_SIZE when larger (absurd, whatever its digits); anything
 * else -1.
 */
static long long size_of(json_t *size)
{
	double v;

	if (json_is_integer(size))
		return (long long)json_integer_value(size);
	if (!json_is_real(size))
		return -1;
	v = json_real_value(size);
	if (!(v >= 0))
		return -1;
	if (v > (double)MANIFEST_MAX_SIZE)
		return MANIFEST_MAX_SIZE + 1;
	return (double)(long long)v == v ? (long long)v : -1;
}

/*
 * Point s->e at s->obj's values. A key of the wrong type reads as NULL
 * (size as -1; services that are not an array as one NULL service) so
 * that manifest_entry_validate names it.
 */
static int slot_view(struct manifest_slot *s, struct strbuf *err)
{
	json_t *size = json_object_get(s->obj, "size");
	json_t *services = json_object_get(s->obj, "services");
	size_t n = json_is_array(services) ? json_array_size(services) : 1;
	const char **list = NULL;

	if (!(list = calloc(n, sizeof(*list)))) {
		strbuf_addstr(err, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		list[i] = json_string_value(json_array_get(services, i));
	free(s->services);
	s->services = list;
	s->e = (struct manifest_entry){
		.project = string_of(s->obj, "project"),
		.image = string_of(s->obj, "image"),
		.action = string_of(s->obj, "action"),
		.file = string_of(s->obj, "file"),
		.size = size_of(size),
		.sha256 = optional_string_of(s->obj, "sha256"),
		.docker_id = string_of(s->obj, "docker_id"),
		.services = list,
		.nservices = n,
		.archived_at = string_of(s->obj, "archived_at"),
	};
	return 0;
}

/*
 * Append a slot for obj and index it under key; index is its place in
 * the file's images[] (for messages). On success the slot owns the
 * reference to obj the caller had; on failure the caller keeps it.
 */
static int slot_add(struct manifest *m, json_t *obj, const struct strbuf *key, size_t index,
		    struct strbuf *err)
{
	struct manifest_slot **slots, *s;
	struct strmap_item *it;

	if (m->n >= MANIFEST_MAX_ENTRIES) {
		strbuf_addf(err, "more than %zu images", MANIFEST_MAX_ENTRIES);
		return -1;
	}
	if (!(s = calloc(1, sizeof(*s))))
		goto oom;
	slots = array_grow(m->slots, &m->alloc, m->n, sizeof(*slots));
	if (!slots) {
		free(s);
		goto oom;
	}
	m->slots = slots;
	if (!(it = strmap_put(&m->index, key->buf, key->len))) {
		free(s);
		goto oom;
	}
	s->obj = obj;
	s->index = index;
	if (slot_view(s, err) < 0) {
		free(s);
		return -1;
	}
	it->value = s;
	slots[m->n++] = s;
	return 0;
oom:
	strbuf_addstr(err, "out of memory");
	return -1;
}

static void entry_label(struct strbuf *out, const struct manifest_entry *e, size_t i)
{
	strbuf_addf(out, "images[%zu]", i);
	if (e->project && e->image) {
		strbuf_addstr(out, " (project '");
		text_quote(out, e->project);
		strbuf_addstr(out, "', image '");
		text_quote(out, e->image);
		strbuf_addstr(out, "')");
	}
}

/* Check and index images[i]; on error err gets the middle of the message. */
static int load_entry(struct manifest *m, json_t *obj, size_t i, struct strbuf *key,
		      struct strbuf *err)
{
	struct manifest_slot tmp = { .obj = obj }, *dup;
	struct strbuf why = STRBUF_INIT;

	if (!json_is_object(obj)) {
		strbuf_addf(err, "images[%zu] must be an object", i);
		return -1;
	}
	if (slot_view(&tmp, &why) < 0 || manifest_entry_validate(&tmp.e, &why) < 0) {
		entry_label(err, &tmp.e, i);
		strbuf_addf(err, ": %s", strbuf_str(&why));
		goto fail;
	}
	if ((dup = find_slot(m, tmp.e.project, tmp.e.image))) {
		entry_label(err, &tmp.e, i);
		strbuf_addf(err, " repeats images[%zu]", dup->index);
		goto fail;
	}
	if (make_key(key, tmp.e.project, tmp.e.image) < 0 ||
	    slot_add(m, json_incref(obj), key, i, err) < 0) {
		if (!err->len)
			strbuf_addstr(err, "out of memory");
		json_decref(obj);
		goto fail;
	}
	free(tmp.services);
	strbuf_release(&why);
	return 0;
fail:
	free(tmp.services);
	strbuf_release(&why);
	return -1;
}

static int check_root(struct manifest *m, json_t *root, struct strlist *rejected,
		      struct strbuf *err)
{
	json_t *images = json_object_get(root, "images");
	struct strbuf key = STRBUF_INIT;
	size_t n;

	for (const char *const *k = manifest_meta_keys; *k; k++) {
		json_t *v = json_object_get(root, *k);

		if (v && !json_is_string(v) && !json_is_null(v)) {
			strbuf_addf(err, "\"%s\" must be a string or null", *k);
			return -1;
		}
	}
	if (images && !json_is_array(images)) {
		strbuf_addstr(err, "\"images\" must be an array");
		return -1;
	}
	n = json_array_size(images);
	if (n > MANIFEST_MAX_ENTRIES) {
		strbuf_addf(err, "more than %zu images", MANIFEST_MAX_ENTRIES);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct strbuf why = STRBUF_INIT;

		if (load_entry(m, json_array_get(images, i), i, &key, &why) < 0) {
			/* Leniently, a bad entry is set aside and the others load. */
			if (rejected && strlist_add(rejected, strbuf_str(&why)) == 0) {
				strbuf_release(&why);
				continue;
			}
			strbuf_addstr(err, strbuf_str(&why));
			strbuf_release(&why);
			strbuf_release(&key);
			return -1;
		}
		strbuf_release(&why);
	}
	strbuf_release(&key);
	json_object_del(root, "images");
	m->root = root;
	return 0;
}

static void error_prefix(struct strbuf *err, const char *name)
{
	strbuf_addstr(err, "manifest '");
	text_quote(err, name);
	strbuf_addstr(err, "': ");
}

static int parse(struct manifest *m, const char *text, size_t len, const char *name,
		 struct strlist *rejected, struct strbuf *err)
{
	struct strbuf why = STRBUF_INIT;
	json_error_t je;
	json_t *root;

	manifest_free(m);
	/*
	 * Read leniently, numbers are reals: a size past what a JSON integer
	 * holds (2^63) is then one absurd entry, not a manifest refused whole.
	 */
	root = json_parse(text, len,
			  JSON_REJECT_DUPLICATES | (rejected ? JSON_DECODE_INT_AS_REAL : 0), &je);
	if (!root && errno == ENOMEM) {
		error_prefix(err, name);
		strbuf_addstr(err, "out of memory reading it");
		return -1;
	}
	if (!root) {
		error_prefix(err, name);
		strbuf_addstr(err, "invalid JSON");
		if (je.line > 0)
			strbuf_addf(err, " at line %d, column %d", je.line, je.column);
		strbuf_addstr(err, ": ");
		text_quote(err, je.text);
		strbuf_addstr(err, REBUILD_HINT);
		return -1;
	}
	if (!json_is_object(root)) {
		strbuf_addstr(&why, "the top level must be an object");
	} else if (check_root(m, root, rejected, &why) == 0) {
		strbuf_release(&why);
		return 0;
	}
	json_decref(root);
	manifest_free(m);
	error_prefix(err, name);
	strbuf_addf(err, "%s" REBUILD_HINT, strbuf_str(&why));
	strbuf_release(&why);
	return -1;
}

int manifest_parse(struct manifest *m, const char *text, size_t len,
		   const char *name, struct strbuf *err)
{
	return parse(m, text, len, name, NULL, err);
}

int manifest_parse_lenient(struct manifest *m, const char *text, size_t len, const char *name,
			   struct strlist *rejected, struct strbuf *err)
{
	return parse(m, text, len, name, rejected, err);
}

static int load(struct manifest *m, const char *path, struct strlist *rejected,
		struct strbuf *err)
{
	struct strbuf data = STRBUF_INIT, why = STRBUF_INIT;
	int r = file_read_all(path, MANIFEST_MAX_BYTES, &data, &why);

	if (r == FILEIO_MISSING) {
		manifest_free(m);
		r = 0;
	} else if (r < 0) {
		manifest_free(m);
		error_prefix(err, path);
		strbuf_addf(err, "%s" REBUILD_HINT, strbuf_str(&why));
		r = -1;
	} else {
		r = parse(m, strbuf_str(&data), data.len, path, rejected, err);
	}
	strbuf_release(&data);
	strbuf_release(&why);
	return r;
}

int manifest_load(struct manifest *m, const char *path, struct strbuf *err)
{
	return load(m, path, NULL, err);
}

int manifest_load_lenient(struct manifest *m, const char *path, struct strlist *rejected,
			  struct strbuf *err)
{
	return load(m, path, rejected, err);
}

static int set_string(json_t *obj, const char *key, const char *value, struct strbuf *err)
{
	json_t *v;

	errno = 0;
	v = value ? json_string(value) : json_null();
	if (!v || json_object_set_new(obj, key, v) < 0) {
		if (errno == ENOMEM)
			strbuf_addf(err, "\"%s\": out of memory", key);
		else
			strbuf_addf(err, "\"%s\" is not valid UTF-8", key);
		return -1;
	}
	return 0;
}

/* Write e's known keys into obj (other keys stay). */
static int entry_to_json(json_t *obj, const struct manifest_entry *e, struct strbuf *err)
{
	json_t *services = json_array();

	if (!services || json_object_set_new(obj, "services", services) < 0)
		goto oom;
	for (size_t i = 0; i < e->nservices; i++) {
		errno = 0;
		if (json_array_append_new(services, json_string(e->services[i])) < 0) {
			strbuf_addstr(err, errno == ENOMEM ? "\"services\": out of memory"
							   : "\"services\" is not valid UTF-8");
			return -1;
		}
	}
	if (json_object_set_new(obj, "size", json_integer(e->size)) < 0)
		goto oom;
	if (set_string(obj, "project", e->project, err) < 0 ||
	    set_string(obj, "image", e->image, err) < 0 ||
	    set_string(obj, "action", e->action, err) < 0 ||
	    set_string(obj, "file", e->file, err) < 0 ||
	    set_string(obj, "sha256", e->sha256, err) < 0 ||
	    set_string(obj, "docker_id", e->docker_id, err) < 0 ||
	    set_string(obj, "archived_at", e->archived_at, err) < 0)
		return -1;
	return 0;
oom:
	strbuf_addstr(err, "out of memory");
	return -1;
}

int manifest_put(struct manifest *m, const struct manifest_entry *e, struct strbuf *err)
{
	struct strbuf key = STRBUF_INIT;
	struct manifest_slot *s;
	json_t *obj;
	int r = -1;

	if (manifest_entry_validate(e, err) < 0)
		return -1;
	s = find_slot(m, e->project, e->image);
	/* Build the new object aside, so a failure leaves m as it was. */
	obj = s ? json_copy(s->obj) : json_object();
	if (!obj) {
		strbuf_addstr(err, "out of memory");
		return -1;
	}
	if (entry_to_json(obj, e, err) < 0)
		goto out;
	if (!s) {
		if (make_key(&key, e->project, e->image) < 0) {
			strbuf_addstr(err, "out of memory");
			goto out;
		}
		r = slot_add(m, obj, &key, m->n, err);
		if (r == 0)
			obj = NULL;
	} else {
		json_t *old = s->obj;

		s->obj = obj;
		if (slot_view(s, err) < 0) {
			s->obj = old;
			goto out;
		}
		obj = old;
		r = 0;
	}
out:
	json_decref(obj);
	strbuf_release(&key);
	return r;
}

int manifest_remove(struct manifest *m, const char *project, const char *image)
{
	struct strmap_item *it = find_item(m, project, image);
	struct manifest_slot *s = it ? it->value : NULL;
	size_t i;

	if (!s)
		return 0;
	/* strmap has no delete: the key stays, with a NULL value (absent). */
	it->value = NULL;
	for (i = 0; m->slots[i] != s; i++)
		;
	memmove(&m->slots[i], &m->slots[i + 1], (m->n - i - 1) * sizeof(m->slots[0]));
	m->n--;
	slot_free(s);
	return 1;
}

int manifest_set_meta(struct manifest *m, const char *archived_at, const char *arch,
		      const char *docker_context, const char *ssh_host,
		      const char *output_dir, struct strbuf *err)
{
	const char *values[] = { archived_at, arch, docker_context, ssh_host, output_dir };
	json_t *root = m->root ? json_copy(m->root) : json_object();

	if (!root) {
		strbuf_addstr(err, "out of memory");
		return -1;
	}
	for (size_t i = 0; manifest_meta_keys[i]; i++) {
		if (set_string(root, manifest_meta_keys[i], values[i], err) < 0) {
			json_decref(root);
			return -1;
		}
	}
	json_decref(m->root);
	m->root = root;
	return 0;
}

const char *manifest_meta(const struct manifest *m, const char *key)
{
	return m->root ? string_of(m->root, key) : NULL;
}
