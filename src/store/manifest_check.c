/*
 * manifest_check: the value rules for manifest entries, shared by loading,
 * manifest_put and restore. Above all, an entry's "file" must name a path
 * inside the archive folder, whatever someone wrote into manifest.json.
 */
#include "manifest.h"

#include <string.h>

#include "../util/text.h"

_Static_assert(MANIFEST_MAX_PATH == 4096, "manifest_file_valid's message names the limit");

int manifest_hex64(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i == 64;
}

static int fail(struct strbuf *err, const char *msg)
{
	strbuf_addstr(err, msg);
	return -1;
}

static int file_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '-';
}

static int file_error(struct strbuf *err, const char *file, const char *why)
{
	strbuf_addstr(err, "\"file\" '");
	text_quote(err, file);
	strbuf_addf(err, "' %s", why);
	return -1;
}

int manifest_file_valid(const char *file, struct strbuf *err)
{
	size_t len = strlen(file), start = 0;

	if (!len)
		return fail(err, "\"file\" is empty");
	if (len > MANIFEST_MAX_PATH)
		return fail(err, "\"file\" is longer than 4096 bytes");
	if (file[0] == '/')
		return file_error(err, file,
				  "is absolute (it must be relative to the archive folder)");
	for (size_t i = 0; i <= len; i++) {
		size_t n;

		if (i < len && file[i] != '/') {
			if (!file_char_ok(file[i]))
				return file_error(err, file,
						  "has a character outside [A-Za-z0-9_.-/]");
			continue;
		}
		n = i - start;
		if (!n)
			return file_error(err, file, "has an empty path component");
		if (n == 1 && file[start] == '.')
			return file_error(err, file, "has a '.' path component");
		if (n == 2 && file[start] == '.' && file[start + 1] == '.')
			return file_error(err, file,
					  "leaves the archive folder (a '..' component)");
		if (n > MANIFEST_MAX_COMPONENT)
			return file_error(err, file, "has a path component longer than 255 bytes");
		start = i + 1;
	}
	return 0;
}

/* Non-empty, and no control characters (so it prints on one line). */
static int plain_string_ok(const char *s)
{
	if (!s || !*s)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

int manifest_entry_validate(const struct manifest_entry *e, struct strbuf *err)
{
	/*
	 * A project is a folder's name, which may hold a newline; messages
	 * show it quoted (text_quote), and its files live in a folder of safe
	 * characters (layout_project_dir).
	 */
	if (!e->project || !*e->project)
		return fail(err, "\"project\" must be a non-empty string");
	if (!plain_string_ok(e->image))
		return fail(err, "\"image\" must be a non-empty string "
			    "without control characters");
	if (!e->action || (strcmp(e->action, MANIFEST_ACTION_PULL) &&
			   strcmp(e->action, MANIFEST_ACTION_BUILD))) {
		strbuf_addstr(err, "\"action\" must be \"" MANIFEST_ACTION_PULL "\" or \""
			      MANIFEST_ACTION_BUILD "\"");
		if (e->action) {
			strbuf_addstr(err, " (got '");
			text_quote(err, e->action);
			strbuf_addstr(err, "')");
		}
		return -1;
	}
	if (!e->file)
		return fail(err, "\"file\" must be a string");
	if (manifest_file_valid(e->file, err) < 0)
		return -1;
	if (e->size < 0)
		return fail(err, "\"size\" must be an integer >= 0");
	if (e->size > MANIFEST_MAX_SIZE)
		return fail(err, "\"size\" is absurd (more than 16 TiB)");
	/* An entry whose hash was never recorded is archived again, not refused. */
	if (!e->sha256 || (*e->sha256 && !manifest_hex64(e->sha256)))
		return fail(err, "\"sha256\" must be 64 lowercase hex digits (or empty)");
	if (!e->docker_id || strncmp(e->docker_id, "sha256:", 7) ||
	    !manifest_hex64(e->docker_id + 7))
		return fail(err, "\"docker_id\" must be \"sha256:\" and 64 lowercase hex digits");
	if (e->nservices && !e->services)
		return fail(err, "\"services\" must be an array of strings");
	for (size_t i = 0; i < e->nservices; i++)
		if (!e->services[i])
			return fail(err, "\"services\" must be an array of strings");
	if (!plain_string_ok(e->archived_at))
		return fail(err, "\"archived_at\" must be a non-empty string");
	return 0;
}
