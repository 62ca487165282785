/*
 * archive_setup: what an archive run settles before its first image —
 * options, the catalog and plan, the archive base, and the arch folder
 * (made, locked, cleaned of stale temporaries, its manifest loaded).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../codec/atomicfile.h"
#include "../engine/images.h"
#include "../util/path.h"
#include "archive_cmd.h"

static int parse_int(const char *flag, const char *s, int lo, int hi, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi) {
		say_error("archive: --%s must be a whole number from %d to %d, not '%s'", flag, lo,
			  hi, s);
		return EXIT_USAGE;
	}
	*out = (int)v;
	return EXIT_OK;
}

int archive_check_options(struct archive_cmd *o, int nrest, char **argv)
{
	if (nrest) {
		say_error("archive: unexpected argument '%s'; see 'imgvault archive --help'",
			  argv[1]);
		return EXIT_USAGE;
	}
	if (!o->compress || !strcmp(o->compress, "gzip")) {
		o->codec = LAYOUT_GZIP;
	} else if (!strcmp(o->compress, "zstd")) {
		o->codec = LAYOUT_ZSTD;
	} else {
		say_error("archive: --compress must be gzip or zstd, not '%s'", o->compress);
		return EXIT_USAGE;
	}
	if (o->level_arg &&
	    parse_int("level", o->level_arg, 1, o->codec == LAYOUT_ZSTD ? 19 : 12, &o->level))
		return EXIT_USAGE;
	if (o->jobs_arg && parse_int("jobs", o->jobs_arg, 1, 64, &o->jobs))
		return EXIT_USAGE;
	/*
	 * zstd's fastest level by default: on two cores the engine's export
	 * takes one, and level 1 keeps pace with it where level 3 does not.
	 */
	if (o->codec == LAYOUT_ZSTD && !o->level_arg)
		o->level = ARCHIVE_ZSTD_LEVEL;
	if (o->rebuild && o->json) {
		say_error("archive: --json does not apply to --rebuild-manifest");
		return EXIT_USAGE;
	}
	if (o->rebuild && o->dry_run) {
		say_error("archive: --rebuild-manifest and --dry-run do not go together");
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

int archive_scan(struct archive_cmd *o)
{
	struct strbuf err = STRBUF_INIT;
	const struct tree_scan t = { strbuf_str(&o->root_dir), o->build_tag, &o->projects,
				     &o->excludes, &o->counts };
	char *ctx = context_name(&o->env, o->host);
	struct layout_base_in in = { .output_dir = o->output_dir, .env = getenv("IMAGE_ARCHIVE_DIR"),
				     .root = strbuf_str(&o->root_dir), .context = ctx };
	int code = ctx ? scan_tree("archive", &t, &o->catalog, &o->plan) : EXIT_USAGE;

	if (!ctx)
		say_error("out of memory");
	else if (code == EXIT_OK && layout_base_dir(&in, &o->base_dir, &err) < 0) {
		say_error("archive folder: %s", strbuf_str(&err));
		code = EXIT_USAGE;
	}
	free(ctx);
	strbuf_release(&err);
	return code;
}

/* mkdir -p, for the base and arch folders. */
static int make_dirs(const char *path, struct strbuf *err)
{
	struct strbuf p = STRBUF_INIT;
	int ret = 0;

	if (strbuf_addstr(&p, path) < 0) {
		strbuf_addf(err, "cannot make folder '%s': out of memory", path);
		return -1;
	}
	for (size_t i = 1; i <= p.len && !ret; i++) {
		if (i < p.len && p.buf[i] != '/')
			continue;
		p.buf[i] = 0;
		if (mkdir(p.buf, 0755) < 0 && errno != EEXIST) {
			strbuf_addf(err, "cannot make folder '%s': %s", p.buf, strerror(errno));
			ret = -1;
		}
		if (i < p.len)
			p.buf[i] = '/';
	}
	strbuf_release(&p);
	return ret;
}

/* Temporaries a killed run left: in the arch folder and each project folder. */
static int remove_stale(const char *arch_dir, struct strbuf *err)
{
	DIR *d = opendir(arch_dir);
	struct dirent *de;
	int ret;

	/* atomic_remove_stale says how many it removed: only -1 matters here. */
	if ((ret = atomic_remove_stale(arch_dir, err)) > 0)
		ret = 0;
	if (ret < 0 || !d) {
		if (d)
			closedir(d);
		return ret;
	}
	while ((de = readdir(d)) && ret == 0) {
		struct strbuf sub = STRBUF_INIT;
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		path_join(&sub, arch_dir, de->d_name);
		if (lstat(strbuf_str(&sub), &st) == 0 && S_ISDIR(st.st_mode) &&
		    atomic_remove_stale(strbuf_str(&sub), err) < 0)
			ret = -1;
		strbuf_release(&sub);
	}
	closedir(d);
	return ret;
}

int open_arch_folder(struct archive_cmd *o)
{
	struct strbuf err = STRBUF_INIT, path = STRBUF_INIT;
	int code = EXIT_USAGE, r;

	if (engine_info_arch(&o->engine, &o->arch, &err) < 0) {
		say_error("cannot tell the engine's architecture: %s", strbuf_str(&err));
		goto done;
	}
	if (layout_arch_dir(strbuf_str(&o->base_dir), o->arch, &o->arch_dir, &err) < 0 ||
	    make_dirs(strbuf_str(&o->arch_dir), &err) < 0) {
		say_error("archive folder: %s", strbuf_str(&err));
		goto done;
	}
	r = lock_acquire(&o->lock, strbuf_str(&o->arch_dir), 0, &err);
	if (r != LOCK_OK) {
		say_error("%s", strbuf_str(&err));
		goto done;
	}
	if (remove_stale(strbuf_str(&o->arch_dir), &err) < 0) {
		say_error("archive folder: %s", strbuf_str(&err));
		goto done;
	}
	/* An empty path would read as no manifest: the run would drop every entry. */
	if (path_join(&path, strbuf_str(&o->arch_dir), "manifest.json") < 0) {
		say_error("out of memory");
		goto done;
	}
	if (manifest_load(&o->manifest, strbuf_str(&path), &err) < 0) {
		say_error("%s", strbuf_str(&err));
		goto done;
	}
	code = EXIT_OK;
done:
	strbuf_release(&err);
	strbuf_release(&path);
	return code;
}

int save_manifest(struct archive_cmd *o, struct strbuf *err)
{
	struct strbuf now = STRBUF_INIT;
	const struct engine_host *h = &o->engine.host;
	int ret;

	if (layout_now(&now) < 0) {
		strbuf_addstr(err, "out of memory");
		return -1;
	}
	ret = manifest_set_meta(&o->manifest, strbuf_str(&now), o->arch,
				h->context ? h->context : "default",
				h->scheme == SCHEME_SSH ? h->address : "",
				strbuf_str(&o->arch_dir), err);
	if (ret == 0)
		ret = manifest_save(&o->manifest, strbuf_str(&o->arch_dir), err);
	strbuf_release(&now);
	return ret;
}

void archive_cmd_release(struct archive_cmd *o)
{
	output_release(&o->out);
	plan_free(&o->plan);
	catalog_free(&o->catalog);
	manifest_free(&o->manifest);
	lock_release(&o->lock);
	job_runner_release(&o->runner);
	if (o->connected)
		engine_close(&o->engine);
	free(o->arch);
	strbuf_release(&o->root_dir);
	strbuf_release(&o->base_dir);
	strbuf_release(&o->arch_dir);
	strlist_free(&o->projects);
	strlist_free(&o->excludes);
	strlist_free(&o->failures);
}
