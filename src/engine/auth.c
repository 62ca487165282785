/*
 * auth: registry credentials from config.json; see auth.h.
 */
#include "auth.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "../util/fileio.h"
#include "../util/jsonsafe.h"

#define CONFIG_MAX_BYTES ((size_t)4 << 20)
#define DOCKER_HUB_KEY "https://index.docker.io/v1/"

const char *auth_server_key(const char *registry)
{
	if (!registry || !strcmp(registry, "docker.io") || !strcmp(registry, "index.docker.io") ||
	    !strcmp(registry, "registry-1.docker.io"))
		return DOCKER_HUB_KEY;
	return registry;
}

/* A config key reduced to its host: "https://r.example:5000/v1/" → "r.example:5000". */
static void key_host(const char *key, struct strbuf *out)
{
	if (!strncmp(key, "https://", 8))
		key += 8;
	else if (!strncmp(key, "http://", 7))
		key += 7;
	strbuf_add(out, key, strcspn(key, "/"));
}

static int same_registry(const char *key, const char *registry)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	int same;

	key_host(key, &a);
	key_host(auth_server_key(registry), &b);
	same = !strcmp(strbuf_str(&a), strbuf_str(&b));
	strbuf_release(&a);
	strbuf_release(&b);
	return same;
}

static int load_config(const struct host_env *env, json_t **out, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT, why = STRBUF_INIT;
	json_error_t jerr;
	int r;

	*out = NULL;
	engine_config_dir(env, &path);
	strbuf_addstr(&path, "/config.json");
	r = file_read_all(strbuf_str(&path), CONFIG_MAX_BYTES, &text, &why);
	if (r == FILEIO_MISSING) {
		r = 0;
	} else if (r < 0) {
		strbuf_addf(err, "'%s': %s", strbuf_str(&path), strbuf_str(&why));
	} else if (!(*out = json_parse(text.buf ? text.buf : "", text.len, 0, &jerr))) {
		strbuf_addf(err, "'%s':%d:%d: %s", strbuf_str(&path), jerr.line, jerr.column,
			    jerr.text);
		r = -1;
	}
	strbuf_release(&path);
	strbuf_release(&text);
	strbuf_release(&why);
	return r;
}

/* {"auth": base64("user:password")} (or separate fields) into a. */
static int decode_entry(json_t *entry, const char *key, struct registry_auth *a,
			struct strbuf *err)
{
	const char *b64 = json_string_value(json_object_get(entry, "auth"));
	const char *token = json_string_value(json_object_get(entry, "identitytoken"));

	a->serveraddress = strdup(key);
	if (token && *token)
		a->identitytoken = strdup(token);
	if (b64 && *b64) {
		size_t len = strlen(b64);
		unsigned char *raw = malloc(len + 1);
		int n = raw ? EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)len) : -1;
		char *colon;

		/* EVP_DecodeBlock counts padding as zero bytes: drop them. */
		while (n > 0 && len && b64[len - 1] == '=')
			n--, len--;
		if (n < 0 || !(colon = memchr(raw, ':', (size_t)n))) {
			strbuf_addf(err, "registry '%s': the 'auth' entry in config.json is not "
				    "base64 of user:password — run 'docker login %s' again", key, key);
			free(raw);
			return -1;
		}
		a->username = strndup((char *)raw, (size_t)(colon - (char *)raw));
		a->password = strndup(colon + 1, (size_t)n - (size_t)(colon + 1 - (char *)raw));
		free(raw);
	} else {
		const char *u = json_string_value(json_object_get(entry, "username"));
		const char *p = json_string_value(json_object_get(entry, "password"));

		a->username = u ? strdup(u) : NULL;
		a->password = p ? strdup(p) : NULL;
	}
	return 0;
}

int auth_lookup(const struct host_env *env, const char *registry, struct registry_auth *out,
		struct strbuf *err)
{
	json_t *cfg, *auths, *entry;
	const char *key;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = load_config(env, &cfg, err)) < 0 || !cfg)
		return r;
	r = 0;
	auths = json_object_get(cfg, "auths");
	json_object_foreach(auths, key, entry) {
		if (!same_registry(key, registry))
			continue;
		r = decode_entry(entry, key, out, err) < 0 ? -1 : 1;
		if (r > 0 && !out->username && !out->identitytoken) {
			auth_free(out);
			r = 0;
			continue;
		}
		break;
	}
	json_decref(cfg);
	return r;
}

int auth_all(const struct host_env *env, json_t **out, struct strbuf *err)
{
	json_t *cfg, *auths, *entry;
	const char *key;
	int r;

	*out = json_object();
	if ((r = load_config(env, &cfg, err)) < 0 || !cfg)
		return r;
	auths = json_object_get(cfg, "auths");
	json_object_foreach(auths, key, entry) {
		struct registry_auth a = { 0 };
		struct strbuf ignored = STRBUF_INIT;

		/* An entry that cannot be decoded is skipped: pulls will say so. */
		if (decode_entry(entry, key, &a, &ignored) == 0 && (a.username || a.identitytoken)) {
			json_t *o = json_object();

			if (a.username)
				json_object_set_new(o, "username", json_string(a.username));
			if (a.password)
				json_object_set_new(o, "password", json_string(a.password));
			if (a.identitytoken)
				json_object_set_new(o, "identitytoken", json_string(a.identitytoken));
			json_object_set_new(o, "serveraddress", json_string(key));
			json_object_set_new(*out, key, o);
		}
		auth_free(&a);
		strbuf_release(&ignored);
	}
	json_decref(cfg);
	return 0;
}

void auth_free(struct registry_auth *a)
{
	free(a->username);
	free(a->password);
	free(a->identitytoken);
	free(a->serveraddress);
	memset(a, 0, sizeof(*a));
}

int base64url_encode(const void *data, size_t len, struct strbuf *out)
{
	size_t need = 4 * ((len + 2) / 3) + 1;
	unsigned char *b = malloc(need);
	int n;

	if (!b || len > (size_t)1 << 28)
		return free(b), -1;
	n = EVP_EncodeBlock(b, data, (int)len);
	for (int i = 0; i < n; i++) {
		if (b[i] == '+')
			b[i] = '-';
		else if (b[i] == '/')
			b[i] = '_';
	}
	n = strbuf_add(out, b, (size_t)n);
	free(b);
	return n;
}

static int header_of(const char *name, json_t *j, struct strbuf *out)
{
	char *text = json_text(j, JSON_COMPACT);
	int r;

	if (!text)
		return -1;
	strbuf_addf(out, "%s: ", name);
	r = base64url_encode(text, strlen(text), out);
	free(text);
	return r;
}

int auth_header(const struct registry_auth *a, struct strbuf *out)
{
	json_t *j = json_object();
	int r;

	if (a && a->username)
		json_object_set_new(j, "username", json_string(a->username));
	if (a && a->password)
		json_object_set_new(j, "password", json_string(a->password));
	if (a && a->identitytoken)
		json_object_set_new(j, "identitytoken", json_string(a->identitytoken));
	if (a && a->serveraddress)
		json_object_set_new(j, "serveraddress", json_string(a->serveraddress));
	r = header_of("X-Registry-Auth", j, out);
	json_decref(j);
	return r;
}

int auth_config_header(json_t *all, struct strbuf *out)
{
	return header_of("X-Registry-Config", all, out);
}
