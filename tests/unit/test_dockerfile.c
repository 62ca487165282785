/*
 * test_dockerfile: which base images a Dockerfile pulls, given build args,
 * as BuildKit resolves them (global ARGs before the first FROM, build-arg
 * overrides, stages, scratch, continuations, the escape directive), and the
 * FROM lines it records. One row a case: Dockerfile text, build args,
 * expected lists.
 */
#include "table.h"

#include <string.h>

#include "catalog/dockerfile.h"

#define MAXARGS 4
#define MAXLIST 6

#define BOM "\xef\xbb\xbf"

struct df_case {
	const char *name;
	const char *text;
	struct build_arg args[MAXARGS];	/* ends at the first NULL name */
	const char *want[MAXLIST];	/* NULL-terminated */
};

static size_t count_args(const struct build_arg *args)
{
	size_t n = 0;

	while (n < MAXARGS && args[n].name)
		n++;
	return n;
}

/* Describe how got differs from the NULL-terminated want in msg; 0 if it does not. */
static int compare_list(const struct strlist *got, const char *const *want,
			struct strbuf *msg)
{
	size_t n = 0;

	while (n < MAXLIST && want[n])
		n++;
	for (size_t i = 0; i < got->n && i < n; i++) {
		if (strcmp(got->items[i], want[i])) {
			strbuf_addf(msg, "entry %zu: got \"%s\", want \"%s\"",
				    i, got->items[i], want[i]);
			return -1;
		}
	}
	if (got->n != n) {
		strbuf_addf(msg, "got %zu entries, want %zu", got->n, n);
		if (got->n > n)
			strbuf_addf(msg, "; first extra: \"%s\"", got->items[n]);
		return -1;
	}
	return 0;
}

/*
 * Parse the row's text with its build args and compare one of the lists
 * with the row's want; everything is freed before a failure is reported.
 */
static void check_row(const struct df_case *c, int from_lines)
{
	struct dockerfile df = { STRLIST_INIT, STRLIST_INIT, STRLIST_INIT };
	struct strbuf err = STRBUF_INIT;
	int rc = dockerfile_parse(c->text, strlen(c->text), c->args, count_args(c->args),
				  &df, &err);

	if (rc != 0)
		strbuf_addstr(&err, " (dockerfile_parse failed)");
	else
		rc = compare_list(from_lines ? &df.from_lines : &df.base_images, c->want, &err);
	dockerfile_free(&df);
	if (rc)
		print_error("%s\n", strbuf_str(&err));
	strbuf_release(&err);
	if (rc)
		fail();
}

/* base_images */
static const struct df_case base_cases[] = {
	{ "plain FROM", "FROM alpine:3.19\n", { { 0 } }, { "alpine:3.19" } },
	{ "no trailing newline", "FROM alpine:3.19", { { 0 } }, { "alpine:3.19" } },
	{ "platform flag before image, stage name after",
	  "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\n", { { 0 } },
	  { "golang:1.22" } },
	{ "multi-stage: FROM an earlier stage is not a base",
	  "FROM golang:1.22 AS build\nRUN go build\n"
	  "FROM build AS test\n"
	  "FROM alpine:3.19\nCOPY --from=build /app /app\n", { { 0 } },
	  { "golang:1.22", "alpine:3.19" } },
	{ "stage names are case-insensitive",
	  "FROM golang:1.22 As Builder\nFROM builder\nFROM BUILDER\n", { { 0 } },
	  { "golang:1.22" } },
	{ "stage named by a global ARG is not a base",
	  "ARG BASE=build\nFROM golang:1.22 AS build\nFROM ${BASE}\n", { { 0 } },
	  { "golang:1.22" } },
	{ "scratch is dropped", "FROM scratch\nCOPY app /\n", { { 0 } }, { NULL } },
	{ "scratch among real bases",
	  "FROM golang:1.22 AS build\nFROM scratch\nCOPY --from=build /a /a\n", { { 0 } },
	  { "golang:1.22" } },
	{ "global ARG default", "ARG V=1.2\nFROM alpine:${V}\n", { { 0 } },
	  { "alpine:1.2" } },
	{ "build arg overrides the default", "ARG V=1.2\nFROM alpine:${V}\n",
	  { { "V", "3.20" } }, { "alpine:3.20" } },
	{ "build arg with NULL value keeps the default", "ARG V=1.2\nFROM alpine:${V}\n",
	  { { "V", NULL } }, { "alpine:1.2" } },
	{ "build arg set to empty overrides the default",
	  "ARG V=1.2\nFROM alpine:${V:-9}\n", { { "V", "" } }, { "alpine:9" } },
	{ "ARG without default takes the build arg", "ARG TAG\nFROM alpine:${TAG}\n",
	  { { "TAG", "3.20" } }, { "alpine:3.20" } },
	{ "ARG after the first FROM is not visible to a later FROM",
	  "FROM alpine:3.19\nARG TAG=18\nFROM node:${TAG:-20}\n", { { 0 } },
	  { "alpine:3.19", "node:20" } },
	{ "build arg for an ARG after the first FROM is not visible to FROM",
	  "FROM alpine:3.19\nARG TAG=18\nFROM node:${TAG:-20}\n", { { "TAG", "16" } },
	  { "alpine:3.19", "node:20" } },
	{ "undeclared build arg is not visible in FROM", "FROM alpine:${V:-3.19}\n",
	  { { "V", "3.20" } }, { "alpine:3.19" } },
	{ "undeclared variable substitutes empty", "FROM alpine${V}\n", { { 0 } },
	  { "alpine" } },
	{ "several ARGs on one line, quoted value",
	  "ARG A=1 B=\"two\"\nFROM img:${A}-${B}\n", { { 0 } }, { "img:1-two" } },
	{ "global ARG default refers to an earlier one",
	  "ARG MAJOR=3\nARG V=${MAJOR}.19\nFROM alpine:${V}\n", { { 0 } },
	  { "alpine:3.19" } },
	{ "${V:-def} with V empty", "ARG V\nFROM alpine:${V:-3.19}\n", { { 0 } },
	  { "alpine:3.19" } },
	{ "${V:-def} with V set", "ARG V=3.18\nFROM alpine:${V:-3.19}\n", { { 0 } },
	  { "alpine:3.18" } },
	{ "${V-def} with V undeclared", "FROM alpine:${V-3.19}\n", { { 0 } },
	  { "alpine:3.19" } },
	{ "${V:+alt} with V set", "ARG V=x\nFROM alpine${V:+:3.19}\n", { { 0 } },
	  { "alpine:3.19" } },
	{ "${V:+alt} with V unset", "ARG V\nFROM alpine${V:+:3.19}\n", { { 0 } },
	  { "alpine" } },
	{ "nested default", "ARG B=3.19\nFROM alpine:${A:-${B}}\n", { { 0 } },
	  { "alpine:3.19" } },
	{ "$V without braces, name ends at '-'", "ARG V=3.19\nFROM alpine:$V-slim\n",
	  { { 0 } }, { "alpine:3.19-slim" } },
	{ "lowercase instructions", "arg V=3.19\nfrom alpine:${V} as base\n", { { 0 } },
	  { "alpine:3.19" } },
	{ "indented instruction", "  FROM alpine:3.19\n", { { 0 } }, { "alpine:3.19" } },
	{ "line continuation", "FROM \\\nalpine:3.19\n", { { 0 } }, { "alpine:3.19" } },
	{ "blanks after the backslash still continue", "FROM \\   \t\nalpine:3.19\n",
	  { { 0 } }, { "alpine:3.19" } },
	{ "continuation inside ARG", "ARG V=\\\n3.19\nFROM alpine:${V}\n", { { 0 } },
	  { "alpine:3.19" } },
	{ "comment lines inside a continuation are dropped",
	  "FROM \\\n# the base\n  # indented comment\nalpine:3.19 \\\nAS base\n", { { 0 } },
	  { "alpine:3.19" } },
	{ "empty lines inside a continuation are skipped", "FROM \\\n\n   \nalpine:3.19\n",
	  { { 0 } }, { "alpine:3.19" } },
	{ "RUN continued onto a FROM-looking line is not a FROM",
	  "FROM alpine:3.19\nRUN echo \\\nFROM debian:12\n", { { 0 } }, { "alpine:3.19" } },
	{ "escape directive: backtick continues",
	  "# escape=`\nFROM `\nalpine:3.19\n", { { 0 } }, { "alpine:3.19" } },
	{ "escape directive: backslash at end no longer continues",
	  "# escape=`\nFROM mcr.microsoft.com/windows/nanoserver:ltsc2022\n"
	  "RUN dir c:\\\nFROM debian:12\n", { { 0 } },
	  { "mcr.microsoft.com/windows/nanoserver:ltsc2022", "debian:12" } },
	{ "escape directive after syntax directive",
	  "# syntax=docker/dockerfile:1\n# escape=`\nFROM `\nalpine:3.19\n", { { 0 } },
	  { "alpine:3.19" } },
	{ "escape directive after an instruction is a comment",
	  "ARG V=3.19\n# escape=`\nFROM \\\nalpine:${V}\n", { { 0 } }, { "alpine:3.19" } },
	{ "escape directive after an ordinary comment is a comment",
	  "# build me\n# escape=`\nFROM \\\nalpine:3.19\n", { { 0 } }, { "alpine:3.19" } },
	/* Docker's docs: an unknown directive is a comment and ends the directives. */
	{ "escape directive after an unknown directive is a comment",
	  "# foo=bar\n# escape=`\nFROM \\\nalpine:3.19\n", { { 0 } }, { "alpine:3.19" } },
	{ "repeated base appears once, first-seen order kept",
	  "FROM debian:12\nFROM alpine:3.19\nFROM debian:12\nFROM alpine:3.19\n", { { 0 } },
	  { "debian:12", "alpine:3.19" } },
	{ "same base reached through an ARG appears once",
	  "ARG V=12\nFROM debian:12\nFROM debian:${V}\n", { { 0 } }, { "debian:12" } },
	{ "empty file", "", { { 0 } }, { NULL } },
	{ "comments only", "# nothing here\n\n# still nothing\n", { { 0 } }, { NULL } },
	{ "CRLF line endings", "ARG V=1.2\r\nFROM alpine:${V}\r\nRUN true\r\n", { { 0 } },
	  { "alpine:1.2" } },
	{ "CRLF with a continuation", "FROM \\\r\nalpine:3.19 \\\r\nAS base\r\n", { { 0 } },
	  { "alpine:3.19" } },
	{ "UTF-8 byte order mark before the first line", BOM "FROM alpine:3.19\n",
	  { { 0 } }, { "alpine:3.19" } },
};

static void test_bases(void **state)
{
	check_row(*state, 0);
}

/*
 * from_lines: each FROM instruction, keyword first, trimmed, not
 * substituted; a continuation is joined the way BuildKit joins it (the
 * escape character and the blanks after it removed, nothing else).
 */
static const struct df_case from_cases[] = {
	{ "one FROM as written", "FROM alpine:3.19\n", { { 0 } }, { "FROM alpine:3.19" } },
	{ "every FROM kept, stage and scratch included",
	  "FROM golang:1.22 AS build\nRUN go build\nFROM build AS test\nFROM scratch\n",
	  { { 0 } }, { "FROM golang:1.22 AS build", "FROM build AS test", "FROM scratch" } },
	{ "variables kept unsubstituted", "ARG V=1.2\nFROM alpine:${V}\n",
	  { { "V", "9" } }, { "FROM alpine:${V}" } },
	{ "flags kept", "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\n", { { 0 } },
	  { "FROM --platform=$BUILDPLATFORM golang:1.22 AS build" } },
	{ "keyword case kept, line trimmed", "  from alpine:3.19  \n", { { 0 } },
	  { "from alpine:3.19" } },
	{ "continuation joined", "FROM \\\nalpine:3.19\n", { { 0 } }, { "FROM alpine:3.19" } },
	{ "comment inside continuation left out", "FROM \\\n# base\nalpine:3.19\n", { { 0 } },
	  { "FROM alpine:3.19" } },
	{ "no carriage return kept", "FROM alpine:3.19\r\n", { { 0 } }, { "FROM alpine:3.19" } },
	{ "repeated FROM lines all kept", "FROM alpine\nFROM alpine\n", { { 0 } },
	  { "FROM alpine", "FROM alpine" } },
	{ "no FROM, no lines", "ARG V=1\nRUN true\n", { { 0 } }, { NULL } },
};

static void test_from_lines(void **state)
{
	check_row(*state, 1);
}

int main(void)
{
	int failed = 0;

	failed |= TABLE_RUN("dockerfile base_images", base_cases, test_bases);
	failed |= TABLE_RUN("dockerfile from_lines", from_cases, test_from_lines);
	return failed;
}
