/*
 * layout: where archives live (DESIGN.md, "Formats that must stay
 * compatible"):
 *
 *   <base>/<arch>/<project>/<file stem>.tar.gz   (or .tar.zst)
 *   <base>/<arch>/manifest.json
 *
 * Names and folders only; nothing here creates anything. Inputs that come
 * from the environment are parameters (no getenv), so tests are pure.
 */
#ifndef IMGVAULT_STORE_LAYOUT_H
#define IMGVAULT_STORE_LAYOUT_H

#include <time.h>

#include "../util/strbuf.h"

enum layout_codec {
	LAYOUT_GZIP,
	LAYOUT_ZSTD,
};

/* ".tar.gz" or ".tar.zst". */
const char *layout_suffix(enum layout_codec codec);

/*
 * Append the archive file name of image reference ref to out:
 * imageref_file_stem(ref) + suffix ("traefik/whoami:v1.11.0" ->
 * "traefik_whoami_v1.11.0.tar.gz"). -1 with err set when ref is empty or
 * the name would be longer than 255 bytes.
 */
int layout_file_name(const char *ref, enum layout_codec codec, struct strbuf *out,
		     struct strbuf *err);
/*
 * Append the project's folder name in the arch folder to out: the
 * project's name with every byte outside [A-Za-z0-9_.-] turned into '_',
 * as for file names ("my project" -> "my_project", a newline too), so a
 * folder name never holds a space, a newline or a '/'. -1 with err set
 * for an empty name, ".", ".." or one longer than 255 bytes.
 */
int layout_project_dir(const char *project, struct strbuf *out, struct strbuf *err);
/*
 * Append "<project folder>/<file name>" (the manifest's "file") to out,
 * the folder as layout_project_dir makes it; -1 with err set on its
 * errors or layout_file_name's.
 */
int layout_rel_path(const char *project, const char *ref, enum layout_codec codec,
		    struct strbuf *out, struct strbuf *err);

/* Where the archive base comes from, in order of precedence. */
struct layout_base_in {
	const char *output_dir;	/* --output-dir, or NULL */
	const char *env;	/* the process's IMAGE_ARCHIVE_DIR, or NULL */
	const char *root;	/* the projects' root folder */
	const char *context;	/* docker context name, for <root>/.env_<context>; NULL: skip */
};

/*
 * Append the absolute archive base to out: output_dir, else env, else
 * IMAGE_ARCHIVE_DIR= in <root>/.env_<context> (read with the env-file
 * parser; relative values are taken from root), else <root>/_archive/images.
 * Empty values count as unset; relative output_dir and env are taken from
 * the current folder. -1 with err set when the env file is unreadable or
 * does not parse, or the context name is not a plain file name.
 */
int layout_base_dir(const struct layout_base_in *in, struct strbuf *out, struct strbuf *err);

/*
 * Append "<base>/<arch>" to out. arch (from the engine) must be a safe
 * folder name, like a project; else -1 with err set.
 */
int layout_arch_dir(const char *base, const char *arch, struct strbuf *out, struct strbuf *err);

/*
 * Append t as local time in ISO 8601 with a numeric offset, to the second,
 * as Python's datetime.astimezone().isoformat(timespec="seconds") does:
 * "2026-11-26T19:00:00+00:00" (seconds in the offset only when not zero).
 */
int layout_timestamp(time_t t, struct strbuf *out);
/* layout_timestamp of now. */
int layout_now(struct strbuf *out);

#endif
