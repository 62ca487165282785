/*
 * status: the catalog set against an arch folder's manifest. Each image
 * the catalog plans is archived (an entry, and its file there with the
 * recorded size), missing (no entry, or the file is gone or of another
 * size) or stale (the engine holds another image ID under the name, or
 * the catalog now names another tag of a repository archived for the
 * project); entries the catalog no longer names are orphaned. Reads the
 * manifest without the archive lock and never writes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "../catalog/imageref.h"
#include "../engine/images.h"
#include "../store/layout.h"
#include "../store/manifest.h"
#include "../store/verify.h"
#include "../util/path.h"
#include "../util/strmap.h"
#include "common.h"
#include "jobs.h"

static const char status_help[] =
	"usage: imgvault status [OPTIONS]      (also: image-status)\n"
	"\n"
	"Set the catalog against the archive's manifest.json: each catalogued\n"
	"image is archived, missing (no entry, or its file is gone or of another\n"
	"size) or stale (the engine holds another image under that name than the\n"
	"one archived, or the catalog names another tag of a repository archived\n"
	"for the project); manifest entries the catalog no longer names are\n"
	"orphaned. Sizes and totals at the end. Changes nothing.\n"
	"\n"
	"Options:\n"
	"  --root=DIR, --project=NAME, --exclude=NAME, --build-tag=TAG\n"
	"                     as for 'imgvault catalog'\n"
	"  --output-dir=PATH  the archive base (as for 'imgvault archive')\n"
	"  --archive-dir=PATH the arch folder holding manifest.json (default:\n"
	"                     <base>/<the engine's architecture, else this machine's>)\n"
	"  --no-engine        do not ask the engine (image IDs are not compared);\n"
	"                     also what happens, with a warning, when it cannot be\n"
	"                     reached\n"
	"  --json             print one JSON object instead of lines\n"
	"                     (schema/status.schema.json)\n"
	"  -q, --quiet        print only the totals\n"
	"  -H, --host=URL     the engine (as for 'imgvault build')\n"
	"  -h, --help         show this help\n"
	"\n"
	"Exit status: 0 every catalogued image archived and current (orphans do\n"
	"not count); 1 something missing or stale; 2 usage error, unreadable root,\n"
	"or an unreadable or invalid manifest.\n";

enum state { ARCHIVED, MISSING, STALE, ORPHANED };

#define NO_NEXT ((size_t)-1)

static const char *const state_names[] = {
	[ARCHIVED] = "archived", [MISSING] = "missing", [STALE] = "stale", [ORPHANED] = "orphaned",
};

struct status_cmd {
	const char *root, *build_tag, *host, *output_dir, *archive_dir;
	struct strlist projects, excludes;
	int no_engine, json, quiet;

	struct output out;
	struct report_counts counts;
	struct host_env env;
	struct strbuf root_dir, arch_dir;
	char *arch_real;		/* realpath of arch_dir; NULL when it is not there */
	struct catalog catalog;
	struct plan plan;
	struct engine engine;
	int connected;
	struct manifest manifest;
	unsigned char *claimed;		/* per manifest entry: a catalog image accounts for it */
	size_t *next;			/* per manifest entry: the next of its project, or NO_NEXT */
	struct strmap first;		/* project -> its first entry's index + 1 */
	size_t n[4];
	unsigned long long bytes[4];
};

/* Pick the arch folder: --archive-dir, else <base>/<arch> (engine's, else uname's). */
static int find_arch_dir(struct status_cmd *o)
{
	struct strbuf base = STRBUF_INIT, err = STRBUF_INIT;
	char *context = NULL, *arch = NULL;
	struct layout_base_in in = { .output_dir = o->output_dir,
				     .env = getenv("IMAGE_ARCHIVE_DIR"),
				     .root = strbuf_str(&o->root_dir) };
	struct utsname u;
	int code = EXIT_USAGE;

	if (o->archive_dir) {
		path_absolute(&o->arch_dir, o->archive_dir);
		return EXIT_OK;
	}
	context = context_name(&o->env, o->host);
	in.context = context;
	if (!context) {
		strbuf_addstr(&err, "out of memory");
		goto fail;
	}
	if (layout_base_dir(&in, &base, &err) < 0)
		goto fail;
	if (o->connected && engine_info_arch(&o->engine, &arch, &err) < 0) {
		say_warning("cannot tell the engine's architecture (%s); using this machine's",
			    strbuf_str(&err));
		strbuf_reset(&err);
	}
	if (!arch && uname(&u) == 0)
		arch = strdup(u.machine);
	if (layout_arch_dir(strbuf_str(&base), arch ? arch : "unknown", &o->arch_dir, &err) < 0)
		goto fail;
	code = EXIT_OK;
	goto done;
fail:
	say_error("archive folder: %s", strbuf_str(&err));
done:
	free(context);
	free(arch);
	strbuf_release(&base);
	strbuf_release(&err);
	return code;
}

/*
 * Chain each project's entries (first, next), so that looking at one
 * project costs its own entries, not the whole manifest's: a manifest of
 * 100,000 projects takes no quadratic time.
 */
static int index_projects(struct status_cmd *o)
{
	size_t n = manifest_count(&o->manifest);
	size_t *last;

	o->claimed = calloc(n, 1);
	o->next = malloc(n * sizeof(*o->next));
	last = malloc(n * sizeof(*last));
	if (!o->claimed || !o->next || !last) {
		free(last);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const char *p = manifest_at(&o->manifest, i)->project;
		struct strmap_item *it = strmap_put(&o->first, p, strlen(p));

		if (!it) {
			free(last);
			return -1;
		}
		o->next[i] = NO_NEXT;
		if (!it->value) {
			it->value = (void *)(uintptr_t)(i + 1);
		} else {
			/* last[] is kept at the project's first index. */
			size_t head = (size_t)(uintptr_t)it->value - 1;

			o->next[last[head]] = i;
		}
		last[(size_t)(uintptr_t)it->value - 1] = i;
	}
	free(last);
	return 0;
}

/* The index of project's first entry, or NO_NEXT. */
static size_t first_of(const struct status_cmd *o, const char *project)
{
	struct strmap_item *it = strmap_find(&o->first, project, strlen(project));

	return it && it->value ? (size_t)(uintptr_t)it->value - 1 : NO_NEXT;
}

/* Load manifest.json when there is one; no folder or no manifest means nothing archived. */
static int load_manifest(struct status_cmd *o)
{
	struct strbuf path = STRBUF_INIT, err = STRBUF_INIT;
	struct strlist rejected = STRLIST_INIT;
	struct stat sb;
	int code = EXIT_OK;

	o->arch_real = realpath(strbuf_str(&o->arch_dir), NULL);
	if (path_join(&path, strbuf_str(&o->arch_dir), MANIFEST_NAME) < 0) {
		say_error("out of memory");
		code = EXIT_USAGE;
	} else if (!o->arch_real || stat(strbuf_str(&path), &sb) < 0) {
		output_line(&o->out, LINE_PLAIN, "No %s in '%s' yet: nothing is archived there",
			    MANIFEST_NAME, strbuf_str(&o->arch_dir));
	} else if (manifest_load_lenient(&o->manifest, strbuf_str(&path), &rejected, &err) < 0) {
		say_error("%s", strbuf_str(&err));
		code = EXIT_USAGE;
	} else {
		for (size_t i = 0; i < rejected.n; i++)
			say_warning("manifest entry %s; not counted", rejected.items[i]);
	}
	if (code == EXIT_OK && manifest_count(&o->manifest) && index_projects(o) < 0) {
		say_error("out of memory");
		code = EXIT_USAGE;
	}
	strlist_free(&rejected);
	strbuf_release(&path);
	strbuf_release(&err);
	return code;
}

static size_t entry_index(const struct status_cmd *o, const struct manifest_entry *e)
{
	for (size_t i = first_of(o, e->project); i != NO_NEXT; i = o->next[i])
		if (manifest_at(&o->manifest, i) == e)
			return i;
	return 0;
}

/* The repository of ref ("registry/path"), for spotting another tag of it. */
static int repository(const char *ref, struct strbuf *out)
{
	struct imageref r = { 0 };
	struct strbuf err = STRBUF_INIT;
	int ok = imageref_parse(ref, &r, &err) == 0;

	if (ok)
		strbuf_addf(out, "%s/%s", r.registry, r.path);
	imageref_free(&r);
	strbuf_release(&err);
	return ok ? 0 : -1;
}

/* An unclaimed entry of project archiving another tag of image's repository. */
static const struct manifest_entry *older_tag(struct status_cmd *o, const char *project,
					      const char *image)
{
	struct strbuf want = STRBUF_INIT, have = STRBUF_INIT;
	const struct manifest_entry *found = NULL;

	if (repository(image, &want) < 0)
		goto done;
	for (size_t i = first_of(o, project); i != NO_NEXT && !found; i = o->next[i]) {
		const struct manifest_entry *e = manifest_at(&o->manifest, i);

		strbuf_reset(&have);
		if (!o->claimed[i] && repository(e->image, &have) == 0 &&
		    !strcmp(strbuf_str(&have), strbuf_str(&want)))
			found = e;
	}
done:
	strbuf_release(&want);
	strbuf_release(&have);
	return found;
}

/* The entry's file is there, inside the folder, with the recorded size. */
static int file_intact(struct status_cmd *o, const struct manifest_entry *e, struct strbuf *why)
{
	struct strbuf path = STRBUF_INIT;
	struct stat sb;
	enum verify_status st;
	int ok = 0;

	if (!o->arch_real) {
		strbuf_addstr(why, "the archive folder is not there");
		return 0;
	}
	st = verify_resolve(o->arch_real, e->file, &path, why);
	if (st == VERIFY_MISSING)
		strbuf_addf(why, "its file '%s' is gone", e->file);
	else if (st == VERIFY_OK && stat(strbuf_str(&path), &sb) < 0)
		strbuf_addf(why, "its file '%s' is gone", e->file);
	else if (st == VERIFY_OK && (!S_ISREG(sb.st_mode) || sb.st_size != e->size))
		strbuf_addf(why, "its file '%s' is not the one archived (%lld bytes, recorded %lld)",
			    e->file, (long long)sb.st_size, e->size);
	else if (st == VERIFY_OK)
		ok = 1;
	strbuf_release(&path);
	return ok;
}

/* The engine's image ID for name, or NULL (not there, no engine). */
static char *engine_id(struct status_cmd *o, const char *name)
{
	struct strbuf err = STRBUF_INIT;
	char *id = NULL;

	if (o->connected)
		image_id(&o->engine, name, &id, &err);
	strbuf_release(&err);
	return id;
}

static void show(struct status_cmd *o, enum state st, const char *project, const char *image,
		 const struct manifest_entry *e, const char *why)
{
	static const enum line_kind kinds[] = {
		[ARCHIVED] = LINE_GOOD, [MISSING] = LINE_BAD, [STALE] = LINE_WARN,
		[ORPHANED] = LINE_WARN,
	};
	unsigned long long size = e && e->size > 0 ? (unsigned long long)e->size : 0;
	json_t *rep;
	char mb[32];

	o->n[st]++;
	if (st == ARCHIVED || st == ORPHANED)
		o->bytes[st] += size;
	format_mb(mb, sizeof(mb), size);
	if (!o->quiet) {
		if (st == ARCHIVED)
			output_line(&o->out, kinds[st], "[%s] %s  %s", state_names[st], image, mb);
		else if (st == ORPHANED)
			output_line(&o->out, kinds[st], "[%s] %s -> %s  %s", state_names[st], image,
				    e->file, mb);
		else
			output_line(&o->out, kinds[st], "[%s] %s%s%s", state_names[st], image,
				    why ? ": " : "", why ? why : "");
	}
	if (!(rep = output_image(&o->out, project, image, state_names[st])))
		return;
	json_object_set_new(rep, "state", json_string(state_names[st]));
	json_object_del(rep, "outcome");
	json_object_set_new(rep, "file", output_str(e ? e->file : NULL));
	json_object_set_new(rep, "bytes", e ? json_integer(e->size) : json_null());
	json_object_set_new(rep, "docker_id", output_str(e ? e->docker_id : NULL));
	json_object_set_new(rep, "why", output_str(why));
}

static void check_job(struct status_cmd *o, const struct plan_job *j)
{
	const struct manifest_entry *e = manifest_find(&o->manifest, j->project, j->image);
	struct strbuf why = STRBUF_INIT;
	char *id;

	/* A name no engine takes can never be archived: say why, ask no engine. */
	if (!e && job_check_ref(j, &why) < 0) {
		show(o, MISSING, j->project, j->image, NULL, strbuf_str(&why));
		goto done;
	}
	if (!e) {
		const struct manifest_entry *old = older_tag(o, j->project, j->image);

		if (old) {
			o->claimed[entry_index(o, old)] = 1;
			strbuf_addf(&why, "archived as '%s'", old->image);
			show(o, STALE, j->project, j->image, old, strbuf_str(&why));
		} else {
			show(o, MISSING, j->project, j->image, NULL, "not archived");
		}
		goto done;
	}
	o->claimed[entry_index(o, e)] = 1;
	if (!file_intact(o, e, &why)) {
		show(o, MISSING, j->project, j->image, e, strbuf_str(&why));
		goto done;
	}
	id = engine_id(o, j->image);
	if (id && strcmp(id, e->docker_id)) {
		strbuf_addf(&why, "the engine holds %.19s, archived %.19s", id, e->docker_id);
		show(o, STALE, j->project, j->image, e, strbuf_str(&why));
	} else {
		show(o, ARCHIVED, j->project, j->image, e, NULL);
	}
	free(id);
done:
	strbuf_release(&why);
}

/* A manifest project the run looks at: chosen by --project/--exclude. */
static int selected(const struct status_cmd *o, const char *project)
{
	if (o->projects.n)
		return strlist_has(&o->projects, project);
	return !strlist_has(&o->excludes, project);
}

static void show_orphans(struct status_cmd *o, const char *project)
{
	for (size_t i = first_of(o, project); i != NO_NEXT; i = o->next[i]) {
		const struct manifest_entry *e = manifest_at(&o->manifest, i);

		if (!o->claimed[i]) {
			o->claimed[i] = 1;
			show(o, ORPHANED, e->project, e->image, e, "the catalog no longer names it");
		}
	}
}

static void check_all(struct status_cmd *o)
{
	for (size_t p = 0; p < o->catalog.projects.n; p++) {
		const char *project = o->catalog.projects.items[p];

		if (!o->quiet)
			output_line(&o->out, LINE_PLAIN, "=== %s ===", project);
		for (size_t i = 0; i < o->plan.n; i++)
			if (!strcmp(o->plan.jobs[i].project, project))
				check_job(o, &o->plan.jobs[i]);
		show_orphans(o, project);
	}
	/* Projects the manifest has and the tree no longer does. */
	for (size_t i = 0; i < manifest_count(&o->manifest); i++) {
		const struct manifest_entry *e = manifest_at(&o->manifest, i);

		if (o->claimed[i] || !selected(o, e->project))
			continue;
		if (!o->quiet)
			output_line(&o->out, LINE_PLAIN, "=== %s (not in the tree) ===", e->project);
		show_orphans(o, e->project);
	}
}

static void totals(struct status_cmd *o)
{
	char a[32], b[32];

	format_mb(a, sizeof(a), o->bytes[ARCHIVED]);
	format_mb(b, sizeof(b), o->bytes[ORPHANED]);
	output_summary(&o->out, "%sArchived: %zu images, %s\nMissing: %zu\nStale: %zu\n"
		       "Orphaned: %zu images, %s\nArchive: %s\n", o->quiet ? "" : "\n",
		       o->n[ARCHIVED], a, o->n[MISSING], o->n[STALE], o->n[ORPHANED], b,
		       strbuf_str(&o->arch_dir));
	output_report(&o->out, "status",
		      json_pack("{s:o, s:b, s:{s:i, s:I, s:i, s:i, s:i, s:I}}", "archive_dir",
				output_str(strbuf_str(&o->arch_dir)), "engine_checked", o->connected,
				"summary", "archived", (json_int_t)o->n[ARCHIVED], "archived_bytes",
				(json_int_t)o->bytes[ARCHIVED], "missing", (json_int_t)o->n[MISSING],
				"stale", (json_int_t)o->n[STALE], "orphaned",
				(json_int_t)o->n[ORPHANED], "orphaned_bytes",
				(json_int_t)o->bytes[ORPHANED]));
}

static int status_run(const struct cmd_context *ctx, int argc, char **argv)
{
	struct status_cmd o = { 0 };
	const struct opt_def defs[] = {
		{ "root", 0, OPT_VALUE, &o.root },
		{ "project", 0, OPT_LIST, &o.projects },
		{ "exclude", 0, OPT_LIST, &o.excludes },
		{ "build-tag", 0, OPT_VALUE, &o.build_tag },
		{ "output-dir", 0, OPT_VALUE, &o.output_dir },
		{ "archive-dir", 0, OPT_VALUE, &o.archive_dir },
		{ "no-engine", 0, OPT_FLAG, &o.no_engine },
		{ "json", 0, OPT_FLAG, &o.json },
		{ "quiet", 'q', OPT_FLAG, &o.quiet },
		{ "host", 'H', OPT_VALUE, &o.host },
		{ 0 },
	};
	int help = 0, nrest = 0, code;

	code = opts_parse(ctx->command, defs, argc, argv, &help, &nrest);
	if (code == EXIT_OK && help) {
		fputs(status_help, stdout);
		goto out;
	}
	if (code != EXIT_OK)
		goto out;
	if (nrest) {
		say_error("status: unexpected argument '%s'; see 'imgvault status --help'", argv[1]);
		code = EXIT_USAGE;
		goto out;
	}
	output_init(&o.out, o.quiet, 1, o.json, 0);
	resolve_root(ctx, o.root, &o.root_dir);
	host_env_from_environ(&o.env);
	if ((code = scan_tree("status", &(struct tree_scan){ strbuf_str(&o.root_dir), o.build_tag,
							     &o.projects, &o.excludes, &o.counts },
			      &o.catalog, &o.plan)) != EXIT_OK)
		goto out;
	if (!o.no_engine) {
		if (connect_engine(&o.engine, o.host, 0) == EXIT_OK)
			o.connected = 1;
		else
			say_warning("status: going on without the engine; image IDs are not "
				    "compared (--no-engine skips this)");
	}
	if ((code = find_arch_dir(&o)) != EXIT_OK || (code = load_manifest(&o)) != EXIT_OK)
		goto out;
	check_all(&o);
	totals(&o);
	code = o.n[MISSING] || o.n[STALE] ? EXIT_FAILED : EXIT_OK;
out:
	if (o.connected)
		engine_close(&o.engine);
	free(o.claimed);
	free(o.next);
	strmap_free(&o.first, NULL);
	free(o.arch_real);
	manifest_free(&o.manifest);
	plan_free(&o.plan);
	catalog_free(&o.catalog);
	output_release(&o.out);
	strbuf_release(&o.root_dir);
	strbuf_release(&o.arch_dir);
	strlist_free(&o.projects);
	strlist_free(&o.excludes);
	return code;
}

const struct command cmd_status = {
	.name = "status",
	.summary = "the catalog against the archive: archived, missing, stale, orphaned",
	.help = status_help,
	.run = status_run,
};
