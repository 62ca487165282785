/*
 * test_store_layout: store/layout — archive file names and relative paths
 * from image references, the archive base folder's precedence
 * (--output-dir, IMAGE_ARCHIVE_DIR, the root's .env_<context>, the
 * default), the arch folder, and the manifest's timestamp format, one row
 * a case. Base rows run in a temporary root holding the env files below;
 * "@" in an expected path stands for that root.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "table.h"
#include "store/layout.h"

#define H64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define LONG100 "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"

struct name_case {
	const char *name;
	const char *project;	/* NULL: only the file name */
	const char *ref;
	enum layout_codec codec;
	const char *want;	/* NULL: an error containing err */
	const char *err;
};

static const struct name_case name_cases[] = {
	{ "tagged image", NULL, "traefik/whoami:v1.11.0", LAYOUT_GZIP, "traefik_whoami_v1.11.0.tar.gz", NULL },
	{ "zstd suffix", NULL, "traefik/whoami:v1.11.0", LAYOUT_ZSTD, "traefik_whoami_v1.11.0.tar.zst", NULL },
	{ "untagged image", NULL, "nginx", LAYOUT_GZIP, "nginx.tar.gz", NULL },
	{ "digest reference", NULL, "nginx@sha256:" H64, LAYOUT_GZIP, "nginx_sha256_" H64 ".tar.gz", NULL },
	{ "tag and digest", NULL, "ghcr.io/a/b:1@sha256:" H64, LAYOUT_GZIP,
	  "ghcr.io_a_b_1_sha256_" H64 ".tar.gz", NULL },
	{ "registry with a port", NULL, "localhost:5000/team/app:1.2", LAYOUT_ZSTD,
	  "localhost_5000_team_app_1.2.tar.zst", NULL },
	{ "built image name", NULL, "traefik-config:d-rymcg-tech-20261126", LAYOUT_GZIP,
	  "traefik-config_d-rymcg-tech-20261126.tar.gz", NULL },
	{ "other characters become _", NULL, "a b+c\xc3\xa9", LAYOUT_GZIP, "a_b_c__.tar.gz", NULL },
	{ "empty reference", NULL, "", LAYOUT_GZIP, NULL, "empty image reference" },
	{ "too long for a file name", NULL, LONG100 LONG100 "0123456789012345678901234567890123456789"
	  "0123456789", LAYOUT_GZIP, NULL, "too long for an archive file name" },
	{ "longest name that fits", NULL, LONG100 LONG100 "012345678901234567890123456789012345678901234567",
	  LAYOUT_GZIP, LONG100 LONG100 "012345678901234567890123456789012345678901234567.tar.gz", NULL },
	{ "relative path", "whoami", "traefik/whoami:v1.11.0", LAYOUT_GZIP,
	  "whoami/traefik_whoami_v1.11.0.tar.gz", NULL },
	{ "project with dots and dashes", "my.proj-2_x", "a:1", LAYOUT_ZSTD, "my.proj-2_x/a_1.tar.zst", NULL },
	{ "project with a space: its folder has '_'", "a b", "a:1", LAYOUT_GZIP, "a_b/a_1.tar.gz", NULL },
	{ "project with a newline and a tab", "new\nline\tx", "a:1", LAYOUT_GZIP, "new_line_x/a_1.tar.gz", NULL },
	{ "project with shell characters", "a;touch x$(y)`z`", "a:1", LAYOUT_GZIP, "a_touch_x__y__z_/a_1.tar.gz", NULL },
	{ "project with UTF-8", "caf\xc3\xa9", "a:1", LAYOUT_ZSTD, "caf__/a_1.tar.zst", NULL },
	{ "project with a slash stays one folder", "a/b", "a:1", LAYOUT_GZIP, "a_b/a_1.tar.gz", NULL },
	{ "project ../x stays one folder", "../x", "a:1", LAYOUT_GZIP, ".._x/a_1.tar.gz", NULL },
	{ "project ..", "..", "a:1", LAYOUT_GZIP, NULL, "project '..' cannot be a folder name" },
	{ "project .", ".", "a:1", LAYOUT_GZIP, NULL, "cannot be a folder name" },
	{ "empty project", "", "a:1", LAYOUT_GZIP, NULL, "cannot be a folder name" },
};

static void check_name(void **state)
{
	const struct name_case *c = *state;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	int r = c->project ? layout_rel_path(c->project, c->ref, c->codec, &out, &err)
			   : layout_file_name(c->ref, c->codec, &out, &err);

	if (c->want) {
		if (r != 0)
			fail_msg("%s", strbuf_str(&err));
		assert_string_equal(strbuf_str(&out), c->want);
	} else {
		assert_int_equal(r, -1);
		if (!strstr(strbuf_str(&err), c->err))
			fail_msg("error \"%s\" does not contain \"%s\"", strbuf_str(&err), c->err);
	}
	strbuf_release(&out);
	strbuf_release(&err);
}

static char root[] = "/tmp/imgvault-test-layout.XXXXXX";

static const char *const env_files[][2] = {
	{ ".env_ctx", "# archive here\nIMAGE_ARCHIVE_DIR=/from/envfile\n" },
	{ ".env_rel", "IMAGE_ARCHIVE_DIR=rel/dir\n" },
	{ ".env_interp", "BASE=/b\nexport IMAGE_ARCHIVE_DIR=\"${BASE}/imgs\" # c\n" },
	{ ".env_empty", "IMAGE_ARCHIVE_DIR=\n" },
	{ ".env_other", "OTHER=1\n" },
	{ ".env_bad", "A=1\nB='unterminated\n" },
	{ ".env_latin1", "IMAGE_ARCHIVE_DIR=/caf\xe9\n" },
};

struct base_case {
	const char *name;
	const char *output_dir;
	const char *env;
	const char *context;
	const char *want;	/* "@" at the start stands for the root; NULL: error */
	const char *err;
};

static const struct base_case base_cases[] = {
	{ "--output-dir wins over everything", "/o", "/e", "ctx", "/o", NULL },
	{ "env wins over the env file", NULL, "/e", "ctx", "/e", NULL },
	{ "the env file's value", NULL, NULL, "ctx", "/from/envfile", NULL },
	{ "an empty --output-dir and env count as unset", "", "", "ctx", "/from/envfile", NULL },
	{ "a relative env-file value is taken from the root", NULL, NULL, "rel", "@/rel/dir", NULL },
	{ "the env file interpolates", NULL, NULL, "interp", "/b/imgs", NULL },
	{ "an empty env-file value is the default", NULL, NULL, "empty", "@/_archive/images", NULL },
	{ "an env file without the key is the default", NULL, NULL, "other", "@/_archive/images", NULL },
	{ "a missing env file is the default", NULL, NULL, "nofile", "@/_archive/images", NULL },
	{ "no context is the default", NULL, NULL, NULL, "@/_archive/images", NULL },
	{ "--output-dir is normalised", "/o//x/../y/", NULL, NULL, "/o/y", NULL },
	{ "a relative --output-dir is taken from the current folder", "out", NULL, NULL, "@/out", NULL },
	{ "a relative env is taken from the current folder", NULL, "e/../f", "ctx", "@/f", NULL },
	{ "an env file that does not parse", NULL, NULL, "bad", NULL, "/.env_bad:2: unterminated" },
	{ "an env file that is not UTF-8", NULL, NULL, "latin1", NULL, "/.env_latin1:1:23: not valid UTF-8" },
	{ "a context name with a slash", NULL, NULL, "../x", NULL,
	  "docker context name '../x' cannot name an env file" },
};

static void check_base(void **state)
{
	const struct base_case *c = *state;
	struct layout_base_in in = { c->output_dir, c->env, root, c->context };
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT, want = STRBUF_INIT;
	int r = layout_base_dir(&in, &out, &err);

	if (c->want) {
		if (c->want[0] == '@')
			strbuf_addf(&want, "%s%s", root, c->want + 1);
		else
			strbuf_addstr(&want, c->want);
		if (r != 0)
			fail_msg("%s", strbuf_str(&err));
		assert_string_equal(strbuf_str(&out), want.buf);
	} else {
		assert_int_equal(r, -1);
		if (!strstr(strbuf_str(&err), c->err))
			fail_msg("error \"%s\" does not contain \"%s\"", strbuf_str(&err), c->err);
	}
	strbuf_release(&out);
	strbuf_release(&err);
	strbuf_release(&want);
}

struct arch_case {
	const char *name;
	const char *base, *arch, *want;
};

static const struct arch_case arch_cases[] = {
	{ "x86_64", "/a/images", "x86_64", "/a/images/x86_64" },
	{ "aarch64 under a trailing slash", "/a/images/", "aarch64", "/a/images/aarch64" },
	{ "an arch that climbs out", "/a", "..", NULL },
	{ "an arch with a slash", "/a", "x/../../etc", NULL },
	{ "an empty arch", "/a", "", NULL },
};

static void check_arch(void **state)
{
	const struct arch_case *c = *state;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	int r = layout_arch_dir(c->base, c->arch, &out, &err);

	if (c->want) {
		assert_int_equal(r, 0);
		assert_string_equal(strbuf_str(&out), c->want);
	} else {
		assert_int_equal(r, -1);
		assert_non_null(strstr(strbuf_str(&err), "architecture '"));
	}
	strbuf_release(&out);
	strbuf_release(&err);
}

struct time_case {
	const char *name;
	const char *tz;
	time_t t;
	const char *want;
};

static const struct time_case time_cases[] = {
	{ "UTC", "UTC0", 1795719600, "2026-11-26T19:00:00+00:00" },
	{ "west of UTC in winter", "EST5EDT,M3.2.0,M11.1.0", 1795719600, "2026-11-26T14:00:00-05:00" },
	{ "west of UTC in summer", "EST5EDT,M3.2.0,M11.1.0", 1780315200, "2026-06-01T08:00:00-04:00" },
	{ "half-hour offset", "IST-5:30", 1795719600, "2026-11-27T00:30:00+05:30" },
	{ "offset with seconds", "LMT-0:30:15", 1795719600, "2026-11-26T19:30:15+00:30:15" },
	{ "the epoch", "UTC0", 0, "1970-01-01T00:00:00+00:00" },
};

static void check_time(void **state)
{
	const struct time_case *c = *state;
	struct strbuf out = STRBUF_INIT;

	setenv("TZ", c->tz, 1);
	tzset();
	assert_int_equal(layout_timestamp(c->t, &out), 0);
	assert_string_equal(strbuf_str(&out), c->want);
	strbuf_release(&out);
}

static int make_root(void)
{
	if (!mkdtemp(root) || chdir(root) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(env_files) / sizeof(env_files[0]); i++) {
		FILE *f = fopen(env_files[i][0], "w");

		if (!f || fputs(env_files[i][1], f) < 0 || fclose(f) != 0)
			return -1;
	}
	return 0;
}

static void remove_root(void)
{
	for (size_t i = 0; i < sizeof(env_files) / sizeof(env_files[0]); i++)
		unlink(env_files[i][0]);
	if (chdir("/") == 0)
		rmdir(root);
}

int main(void)
{
	int failed;

	if (make_root() < 0) {
		perror(root);
		return 1;
	}
	failed = TABLE_RUN("layout names", name_cases, check_name);
	failed += TABLE_RUN("layout_base_dir", base_cases, check_base);
	failed += TABLE_RUN("layout_arch_dir", arch_cases, check_arch);
	failed += TABLE_RUN("layout_timestamp", time_cases, check_time);
	remove_root();
	return failed;
}
