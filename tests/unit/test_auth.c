/*
 * test_auth: registry credentials from config.json's `auths` and the
 * base64url headers the engine wants, one row a case. config.json lives in
 * a temporary DOCKER_CONFIG folder made for the run.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "table.h"
#include "engine/auth.h"

static char dir[] = "/tmp/imgvault-test-auth.XXXXXX";

struct lookup_case {
	const char *name;
	const char *config;		/* config.json text, NULL: no file */
	const char *registry;
	int want;			/* auth_lookup's return */
	const char *user, *password, *token, *server, *error;
};

#define HUB "{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"aHViOnB3\"}}}"

static const struct lookup_case lookups[] = {
	{ .name = "no config file: no credentials", .registry = "docker.io" },
	{ .name = "no auths: no credentials", .config = "{}", .registry = "127.0.0.1:5000" },
	{ .name = "a plain registry key",
	  .config = "{\"auths\":{\"127.0.0.1:5000\":{\"auth\":\"dTpwOnc=\"}}}",
	  .registry = "127.0.0.1:5000", .want = 1, .user = "u", .password = "p:w",
	  .server = "127.0.0.1:5000" },
	{ .name = "a key with a scheme and a path matches the host",
	  .config = "{\"auths\":{\"https://reg.example:5000/v2/\":{\"auth\":\"YTpi\"}}}",
	  .registry = "reg.example:5000", .want = 1, .user = "a", .password = "b",
	  .server = "https://reg.example:5000/v2/" },
	{ .name = "docker.io uses the index key", .config = HUB, .registry = "docker.io", .want = 1,
	  .user = "hub", .password = "pw", .server = "https://index.docker.io/v1/" },
	{ .name = "another registry does not match", .config = HUB, .registry = "ghcr.io" },
	{ .name = "a port makes another registry",
	  .config = "{\"auths\":{\"r.example\":{\"auth\":\"YTpi\"}}}",
	  .registry = "r.example:5000" },
	{ .name = "an identity token is kept",
	  .config = "{\"auths\":{\"r.example\":{\"identitytoken\":\"tok\"}}}",
	  .registry = "r.example", .want = 1, .token = "tok", .server = "r.example" },
	{ .name = "separate username and password fields",
	  .config = "{\"auths\":{\"r.example\":{\"username\":\"x\",\"password\":\"y\"}}}",
	  .registry = "r.example", .want = 1, .user = "x", .password = "y", .server = "r.example" },
	{ .name = "an empty entry is no credentials",
	  .config = "{\"auths\":{\"r.example\":{}}}", .registry = "r.example" },
	{ .name = "auth without a colon is an error",
	  .config = "{\"auths\":{\"r.example\":{\"auth\":\"bm9jb2xvbg==\"}}}",
	  .registry = "r.example", .want = -1, .error = "not base64 of user:password" },
	{ .name = "invalid JSON names the file", .config = "{\"auths\":", .registry = "r.example",
	  .want = -1, .error = "config.json':1:" },
};

static void write_config(const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/config.json", dir);
	unlink(path);
	if (!text)
		return;
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void str_is(const char *got, const char *want)
{
	if (!want)
		assert_null(got);
	else
		assert_string_equal(got, want);
}

static void check_lookup(void **state)
{
	const struct lookup_case *c = *state;
	struct host_env env = { .docker_config = dir };
	struct registry_auth a;
	struct strbuf err = STRBUF_INIT;
	int r;

	write_config(c->config);
	r = auth_lookup(&env, c->registry, &a, &err);
	assert_int_equal(r, c->want);
	if (r > 0) {
		str_is(a.username, c->user);
		str_is(a.password, c->password);
		str_is(a.identitytoken, c->token);
		str_is(a.serveraddress, c->server);
	}
	if (c->error)
		assert_non_null(strstr(strbuf_str(&err), c->error));
	auth_free(&a);
	strbuf_release(&err);
}

struct b64_case {
	const char *name, *in, *out;
};

static const struct b64_case b64s[] = {
	{ "empty", "", "" },
	{ "one byte pads twice", "f", "Zg==" },
	{ "two bytes pad once", "fo", "Zm8=" },
	{ "three bytes, no padding", "foo", "Zm9v" },
	{ "'+' and '/' become '-' and '_'", "\xfb\xff\xbf", "-_-_" },
	{ "an empty auth object", "{}", "e30=" },
};

static void check_b64(void **state)
{
	const struct b64_case *c = *state;
	struct strbuf out = STRBUF_INIT;

	assert_int_equal(base64url_encode(c->in, strlen(c->in), &out), 0);
	assert_string_equal(strbuf_str(&out), c->out);
	strbuf_release(&out);
}

struct header_case {
	const char *name;
	const char *user, *password, *server;
	const char *want;
};

static const struct header_case headers[] = {
	{ "no credentials send {}", NULL, NULL, NULL, "X-Registry-Auth: e30=" },
	/* {"username":"u","password":"p","serveraddress":"r"} */
	{ "user, password and server", "u", "p", "r",
	  "X-Registry-Auth: eyJ1c2VybmFtZSI6InUiLCJwYXNzd29yZCI6InAiLCJzZXJ2ZXJhZGRyZXNzIjoiciJ9" },
};

static void check_header(void **state)
{
	const struct header_case *c = *state;
	struct registry_auth a = { .username = (char *)c->user, .password = (char *)c->password,
				   .serveraddress = (char *)c->server };
	struct strbuf out = STRBUF_INIT;

	assert_int_equal(auth_header(c->user ? &a : NULL, &out), 0);
	assert_string_equal(strbuf_str(&out), c->want);
	strbuf_release(&out);
}

int main(void)
{
	int failed;
	char path[512];

	if (!mkdtemp(dir))
		return 1;
	failed = TABLE_RUN("registry credentials", lookups, check_lookup);
	failed += TABLE_RUN("base64url", b64s, check_b64);
	failed += TABLE_RUN("X-Registry-Auth", headers, check_header);
	snprintf(path, sizeof(path), "%s/config.json", dir);
	unlink(path);
	rmdir(dir);
	return failed;
}
