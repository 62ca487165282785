/*
 * client: HTTP to one Docker engine through libcurl — over its unix
 * socket, TCP (with TLS when the host asks for it) or ssh. One curl handle
 * serves the whole run, so its connection (and, over ssh, the one ssh
 * process behind it) is reused from request to request. The API version
 * is negotiated once, in engine_open, from /_ping and /version.
 *
 * Owns the curl handle, the ssh processes and the host description.
 */
#ifndef IMGVAULT_ENGINE_CLIENT_H
#define IMGVAULT_ENGINE_CLIENT_H

#include <jansson.h>
#include <sys/types.h>

#include "../util/strbuf.h"
#include "host.h"
#include "sshconn.h"

/* The API versions this client speaks: Engine 20.10 (1.41) and later. */
#define ENGINE_API_MIN "1.41"
#define ENGINE_API_MAX "1.45"
#define ENGINE_SSH_SLOTS 4

struct engine_options {
	const char *ssh_program;	/* the ssh binary, or NULL for "ssh" */
	const char *ssh_config;		/* passed as ssh -F, or NULL */
	/* Lines worth showing with --verbose (the ssh command); may be NULL. */
	void (*log)(void *ctx, const char *line);
	void *log_ctx;
};

struct engine {
	struct engine_host host;
	struct engine_options opt;
	void *curl;			/* CURL * */
	char api[16];			/* negotiated, e.g. "1.41" */
	struct sshconn ssh[ENGINE_SSH_SLOTS];
	unsigned ssh_started;		/* how many ssh processes this run started */
	int ssh_listener;		/* the private socket curl connects to, or -1 */
	char *ssh_path;
	int transport_failed;		/* the last call could not reach the engine */
	struct strbuf header_api;	/* Api-Version of the last response */
};

/*
 * Reach the engine `host` describes (taken over by e: the caller must not
 * free it) and negotiate the API version. On failure returns -1 with err
 * set to one line naming the host, how it was chosen and the reason.
 */
int engine_open(struct engine *e, struct engine_host *host, const struct engine_options *opt,
		struct strbuf *err);
void engine_close(struct engine *e);

/* "the Docker engine at URL (from DOCKER_HOST)": for messages. */
void engine_describe(const struct engine *e, struct strbuf *out);

/* One HTTP request. Paths are given without the version prefix. */
struct engine_request {
	const char *method;		/* "GET", "POST", "DELETE", "HEAD" */
	const char *path;		/* "/images/create?fromImage=…" */
	const char *content_type;	/* of the body, or NULL */
	const char *const *headers;	/* extra "Name: value" lines, NULL-terminated, or NULL */
	/* A body in memory (with its length), or… */
	const char *body;
	size_t body_len;
	/* …a body read as it is sent: bytes, 0 at the end, -1 on failure. */
	ssize_t (*read_body)(void *ctx, char *buf, size_t n);
	void *body_ctx;
	/* The response body when the status is 2xx; a negative return stops it. */
	int (*on_data)(void *ctx, const char *data, size_t len);
	void *data_ctx;
	int unversioned;		/* for /_ping before negotiation */
};

/*
 * Send r. Returns the HTTP status; for a status of 300 or more err holds
 * the engine's message. Returns -1 with err set when the engine could not
 * be reached or the transfer broke (e->transport_failed tells which), or
 * when read_body or on_data failed (their own message is kept when they
 * wrote one into err).
 */
int engine_call(struct engine *e, const struct engine_request *r, struct strbuf *err);

/* GET path and parse the JSON answer into *out. Returns the status, or -1. */
int engine_get_json(struct engine *e, const char *path, json_t **out, struct strbuf *err);

/*
 * A request whose 200 answer is a progress stream: each message goes to
 * on_message (may be NULL); an error message in the stream is a failure.
 * Returns 0, or -1 with err set (the engine's message when it sent one).
 */
int engine_stream(struct engine *e, const struct engine_request *r,
		  int (*on_message)(void *ctx, json_t *msg), void *ctx, struct strbuf *err);

/* Append s to out, escaped for a URL query. */
void engine_query_escape(struct strbuf *out, const char *s);

#endif
