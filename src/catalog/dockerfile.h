/*
 * dockerfile: the FROM and global ARG lines of a Dockerfile, and the base
 * images they pull once build args are applied.
 *
 * Honours the `# escape=` directive, line continuations, comments,
 * case-insensitive instructions, `ARG a=1 b="2"` before the first FROM
 * (the only ARGs a FROM can see), `--platform=…` and other flags before the
 * image, `AS name` stages (a later FROM of a stage is not a base image) and
 * `scratch`. Substitution in FROM supports $V, ${V}, ${V:-w}, ${V-w},
 * ${V:+w} and ${V+w}.
 */
#ifndef IMGVAULT_DOCKERFILE_H
#define IMGVAULT_DOCKERFILE_H

#include <stddef.h>

#include "../util/strbuf.h"
#include "../util/strlist.h"

/* The largest Dockerfile read. */
#define DOCKERFILE_MAX_BYTES ((size_t)1 << 20)

/* A build argument as Compose passes it: value NULL means "declared, unset". */
struct build_arg {
	const char *name;
	const char *value;
};

struct dockerfile {
	struct strlist from_lines;	/* each FROM instruction, as written, continuations joined */
	struct strlist base_images;	/* resolved, stages and scratch dropped, no repeats */
	struct strlist undefined_args;	/* $V / ${V} in FROM that no ARG defines (first 16) */
};

/*
 * Read the Dockerfile text and resolve its base images with the given build
 * args. Returns 0, or -1 with err set (out of memory, input too large).
 */
int dockerfile_parse(const char *data, size_t len, const struct build_arg *args,
		     size_t nargs, struct dockerfile *out, struct strbuf *err);
void dockerfile_free(struct dockerfile *df);

#endif
