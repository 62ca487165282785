/*
 * cmd: the command table, exit codes and option parsing shared by every
 * command. Only src/cmd/ prints or exits.
 */
#ifndef IMGVAULT_CMD_H
#define IMGVAULT_CMD_H

#include "../util/strlist.h"

enum exit_code {
	EXIT_OK = 0,		/* all done */
	EXIT_FAILED = 1,	/* some items failed */
	EXIT_USAGE = 2,		/* usage, configuration, or engine unreachable */
};

enum opt_kind {
	OPT_FLAG,	/* int *: set to 1 */
	OPT_VALUE,	/* const char **: the last value given wins */
	OPT_LIST,	/* struct strlist *: every value, in order (repeatable) */
};

struct opt_def {
	const char *name;	/* long name without "--" */
	char short_name;	/* 0 for none */
	enum opt_kind kind;
	void *ptr;
};

/* What every command gets: its name and how imgvault was invoked. */
struct cmd_context {
	const char *command;
	const char *argv0;	/* as invoked, e.g. "/x/_scripts/image-catalog" */
	int via_alias;		/* invoked as image-* */
};

struct command {
	const char *name;
	const char *summary;
	const char *help;	/* full usage text */
	int (*run)(const struct cmd_context *ctx, int argc, char **argv);
};

extern const struct command cmd_catalog;
extern const struct command cmd_build;
extern const struct command cmd_archive;
extern const struct command cmd_restore;
extern const struct command cmd_verify;
extern const struct command cmd_status;

/*
 * Parse argv[1..] against defs: --name=value, --name value, -x value,
 * flags, and "--" to end options. "-h"/"--help" sets *help. Remaining
 * arguments are moved to the front of argv[1..]; *nrest says how many.
 * On a bad option prints one line and a usage hint and returns EXIT_USAGE.
 */
int opts_parse(const char *command, const struct opt_def *defs, int argc, char **argv,
	       int *help, int *nrest);

/* Print "imgvault: <msg>" on stderr. */
void say_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void say_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Flush and close stdout; report a write error (ENOSPC, EPIPE) as a failure. */
int finish_stdout(int code);

#endif
