/*
 * main: the command table and dispatch. `imgvault COMMAND …`, or the same
 * binary invoked as image-COMMAND (argv[0]) behaves as `imgvault COMMAND`.
 */
#include <stdio.h>
#include <string.h>

#include "../util/jsonsafe.h"
#include "cmd.h"

static const struct command *const commands[] = {
	&cmd_catalog,
	&cmd_build,
	&cmd_archive,
	&cmd_restore,
	&cmd_verify,
	&cmd_status,
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i]->name, name))
			return commands[i];
	return NULL;
}

static void main_help(FILE *f)
{
	fputs("usage: imgvault COMMAND [OPTIONS]\n"
	      "       image-COMMAND [OPTIONS]      (the same binary under another name)\n"
	      "\n"
	      "Keep a complete, verified, offline copy of every image a tree of\n"
	      "Docker Compose projects uses.\n"
	      "\n"
	      "Commands:\n", f);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
	fputs("\n"
	      "Options:\n"
	      "  -h, --help     show this help; 'imgvault help COMMAND' for a command\n"
	      "  --version      print the version\n"
	      "\n"
	      "Exit status: 0 all done, 1 some items failed, 2 usage or configuration error.\n", f);
}

static int unknown_command(const char *name)
{
	say_error("unknown command '%s'; see 'imgvault --help'", name);
	return EXIT_USAGE;
}

static int run(const struct command *c, const char *argv0, int via_alias, int argc, char **argv)
{
	struct cmd_context ctx = { c->name, argv0, via_alias };

	return finish_stdout(c->run(&ctx, argc, argv));
}

int main(int argc, char **argv)
{
	const char *argv0 = argc > 0 ? argv[0] : "imgvault";
	const char *base = strrchr(argv0, '/') ? strrchr(argv0, '/') + 1 : argv0;
	const struct command *c;

	json_safe_init();	/* before any thread uses jansson */
	if (!strncmp(base, "image-", 6)) {
		c = find_command(base + 6);
		if (!c)
			return unknown_command(base + 6);
		return run(c, argv0, 1, argc, argv);
	}
	if (argc < 2) {
		main_help(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		main_help(stdout);
		return finish_stdout(EXIT_OK);
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("imgvault %s\n", IMGVAULT_VERSION);
		return finish_stdout(EXIT_OK);
	}
	if (!strcmp(argv[1], "help")) {
		if (argc < 3) {
			main_help(stdout);
			return finish_stdout(EXIT_OK);
		}
		c = find_command(argv[2]);
		if (!c)
			return unknown_command(argv[2]);
		fputs(c->help, stdout);
		return finish_stdout(EXIT_OK);
	}
	if (argv[1][0] == '-') {
		say_error("unknown option '%s'; see 'imgvault --help'", argv[1]);
		return EXIT_USAGE;
	}
	c = find_command(argv[1]);
	if (!c)
		return unknown_command(argv[1]);
	return run(c, argv0, 0, argc - 1, argv + 1);
}
