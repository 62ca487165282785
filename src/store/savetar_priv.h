/*
 * savetar_priv: what savetar.c (the tar reader) hands savetar_check.c (the
 * checks of docker's manifest.json against the files read). Not an API.
 */
#ifndef IMGVAULT_STORE_SAVETAR_PRIV_H
#define IMGVAULT_STORE_SAVETAR_PRIV_H

#include "../util/strmap.h"
#include "savetar.h"

/* One tar entry, by its normalised name (no leading "./", no trailing '/'). */
struct savetar_file {
	int regular;		/* a regular file with its own data (not a link or folder) */
	int hashed;		/* hex holds the SHA-256 of its content (deep only) */
	char hex[65];
	struct strbuf config;	/* a legacy top-level <hex>.json's text (deep only) */
};

/* The reader's state for one archive. */
struct savetar_read {
	struct savetar *st;
	struct savetar_opts opts;
	struct strmap files;		/* name -> struct savetar_file * */
	size_t name_bytes;		/* total of the names kept in files */
	size_t config_bytes;		/* total of the legacy configs kept */
	unsigned long long bytes;	/* uncompressed content seen */
	struct strbuf manifest;		/* docker's manifest.json */
	int have_manifest;
};

/* 1 when name is a top-level "<64 lowercase hex>.json"; its hex into hex[65]. */
int savetar_legacy_config_name(const char *name, char *hex);
/* 1 when name is "blobs/sha256/<64 lowercase hex>"; its hex into hex[65]. */
int savetar_blob_name(const char *name, char *hex);

/*
 * Parse r->manifest into r->st->images, then check it against the files
 * read (and, deep, legacy layers against their configs' diff IDs).
 * Returns 0, or -1 with err set (without the archive's name).
 */
int savetar_check(struct savetar_read *r, struct strbuf *err);

#endif
