/*
 * test_host: which engine imgvault talks to — -H, DOCKER_HOST,
 * DOCKER_CONTEXT, config.json's currentContext, the default socket — and
 * how host URLs split, one row a case. Contexts live in a temporary
 * DOCKER_CONFIG folder made for the run.
 */
#include <ftw.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "table.h"
#include "engine/host.h"

static char config[256];

struct host_case {
	const char *name;
	const char *flag, *docker_host, *docker_context, *tls_verify;
	const char *current;		/* currentContext written to config.json, or NULL */
	const char *url;		/* expected URL, NULL when an error is expected */
	enum host_scheme scheme;
	const char *address, *ssh_port;
	enum host_source source;
	int tls;
	const char *error;		/* substring of the error */
};

static const struct host_case cases[] = {
	{ .name = "nothing set: the default socket", .url = "unix:///var/run/docker.sock",
	  .scheme = SCHEME_UNIX, .address = "/var/run/docker.sock", .source = HOST_FROM_DEFAULT },
	{ .name = "-H beats everything", .flag = "unix:///tmp/flag.sock", .docker_host = "tcp://h:1",
	  .docker_context = "remote", .url = "unix:///tmp/flag.sock", .scheme = SCHEME_UNIX,
	  .address = "/tmp/flag.sock", .source = HOST_FROM_FLAG },
	{ .name = "DOCKER_HOST beats DOCKER_CONTEXT", .docker_host = "tcp://10.0.0.1:2375",
	  .docker_context = "remote", .url = "tcp://10.0.0.1:2375", .scheme = SCHEME_TCP,
	  .address = "10.0.0.1:2375", .source = HOST_FROM_ENV },
	{ .name = "tcp without a port takes 2375", .docker_host = "tcp://engine",
	  .url = "tcp://engine", .scheme = SCHEME_TCP, .address = "engine:2375", .source = HOST_FROM_ENV },
	{ .name = "tcp with DOCKER_TLS_VERIFY takes 2376 and TLS", .docker_host = "tcp://engine",
	  .tls_verify = "1", .url = "tcp://engine", .scheme = SCHEME_TCP, .address = "engine:2376",
	  .source = HOST_FROM_ENV, .tls = 1 },
	{ .name = "ssh with user and port", .docker_host = "ssh://root@127.0.0.1:2222",
	  .url = "ssh://root@127.0.0.1:2222", .scheme = SCHEME_SSH, .address = "root@127.0.0.1",
	  .ssh_port = "2222", .source = HOST_FROM_ENV },
	{ .name = "ssh with a host only", .docker_host = "ssh://box", .url = "ssh://box",
	  .scheme = SCHEME_SSH, .address = "box", .source = HOST_FROM_ENV },
	{ .name = "ssh with a bad port is refused", .docker_host = "ssh://box:x", .error = "invalid ssh port" },
	{ .name = "an unknown scheme is refused", .docker_host = "npipe:////./pipe/docker",
	  .error = "unsupported address" },
	{ .name = "DOCKER_CONTEXT names a context with its endpoint", .docker_context = "remote",
	  .current = "other", .url = "ssh://deploy@server", .scheme = SCHEME_SSH,
	  .address = "deploy@server", .source = HOST_FROM_CONTEXT_ENV },
	{ .name = "currentContext in config.json", .current = "remote", .url = "ssh://deploy@server",
	  .scheme = SCHEME_SSH, .address = "deploy@server", .source = HOST_FROM_CONTEXT_CONFIG },
	{ .name = "context default is the default socket", .docker_context = "default",
	  .url = "unix:///var/run/docker.sock", .scheme = SCHEME_UNIX,
	  .address = "/var/run/docker.sock", .source = HOST_FROM_CONTEXT_ENV },
	{ .name = "a context with TLS files uses TLS", .docker_context = "secure",
	  .url = "tcp://secure.example:2376", .scheme = SCHEME_TCP, .address = "secure.example:2376",
	  .source = HOST_FROM_CONTEXT_ENV, .tls = 1 },
	{ .name = "an unknown context is an error naming it", .docker_context = "nope",
	  .error = "context 'nope'" },
};

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* contexts/meta/<sha256(name)>/meta.json, and TLS files when asked. */
static void make_context(const char *name, const char *host, int tls)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	char hex[65], path[512], json[512];

	SHA256((const unsigned char *)name, strlen(name), md);
	for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	snprintf(path, sizeof(path), "%s/contexts", config);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/contexts/meta", config);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/contexts/meta/%s", config, hex);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/contexts/meta/%s/meta.json", config, hex);
	snprintf(json, sizeof(json),
		 "{\"Name\":\"%s\",\"Metadata\":{},\"Endpoints\":{\"docker\":{\"Host\":\"%s\","
		 "\"SkipTLSVerify\":false}}}", name, host);
	write_file(path, json);
	if (!tls)
		return;
	snprintf(path, sizeof(path), "%s/contexts/tls", config);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/contexts/tls/%s", config, hex);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/contexts/tls/%s/docker", config, hex);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/contexts/tls/%s/docker/ca.pem", config, hex);
	write_file(path, "-----BEGIN CERTIFICATE-----\n");
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

static void check_row(void **state)
{
	const struct host_case *c = *state;
	struct host_env env = { c->docker_host, c->docker_context, config, "/nonexistent",
				c->tls_verify, NULL };
	struct engine_host h;
	struct strbuf err = STRBUF_INIT;
	char path[512];
	int r;

	snprintf(path, sizeof(path), "%s/config.json", config);
	unlink(path);
	if (c->current) {
		char json[256];

		snprintf(json, sizeof(json), "{\"currentContext\":\"%s\"}", c->current);
		write_file(path, json);
	}
	r = engine_host_resolve(&h, c->flag, &env, &err);
	if (!c->url) {
		assert_int_equal(r, -1);
		assert_non_null(strstr(strbuf_str(&err), c->error));
		strbuf_release(&err);
		return;
	}
	if (r != 0)
		fail_msg("unexpected error: %s", strbuf_str(&err));
	assert_string_equal(h.url, c->url);
	assert_int_equal(h.scheme, c->scheme);
	assert_string_equal(h.address, c->address);
	if (c->ssh_port)
		assert_string_equal(h.ssh_port, c->ssh_port);
	else
		assert_null(h.ssh_port);
	assert_int_equal(h.source, c->source);
	assert_int_equal(h.tls, c->tls);
	engine_host_free(&h);
	strbuf_release(&err);
}

int main(void)
{
	char tmpl[] = "/tmp/imgvault-host-XXXXXX";
	int failed;

	if (!mkdtemp(tmpl))
		return 1;
	snprintf(config, sizeof(config), "%s", tmpl);
	make_context("remote", "ssh://deploy@server", 0);
	make_context("secure", "tcp://secure.example:2376", 1);
	failed = TABLE_RUN("engine host", cases, check_row);
	if (nftw(tmpl, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
		failed = 1;
	return failed;
}
