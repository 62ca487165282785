/*
 * manifest: the manifest.json of an archive folder (<base>/<arch>/), read
 * and written with jansson, in the format the earlier Python tool wrote
 * (see DESIGN.md, "Formats that must stay compatible").
 *
 * A struct manifest owns the top-level JSON object (minus "images") and
 * one JSON object per image entry, looked up by (project, image): a run
 * may archive the same image under two projects. Keys imgvault does not
 * know, at the top level and in each entry, are kept as they were and
 * written back, so other tooling's keys survive a rewrite.
 *
 * Every entry held has passed manifest_entry_validate: its "file" stays
 * inside the archive folder. Messages name the file and point to
 * `imgvault archive --rebuild-manifest`.
 */
#ifndef IMGVAULT_STORE_MANIFEST_H
#define IMGVAULT_STORE_MANIFEST_H

#include <jansson.h>
#include <stddef.h>

#include "../util/strbuf.h"
#include "../util/strlist.h"
#include "../util/strmap.h"

#define MANIFEST_NAME "manifest.json"
#define MANIFEST_MAX_BYTES ((size_t)64 << 20)
#define MANIFEST_MAX_ENTRIES ((size_t)1 << 20)
#define MANIFEST_MAX_PATH 4096		/* bytes in "file" */
#define MANIFEST_MAX_COMPONENT 255	/* bytes in one component of "file" */

/* No archive file is this big: a larger size is an error in the manifest. */
#define MANIFEST_MAX_SIZE (16LL << 40)
#define MANIFEST_ACTION_PULL "pull+save"
#define MANIFEST_ACTION_BUILD "build+save"

/*
 * One image entry. Given to manifest_put, every pointer is the caller's and
 * only read. Returned by manifest_find / manifest_at, the entry and its
 * strings are borrowed from the manifest: they stay valid until that entry
 * is replaced (manifest_put) or removed, or the manifest is parsed,
 * loaded or freed. Other entries' puts and removes, dump and save leave
 * them alone.
 */
struct manifest_entry {
	const char *project;
	const char *image;		/* the reference, e.g. "traefik/whoami:v1.11.0" */
	const char *action;		/* MANIFEST_ACTION_PULL or MANIFEST_ACTION_BUILD */
	const char *file;		/* relative to the arch folder, e.g. "whoami/x_1.tar.gz" */
	long long size;			/* bytes of the compressed file */
	const char *sha256;		/* 64 lowercase hex digits, of the compressed file; "" when not recorded */
	const char *docker_id;		/* "sha256:" + 64 lowercase hex digits */
	const char *const *services;	/* nservices strings (NULL when 0) */
	size_t nservices;
	const char *archived_at;	/* ISO 8601 with offset, see layout_timestamp */
};

/* Internal: the known keys, in the order manifest_dump writes them (NULL-terminated). */
extern const char *const manifest_meta_keys[];
extern const char *const manifest_entry_keys[];

/* Internal: one images[] entry and the view of it handed out. */
struct manifest_slot {
	struct manifest_entry e;	/* strings borrowed from obj */
	json_t *obj;			/* one reference owned */
	const char **services;		/* owned array behind e.services */
	size_t index;			/* its images[] index when loaded, else its position when put (for messages) */
};

struct manifest {
	json_t *root;			/* top level without "images"; NULL when empty */
	struct manifest_slot **slots;	/* owned; in load order, then put order */
	size_t n, alloc;
	struct strmap index;		/* "project\0image" -> slot (NULL: removed) */
};

#define MANIFEST_INIT { 0 }

/*
 * Replace m's contents with the manifest in text[0..len) (not
 * NUL-terminated). `name` is how messages name it (the file's path).
 * Returns 0, or -1 with err set and m left empty: invalid JSON (with line
 * and column), a wrong shape (top level not an object, "images" not an
 * array, a meta key neither string nor null), an entry that fails
 * manifest_entry_validate, or two entries for the same (project, image).
 */
int manifest_parse(struct manifest *m, const char *text, size_t len,
		   const char *name, struct strbuf *err);
/*
 * manifest_parse of the file at path. A missing file gives an empty
 * manifest and 0; an unreadable or too large one is an error.
 */
int manifest_load(struct manifest *m, const char *path, struct strbuf *err);
/*
 * manifest_load for reading only (restore, verify, status): an entry that
 * fails its checks is left out, its message ("images[3] (project 'p',
 * image 'i'): \"size\" must be …") added to rejected, and the others
 * load. The file as a whole (JSON, top-level shape) must still be right;
 * a number too big for a JSON integer (a size of 2^63) is only its
 * entry's error. Never hand such a manifest to manifest_save: its numbers
 * are read as reals.
 */
int manifest_load_lenient(struct manifest *m, const char *path, struct strlist *rejected,
			  struct strbuf *err);
/* manifest_parse, leniently (see manifest_load_lenient). */
int manifest_parse_lenient(struct manifest *m, const char *text, size_t len, const char *name,
			   struct strlist *rejected, struct strbuf *err);
void manifest_free(struct manifest *m);

static inline size_t manifest_count(const struct manifest *m) { return m->n; }
/* The i-th entry (i < manifest_count), in load-then-put order. */
static inline const struct manifest_entry *manifest_at(const struct manifest *m, size_t i)
{
	return &m->slots[i]->e;
}
/* The entry for (project, image), or NULL. */
const struct manifest_entry *manifest_find(const struct manifest *m, const char *project,
					   const char *image);
/*
 * Add e, or replace the entry with the same (project, image): its known
 * keys are overwritten, its other keys kept. Returns 0, or -1 with err
 * set (e invalid, not UTF-8, too many entries, out of memory); m is then
 * unchanged.
 */
int manifest_put(struct manifest *m, const struct manifest_entry *e, struct strbuf *err);
/*
 * Remove the entry for (project, image): 1 when there was one, else 0.
 * project and image may be the entry's own (borrowed) strings.
 */
int manifest_remove(struct manifest *m, const char *project, const char *image);

/*
 * Set the top-level keys archived_at, arch, docker_context, ssh_host and
 * output_dir; a NULL argument is written as JSON null. Returns 0, or -1
 * with err set (not UTF-8, out of memory).
 */
int manifest_set_meta(struct manifest *m, const char *archived_at, const char *arch,
		      const char *docker_context, const char *ssh_host,
		      const char *output_dir, struct strbuf *err);
/* A top-level string value (e.g. "arch"), or NULL when absent or not a string. */
const char *manifest_meta(const struct manifest *m, const char *key);

/*
 * The JSON text manifest_save writes: 2-space indent, known keys first in
 * the Python tool's order, unknown keys after them in their loaded order,
 * images sorted by project then image (bytewise), non-ASCII as \uXXXX,
 * and a final newline. Appends to out; returns 0 or -1 with err set.
 */
int manifest_dump(const struct manifest *m, struct strbuf *out, struct strbuf *err);
/*
 * Write dir/manifest.json atomically (codec/atomicfile: a temporary in
 * dir, fsync, rename over manifest.json, fsync dir). On failure the old
 * manifest.json is untouched. Returns 0 or -1 with err set.
 */
int manifest_save(const struct manifest *m, const char *dir, struct strbuf *err);

/*
 * Check an entry's values: a non-empty project (a folder's name: control
 * characters allowed), a non-empty image without control characters, a
 * known action, a safe file (manifest_file_valid), size >= 0,
 * sha256 and docker_id as described above, services strings, archived_at
 * a non-empty string. Returns 0, or -1 with a message naming the key.
 */
int manifest_entry_validate(const struct manifest_entry *e, struct strbuf *err);
/*
 * Is file a path that stays inside the arch folder: relative, components
 * separated by single '/', none empty, "." or "..", only [A-Za-z0-9_.-],
 * at most MANIFEST_MAX_PATH bytes? Returns 0, or -1 saying why.
 */
int manifest_file_valid(const char *file, struct strbuf *err);
/* 1 when s is exactly 64 lowercase hex digits. */
int manifest_hex64(const char *s);

#endif
