/*
 * opts: table-driven option parsing and the messages around it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../util/strbuf.h"
#include "../util/text.h"
#include "cmd.h"

/*
 * One message, one line: names and values in it come from files and
 * folder names, so a control character there (a newline in a folder's
 * name) is shown escaped. A format that holds a newline itself is printed
 * as it is.
 */
static void say(const char *prefix, const char *fmt, va_list ap)
{
	struct strbuf msg = STRBUF_INIT, line = STRBUF_INIT;

	strbuf_vaddf(&msg, fmt, ap);
	if (!strchr(fmt, '\n'))
		text_quote(&line, strbuf_str(&msg));
	fprintf(stderr, "%s%s\n", prefix, strbuf_str(line.len ? &line : &msg));
	strbuf_release(&msg);
	strbuf_release(&line);
}

void say_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say("imgvault: ", fmt, ap);
	va_end(ap);
}

void say_warning(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say("imgvault: warning: ", fmt, ap);
	va_end(ap);
}

int finish_stdout(int code)
{
	if (fflush(stdout) != 0 || ferror(stdout) || fclose(stdout) != 0) {
		say_error("cannot write to standard output: %s", strerror(errno));
		return code == EXIT_OK ? EXIT_FAILED : code;
	}
	return code;
}

static const struct opt_def *find_long(const struct opt_def *defs, const char *name, size_t len)
{
	for (; defs->name; defs++)
		if (strlen(defs->name) == len && !strncmp(defs->name, name, len))
			return defs;
	return NULL;
}

static const struct opt_def *find_short(const struct opt_def *defs, char c)
{
	for (; defs->name; defs++)
		if (defs->short_name && defs->short_name == c)
			return defs;
	return NULL;
}

static int usage_error(const char *command, const char *fmt, const char *arg)
{
	fputs("imgvault: ", stderr);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "; see 'imgvault %s --help'\n", command);
	return EXIT_USAGE;
}

static int store(const char *command, const struct opt_def *d, const char *value)
{
	if (d->kind == OPT_VALUE)
		*(const char **)d->ptr = value;
	else if (strlist_add(d->ptr, value) < 0)
		return usage_error(command, "out of memory reading '--%s'", d->name);
	return 0;
}

int opts_parse(const char *command, const struct opt_def *defs, int argc, char **argv,
	       int *help, int *nrest)
{
	int rest = 1, i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const struct opt_def *d;
		const char *value = NULL;

		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			*help = 1;
			continue;
		}
		if (a[0] != '-' || a[1] == '\0') {
			argv[rest++] = argv[i];
			continue;
		}
		if (a[1] == '-') {
			const char *eq = strchr(a + 2, '=');
			size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);

			d = find_long(defs, a + 2, len);
			if (!d)
				return usage_error(command, "unknown option '%s'", a);
			if (eq)
				value = eq + 1;
		} else {
			d = find_short(defs, a[1]);
			if (!d)
				return usage_error(command, "unknown option '%s'", a);
			if (a[2])
				value = a + 2;
		}
		if (d->kind == OPT_FLAG) {
			if (value)
				return usage_error(command, "option '--%s' takes no value", d->name);
			*(int *)d->ptr = 1;
			continue;
		}
		if (!value) {
			if (i + 1 >= argc)
				return usage_error(command, "option '--%s' needs a value", d->name);
			value = argv[++i];
		}
		if (store(command, d, value))
			return EXIT_USAGE;
	}
	for (; i < argc; i++)
		argv[rest++] = argv[i];
	*nrest = rest - 1;
	return EXIT_OK;
}
