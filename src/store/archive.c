/*
 * archive: source -> compress -> sha256 -> temporary file -> rename; see
 * archive.h.
 */
#include "archive.h"

#include <string.h>
#include <unistd.h>

#include "../codec/atomicfile.h"
#include "../codec/gzip.h"
#include "../codec/sha256.h"
#include "../codec/zstd.h"

struct pipe {
	struct writer *head;
	const struct archive_target *t;
	unsigned long long raw;
	struct strbuf *err;
};

static int sink(void *ctx, const char *data, size_t len)
{
	struct pipe *p = ctx;

	if (writer_write(p->head, data, len, p->err) < 0)
		return -1;
	p->raw += len;
	if (p->t->on_progress)
		p->t->on_progress(p->t->ctx, p->raw);
	return 0;
}

static void temp_changed(const struct archive_target *t, const char *path)
{
	if (t->on_temp)
		t->on_temp(t->ctx, path);
}

int archive_write(const struct archive_source *src, const struct archive_target *t,
		  struct archive_result *out, struct strbuf *err)
{
	struct atomic_file *af = atomic_file_open(t->dir, t->name, err);
	struct writer *file, *hash = NULL, *comp = NULL;
	struct pipe p = { .t = t, .err = err };
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (!af)
		return -1;
	temp_changed(t, atomic_file_temp_path(af));
	file = atomic_file_writer(af);
	if (!(hash = sha256_writer_new(file))) {
		strbuf_addstr(err, "out of memory");
		goto done;
	}
	comp = t->codec == LAYOUT_ZSTD ? zstd_writer_new(hash, t->level, t->threads, err)
				       : gzip_writer_new(hash, t->level, t->threads, err);
	if (!comp)
		goto done;
	p.head = comp;
	if (src->stream(src->ctx, sink, &p, err) < 0 || writer_close(comp, err) < 0 ||
	    writer_close(hash, err) < 0 || writer_close(file, err) < 0)
		goto done;
	sha256_writer_hex(hash, out->sha256);
	out->size = sha256_writer_bytes(hash);
	out->raw = p.raw;
	if ((t->before_commit && t->before_commit(t->ctx, err) < 0) ||
	    atomic_file_commit(af, err) < 0) {
		/* Renamed, but its folder not synced: the failure takes it away too. */
		if (atomic_file_committed(af))
			unlink(atomic_file_path(af));
		goto done;
	}
	ret = 0;
done:
	writer_free(comp);
	writer_free(hash);
	atomic_file_free(af);	/* removes the temporary unless committed */
	temp_changed(t, "");
	return ret;
}
