/*
 * report: what a catalog says as data — its JSON form, and the counts the
 * summary shows. Building these never prints.
 */
#ifndef IMGVAULT_CATALOG_REPORT_H
#define IMGVAULT_CATALOG_REPORT_H

#include <jansson.h>

#include "catalog.h"

/* The catalog as the JSON array `catalog --json` prints (new reference). */
json_t *catalog_to_json(const struct catalog *c);

struct registry_count {
	char *registry;
	size_t images;
};

struct catalog_summary {
	size_t projects, projects_failed, entries, entry_errors;
	size_t unique_images;
	size_t by_source[4];		/* indexed by enum image_source */
	size_t unpinned_pull, hardcoded_pull;	/* unique pull images */
	struct registry_count *registries;	/* of unique pull images, most first */
	size_t nregistries;
	struct strlist unpinned;	/* "image (project/service, …)" */
	struct strlist hardcoded;
};

int catalog_summarize(const struct catalog *c, struct catalog_summary *s);
void catalog_summary_free(struct catalog_summary *s);

#endif
