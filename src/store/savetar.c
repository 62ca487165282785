/*
 * savetar: stream a compressed docker-save tar through libarchive once,
 * keeping docker's manifest.json, the name of every entry, and (deep) the
 * SHA-256 of every file; savetar_check.c then checks what was kept. See
 * savetar.h.
 *
 * Only the gzip and zstd filters are enabled, not
 * archive_read_support_filter_all: that one also registers readers that
 * run external programs (lrzip, grzip, lzop), which a hostile file must
 * not be able to start.
 */
#include "savetar.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util/text.h"
#include "errtext.h"
#include "savetar_priv.h"

#define READ_CHUNK ((size_t)256 << 10)
#define MAX_NAME_BYTES ((size_t)16 << 20)
#define MAX_CONFIG_BYTES ((size_t)64 << 20)

static void file_free(void *p)
{
	struct savetar_file *f = p;

	if (f)
		strbuf_release(&f->config);
	free(f);
}

void savetar_release(struct savetar *st)
{
	for (size_t i = 0; i < st->n; i++) {
		free(st->images[i].id);
		free(st->images[i].config);
		strlist_free(&st->images[i].tags);
		strlist_free(&st->images[i].layers);
	}
	free(st->images);
	memset(st, 0, sizeof(*st));
}

static int is_hex64(const char *s, size_t len)
{
	if (len != 64)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

int savetar_legacy_config_name(const char *name, char *hex)
{
	size_t len = strlen(name);

	if (len != 69 || strcmp(name + 64, ".json") || !is_hex64(name, 64))
		return 0;
	memcpy(hex, name, 64);
	hex[64] = '\0';
	return 1;
}

int savetar_blob_name(const char *name, char *hex)
{
	static const char prefix[] = "blobs/sha256/";
	size_t plen = sizeof(prefix) - 1;

	if (strncmp(name, prefix, plen) || !is_hex64(name + plen, strlen(name + plen)))
		return 0;
	memcpy(hex, name + plen, 64);
	hex[64] = '\0';
	return 1;
}

static void libarchive_error(struct archive *a, struct strbuf *err)
{
	const char *msg = archive_error_string(a);

	errtext_add(err, msg && *msg ? msg : "unreadable archive");
}

/* Read the current entry's data: into keep (up to max bytes) and/or the hash. */
static int consume(struct archive *a, unsigned char *buf, EVP_MD_CTX *md,
		   struct strbuf *keep, size_t max, const char *name, struct strbuf *err)
{
	for (;;) {
		la_ssize_t n = archive_read_data(a, buf, READ_CHUNK);

		if (n == 0)
			return 0;
		if (n < 0) {
			libarchive_error(a, err);
			return -1;
		}
		if (md && !EVP_DigestUpdate(md, buf, (size_t)n)) {
			strbuf_addstr(err, "sha256 failed");
			return -1;
		}
		if (keep && (keep->len + (size_t)n > max || strbuf_add(keep, buf, (size_t)n) < 0)) {
			strbuf_addch(err, '\'');
			text_quote(err, name);
			strbuf_addstr(err, "' is too large to read into memory");
			return -1;
		}
	}
}

static void hex_of(const unsigned char *md, char *hex)
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[64] = '\0';
}

/* The entry's name without leading "./" or trailing '/'; NULL when unusable. */
static const char *entry_name(struct archive_entry *ent, struct strbuf *tmp, struct strbuf *err)
{
	const char *name = archive_entry_pathname(ent);
	size_t len;

	if (!name) {
		strbuf_addstr(err, "a tar entry has no usable name");
		return NULL;
	}
	while (name[0] == '.' && name[1] == '/')
		name += 2;
	len = strlen(name);
	while (len > 1 && name[len - 1] == '/')
		len--;
	if (len > SAVETAR_MAX_NAME) {
		strbuf_addf(err, "a tar entry name is longer than %d bytes", SAVETAR_MAX_NAME);
		return NULL;
	}
	strbuf_reset(tmp);
	if (strbuf_add(tmp, name, len) < 0) {
		strbuf_addstr(err, "out of memory");
		return NULL;
	}
	return tmp->buf;
}

/* The record for name, new or (a later entry of the same name) reset. */
static struct savetar_file *record(struct savetar_read *r, const char *name, struct strbuf *err)
{
	size_t len = strlen(name);
	struct strmap_item *it = strmap_find(&r->files, name, len);

	if (!it) {
		if (r->name_bytes + len > MAX_NAME_BYTES) {
			strbuf_addstr(err, "too many entry names");
			return NULL;
		}
		it = strmap_put(&r->files, name, len);
		if (!it || !(it->value = calloc(1, sizeof(struct savetar_file)))) {
			strbuf_addstr(err, "out of memory");
			return NULL;
		}
		r->name_bytes += len;
	} else {
		struct savetar_file *f = it->value;

		r->config_bytes -= f->config.len;
		strbuf_release(&f->config);
		memset(f, 0, sizeof(*f));
	}
	return it->value;
}

/* Hash (and for a legacy config, keep) a regular file's content. */
static int hash_entry(struct savetar_read *r, struct archive *a, unsigned char *buf,
		      EVP_MD_CTX *md, struct savetar_file *f, const char *name, struct strbuf *err)
{
	unsigned char sum[EVP_MAX_MD_SIZE];
	char want[65];
	int legacy = savetar_legacy_config_name(name, want);
	int blob = !legacy && savetar_blob_name(name, want);
	size_t max = SAVETAR_MAX_CONFIG;

	if (legacy && r->config_bytes + max > MAX_CONFIG_BYTES)
		max = MAX_CONFIG_BYTES - r->config_bytes;
	if (!EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
		strbuf_addstr(err, "sha256 failed");
		return -1;
	}
	if (consume(a, buf, md, legacy ? &f->config : NULL, max, name, err) < 0)
		return -1;
	r->config_bytes += f->config.len;
	if (!EVP_DigestFinal_ex(md, sum, NULL)) {
		strbuf_addstr(err, "sha256 failed");
		return -1;
	}
	hex_of(sum, f->hex);
	f->hashed = 1;
	r->st->hashed += legacy || blob;
	if ((legacy || blob) && strcmp(f->hex, want)) {
		strbuf_addch(err, '\'');
		text_quote(err, name);
		strbuf_addf(err, "': sha256 mismatch (the name says %.12s…, "
			    "the content hashes to %.12s…)", want, f->hex);
		return -1;
	}
	return 0;
}

static int read_entry(struct savetar_read *r, struct archive *a, struct archive_entry *ent,
		      unsigned char *buf, EVP_MD_CTX *md, struct strbuf *tmp, struct strbuf *err)
{
	const char *name = entry_name(ent, tmp, err);
	struct savetar_file *f;
	la_int64_t size = archive_entry_size_is_set(ent) ? archive_entry_size(ent) : 0;

	if (!name)
		return -1;
	if (++r->st->entries > SAVETAR_MAX_ENTRIES) {
		strbuf_addf(err, "more than %d tar entries", SAVETAR_MAX_ENTRIES);
		return -1;
	}
	r->bytes += size > 0 ? (unsigned long long)size : 0;
	if (r->opts.max_bytes && r->bytes > r->opts.max_bytes) {
		strbuf_addf(err, "more than %llu bytes of content", r->opts.max_bytes);
		return -1;
	}
	if (!(f = record(r, name, err)))
		return -1;
	f->regular = archive_entry_filetype(ent) == AE_IFREG && !archive_entry_hardlink(ent);
	if (!strcmp(name, "oci-layout") || !strcmp(name, "index.json"))
		r->st->oci = 1;
	if (!strcmp(name, "manifest.json") && f->regular) {
		if (r->have_manifest) {
			strbuf_addstr(err, "manifest.json appears twice");
			return -1;
		}
		r->have_manifest = 1;
		return consume(a, buf, NULL, &r->manifest, SAVETAR_MAX_MANIFEST, name, err);
	}
	if (r->opts.deep && f->regular)
		return hash_entry(r, a, buf, md, f, name, err);
	if (archive_read_data_skip(a) < ARCHIVE_WARN) {
		libarchive_error(a, err);
		return -1;
	}
	return 0;
}

static int read_all(struct savetar_read *r, struct archive *a, struct strbuf *err)
{
	struct strbuf tmp = STRBUF_INIT;
	unsigned char *buf = malloc(READ_CHUNK);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	struct archive_entry *ent;
	int ret = -1;

	if (!buf || !md) {
		strbuf_addstr(err, "out of memory");
		goto out;
	}
	for (;;) {
		int rc = archive_read_next_header(a, &ent);

		if (rc == ARCHIVE_EOF)
			break;
		if (rc < ARCHIVE_WARN) {
			libarchive_error(a, err);
			goto out;
		}
		if (read_entry(r, a, ent, buf, md, &tmp, err) < 0)
			goto out;
	}
	if (!r->have_manifest) {
		strbuf_addstr(err, "no manifest.json in the tar (not a docker save stream)");
		goto out;
	}
	ret = savetar_check(r, err);
out:
	EVP_MD_CTX_free(md);
	free(buf);
	strbuf_release(&tmp);
	return ret;
}

/* Set up a reader, hand it to open_fn, read everything, and name `name` in errors. */
static int read_archive(struct savetar *st, const char *name, const struct savetar_opts *opts,
			int (*open_fn)(struct archive *, void *), void *open_arg,
			struct strbuf *err)
{
	struct savetar_read r = { .st = st };
	struct strbuf why = STRBUF_INIT;
	struct archive *a = archive_read_new();
	int ret = -1;

	memset(st, 0, sizeof(*st));
	if (opts)
		r.opts = *opts;
	if (!a) {
		strbuf_addstr(&why, "out of memory");
	} else if (archive_read_support_filter_gzip(a) != ARCHIVE_OK ||
		   archive_read_support_filter_zstd(a) != ARCHIVE_OK ||
		   archive_read_support_format_tar(a) != ARCHIVE_OK) {
		strbuf_addstr(&why, "libarchive lacks gzip, zstd or tar support");
	} else if (open_fn(a, open_arg) != ARCHIVE_OK) {
		libarchive_error(a, &why);
	} else {
		ret = read_all(&r, a, &why);
	}
	if (a)
		archive_read_free(a);
	strmap_free(&r.files, file_free);
	strbuf_release(&r.manifest);
	if (ret < 0) {
		savetar_release(st);
		strbuf_addstr(err, "archive '");
		text_quote(err, name);
		strbuf_addf(err, "': %s", strbuf_str(&why));
	}
	strbuf_release(&why);
	return ret;
}

struct memory_arg {
	const void *data;
	size_t len;
};

static int open_memory(struct archive *a, void *arg)
{
	struct memory_arg *m = arg;

	/* libarchive takes a non-const pointer but only reads it. */
	return archive_read_open_memory(a, (void *)(uintptr_t)m->data, m->len);
}

int savetar_read_memory(struct savetar *st, const void *data, size_t len, const char *name,
			const struct savetar_opts *opts, struct strbuf *err)
{
	struct memory_arg m = { data, len };

	return read_archive(st, name, opts, open_memory, &m, err);
}

static int open_fd(struct archive *a, void *arg)
{
	return archive_read_open_fd(a, *(int *)arg, 1 << 20);
}

int savetar_read_file(struct savetar *st, const char *path, const struct savetar_opts *opts,
		      struct strbuf *err)
{
	/* O_NONBLOCK: a FIFO at path must not hang us; regular files ignore it. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	const char *why = NULL;
	struct stat st_buf;
	int r;

	memset(st, 0, sizeof(*st));
	if (fd < 0 || fstat(fd, &st_buf) < 0)
		why = strerror(errno);
	else if (!S_ISREG(st_buf.st_mode))
		why = "not a regular file";
	if (why) {
		strbuf_addstr(err, "archive '");
		text_quote(err, path);
		strbuf_addstr(err, "': ");
		errtext_add(err, why);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	r = read_archive(st, path, opts, open_fd, &fd, err);
	close(fd);
	return r;
}
