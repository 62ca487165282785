/*
 * catalog: list every image of a tree of compose projects — as a table
 * with a summary, the summary alone, or JSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../catalog/catalog.h"
#include "../catalog/report.h"
#include "../util/jsonsafe.h"
#include "../util/text.h"
#include "common.h"

static const char catalog_help[] =
	"usage: imgvault catalog [OPTIONS]      (also: image-catalog)\n"
	"\n"
	"List every image a tree of Docker Compose projects uses, resolved as\n"
	"Docker Compose would resolve it, and where it comes from.\n"
	"\n"
	"A project is each folder under the root whose name starts with neither\n"
	"'.' nor '_' and that holds compose.yaml, compose.yml, docker-compose.yaml\n"
	"or docker-compose.yml. Variables come from the project's .env-dist only:\n"
	"the shell environment is NOT consulted, so every machine sees the same\n"
	"catalog.\n"
	"\n"
	"Options:\n"
	"  --root=DIR         projects root (default: IMGVAULT_ROOT, else the parent\n"
	"                     of a _scripts folder imgvault runs from as image-*,\n"
	"                     else the current folder)\n"
	"  --project=NAME     only this project folder (repeatable)\n"
	"  --exclude=NAME     skip this project folder (repeatable)\n"
	"  --build-tag=TAG    tag of images built without image: (default:\n"
	"                     IMGVAULT_BUILD_TAG, else d-rymcg-tech-YYYYMMDD, today)\n"
	"  --json             print only a JSON array, one entry per service\n"
	"  --summary          print only the summary\n"
	"  --list-projects    print only the names of the project folders, one a\n"
	"                     line, sorted, after --project and --exclude; nothing is\n"
	"                     loaded (shell completion uses it). A name holding a\n"
	"                     newline is left out: it cannot be told apart\n"
	"  -h, --help         show this help\n"
	"\n"
	"Exit status: 0 all resolved; 1 a project or an entry could not be\n"
	"resolved (the others are listed); 2 usage error or unreadable root.\n";

struct catalog_cmd {
	const char *root, *build_tag;
	struct strlist projects, excludes;
	int json, summary_only, list_projects;
	struct report_counts counts;
};

static void service_label(const struct catalog_entry *e, struct strbuf *out)
{
	strbuf_addstr(out, e->service);
	if (!e->profiles.n)
		return;
	strbuf_addstr(out, " [");
	for (size_t i = 0; i < e->profiles.n; i++)
		strbuf_addf(out, "%s%s", i ? "," : "", e->profiles.items[i]);
	strbuf_addch(out, ']');
}

static const char *image_cell(const struct catalog_entry *e, struct strbuf *tmp)
{
	if (!e->error)
		return e->image ? e->image : "-";
	strbuf_setf(tmp, "ERROR: %s", e->error);
	return strbuf_str(tmp);
}

/*
 * The table's cells for entry e, each on one line (names from folders and
 * files may hold newlines): PROJECT, SERVICE, SOURCE, IMAGE, ENV VAR.
 */
static void table_cells(const struct catalog_entry *e, struct strbuf cells[5])
{
	struct strbuf raw = STRBUF_INIT;

	for (int k = 0; k < 5; k++)
		strbuf_reset(&cells[k]);
	text_quote(&cells[0], e->project);
	service_label(e, &raw);
	text_quote(&cells[1], strbuf_str(&raw));
	strbuf_addstr(&cells[2], image_source_name(e->source));
	text_quote(&cells[3], image_cell(e, &raw));
	text_quote(&cells[4], e->env_var ? e->env_var : "-");
	strbuf_release(&raw);
}

static void print_table(const struct catalog *c)
{
	size_t w[5] = { 7, 7, 6, 5, 7 };	/* PROJECT SERVICE SOURCE IMAGE ENV VAR */
	struct strbuf cell[5] = { STRBUF_INIT, STRBUF_INIT, STRBUF_INIT, STRBUF_INIT, STRBUF_INIT };

	for (size_t i = 0; i < c->n; i++) {
		table_cells(&c->entries[i], cell);
		for (int k = 0; k < 5; k++)
			if (cell[k].len > w[k])
				w[k] = cell[k].len;
	}
	printf("%-*s  %-*s  %-*s  %-*s  %-*s  %s\n", (int)w[0], "PROJECT", (int)w[1], "SERVICE",
	       (int)w[2], "SOURCE", (int)w[3], "IMAGE", (int)w[4], "ENV VAR", "PINNED");
	for (size_t i = 0; i < c->n; i++) {
		table_cells(&c->entries[i], cell);
		printf("%-*s  %-*s  %-*s  %-*s  %-*s  %s\n", (int)w[0], strbuf_str(&cell[0]),
		       (int)w[1], strbuf_str(&cell[1]), (int)w[2], strbuf_str(&cell[2]), (int)w[3],
		       strbuf_str(&cell[3]), (int)w[4], strbuf_str(&cell[4]),
		       c->entries[i].version_pinned ? "yes" : "no");
	}
	putchar('\n');
	for (int k = 0; k < 5; k++)
		strbuf_release(&cell[k]);
}

static void print_list(const char *title, const struct strlist *l)
{
	if (!l->n)
		return;
	printf("\n%s:\n", title);
	for (size_t i = 0; i < l->n; i++) {
		struct strbuf q = STRBUF_INIT;

		text_quote(&q, l->items[i]);
		printf("  %s\n", strbuf_str(&q));
		strbuf_release(&q);
	}
}

static void print_summary(const struct catalog *c)
{
	struct catalog_summary s;

	catalog_summarize(c, &s);
	printf("Summary\n");
	printf("  Projects scanned:        %zu", s.projects);
	if (s.projects_failed)
		printf(" (%zu skipped on errors)", s.projects_failed);
	printf("\n  Service entries:         %zu", s.entries);
	if (s.entry_errors)
		printf(" (%zu unresolved)", s.entry_errors);
	printf("\n  Unique images:           %zu\n", s.unique_images);
	printf("  Pull-only services:      %zu\n", s.by_source[SOURCE_PULL]);
	printf("  Build (local) services:  %zu\n", s.by_source[SOURCE_BUILD_LOCAL]);
	printf("  Build (remote) services: %zu\n", s.by_source[SOURCE_BUILD_REMOTE]);
	printf("  Build-only services:     %zu\n", s.by_source[SOURCE_BUILD_ONLY]);
	printf("  Unpinned pull images:    %zu\n", s.unpinned_pull);
	printf("  Hardcoded pull images:   %zu\n", s.hardcoded_pull);
	if (s.nregistries) {
		printf("\nRegistries (pull images):\n");
		for (size_t i = 0; i < s.nregistries; i++)
			printf("  %-24s %zu\n", s.registries[i].registry, s.registries[i].images);
	}
	print_list("Unpinned pull images (no tag, or 'latest')", &s.unpinned);
	print_list("Hardcoded pull images (no variable controls them)", &s.hardcoded);
	catalog_summary_free(&s);
}

static int print_json(const struct catalog *c)
{
	json_t *j = catalog_to_json(c);
	char *text;
	int r;

	if (!j) {
		say_error("out of memory building the JSON output");
		return -1;
	}
	text = json_text(j, JSON_INDENT(2) | JSON_ENSURE_ASCII);
	json_decref(j);
	if (!text) {
		say_error("out of memory writing the JSON output");
		return -1;
	}
	r = fputs(text, stdout) < 0 || putchar('\n') == EOF ? -1 : 0;
	free(text);
	return r;
}

/* --list-projects: the folders the catalog would read, one a line. */
static int list_projects(struct catalog_cmd *o, const char *root)
{
	struct strlist found = STRLIST_INIT;
	struct strbuf err = STRBUF_INIT;
	int code = EXIT_USAGE;

	if (catalog_find_projects(root, strlist_argv(&o->projects), strlist_argv(&o->excludes),
				  &found, &err) < 0) {
		say_error("%s; pass --root=DIR or set IMGVAULT_ROOT", strbuf_str(&err));
		goto done;
	}
	if (projects_exist(&o->projects, &found, root) != EXIT_OK)
		goto done;
	code = EXIT_OK;
	for (size_t i = 0; i < found.n && code == EXIT_OK; i++)
		if (!strchr(found.items[i], '\n') && puts(found.items[i]) == EOF)
			code = EXIT_FAILED;	/* finish_stdout names the error */
done:
	strlist_free(&found);
	strbuf_release(&err);
	return code;
}

static int run_catalog(const struct cmd_context *ctx, int argc, char **argv)
{
	struct catalog_cmd o = { 0 };
	const struct opt_def defs[] = {
		{ "root", 0, OPT_VALUE, &o.root },
		{ "project", 0, OPT_LIST, &o.projects },
		{ "exclude", 0, OPT_LIST, &o.excludes },
		{ "build-tag", 0, OPT_VALUE, &o.build_tag },
		{ "json", 0, OPT_FLAG, &o.json },
		{ "summary", 0, OPT_FLAG, &o.summary_only },
		{ "list-projects", 0, OPT_FLAG, &o.list_projects },
		{ 0 },
	};
	struct catalog_report rep = { report_warning, report_error, &o.counts };
	struct strbuf root = STRBUF_INIT, tag = STRBUF_INIT, err = STRBUF_INIT;
	struct catalog c = { 0 };
	int help = 0, nrest = 0, code;

	code = opts_parse(ctx->command, defs, argc, argv, &help, &nrest);
	if (code == EXIT_OK && help) {
		fputs(catalog_help, stdout);
		goto done;
	}
	if (code == EXIT_OK && nrest) {
		say_error("unexpected argument '%s'; see 'imgvault catalog --help'", argv[1]);
		code = EXIT_USAGE;
	}
	if (code != EXIT_OK)
		goto done;
	code = EXIT_USAGE;
	if (resolve_root(ctx, o.root, &root) < 0)
		goto done;
	if (o.list_projects) {
		code = list_projects(&o, strbuf_str(&root));
		goto done;
	}
	if (resolve_build_tag(o.build_tag, &tag) < 0)
		goto done;
	{
		struct catalog_options opt = {
			strbuf_str(&root), strbuf_str(&tag), strlist_argv(&o.projects),
			strlist_argv(&o.excludes), &rep,
		};

		if (catalog_scan(&c, &opt, &err) < 0) {
			say_error("%s; pass --root=DIR or set IMGVAULT_ROOT", strbuf_str(&err));
			goto done;
		}
	}
	if (projects_exist(&o.projects, &c.projects, strbuf_str(&root)) != EXIT_OK)
		goto done;
	code = EXIT_FAILED;
	if (o.json) {
		if (print_json(&c) < 0)
			goto done;
	} else {
		if (!o.summary_only)
			print_table(&c);
		print_summary(&c);
	}
	code = (c.projects_failed || c.entry_errors) ? EXIT_FAILED : EXIT_OK;
done:
	catalog_free(&c);
	strlist_free(&o.projects);
	strlist_free(&o.excludes);
	strbuf_release(&root);
	strbuf_release(&tag);
	strbuf_release(&err);
	return code;
}

const struct command cmd_catalog = {
	"catalog",
	"list every image of a tree of compose projects",
	catalog_help,
	run_catalog,
};
