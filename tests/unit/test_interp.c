/*
 * test_interp: table-driven tests for catalog/interp (Compose variable
 * interpolation). Expectations follow Docker Compose v2, i.e. compose-go's
 * template package (compose-go/v2 template.go: DefaultPattern,
 * getFirstBraceClosingIndex, MissingRequiredError). Each row is expanded
 * against the fixed variable set in `vars` below; rows check the output or
 * the error, the unset-variable warnings, and (where given) the names seen.
 */
#include "table.h"

#include <stdio.h>
#include <string.h>

#include "catalog/interp.h"
#include "util/strbuf.h"

/* The variables every row sees; anything else is unset. */
static const struct {
	const char *name, *value;
} vars[] = {
	{ "SET", "value" },
	{ "EMPTY", "" },
	{ "NUM", "42" },
	{ "SPACE", "a b" },
	{ "DOLLAR", "$HOME" },		/* values are not interpolated again */
	{ "NESTED", "${SET}" },
	{ "lower", "l" },		/* names are case-sensitive */
	{ "_U", "under" },
};

#define NO_OFF ((size_t)-1)	/* syntax row: do not check err_offset */

struct interp_case {
	const char *name;
	const char *in;
	const char *out;	/* expected output when status is INTERP_OK */
	int status;		/* INTERP_OK, INTERP_SYNTAX or INTERP_REQUIRED */
	/*
	 * INTERP_REQUIRED: the exact message. INTERP_SYNTAX: a substring, or
	 * NULL for any non-empty message.
	 */
	const char *err;
	size_t off;		/* INTERP_SYNTAX: offset of the bad "$", or NO_OFF */
	/*
	 * Unset-variable warnings, comma-joined in call order; NULL means none.
	 * Checked only when status is INTERP_OK.
	 */
	const char *unset;
	/* Names passed to `seen`, sorted and de-duplicated; NULL: not checked. */
	const char *seen;
};

static const struct interp_case cases[] = {
	/* Plain text and escapes */
	{ .name = "empty string", .in = "", .out = "" },
	{ .name = "text without dollar is copied", .in = "plain text {x}", .out = "plain text {x}" },
	{ .name = "$$ is a literal dollar", .in = "$$", .out = "$" },
	{ .name = "$$NAME is not a reference", .in = "$$SET", .out = "$SET", .seen = "" },
	{ .name = "$${NAME} is not a reference", .in = "$${SET}", .out = "${SET}", .seen = "" },
	{ .name = "$${} is a dollar then literal braces", .in = "$${}", .out = "${}" },
	{ .name = "$$$NAME is a dollar then a reference", .in = "$$$SET", .out = "$value" },
	{ .name = "$$$ is a dollar then a trailing dollar", .in = "$$$", .out = "$$" },

	/* A $ that starts no expression is kept */
	{ .name = "$1 is kept literally", .in = "echo $1", .out = "echo $1", .seen = "" },
	{ .name = "$- is kept literally", .in = "a$-b", .out = "a$-b" },
	{ .name = "trailing $ is kept", .in = "cost$", .out = "cost$" },
	{ .name = "lone $ is kept", .in = "$", .out = "$" },
	{ .name = "$ followed by space is kept", .in = "$ {SET}", .out = "$ {SET}" },
	{ .name = "$} is kept literally", .in = "$}", .out = "$}" },
	{ .name = "$ before a non-ASCII byte is kept", .in = "$\xc3\xa9", .out = "$\xc3\xa9" },

	/* Plain references */
	{ .name = "$NAME substitutes", .in = "$SET", .out = "value", .seen = "SET" },
	{ .name = "${NAME} substitutes", .in = "${SET}", .out = "value", .seen = "SET" },
	{ .name = "references inside text", .in = "a${SET}b$NUM", .out = "avalueb42", .seen = "NUM,SET" },
	{ .name = "$NAME ends at the first non-name character", .in = "$SET-bar", .out = "value-bar" },
	{ .name = "$NAME takes every name character", .in = "$SETX", .out = "", .unset = "SETX" },
	{ .name = "names may contain digits after the first", .in = "$NUM9", .out = "", .unset = "NUM9" },
	{ .name = "names may start with underscore", .in = "${_U}/$_U", .out = "under/under" },
	{ .name = "names are case-sensitive", .in = "$lower $LOWER", .out = "l ", .unset = "LOWER" },
	{ .name = "empty variable gives empty and no warning", .in = "[$EMPTY]", .out = "[]" },
	{ .name = "unset $NAME gives empty with a warning", .in = "[$U]", .out = "[]", .unset = "U", .seen = "U" },
	{ .name = "unset ${NAME} gives empty with a warning", .in = "[${U}]", .out = "[]", .unset = "U" },
	{ .name = "each unset reference warns, in order", .in = "$U ${V} $U", .out = "  ", .unset = "U,V,U", .seen = "U,V" },
	{ .name = "values are not interpolated again", .in = "$DOLLAR ${NESTED}", .out = "$HOME ${SET}", .seen = "DOLLAR,NESTED" },
	{ .name = "value with a space is copied whole", .in = "<$SPACE>", .out = "<a b>" },
	{ .name = "braces around a reference stay", .in = "{${SET}}", .out = "{value}" },
	{ .name = "closing brace after a reference stays", .in = "${SET}}", .out = "value}" },

	/* :- and - defaults */
	{ .name = ":- uses default when unset", .in = "${U:-d}", .out = "d", .seen = "U" },
	{ .name = ":- uses default when empty", .in = "${EMPTY:-d}", .out = "d" },
	{ .name = ":- keeps a set value", .in = "${SET:-d}", .out = "value" },
	{ .name = "- uses default when unset", .in = "${U-d}", .out = "d" },
	{ .name = "- keeps an empty value", .in = "[${EMPTY-d}]", .out = "[]" },
	{ .name = "- keeps a set value", .in = "${SET-d}", .out = "value" },
	{ .name = "empty default", .in = "[${U:-}${V-}]", .out = "[]" },
	{ .name = "default may hold spaces and punctuation", .in = "${U:-a b/c:d}", .out = "a b/c:d" },
	{ .name = "default may contain :- literally", .in = "${EMPTY:-/non:-alphanumeric}", .out = "/non:-alphanumeric" },
	{ .name = "first operator wins: - before ?", .in = "${U-myerror?msg}", .out = "myerror?msg" },
	{ .name = "default may be $NAME", .in = "${U:-$SET}", .out = "value", .seen = "SET,U" },
	{ .name = "default may be ${NAME} with suffix", .in = "${U-${SET}/sub}", .out = "value/sub" },
	{ .name = "default holding two references", .in = "${EMPTY:-${SET} ${NUM}}", .out = "value 42" },
	{ .name = "defaults nest", .in = "${U:-${V:-x}}", .out = "x", .seen = "U,V" },
	{ .name = "defaults nest three deep", .in = "${U:-${V:-${NUM}}}", .out = "42" },
	{ .name = "nested default inside text", .in = "pre-${U:-${V-y}z}-post", .out = "pre-yz-post" },
	{ .name = "$$ inside a default is a dollar", .in = "${U:-$$x}", .out = "$x" },
	{ .name = "defaults do not warn", .in = "${U:-}${V-}${EMPTY:-}", .out = "" },
	{ .name = "unset plain reference inside a default warns", .in = "${U:-$V}", .out = "", .unset = "V", .seen = "U,V" },
	/* compose-go substitutes the default before it looks at the variable */
	{ .name = "default is interpolated even when unused", .in = "${SET:-$V}", .out = "value", .unset = "V" },
	{ .name = "text after a default is interpolated", .in = "${U:-x} ${SET} $$", .out = "x value $" },

	/* Braces inside defaults (compose-go v2 getFirstBraceClosingIndex) */
	{ .name = "brace pair in default of an unset variable", .in = "${U:-{x}}", .out = "{x}" },
	{ .name = "json default of an unset variable", .in = "${U:-{\"k\":1}}", .out = "{\"k\":1}" },
	{ .name = "brace pair in default of a set variable", .in = "${SET:-{x}}", .out = "value" },
	{ .name = "brace pair in the middle of a default", .in = "${U:-a{b}c}", .out = "a{b}c" },
	{ .name = "brace text after a default stays", .in = "${U:-x} {y}", .out = "x {y}" },

	/* :+ and + alternatives */
	{ .name = ":+ gives alt when set and non-empty", .in = "${SET:+alt}", .out = "alt" },
	{ .name = ":+ gives empty when empty", .in = "[${EMPTY:+alt}]", .out = "[]" },
	{ .name = ":+ gives empty when unset, no warning", .in = "[${U:+alt}]", .out = "[]", .seen = "U" },
	{ .name = "+ gives alt when empty", .in = "${EMPTY+alt}", .out = "alt" },
	{ .name = "+ gives empty when unset", .in = "[${U+alt}]", .out = "[]" },
	{ .name = "alt is interpolated", .in = "${SET:+<${NUM}>}", .out = "<42>" },
	{ .name = "alt nests", .in = "${SET+${U:-n}}", .out = "n" },

	/* :? and ? required */
	{ .name = ":? keeps a set value", .in = "${SET:?msg}", .out = "value" },
	{ .name = "? keeps an empty value", .in = "[${EMPTY?msg}]", .out = "[]" },
	{ .name = "? with empty message keeps a set value", .in = "${SET?}", .out = "value" },
	{ .name = ":? fails when unset", .in = "not ok ${U:?Mandatory Variable Unset}",
	  .status = INTERP_REQUIRED, .err = "required variable U is missing a value: Mandatory Variable Unset" },
	{ .name = ":? fails when empty", .in = "${EMPTY:?empty}",
	  .status = INTERP_REQUIRED, .err = "required variable EMPTY is missing a value: empty" },
	{ .name = ":? with no message", .in = "${U:?}",
	  .status = INTERP_REQUIRED, .err = "required variable U is missing a value" },
	{ .name = "? fails when unset", .in = "${U?need it}",
	  .status = INTERP_REQUIRED, .err = "required variable U is missing a value: need it" },
	{ .name = "? with no message", .in = "${U?}",
	  .status = INTERP_REQUIRED, .err = "required variable U is missing a value" },
	{ .name = "first operator wins: ? before -", .in = "${U?bar-baz}",
	  .status = INTERP_REQUIRED, .err = "required variable U is missing a value: bar-baz" },
	{ .name = "required message is interpolated", .in = "${U:?need ${SET} and $NUM}",
	  .status = INTERP_REQUIRED, .err = "required variable U is missing a value: need value and 42" },
	{ .name = "required inside a default fails", .in = "${U:-${V:?inner}}",
	  .status = INTERP_REQUIRED, .err = "required variable V is missing a value: inner" },
	{ .name = "required in an unused default still fails", .in = "${SET:-${V:?boom}}",
	  .status = INTERP_REQUIRED, .err = "required variable V is missing a value: boom" },
	{ .name = "required after a default fails", .in = "${U:-x} ${V:?late}",
	  .status = INTERP_REQUIRED, .err = "required variable V is missing a value: late" },

	/* Malformed ${...} */
	{ .name = "${} is a syntax error", .in = "${}", .status = INTERP_SYNTAX, .off = 0 },
	{ .name = "name starting with a digit", .in = "x${1A}", .status = INTERP_SYNTAX, .off = 1 },
	{ .name = "colon without operator", .in = "${A:x}", .status = INTERP_SYNTAX, .off = 0 },
	{ .name = "colon before the brace", .in = "${SET:}", .status = INTERP_SYNTAX, .off = 0 },
	{ .name = "unterminated ${NAME", .in = "${A", .status = INTERP_SYNTAX, .off = 0 },
	{ .name = "unterminated ${ at the end", .in = "ok ${SET} ${", .status = INTERP_SYNTAX, .off = 10 },
	{ .name = "unterminated default", .in = "ab${A:-x", .status = INTERP_SYNTAX, .off = 2 },
	{ .name = "space after the name", .in = "${A }", .status = INTERP_SYNTAX, .off = 0 },
	{ .name = "space before the name", .in = "${ A}", .status = INTERP_SYNTAX, .off = 0 },
	{ .name = "unknown operator", .in = "${A!}", .status = INTERP_SYNTAX, .off = 0 },
	{ .name = "shell pattern substitution is not supported", .in = "${A/x/y}", .status = INTERP_SYNTAX, .off = 0 },
	{ .name = "malformed expression inside a default", .in = "${U:-${}}", .status = INTERP_SYNTAX, .off = 5 },
	{ .name = "unterminated nested default", .in = "${U:-${V:-x}", .status = INTERP_SYNTAX, .off = NO_OFF },
	/* compose-go's braced pattern uses (.*), which does not cross a newline */
	{ .name = "default does not span a newline", .in = "${U:-a\nb}", .status = INTERP_SYNTAX, .off = 0 },
};

struct recorder {
	struct strbuf unset;	/* comma-joined, in call order */
	char *seen[64];
	size_t nseen;
};

static const char *lookup(void *ctx, const char *name, size_t len)
{
	(void)ctx;
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if (strlen(vars[i].name) == len && !memcmp(vars[i].name, name, len))
			return vars[i].value;
	return NULL;
}

static void record_unset(void *ctx, const char *name, size_t len)
{
	struct recorder *rec = ctx;

	if (rec->unset.len)
		strbuf_addch(&rec->unset, ',');
	strbuf_add(&rec->unset, name, len);
}

static void record_seen(void *ctx, const char *name, size_t len)
{
	struct recorder *rec = ctx;
	char *copy;

	assert_true(rec->nseen < sizeof(rec->seen) / sizeof(rec->seen[0]));
	copy = malloc(len + 1);
	assert_non_null(copy);
	memcpy(copy, name, len);
	copy[len] = '\0';
	rec->seen[rec->nseen++] = copy;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The seen names sorted, without repeats, comma-joined into out. */
static void join_seen(struct recorder *rec, struct strbuf *out)
{
	qsort(rec->seen, rec->nseen, sizeof(rec->seen[0]), cmp_str);
	for (size_t i = 0; i < rec->nseen; i++) {
		if (i > 0 && !strcmp(rec->seen[i], rec->seen[i - 1]))
			continue;
		if (out->len)
			strbuf_addch(out, ',');
		strbuf_addstr(out, rec->seen[i]);
	}
}

static void test_expand(void **state)
{
	const struct interp_case *c = *state;
	struct recorder rec = { .unset = STRBUF_INIT };
	struct interp_env env = { lookup, record_unset, record_seen, &rec };
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT, seen = STRBUF_INIT;
	size_t len = strlen(c->in), off = NO_OFF;
	/* An exact-size copy with no NUL, so reading past len is caught by ASan. */
	char *in = malloc(len ? len : 1);
	int r;

	assert_non_null(in);
	memcpy(in, c->in, len);
	r = interp_expand(in, len, &env, &out, &err, &off);

	assert_int_equal(r, c->status);
	if (c->status == INTERP_OK) {
		assert_string_equal(strbuf_str(&out), c->out);
		assert_string_equal(strbuf_str(&rec.unset), c->unset ? c->unset : "");
	} else if (c->status == INTERP_REQUIRED) {
		assert_string_equal(strbuf_str(&err), c->err);
	} else {
		assert_true(err.len > 0);
		if (c->err)
			assert_non_null(strstr(strbuf_str(&err), c->err));
		if (c->off != NO_OFF)
			assert_int_equal(off, c->off);
	}
	if (c->seen) {
		join_seen(&rec, &seen);
		assert_string_equal(strbuf_str(&seen), c->seen);
	}

	for (size_t i = 0; i < rec.nseen; i++)
		free(rec.seen[i]);
	strbuf_release(&rec.unset);
	strbuf_release(&seen);
	strbuf_release(&out);
	strbuf_release(&err);
	free(in);
}

struct has_vars_case {
	const char *name;
	const char *in;
	int want;
};

static const struct has_vars_case has_vars_cases[] = {
	{ "has_vars: empty", "", 0 },
	{ "has_vars: plain text", "nginx:1.25", 0 },
	{ "has_vars: $NAME", "img:$TAG", 1 },
	{ "has_vars: ${NAME}", "${REG}/img", 1 },
	{ "has_vars: default form", "x${A:-b}", 1 },
	{ "has_vars: _name", "$_x", 1 },
	{ "has_vars: $$ only", "a$$b", 0 },
	{ "has_vars: $${NAME} is escaped", "$${A}", 0 },
	{ "has_vars: $$NAME is escaped", "$$A", 0 },
	{ "has_vars: $$$NAME refers", "$$$A", 1 },
	{ "has_vars: $1", "echo $1", 0 },
	{ "has_vars: trailing $", "cost$", 0 },
	{ "has_vars: $ space", "$ x", 0 },
	/* Malformed: reported so that the caller expands it and sees the error. */
	{ "has_vars: ${} counts", "${}", 1 },
};

static void test_has_vars(void **state)
{
	const struct has_vars_case *c = *state;
	size_t len = strlen(c->in);
	char *in = malloc(len ? len : 1);

	assert_non_null(in);
	memcpy(in, c->in, len);
	assert_int_equal(interp_has_vars(in, len), c->want);
	free(in);
}

int main(void)
{
	int failed = 0;

	failed |= TABLE_RUN("interp_expand", cases, test_expand);
	failed |= TABLE_RUN("interp_has_vars", has_vars_cases, test_has_vars);
	return failed;
}
