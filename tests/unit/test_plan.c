/*
 * test_plan: catalog entries -> build/archive jobs, one row a catalog.
 * Each entry is written "project/service image source" (source p = pull,
 * b = build-local, o = build-only, ! = an entry with an error); each job
 * is expected as "project image pull|build service,service".
 */
#include <stdio.h>
#include <string.h>

#include "table.h"
#include "catalog/plan.h"

struct plan_case {
	const char *name;
	const char *entries[8];
	const char *jobs[8];
	size_t unresolved;
};

static const struct plan_case cases[] = {
	{ "one pull", { "a/web nginx:1 p" }, { "a nginx:1 pull web" }, 0 },
	{ "services sharing an image are one job",
	  { "a/server kv:2 p", "a/backup kv:2 p" }, { "a kv:2 pull server,backup" }, 0 },
	{ "the same image in two projects is two jobs",
	  { "a/x kv:2 p", "b/y kv:2 p" }, { "a kv:2 pull x", "b kv:2 pull y" }, 0 },
	{ "a build and a pull of one image build it",
	  { "a/use app:1 p", "a/make app:1 b" }, { "a app:1 build use,make" }, 0 },
	{ "build-only is a build", { "a/tool tool:1 o" }, { "a tool:1 build tool" }, 0 },
	{ "entries with errors get no job and are counted",
	  { "a/bad - !", "a/ok ok:1 p" }, { "a ok:1 pull ok" }, 1 },
	{ "jobs keep catalog order",
	  { "a/z z:1 p", "a/y y:1 b", "b/x x:1 p", "a/w z:1 p" },
	  { "a z:1 pull z,w", "a y:1 build y", "b x:1 pull x" }, 0 },
	{ "an empty catalog has no jobs", { NULL }, { NULL }, 0 },
};

static void check_row(void **state)
{
	const struct plan_case *c = *state;
	struct catalog cat = { 0 };
	struct catalog_entry entries[8];
	char project[8][32], service[8][32], image[8][32], source[8][4];
	struct plan p;
	size_t n = 0, njobs = 0;

	memset(entries, 0, sizeof(entries));
	for (; n < 8 && c->entries[n]; n++) {
		sscanf(c->entries[n], "%31[^/]/%31s %31s %3s", project[n], service[n], image[n], source[n]);
		entries[n].project = project[n];
		entries[n].service = service[n];
		entries[n].image = source[n][0] == '!' ? NULL : image[n];
		entries[n].error = source[n][0] == '!' ? "broken" : NULL;
		entries[n].source = source[n][0] == 'b' ? SOURCE_BUILD_LOCAL :
				    source[n][0] == 'o' ? SOURCE_BUILD_ONLY : SOURCE_PULL;
	}
	cat.entries = entries;
	cat.n = n;
	assert_int_equal(plan_from_catalog(&p, &cat), 0);
	while (njobs < 8 && c->jobs[njobs])
		njobs++;
	assert_int_equal(p.n, njobs);
	assert_int_equal(p.unresolved, c->unresolved);
	for (size_t i = 0; i < p.n; i++) {
		struct strbuf got = STRBUF_INIT;

		strbuf_addf(&got, "%s %s %s ", p.jobs[i].project, p.jobs[i].image,
			    p.jobs[i].build ? "build" : "pull");
		for (size_t k = 0; k < p.jobs[i].services.n; k++)
			strbuf_addf(&got, "%s%s", k ? "," : "", p.jobs[i].services.items[k]);
		assert_string_equal(strbuf_str(&got), c->jobs[i]);
		if (p.jobs[i].build)
			assert_int_not_equal(p.jobs[i].entry->source, SOURCE_PULL);
		strbuf_release(&got);
	}
	plan_free(&p);
}

int main(void)
{
	return TABLE_RUN("plan", cases, check_row);
}
