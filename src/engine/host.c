/*
 * host: engine selection; see host.h.
 */
#include "host.h"

#include <jansson.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "../util/jsonsafe.h"
#include "../util/fileio.h"
#include "../util/path.h"

#define DEFAULT_SOCKET "unix:///var/run/docker.sock"
#define CONFIG_MAX_BYTES ((size_t)4 << 20)

int engine_host_parse_url(struct engine_host *h, const char *url, struct strbuf *err)
{
	free(h->address);
	free(h->ssh_port);
	h->address = h->ssh_port = NULL;
	if (!strncmp(url, "unix://", 7) && url[7]) {
		h->scheme = SCHEME_UNIX;
		h->address = strdup(url + 7);
	} else if (!strncmp(url, "tcp://", 6) && url[6]) {
		const char *hostport = url + 6;
		size_t len = strcspn(hostport, "/");

		h->scheme = SCHEME_TCP;
		h->address = strndup(hostport, len);
		/* The docker CLI's default port: 2376 with TLS, 2375 without. */
		if (h->address && !strchr(h->address, ':')) {
			struct strbuf a = STRBUF_INIT;

			strbuf_addf(&a, "%s:%s", h->address, h->tls ? "2376" : "2375");
			free(h->address);
			h->address = strbuf_detach(&a);
		}
	} else if (!strncmp(url, "ssh://", 6) && url[6]) {
		const char *rest = url + 6, *at = strchr(rest, '@');
		const char *hostpart = at ? at + 1 : rest;
		const char *colon = strrchr(hostpart, ':');
		size_t end = strcspn(rest, "/");

		if (colon && (size_t)(colon - rest) < end && hostpart[0] != '[') {
			h->address = strndup(rest, (size_t)(colon - rest));
			h->ssh_port = strndup(colon + 1, end - (size_t)(colon + 1 - rest));
			if (!h->ssh_port) {	/* never the default port instead */
				strbuf_addf(err, "host '%s': out of memory", url);
				return -1;
			}
		} else {
			h->address = strndup(rest, end);
		}
		h->scheme = SCHEME_SSH;
		if (h->ssh_port && (!*h->ssh_port || strspn(h->ssh_port, "0123456789") != strlen(h->ssh_port))) {
			strbuf_addf(err, "host '%s': invalid ssh port", url);
			return -1;
		}
	} else {
		strbuf_addf(err, "host '%s': unsupported address (use unix://PATH, tcp://HOST:PORT "
			    "or ssh://[USER@]HOST[:PORT])", url);
		return -1;
	}
	if (!h->address) {	/* every form above copies one */
		strbuf_addf(err, "host '%s': out of memory", url);
		return -1;
	}
	if (!*h->address) {
		strbuf_addf(err, "host '%s': no address", url);
		return -1;
	}
	return 0;
}

void engine_config_dir(const struct host_env *env, struct strbuf *out)
{
	if (env->docker_config && *env->docker_config)
		strbuf_addstr(out, env->docker_config);
	else
		path_join(out, env->home && *env->home ? env->home : "/", ".docker");
}

/* $DOCKER_CONFIG/config.json's currentContext, or NULL (missing file: no context). */
static int current_context(const struct host_env *env, char **name, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT, why = STRBUF_INIT;
	json_error_t jerr;
	json_t *root = NULL;
	const char *cur;
	int r = 0;

	*name = NULL;
	engine_config_dir(env, &path);
	strbuf_addstr(&path, "/config.json");
	r = file_read_all(strbuf_str(&path), CONFIG_MAX_BYTES, &text, &why);
	if (r == FILEIO_MISSING) {
		r = 0;
		goto done;
	}
	if (r < 0) {
		strbuf_addf(err, "'%s': %s", strbuf_str(&path), strbuf_str(&why));
		goto done;
	}
	root = json_parse(text.buf ? text.buf : "", text.len, 0, &jerr);
	if (!root) {
		strbuf_addf(err, "'%s':%d:%d: %s", strbuf_str(&path), jerr.line, jerr.column, jerr.text);
		r = -1;
		goto done;
	}
	cur = json_string_value(json_object_get(root, "currentContext"));
	if (cur && *cur)
		*name = strdup(cur);
done:
	json_decref(root);
	strbuf_release(&path);
	strbuf_release(&text);
	strbuf_release(&why);
	return r;
}

static void sha256_hex(const char *s, char out[65])
{
	unsigned char md[SHA256_DIGEST_LENGTH];

	SHA256((const unsigned char *)s, strlen(s), md);
	for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static char *file_if_present(const char *dir, const char *name)
{
	struct strbuf p = STRBUF_INIT;

	path_join(&p, dir, name);
	if (file_is_regular(strbuf_str(&p)))
		return strbuf_detach(&p);
	strbuf_release(&p);
	return NULL;
}

/* The endpoint and TLS files of context `name`. */
static int load_context(struct engine_host *h, const struct host_env *env, const char *name,
			struct strbuf *err)
{
	struct strbuf dir = STRBUF_INIT, path = STRBUF_INIT, text = STRBUF_INIT, why = STRBUF_INIT;
	char hex[65];
	json_error_t jerr;
	json_t *root = NULL, *docker;
	const char *host;
	int r = -1;

	h->context = strdup(name);
	if (!strcmp(name, "default")) {
		h->url = strdup(DEFAULT_SOCKET);
		return 0;
	}
	sha256_hex(name, hex);
	engine_config_dir(env, &dir);
	strbuf_addf(&path, "%s/contexts/meta/%s/meta.json", strbuf_str(&dir), hex);
	if (file_read_all(strbuf_str(&path), CONFIG_MAX_BYTES, &text, &why) < 0) {
		strbuf_addf(err, "context '%s': cannot read '%s': %s; see 'docker context ls'",
			    name, strbuf_str(&path), strbuf_str(&why));
		goto done;
	}
	root = json_parse(text.buf ? text.buf : "", text.len, 0, &jerr);
	docker = json_object_get(json_object_get(root, "Endpoints"), "docker");
	host = json_string_value(json_object_get(docker, "Host"));
	if (!host || !*host) {
		strbuf_addf(err, "context '%s': '%s' names no Endpoints.docker.Host", name,
			    strbuf_str(&path));
		goto done;
	}
	h->url = strdup(host);
	h->tls_verify = !json_is_true(json_object_get(docker, "SkipTLSVerify"));
	strbuf_reset(&dir);
	engine_config_dir(env, &dir);
	strbuf_addf(&dir, "/contexts/tls/%s/docker", hex);
	h->ca = file_if_present(strbuf_str(&dir), "ca.pem");
	h->cert = file_if_present(strbuf_str(&dir), "cert.pem");
	h->key = file_if_present(strbuf_str(&dir), "key.pem");
	h->tls = h->ca || h->cert;
	r = 0;
done:
	json_decref(root);
	strbuf_release(&dir);
	strbuf_release(&path);
	strbuf_release(&text);
	strbuf_release(&why);
	return r;
}

/* DOCKER_TLS_VERIFY / DOCKER_CERT_PATH, for -H and DOCKER_HOST. */
static void env_tls(struct engine_host *h, const struct host_env *env)
{
	struct strbuf dir = STRBUF_INIT;

	if (!env->tls_verify || !*env->tls_verify)
		return;
	h->tls = h->tls_verify = 1;
	if (env->cert_path && *env->cert_path)
		strbuf_addstr(&dir, env->cert_path);
	else
		engine_config_dir(env, &dir);
	h->ca = file_if_present(strbuf_str(&dir), "ca.pem");
	h->cert = file_if_present(strbuf_str(&dir), "cert.pem");
	h->key = file_if_present(strbuf_str(&dir), "key.pem");
	strbuf_release(&dir);
}

int engine_host_resolve(struct engine_host *h, const char *flag, const struct host_env *env,
			struct strbuf *err)
{
	char *name = NULL;
	int r;

	memset(h, 0, sizeof(*h));
	if (flag && *flag) {
		h->source = HOST_FROM_FLAG;
		h->url = strdup(flag);
		env_tls(h, env);
	} else if (env->docker_host && *env->docker_host) {
		h->source = HOST_FROM_ENV;
		h->url = strdup(env->docker_host);
		env_tls(h, env);
	} else if (env->docker_context && *env->docker_context) {
		h->source = HOST_FROM_CONTEXT_ENV;
		if (load_context(h, env, env->docker_context, err) < 0)
			goto fail;
	} else {
		if (current_context(env, &name, err) < 0)
			goto fail;
		if (name) {
			h->source = HOST_FROM_CONTEXT_CONFIG;
			r = load_context(h, env, name, err);
			free(name);
			if (r < 0)
				goto fail;
		} else {
			h->source = HOST_FROM_DEFAULT;
			h->url = strdup(DEFAULT_SOCKET);
		}
	}
	if (!h->url) {
		strbuf_addstr(err, "out of memory");
		goto fail;
	}
	if (engine_host_parse_url(h, h->url, err) < 0)
		goto fail;
	return 0;
fail:
	engine_host_free(h);
	return -1;
}

void engine_host_describe(const struct engine_host *h, struct strbuf *out)
{
	switch (h->source) {
	case HOST_FROM_FLAG:
		strbuf_addstr(out, "-H");
		break;
	case HOST_FROM_ENV:
		strbuf_addstr(out, "DOCKER_HOST");
		break;
	case HOST_FROM_CONTEXT_ENV:
		strbuf_addf(out, "context '%s' from DOCKER_CONTEXT", h->context);
		break;
	case HOST_FROM_CONTEXT_CONFIG:
		strbuf_addf(out, "context '%s'", h->context);
		break;
	case HOST_FROM_DEFAULT:
		strbuf_addstr(out, "default");
		break;
	}
}

void engine_host_free(struct engine_host *h)
{
	free(h->url);
	free(h->address);
	free(h->ssh_port);
	free(h->context);
	free(h->ca);
	free(h->cert);
	free(h->key);
	memset(h, 0, sizeof(*h));
}
