/*
 * jobs: pull or build one plan job; see jobs.h.
 */
#include "jobs.h"

#include <errno.h>
#include <stdlib.h>

#include "../catalog/imageref.h"
#include "../engine/images.h"
#include "../util/text.h"
#include "cmd.h"

/*
 * Parse j->image into ref. A name that is no valid reference (a space, a
 * ';', "$(…)", "../") never reaches the engine: -1, with err naming the
 * project and the services that use it.
 */
static int parse_ref(const struct plan_job *j, struct imageref *ref, struct strbuf *err)
{
	struct strbuf why = STRBUF_INIT;

	if (imageref_parse(j->image, ref, &why) == 0) {
		strbuf_release(&why);
		return 0;
	}
	strbuf_addstr(err, "not a valid image reference (project '");
	text_quote(err, j->project);
	strbuf_addstr(err, j->services.n > 1 ? "', services " : "', service ");
	for (size_t i = 0; i < j->services.n; i++) {
		strbuf_addstr(err, i ? ", '" : "'");
		text_quote(err, j->services.items[i]);
		strbuf_addch(err, '\'');
	}
	strbuf_addf(err, "): %s; not sent to the engine", strbuf_str(&why));
	strbuf_release(&why);
	return -1;
}

int job_check_ref(const struct plan_job *j, struct strbuf *err)
{
	struct imageref ref = { 0 };
	int r = parse_ref(j, &ref, err);

	imageref_free(&ref);
	return r;
}

int job_pull(struct job_runner *r, const struct plan_job *j, struct strbuf *err)
{
	struct registry_auth auth = { 0 };
	struct imageref ref = { 0 };
	int have = -1, ret = -1;

	if (parse_ref(j, &ref, err) == 0)
		have = auth_lookup(r->env, ref.registry, &auth, err);
	if (have >= 0) {
		progress_start(r->progress, "pull", j->image);
		ret = image_pull(r->engine, j->image, have ? &auth : NULL, progress_message,
				 r->progress, err);
		progress_end(r->progress);
	}
	auth_free(&auth);
	imageref_free(&ref);
	return ret;
}

/* The build args as a JSON object, or NULL with err set (never one dropped). */
static json_t *build_args(const struct catalog_entry *e, struct strbuf *err)
{
	json_t *args;

	errno = 0;
	args = json_object();
	/* An arg with no value takes it from the environment in compose; the
	 * catalog reads no environment, so the Dockerfile's default applies. */
	for (size_t i = 0; args && i < e->nargs; i++) {
		if (e->args[i].value &&
		    json_object_set_new(args, e->args[i].name, json_string(e->args[i].value)) < 0) {
			json_decref(args);
			args = NULL;
			if (errno != ENOMEM)
				strbuf_addf(err, "build arg '%s': not valid UTF-8", e->args[i].name);
		}
	}
	if (!args && !err->len)
		strbuf_addstr(err, "out of memory");
	return args;
}

int job_build(struct job_runner *r, const struct plan_job *j, char **id, struct strbuf *err)
{
	const struct catalog_entry *e = j->entry;
	struct build_request b = { .tag = j->image, .target = e->target, .pull = r->pull,
				   .nocache = r->no_cache, .dockerfile = e->dockerfile,
				   .dockerfile_inline = e->dockerfile_inline };
	int ret;

	if (job_check_ref(j, err) < 0)
		return -1;
	if (!r->registry_config_loaded) {
		struct strbuf why = STRBUF_INIT;

		r->registry_config_loaded = 1;
		if (auth_all(r->env, &r->registry_config, &why) < 0)
			say_warning("%s; building without registry credentials", strbuf_str(&why));
		strbuf_release(&why);
	}
	if (e->build_context && e->build_context[0] == '/')
		b.context_dir = e->build_context;
	else
		b.remote = e->build_context;
	if (!(b.buildargs = build_args(e, err)))
		return -1;
	b.registry_config = r->registry_config;
	progress_start(r->progress, "build", j->image);
	ret = image_build(r->engine, &b, progress_message, r->progress, id, err);
	progress_end(r->progress);
	json_decref(b.buildargs);
	return ret;
}

void job_runner_release(struct job_runner *r)
{
	json_decref(r->registry_config);
	r->registry_config = NULL;
}
