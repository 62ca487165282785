/*
 * verify: check an arch folder against its manifest.json — every file
 * there, inside the folder, with its recorded size and SHA-256 (and with
 * --deep, whole inside) — and name the archive files no entry lists. One
 * line per file in manifest order, then a summary. Needs no engine.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "../store/layout.h"
#include "../store/manifest.h"
#include "../store/verify.h"
#include "../util/fileio.h"
#include "../util/path.h"
#include "../util/text.h"
#include "common.h"
#include "progress.h"

static const char verify_help[] =
	"usage: imgvault verify [OPTIONS]      (also: image-verify)\n"
	"\n"
	"Check every archive the manifest lists: the file is there, inside the\n"
	"archive folder, with the size and SHA-256 the manifest records. Archive\n"
	"files (*.tar.gz, *.tar.zst) in project folders that no entry names are\n"
	"reported as orphans. Needs no engine.\n"
	"\n"
	"Options:\n"
	"  --archive-dir=PATH the arch folder holding manifest.json (default:\n"
	"                     <base>/<this machine's architecture>, the base as for\n"
	"                     'imgvault archive'; when that has no manifest.json but\n"
	"                     exactly one arch folder under the base has, that one)\n"
	"  --root=DIR         projects root (for the default archive base)\n"
	"  --project=NAME     only this project's entries and folder (repeatable)\n"
	"  --deep             also decompress each archive and read the tar inside:\n"
	"                     complete, its image config hashing to the entry's\n"
	"                     docker_id, each layer hashing to its diff ID\n"
	"  --jobs=N           files checked at once (default: one per CPU)\n"
	"  --json             print one JSON report at the end instead of lines\n"
	"                     (schema/report.schema.json)\n"
	"  -q, --quiet        print only problems and the summary\n"
	"  --no-progress      no live progress line on a terminal\n"
	"  -h, --help         show this help\n"
	"\n"
	"Output: one line per file — ok, MISMATCH (size or sha256), MISSING,\n"
	"CORRUPT (a manifest entry that is not valid, a path leaving the archive\n"
	"folder, a file that cannot be read or, deep, is broken inside), ORPHAN —\n"
	"then a summary line. Files are never read through a path that leaves\n"
	"the archive folder.\n"
	"\n"
	"Exit status: 0 all ok; 1 any file is not, or an orphan; 2 usage error, no\n"
	"manifest, an unreadable or invalid manifest, or an archive run is writing\n"
	"into the folder.\n";

struct verify_cmd {
	const char *root, *archive_dir, *jobs_arg;
	struct strlist projects;
	int deep, jobs, json, quiet, no_progress;
	struct output out;
	struct progress progress;
	struct strbuf arch_dir;
	struct manifest manifest;
	struct strlist rejected;	/* entries the manifest set aside */
	int lock_fd;
};

static int parse_jobs(struct verify_cmd *o)
{
	char *end;
	long v;

	if (!o->jobs_arg)
		return EXIT_OK;
	errno = 0;
	v = strtol(o->jobs_arg, &end, 10);
	if (errno || end == o->jobs_arg || *end || v < 1 || v > VERIFY_MAX_JOBS) {
		say_error("verify: --jobs must be a whole number from 1 to %d, not '%s'",
			  VERIFY_MAX_JOBS, o->jobs_arg);
		return EXIT_USAGE;
	}
	o->jobs = (int)v;
	return EXIT_OK;
}

static int has_manifest(const char *dir)
{
	struct strbuf p = STRBUF_INIT;
	struct stat sb;
	int r;

	path_join(&p, dir, MANIFEST_NAME);
	r = stat(strbuf_str(&p), &sb) == 0 && S_ISREG(sb.st_mode);
	strbuf_release(&p);
	return r;
}

/* The arch folders under base that hold a manifest.json, by name. */
static void arch_folders(const char *base, struct strlist *out)
{
	DIR *d = opendir(base);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		struct strbuf sub = STRBUF_INIT;

		if (de->d_name[0] != '.') {
			path_join(&sub, base, de->d_name);
			if (has_manifest(strbuf_str(&sub)))
				strlist_add(out, de->d_name);
		}
		strbuf_release(&sub);
	}
	if (d)
		closedir(d);
}

/* <base>/<uname -m>, or the only arch folder under base with a manifest. */
static int default_arch_dir(struct verify_cmd *o, const struct cmd_context *ctx)
{
	struct strbuf root = STRBUF_INIT, base = STRBUF_INIT, err = STRBUF_INIT;
	struct strlist found = STRLIST_INIT;
	struct host_env env;
	char *context;
	struct layout_base_in in = { .env = getenv("IMAGE_ARCHIVE_DIR") };
	struct utsname u;
	int code = EXIT_USAGE;

	host_env_from_environ(&env);
	context = context_name(&env, NULL);
	in.context = context;
	resolve_root(ctx, o->root, &root);
	in.root = strbuf_str(&root);
	if (!context)
		strbuf_addstr(&err, "out of memory");
	if (!context || layout_base_dir(&in, &base, &err) < 0 || uname(&u) < 0 ||
	    layout_arch_dir(strbuf_str(&base), u.machine, &o->arch_dir, &err) < 0) {
		say_error("archive folder: %s", err.len ? strbuf_str(&err) : strerror(errno));
		goto out;
	}
	if (has_manifest(strbuf_str(&o->arch_dir))) {
		code = EXIT_OK;
		goto out;
	}
	arch_folders(strbuf_str(&base), &found);
	if (found.n == 1) {
		strbuf_reset(&o->arch_dir);
		path_join(&o->arch_dir, strbuf_str(&base), found.items[0]);
		code = EXIT_OK;
	} else if (!found.n) {
		say_error("no %s in '%s', nor in any other arch folder under '%s'; archive first, "
			  "or name the folder with --archive-dir", MANIFEST_NAME,
			  strbuf_str(&o->arch_dir), strbuf_str(&base));
	} else {
		struct strbuf names = STRBUF_INIT;

		for (size_t i = 0; i < found.n; i++)
			strbuf_addf(&names, "%s%s", i ? ", " : "", found.items[i]);
		say_error("no %s in '%s', and '%s' holds several arch folders (%s); "
			  "choose one with --archive-dir", MANIFEST_NAME, strbuf_str(&o->arch_dir),
			  strbuf_str(&base), strbuf_str(&names));
		strbuf_release(&names);
	}
out:
	free(context);
	strlist_free(&found);
	strbuf_release(&root);
	strbuf_release(&base);
	strbuf_release(&err);
	return code;
}

/* Settle the arch folder, hold it against archive runs, load its manifest. */
static int open_manifest(struct verify_cmd *o, const struct cmd_context *ctx)
{
	struct strbuf path = STRBUF_INIT, err = STRBUF_INIT;
	int code = EXIT_USAGE;

	if (o->archive_dir) {
		path_absolute(&o->arch_dir, o->archive_dir);
		if (!has_manifest(strbuf_str(&o->arch_dir))) {
			say_error("no %s in '%s' (--archive-dir names the arch folder that holds it)",
				  MANIFEST_NAME, strbuf_str(&o->arch_dir));
			goto out;
		}
	} else if (default_arch_dir(o, ctx) != EXIT_OK) {
		goto out;
	}
	if (verify_lock(strbuf_str(&o->arch_dir), &o->lock_fd, &err) < 0) {
		say_error("%s", strbuf_str(&err));
		goto out;
	}
	if (path_join(&path, strbuf_str(&o->arch_dir), MANIFEST_NAME) < 0) {
		say_error("out of memory");
		goto out;
	}
	if (manifest_load_lenient(&o->manifest, strbuf_str(&path), &o->rejected, &err) < 0) {
		say_error("%s", strbuf_str(&err));
		goto out;
	}
	code = EXIT_OK;
out:
	strbuf_release(&path);
	strbuf_release(&err);
	return code;
}

/* How many entries are checked; every --project must name entries or a folder. */
static int count_entries(struct verify_cmd *o, size_t *n)
{
	*n = o->rejected.n;
	for (size_t i = 0; i < manifest_count(&o->manifest); i++)
		if (!o->projects.n || strlist_has(&o->projects, manifest_at(&o->manifest, i)->project))
			(*n)++;
	for (size_t i = 0; i < o->projects.n; i++) {
		struct strbuf dir = STRBUF_INIT;
		int known = 0;

		for (size_t j = 0; j < manifest_count(&o->manifest) && !known; j++)
			known = !strcmp(manifest_at(&o->manifest, j)->project, o->projects.items[i]);
		path_join(&dir, strbuf_str(&o->arch_dir), o->projects.items[i]);
		if (!known && !file_is_dir(strbuf_str(&dir))) {
			say_error("verify: no project '%s' in '%s'", o->projects.items[i],
				  strbuf_str(&o->arch_dir));
			strbuf_release(&dir);
			return EXIT_USAGE;
		}
		strbuf_release(&dir);
	}
	return EXIT_OK;
}

/* --json: one file's outcome. */
static void report_result(struct verify_cmd *o, const struct verify_result *r)
{
	static const char *const outcomes[] = {
		[VERIFY_OK] = "ok", [VERIFY_MISMATCH] = "mismatch", [VERIFY_MISSING] = "missing",
		[VERIFY_CORRUPT] = "corrupt", [VERIFY_ORPHAN] = "orphan",
	};
	const struct manifest_entry *e = r->entry;
	struct strbuf project = STRBUF_INIT;
	json_t *rep;

	/* An orphan's project is its folder: "project/name". */
	if (!e && r->file && strchr(r->file, '/'))
		strbuf_add(&project, r->file, (size_t)(strchr(r->file, '/') - r->file));
	rep = output_image(&o->out, e ? e->project : project.len ? strbuf_str(&project) : NULL,
			   e ? e->image : NULL, outcomes[r->status]);
	strbuf_release(&project);
	json_object_set_new(rep, "file", output_str(r->file));
	json_object_set_new(rep, "bytes", json_integer((json_int_t)r->size));
	json_object_set_new(rep, "seconds", json_real(r->seconds));
	json_object_set_new(rep, "sha256", r->sha256[0] ? json_string(r->sha256) : json_null());
	json_object_set_new(rep, "docker_id", output_str(e ? e->docker_id : NULL));
	if (r->why.len)
		json_object_set_new(rep, "error", output_str(strbuf_str(&r->why)));
}

static void print_result(void *ctx, const struct verify_result *r)
{
	static const char *const words[] = {
		[VERIFY_OK] = "ok", [VERIFY_MISMATCH] = "MISMATCH", [VERIFY_MISSING] = "MISSING",
		[VERIFY_CORRUPT] = "CORRUPT", [VERIFY_ORPHAN] = "ORPHAN",
	};
	struct verify_cmd *o = ctx;
	struct strbuf file = STRBUF_INIT, rest = STRBUF_INIT;
	char word[32];

	report_result(o, r);
	if (r->file)
		text_quote(&file, r->file);
	else
		strbuf_addstr(&file, "manifest entry");
	if (r->status == VERIFY_OK)
		strbuf_addf(&rest, " (%.1f MB)", (double)r->size / 1e6);
	else if (r->why.len)
		strbuf_addf(&rest, "%s%s", r->file ? ": " : " ", strbuf_str(&r->why));
	snprintf(word, sizeof(word), "%-8s", words[r->status]);
	progress_pause(&o->progress);
	output_line(&o->out, r->status == VERIFY_OK ? LINE_GOOD : LINE_BAD, "%s %s%s", word,
		    strbuf_str(&file), strbuf_str(&rest));
	progress_resume(&o->progress);
	strbuf_release(&file);
	strbuf_release(&rest);
}

static void checked_bytes(void *ctx, unsigned long long n)
{
	progress_add(ctx, n);
}

static int verify_all(struct verify_cmd *o)
{
	struct verify_opts vo = { .deep = o->deep, .jobs = o->jobs, .projects = &o->projects,
				  .rejected = &o->rejected, .on_bytes = checked_bytes,
				  .bytes_ctx = &o->progress };
	struct verify_counts c;
	struct strbuf err = STRBUF_INIT;
	unsigned long long total = 0;
	double start = output_clock();
	char what[64];
	size_t n;
	int r, code;

	if ((code = count_entries(o, &n)) != EXIT_OK)
		return code;
	for (size_t i = 0; i < manifest_count(&o->manifest); i++) {
		const struct manifest_entry *e = manifest_at(&o->manifest, i);

		if ((!o->projects.n || strlist_has(&o->projects, e->project)) && e->size > 0)
			total += (unsigned long long)e->size;
	}
	output_line(&o->out, LINE_PLAIN, "Verifying %s (%zu %s)", strbuf_str(&o->arch_dir), n,
		    n == 1 ? "entry" : "entries");
	snprintf(what, sizeof(what), "%zu %s", n, n == 1 ? "file" : "files");
	progress_start(&o->progress, o->deep ? "verify --deep" : "verify", what);
	progress_total(&o->progress, total);
	r = verify_run(strbuf_str(&o->arch_dir), &o->manifest, &vo, print_result, o, &c, &err);
	progress_end(&o->progress);
	if (r < 0) {
		say_error("%s", strbuf_str(&err));
		strbuf_release(&err);
		return EXIT_USAGE;
	}
	output_summary(&o->out, "\nChecked: %zu, ok: %zu, mismatched: %zu, missing: %zu, "
		       "corrupt: %zu, orphans: %zu\n", c.checked, c.ok, c.mismatched, c.missing,
		       c.corrupt, c.orphans);
	output_report(&o->out, "verify",
		      json_pack("{s:o, s:b, s:{s:i, s:i, s:i, s:i, s:i, s:i, s:f}}",
				"archive_dir", output_str(strbuf_str(&o->arch_dir)), "deep", o->deep,
				"summary", "checked", (json_int_t)c.checked, "ok", (json_int_t)c.ok,
				"mismatched", (json_int_t)c.mismatched, "missing",
				(json_int_t)c.missing, "corrupt", (json_int_t)c.corrupt, "orphans",
				(json_int_t)c.orphans, "seconds", output_clock() - start));
	if (r > 0) {
		fflush(stdout);
		say_error("looking for orphans: %s", strbuf_str(&err));
	}
	strbuf_release(&err);
	return r || c.ok != c.checked || c.orphans ? EXIT_FAILED : EXIT_OK;
}

static int verify_cmd_run(const struct cmd_context *ctx, int argc, char **argv)
{
	struct verify_cmd o = { .lock_fd = -1 };
	const struct opt_def defs[] = {
		{ "archive-dir", 0, OPT_VALUE, &o.archive_dir },
		{ "root", 0, OPT_VALUE, &o.root },
		{ "project", 0, OPT_LIST, &o.projects },
		{ "deep", 0, OPT_FLAG, &o.deep },
		{ "jobs", 0, OPT_VALUE, &o.jobs_arg },
		{ "json", 0, OPT_FLAG, &o.json },
		{ "quiet", 'q', OPT_FLAG, &o.quiet },
		{ "no-progress", 0, OPT_FLAG, &o.no_progress },
		{ 0 },
	};
	int help = 0, nrest = 0, code;

	code = opts_parse(ctx->command, defs, argc, argv, &help, &nrest);
	if (code == EXIT_OK && help) {
		fputs(verify_help, stdout);
		goto out;
	}
	if (code != EXIT_OK)
		goto out;
	if (nrest) {
		say_error("verify: unexpected argument '%s'; see 'imgvault verify --help'", argv[1]);
		code = EXIT_USAGE;
		goto out;
	}
	output_init(&o.out, o.quiet, o.no_progress, o.json, 0);
	progress_init(&o.progress, &o.out);
	if ((code = parse_jobs(&o)) != EXIT_OK || (code = open_manifest(&o, ctx)) != EXIT_OK)
		goto out;
	code = verify_all(&o);
out:
	progress_release(&o.progress);
	output_release(&o.out);
	verify_unlock(o.lock_fd);
	manifest_free(&o.manifest);
	strbuf_release(&o.arch_dir);
	strlist_free(&o.projects);
	strlist_free(&o.rejected);
	return code;
}

const struct command cmd_verify = {
	.name = "verify",
	.summary = "check every archive against the manifest (and, deep, inside)",
	.help = verify_help,
	.run = verify_cmd_run,
};
