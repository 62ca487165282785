/*
 * plan: what `build` and `archive` do, derived from a catalog — one job
 * per unique image per project, in catalog order. Services that share an
 * image are one job; when one of them builds it and others only name it,
 * the job builds (Compose builds it once and the others use it). Entries
 * that could not be resolved get no job and are counted.
 */
#ifndef IMGVAULT_PLAN_H
#define IMGVAULT_PLAN_H

#include <stddef.h>

#include "../util/strlist.h"
#include "catalog.h"

struct plan_job {
	const char *project;		/* borrowed from the catalog */
	const char *image;
	int build;			/* 1: build from `entry`, 0: pull */
	const struct catalog_entry *entry;	/* the entry that builds it, else the first */
	struct strlist services;	/* every service of the project using the image */
};

struct plan {
	struct plan_job *jobs;
	size_t n, alloc;
	size_t unresolved;		/* catalog entries with an error: no job */
};

/* Make the plan; the catalog must outlive it. Returns 0, or -1 when out of memory. */
int plan_from_catalog(struct plan *p, const struct catalog *c);
void plan_free(struct plan *p);

#endif
