/*
 * hook: the build-hook-pre Makefile target; see hook.h.
 */
#include "hook.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../util/fileio.h"
#include "../util/path.h"
#include "../util/text.h"
#include "cmd.h"

#define MAKEFILE_MAX ((size_t)4 << 20)
#define HOOK_TAIL 2048

/* "build-hook-pre:" or "build-hook-pre other:", not "build-hook-pre := x". */
static int line_names_target(const char *line, size_t len)
{
	static const char t[] = "build-hook-pre";
	const size_t tl = sizeof(t) - 1;
	const char *colon;

	if (len <= tl || memcmp(line, t, tl) || !strchr(" \t:", line[tl]))
		return 0;
	colon = memchr(line, ':', len);
	return colon && (colon + 1 == line + len || colon[1] != '=') &&
	       !memchr(line, '=', (size_t)(colon - line));
}

static int names_target(const char *text, size_t len)
{
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (line_names_target(p, l))
			return 1;
		p += l + 1;
	}
	return 0;
}

int has_build_hook(const char *project_dir)
{
	static const char *const names[] = { "GNUmakefile", "makefile", "Makefile" };

	for (size_t i = 0; i < 3; i++) {
		struct strbuf path = STRBUF_INIT, text = STRBUF_INIT, why = STRBUF_INIT;
		int r, found = 0;

		path_join(&path, project_dir, names[i]);
		r = file_read_all(strbuf_str(&path), MAKEFILE_MAX, &text, &why);
		if (r == FILEIO_OK)
			found = names_target(strbuf_str(&text), text.len);
		else if (r == FILEIO_ERROR)	/* make could not read it either */
			say_warning("cannot read '%s': %s; build-hook-pre not run",
				    strbuf_str(&path), strbuf_str(&why));
		strbuf_release(&path);
		strbuf_release(&text);
		strbuf_release(&why);
		if (r != FILEIO_MISSING)
			return found;	/* make reads the first it finds */
	}
	return 0;
}

static void show_tail(int fd)
{
	char buf[HOOK_TAIL + 1];
	off_t size = lseek(fd, 0, SEEK_END), from = size > HOOK_TAIL ? size - HOOK_TAIL : 0;
	ssize_t n = size > 0 ? pread(fd, buf, (size_t)(size - from), from) : 0;
	char *line, *save = NULL;

	if (n <= 0)
		return;
	buf[n] = 0;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct strbuf q = STRBUF_INIT;

		text_quote(&q, line);
		fprintf(stderr, "  | %s\n", strbuf_str(&q));
		strbuf_release(&q);
	}
}

int run_build_hook(const char *root, const char *project, int verbose, int quiet)
{
	struct strbuf dir = STRBUF_INIT;
	char name[] = "/tmp/imgvault-hook.XXXXXX";
	int out = -1, status = 0, ret = 0;
	pid_t pid;

	path_join(&dir, root, project);
	if (!has_build_hook(strbuf_str(&dir))) {
		strbuf_release(&dir);
		return 0;
	}
	if (!quiet) {
		printf("[hook] make build-hook-pre\n");
		fflush(stdout);
	}
	if (!verbose && (out = mkostemp(name, O_CLOEXEC)) >= 0)
		unlink(name);
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		if (null >= 0)
			dup2(null, 0);
		if (out >= 0) {
			dup2(out, 1);
			dup2(out, 2);
		} else {
			dup2(2, 1);
		}
		if (chdir(strbuf_str(&dir)) < 0)
			_exit(126);
		execlp("make", "make", "build-hook-pre", (char *)NULL);
		dprintf(2, "cannot run make: %s\n", strerror(errno));
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0) {
		say_warning("project '%s': cannot run 'make build-hook-pre': %s; building anyway",
			    project, strerror(errno));
		ret = -1;
	} else if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		if (WIFEXITED(status))
			say_warning("project '%s': 'make build-hook-pre' failed (exit %d); "
				    "building anyway", project, WEXITSTATUS(status));
		else
			say_warning("project '%s': 'make build-hook-pre' killed by signal %d; "
				    "building anyway", project, WTERMSIG(status));
		if (out >= 0)
			show_tail(out);
		ret = -1;
	}
	if (out >= 0)
		close(out);
	strbuf_release(&dir);
	return ret;
}
