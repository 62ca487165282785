/*
 * client: the engine's HTTP transport and API negotiation; see client.h.
 */
#include "client.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../util/jsonsafe.h"
#include "../util/text.h"
#include "jsonstream.h"

#define ERROR_BODY_MAX ((size_t)64 << 10)
#define JSON_BODY_MAX ((size_t)64 << 20)
/* The URL base for an engine on a local socket (unix://, or ssh:// through ours). */
#define LOCAL_URL "http://localhost"

/* What one call collects while curl runs. */
struct call {
	struct engine *e;
	const struct engine_request *r;
	struct strbuf *err;
	struct strbuf errbody;		/* the body of a non-2xx answer */
	long status;
	int callback_failed;		/* read_body or on_data said stop */
	size_t err_len_before;		/* to tell whether a callback wrote a message */
};

static void log_line(struct engine *e, const char *line)
{
	if (e->opt.log)
		e->opt.log(e->opt.log_ctx, line);
}

void engine_describe(const struct engine *e, struct strbuf *out)
{
	strbuf_addf(out, "the Docker engine at %s (", e->host.url);
	engine_host_describe(&e->host, out);
	strbuf_addch(out, ')');
}

void engine_query_escape(struct strbuf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			strbuf_addch(out, (char)c);
		} else {
			strbuf_addch(out, '%');
			strbuf_addch(out, hex[c >> 4]);
			strbuf_addch(out, hex[c & 15]);
		}
	}
}

/* ---- ssh: curl asks for a socket, we hand it one end of an ssh pipe ---- */

static void show_argv(struct strbuf *out, const struct strlist *argv)
{
	for (size_t i = 0; i < argv->n; i++) {
		const char *a = argv->items[i];
		int plain = *a && strspn(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					    "0123456789@%+=:,./_-[]") == strlen(a);

		if (i)
			strbuf_addch(out, ' ');
		if (plain) {
			strbuf_addstr(out, a);
			continue;
		}
		strbuf_addch(out, '\'');
		for (; *a; a++) {
			if (*a == '\'')
				strbuf_addstr(out, "'\\''");
			else
				strbuf_addch(out, *a);
		}
		strbuf_addch(out, '\'');
	}
}

static curl_socket_t open_ssh(void *clientp, curlsocktype purpose, struct curl_sockaddr *addr)
{
	struct engine *e = clientp;
	struct strlist argv = STRLIST_INIT;
	struct strbuf msg = STRBUF_INIT;
	struct sshconn *slot = NULL;

	(void)purpose;
	for (int i = 0; i < ENGINE_SSH_SLOTS; i++) {
		if (e->ssh[i].fd < 0 && e->ssh[i].pid == 0) {
			slot = &e->ssh[i];
			break;
		}
	}
	if (!slot)
		return CURL_SOCKET_BAD;
	sshconn_free(slot);
	sshconn_argv(&argv, e->opt.ssh_program, e->opt.ssh_config, e->host.address, e->host.ssh_port);
	strbuf_addstr(&msg, "ssh: ");
	show_argv(&msg, &argv);
	log_line(e, strbuf_str(&msg));
	strbuf_reset(&msg);
	if (sshconn_open(slot, &argv, e->ssh_listener, &msg) < 0) {
		log_line(e, strbuf_str(&msg));
	} else {
		/* curl connects this to our listener, where ssh's child waits. */
		slot->fd = socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
		if (slot->fd < 0)
			sshconn_close(slot);
		else
			e->ssh_started++;
	}
	strlist_free(&argv);
	strbuf_release(&msg);
	return slot->fd >= 0 ? slot->fd : CURL_SOCKET_BAD;
}

static int close_ssh(void *clientp, curl_socket_t fd)
{
	struct engine *e = clientp;

	for (int i = 0; i < ENGINE_SSH_SLOTS; i++) {
		if (e->ssh[i].fd == fd) {
			sshconn_close(&e->ssh[i]);
			return 0;
		}
	}
	return close(fd);
}

/* The reason an ssh connection gave, from the newest one that said anything. */
static void ssh_reason(struct engine *e, struct strbuf *out)
{
	for (int i = 0; i < ENGINE_SSH_SLOTS; i++) {
		size_t before = out->len;

		if (e->ssh[i].fd < 0 && e->ssh[i].errfd >= 0) {
			sshconn_reason(&e->ssh[i], out);
			if (out->len > before)
				return;
		}
	}
}

/* ---- one request ---- */

static size_t on_header(char *data, size_t size, size_t n, void *ctx)
{
	struct call *c = ctx;
	size_t len = size * n;
	static const char name[] = "api-version:";

	if (len > sizeof(name) - 1 && !strncasecmp(data, name, sizeof(name) - 1)) {
		const char *v = data + sizeof(name) - 1;
		size_t vlen = len - (sizeof(name) - 1);

		while (vlen && (*v == ' ' || *v == '\t'))
			v++, vlen--;
		while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
			vlen--;
		strbuf_reset(&c->e->header_api);
		if (strbuf_add(&c->e->header_api, v, vlen < 15 ? vlen : 15) < 0) {
			/* Unknown, the API version would be guessed: stop instead. */
			strbuf_addstr(c->err, "reading the engine's headers: out of memory");
			c->callback_failed = 1;
			return 0;
		}
	}
	return len;
}

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
	struct call *c = ctx;
	size_t len = size * n;

	if (!c->status)
		curl_easy_getinfo(c->e->curl, CURLINFO_RESPONSE_CODE, &c->status);
	if (c->status >= 300) {
		if (c->errbody.len < ERROR_BODY_MAX)
			strbuf_add(&c->errbody, data, len < ERROR_BODY_MAX ? len : ERROR_BODY_MAX);
		return len;
	}
	if (c->r->on_data && c->r->on_data(c->r->data_ctx, data, len) < 0) {
		c->callback_failed = 1;
		return 0;
	}
	return len;
}

static size_t on_read(char *buf, size_t size, size_t n, void *ctx)
{
	struct call *c = ctx;
	ssize_t got = c->r->read_body(c->r->body_ctx, buf, size * n);

	if (got < 0) {
		c->callback_failed = 1;
		return CURL_READFUNC_ABORT;
	}
	return (size_t)got;
}

/* The engine's error body is {"message": "..."}; else its text. */
static void error_message(struct call *c)
{
	json_t *j = json_parse(c->errbody.buf ? c->errbody.buf : "", c->errbody.len, 0, NULL);
	const char *m = json_string_value(json_object_get(j, "message"));
	struct strbuf text = STRBUF_INIT;

	if (m) {
		strbuf_addstr(&text, m);
	} else if (c->errbody.len) {
		strbuf_add(&text, c->errbody.buf, c->errbody.len);
		while (text.len && (text.buf[text.len - 1] == '\n' || text.buf[text.len - 1] == '\r'))
			text.buf[--text.len] = 0;
	} else {
		strbuf_addf(&text, "HTTP status %ld", c->status);
	}
	text_quote(c->err, strbuf_str(&text));
	strbuf_release(&text);
	json_decref(j);
}

/*
 * 1 when a unix socket at path takes a connection. libcurl reports a
 * connection it could not set up for lack of memory as refused, with a
 * stale errno; a socket that does accept tells the two apart.
 */
static int socket_accepts(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, ok;

	if (strlen(path) >= sizeof(sa.sun_path))
		return 0;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

static void transport_error(struct call *c, CURLcode rc, const char *curlmsg)
{
	struct engine *e = c->e;
	struct strbuf why = STRBUF_INIT;
	long oserr = 0;

	e->transport_failed = 1;
	curl_easy_getinfo(e->curl, CURLINFO_OS_ERRNO, &oserr);
	if (e->host.scheme == SCHEME_SSH)
		ssh_reason(e, &why);
	while (why.len && why.buf[why.len - 1] == '.')
		why.buf[--why.len] = 0;
	if (!why.len && rc == CURLE_COULDNT_CONNECT && e->host.scheme == SCHEME_UNIX &&
	    socket_accepts(e->host.address))
		strbuf_addf(&why, "libcurl could not connect to '%s', which accepts connections "
			    "(out of memory?)", e->host.address);
	if (!why.len && rc == CURLE_COULDNT_CONNECT && oserr)
		strbuf_addf(&why, "connect to '%s': %s", e->host.address, strerror((int)oserr));
	if (!why.len)
		strbuf_addstr(&why, *curlmsg ? curlmsg : curl_easy_strerror(rc));
	/* Headers came, then the stream broke: the engine was reached. */
	strbuf_addstr(c->err, c->status > 0 ? "lost the connection to " : "cannot reach ");
	engine_describe(e, c->err);
	strbuf_addf(c->err, ": %s", strbuf_str(&why));
	strbuf_release(&why);
}

static void set_transport(struct engine *e, struct strbuf *url, const struct engine_request *r)
{
	CURL *h = e->curl;
	const struct engine_host *host = &e->host;

	switch (host->scheme) {
	case SCHEME_UNIX:
		curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, host->address);
		strbuf_addstr(url, LOCAL_URL);
		break;
	case SCHEME_TCP:
		strbuf_addf(url, "%s://%s", host->tls ? "https" : "http", host->address);
		if (host->tls) {
			if (host->ca)
				curl_easy_setopt(h, CURLOPT_CAINFO, host->ca);
			if (host->cert)
				curl_easy_setopt(h, CURLOPT_SSLCERT, host->cert);
			if (host->key)
				curl_easy_setopt(h, CURLOPT_SSLKEY, host->key);
			curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, host->tls_verify ? 1L : 0L);
			curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, host->tls_verify ? 2L : 0L);
		}
		break;
	case SCHEME_SSH:
		/* curl talks to our private socket; each connection becomes an ssh process. */
		curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, e->ssh_path);
		strbuf_addstr(url, LOCAL_URL);
		curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_ssh);
		curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, e);
		curl_easy_setopt(h, CURLOPT_CLOSESOCKETFUNCTION, close_ssh);
		curl_easy_setopt(h, CURLOPT_CLOSESOCKETDATA, e);
		break;
	}
	if (!r->unversioned)
		strbuf_addf(url, "/v%s", e->api);
	strbuf_addstr(url, r->path);
}

/* Append s to *hl; a failure (the list is then left as it was) sets *failed. */
static void add_header(struct curl_slist **hl, const char *s, int *failed)
{
	struct curl_slist *n = *failed ? NULL : curl_slist_append(*hl, s);

	if (n)
		*hl = n;
	else
		*failed = 1;
}

/* The request's headers; *failed is set when one could not be added. */
static struct curl_slist *request_headers(const struct engine_request *r, int *failed)
{
	struct curl_slist *hl = NULL;
	struct strbuf line = STRBUF_INIT;

	if (r->content_type) {
		if (strbuf_addf(&line, "Content-Type: %s", r->content_type) < 0)
			*failed = 1;
		add_header(&hl, strbuf_str(&line), failed);
	}
	if (r->read_body) {
		add_header(&hl, "Transfer-Encoding: chunked", failed);
		add_header(&hl, "Expect:", failed);
	}
	for (const char *const *p = r->headers; p && *p; p++)
		add_header(&hl, *p, failed);
	strbuf_release(&line);
	return hl;
}

int engine_call(struct engine *e, const struct engine_request *r, struct strbuf *err)
{
	CURL *h = e->curl;
	struct call c = { .e = e, .r = r, .err = err, .err_len_before = err->len };
	struct strbuf url = STRBUF_INIT;
	struct curl_slist *hl;
	char curlmsg[CURL_ERROR_SIZE] = "";
	int no_memory = 0;
	CURLcode rc;

	e->transport_failed = 0;
	/* Reset keeps the connection cache: the same connection serves the next call. */
	curl_easy_reset(h);
	set_transport(e, &url, r);
	hl = request_headers(r, &no_memory);
	/*
	 * Never send a request with part of its URL or headers missing. On a
	 * local socket the request line is also given whole, as
	 * CURLOPT_REQUEST_TARGET: libcurl 7.88 sends a URL without its query
	 * when it cannot allocate a copy of it (so /images/get?names=… would
	 * export nothing, /build?t=… tag nothing). Not over tcp://, where a
	 * proxy may need the absolute URL.
	 */
	if (no_memory || url.toobig || curl_easy_setopt(h, CURLOPT_URL, strbuf_str(&url)) ||
	    (e->host.scheme != SCHEME_TCP &&
	     curl_easy_setopt(h, CURLOPT_REQUEST_TARGET,
			      strbuf_str(&url) + strlen(LOCAL_URL)))) {
		curl_slist_free_all(hl);
		strbuf_release(&url);
		strbuf_addf(err, "request to %s: out of memory", r->path);
		return -1;
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curlmsg);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (getenv("IMGVAULT_CURL_DEBUG"))
		curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
	/* Large buffers: exports and loads move hundreds of megabytes. */
	curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 512L * 1024);
	curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, 1024L * 1024);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "imgvault/" IMGVAULT_VERSION);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &c);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &c);
	if (!strcmp(r->method, "POST")) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		if (r->read_body) {
			curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
			curl_easy_setopt(h, CURLOPT_READDATA, &c);
		} else if (r->body) {
			curl_easy_setopt(h, CURLOPT_POSTFIELDS, r->body);
			curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
		} else {
			curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
			curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
		}
	} else if (!strcmp(r->method, "HEAD")) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (strcmp(r->method, "GET")) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
	}
	rc = curl_easy_perform(h);
	/* curlmsg lives on this stack frame only. */
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
	curl_slist_free_all(hl);
	strbuf_release(&url);
	if (!c.status)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &c.status);
	if (c.callback_failed) {
		if (err->len == c.err_len_before)
			strbuf_addstr(err, rc == CURLE_ABORTED_BY_CALLBACK || rc == CURLE_WRITE_ERROR
					   ? "transfer stopped" : curl_easy_strerror(rc));
		strbuf_release(&c.errbody);
		return -1;
	}
	if (rc != CURLE_OK) {
		transport_error(&c, rc, curlmsg);
		strbuf_release(&c.errbody);
		return -1;
	}
	if (c.status >= 300)
		error_message(&c);
	strbuf_release(&c.errbody);
	return (int)c.status;
}

/* ---- JSON answers and progress streams ---- */

struct collected {
	struct strbuf body;
	struct strbuf *err;
	const char *path;
};

static int collect(void *ctx, const char *data, size_t len)
{
	struct collected *c = ctx;

	if (strbuf_add(&c->body, data, len) == 0)
		return 0;
	if (len > JSON_BODY_MAX || c->body.len > JSON_BODY_MAX - len)
		strbuf_addf(c->err, "the engine's answer to %s is larger than %zu MiB", c->path,
			    JSON_BODY_MAX >> 20);
	else
		strbuf_addf(c->err, "reading the engine's answer to %s: out of memory", c->path);
	return -1;
}

int engine_get_json(struct engine *e, const char *path, json_t **out, struct strbuf *err)
{
	struct collected c = { .body = { .cap = JSON_BODY_MAX }, .err = err, .path = path };
	struct engine_request r = { .method = "GET", .path = path, .on_data = collect,
				    .data_ctx = &c };
	json_error_t jerr;
	int status = engine_call(e, &r, err);

	*out = NULL;
	if (status == 200) {
		*out = json_parse(c.body.buf ? c.body.buf : "", c.body.len, 0, &jerr);
		if (!*out && errno == ENOMEM) {
			strbuf_addf(err, "reading the engine's answer to %s: out of memory", path);
			status = -1;
		} else if (!*out) {
			strbuf_addf(err, "engine answered %s with invalid JSON: %s", path, jerr.text);
			status = -1;
		}
	}
	strbuf_release(&c.body);
	return status;
}

struct stream_call {
	struct jsonstream js;
	struct strbuf *err;
};

static int feed_stream(void *ctx, const char *data, size_t len)
{
	struct stream_call *s = ctx;

	return jsonstream_feed(&s->js, data, len, s->err);
}

int engine_stream(struct engine *e, const struct engine_request *r,
		  int (*on_message)(void *ctx, json_t *msg), void *ctx, struct strbuf *err)
{
	struct stream_call s = { .js = { .on_message = on_message, .ctx = ctx }, .err = err };
	struct engine_request rr = *r;
	int status, ret = -1;

	rr.on_data = feed_stream;
	rr.data_ctx = &s;
	status = engine_call(e, &rr, err);
	if (status >= 200 && status < 300) {
		if (jsonstream_finish(&s.js, err) == 0) {
			if (s.js.error)
				text_quote(err, s.js.error);
			else
				ret = 0;
		}
	} else if (status > 0 && !err->len) {
		strbuf_addf(err, "HTTP status %d", status);
	}
	jsonstream_release(&s.js);
	return ret;
}

/* ---- negotiation ---- */

/* "1.41" → 1041; 0 when not a version. */
static int api_number(const char *v)
{
	char *end;
	long major, minor;

	if (!v || !*v)
		return 0;
	major = strtol(v, &end, 10);
	if (*end != '.' || major < 1 || major > 9)
		return 0;
	minor = strtol(end + 1, &end, 10);
	if (*end || minor < 0 || minor > 999)
		return 0;
	return (int)(major * 1000 + minor);
}

static int ping(struct engine *e, struct strbuf *err)
{
	struct engine_request r = { .method = "GET", .path = "/_ping", .unversioned = 1 };
	struct strbuf why = STRBUF_INIT;
	int status = engine_call(e, &r, &why);

	if (status == 200) {
		strbuf_release(&why);
		return 0;
	}
	if (status < 0) {
		strbuf_addstr(err, strbuf_str(&why));
	} else {
		strbuf_addstr(err, "unexpected answer from ");
		engine_describe(e, err);
		strbuf_addf(err, " to /_ping: %s", strbuf_str(&why));
	}
	strbuf_release(&why);
	return -1;
}

static int negotiate(struct engine *e, struct strbuf *err)
{
	int server = api_number(strbuf_str(&e->header_api));
	int use = server;
	json_t *v = NULL;
	int status;

	if (server && server < api_number(ENGINE_API_MIN)) {
		engine_describe(e, err);
		strbuf_addf(err, " speaks API %s; imgvault needs %s (Engine 20.10) or newer",
			    strbuf_str(&e->header_api), ENGINE_API_MIN);
		return -1;
	}
	if (!server || server > api_number(ENGINE_API_MAX))
		use = api_number(ENGINE_API_MAX);
	snprintf(e->api, sizeof(e->api), "%d.%d", use / 1000, use % 1000);
	status = engine_get_json(e, "/version", &v, err);
	if (status != 200) {
		if (status > 0) {
			struct strbuf why = STRBUF_INIT;

			strbuf_addstr(&why, strbuf_str(err));
			strbuf_reset(err);
			strbuf_addstr(err, "unexpected answer from ");
			engine_describe(e, err);
			strbuf_addf(err, " to /version: %s", strbuf_str(&why));
			strbuf_release(&why);
		}
		json_decref(v);
		return -1;
	}
	json_decref(v);
	return 0;
}

int engine_open(struct engine *e, struct engine_host *host, const struct engine_options *opt,
		struct strbuf *err)
{
	CURLcode rc;

	memset(e, 0, sizeof(*e));
	e->host = *host;
	memset(host, 0, sizeof(*host));
	if (opt)
		e->opt = *opt;
	for (int i = 0; i < ENGINE_SSH_SLOTS; i++)
		e->ssh[i].fd = e->ssh[i].errfd = -1;
	e->ssh_listener = -1;
	snprintf(e->api, sizeof(e->api), "%s", ENGINE_API_MIN);
	if ((rc = curl_global_init(CURL_GLOBAL_DEFAULT)) != CURLE_OK || !(e->curl = curl_easy_init())) {
		strbuf_addf(err, "cannot start libcurl: %s",
			    rc != CURLE_OK ? curl_easy_strerror(rc) : "out of memory");
		return -1;
	}
	e->ssh_listener = -1;
	if (e->host.scheme == SCHEME_SSH &&
	    (e->ssh_listener = sshconn_listen(&e->ssh_path, err)) < 0)
		return -1;
	if (ping(e, err) < 0 || negotiate(e, err) < 0)
		return -1;
	return 0;
}

void engine_close(struct engine *e)
{
	if (e->curl)
		curl_easy_cleanup(e->curl);
	e->curl = NULL;
	for (int i = 0; i < ENGINE_SSH_SLOTS; i++)
		sshconn_free(&e->ssh[i]);
	sshconn_unlisten(e->ssh_listener, e->ssh_path);
	e->ssh_listener = -1;
	e->ssh_path = NULL;
	engine_host_free(&e->host);
	strbuf_release(&e->header_api);
}
