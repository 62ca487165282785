/*
 * plan: catalog -> jobs; see plan.h. Jobs are found through a map keyed by
 * "project\nimage", so the plan is linear in the catalog's size.
 */
#include "plan.h"

#include <stdlib.h>
#include <string.h>

#include "../util/array.h"
#include "../util/strbuf.h"
#include "../util/strmap.h"

static struct plan_job *job_new(struct plan *p)
{
	struct plan_job *j = array_grow(p->jobs, &p->alloc, p->n, sizeof(*j));

	if (!j)
		return NULL;
	p->jobs = j;
	memset(&p->jobs[p->n], 0, sizeof(p->jobs[0]));
	return &p->jobs[p->n++];
}

int plan_from_catalog(struct plan *p, const struct catalog *c)
{
	struct strmap index = STRMAP_INIT;	/* "project\nimage" -> job number + 1 */
	struct strbuf key = STRBUF_INIT;
	int r = -1;

	memset(p, 0, sizeof(*p));
	for (size_t i = 0; i < c->n; i++) {
		const struct catalog_entry *e = &c->entries[i];
		int builds = e->source != SOURCE_PULL;
		struct strmap_item *it;
		struct plan_job *job;

		if (e->error || !e->image) {
			p->unresolved++;
			continue;
		}
		strbuf_reset(&key);
		strbuf_addf(&key, "%s\n%s", e->project, e->image);
		if (key.toobig || !(it = strmap_put(&index, key.buf, key.len)))
			goto done;
		if (it->value) {
			job = &p->jobs[(size_t)it->value - 1];
		} else {
			if (!(job = job_new(p)))
				goto done;
			it->value = (void *)p->n;
			job->project = e->project;
			job->image = e->image;
			job->entry = e;
		}
		if (builds && !job->build) {
			job->build = 1;
			job->entry = e;
		}
		/* Service names are unique within a project: no need to look. */
		if (strlist_add(&job->services, e->service) < 0)
			goto done;
	}
	r = 0;
done:
	strmap_free(&index, NULL);
	strbuf_release(&key);
	if (r < 0)
		plan_free(p);
	return r;
}

void plan_free(struct plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		strlist_free(&p->jobs[i].services);
	free(p->jobs);
	memset(p, 0, sizeof(*p));
}
