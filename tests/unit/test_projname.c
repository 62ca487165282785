/*
 * test_projname: Compose's project name normalisation (lowercase, keep only
 * [a-z0-9_-], then trim leading '_' and '-', as compose-go's
 * NormalizeProjectName does) and which build contexts count as remote.
 * One row a case.
 */
#include "table.h"

#include "catalog/compose.h"

struct name_case {
	const char *name;
	const char *in;
	const char *want;
};

static const struct name_case name_cases[] = {
	{ "space dropped, lowercased", "My App", "myapp" },
	{ "leading underscore trimmed", "_x", "x" },
	{ "leading dashes trimmed, inner underscore kept", "--a_b", "a_b" },
	{ "dot dropped", "Foo.Bar", "foobar" },
	{ "non-ascii bytes dropped", "\xc3\x84" "BC", "bc" },
	{ "digits only", "123", "123" },
	{ "empty stays empty", "", "" },
	{ "already normal", "whoami", "whoami" },
	{ "inner and trailing separators kept", "a-_b_", "a-_b_" },
	{ "only separators becomes empty", "-_-", "" },
	{ "dotted folder name", "d.rymcg.tech", "drymcgtech" },
	{ "drop happens before trim", " ._a", "a" },
	{ "leading digit kept after trim", "_-9lives", "9lives" },
	{ "upper case with separators", "A_B-C", "a_b-c" },
};

static void test_name(void **state)
{
	const struct name_case *c = *state;
	struct strbuf out = STRBUF_INIT;

	assert_int_equal(compose_project_name(c->in, &out), 0);
	assert_string_equal(strbuf_str(&out), c->want);
	strbuf_release(&out);
}

struct remote_case {
	const char *name;
	const char *context;
	int remote;
};

static const struct remote_case remote_cases[] = {
	{ "https git url with ref", "https://github.com/a/b.git#main", 1 },
	{ "http tarball", "http://x/y.tar.gz", 1 },
	{ "git scheme", "git://h/r", 1 },
	{ "ssh scheme", "ssh://git@h/r", 1 },
	{ "scp-like git address", "git@github.com:a/b.git", 1 },
	{ "github shorthand", "github.com/a/b", 1 },
	{ "current folder", ".", 0 },
	{ "relative folder", "./app", 0 },
	{ "absolute path", "/abs/path", 0 },
	{ "parent folder", "../up", 0 },
	{ "plain folder name", "app", 0 },
	{ "folder named like a host", "./github.com/a", 0 },
	{ "folder starting with http", "httpd", 0 },
	{ "empty", "", 0 },
};

static void test_remote(void **state)
{
	const struct remote_case *c = *state;

	assert_int_equal(!!compose_context_is_remote(c->context), c->remote);
}

int main(void)
{
	int failed = 0;

	failed |= TABLE_RUN("compose_project_name", name_cases, test_name);
	failed |= TABLE_RUN("compose_context_is_remote", remote_cases, test_remote);
	return failed;
}
