/*
 * archive_cmd: the state of one `imgvault archive` run, shared by its
 * files: cmd_archive.c (the run), archive_setup.c (options, catalog, the
 * arch folder and its lock and manifest) and archive_rebuild.c
 * (--rebuild-manifest).
 */
#ifndef IMGVAULT_CMD_ARCHIVE_CMD_H
#define IMGVAULT_CMD_ARCHIVE_CMD_H

#include "../catalog/catalog.h"
#include "../catalog/plan.h"
#include "../engine/client.h"
#include "../store/layout.h"
#include "../store/lock.h"
#include "../store/manifest.h"
#include "common.h"
#include "jobs.h"
#include "progress.h"

/* The zstd level when --level is not given (gzip's is the codec's own, 6). */
#define ARCHIVE_ZSTD_LEVEL 1

struct archive_cmd {
	/* options */
	const char *root, *build_tag, *host, *output_dir, *compress, *level_arg, *jobs_arg;
	struct strlist projects, excludes;
	int force, delete, pull, pull_only, no_cache, fail_fast, dry_run, rebuild, verbose;
	int json, quiet, no_progress;
	enum layout_codec codec;
	int level, jobs;

	/* the run */
	struct report_counts counts;
	struct host_env env;
	struct strbuf root_dir, base_dir, arch_dir;
	struct catalog catalog;
	struct plan plan;
	struct engine engine;
	int connected;
	char *arch;
	struct store_lock lock;
	struct manifest manifest;
	struct output out;
	struct progress progress;
	struct job_runner runner;
	const struct plan_job *replacing;	/* whose old entry goes before the rename */
	size_t new_images, skipped;
	size_t started;				/* jobs begun, for "(N/M)" */
	double run_start, job_start;		/* output_clock() */
	unsigned long long export_size;		/* the engine's size of the image saved */
	unsigned long long new_bytes;
	struct strlist failures;
};

/* Validate the options; resolve codec, level and jobs. EXIT_OK or EXIT_USAGE (said). */
int archive_check_options(struct archive_cmd *o, int nrest, char **argv);
/* Catalog and plan the tree; find the archive base. EXIT_OK or EXIT_USAGE (said). */
int archive_scan(struct archive_cmd *o);
/* The engine's arch folder: made, locked, stale temporaries removed, manifest loaded. */
int open_arch_folder(struct archive_cmd *o);
/* Rewrite manifest.json with the run's top-level keys. */
int save_manifest(struct archive_cmd *o, struct strbuf *err);
/* --rebuild-manifest: every arch folder under the base. */
int rebuild_manifests(struct archive_cmd *o);
void archive_cmd_release(struct archive_cmd *o);

#endif
