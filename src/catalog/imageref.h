/*
 * imageref: parse Docker image references ([registry/]path[:tag][@digest])
 * the way the engine does, and derive the names imgvault stores them under.
 */
#ifndef IMGVAULT_IMAGEREF_H
#define IMGVAULT_IMAGEREF_H

#include "../util/strbuf.h"

struct imageref {
	char *registry;		/* "docker.io" when none is named */
	char *path;		/* repository path as written, e.g. "traefik/whoami" or "nginx" */
	char *tag;		/* NULL when absent */
	char *digest;		/* "sha256:…", NULL when absent */
};

/* Parse ref; on error returns -1 and says why in err. */
int imageref_parse(const char *ref, struct imageref *out, struct strbuf *err);
void imageref_free(struct imageref *r);

/* A tag other than "latest", or a digest. An unparsable ref is not pinned. */
int imageref_is_pinned(const char *ref);

/*
 * The archive file name stem of a reference: '/', ':' and '@' become '_',
 * every byte outside [A-Za-z0-9_.-] becomes '_'.
 * "traefik/whoami:v1.11.0" -> "traefik_whoami_v1.11.0".
 */
int imageref_file_stem(const char *ref, struct strbuf *out);

/* Is tag a valid Docker tag ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})? */
int imageref_valid_tag(const char *tag);

#endif
