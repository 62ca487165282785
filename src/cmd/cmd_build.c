/*
 * build: pull or build every catalogued image on a Docker engine, and
 * optionally push the built ones to a registry.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../catalog/catalog.h"
#include "../catalog/imageref.h"
#include "../catalog/plan.h"
#include "../engine/images.h"
#include "../util/text.h"
#include "common.h"
#include "hook.h"
#include "jobs.h"
#include "progress.h"

static const char build_help[] =
	"usage: imgvault build [OPTIONS]      (also: image-build)\n"
	"\n"
	"Pull or build every image the catalog lists, on a Docker engine: local,\n"
	"over TCP with TLS, or remote over ssh. One job per unique image per\n"
	"project; images with a build: section are built from their context,\n"
	"Dockerfile, build args and target, the others are pulled.\n"
	"\n"
	"Options:\n"
	"  --root=DIR         projects root (as for 'imgvault catalog')\n"
	"  --project=NAME     only this project folder (repeatable)\n"
	"  --exclude=NAME     skip this project folder (repeatable)\n"
	"  --build-tag=TAG    tag of images built without image: (default:\n"
	"                     IMGVAULT_BUILD_TAG, else d-rymcg-tech-YYYYMMDD)\n"
	"  --pull             pull fresh base images while building\n"
	"  --pull-only        pull only; skip the images that are built\n"
	"  --no-cache         build without the engine's layer cache\n"
	"  --push             tag each built image PREFIX/NAME:TAG (its own registry\n"
	"                     and namespace removed) and push it\n"
	"  --registry=PREFIX  where --push pushes (default: IMAGE_REGISTRY); logs in\n"
	"                     with REGISTRY_USERNAME and REGISTRY_PASSWORD when set,\n"
	"                     else uses the credentials in the docker config\n"
	"  --fail-fast        stop at the first failure\n"
	"  --dry-run          print the plan ([build] IMAGE / [pull] IMAGE); needs\n"
	"                     no engine and changes nothing\n"
	"  -q, --quiet        print only failures and the summary\n"
	"  --no-progress      no live progress line on a terminal\n"
	"  -v, --verbose      show the engine's output and the ssh command\n"
	"  -H, --host=URL     the engine: unix://PATH, tcp://HOST:PORT, ssh://[USER@]HOST[:PORT]\n"
	"                     (default: DOCKER_HOST, DOCKER_CONTEXT, the docker config's\n"
	"                     current context, else unix:///var/run/docker.sock)\n"
	"  -h, --help         show this help\n"
	"\n"
	"Before a project's first build, 'make build-hook-pre' runs in its folder\n"
	"when its Makefile has that target; a failing hook is a warning.\n"
	"\n"
	"Environment: DOCKER_HOST, DOCKER_CONTEXT, DOCKER_CONFIG, DOCKER_TLS_VERIFY,\n"
	"DOCKER_CERT_PATH; IMGVAULT_SSH (the ssh program), IMGVAULT_SSH_CONFIG (an ssh\n"
	"config file, passed as -F); IMAGE_REGISTRY, REGISTRY_USERNAME, REGISTRY_PASSWORD.\n"
	"\n"
	"Exit status: 0 all done; 1 an image failed (the others were done);\n"
	"2 usage error, unreadable root, or the engine cannot be reached.\n";

struct build_cmd {
	const char *root, *build_tag, *host, *registry;
	struct strlist projects, excludes;
	int pull, pull_only, no_cache, dry_run, verbose, push, fail_fast, quiet, no_progress;
	struct report_counts counts;
	struct output out;

	struct strbuf root_dir;
	struct engine engine;
	struct progress progress;
	struct host_env env;
	struct job_runner runner;
	struct registry_auth push_auth;
	int push_login;			/* 0 not yet, 1 logged in or not needed, -1 failed */
	struct strbuf push_login_error;
	size_t built, pulled, pushed, skipped;
	size_t started, jobs;		/* the live line's "(N/M)" */
	struct strlist failures;
};

static void failed(struct build_cmd *o, const char *what, const char *image, const char *why)
{
	struct strbuf line = STRBUF_INIT;

	progress_end(&o->progress);
	output_line(&o->out, LINE_BAD, "[%s] %s: failed: %s", what, image, why);
	strbuf_addf(&line, "%s %s: %s", what, image, why);
	strlist_add(&o->failures, strbuf_str(&line));
	strbuf_release(&line);
}

static void do_pull(struct build_cmd *o, const struct plan_job *j)
{
	struct strbuf err = STRBUF_INIT;

	if (job_pull(&o->runner, j, &err) == 0) {
		progress_end(&o->progress);
		output_line(&o->out, LINE_GOOD, "[pull] %s: pulled", j->image);
		o->pulled++;
	} else {
		failed(o, "pull", j->image, strbuf_str(&err));
	}
	strbuf_release(&err);
}

/* The name --push gives: PREFIX/<last path component>:<tag>. */
static int push_name(const char *prefix, const char *image, struct strbuf *repo,
		     struct strbuf *tag, struct strbuf *err)
{
	struct imageref r = { 0 };
	const char *last;
	size_t plen = strlen(prefix);

	if (imageref_parse(image, &r, err) < 0)
		return -1;
	last = strrchr(r.path, '/');
	while (plen && prefix[plen - 1] == '/')
		plen--;
	strbuf_add(repo, prefix, plen);
	strbuf_addf(repo, "/%s", last ? last + 1 : r.path);
	strbuf_addstr(tag, r.tag ? r.tag : "latest");
	imageref_free(&r);
	return 0;
}

/* Credentials for the push registry: REGISTRY_USERNAME/PASSWORD (checked once), else config. */
static int push_credentials(struct build_cmd *o, const char *repo, struct strbuf *err)
{
	const char *user = getenv("REGISTRY_USERNAME"), *pw = getenv("REGISTRY_PASSWORD");
	struct imageref r = { 0 };
	struct strbuf name = STRBUF_INIT;

	if (o->push_login) {
		if (o->push_login < 0)
			strbuf_addstr(err, strbuf_str(&o->push_login_error));
		return o->push_login > 0 ? 0 : -1;
	}
	strbuf_addf(&name, "%s:latest", repo);
	if (imageref_parse(strbuf_str(&name), &r, err) < 0) {
		strbuf_release(&name);
		return -1;
	}
	o->push_login = 1;
	if (user && *user) {
		o->push_auth.username = strdup(user);
		o->push_auth.password = strdup(pw ? pw : "");
		o->push_auth.serveraddress = strdup(auth_server_key(r.registry));
		if (registry_login(&o->engine, &o->push_auth, &o->push_login_error) < 0)
			o->push_login = -1;
	} else if (auth_lookup(&o->env, r.registry, &o->push_auth, &o->push_login_error) < 0) {
		o->push_login = -1;
	}
	if (o->push_login < 0)
		strbuf_addstr(err, strbuf_str(&o->push_login_error));
	imageref_free(&r);
	strbuf_release(&name);
	return o->push_login > 0 ? 0 : -1;
}

static void do_push(struct build_cmd *o, const struct plan_job *j)
{
	struct strbuf repo = STRBUF_INIT, tag = STRBUF_INIT, err = STRBUF_INIT, full = STRBUF_INIT;

	if (push_name(o->registry, j->image, &repo, &tag, &err) < 0)
		goto fail;
	strbuf_addf(&full, "%s:%s", strbuf_str(&repo), strbuf_str(&tag));
	if (push_credentials(o, strbuf_str(&repo), &err) < 0)
		goto fail;
	if (image_tag(&o->engine, j->image, strbuf_str(&repo), strbuf_str(&tag), &err) < 0)
		goto fail;
	progress_start(&o->progress, "push", strbuf_str(&full));
	if (image_push(&o->engine, strbuf_str(&repo), strbuf_str(&tag),
		       o->push_auth.username || o->push_auth.identitytoken ? &o->push_auth : NULL,
		       progress_message, &o->progress, &err) < 0)
		goto fail;
	progress_end(&o->progress);
	output_line(&o->out, LINE_GOOD, "[push] %s: pushed", strbuf_str(&full));
	o->pushed++;
	goto done;
fail:
	failed(o, "push", full.len ? strbuf_str(&full) : j->image, strbuf_str(&err));
done:
	strbuf_release(&repo);
	strbuf_release(&tag);
	strbuf_release(&err);
	strbuf_release(&full);
}

static int do_build(struct build_cmd *o, const struct plan_job *j)
{
	struct strbuf err = STRBUF_INIT;
	char *id = NULL;
	int ok = job_build(&o->runner, j, &id, &err) == 0;

	if (ok) {
		progress_end(&o->progress);
		output_line(&o->out, LINE_GOOD, "[build] %s: built%s%.19s", j->image, id ? " " : "",
			    id ? id : "");
		o->built++;
	} else {
		failed(o, "build", j->image, strbuf_str(&err));
	}
	free(id);
	strbuf_release(&err);
	return ok;
}

static void run_project(struct build_cmd *o, const struct catalog *c, const struct plan *p,
			const char *project)
{
	int hook_done = 0;

	output_line(&o->out, LINE_PLAIN, "=== %s ===", project);
	report_entry_errors(&o->out, c, project, &o->failures);
	for (size_t i = 0; i < p->n; i++) {
		const struct plan_job *j = &p->jobs[i];

		if (strcmp(j->project, project))
			continue;
		if (o->fail_fast && o->failures.n)
			return;
		if (j->build && o->pull_only) {
			output_line(&o->out, LINE_SKIP, "[skip] %s: built, not pulled (--pull-only)",
				    j->image);
			o->skipped++;
			continue;
		}
		if (o->dry_run) {
			output_line(&o->out, LINE_PLAIN, "[%s] %s", j->build ? "build" : "pull",
				    j->image);
			continue;
		}
		if (j->build && !hook_done) {
			hook_done = 1;
			run_build_hook(strbuf_str(&o->root_dir), project, o->verbose, o->quiet);
		}
		progress_count(&o->progress, ++o->started, o->jobs);
		if (!j->build)
			do_pull(o, j);
		else if (do_build(o, j) && o->push)
			do_push(o, j);
		fflush(stdout);
	}
}

static void summary(struct build_cmd *o)
{
	if (o->dry_run) {
		printf("\nDry run: nothing was pulled or built.\n");
		return;
	}
	printf("\nBuilt: %zu\nPulled: %zu\n", o->built, o->pulled);
	if (o->push)
		printf("Pushed: %zu\n", o->pushed);
	printf("Skipped: %zu\nFailures: %zu\n", o->skipped, o->failures.n);
	for (size_t i = 0; i < o->failures.n; i++)
		output_item(&o->out, o->failures.items[i]);
}

static int check_options(struct build_cmd *o, int nrest, char **argv)
{
	if (nrest) {
		say_error("build: unexpected argument '%s'; see 'imgvault build --help'", argv[1]);
		return EXIT_USAGE;
	}
	if (o->push && !o->registry) {
		o->registry = getenv("IMAGE_REGISTRY");
		if (!o->registry || !*o->registry) {
			say_error("build: --push needs --registry=PREFIX or IMAGE_REGISTRY, e.g. "
				  "--registry=registry.example.com/team");
			return EXIT_USAGE;
		}
	}
	if (o->registry && o->push) {
		struct strbuf repo = STRBUF_INIT, tag = STRBUF_INIT, err = STRBUF_INIT;
		int bad = push_name(o->registry, "x:latest", &repo, &tag, &err) < 0;

		if (!bad) {
			struct imageref r = { 0 };

			bad = imageref_parse(strbuf_str(&repo), &r, &err) < 0;
			imageref_free(&r);
		}
		if (bad)
			say_error("build: registry prefix '%s' does not make valid image names: %s",
				  o->registry, strbuf_str(&err));
		strbuf_release(&repo);
		strbuf_release(&tag);
		strbuf_release(&err);
		if (bad)
			return EXIT_USAGE;
	}
	return EXIT_OK;
}

static int build_run(const struct cmd_context *ctx, int argc, char **argv)
{
	struct build_cmd o = { 0 };
	const struct opt_def defs[] = {
		{ "root", 0, OPT_VALUE, &o.root },
		{ "project", 0, OPT_LIST, &o.projects },
		{ "exclude", 0, OPT_LIST, &o.excludes },
		{ "build-tag", 0, OPT_VALUE, &o.build_tag },
		{ "pull", 0, OPT_FLAG, &o.pull },
		{ "pull-only", 0, OPT_FLAG, &o.pull_only },
		{ "no-cache", 0, OPT_FLAG, &o.no_cache },
		{ "push", 0, OPT_FLAG, &o.push },
		{ "registry", 0, OPT_VALUE, &o.registry },
		{ "fail-fast", 0, OPT_FLAG, &o.fail_fast },
		{ "dry-run", 0, OPT_FLAG, &o.dry_run },
		{ "quiet", 'q', OPT_FLAG, &o.quiet },
		{ "no-progress", 0, OPT_FLAG, &o.no_progress },
		{ "verbose", 'v', OPT_FLAG, &o.verbose },
		{ "host", 'H', OPT_VALUE, &o.host },
		{ 0 },
	};
	struct catalog c = { 0 };
	struct plan p = { 0 };
	int help = 0, nrest = 0, code;

	code = opts_parse(ctx->command, defs, argc, argv, &help, &nrest);
	if (code == EXIT_OK && help) {
		fputs(build_help, stdout);
		goto out;
	}
	if (code != EXIT_OK || (code = check_options(&o, nrest, argv)) != EXIT_OK)
		goto out;
	resolve_root(ctx, o.root, &o.root_dir);
	host_env_from_environ(&o.env);
	if ((code = scan_tree("build", &(struct tree_scan){ strbuf_str(&o.root_dir), o.build_tag,
							    &o.projects, &o.excludes, &o.counts },
			      &c, &p)) != EXIT_OK)
		goto out;
	if (!o.dry_run && (code = connect_engine(&o.engine, o.host, o.verbose)) != EXIT_OK)
		goto out;
	output_init(&o.out, o.quiet, o.no_progress, 0, o.verbose);
	progress_init(&o.progress, &o.out);
	o.jobs = p.n;
	o.runner = (struct job_runner){ .engine = &o.engine, .progress = &o.progress, .env = &o.env,
					.pull = o.pull, .no_cache = o.no_cache, .verbose = o.verbose };
	for (size_t i = 0; i < c.projects.n && !(o.fail_fast && o.failures.n); i++)
		run_project(&o, &c, &p, c.projects.items[i]);
	if (c.projects_failed) {
		struct strbuf line = STRBUF_INIT;

		strbuf_addf(&line, "%zu project(s) could not be read (see the errors above)",
			    c.projects_failed);
		strlist_add(&o.failures, strbuf_str(&line));
		strbuf_release(&line);
	}
	summary(&o);
	code = o.failures.n ? EXIT_FAILED : EXIT_OK;
	progress_release(&o.progress);
	if (!o.dry_run)
		engine_close(&o.engine);
out:
	plan_free(&p);
	catalog_free(&c);
	job_runner_release(&o.runner);
	auth_free(&o.push_auth);
	strbuf_release(&o.push_login_error);
	strbuf_release(&o.root_dir);
	strlist_free(&o.projects);
	strlist_free(&o.excludes);
	strlist_free(&o.failures);
	return code;
}

const struct command cmd_build = {
	.name = "build",
	.summary = "pull or build every catalogued image on a Docker engine",
	.help = build_help,
	.run = build_run,
};
