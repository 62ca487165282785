/*
 * test_envfile: table-driven tests for catalog/envfile (.env parsing).
 * Expectations follow compose-go's dotenv parser (dotenv/parser.go), except
 * where imgvault's envfile.h deliberately differs: the process environment
 * is never consulted (compose-go looks it up first), a key alone on a line
 * is left unset, an empty key is an error, and an unterminated quote names
 * the line where the value started. Each row parses one file text and then
 * checks the resulting variables, or the error line and message.
 */
#define _POSIX_C_SOURCE 200809L	/* setenv */

#include "table.h"

#include <stdio.h>
#include <string.h>

#include "catalog/envfile.h"
#include "catalog/vars.h"
#include "util/strbuf.h"

/* Set in main(); rows prove the parser never reads it. */
#define PROC_VAR "IMGVAULT_T_PROC"

struct envfile_case {
	const char *name;
	const char *text;
	const char *want[8];	/* "KEY=value" expected, and nothing else */
	const char *absent[4];	/* keys that must not be defined */
	size_t err_line;	/* 0: the parse must succeed */
	const char *err;	/* substring of the error message, or NULL */
};

static const struct envfile_case cases[] = {
	/* Layout */
	{ .name = "empty file", .text = "", .want = { NULL } },
	{ .name = "simple pairs", .text = "A=1\nB=two\n", .want = { "A=1", "B=two" } },
	{ .name = "last line without newline", .text = "A=1\nB=2", .want = { "A=1", "B=2" } },
	{ .name = "blank lines and comments are skipped",
	  .text = "# comment\n   # indented comment\n\n\t\n#B=2\nA=1\n",
	  .want = { "A=1" }, .absent = { "B" } },
	{ .name = "export prefix is dropped", .text = "export A=1\nexport\tB=2\n",
	  .want = { "A=1", "B=2" } },
	{ .name = "KEY: value form", .text = "A: 1\nB : two words\n", .want = { "A=1", "B=two words" } },
	{ .name = "blanks around the separator are trimmed", .text = "  A  =  x y  \nB=\t\"q\"\n",
	  .want = { "A=x y", "B=q" } },
	{ .name = "empty values are set", .text = "A=\nB=\"\"\nC=''\n", .want = { "A=", "B=", "C=" } },
	{ .name = "value keeps later = and :", .text = "A=b=c\nU=http://h:80/p\n",
	  .want = { "A=b=c", "U=http://h:80/p" } },
	{ .name = "later definition overrides", .text = "A=1\nB=x\nA=2\n", .want = { "A=2", "B=x" } },
	{ .name = "key alone on a line is not set", .text = "A=1\nLONE\nB=2\n",
	  .want = { "A=1", "B=2" }, .absent = { "LONE" } },
	{ .name = "key alone on the last line is not set", .text = "A=1\nLONE",
	  .want = { "A=1" }, .absent = { "LONE" } },
	{ .name = "CRLF line endings", .text = "A=1\r\nB=\"q\"\r\nC=x # c\r\n\r\nD='s'\r\n",
	  .want = { "A=1", "B=q", "C=x", "D=s" } },
	{ .name = "UTF-8 byte order mark is skipped", .text = "\xEF\xBB\xBF" "A=1\n", .want = { "A=1" } },
	{ .name = "dots, dashes and brackets are allowed in keys", .text = "A.B-C[0]=1\n",
	  .want = { "A.B-C[0]=1" } },

	/* Unquoted values */
	{ .name = "unquoted value is cut at space-hash", .text = "A=x # comment\nB=x  #c\n",
	  .want = { "A=x", "B=x" } },
	{ .name = "hash without a space before it is kept", .text = "A=x#y\nB=#z\n",
	  .want = { "A=x#y", "B=#z" } },
	{ .name = "hash right after the trimmed separator is kept", .text = "A= #w\n", .want = { "A=#w" } },
	{ .name = "quote inside an unquoted value is literal", .text = "A=it's\nB=a\"b\n",
	  .want = { "A=it's", "B=a\"b" } },
	{ .name = "$$ in an unquoted value is a dollar", .text = "A=$$x\n", .want = { "A=$x" } },

	/* Single quotes */
	{ .name = "single quotes are literal", .text = "X=1\nA='$X ${X} a\\nb # not a comment'\n",
	  .want = { "X=1", "A=$X ${X} a\\nb # not a comment" } },
	{ .name = "escaped single quote does not end the value", .text = "A='it\\'s'\n",
	  .want = { "A=it's" } },
	{ .name = "single quotes do not run required forms", .text = "A='${U:?boom}'\n",
	  .want = { "A=${U:?boom}" } },
	{ .name = "single-quoted value spans lines", .text = "A='x\n\ny'\nB=3\n",
	  .want = { "A=x\n\ny", "B=3" } },

	/* Double quotes */
	{ .name = "double quotes expand \\n \\t \\r", .text = "A=\"a\\nb\\tc\\rd\"\n",
	  .want = { "A=a\nb\tc\rd" } },
	{ .name = "double quotes expand \\\\ and \\\"", .text = "A=\"back\\\\slash\"\nB=\"say \\\"hi\\\"\"\n",
	  .want = { "A=back\\slash", "B=say \"hi\"" } },
	{ .name = "unknown escape keeps its backslash", .text = "A=\"\\q\"\n", .want = { "A=\\q" } },
	{ .name = "\\a \\b \\f \\v are control characters", .text = "A=\"\\a\\b\\f\\v\"\n",
	  .want = { "A=\a\b\f\v" } },
	{ .name = "\\0NNN is an octal character", .text = "A=\"\\0123\\0101\"\n", .want = { "A=SA" } },
	{ .name = "\\0 with fewer than three digits drops the 0", .text = "A=\"x\\012y\"\n",
	  .want = { "A=x\\12y" } },
	{ .name = "\\$ in double quotes is a literal dollar", .text = "X=1\nA=\"\\$X\"\n",
	  .want = { "X=1", "A=$X" } },
	{ .name = "hash inside double quotes is kept", .text = "A=\"x #y\"\n", .want = { "A=x #y" } },
	{ .name = "comment after a quoted value", .text = "A=\"x y\" # c\nB='z' #d\n",
	  .want = { "A=x y", "B=z" } },
	{ .name = "double-quoted value spans lines", .text = "A=\"line1\nline2\"\nB=2\n",
	  .want = { "A=line1\nline2", "B=2" } },

	/* Interpolation inside the file */
	{ .name = "unquoted value sees earlier keys", .text = "X=1\nA=${X}2\nB=$X-$X\n",
	  .want = { "X=1", "A=12", "B=1-1" } },
	{ .name = "double-quoted value sees earlier keys", .text = "X=1\nA=\"<$X> ${X:+set}\"\n",
	  .want = { "X=1", "A=<1> set" } },
	{ .name = "later keys are not visible", .text = "A=${C}\nB=${C:-d}\nC=1\n",
	  .want = { "A=", "B=d", "C=1" } },
	{ .name = "redefinition sees the earlier value", .text = "A=1\nA=${A}2\n", .want = { "A=12" } },
	{ .name = "referenced value is inserted literally", .text = "B='$X'\nA=$B\n",
	  .want = { "B=$X", "A=$X" } },
	{ .name = "process environment is not used", .text = "A=${" PROC_VAR "}\nB=$" PROC_VAR "\n",
	  .want = { "A=", "B=" } },
	{ .name = "process environment does not satisfy a default",
	  .text = "A=${" PROC_VAR ":-dflt}\n", .want = { "A=dflt" } },
	{ .name = "key alone is not taken from the process environment",
	  .text = PROC_VAR "\nA=1\n", .want = { "A=1" }, .absent = { PROC_VAR } },

	/* Errors */
	{ .name = "unterminated double quote names its first line",
	  .text = "X=1\nA=\"abc\nB=2\n", .err_line = 2, .err = "unterminated quoted value" },
	{ .name = "unterminated single quote at end of file",
	  .text = "A='abc", .err_line = 1, .err = "unterminated quoted value" },
	{ .name = "invalid character $ in a key", .text = "# c\n\nA$B=1\n", .err_line = 3 },
	{ .name = "invalid character ! in a key", .text = "A!=1\n", .err_line = 1 },
	{ .name = "empty key", .text = "A=1\n=value\n", .err_line = 2 },
	{ .name = "line count continues after a multi-line double-quoted value",
	  .text = "A=\"x\ny\"\nB!=1\n", .err_line = 3 },
	{ .name = "line count continues after a multi-line single-quoted value",
	  .text = "A='x\n\ny'\nB$=1\n", .err_line = 4 },
	{ .name = "line count with CRLF", .text = "A=1\r\nB$=2\r\n", .err_line = 2 },
	{ .name = "required variable missing in an unquoted value",
	  .text = "A=1\nB=${U:?need it}\n", .err_line = 2,
	  .err = "required variable U is missing a value: need it" },
	{ .name = "required variable missing in a double-quoted value",
	  .text = "A=\"${U:?boom}\"\n", .err_line = 1,
	  .err = "required variable U is missing a value: boom" },
	{ .name = "required variable defined later is still missing",
	  .text = "A=${B:?}\nB=1\n", .err_line = 1, .err = "required variable B is missing a value" },
	{ .name = "malformed interpolation in a value", .text = "A=1\nB=${}\n", .err_line = 2 },
};

static void check_value(const struct vars *v, const char *pair)
{
	const char *eq = strchr(pair, '=');
	const char *got;

	assert_non_null(eq);
	got = vars_get(v, pair, (size_t)(eq - pair));
	if (!got)
		print_error("key %.*s is not defined\n", (int)(eq - pair), pair);
	assert_non_null(got);
	assert_string_equal(got, eq + 1);
}

static void test_envfile(void **state)
{
	const struct envfile_case *c = *state;
	struct vars v = VARS_INIT;
	struct strbuf err = STRBUF_INIT;
	size_t len = strlen(c->text), line = 0, nwant = 0;
	/* An exact-size copy with no NUL, so reading past len is caught by ASan. */
	char *text = malloc(len ? len : 1);
	int r;

	assert_non_null(text);
	memcpy(text, c->text, len);
	r = envfile_parse(text, len, &v, &err, &line);

	if (c->err_line) {
		assert_int_equal(r, -1);
		assert_true(err.len > 0);
		if (c->err && !strstr(strbuf_str(&err), c->err))
			fail_msg("error \"%s\" does not contain \"%s\"", strbuf_str(&err), c->err);
		assert_int_equal(line, c->err_line);
	} else {
		if (r != 0)
			fail_msg("line %zu: %s", line, strbuf_str(&err));
		for (; nwant < sizeof(c->want) / sizeof(c->want[0]) && c->want[nwant]; nwant++)
			check_value(&v, c->want[nwant]);
		for (size_t i = 0; i < sizeof(c->absent) / sizeof(c->absent[0]) && c->absent[i]; i++)
			assert_null(vars_get(&v, c->absent[i], strlen(c->absent[i])));
		assert_int_equal(vars_count(&v), nwant);
	}

	vars_free(&v);
	strbuf_release(&err);
	free(text);
}

int main(void)
{
	setenv(PROC_VAR, "from-process", 1);
	return TABLE_RUN("envfile_parse", cases, test_envfile);
}
