/*
 * archive: pull or build every catalogued image, stream each into a
 * compressed archive file and record it in the arch folder's
 * manifest.json, rewritten after every image. One run holds the arch
 * folder's lock; SIGINT/SIGTERM remove the file being written.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../catalog/catalog.h"
#include "../catalog/plan.h"
#include "../codec/atomicfile.h"
#include "../engine/images.h"
#include "../store/archive.h"
#include "../util/path.h"
#include "../store/layout.h"
#include "../store/lock.h"
#include "../store/manifest.h"
#include "../store/verify.h"
#include "../util/text.h"
#include "archive_cmd.h"
#include "common.h"
#include "hook.h"
#include "jobs.h"
#include "progress.h"

static const char archive_help[] =
	"usage: imgvault archive [OPTIONS]      (also: image-archive)\n"
	"\n"
	"Pull or build every catalogued image on the engine, then stream each one\n"
	"into a compressed `docker save` file under the archive folder, with a\n"
	"manifest.json of names, sizes, SHA-256 and image IDs. Images already\n"
	"archived are skipped.\n"
	"\n"
	"Options:\n"
	"  --root=DIR, --project=NAME, --exclude=NAME, --build-tag=TAG\n"
	"                     as for 'imgvault catalog'\n"
	"  --output-dir=PATH  the archive base (default: IMAGE_ARCHIVE_DIR, else\n"
	"                     IMAGE_ARCHIVE_DIR= in the root's .env_<context>, else\n"
	"                     <root>/_archive/images); files go to <base>/<arch>/\n"
	"  --compress=gzip|zstd  .tar.gz (default) or .tar.zst\n"
	"  --level=N          compression level (gzip 1-12, default 6; zstd 1-19,\n"
	"                     default 1, the fastest: --level=3 is ~13% smaller)\n"
	"  --jobs=N           compression threads (default: one per CPU)\n"
	"  --force            archive again even when already archived\n"
	"  --delete           remove each image from the engine once its archive is\n"
	"                     safely stored (and skipped ones too)\n"
	"  --pull             pull fresh base images while building\n"
	"  --pull-only        pull only; skip the images that are built\n"
	"  --no-cache         build without the engine's layer cache\n"
	"  --fail-fast        stop at the first failure\n"
	"  --dry-run          print [pull+save] / [build+save] IMAGE -> FILE; touches\n"
	"                     neither the engine nor the disk\n"
	"  --rebuild-manifest write manifest.json anew from the archive files under\n"
	"                     the base (reads each archive; needs no engine)\n"
	"  --json             print one JSON report at the end instead of lines\n"
	"                     (schema/report.schema.json)\n"
	"  -q, --quiet        print only failures and the summary\n"
	"  --no-progress      no live progress line on a terminal\n"
	"  -v, --verbose      show the engine's output and the ssh command\n"
	"  -H, --host=URL     the engine (as for 'imgvault build')\n"
	"  -h, --help         show this help\n"
	"\n"
	"Exit status: 0 all done; 1 an image failed (the others were archived);\n"
	"2 usage error, unreadable or invalid manifest, archive folder in use, or\n"
	"the engine cannot be reached. Interrupted: 130 (SIGINT), 143 (SIGTERM).\n";

/* The temporary being written, for the signal handler (no allocation there). */
static char current_temp[4096];

static void on_signal(int sig)
{
	if (current_temp[0])
		unlink(current_temp);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void track_temp(void *ctx, const char *path)
{
	sigset_t all, old;

	(void)ctx;
	/* The handler never sees a half-copied path: signals wait for the copy. */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	if (strlen(path) < sizeof(current_temp))
		memcpy(current_temp, path, strlen(path) + 1);
	else
		current_temp[0] = 0;
	sigprocmask(SIG_SETMASK, &old, NULL);
}

static void show_export(void *ctx, unsigned long long bytes)
{
	struct archive_cmd *o = ctx;

	progress_bytes(&o->progress, bytes);
}

static void failed(struct archive_cmd *o, const struct plan_job *j, const char *what,
		   const char *why)
{
	struct strbuf line = STRBUF_INIT;
	const char *image = j->image;
	json_t *rep;

	progress_end(&o->progress);
	output_line(&o->out, LINE_BAD, "[%s] %s: failed: %s", what, image, why);
	rep = output_image(&o->out, j->project, image, "failed");
	json_object_set_new(rep, "action", json_string(what));
	json_object_set_new(rep, "seconds", json_real(output_clock() - o->job_start));
	json_object_set_new(rep, "error", output_str(why));
	strbuf_addf(&line, "%s %s: %s", what, image, why);
	strlist_add(&o->failures, strbuf_str(&line));
	strbuf_release(&line);
}

/* The export of names[] as an image source. */
struct export_ctx {
	struct engine *engine;
	const char *const *names;
	size_t n;
};

static int export_stream(void *ctx, int (*sink)(void *, const char *, size_t), void *sink_ctx,
			 struct strbuf *err)
{
	struct export_ctx *x = ctx;

	return image_export(x->engine, x->names, x->n, sink, sink_ctx, err);
}

/* A built image with no image: also gets <compose project>-<service>:latest. */
static int compose_alias(const struct plan_job *j, struct strbuf *repo, struct strbuf *out)
{
	const struct catalog_entry *e = j->entry;

	if (!j->build || e->image_ref || !e->compose_project || !e->service)
		return 0;
	strbuf_addf(repo, "%s-%s", e->compose_project, e->service);
	strbuf_addf(out, "%s:latest", strbuf_str(repo));
	return strcmp(strbuf_str(out), j->image) != 0;
}

static void remove_from_engine(struct archive_cmd *o, const char *name)
{
	struct strbuf err = STRBUF_INIT;

	if (image_remove(&o->engine, name, 0, &err) < 0)
		say_warning("%s; the archive is stored, the image stays on the engine",
			    strbuf_str(&err));
	strbuf_release(&err);
}

/*
 * Before a re-archived file replaces the old one, its entry goes: a
 * kill -9 between the rename and the manifest's rewrite then leaves a
 * file with no entry (archived again next run), never an entry whose
 * sha256 the file does not have.
 */
static int drop_old_entry(void *ctx, struct strbuf *err)
{
	struct archive_cmd *o = ctx;

	if (!o->replacing || !manifest_remove(&o->manifest, o->replacing->project,
					      o->replacing->image))
		return 0;
	return save_manifest(o, err);
}

/* --json: an image's entry as archived (or skipped, when already). */
static void report_entry(struct archive_cmd *o, const struct manifest_entry *e,
			 const char *outcome, const char *why)
{
	json_t *rep = output_image(&o->out, e->project, e->image, outcome);

	if (!rep)
		return;
	json_object_set_new(rep, "action", json_string(e->action));
	json_object_set_new(rep, "file", output_str(e->file));
	json_object_set_new(rep, "bytes", json_integer(e->size));
	json_object_set_new(rep, "seconds", json_real(output_clock() - o->job_start));
	json_object_set_new(rep, "sha256", output_str(e->sha256));
	json_object_set_new(rep, "docker_id", output_str(e->docker_id));
	if (why)
		json_object_set_new(rep, "reason", output_str(why));
}

/*
 * rel (a path relative to the arch folder) resolved, symlinks followed,
 * into out: 0 when it stays inside the arch folder (or is not there yet),
 * else -1 with err saying where it leads. Nothing is ever written or
 * removed through a symlink that leaves the folder.
 */
static int inside_arch(struct archive_cmd *o, const char *rel, struct strbuf *out,
		       struct strbuf *err)
{
	char *real = realpath(strbuf_str(&o->arch_dir), NULL);
	struct strbuf why = STRBUF_INIT;
	enum verify_status st = VERIFY_CORRUPT;
	int ret;

	if (real)
		st = verify_resolve(real, rel, out, &why);
	else
		strbuf_addstr(&why, strerror(errno));
	ret = st == VERIFY_OK || st == VERIFY_MISSING ? 0 : -1;
	/* verify's words end in "; not read": here the point is the writing. */
	if (why.len >= 10 && !strcmp(why.buf + why.len - 10, "; not read"))
		why.buf[why.len -= 10] = '\0';
	if (ret < 0) {
		strbuf_addf(err, "'%s/", strbuf_str(&o->arch_dir));
		text_quote(err, rel);
		strbuf_addf(err, "': %s; imgvault writes only inside the archive folder",
			    strbuf_str(&why));
	}
	free(real);
	strbuf_release(&why);
	return ret;
}

/*
 * The manifest could not record a file just stored: the entry goes, and
 * once a manifest without it is written, the file too (it may already be
 * in the manifest on disk when only the folder's fsync failed). Never an
 * entry without its file; at worst, when that write fails as well, a
 * whole file with no entry, as after a kill -9.
 */
static void unrecord(struct archive_cmd *o, const struct plan_job *j, const char *dir,
		     const char *name)
{
	struct strbuf path = STRBUF_INIT, ignored = STRBUF_INIT;

	manifest_remove(&o->manifest, j->project, j->image);
	if (path_join(&path, dir, name) == 0 && save_manifest(o, &ignored) == 0)
		unlink(strbuf_str(&path));
	strbuf_release(&path);
	strbuf_release(&ignored);
}

/*
 * A file of the image, under the .tar.gz or the .tar.zst name, that no
 * entry names is what a re-archive switching codec leaves when killed
 * between dropping the old entry and removing the old file (or recording
 * the new one). Once the image is settled (archived or skipped) it goes,
 * so a kill never leaves an orphan that every later run would keep.
 */
static void drop_other_codec(struct archive_cmd *o, const struct plan_job *j)
{
	struct strbuf rel = STRBUF_INIT, folder = STRBUF_INIT, real = STRBUF_INIT;
	struct strbuf name = STRBUF_INIT, path = STRBUF_INIT, err = STRBUF_INIT;
	struct stat st;
	size_t i;

	for (int c = LAYOUT_GZIP; c <= LAYOUT_ZSTD; c++) {
		strbuf_reset(&rel);
		strbuf_reset(&folder);
		strbuf_reset(&real);
		strbuf_reset(&name);
		strbuf_reset(&path);
		strbuf_reset(&err);
		if (layout_rel_path(j->project, j->image, c, &rel, &err) < 0 ||
		    layout_project_dir(j->project, &folder, &err) < 0 ||
		    layout_file_name(j->image, c, &name, &err) < 0)
			continue;
		for (i = 0; i < manifest_count(&o->manifest); i++)
			if (!strcmp(manifest_at(&o->manifest, i)->file, strbuf_str(&rel)))
				break;
		if (i < manifest_count(&o->manifest))
			continue;
		/* Only a regular file, in a project folder inside the arch folder. */
		if (inside_arch(o, strbuf_str(&folder), &real, &err) < 0 || !real.len ||
		    path_join(&path, strbuf_str(&real), strbuf_str(&name)) < 0)
			continue;
		if (lstat(strbuf_str(&path), &st) == 0 && S_ISREG(st.st_mode))
			unlink(strbuf_str(&path));
	}
	strbuf_release(&rel);
	strbuf_release(&folder);
	strbuf_release(&real);
	strbuf_release(&name);
	strbuf_release(&path);
	strbuf_release(&err);
}

/* Export, compress, store, record. 0, or -1 with err set. */
static int save(struct archive_cmd *o, const struct plan_job *j, const char *docker_id,
		const char *alias, const struct manifest_entry *old, struct strbuf *err)
{
	struct strbuf dir = STRBUF_INIT, name = STRBUF_INIT, rel = STRBUF_INIT, now = STRBUF_INIT;
	struct strbuf oldpath = STRBUF_INIT, folder = STRBUF_INIT, real = STRBUF_INIT;
	struct strbuf why = STRBUF_INIT;
	const char *names[2] = { j->image, alias };
	struct export_ctx x = { &o->engine, names, alias ? 2 : 1 };
	struct archive_source src = { export_stream, &x };
	struct archive_target t = { .codec = o->codec, .level = o->level, .threads = o->jobs,
				    .on_temp = track_temp, .on_progress = show_export,
				    .before_commit = drop_old_entry, .ctx = o };
	struct archive_result res;
	struct manifest_entry e = { 0 };
	char size[32];
	int ret = -1;

	if (layout_file_name(j->image, o->codec, &name, err) < 0 ||
	    layout_project_dir(j->project, &folder, err) < 0 ||
	    layout_rel_path(j->project, j->image, o->codec, &rel, err) < 0)
		goto done;
	if (path_join(&dir, strbuf_str(&o->arch_dir), strbuf_str(&folder)) < 0) {
		strbuf_addstr(err, "out of memory");
		goto done;
	}
	if (mkdir(strbuf_str(&dir), 0755) < 0 && errno != EEXIST) {
		strbuf_addf(err, "cannot make '%s': %s", strbuf_str(&dir), strerror(errno));
		goto done;
	}
	/* A project folder that is a symlink out of the arch folder is not written to. */
	if (inside_arch(o, strbuf_str(&folder), &real, err) < 0)
		goto done;
	t.dir = strbuf_str(&dir);
	t.name = strbuf_str(&name);
	/* The old entry's strings go with it: keep its file name first (when inside). */
	strbuf_reset(&real);
	if (old && strcmp(old->file, strbuf_str(&rel)) &&
	    inside_arch(o, old->file, &real, &why) == 0)
		path_join(&oldpath, strbuf_str(&o->arch_dir), old->file);
	o->replacing = old ? j : NULL;
	progress_start(&o->progress, "save", j->image);
	progress_total(&o->progress, o->export_size);
	ret = archive_write(&src, &t, &res, err);
	o->replacing = NULL;
	if (ret < 0)
		goto done;
	ret = -1;
	progress_end(&o->progress);
	if (layout_now(&now) < 0) {
		strbuf_addstr(err, "out of memory");
		unrecord(o, j, t.dir, t.name);
		goto done;
	}
	e.project = j->project;
	e.image = j->image;
	e.action = j->build ? MANIFEST_ACTION_BUILD : MANIFEST_ACTION_PULL;
	e.file = strbuf_str(&rel);
	e.size = (long long)res.size;
	e.sha256 = res.sha256;
	e.docker_id = docker_id;
	e.services = (const char *const *)j->services.items;
	e.nservices = j->services.n;
	e.archived_at = strbuf_str(&now);
	if (manifest_put(&o->manifest, &e, err) < 0 || save_manifest(o, err) < 0) {
		unrecord(o, j, t.dir, t.name);
		goto done;
	}
	/* The old file of a re-archived image, when its name changed (gzip → zstd). */
	if (oldpath.len)
		unlink(strbuf_str(&oldpath));
	drop_other_codec(o, j);
	format_mb(size, sizeof(size), res.size);
	output_line(&o->out, LINE_GOOD, "[%s] %s -> %s: %s", e.action, j->image, strbuf_str(&rel),
		    size);
	report_entry(o, &e, "archived", NULL);
	o->new_images++;
	o->new_bytes += res.size;
	ret = 0;
done:
	strbuf_release(&dir);
	strbuf_release(&name);
	strbuf_release(&rel);
	strbuf_release(&now);
	strbuf_release(&oldpath);
	strbuf_release(&folder);
	strbuf_release(&real);
	strbuf_release(&why);
	return ret;
}

/*
 * The image ID the engine has for name, or NULL (not there, or an error in
 * err); its size, the export's rough total, into o->export_size.
 */
static char *engine_id(struct archive_cmd *o, const char *name, struct strbuf *err)
{
	json_t *info = NULL, *size;
	char *id = NULL;

	o->export_size = 0;
	if (image_inspect(&o->engine, name, &info, err) == 1) {
		const char *v = json_string_value(json_object_get(info, "Id"));

		if (v && !(id = strdup(v)))
			strbuf_addstr(err, "out of memory");
		size = json_object_get(info, "Size");
		if (json_is_integer(size) && json_integer_value(size) > 0)
			o->export_size = (unsigned long long)json_integer_value(size);
	}
	json_decref(info);
	return id;
}

/* Already archived, intact on disk, and the engine holds nothing newer: skip. */
static int should_skip(struct archive_cmd *o, const struct plan_job *j,
		       const struct manifest_entry *old, struct strbuf *note)
{
	struct strbuf path = STRBUF_INIT, err = STRBUF_INIT;
	struct stat st;
	char *id;
	int skip;

	if (o->force || !old || !old->sha256 || !*old->sha256)
		return 0;
	/* A file of another size than recorded, or outside the folder, is not the one archived. */
	skip = inside_arch(o, old->file, &path, &err) == 0 && path.len &&
	       stat(strbuf_str(&path), &st) == 0 && S_ISREG(st.st_mode) &&
	       (long long)st.st_size == old->size;
	strbuf_reset(&err);
	strbuf_release(&path);
	if (!skip) {
		strbuf_release(&err);
		return 0;
	}
	id = engine_id(o, j->image, &err);
	if (id && old->docker_id && strcmp(id, old->docker_id)) {
		strbuf_addf(note, "the engine's image changed (%.19s, archived %.19s)", id,
			    old->docker_id);
		skip = 0;
	}
	free(id);
	strbuf_release(&err);
	return skip;
}

static void skip_job(struct archive_cmd *o, const struct plan_job *j,
		     const struct manifest_entry *old, const char *alias)
{
	char size[32];

	format_mb(size, sizeof(size), (unsigned long long)old->size);
	output_line(&o->out, LINE_SKIP, "[skip] %s (already archived, %s)", j->image, size);
	report_entry(o, old, "skipped", "already archived");
	o->skipped++;
	if (o->delete) {
		remove_from_engine(o, j->image);
		if (alias)
			remove_from_engine(o, alias);
	}
}

/*
 * Whether another entry of the manifest already names the file j would
 * be written to: the file name keeps only [A-Za-z0-9_.-] of the image's
 * name, so "my/app:1" and "my_app:1" (or projects "a b" and "a_b") meet
 * in one file, and writing the second would destroy the first's archive.
 * 1 with err saying so, 0 when free, -1 with err set on layout's errors.
 * j's own entry is found by scanning, not looked up: a lookup needs memory.
 */
static int file_taken(struct archive_cmd *o, const struct plan_job *j, struct strbuf *err)
{
	const struct manifest_entry *other = NULL;
	struct strbuf rel = STRBUF_INIT;

	if (layout_rel_path(j->project, j->image, o->codec, &rel, err) < 0) {
		strbuf_release(&rel);
		return -1;
	}
	for (size_t i = 0; i < manifest_count(&o->manifest); i++) {
		const struct manifest_entry *e = manifest_at(&o->manifest, i);

		if (strcmp(e->file, strbuf_str(&rel)))
			continue;
		/* Its own entry names the file already: any other that does is the wrong one. */
		if (!strcmp(e->project, j->project) && !strcmp(e->image, j->image)) {
			strbuf_release(&rel);
			return 0;
		}
		if (!other)
			other = e;
	}
	if (other) {
		strbuf_addf(err, "its file '%s' already holds '", strbuf_str(&rel));
		text_quote(err, other->image);
		strbuf_addstr(err, "' (project '");
		text_quote(err, other->project);
		if (strcmp(other->image, j->image))
			strbuf_addstr(err, "'): the names differ only where a file name has '_'; "
				      "tag one of them differently");
		else
			strbuf_addstr(err, "'): the project names differ only where a folder name "
				      "has '_'; rename one project's folder");
	}
	strbuf_release(&rel);
	return other ? 1 : 0;
}

static void run_job(struct archive_cmd *o, const struct plan_job *j, int *hook_done)
{
	const char *action = j->build ? MANIFEST_ACTION_BUILD : MANIFEST_ACTION_PULL;
	const struct manifest_entry *old = manifest_find(&o->manifest, j->project, j->image);
	struct strbuf err = STRBUF_INIT, note = STRBUF_INIT, aliasbuf = STRBUF_INIT;
	struct strbuf aliasrepo = STRBUF_INIT;
	const char *alias = compose_alias(j, &aliasrepo, &aliasbuf) ? strbuf_str(&aliasbuf) : NULL;
	char *id = NULL, *built = NULL;

	o->job_start = output_clock();
	if (file_taken(o, j, &err) != 0) {
		failed(o, j, action, strbuf_str(&err));
		goto done;
	}
	if (should_skip(o, j, old, &note)) {
		skip_job(o, j, old, alias);
		drop_other_codec(o, j);
		goto done;
	}
	if (note.len)
		output_line(&o->out, LINE_WARN, "[update] %s: %s; archiving again", j->image,
			    strbuf_str(&note));
	if (j->build && o->pull_only) {
		json_t *rep = output_image(&o->out, j->project, j->image, "skipped");

		json_object_set_new(rep, "action", json_string(action));
		json_object_set_new(rep, "reason", json_string("built, not pulled (--pull-only)"));
		output_line(&o->out, LINE_SKIP, "[skip] %s: built, not pulled (--pull-only)", j->image);
		o->skipped++;
		goto done;
	}
	if (j->build && !*hook_done) {
		*hook_done = 1;
		run_build_hook(strbuf_str(&o->root_dir), j->project, o->out.verbose,
			       o->quiet || o->json);
	}
	if ((j->build ? job_build(&o->runner, j, &built, &err) : job_pull(&o->runner, j, &err)) < 0) {
		failed(o, j, action, strbuf_str(&err));
		goto done;
	}
	if (!(id = engine_id(o, j->image, &err))) {
		failed(o, j, action, err.len ? strbuf_str(&err) : "the engine does not have it");
		goto done;
	}
	/* Never an older image under the name archived as what was just built. */
	if (built && strcmp(built, id)) {
		int w = strncmp(built, id, 19) ? 19 : 80;	/* short IDs, unless they look alike */

		strbuf_addf(&err, "the engine built %.*s, but '%s' is %.*s; run it again",
			    w, built, j->image, w, id);
		failed(o, j, action, strbuf_str(&err));
		goto done;
	}
	if (alias && image_tag(&o->engine, j->image, strbuf_str(&aliasrepo), "latest", &err) < 0) {
		failed(o, j, action, strbuf_str(&err));
		goto done;
	}
	if (save(o, j, id, alias, old, &err) < 0) {
		failed(o, j, action, strbuf_str(&err));
		goto done;
	}
	if (o->delete) {
		remove_from_engine(o, j->image);
		if (alias)
			remove_from_engine(o, alias);
	}
done:
	free(id);
	free(built);
	strbuf_release(&err);
	strbuf_release(&note);
	strbuf_release(&aliasbuf);
	strbuf_release(&aliasrepo);
	fflush(stdout);
}

static void run_project(struct archive_cmd *o, const char *project)
{
	int hook_done = 0;

	output_line(&o->out, LINE_PLAIN, "=== %s ===", project);
	report_entry_errors(&o->out, &o->catalog, project, &o->failures);
	for (size_t i = 0; i < o->plan.n; i++) {
		const struct plan_job *j = &o->plan.jobs[i];

		if (strcmp(j->project, project))
			continue;
		if (o->fail_fast && o->failures.n)
			return;
		if (o->dry_run) {
			struct strbuf rel = STRBUF_INIT, err = STRBUF_INIT;

			const char *action = j->build ? MANIFEST_ACTION_BUILD : MANIFEST_ACTION_PULL;
			json_t *rep = output_image(&o->out, j->project, j->image, "planned");

			layout_rel_path(j->project, j->image, o->codec, &rel, &err);
			output_line(&o->out, LINE_PLAIN, "[%s] %s -> %s", action, j->image,
				    rel.len ? strbuf_str(&rel) : strbuf_str(&err));
			json_object_set_new(rep, "action", json_string(action));
			json_object_set_new(rep, rel.len ? "file" : "error",
					    output_str(rel.len ? strbuf_str(&rel) : strbuf_str(&err)));
			strbuf_release(&rel);
			strbuf_release(&err);
			continue;
		}
		progress_count(&o->progress, ++o->started, o->plan.n);
		run_job(o, j, &hook_done);
	}
}

static void summary(struct archive_cmd *o)
{
	unsigned long long total = 0;
	char a[32], b[32];
	json_t *top, *failures = json_array();

	for (size_t i = 0; i < o->failures.n; i++)
		json_array_append_new(failures, output_str(o->failures.items[i]));
	if (o->dry_run) {
		output_summary(&o->out, "\nDry run: nothing was pulled, built or written.\n");
		top = json_pack("{s:o, s:b, s:{s:i, s:o}}", "archive_dir",
				output_str(strbuf_str(&o->base_dir)), "dry_run", 1, "summary",
				"planned", (json_int_t)o->plan.n, "failures", failures);
		output_report(&o->out, "archive", top);
		return;
	}
	for (size_t i = 0; i < manifest_count(&o->manifest); i++)
		total += (unsigned long long)manifest_at(&o->manifest, i)->size;
	format_mb(a, sizeof(a), o->new_bytes);
	format_mb(b, sizeof(b), total);
	output_summary(&o->out, "\nNew: %zu images, %s\nTotal: %zu images, %s\nSkipped: %zu\n"
		       "Failures: %zu\n", o->new_images, a, manifest_count(&o->manifest), b,
		       o->skipped, o->failures.n);
	for (size_t i = 0; i < o->failures.n; i++)
		output_item(&o->out, o->failures.items[i]);
	output_summary(&o->out, "Archive: %s\n", strbuf_str(&o->arch_dir));
	top = json_pack("{s:o, s:b, s:{s:i, s:I, s:i, s:I, s:i, s:f, s:o}}", "archive_dir",
			output_str(strbuf_str(&o->arch_dir)), "dry_run", 0, "summary",
			"new_images", (json_int_t)o->new_images, "new_bytes",
			(json_int_t)o->new_bytes, "total_images",
			(json_int_t)manifest_count(&o->manifest), "total_bytes", (json_int_t)total,
			"skipped", (json_int_t)o->skipped, "seconds", output_clock() - o->run_start,
			"failures", failures);
	output_report(&o->out, "archive", top);
}

static int archive_images(struct archive_cmd *o)
{
	int code;

	if (!o->dry_run) {
		if ((code = open_arch_folder(o)) != EXIT_OK)
			return code;
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
	} else {
		output_line(&o->out, LINE_PLAIN, "Archive folder: %s/<the engine's architecture>",
			    strbuf_str(&o->base_dir));
	}
	progress_init(&o->progress, &o->out);
	o->runner = (struct job_runner){ .engine = &o->engine, .progress = &o->progress,
					 .env = &o->env, .pull = o->pull, .no_cache = o->no_cache,
					 .verbose = o->verbose };
	for (size_t i = 0; i < o->catalog.projects.n && !(o->fail_fast && o->failures.n); i++)
		run_project(o, o->catalog.projects.items[i]);
	if (o->catalog.projects_failed) {
		struct strbuf line = STRBUF_INIT;

		strbuf_addf(&line, "%zu project(s) could not be read (see the errors above)",
			    o->catalog.projects_failed);
		strlist_add(&o->failures, strbuf_str(&line));
		strbuf_release(&line);
	}
	summary(o);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	progress_release(&o->progress);
	return o->failures.n ? EXIT_FAILED : EXIT_OK;
}

static int archive_run(const struct cmd_context *ctx, int argc, char **argv)
{
	struct archive_cmd o = { .lock = { .fd = -1 } };
	const struct opt_def defs[] = {
		{ "root", 0, OPT_VALUE, &o.root },
		{ "project", 0, OPT_LIST, &o.projects },
		{ "exclude", 0, OPT_LIST, &o.excludes },
		{ "build-tag", 0, OPT_VALUE, &o.build_tag },
		{ "output-dir", 0, OPT_VALUE, &o.output_dir },
		{ "compress", 0, OPT_VALUE, &o.compress },
		{ "level", 0, OPT_VALUE, &o.level_arg },
		{ "jobs", 0, OPT_VALUE, &o.jobs_arg },
		{ "force", 0, OPT_FLAG, &o.force },
		{ "delete", 0, OPT_FLAG, &o.delete },
		{ "pull", 0, OPT_FLAG, &o.pull },
		{ "pull-only", 0, OPT_FLAG, &o.pull_only },
		{ "no-cache", 0, OPT_FLAG, &o.no_cache },
		{ "fail-fast", 0, OPT_FLAG, &o.fail_fast },
		{ "dry-run", 0, OPT_FLAG, &o.dry_run },
		{ "rebuild-manifest", 0, OPT_FLAG, &o.rebuild },
		{ "json", 0, OPT_FLAG, &o.json },
		{ "quiet", 'q', OPT_FLAG, &o.quiet },
		{ "no-progress", 0, OPT_FLAG, &o.no_progress },
		{ "verbose", 'v', OPT_FLAG, &o.verbose },
		{ "host", 'H', OPT_VALUE, &o.host },
		{ 0 },
	};
	int help = 0, nrest = 0, code;

	code = opts_parse(ctx->command, defs, argc, argv, &help, &nrest);
	if (code == EXIT_OK && help) {
		fputs(archive_help, stdout);
		goto out;
	}
	if (code != EXIT_OK || (code = archive_check_options(&o, nrest, argv)) != EXIT_OK)
		goto out;
	o.run_start = output_clock();
	output_init(&o.out, o.quiet, o.no_progress, o.json, o.verbose);
	if (resolve_root(ctx, o.root, &o.root_dir) < 0) {
		say_error("out of memory");
		code = EXIT_USAGE;
		goto out;
	}
	host_env_from_environ(&o.env);
	if ((code = archive_scan(&o)) != EXIT_OK)
		goto out;
	if (o.rebuild) {
		code = rebuild_manifests(&o);
		goto out;
	}
	if (!o.dry_run && (code = connect_engine(&o.engine, o.host, o.verbose)) != EXIT_OK)
		goto out;
	o.connected = !o.dry_run;
	code = archive_images(&o);
out:
	archive_cmd_release(&o);
	return code;
}

const struct command cmd_archive = {
	.name = "archive",
	.summary = "stream every image into compressed, hashed archives with a manifest",
	.help = archive_help,
	.run = archive_run,
};
