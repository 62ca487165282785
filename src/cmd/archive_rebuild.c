/*
 * archive_rebuild: `imgvault archive --rebuild-manifest` — write each arch
 * folder's manifest.json anew from the archive files it holds, reading
 * the name and image ID from the `docker save` manifest inside each file
 * and hashing it. Needs no engine. Entries of the old manifest (when it
 * is readable) keep their extra keys and, for unchanged files, their
 * archived_at.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../codec/atomicfile.h"
#include "../codec/sha256.h"
#include "../store/savetar.h"
#include "../util/path.h"
#include "archive_cmd.h"

static int has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && !strcmp(s + n - m, suffix);
}

/*
 * The plan's job for one of tags whose project's folder (layout_project_dir:
 * "my project" is in "my_project") is folder, else NULL with *name = the
 * first tag.
 */
static const struct plan_job *match_job(const struct plan *p, const char *folder,
					const struct strlist *tags, const char **name)
{
	struct strbuf dir = STRBUF_INIT, err = STRBUF_INIT;
	const struct plan_job *found = NULL;

	*name = tags->n ? tags->items[0] : NULL;
	for (size_t i = 0; i < p->n && !found; i++) {
		strbuf_reset(&dir);
		if (!strlist_has(tags, p->jobs[i].image) ||
		    layout_project_dir(p->jobs[i].project, &dir, &err) < 0 ||
		    strcmp(strbuf_str(&dir), folder))
			continue;
		*name = p->jobs[i].image;
		found = &p->jobs[i];
	}
	strbuf_release(&dir);
	strbuf_release(&err);
	return found;
}

/* The old manifest's entry for file rel naming one of tags, or NULL. */
static const struct manifest_entry *old_entry_of(const struct manifest *old, const char *rel,
						 const struct strlist *tags)
{
	for (size_t i = 0; i < manifest_count(old); i++) {
		const struct manifest_entry *e = manifest_at(old, i);

		if (!strcmp(e->file, rel) && strlist_has(tags, e->image))
			return e;
	}
	return NULL;
}

struct rebuild {
	struct archive_cmd *o;
	const char *arch_dir;
	struct manifest old, m;
	struct strlist seen;		/* "project\n image" of the files found */
	size_t files, failed, unreadable;
	unsigned long long bytes;
};

static void add_file(struct rebuild *r, const char *project, const char *fname)
{
	struct strbuf path = STRBUF_INIT, rel = STRBUF_INIT, err = STRBUF_INIT, when = STRBUF_INIT;
	struct savetar st = { 0 };
	struct manifest_entry e = { 0 };
	const struct manifest_entry *old;
	const struct plan_job *job;
	const char *name;
	char hex[SHA256_HEX_LEN + 1];
	unsigned long long size = 0;
	struct stat sb;

	if (strbuf_addf(&rel, "%s/%s", project, fname) < 0 ||
	    path_join(&path, r->arch_dir, strbuf_str(&rel)) < 0)
		strbuf_addf(&err, "'%s/%s': out of memory", project, fname);
	else if (stat(path.buf, &sb) < 0)
		strbuf_addf(&err, "'%s': %s", path.buf, strerror(errno));
	if (err.len || savetar_read_file(&st, strbuf_str(&path), NULL, &err) < 0 ||
	    sha256_file(strbuf_str(&path), hex, &size, &err) < 0) {
		say_error("%s; left out of the manifest", strbuf_str(&err));
		r->failed++;
		goto done;
	}
	if (!st.n || !(job = match_job(&r->o->plan, project, &st.images[0].tags, &name), name)) {
		say_warning("'%s' holds no image name; left out of the manifest", strbuf_str(&path));
		r->failed++;
		goto done;
	}
	/* The project's own name, when its folder's differs ("my project"). */
	if (job) {
		project = job->project;
	} else if ((old = old_entry_of(&r->old, strbuf_str(&rel), &st.images[0].tags))) {
		project = old->project;
		name = old->image;
	}
	old = manifest_find(&r->old, project, name);
	if (old && old->sha256 && !strcmp(old->sha256, hex) && old->archived_at)
		strbuf_addstr(&when, old->archived_at);
	else
		layout_timestamp(sb.st_mtime, &when);
	e.project = project;
	e.image = name;
	e.action = job && job->build ? MANIFEST_ACTION_BUILD
		   : old ? old->action : MANIFEST_ACTION_PULL;
	e.file = strbuf_str(&rel);
	e.size = (long long)size;
	e.sha256 = hex;
	e.docker_id = st.images[0].id;
	if (job) {
		e.services = (const char *const *)job->services.items;
		e.nservices = job->services.n;
	} else if (old) {
		e.services = old->services;
		e.nservices = old->nservices;
	}
	e.archived_at = strbuf_str(&when);
	if (manifest_put(&r->m, &e, &err) < 0) {
		say_error("'%s': %s; left out of the manifest", strbuf_str(&path), strbuf_str(&err));
		r->failed++;
		goto done;
	}
	strbuf_reset(&when);
	strbuf_addf(&when, "%s\n%s", project, name);
	strlist_add(&r->seen, strbuf_str(&when));
	r->files++;
	r->bytes += size;
done:
	savetar_release(&st);
	strbuf_release(&path);
	strbuf_release(&rel);
	strbuf_release(&err);
	strbuf_release(&when);
}

static void scan_project(struct rebuild *r, const char *project)
{
	struct strbuf dir = STRBUF_INIT;
	struct dirent **names = NULL;
	int n;

	path_join(&dir, r->arch_dir, project);
	n = scandir(strbuf_str(&dir), &names, NULL, alphasort);
	if (n < 0) {
		/* Unlisted files must not lose their entries: keep the manifest as it is. */
		say_error("'%s' cannot be read: %s; the manifest is not rewritten",
			  strbuf_str(&dir), strerror(errno));
		r->unreadable++;
	}
	for (int i = 0; i < n; i++) {
		const char *f = names[i]->d_name;

		if (f[0] != '.' && !atomic_is_temp_name(f) &&
		    (has_suffix(f, ".tar.gz") || has_suffix(f, ".tar.zst")))
			add_file(r, project, f);
		free(names[i]);
	}
	free(names);
	strbuf_release(&dir);
}

/* Drop the old entries whose files are gone. */
static void drop_missing(struct rebuild *r)
{
	struct strbuf key = STRBUF_INIT;

	for (size_t i = manifest_count(&r->m); i-- > 0;) {
		const struct manifest_entry *e = manifest_at(&r->m, i);

		strbuf_reset(&key);
		strbuf_addf(&key, "%s\n%s", e->project, e->image);
		if (!strlist_has(&r->seen, strbuf_str(&key))) {
			struct strbuf p = STRBUF_INIT, im = STRBUF_INIT;

			strbuf_addstr(&p, e->project);
			strbuf_addstr(&im, e->image);
			manifest_remove(&r->m, strbuf_str(&p), strbuf_str(&im));
			strbuf_release(&p);
			strbuf_release(&im);
		}
	}
	strbuf_release(&key);
}

static int rebuild_one(struct archive_cmd *o, const char *arch, const char *arch_dir)
{
	struct rebuild r = { .o = o, .arch_dir = arch_dir };
	struct strbuf path = STRBUF_INIT, err = STRBUF_INIT, now = STRBUF_INIT;
	struct store_lock lock = { .fd = -1 };
	struct dirent **names = NULL;
	char mbuf[32];
	int n, ret = -1;

	if (lock_acquire(&lock, arch_dir, 0, &err) != LOCK_OK) {
		say_error("%s", strbuf_str(&err));
		goto done;
	}
	if (path_join(&path, arch_dir, "manifest.json") < 0) {
		say_error("out of memory");
		goto done;
	}
	if (manifest_load(&r.old, strbuf_str(&path), &err) < 0) {
		say_warning("%s; it is replaced by the rebuilt one", strbuf_str(&err));
		strbuf_reset(&err);
		manifest_free(&r.old);
		memset(&r.old, 0, sizeof(r.old));
	} else {
		/* Keep the old entries' extra keys: start from the old manifest. */
		manifest_load(&r.m, strbuf_str(&path), &err);
	}
	n = scandir(arch_dir, &names, NULL, alphasort);
	if (n < 0) {
		say_error("'%s' cannot be read: %s; the manifest is not rewritten", arch_dir,
			  strerror(errno));
		goto done;
	}
	for (int i = 0; i < n; i++) {
		struct strbuf sub = STRBUF_INIT;
		struct stat st;

		path_join(&sub, arch_dir, names[i]->d_name);
		if (names[i]->d_name[0] != '.' && lstat(sub.buf, &st) == 0 && S_ISDIR(st.st_mode))
			scan_project(&r, names[i]->d_name);
		strbuf_release(&sub);
		free(names[i]);
	}
	free(names);
	if (r.unreadable)
		goto done;
	drop_missing(&r);
	layout_now(&now);
	if (manifest_set_meta(&r.m, manifest_meta(&r.old, "archived_at") ?
				    manifest_meta(&r.old, "archived_at") : strbuf_str(&now),
			      arch, manifest_meta(&r.old, "docker_context"),
			      manifest_meta(&r.old, "ssh_host"), arch_dir, &err) < 0 ||
	    manifest_save(&r.m, arch_dir, &err) < 0) {
		say_error("%s", strbuf_str(&err));
		goto done;
	}
	snprintf(mbuf, sizeof(mbuf), "%.1f MB", (double)r.bytes / 1e6);
	printf("%s: manifest rebuilt: %zu images, %s%s\n", arch_dir, r.files, mbuf,
	       r.failed ? " (some files left out, see above)" : "");
	ret = r.failed ? 1 : 0;
done:
	lock_release(&lock);
	manifest_free(&r.old);
	manifest_free(&r.m);
	strlist_free(&r.seen);
	strbuf_release(&path);
	strbuf_release(&err);
	strbuf_release(&now);
	return ret;
}

int rebuild_manifests(struct archive_cmd *o)
{
	const char *base = strbuf_str(&o->base_dir);
	struct dirent **names = NULL;
	int n = scandir(base, &names, NULL, alphasort), arches = 0, code = EXIT_OK;

	if (n < 0) {
		say_error("archive folder '%s' cannot be read: %m; nothing to rebuild", base);
		return EXIT_USAGE;
	}
	for (int i = 0; i < n; i++) {
		struct strbuf sub = STRBUF_INIT;
		struct stat st;

		path_join(&sub, base, names[i]->d_name);
		if (names[i]->d_name[0] != '.' && names[i]->d_name[0] != '_' &&
		    lstat(sub.buf, &st) == 0 && S_ISDIR(st.st_mode)) {
			int r = rebuild_one(o, names[i]->d_name, strbuf_str(&sub));

			arches++;
			if (r < 0)
				code = EXIT_USAGE;
			else if (r > 0 && code == EXIT_OK)
				code = EXIT_FAILED;
		}
		strbuf_release(&sub);
		free(names[i]);
	}
	free(names);
	if (!arches)
		printf("%s: no arch folders to rebuild\n", base);
	return code;
}
