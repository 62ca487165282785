/*
 * dockerignore: the patterns of a build context's .dockerignore and the
 * paths they exclude, decided as the docker CLI (ignorefile.ReadAll) and
 * moby/patternmatcher (MatchesOrParentMatches) decide them.
 *
 * A line starting with '#' is a comment; other lines are trimmed of
 * blanks, a leading '!' makes an exception, the rest is cleaned like Go's
 * filepath.Clean and loses one leading '/'. A path is excluded when the
 * last pattern matching it, or one of its parent folders, is not an
 * exception. In a pattern '*' is any run of characters but '/', '?' one
 * character but '/', [a-z] and [^a-z] are classes, '\' makes the next
 * character literal, and a "**" segment matches any number of folders,
 * zero included, wherever it stands: alone, last after a '/', or first
 * or in the middle followed by a '/'. Like moby, a leading "**" not
 * followed by '/' and then only plain characters matches any path that
 * ends with them: "**.md" excludes "a/README.md".
 *
 * Where moby's translation to a Go regexp behaves by accident, this one
 * follows the documented syntax (Go's filepath.Match) instead: inside
 * [...] every character is literal (moby garbles '*' and '?' there), '\'
 * never starts a regexp escape such as \d, a '^' outside a class is
 * literal, a reversed range [z-a] is a syntax error when parsed (moby
 * fails only when matching), and '**' spans newlines too. '!' does not
 * negate a class, as in Go: [!a] is '!' or 'a'. Matching never
 * backtracks: whatever the pattern, it costs at most the path's length
 * times the pattern's.
 */
#ifndef IMGVAULT_ENGINE_DOCKERIGNORE_H
#define IMGVAULT_ENGINE_DOCKERIGNORE_H

#include <stddef.h>

#include "../util/strbuf.h"

#define DOCKERIGNORE_MAX_TEXT ((size_t)1 << 20)	/* the whole file */
#define DOCKERIGNORE_MAX_LINE ((size_t)64 << 10)	/* Go's bufio.Scanner limit */
#define DOCKERIGNORE_MAX_PATTERNS ((size_t)100000)

struct dockerignore_pattern;	/* compiled; private to dockerignore.c */

struct dockerignore {
	struct dockerignore_pattern *items;
	size_t n, alloc;
	size_t exceptions;	/* how many patterns start with '!' */
	size_t max_states;	/* the longest compiled pattern, for scratch space */
};

#define DOCKERIGNORE_INIT { 0 }

/*
 * Add the patterns of a .dockerignore text (len bytes, need not be
 * NUL-terminated) to d, which starts as DOCKERIGNORE_INIT. Returns 0, or
 * -1 with d emptied and a message in err, which names the line when one
 * is at fault: `line 3: illegal exclusion pattern: "!"`, `line 9:
 * unterminated '[' in pattern`, `larger than 1 MiB` (the caller names
 * the file).
 */
int dockerignore_parse(struct dockerignore *d, const char *text, size_t len,
		       struct strbuf *err);

/*
 * 1 when relpath is excluded, 0 when it is kept, -1 when out of memory.
 * relpath is relative to the context root and clean, as a walker makes
 * it: '/'-separated, no leading "./" or '/', no "." or ".." parts. The
 * empty path (the root itself) is never excluded.
 */
int dockerignore_excluded(const struct dockerignore *d, const char *relpath);

/*
 * 1 when some pattern is an exception: a walker must then look inside an
 * excluded folder, since something in it may be included again.
 */
int dockerignore_has_exceptions(const struct dockerignore *d);

/*
 * 1 when an exception could match something inside the excluded folder
 * dir (clean, as for dockerignore_excluded), 0 when nothing inside can
 * come back so a walker may skip the folder whole, -1 when out of memory.
 * Sharper than dockerignore_has_exceptions: "!docs/keep.md" does not make
 * a walker open "node_modules".
 */
int dockerignore_may_reinclude(const struct dockerignore *d, const char *dir);

void dockerignore_free(struct dockerignore *d);

#endif
