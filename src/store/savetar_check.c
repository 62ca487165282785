/*
 * savetar_check: docker's own manifest.json inside a save stream — parsed
 * into struct savetar_image (image ID from Config, RepoTags, Layers) and
 * checked against the entries savetar.c read: every file it names must be
 * in the tar, and (deep) every legacy layer.tar must hash to the diff ID
 * its config lists.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../util/jsonsafe.h"
#include "../util/text.h"
#include "savetar_priv.h"

static void skip_dot_slash(const char **name)
{
	while ((*name)[0] == '.' && (*name)[1] == '/')
		*name += 2;
}

static const struct savetar_file *lookup(const struct savetar_read *r, const char *name)
{
	struct strmap_item *it;

	skip_dot_slash(&name);
	it = strmap_find(&r->files, name, strlen(name));
	return it ? it->value : NULL;
}

static void json_error(struct strbuf *err, const char *what, const json_error_t *je)
{
	strbuf_addf(err, "%s: invalid JSON", what);
	if (je->line > 0)
		strbuf_addf(err, " at line %d, column %d", je->line, je->column);
	strbuf_addstr(err, ": ");
	text_quote(err, je->text);
}

/* Append the strings of arr (NULL or null: none) to out. */
static int string_list(json_t *arr, struct strlist *out)
{
	size_t i;
	json_t *v;

	if (!arr || json_is_null(arr))
		return 0;
	if (!json_is_array(arr))
		return -1;
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v) || strlist_add(out, json_string_value(v)) < 0)
			return -1;
	}
	return 0;
}

static int parse_image(struct savetar_image *img, json_t *obj, size_t i, struct strbuf *err)
{
	const char *config = json_string_value(json_object_get(obj, "Config"));
	json_t *layers = json_object_get(obj, "Layers");
	char hex[65];

	if (!json_is_object(obj)) {
		strbuf_addf(err, "manifest.json: [%zu] is not an object", i);
		return -1;
	}
	if (!config) {
		strbuf_addf(err, "manifest.json: [%zu] has no \"Config\" string", i);
		return -1;
	}
	skip_dot_slash(&config);
	if (!savetar_legacy_config_name(config, hex) && !savetar_blob_name(config, hex)) {
		strbuf_addf(err, "manifest.json: [%zu]: \"Config\" '", i);
		text_quote(err, config);
		strbuf_addstr(err, "' is neither <hex>.json nor blobs/sha256/<hex>");
		return -1;
	}
	img->config = xstrdup_or_null(config);
	img->id = malloc(7 + 65);
	if (!img->config || !img->id) {
		strbuf_addstr(err, "out of memory");
		return -1;
	}
	memcpy(img->id, "sha256:", 7);
	memcpy(img->id + 7, hex, 65);
	if (string_list(json_object_get(obj, "RepoTags"), &img->tags) < 0) {
		strbuf_addf(err, "manifest.json: [%zu]: \"RepoTags\" must be null or "
			    "an array of strings", i);
		return -1;
	}
	if (!json_is_array(layers) || string_list(layers, &img->layers) < 0) {
		strbuf_addf(err, "manifest.json: [%zu]: \"Layers\" must be an array of strings", i);
		return -1;
	}
	return 0;
}

static int missing(struct strbuf *err, const char *name)
{
	strbuf_addstr(err, "manifest.json names '");
	text_quote(err, name);
	strbuf_addstr(err, "', which is not in the tar");
	return -1;
}

static int check_present(const struct savetar_read *r, const struct savetar_image *img,
			 struct strbuf *err)
{
	if (!lookup(r, img->config))
		return missing(err, img->config);
	for (size_t i = 0; i < img->layers.n; i++)
		if (!lookup(r, img->layers.items[i]))
			return missing(err, img->layers.items[i]);
	return 0;
}

/* Append at most max bytes of s, quoted, with "…" when cut. */
static void quote_short(struct strbuf *err, const char *s, size_t max)
{
	struct strbuf cut = STRBUF_INIT;

	strbuf_add(&cut, s, strnlen(s, max));
	text_quote(err, strbuf_str(&cut));
	if (strlen(s) > max)
		strbuf_addstr(err, "…");
	strbuf_release(&cut);
}

/* Deep, legacy layout: layer i must hash to the config's rootfs.diff_ids[i]. */
static int check_diff_ids(const struct savetar_read *r, const struct savetar_image *img,
			  struct strbuf *err)
{
	const struct savetar_file *cf = lookup(r, img->config);
	json_t *config, *ids;
	json_error_t je;
	char hex[65];
	int ret = 0;

	if (!savetar_legacy_config_name(img->config, hex) || !cf || !cf->regular)
		return 0;
	config = json_parse(strbuf_str(&cf->config), cf->config.len, 0, &je);
	if (!config) {
		json_error(err, img->config, &je);
		return -1;
	}
	ids = json_object_get(json_object_get(config, "rootfs"), "diff_ids");
	if (!json_is_array(ids) || json_array_size(ids) != img->layers.n) {
		strbuf_addf(err, "'%s': rootfs.diff_ids does not list the %zu layers "
			    "manifest.json names", img->config, img->layers.n);
		ret = -1;
	}
	for (size_t i = 0; ret == 0 && i < img->layers.n; i++) {
		const struct savetar_file *lf = lookup(r, img->layers.items[i]);
		const char *want = json_string_value(json_array_get(ids, i));

		if (!lf || !lf->hashed)
			continue;
		if (!want || strncmp(want, "sha256:", 7) || strcmp(want + 7, lf->hex)) {
			strbuf_addch(err, '\'');
			text_quote(err, img->layers.items[i]);
			strbuf_addstr(err, "': sha256 mismatch (the config says ");
			quote_short(err, want ? want : "nothing", 19);
			strbuf_addf(err, ", the content hashes to sha256:%.12s…)", lf->hex);
			ret = -1;
		}
	}
	json_decref(config);
	return ret;
}

int savetar_check(struct savetar_read *r, struct strbuf *err)
{
	struct savetar *st = r->st;
	json_error_t je;
	json_t *root = json_parse(strbuf_str(&r->manifest), r->manifest.len, 0, &je);
	size_t n;
	int ret = -1;

	if (!root) {
		json_error(err, "manifest.json", &je);
		return -1;
	}
	n = json_array_size(root);
	if (!json_is_array(root) || !n) {
		strbuf_addstr(err, "manifest.json is not a non-empty array");
		goto out;
	}
	if (n > SAVETAR_MAX_IMAGES) {
		strbuf_addf(err, "manifest.json lists more than %d images", SAVETAR_MAX_IMAGES);
		goto out;
	}
	if (!(st->images = calloc(n, sizeof(*st->images)))) {
		strbuf_addstr(err, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		st->n++;
		if (parse_image(&st->images[i], json_array_get(root, i), i, err) < 0 ||
		    check_present(r, &st->images[i], err) < 0 ||
		    (r->opts.deep && check_diff_ids(r, &st->images[i], err) < 0))
			goto out;
	}
	ret = 0;
out:
	json_decref(root);
	return ret;
}
