/*
 * images: the engine operations imgvault needs — info, inspect, list,
 * pull, build, tag, push, remove and registry login — over an open
 * engine (client.h). Progress streams are handed message by message to
 * the caller's callback, which may show them; an error in a stream makes
 * the operation fail with the engine's message.
 */
#ifndef IMGVAULT_ENGINE_IMAGES_H
#define IMGVAULT_ENGINE_IMAGES_H

#include <jansson.h>

#include "../util/strbuf.h"
#include "../util/strlist.h"
#include "auth.h"
#include "client.h"

/* Called for every progress message (borrowed); a negative return stops. */
typedef int (*engine_message_fn)(void *ctx, json_t *msg);

/* The engine's architecture as `uname -m` spells it ("x86_64"), from /info. */
int engine_info_arch(struct engine *e, char **arch, struct strbuf *err);

/* 1 with *out (owned) when the engine has `name`, 0 when not, -1 on error. */
int image_inspect(struct engine *e, const char *name, json_t **out, struct strbuf *err);

/*
 * The ID the engine holds `name` under: 1 with *id (owned), 0 when it does
 * not have it, -1 on error (err set; "out of memory" included).
 */
int image_id(struct engine *e, const char *name, char **id, struct strbuf *err);

/* Every image (GET /images/json) into *out, an array. */
int image_list(struct engine *e, json_t **out, struct strbuf *err);

/* Pull ref (a tag defaults to "latest"); auth may be NULL. */
int image_pull(struct engine *e, const char *ref, const struct registry_auth *auth,
	       engine_message_fn fn, void *ctx, struct strbuf *err);

struct build_request {
	const char *context_dir;	/* a local context folder, or NULL */
	const char *remote;		/* a git or https URL, when no folder */
	const char *dockerfile;		/* as in the compose file (relative to the
					   context, or absolute), or NULL */
	const char *dockerfile_inline;	/* Dockerfile text, or NULL */
	const char *tag;		/* the name to give the image */
	json_t *buildargs;		/* {name: value}, or NULL */
	const char *target;		/* or NULL */
	int pull, nocache;
	json_t *registry_config;	/* auth_all's map, or NULL */
};

/* Build; on success *image_id (owned, may be NULL if the engine did not say). */
int image_build(struct engine *e, const struct build_request *b, engine_message_fn fn,
		void *ctx, char **image_id, struct strbuf *err);

/* Give `source` the name repo:tag. */
int image_tag(struct engine *e, const char *source, const char *repo, const char *tag,
	      struct strbuf *err);

/* Push repo:tag; auth may be NULL. */
int image_push(struct engine *e, const char *repo, const char *tag,
	       const struct registry_auth *auth, engine_message_fn fn, void *ctx,
	       struct strbuf *err);

/* Remove name (untag; the image goes when no name is left). 0, 1 when absent, -1. */
int image_remove(struct engine *e, const char *name, int force, struct strbuf *err);

/*
 * Stream the `docker save` tar of names[0..n) (GET /images/get) into
 * on_data as it arrives; a negative return from on_data stops it (its own
 * message, when it wrote one into err, is kept).
 */
int image_export(struct engine *e, const char *const *names, size_t n,
		 int (*on_data)(void *ctx, const char *data, size_t len), void *ctx,
		 struct strbuf *err);

/*
 * Load a `docker save` stream (tar, or gzip of it) read by read_body into
 * the engine (POST /images/load). Each "Loaded image: NAME" /
 * "Loaded image ID: ID" line goes to *loaded, one per item.
 */
int image_load(struct engine *e, ssize_t (*read_body)(void *ctx, char *buf, size_t n),
	       void *body_ctx, struct strlist *loaded, struct strbuf *err);

/* Check credentials with the registry through the engine (POST /auth). */
int registry_login(struct engine *e, const struct registry_auth *auth, struct strbuf *err);

#endif
