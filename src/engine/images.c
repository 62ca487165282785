/*
 * images: info, inspect, list, pull, tag, push, remove, login; see
 * images.h. Building lives in build.c.
 */
#include "images.h"

#include <stdlib.h>
#include <string.h>

#include "../catalog/imageref.h"
#include "../util/jsonsafe.h"

/* An image name in a URL path: '/' and ':' stay, anything unusual is escaped. */
static void path_name(struct strbuf *out, const char *name)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *name; name++) {
		unsigned char c = (unsigned char)*name;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("-_.~/:@", c)) {
			strbuf_addch(out, (char)c);
		} else {
			strbuf_addch(out, '%');
			strbuf_addch(out, hex[c >> 4]);
			strbuf_addch(out, hex[c & 15]);
		}
	}
}

/*
 * 0 when the request path was built whole; else -1 with err set. A path
 * cut short by a failed allocation is never sent: it could name another
 * image, or drop a parameter.
 */
static int whole(const struct strbuf *path, struct strbuf *err)
{
	if (!path->toobig)
		return 0;
	strbuf_addstr(err, "out of memory");
	return -1;
}

int engine_info_arch(struct engine *e, char **arch, struct strbuf *err)
{
	json_t *info = NULL;
	int status = engine_get_json(e, "/info", &info, err);
	const char *a = json_string_value(json_object_get(info, "Architecture"));

	*arch = NULL;
	if (status == 200 && a && *a) {
		if (!(*arch = strdup(a)))
			strbuf_addstr(err, "out of memory");
	} else if (status == 200)
		strbuf_addstr(err, "the engine's /info names no architecture");
	json_decref(info);
	return *arch ? 0 : -1;
}

int image_inspect(struct engine *e, const char *name, json_t **out, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, why = STRBUF_INIT;
	int status;

	strbuf_addstr(&path, "/images/");
	path_name(&path, name);
	strbuf_addstr(&path, "/json");
	status = whole(&path, &why) < 0 ? -1 : engine_get_json(e, strbuf_str(&path), out, &why);
	strbuf_release(&path);
	if (status == 404) {
		strbuf_release(&why);
		return 0;
	}
	if (status != 200)
		strbuf_addf(err, "inspecting '%s': %s", name, strbuf_str(&why));
	strbuf_release(&why);
	return status == 200 ? 1 : -1;
}

int image_id(struct engine *e, const char *name, char **id, struct strbuf *err)
{
	json_t *info = NULL;
	const char *v;
	int r = image_inspect(e, name, &info, err);

	*id = NULL;
	if (r == 1) {
		v = json_string_value(json_object_get(info, "Id"));
		if (!v) {
			strbuf_addf(err, "inspecting '%s': the engine names no Id", name);
			r = -1;
		} else if (!(*id = strdup(v))) {
			strbuf_addstr(err, "out of memory");
			r = -1;
		}
	}
	json_decref(info);
	return r;
}

int image_list(struct engine *e, json_t **out, struct strbuf *err)
{
	int status = engine_get_json(e, "/images/json", out, err);

	if (status == 200 && json_is_array(*out))
		return 0;
	if (status == 200)
		strbuf_addstr(err, "the engine's image list is not an array");
	json_decref(*out);
	*out = NULL;
	return -1;
}

static int stream_with_auth(struct engine *e, const char *path, const struct registry_auth *auth,
			    engine_message_fn fn, void *ctx, struct strbuf *err)
{
	struct strbuf hdr = STRBUF_INIT;
	const char *headers[2] = { NULL, NULL };
	struct engine_request r = { .method = "POST", .path = path, .headers = headers };
	int ret;

	if (auth_header(auth, &hdr) < 0) {
		strbuf_addstr(err, "out of memory");
		return -1;
	}
	headers[0] = strbuf_str(&hdr);
	ret = engine_stream(e, &r, fn, ctx, err);
	strbuf_release(&hdr);
	return ret;
}

int image_pull(struct engine *e, const char *ref, const struct registry_auth *auth,
	       engine_message_fn fn, void *ctx, struct strbuf *err)
{
	struct imageref r = { 0 };
	struct strbuf path = STRBUF_INIT, name = STRBUF_INIT;
	int ret = -1;

	if (imageref_parse(ref, &r, err) < 0)
		return -1;
	/* The name without tag or digest; the tag parameter carries either. */
	if (strcmp(r.registry, "docker.io") || !strncmp(ref, "docker.io/", 10))
		strbuf_addf(&name, "%s/", r.registry);
	strbuf_addstr(&name, r.path);
	strbuf_addstr(&path, "/images/create?fromImage=");
	engine_query_escape(&path, strbuf_str(&name));
	strbuf_addstr(&path, "&tag=");
	engine_query_escape(&path, r.digest ? r.digest : r.tag ? r.tag : "latest");
	if (whole(&name, err) == 0 && whole(&path, err) == 0)
		ret = stream_with_auth(e, strbuf_str(&path), auth, fn, ctx, err);
	strbuf_release(&path);
	strbuf_release(&name);
	imageref_free(&r);
	return ret;
}

int image_tag(struct engine *e, const char *source, const char *repo, const char *tag,
	      struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	struct engine_request r = { .method = "POST" };
	int status;

	strbuf_addstr(&path, "/images/");
	path_name(&path, source);
	strbuf_addstr(&path, "/tag?repo=");
	engine_query_escape(&path, repo);
	strbuf_addstr(&path, "&tag=");
	engine_query_escape(&path, tag);
	r.path = strbuf_str(&path);
	status = whole(&path, err) < 0 ? -1 : engine_call(e, &r, err);
	strbuf_release(&path);
	if (status > 0 && status != 201 && status != 200)
		return -1;
	return status < 0 ? -1 : 0;
}

int image_push(struct engine *e, const char *repo, const char *tag,
	       const struct registry_auth *auth, engine_message_fn fn, void *ctx,
	       struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	int ret;

	strbuf_addstr(&path, "/images/");
	path_name(&path, repo);
	strbuf_addstr(&path, "/push?tag=");
	engine_query_escape(&path, tag);
	ret = whole(&path, err) < 0 ? -1 : stream_with_auth(e, strbuf_str(&path), auth, fn, ctx, err);
	strbuf_release(&path);
	return ret;
}

int image_remove(struct engine *e, const char *name, int force, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, why = STRBUF_INIT;
	struct engine_request r = { .method = "DELETE" };
	int status;

	strbuf_addstr(&path, "/images/");
	path_name(&path, name);
	strbuf_addf(&path, "?force=%d", force ? 1 : 0);
	r.path = strbuf_str(&path);
	status = whole(&path, &why) < 0 ? -1 : engine_call(e, &r, &why);
	strbuf_release(&path);
	if (status == 404) {
		strbuf_release(&why);
		return 1;
	}
	if (status != 200)
		strbuf_addf(err, "removing '%s': %s", name, strbuf_str(&why));
	strbuf_release(&why);
	return status == 200 ? 0 : -1;
}

int registry_login(struct engine *e, const struct registry_auth *auth, struct strbuf *err)
{
	json_t *j = json_object();
	char *body;
	struct engine_request r = { .method = "POST", .path = "/auth",
				    .content_type = "application/json" };
	struct strbuf why = STRBUF_INIT;
	int status;

	json_object_set_new(j, "username", json_string(auth->username ? auth->username : ""));
	json_object_set_new(j, "password", json_string(auth->password ? auth->password : ""));
	json_object_set_new(j, "serveraddress",
			    json_string(auth->serveraddress ? auth->serveraddress : ""));
	body = json_text(j, JSON_COMPACT);
	json_decref(j);
	if (!body) {
		strbuf_addstr(err, "out of memory");
		return -1;
	}
	r.body = body;
	r.body_len = strlen(body);
	status = engine_call(e, &r, &why);
	free(body);
	if (status != 200)
		strbuf_addf(err, "logging in to '%s' as '%s': %s",
			    auth->serveraddress ? auth->serveraddress : "?",
			    auth->username ? auth->username : "", strbuf_str(&why));
	strbuf_release(&why);
	return status == 200 ? 0 : -1;
}

int image_export(struct engine *e, const char *const *names, size_t n,
		 int (*on_data)(void *ctx, const char *data, size_t len), void *ctx,
		 struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	struct engine_request r = { .method = "GET", .on_data = on_data, .data_ctx = ctx };
	int status;

	strbuf_addstr(&path, "/images/get");
	for (size_t i = 0; i < n; i++) {
		strbuf_addstr(&path, i ? "&names=" : "?names=");
		engine_query_escape(&path, names[i]);
	}
	r.path = strbuf_str(&path);
	status = whole(&path, err) < 0 ? -1 : engine_call(e, &r, err);
	strbuf_release(&path);
	if (status >= 200 && status < 300)
		return 0;
	if (status > 0 && !err->len)
		strbuf_addf(err, "HTTP status %d", status);
	return -1;
}

struct load_watch {
	struct strlist *loaded;
};

/* "Loaded image: demo/kv:2.1\n" or "Loaded image ID: sha256:…\n". */
static int load_message(void *ctx, json_t *msg)
{
	struct load_watch *w = ctx;
	const char *s = json_string_value(json_object_get(msg, "stream"));
	static const char tag[] = "Loaded image: ", id[] = "Loaded image ID: ";
	const char *v = NULL;

	if (!s || !w->loaded)
		return 0;
	if (!strncmp(s, tag, sizeof(tag) - 1))
		v = s + sizeof(tag) - 1;
	else if (!strncmp(s, id, sizeof(id) - 1))
		v = s + sizeof(id) - 1;
	if (v)
		strlist_addn(w->loaded, v, strcspn(v, "\r\n"));
	return 0;
}

int image_load(struct engine *e, ssize_t (*read_body)(void *ctx, char *buf, size_t n),
	       void *body_ctx, struct strlist *loaded, struct strbuf *err)
{
	struct engine_request r = { .method = "POST", .path = "/images/load?quiet=1",
				    .content_type = "application/x-tar", .read_body = read_body,
				    .body_ctx = body_ctx };
	struct load_watch w = { loaded };

	return engine_stream(e, &r, load_message, &w, err);
}
