/*
 * restore: load archives back into an engine, each only after its
 * SHA-256 equals the manifest's, and check afterwards that the engine
 * holds the manifest's image ID under the image's name. Files are hashed
 * on several threads before the first load; loads go one at a time,
 * decompressed on the fly (the engine gets the plain tar, which every
 * engine reads and loads fastest — zstd included on Engine 20.10).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../codec/sha256.h"
#include "../codec/unpack.h"
#include "../engine/images.h"
#include "../store/layout.h"
#include "../store/manifest.h"
#include "../store/verify.h"
#include "../util/path.h"
#include "common.h"
#include "progress.h"

static const char restore_help[] =
	"usage: imgvault restore [OPTIONS]      (also: image-restore)\n"
	"\n"
	"Load archived images back into a Docker engine. Each file's SHA-256 must\n"
	"equal the manifest's before a byte of it reaches the engine; afterwards\n"
	"the engine must hold the manifest's image ID under the image's name.\n"
	"\n"
	"Options:\n"
	"  --archive-dir=PATH the arch folder holding manifest.json (default:\n"
	"                     <base>/<the engine's architecture>, the base as for\n"
	"                     'imgvault archive')\n"
	"  --root=DIR         projects root (for the default archive base)\n"
	"  --project=NAME     only this project (repeatable)\n"
	"  --force            load even images the engine already holds\n"
	"  --dry-run          verify the files and print what would be loaded\n"
	"  --jobs=N           files hashed at once (default: one per CPU)\n"
	"  --json             print one JSON report at the end instead of lines\n"
	"                     (schema/report.schema.json)\n"
	"  -q, --quiet        print only failures and the summary\n"
	"  --no-progress      no live progress line on a terminal\n"
	"  -v, --verbose      show the ssh command\n"
	"  -H, --host=URL     the engine (as for 'imgvault build')\n"
	"  -h, --help         show this help\n"
	"\n"
	"Exit status: 0 all done; 1 an image failed (the others were restored);\n"
	"2 usage error, no or unreadable manifest, or the engine cannot be reached.\n";

struct restore_cmd {
	const char *root, *archive_dir, *host, *jobs_arg;
	struct strlist projects;
	int force, dry_run, verbose, jobs, json, quiet, no_progress;
	struct output out;
	struct progress progress;
	double run_start;
	struct strbuf root_dir, arch_dir, arch_real;
	struct engine engine;
	int connected;
	struct manifest manifest;
	size_t restored, skipped;
	size_t started, to_load;	/* the live line's "(N/M)" */
	struct strlist failures;
};

/* One image to load: its entry and what hashing it found. */
struct load_item {
	const struct manifest_entry *e;
	struct verify_result r;
};

struct hash_pool {
	const char *arch_real;
	struct load_item *items;
	size_t n, next;
	pthread_mutex_t lock;
	struct progress *progress;
};

static void hashed_bytes(void *ctx, unsigned long long n)
{
	progress_add(ctx, n);
}

static void *hash_worker(void *arg)
{
	struct hash_pool *p = arg;
	size_t bufsize = (size_t)1 << 20;
	unsigned char *buf = malloc(bufsize);

	for (;;) {
		size_t i;

		pthread_mutex_lock(&p->lock);
		i = p->next++;
		pthread_mutex_unlock(&p->lock);
		if (i >= p->n)
			break;
		if (!buf) {
			p->items[i].r.status = VERIFY_CORRUPT;
			strbuf_addstr(&p->items[i].r.why, "out of memory");
			continue;
		}
		p->items[i].r.on_bytes = hashed_bytes;
		p->items[i].r.bytes_ctx = p->progress;
		verify_entry(p->arch_real, p->items[i].e, 0, buf, bufsize, &p->items[i].r);
	}
	free(buf);
	return NULL;
}

/* Hash every item on `jobs` threads (the caller's thread counts as one). */
static void hash_all(struct restore_cmd *o, struct load_item *items, size_t n)
{
	struct hash_pool p = { strbuf_str(&o->arch_real), items, n, 0, PTHREAD_MUTEX_INITIALIZER,
			       &o->progress };
	unsigned long long total = 0;
	char what[64];
	int jobs = o->jobs;

	for (size_t i = 0; i < n; i++)
		total += items[i].e->size > 0 ? (unsigned long long)items[i].e->size : 0;
	snprintf(what, sizeof(what), "%zu %s", n, n == 1 ? "file" : "files");
	progress_start(&o->progress, "hash", what);
	progress_total(&o->progress, total);
	pthread_t t[64];
	int started = 0;

	if (jobs <= 0)
		jobs = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (jobs > 64)
		jobs = 64;
	for (int i = 1; i < jobs && (size_t)i < n; i++)
		if (pthread_create(&t[started], NULL, hash_worker, &p) == 0)
			started++;
	hash_worker(&p);
	for (int i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	progress_end(&o->progress);
}

/* --json: one image's outcome. */
static json_t *report(struct restore_cmd *o, const struct manifest_entry *e, const char *outcome,
		      double seconds)
{
	json_t *rep = output_image(&o->out, e->project, e->image, outcome);

	json_object_set_new(rep, "file", output_str(e->file));
	json_object_set_new(rep, "bytes", json_integer(e->size));
	json_object_set_new(rep, "seconds", json_real(seconds));
	json_object_set_new(rep, "sha256", output_str(e->sha256));
	json_object_set_new(rep, "docker_id", output_str(e->docker_id));
	return rep;
}

static void failed_entry(struct restore_cmd *o, const struct manifest_entry *e, const char *why,
			 double seconds)
{
	json_object_set_new(report(o, e, "failed", seconds), "error", output_str(why));
}

static void failed(struct restore_cmd *o, const char *image, const char *why)
{
	struct strbuf line = STRBUF_INIT;

	strbuf_addf(&line, "%s: %s", image, why);
	strlist_add(&o->failures, strbuf_str(&line));
	strbuf_release(&line);
}

struct load_feed {
	struct unpack *u;
	struct progress *progress;
};

static ssize_t read_unpack(void *ctx, char *buf, size_t n)
{
	struct load_feed *f = ctx;
	ssize_t got = unpack_read(f->u, buf, n);

	progress_bytes(f->progress, unpack_consumed(f->u));
	return got;
}

/* Stream the verified file into the engine; then check what it holds. */
static int load(struct restore_cmd *o, const struct manifest_entry *e, const char *path,
		struct strbuf *err)
{
	struct unpack *u = unpack_open(path, err);
	struct load_feed feed = { u, &o->progress };
	struct strlist loaded = STRLIST_INIT;
	struct strbuf why = STRBUF_INIT;
	char hex[65];
	unsigned long long size = 0;
	char *id = NULL;
	int ret = -1;

	if (!u)
		return -1;
	progress_start(&o->progress, "load", e->image);
	progress_total(&o->progress, (unsigned long long)e->size);
	if (image_load(&o->engine, read_unpack, &feed, &loaded, err) < 0) {
		if (*unpack_error(u)) {
			strbuf_reset(err);
			strbuf_addstr(err, unpack_error(u));
		}
		goto done;
	}
	unpack_digest(u, hex, &size);
	/* The file changed after it was verified: what was loaded is not trusted. */
	if (strcmp(hex, e->sha256) || size != (unsigned long long)e->size) {
		strbuf_addf(err, "'%s' changed while it was loaded (sha256 now %.12s…); the "
			    "loaded image is removed", e->file, hex);
		for (size_t i = 0; i < loaded.n; i++) {
			struct strbuf ignored = STRBUF_INIT;

			image_remove(&o->engine, loaded.items[i], 1, &ignored);
			strbuf_release(&ignored);
		}
		goto done;
	}
	image_id(&o->engine, e->image, &id, &why);
	if (!id && why.len)
		strbuf_addf(err, "after loading, %s", strbuf_str(&why));
	else if (!id)
		strbuf_addf(err, "after loading, the engine has no image '%s' (the archive "
			    "names %s)", e->image, loaded.n ? loaded.items[0] : "nothing");
	else if (strcmp(id, e->docker_id))
		strbuf_addf(err, "after loading, the engine holds %.19s under '%s', not the "
			    "manifest's %.19s", id, e->image, e->docker_id);
	else
		ret = 0;
done:
	progress_end(&o->progress);
	free(id);
	strbuf_release(&why);
	strlist_free(&loaded);
	unpack_close(u);
	return ret;
}

/* Both hashes, even when the sizes already differ. */
static void mismatch(struct restore_cmd *o, const struct manifest_entry *e)
{
	struct strbuf path = STRBUF_INIT, err = STRBUF_INIT;
	char hex[65] = "?";
	unsigned long long size = 0;

	path_join(&path, strbuf_str(&o->arch_real), e->file);
	if (sha256_file(strbuf_str(&path), hex, &size, &err) < 0)
		snprintf(hex, sizeof(hex), "?");
	output_line(&o->out, LINE_BAD, "HASH MISMATCH: %s\n  expected sha256 %s (%lld bytes)\n"
		    "  actual   sha256 %s (%llu bytes)\n  not loaded: %s", e->image, e->sha256,
		    e->size, hex, size, e->file);
	failed(o, e->image, "hash mismatch; not loaded — run 'imgvault verify'");
	json_object_set_new(report(o, e, "failed", 0), "error",
			    json_pack("s++", "sha256 mismatch: actual ", hex, "; not loaded"));
	strbuf_release(&path);
	strbuf_release(&err);
}

static void restore_item(struct restore_cmd *o, struct load_item *it)
{
	const struct manifest_entry *e = it->e;
	struct strbuf path = STRBUF_INIT, err = STRBUF_INIT;
	double start = output_clock();
	char size[32];

	format_mb(size, sizeof(size), (unsigned long long)e->size);
	switch (it->r.status) {
	case VERIFY_OK:
		break;
	case VERIFY_MISMATCH:
		mismatch(o, e);
		goto done;
	case VERIFY_MISSING:
		output_line(&o->out, LINE_BAD, "[missing] %s: '%s' is not there", e->image, e->file);
		failed(o, e->image, "archive file missing");
		failed_entry(o, e, "archive file missing", it->r.seconds);
		goto done;
	default:
		output_line(&o->out, LINE_BAD, "[refused] %s: %s", e->image, strbuf_str(&it->r.why));
		failed(o, e->image, strbuf_str(&it->r.why));
		failed_entry(o, e, strbuf_str(&it->r.why), it->r.seconds);
		goto done;
	}
	if (o->dry_run) {
		output_line(&o->out, LINE_GOOD, "[restore] %s (%s, verified) <- %s", e->image, size,
			    e->file);
		report(o, e, "verified", it->r.seconds);
		goto done;
	}
	progress_count(&o->progress, ++o->started, o->to_load);
	if (path_join(&path, strbuf_str(&o->arch_real), e->file) < 0)
		strbuf_addstr(&err, "out of memory");
	if (err.len || load(o, e, strbuf_str(&path), &err) < 0) {
		output_line(&o->out, LINE_BAD, "[restore] %s: failed: %s", e->image,
			    strbuf_str(&err));
		failed(o, e->image, strbuf_str(&err));
		failed_entry(o, e, strbuf_str(&err), it->r.seconds + output_clock() - start);
		goto done;
	}
	output_line(&o->out, LINE_GOOD, "[restore] %s (%s, verified) <- %s: loaded", e->image,
		    size, e->file);
	report(o, e, "restored", it->r.seconds + output_clock() - start);
	o->restored++;
done:
	fflush(stdout);
	strbuf_release(&path);
	strbuf_release(&err);
}

static int selected(const struct restore_cmd *o, const char *project)
{
	return !o->projects.n || strlist_has(&o->projects, project);
}

/* Already there under the manifest's ID (and not --force): skip. */
static int already_there(struct restore_cmd *o, const struct manifest_entry *e)
{
	struct strbuf ignored = STRBUF_INIT;	/* not known: loaded again */
	char *id;
	int same;

	if (o->force)
		return 0;
	image_id(&o->engine, e->image, &id, &ignored);
	same = id && !strcmp(id, e->docker_id);
	free(id);
	strbuf_release(&ignored);
	return same;
}

/* What restore_all does with one selected entry, in manifest order. */
enum step_kind { STEP_LOAD, STEP_SKIP, STEP_NO_SHA };

struct step {
	const struct manifest_entry *e;
	enum step_kind kind;
	size_t load;	/* STEP_LOAD: its index in the load items */
};

/* One entry's line when it is not loaded. */
static void say_step(struct restore_cmd *o, const struct step *s)
{
	const struct manifest_entry *e = s->e;
	char size[32];

	if (s->kind == STEP_NO_SHA) {
		output_line(&o->out, LINE_BAD, "[refused] %s: the manifest records no sha256 "
			    "for it", e->image);
		failed(o, e->image, "no sha256 in the manifest; run 'imgvault archive' again");
		failed_entry(o, e, "no sha256 in the manifest", 0);
		return;
	}
	format_mb(size, sizeof(size), (unsigned long long)e->size);
	output_line(&o->out, LINE_SKIP, "[skip] %s (already exists, %s)", e->image, size);
	json_object_set_new(report(o, e, "skipped", 0), "reason", json_string("already exists"));
	o->skipped++;
}

/*
 * Every selected entry: those the engine needs are hashed first (all at
 * once, on every core), then each entry's line comes in manifest order,
 * under its project's header.
 */
static void restore_all(struct restore_cmd *o)
{
	size_t n = manifest_count(&o->manifest), k = 0, nsteps = 0;
	struct load_item *items = calloc(n ? n : 1, sizeof(*items));
	struct step *steps = calloc(n ? n : 1, sizeof(*steps));
	const char *project = NULL;

	if (!items || !steps) {
		say_error("restore: out of memory; nothing was loaded");
		failed(o, "restore", "out of memory");
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		const struct manifest_entry *e = manifest_at(&o->manifest, i);
		struct step *s = &steps[nsteps];

		if (!selected(o, e->project))
			continue;
		nsteps++;
		s->e = e;
		if (!*e->sha256) {
			s->kind = STEP_NO_SHA;
		} else if (already_there(o, e)) {
			s->kind = STEP_SKIP;
		} else {
			s->kind = STEP_LOAD;
			s->load = k;
			items[k++].e = e;
		}
	}
	o->to_load = k;
	hash_all(o, items, k);
	for (size_t i = 0; i < nsteps; i++) {
		const struct step *s = &steps[i];

		if (!project || strcmp(project, s->e->project)) {
			project = s->e->project;
			output_line(&o->out, LINE_PLAIN, "=== %s ===", project);
		}
		if (s->kind != STEP_LOAD) {
			say_step(o, s);
			continue;
		}
		restore_item(o, &items[s->load]);
		strbuf_release(&items[s->load].r.why);
	}
done:
	free(items);
	free(steps);
}

static int find_folder(struct restore_cmd *o)
{
	struct strbuf err = STRBUF_INIT, base = STRBUF_INIT, path = STRBUF_INIT;
	struct strlist rejected = STRLIST_INIT;
	char *arch = NULL, *real;
	int code = EXIT_USAGE;

	if (o->archive_dir) {
		if (strbuf_addstr(&o->arch_dir, o->archive_dir) < 0) {
			say_error("out of memory");
			goto done;
		}
	} else {
		const struct engine_host *h = &o->engine.host;
		struct layout_base_in in = { .env = getenv("IMAGE_ARCHIVE_DIR"),
					     .root = strbuf_str(&o->root_dir),
					     .context = h->context ? h->context : "default" };

		if (engine_info_arch(&o->engine, &arch, &err) < 0 ||
		    layout_base_dir(&in, &base, &err) < 0 ||
		    layout_arch_dir(strbuf_str(&base), arch, &o->arch_dir, &err) < 0) {
			say_error("archive folder: %s", strbuf_str(&err));
			goto done;
		}
	}
	if (!(real = realpath(strbuf_str(&o->arch_dir), NULL))) {
		say_error("archive folder '%s': %m; name it with --archive-dir",
			  strbuf_str(&o->arch_dir));
		goto done;
	}
	if (strbuf_addstr(&o->arch_real, real) < 0 ||
	    path_join(&path, strbuf_str(&o->arch_real), "manifest.json") < 0) {
		free(real);
		say_error("out of memory");
		goto done;
	}
	free(real);
	if (access(strbuf_str(&path), F_OK) < 0) {
		say_error("no manifest.json in '%s'; is it an archive folder? (run "
			  "'imgvault archive --rebuild-manifest' to make one)", strbuf_str(&o->arch_real));
		goto done;
	}
	if (manifest_load_lenient(&o->manifest, strbuf_str(&path), &rejected, &err) < 0) {
		say_error("%s", strbuf_str(&err));
		goto done;
	}
	for (size_t i = 0; i < rejected.n; i++) {
		struct strbuf line = STRBUF_INIT;

		strbuf_addf(&line, "manifest entry %s", rejected.items[i]);
		say_error("%s; skipped", strbuf_str(&line));
		strlist_add(&o->failures, strbuf_str(&line));
		strbuf_release(&line);
	}
	code = EXIT_OK;
done:
	free(arch);
	strlist_free(&rejected);
	strbuf_release(&err);
	strbuf_release(&base);
	strbuf_release(&path);
	return code;
}

static int projects_in_manifest(struct restore_cmd *o)
{
	for (size_t i = 0; i < o->projects.n; i++) {
		int found = 0;

		for (size_t k = 0; k < manifest_count(&o->manifest) && !found; k++)
			found = !strcmp(manifest_at(&o->manifest, k)->project, o->projects.items[i]);
		if (!found) {
			say_error("no project '%s' in the manifest of '%s'", o->projects.items[i],
				  strbuf_str(&o->arch_real));
			return EXIT_USAGE;
		}
	}
	return EXIT_OK;
}

static void summary(struct restore_cmd *o)
{
	json_t *failures = json_array();

	if (o->dry_run)
		output_summary(&o->out, "\nDry run: files verified, nothing loaded.\n");
	else
		output_summary(&o->out, "\nRestored: %zu images\n", o->restored);
	output_summary(&o->out, "Skipped: %zu (already exist)\nFailures: %zu\n", o->skipped,
		       o->failures.n);
	for (size_t i = 0; i < o->failures.n; i++) {
		output_item(&o->out, o->failures.items[i]);
		json_array_append_new(failures, output_str(o->failures.items[i]));
	}
	output_report(&o->out, "restore",
		      json_pack("{s:o, s:b, s:{s:i, s:i, s:f, s:o}}", "archive_dir",
				output_str(strbuf_str(&o->arch_real)), "dry_run", o->dry_run,
				"summary", "restored", (json_int_t)o->restored, "skipped",
				(json_int_t)o->skipped, "seconds", output_clock() - o->run_start,
				"failures", failures));
}

static int restore_run(const struct cmd_context *ctx, int argc, char **argv)
{
	struct restore_cmd o = { 0 };
	const struct opt_def defs[] = {
		{ "root", 0, OPT_VALUE, &o.root },
		{ "archive-dir", 0, OPT_VALUE, &o.archive_dir },
		{ "project", 0, OPT_LIST, &o.projects },
		{ "force", 0, OPT_FLAG, &o.force },
		{ "dry-run", 0, OPT_FLAG, &o.dry_run },
		{ "jobs", 0, OPT_VALUE, &o.jobs_arg },
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
		fputs(restore_help, stdout);
		goto out;
	}
	if (code != EXIT_OK)
		goto out;
	if (nrest) {
		say_error("restore: unexpected argument '%s'; see 'imgvault restore --help'", argv[1]);
		code = EXIT_USAGE;
		goto out;
	}
	if (o.jobs_arg && ((o.jobs = atoi(o.jobs_arg)) < 1 || o.jobs > 64 ||
			   strspn(o.jobs_arg, "0123456789") != strlen(o.jobs_arg))) {
		say_error("restore: --jobs must be a whole number from 1 to 64, not '%s'", o.jobs_arg);
		code = EXIT_USAGE;
		goto out;
	}
	o.run_start = output_clock();
	output_init(&o.out, o.quiet, o.no_progress, o.json, o.verbose);
	progress_init(&o.progress, &o.out);
	if (resolve_root(ctx, o.root, &o.root_dir) < 0) {
		say_error("out of memory");
		code = EXIT_USAGE;
		goto out;
	}
	if ((code = connect_engine(&o.engine, o.host, o.verbose)) != EXIT_OK)
		goto out;
	o.connected = 1;
	if ((code = find_folder(&o)) != EXIT_OK || (code = projects_in_manifest(&o)) != EXIT_OK)
		goto out;
	output_line(&o.out, LINE_PLAIN, "Restoring from %s", strbuf_str(&o.arch_real));
	restore_all(&o);
	summary(&o);
	code = o.failures.n ? EXIT_FAILED : EXIT_OK;
out:
	if (o.connected)
		engine_close(&o.engine);
	manifest_free(&o.manifest);
	progress_release(&o.progress);
	output_release(&o.out);
	strbuf_release(&o.root_dir);
	strbuf_release(&o.arch_dir);
	strbuf_release(&o.arch_real);
	strlist_free(&o.projects);
	strlist_free(&o.failures);
	return code;
}

const struct command cmd_restore = {
	.name = "restore",
	.summary = "load archives back into an engine, each only after proving it intact",
	.help = restore_help,
	.run = restore_run,
};
