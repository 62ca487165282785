/*
 * jsonsafe: json_loadb and json_dumps that fail whole when jansson ran out
 * of memory on the way (see jsonsafe.h).
 */
#include "jsonsafe.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

/* Failed jansson allocations on this thread, ever. */
static _Thread_local unsigned long failures;
static pthread_once_t installed = PTHREAD_ONCE_INIT;

static void *counting_malloc(size_t n)
{
	void *p = malloc(n);

	if (!p)
		failures++;
	return p;
}

static void install(void)
{
	json_set_alloc_funcs(counting_malloc, free);
}

void json_safe_init(void)
{
	pthread_once(&installed, install);
}

json_t *json_parse(const char *buf, size_t len, size_t flags, json_error_t *error)
{
	unsigned long before;
	json_t *v;

	json_safe_init();
	before = failures;
	v = json_loadb(buf, len, flags, error);
	if (failures != before) {
		json_decref(v);
		if (error)
			snprintf(error->text, sizeof(error->text), "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	if (!v)
		errno = 0;	/* every allocation succeeded: the text is at fault */
	return v;
}

char *json_text(const json_t *json, size_t flags)
{
	unsigned long before;
	char *text;

	json_safe_init();
	before = failures;
	text = json_dumps(json, flags);
	if (failures != before) {
		free(text);
		errno = ENOMEM;
		return NULL;
	}
	return text;
}
