/*
 * test_dockerignore: table-driven tests for engine/dockerignore.
 * Expectations follow the docker CLI's ignorefile.ReadAll and
 * moby/patternmatcher's MatchesOrParentMatches, except where
 * dockerignore.h says this module deliberately differs. Each row parses
 * one .dockerignore text and asks whether one path is excluded, or
 * expects the parse to fail on a given line.
 */
#include "table.h"

#include <stdio.h>
#include <string.h>

#include "engine/dockerignore.h"
#include "util/strbuf.h"

struct ignore_case {
	const char *name;
	const char *text;
	const char *path;
	int excluded;
	size_t err_line;	/* 0: the parse must succeed */
	const char *err;	/* substring of the error message, or NULL */
};

#define EXCLUDED(n, t, p) { .name = (n), .text = (t), .path = (p), .excluded = 1 }
#define KEPT(n, t, p) { .name = (n), .text = (t), .path = (p), .excluded = 0 }
#define ERROR(n, t, line, e) { .name = (n), .text = (t), .err_line = (line), .err = (e) }

static const struct ignore_case cases[] = {
	/* Lines */
	KEPT("no patterns exclude nothing", "", "a"),
	EXCLUDED("a plain name", "foo\n", "foo"),
	KEPT("a plain name is not a prefix", "foo\n", "foobar"),
	KEPT("comment lines are skipped", "# foo\nbar\n", "foo"),
	EXCLUDED("a line after a comment still counts", "# foo\nbar\n", "bar"),
	EXCLUDED("'#' is a comment only in the first column", "  #foo\n", "#foo"),
	EXCLUDED("'#' later in a line is part of the pattern", "a#b\n", "a#b"),
	EXCLUDED("surrounding blanks are trimmed", "  \tfoo \t \n", "foo"),
	EXCLUDED("unicode blanks are trimmed too", "\xC2\xA0" "foo\xE3\x80\x80\n", "foo"),
	EXCLUDED("blank lines are skipped", "\n\n   \n\t\nfoo", "foo"),
	EXCLUDED("CRLF line ends", "foo\r\nbar\r\n", "bar"),
	EXCLUDED("last line without a newline", "a\nfoo", "foo"),
	EXCLUDED("byte order mark is skipped", "\xEF\xBB\xBF" "foo\n", "foo"),
	KEPT("byte order mark hides no comment", "\xEF\xBB\xBF#foo\n", "#foo"),
	EXCLUDED("a trailing slash is cleaned away", "foo/\n", "foo"),

	/* Exceptions and order */
	KEPT("exception re-includes", "*.md\n!README.md\n", "README.md"),
	EXCLUDED("exception leaves the others excluded", "*.md\n!README.md\n", "CHANGES.md"),
	EXCLUDED("the last matching pattern wins", "!README.md\n*.md\n", "README.md"),
	EXCLUDED("exclude, except, exclude again", "*\n!foo\nfoo\n", "foo"),
	KEPT("blank after '!' is trimmed", "*\n!  foo\n", "foo"),
	KEPT("exception inside an excluded folder", "docs\n!docs/keep.md\n", "docs/keep.md"),
	EXCLUDED("the rest of that folder stays out", "docs\n!docs/keep.md\n", "docs/other.md"),
	EXCLUDED("the folder itself stays out", "docs\n!docs/keep.md\n", "docs"),
	KEPT("exception for a folder keeps what is inside", "*\n!src\n", "src/a/b.c"),
	KEPT("an exception alone excludes nothing", "!foo\n", "bar"),

	/* Parent folders */
	EXCLUDED("a folder excludes what is inside", "foo\n", "foo/bar/baz"),
	EXCLUDED("a nested folder excludes what is inside", "foo/bar\n", "foo/bar/baz"),
	KEPT("a nested pattern does not exclude its parent", "foo/bar\n", "foo"),
	KEPT("patterns are anchored at the root", "a\n", "b/a"),
	EXCLUDED("a wildcard folder excludes what is inside", "*/b\n", "a/b/c"),
	EXCLUDED("star alone excludes everything through parents", "*\n", "a/b/c"),

	/* * and ? */
	KEPT("star stays in one folder", "*.go\n", "a/b.go"),
	EXCLUDED("star matches at the root", "*.go\n", "b.go"),
	EXCLUDED("star matches nothing", "a*b\n", "ab"),
	KEPT("star does not cross a slash", "a*b\n", "a/b"),
	EXCLUDED("several stars", "*a*b*\n", "xaybz"),
	EXCLUDED("question mark is one character", "?\n", "a"),
	KEPT("question mark is not two", "?\n", "ab"),
	KEPT("question mark is not a slash", "a?c\n", "a/c"),
	EXCLUDED("question mark is one UTF-8 character", "caf?\n", "caf\xC3\xA9"),
	KEPT("two question marks are not one UTF-8 character", "caf??\n", "caf\xC3\xA9"),

	/* ** */
	EXCLUDED("double star alone excludes everything", "**\n", "a/b/c"),
	EXCLUDED("leading double star at the root", "**/*.go\n", "a.go"),
	EXCLUDED("leading double star deep", "**/*.go\n", "x/y/a.go"),
	KEPT("leading double star keeps the rest of the pattern", "**/*.go\n", "x/y/a.txt"),
	EXCLUDED("leading double star and a name at the root", "**/foo\n", "foo"),
	EXCLUDED("leading double star and a name deep", "**/foo\n", "x/y/foo"),
	KEPT("leading double star needs a whole name", "**/foo\n", "x/barfoo"),
	EXCLUDED("leading double star excludes inside the match", "**/foo\n", "x/foo/y"),
	EXCLUDED("middle double star spans nothing", "a/**/b\n", "a/b"),
	EXCLUDED("middle double star spans folders", "a/**/b\n", "a/x/y/b"),
	KEPT("middle double star needs the slash", "a/**/b\n", "a/xb"),
	EXCLUDED("trailing double star takes what is inside", "a/**\n", "a/x/y"),
	KEPT("trailing double star does not take the folder", "a/**\n", "a"),
	KEPT("trailing double star needs the slash", "a/**\n", "ab"),
	EXCLUDED("trailing double star glued to a name is a prefix", "a**\n", "ab/c"),
	EXCLUDED("double stars in a row", "**/**/c\n", "a/b/c"),
	EXCLUDED("double stars in a row match at the root", "**/**/c\n", "c"),
	KEPT("double star between names needs a slash", "a**b\n", "axb"),
	EXCLUDED("double star between names spans folders", "a**b\n", "ax/y/b"),
	EXCLUDED("leading double star glued to plain text is a suffix", "**.md\n", "a/README.md"),
	EXCLUDED("glued double star suffix at the root", "**foo\n", "barfoo"),
	KEPT("glued double star with a wildcard after is no suffix", "**.m?\n", "x.md"),
	EXCLUDED("glued double star with a wildcard after matches at a slash", "**.m?\n", "x/.md"),
	EXCLUDED("three stars", "***\n", "a/b"),
	KEPT("double star and exception", "**/*.log\n!keep/**\n", "keep/a/b.log"),

	/* Classes */
	EXCLUDED("class member", "[abc].txt\n", "b.txt"),
	KEPT("class non-member", "[abc].txt\n", "d.txt"),
	EXCLUDED("class range", "[a-c]x\n", "bx"),
	EXCLUDED("negated class", "[^a-c]x\n", "dx"),
	KEPT("negated class non-member", "[^a-c]x\n", "ax"),
	EXCLUDED("'!' does not negate a class, as in Go", "[!a]x\n", "!x"),
	KEPT("'!' in a class is a member", "[!a]x\n", "bx"),
	EXCLUDED("escaped bracket in a class", "[\\]]\n", "]"),
	EXCLUDED("UTF-8 class member", "[\xC3\xA9]\n", "\xC3\xA9"),
	EXCLUDED("UTF-8 class range", "[\xC3\xA0-\xC3\xBF]x\n", "\xC3\xA9x"),
	EXCLUDED("star in a class is literal", "[*]\n", "*"),
	KEPT("star in a class is only a star", "[*]\n", "a"),
	EXCLUDED("a class can hold a slash", "a[/]b\n", "a/b/c"),
	EXCLUDED("several ranges", "[a-cx-z0-9]\n", "5"),

	/* Escapes */
	EXCLUDED("escaped star", "\\*\n", "*"),
	KEPT("escaped star is no wildcard", "\\*\n", "a"),
	EXCLUDED("escaped question mark", "a\\?b\n", "a?b"),
	KEPT("escaped question mark is no wildcard", "a\\?b\n", "axb"),
	EXCLUDED("escaped bracket", "\\[x]\n", "[x]"),
	EXCLUDED("escaped plain letter", "\\d\n", "d"),
	EXCLUDED("escaped backslash", "a\\\\b\n", "a\\b"),

	/* Cleaning */
	EXCLUDED("leading slash is dropped", "/foo\n", "foo"),
	KEPT("leading slash anchors at the root", "/foo\n", "a/foo"),
	KEPT("leading slash after '!'", "*\n!/foo\n", "foo"),
	KEPT("a lone slash excludes nothing", "/\n", "foo"),
	EXCLUDED("repeated slashes collapse", "//foo//bar//\n", "foo/bar"),
	EXCLUDED("leading ./ is dropped", "./foo\n", "foo"),
	EXCLUDED("inner ./ is dropped", "foo/./bar\n", "foo/bar"),
	EXCLUDED(".. resolves", "foo/../bar\n", "bar"),
	KEPT(".. resolved away", "foo/../bar\n", "foo"),
	KEPT("leading .. stays and matches nothing", "../foo\n", "foo"),
	KEPT("a pattern cleaned to '.' matches nothing", "foo/..\n", "foo"),
	EXCLUDED("blanks exposed by cleaning are trimmed", "x/../ a\n", "a"),

	/* Errors */
	ERROR("lone '!' is an error", "a\n!\n", 2, "illegal exclusion pattern: \"!\""),
	ERROR("'!' and blanks is an error", "!   \n", 1, "illegal exclusion pattern"),
	ERROR("'!' and a slash is an error, as in moby", "!/\n", 1, "illegal exclusion pattern"),
	ERROR("unterminated class", "a\nb\n[ab\n", 3, "unterminated '['"),
	ERROR("lone bracket", "[\n", 1, "unterminated '['"),
	ERROR("empty class", "[]\n", 1, "malformed"),
	ERROR("empty negated class", "[^]\n", 1, "malformed"),
	ERROR("range without an end", "[a-]\n", 1, "malformed"),
	ERROR("range without a start", "[-a]\n", 1, "malformed"),
	ERROR("reversed range", "[z-a]\n", 1, "reversed range"),
	ERROR("escape at the end of a class", "[a\\\n", 1, "unterminated '['"),
	ERROR("invalid UTF-8 in a class", "[\xFF]\n", 1, "invalid UTF-8"),
	ERROR("trailing backslash", "# c\nfoo\\\n", 2, "trailing '\\'"),
	ERROR("an exception is checked too", "![\n", 1, "unterminated '['"),
	KEPT("a bad pattern in a comment is fine", "#[\n", "x"),
};

static void test_ignore(void **state)
{
	const struct ignore_case *c = *state;
	struct dockerignore d = DOCKERIGNORE_INIT;
	struct strbuf err = STRBUF_INIT;
	size_t len = strlen(c->text);
	/* An exact-size copy with no NUL, so reading past len is caught by ASan. */
	char *text = malloc(len ? len : 1);
	int r;

	assert_non_null(text);
	memcpy(text, c->text, len);
	r = dockerignore_parse(&d, text, len, &err);
	if (c->err_line) {
		char want[32];

		assert_int_equal(r, -1);
		assert_int_equal(d.n, 0);
		snprintf(want, sizeof(want), "line %zu: ", c->err_line);
		if (strncmp(strbuf_str(&err), want, strlen(want)))
			fail_msg("error \"%s\" does not start with \"%s\"", strbuf_str(&err), want);
		if (c->err && !strstr(strbuf_str(&err), c->err))
			fail_msg("error \"%s\" does not contain \"%s\"", strbuf_str(&err), c->err);
	} else {
		if (r != 0)
			fail_msg("%s", strbuf_str(&err));
		assert_int_equal(dockerignore_excluded(&d, c->path), c->excluded);
	}
	dockerignore_free(&d);
	strbuf_release(&err);
	free(text);
}

/* Exceptions and whether a walker must look inside an excluded folder. */
struct reinclude_case {
	const char *name;
	const char *text;
	const char *dir;
	int has_exceptions, may_reinclude;
};

static const struct reinclude_case reinclude[] = {
	{ "no exceptions", "node_modules\n", "node_modules", 0, 0 },
	{ "an exception elsewhere", "node_modules\n!docs/keep.md\n", "node_modules", 1, 0 },
	{ "an exception inside", "docs\n!docs/keep.md\n", "docs", 1, 1 },
	{ "an exception deeper inside", "docs\n!docs/a/b/keep.md\n", "docs/a", 1, 1 },
	{ "an exception that only names the folder", "docs\n!docs\ndocs\n", "docs", 1, 0 },
	{ "a double star exception reaches everywhere", "*\n!**/*.go\n", "any/where", 1, 1 },
	{ "a wildcard exception", "*\n!*/keep\n", "a", 1, 1 },
	{ "a wildcard exception one level only", "*\n!*/keep\n", "a/b", 1, 0 },
};

static void test_reinclude(void **state)
{
	const struct reinclude_case *c = *state;
	struct dockerignore d = DOCKERIGNORE_INIT;
	struct strbuf err = STRBUF_INIT;

	if (dockerignore_parse(&d, c->text, strlen(c->text), &err) < 0)
		fail_msg("%s", strbuf_str(&err));
	assert_int_equal(dockerignore_has_exceptions(&d), c->has_exceptions);
	assert_int_equal(dockerignore_may_reinclude(&d, c->dir), c->may_reinclude);
	dockerignore_free(&d);
	strbuf_release(&err);
}

static void repeat(struct strbuf *sb, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(strbuf_addstr(sb, s), 0);
}

/* Patterns that make a backtracking matcher take exponential time. */
static void hostile_patterns_are_fast(void **state)
{
	struct dockerignore d = DOCKERIGNORE_INIT;
	struct strbuf text = STRBUF_INIT, path = STRBUF_INIT, err = STRBUF_INIT;

	(void)state;
	repeat(&text, "*a", 200);
	strbuf_addstr(&text, "*b\n");
	repeat(&text, "**/", 300);
	strbuf_addstr(&text, "x\na");
	repeat(&text, "**", 300);
	strbuf_addstr(&text, "c\n");
	repeat(&path, "a", 3000);
	repeat(&path, "/a", 500);
	assert_int_equal(dockerignore_parse(&d, text.buf, text.len, &err), 0);
	assert_int_equal(dockerignore_excluded(&d, path.buf), 0);
	strbuf_addstr(&path, "/c");
	assert_int_equal(dockerignore_excluded(&d, path.buf), 1);
	dockerignore_free(&d);
	strbuf_release(&text);
	strbuf_release(&path);
	strbuf_release(&err);
}

static void limits(void **state)
{
	struct dockerignore d = DOCKERIGNORE_INIT;
	struct strbuf text = STRBUF_INIT, err = STRBUF_INIT;

	(void)state;
	repeat(&text, "x", DOCKERIGNORE_MAX_LINE + 1);
	assert_int_equal(dockerignore_parse(&d, text.buf, text.len, &err), -1);
	assert_non_null(strstr(strbuf_str(&err), "line 1: longer than 65536 bytes"));
	strbuf_reset(&text);
	strbuf_reset(&err);
	repeat(&text, "x\n", DOCKERIGNORE_MAX_TEXT / 2 + 1);
	assert_int_equal(dockerignore_parse(&d, text.buf, text.len, &err), -1);
	assert_string_equal(strbuf_str(&err), "larger than 1 MiB");
	strbuf_reset(&text);
	strbuf_reset(&err);
	repeat(&text, "x\n", DOCKERIGNORE_MAX_PATTERNS + 1);
	assert_int_equal(dockerignore_parse(&d, text.buf, text.len, &err), -1);
	assert_string_equal(strbuf_str(&err), "line 100001: too many patterns (limit 100000)");
	assert_int_equal(d.n, 0);
	dockerignore_free(&d);
	strbuf_release(&text);
	strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest extra[] = {
		cmocka_unit_test(hostile_patterns_are_fast),
		cmocka_unit_test(limits),
	};

	return TABLE_RUN("dockerignore_excluded", cases, test_ignore) |
	       TABLE_RUN("dockerignore_may_reinclude", reinclude, test_reinclude) |
	       cmocka_run_group_tests_name("dockerignore limits", extra, NULL, NULL);
}
