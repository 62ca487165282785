/*
 * auth: registry credentials as the docker CLI keeps them — the `auths`
 * map of $DOCKER_CONFIG/config.json ({"auth": base64("user:password")} or
 * an identity token) — and the X-Registry-Auth / X-Registry-Config
 * headers the engine wants (base64url-encoded JSON).
 *
 * Credential helpers (credsStore, credHelpers) are not consulted.
 */
#ifndef IMGVAULT_ENGINE_AUTH_H
#define IMGVAULT_ENGINE_AUTH_H

#include <jansson.h>

#include "../util/strbuf.h"
#include "host.h"

struct registry_auth {
	char *username, *password;
	char *identitytoken;
	char *serveraddress;
};

/* The key the config uses for an image's registry: docker.io → https://index.docker.io/v1/. */
const char *auth_server_key(const char *registry);

/*
 * The credentials config.json holds for `registry` ("docker.io",
 * "127.0.0.1:5000"). Returns 1 when found, 0 when there are none (no file,
 * no entry), -1 with err set when the file cannot be read or is invalid.
 */
int auth_lookup(const struct host_env *env, const char *registry, struct registry_auth *out,
		struct strbuf *err);

/* Every entry of `auths`, as the {server: {username, password}} map /build wants. */
int auth_all(const struct host_env *env, json_t **out, struct strbuf *err);

void auth_free(struct registry_auth *a);

/* "X-Registry-Auth: <base64url JSON>" for a (NULL: no credentials, "{}"). */
int auth_header(const struct registry_auth *a, struct strbuf *out);
/* "X-Registry-Config: <base64url JSON>" for the map auth_all made. */
int auth_config_header(json_t *all, struct strbuf *out);

/* base64url with padding, as Go's base64.URLEncoding writes it. */
int base64url_encode(const void *data, size_t len, struct strbuf *out);

#endif
