/*
 * jobs: getting one plan job's image onto the engine — pull it, or run
 * the project's build hook and build it — shared by `build` and
 * `archive`. Progress goes to the runner's display; the outcome line is
 * the command's to print.
 */
#ifndef IMGVAULT_CMD_JOBS_H
#define IMGVAULT_CMD_JOBS_H

#include <jansson.h>

#include "../catalog/plan.h"
#include "../engine/client.h"
#include "../engine/host.h"
#include "progress.h"

struct job_runner {
	struct engine *engine;
	struct progress *progress;
	const struct host_env *env;
	int pull, no_cache, verbose;
	json_t *registry_config;	/* loaded on the first build */
	int registry_config_loaded;
};

/*
 * 0 when j->image is a valid reference; else -1 with err naming the
 * project and services ("not a valid image reference (project 'p',
 * service 's'): …"). job_pull and job_build check it first: such a name
 * never reaches the engine.
 */
int job_check_ref(const struct plan_job *j, struct strbuf *err);

/* Pull j->image (with config.json's credentials for its registry). 0, or -1 with err. */
int job_pull(struct job_runner *r, const struct plan_job *j, struct strbuf *err);

/* Build j->image from its entry; *id (owned) is the new image ID when known. */
int job_build(struct job_runner *r, const struct plan_job *j, char **id, struct strbuf *err);

void job_runner_release(struct job_runner *r);

#endif
