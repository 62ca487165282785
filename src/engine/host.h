/*
 * host: which Docker engine to talk to, chosen the way the docker CLI
 * chooses: -H/--host, else DOCKER_HOST, else DOCKER_CONTEXT, else
 * `currentContext` in $DOCKER_CONFIG/config.json (default ~/.docker), whose
 * endpoint is contexts/meta/<sha256 of the name>/meta.json
 * (Endpoints.docker.Host), else unix:///var/run/docker.sock. Also finds
 * the TLS material: DOCKER_TLS_VERIFY/DOCKER_CERT_PATH for DOCKER_HOST and
 * -H, contexts/tls/<sha256>/docker/{ca,cert,key}.pem for a context.
 *
 * Pure apart from reading those files; the environment is passed in, so
 * tests need no real $HOME.
 */
#ifndef IMGVAULT_ENGINE_HOST_H
#define IMGVAULT_ENGINE_HOST_H

#include "../util/strbuf.h"

enum host_source {
	HOST_FROM_FLAG,		/* -H / --host */
	HOST_FROM_ENV,		/* DOCKER_HOST */
	HOST_FROM_CONTEXT_ENV,	/* DOCKER_CONTEXT */
	HOST_FROM_CONTEXT_CONFIG,	/* currentContext in config.json */
	HOST_FROM_DEFAULT,
};

enum host_scheme { SCHEME_UNIX, SCHEME_TCP, SCHEME_SSH };

/* The environment variables that matter; NULL when unset. */
struct host_env {
	const char *docker_host, *docker_context, *docker_config, *home;
	const char *tls_verify, *cert_path;
};

struct engine_host {
	char *url;		/* as given: unix:///…, tcp://h:p, ssh://[user@]h[:p] */
	enum host_scheme scheme;
	char *address;		/* socket path, "host:port", or "[user@]host" */
	char *ssh_port;		/* for ssh://, or NULL */
	enum host_source source;
	char *context;		/* the context's name, when chosen by one */
	int tls;		/* tcp with TLS */
	int tls_verify;		/* verify the engine's certificate */
	char *ca, *cert, *key;	/* TLS files, or NULL */
};

/* Fill h. On error returns -1 and says why in err (naming the source). */
int engine_host_resolve(struct engine_host *h, const char *flag, const struct host_env *env,
			struct strbuf *err);
void engine_host_free(struct engine_host *h);

/* How the host was chosen, for messages: "-H", "DOCKER_HOST", "context 'x'", "default". */
void engine_host_describe(const struct engine_host *h, struct strbuf *out);

/* The docker CLI's config folder: $DOCKER_CONFIG, else $HOME/.docker. */
void engine_config_dir(const struct host_env *env, struct strbuf *out);

/* Split a host URL into scheme, address and ssh port; -1 with err when unsupported. */
int engine_host_parse_url(struct engine_host *h, const char *url, struct strbuf *err);

#endif
