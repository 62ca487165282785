/*
 * layout: archive file names, the base and arch folders, and the
 * timestamp format manifest.json uses; see layout.h.
 */
#include "layout.h"

#include <errno.h>
#include <string.h>

#include "../catalog/envfile.h"
#include "../catalog/imageref.h"
#include "../catalog/vars.h"
#include "../util/fileio.h"
#include "../util/path.h"
#include "../util/text.h"

#define LAYOUT_MAX_ENV_BYTES ((size_t)4 << 20)
#define LAYOUT_MAX_NAME 255
#define ENV_KEY "IMAGE_ARCHIVE_DIR"

const char *layout_suffix(enum layout_codec codec)
{
	return codec == LAYOUT_ZSTD ? ".tar.zst" : ".tar.gz";
}

static int safe_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '-';
}

/* One folder or file name made of [A-Za-z0-9_.-], not "." or "..". */
static int safe_name(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > LAYOUT_MAX_NAME || !strcmp(s, ".") || !strcmp(s, ".."))
		return 0;
	for (; *s; s++)
		if (!safe_char(*s))
			return 0;
	return 1;
}

static int bad_name(struct strbuf *err, const char *what, const char *s)
{
	strbuf_addf(err, "%s '", what);
	text_quote(err, s);
	strbuf_addstr(err, "' cannot be a folder name in the archive (use only A-Z a-z 0-9 _ . -)");
	return -1;
}

int layout_file_name(const char *ref, enum layout_codec codec, struct strbuf *out,
		     struct strbuf *err)
{
	size_t start = out->len;

	if (!*ref) {
		strbuf_addstr(err, "empty image reference");
		return -1;
	}
	if (imageref_file_stem(ref, out) < 0 || strbuf_addstr(out, layout_suffix(codec)) < 0) {
		strbuf_addstr(err, "out of memory");
		return -1;
	}
	if (out->len - start > LAYOUT_MAX_NAME) {
		out->len = start;
		out->buf[start] = '\0';
		strbuf_addstr(err, "image reference '");
		text_quote(err, ref);
		strbuf_addstr(err, "' is too long for an archive file name (255 bytes)");
		return -1;
	}
	return 0;
}

int layout_project_dir(const char *project, struct strbuf *out, struct strbuf *err)
{
	size_t start = out->len, n = strlen(project);

	if (!n || n > LAYOUT_MAX_NAME || !strcmp(project, ".") || !strcmp(project, "..")) {
		strbuf_addstr(err, "project '");
		text_quote(err, project);
		strbuf_addstr(err, "' cannot be a folder name in the archive "
			      "(empty, '.', '..' or longer than 255 bytes)");
		return -1;
	}
	if (strbuf_addstr(out, project) < 0) {
		strbuf_addstr(err, "out of memory");
		return -1;
	}
	for (char *s = out->buf + start; *s; s++)
		if (!safe_char(*s))
			*s = '_';
	return 0;
}

int layout_rel_path(const char *project, const char *ref, enum layout_codec codec,
		    struct strbuf *out, struct strbuf *err)
{
	if (layout_project_dir(project, out, err) < 0)
		return -1;
	if (strbuf_addch(out, '/') < 0) {
		strbuf_addstr(err, "out of memory");
		return -1;
	}
	return layout_file_name(ref, codec, out, err);
}

int layout_arch_dir(const char *base, const char *arch, struct strbuf *out, struct strbuf *err)
{
	if (!safe_name(arch))
		return bad_name(err, "architecture", arch);
	if (path_join(out, base, arch) < 0) {
		strbuf_addstr(err, "out of memory");
		return -1;
	}
	return 0;
}

/*
 * IMAGE_ARCHIVE_DIR from <root>/.env_<context> into value (left empty when
 * the file or the key is missing).
 */
static int env_file_value(const char *root, const char *context, struct strbuf *value,
			  struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, name = STRBUF_INIT, text = STRBUF_INIT, why = STRBUF_INIT;
	struct vars vars = VARS_INIT;
	size_t line = 0, bad = 0;
	const char *v;
	int r;

	/* Never read "no path" as "no file": another archive folder would be used. */
	if (strbuf_addf(&name, ".env_%s", context) < 0 || path_join(&path, root, name.buf) < 0) {
		strbuf_addstr(err, "out of memory");
		r = -1;
		goto done;
	}
	r = file_read_all(strbuf_str(&path), LAYOUT_MAX_ENV_BYTES, &text, &why);
	if (r == FILEIO_MISSING && !file_exists_nofollow(strbuf_str(&path))) {
		r = 0;
	} else if (r < 0) {
		strbuf_addstr(err, "'");
		text_quote(err, strbuf_str(&path));
		strbuf_addf(err, "': %s", strbuf_str(&why));
		r = -1;
	} else if (!utf8_valid(strbuf_str(&text), text.len, &bad)) {
		unsigned l, col;

		text_position(text.buf, text.len, bad, &l, &col);
		text_quote(err, strbuf_str(&path));
		strbuf_addf(err, ":%u:%u: not valid UTF-8", l, col);
		r = -1;
	} else if (envfile_parse(strbuf_str(&text), text.len, &vars, &why, &line) < 0) {
		text_quote(err, strbuf_str(&path));
		strbuf_addf(err, ":%zu: %s", line, strbuf_str(&why));
		r = -1;
	} else if ((v = vars_get(&vars, ENV_KEY, strlen(ENV_KEY))) &&
		   (r = strbuf_addstr(value, v)) < 0) {
		strbuf_addstr(err, "out of memory");
	}
done:
	vars_free(&vars);
	strbuf_release(&path);
	strbuf_release(&name);
	strbuf_release(&text);
	strbuf_release(&why);
	return r;
}

int layout_base_dir(const struct layout_base_in *in, struct strbuf *out, struct strbuf *err)
{
	struct strbuf value = STRBUF_INIT, rel = STRBUF_INIT;
	int r = 0;

	if (in->output_dir && *in->output_dir) {
		errno = 0;
		r = path_absolute(out, in->output_dir);
	} else if (in->env && *in->env) {
		errno = 0;
		r = path_absolute(out, in->env);
	} else {
		if (in->context && *in->context) {
			/* ".env_" always leads the name, so only '/' could leave root. */
			if (strchr(in->context, '/')) {
				strbuf_addstr(err, "docker context name '");
				text_quote(err, in->context);
				strbuf_addstr(err, "' cannot name an env file");
				return -1;
			}
			if (env_file_value(in->root, in->context, &value, err) < 0) {
				strbuf_release(&value);
				return -1;
			}
		}
		errno = 0;
		if (value.len)
			r = path_join(&rel, in->root, value.buf);
		else
			r = path_join(&rel, in->root, "_archive/images");
		if (r == 0)
			r = path_absolute(out, rel.buf);
	}
	if (r < 0)	/* getcwd's errno, ENOMEM, or none for a path past the cap */
		strbuf_addf(err, "cannot make the archive folder path absolute: %s",
			    errno ? strerror(errno) : "path too long");
	strbuf_release(&value);
	strbuf_release(&rel);
	return r < 0 ? -1 : 0;
}

int layout_timestamp(time_t t, struct strbuf *out)
{
	struct tm tm;
	char date[32];
	long off;
	char sign = '+';

	if (!localtime_r(&t, &tm) || !strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm))
		return -1;
	off = tm.tm_gmtoff;
	if (off < 0) {
		sign = '-';
		off = -off;
	}
	if (strbuf_addf(out, "%s%c%02ld:%02ld", date, sign, off / 3600, off / 60 % 60) < 0)
		return -1;
	if (off % 60 && strbuf_addf(out, ":%02ld", off % 60) < 0)
		return -1;
	return 0;
}

int layout_now(struct strbuf *out)
{
	return layout_timestamp(time(NULL), out);
}
