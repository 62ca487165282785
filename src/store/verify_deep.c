/*
 * verify_deep: read one stored archive through, once, and prove it whole
 * (verify_deep_fd in verify.h).
 *
 * The file is read in blocks that are hashed as stored and decompressed
 * here, with zlib or libzstd, not by libarchive's filters: libarchive
 * neither checks a gzip member's CRC nor reads what follows the tar's
 * end-of-archive blocks, so a flipped CRC or a cut-off trailer would pass.
 * libarchive (tar format only, no filters, so no external program can be
 * started) reads the tar from the decompressed stream; every tar entry is
 * hashed as it streams past, and a layer blob that is itself gzip or zstd
 * is decompressed and hashed too, for its diff ID. What is kept per entry
 * is its name, hashes and link target; of the content, only docker's
 * manifest.json and the one config hashing to the entry's docker_id.
 */
#define ZLIB_CONST
#include "verify.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "../util/jsonsafe.h"
#include "../util/path.h"
#include "../util/strmap.h"
#include "../util/text.h"
#include "errtext.h"

#define RAW_CHUNK ((size_t)1 << 20)	/* read from the file */
#define OUT_CHUNK ((size_t)1 << 20)	/* decompressed, handed to libarchive */
#define DATA_CHUNK ((size_t)256 << 10)	/* one tar entry's content */
#define TAR_END 1024			/* two zero blocks end a tar */
#define MAX_NAME_BYTES ((size_t)16 << 20)
#define MAX_LINK_HOPS 16

/* ---- decompression, one step at a time --------------------------------- */

enum unz_kind { UNZ_NONE, UNZ_GZIP, UNZ_ZSTD };

struct unz {
	enum unz_kind kind;
	z_stream zs;
	int zs_ready;
	ZSTD_DCtx *zd;
	int in_frame;			/* inside a gzip member or zstd frame */
	unsigned long long frames;	/* members or frames begun */
};

static int unz_start(struct unz *u, enum unz_kind kind, struct strbuf *why)
{
	u->kind = kind;
	u->in_frame = 0;
	u->frames = 0;
	if (kind == UNZ_GZIP && !u->zs_ready) {
		memset(&u->zs, 0, sizeof(u->zs));
		if (inflateInit2(&u->zs, 16 + MAX_WBITS) != Z_OK) {
			strbuf_addstr(why, "out of memory (zlib)");
			return -1;
		}
		u->zs_ready = 1;
	}
	if (kind == UNZ_ZSTD) {
		if (!u->zd && !(u->zd = ZSTD_createDCtx())) {
			strbuf_addstr(why, "out of memory (zstd)");
			return -1;
		}
		ZSTD_DCtx_reset(u->zd, ZSTD_reset_session_only);
	}
	return 0;
}

static void unz_free(struct unz *u)
{
	if (u->zs_ready)
		inflateEnd(&u->zs);
	ZSTD_freeDCtx(u->zd);
	memset(u, 0, sizeof(*u));
}

static int gz_step(struct unz *u, const unsigned char *in, size_t len, size_t *pos,
		   unsigned char *out, size_t cap, size_t *made, struct strbuf *why)
{
	size_t avail = len - *pos;
	int rc;

	if (!u->in_frame) {
		if (inflateReset(&u->zs) != Z_OK) {
			strbuf_addstr(why, "zlib failed");
			return -1;
		}
		u->in_frame = 1;
		u->frames++;
	}
	u->zs.next_in = in + *pos;
	u->zs.avail_in = avail > UINT_MAX ? UINT_MAX : (uInt)avail;
	u->zs.next_out = out;
	u->zs.avail_out = cap > UINT_MAX ? UINT_MAX : (uInt)cap;
	rc = inflate(&u->zs, Z_NO_FLUSH);
	*pos += (size_t)(u->zs.next_in - (in + *pos));
	*made = (size_t)(u->zs.next_out - out);
	if (rc == Z_STREAM_END)
		u->in_frame = 0;
	else if (rc == Z_MEM_ERROR) {
		strbuf_addstr(why, "out of memory to decompress it");
		return -1;
	} else if (rc != Z_OK && rc != Z_BUF_ERROR) {
		if (u->frames > 1 && u->zs.total_out == 0)
			strbuf_addstr(why, "data that is not gzip follows the gzip stream");
		else
			strbuf_addf(why, "gzip data is damaged (%s)",
				    u->zs.msg ? u->zs.msg : "zlib error");
		return -1;
	}
	return 0;
}

static int zstd_step(struct unz *u, const unsigned char *in, size_t len, size_t *pos,
		     unsigned char *out, size_t cap, size_t *made, struct strbuf *why)
{
	ZSTD_inBuffer ib = { in, len, *pos };
	ZSTD_outBuffer ob = { out, cap, 0 };
	size_t r = ZSTD_decompressStream(u->zd, &ob, &ib);

	if (ZSTD_isError(r)) {
		if (u->frames && !u->in_frame)
			strbuf_addf(why, "data that is not zstd follows the zstd stream (%s)",
				    ZSTD_getErrorName(r));
		else
			strbuf_addf(why, "zstd data is damaged (%s)", ZSTD_getErrorName(r));
		return -1;
	}
	if (!u->in_frame && ib.pos > *pos)
		u->frames++;
	u->in_frame = r != 0;
	*pos = ib.pos;
	*made = ob.pos;
	return 0;
}

/*
 * Decompress from in[*pos..len) into out[0..cap): *made bytes, *pos
 * advanced. Called with no input left, it only flushes what the decoder
 * still holds. 0, or -1 with why set.
 */
static int unz_step(struct unz *u, const unsigned char *in, size_t len, size_t *pos,
		    unsigned char *out, size_t cap, size_t *made, struct strbuf *why)
{
	size_t n;

	*made = 0;
	if (*pos == len && !u->in_frame)
		return 0;
	switch (u->kind) {
	case UNZ_GZIP:
		return gz_step(u, in, len, pos, out, cap, made, why);
	case UNZ_ZSTD:
		return zstd_step(u, in, len, pos, out, cap, made, why);
	case UNZ_NONE:
		break;
	}
	n = len - *pos < cap ? len - *pos : cap;
	memcpy(out, in + *pos, n);
	*pos += n;
	*made = n;
	return 0;
}

/* The input has ended: was the stream complete? 0, or -1 with why set. */
static int unz_finish(const struct unz *u, struct strbuf *why)
{
	const char *what = u->kind == UNZ_GZIP ? "gzip" : "zstd";

	if (u->kind == UNZ_NONE)
		return 0;
	if (!u->frames) {
		strbuf_addf(why, "no %s data", what);
		return -1;
	}
	if (u->in_frame) {
		strbuf_addf(why, "the %s stream is cut short (its end is missing)", what);
		return -1;
	}
	return 0;
}

static enum unz_kind magic_kind(const unsigned char *p, size_t len)
{
	if (len >= 2 && p[0] == 0x1f && p[1] == 0x8b)
		return UNZ_GZIP;
	if (len >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd)
		return UNZ_ZSTD;
	return UNZ_NONE;
}

static int has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

/* ---- the file, decompressed, as a pull stream for libarchive ------------ */

struct src {
	int fd;
	EVP_MD_CTX *md;			/* of the file as stored */
	unsigned long long raw_size;
	unsigned char *raw, *out;
	size_t raw_len, raw_pos;
	int raw_eof;
	struct unz u;
	unsigned char tail[TAR_END];	/* the last bytes decompressed */
	unsigned long long out_total;
	int read_error, bad;		/* why says which */
	struct strbuf why;
};

static int src_fill(struct src *s)
{
	ssize_t n;

	do
		n = read(s->fd, s->raw, RAW_CHUNK);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		strbuf_reset(&s->why);
		strbuf_addstr(&s->why, "read error: ");
		errtext_add(&s->why, strerror(errno));
		s->read_error = 1;
		return -1;
	}
	s->raw_len = (size_t)n;
	s->raw_pos = 0;
	s->raw_eof = n == 0;
	s->raw_size += (unsigned long long)n;
	if (n && !EVP_DigestUpdate(s->md, s->raw, (size_t)n)) {
		strbuf_addstr(&s->why, "sha256 failed");
		s->read_error = 1;
		return -1;
	}
	return 0;
}

static void keep_tail(struct src *s, const unsigned char *p, size_t n)
{
	if (n >= TAR_END) {
		memcpy(s->tail, p + n - TAR_END, TAR_END);
	} else {
		memmove(s->tail, s->tail + n, TAR_END - n);
		memcpy(s->tail + TAR_END - n, p, n);
	}
	s->out_total += n;
}

/* The next decompressed bytes: > 0 at *p, 0 at the end of a whole stream, -1 (why set). */
static ssize_t src_next(struct src *s, const unsigned char **p)
{
	if (s->bad || s->read_error)
		return -1;
	for (;;) {
		size_t made = 0, before = s->raw_pos;

		if (s->raw_pos < s->raw_len || s->u.in_frame) {
			if (unz_step(&s->u, s->raw, s->raw_len, &s->raw_pos, s->out, OUT_CHUNK,
				     &made, &s->why) < 0) {
				s->bad = 1;
				return -1;
			}
			if (made) {
				keep_tail(s, s->out, made);
				*p = s->out;
				return (ssize_t)made;
			}
			if (s->raw_pos != before)
				continue;
		}
		if (s->raw_eof) {
			if (unz_finish(&s->u, &s->why) < 0) {
				s->bad = 1;
				return -1;
			}
			return 0;
		}
		if (src_fill(s) < 0)
			return -1;
	}
}

/* Hash what is left of the file (after a damaged stream, for its sha256). */
static int src_drain_raw(struct src *s)
{
	while (!s->raw_eof)
		if (src_fill(s) < 0)
			return -1;
	return 0;
}

static la_ssize_t tar_feed(struct archive *a, void *ctx, const void **buf)
{
	struct src *s = ctx;
	const unsigned char *p = NULL;
	ssize_t n = src_next(s, &p);

	if (n < 0) {
		archive_set_error(a, EIO, "%s", strbuf_str(&s->why));
		return -1;
	}
	*buf = p;
	return n;
}

/* ---- what the tar holds -------------------------------------------------- */

/* One tar entry, by its normalised name. */
struct rec {
	int regular;		/* content hashed into hex */
	int inner;		/* gzip or zstd content: inner_hex is of it decompressed */
	char *inner_why;	/* it did not decompress: why (owned) */
	char *link;		/* a symlink's or hard link's target, normalised (owned) */
	int bad_link;		/* a link leading out of the tar */
	char hex[65], inner_hex[65];
};

struct deep {
	struct src src;
	struct strmap files;		/* name -> struct rec * */
	size_t entries, name_bytes;
	const char *want;		/* the docker_id's 64 hex digits */
	struct strbuf manifest;		/* docker's manifest.json */
	int have_manifest;
	struct strbuf config, tmp;	/* the config hashing to want; a candidate */
	int have_config;
	EVP_MD_CTX *md, *inner_md;
	struct unz inner;
	unsigned char *data, *inner_out;
	struct strbuf name;
};

static void rec_free(void *p)
{
	struct rec *r = p;

	if (r) {
		free(r->inner_why);
		free(r->link);
	}
	free(r);
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

static int is_hex64(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i == 64;
}

/* The hex a content-addressed name promises (blobs/sha256/<hex>, top-level <hex>.json). */
static const char *named_hex(const char *name, char *hex)
{
	size_t len = strlen(name);

	if (!strncmp(name, "blobs/sha256/", 13) && is_hex64(name + 13))
		return memcpy(hex, name + 13, 65);
	if (len == 69 && !strcmp(name + 64, ".json") && !strchr(name, '/')) {
		memcpy(hex, name, 64);
		hex[64] = '\0';
		return is_hex64(hex) ? hex : NULL;
	}
	return NULL;
}

/* name without leading "./" and trailing '/', into out. */
static void normalise(const char *name, struct strbuf *out)
{
	size_t len;

	while (name[0] == '.' && name[1] == '/')
		name += 2;
	len = strlen(name);
	while (len > 1 && name[len - 1] == '/')
		len--;
	strbuf_reset(out);
	strbuf_add(out, name, len);
}

/*
 * A link's target as a tar name: a hard link's is one already; a
 * symlink's is relative to the link's folder. NULL when it would leave
 * the tar (absolute, or too many "..").
 */
static char *link_target(const char *name, const char *target, int symbolic)
{
	struct strbuf joined = STRBUF_INIT, abs = STRBUF_INIT, norm = STRBUF_INIT;
	const char *slash = strrchr(name, '/');
	char *res = NULL;

	if (!symbolic) {
		normalise(target, &norm);
		return strbuf_detach(&norm);
	}
	if (target[0] == '/')
		return NULL;
	/* Resolve lexically under a fake root, then refuse anything that left it. */
	strbuf_addstr(&joined, "/r/");
	if (slash)
		strbuf_add(&joined, name, (size_t)(slash - name + 1));
	strbuf_addstr(&joined, target);
	if (!joined.toobig && path_absolute(&abs, strbuf_str(&joined)) == 0 &&
	    !strncmp(strbuf_str(&abs), "/r/", 3))
		res = xstrdup_or_null(strbuf_str(&abs) + 3);
	strbuf_release(&joined);
	strbuf_release(&abs);
	strbuf_release(&norm);
	return res;
}

/* The record for name, new or (a later entry of the same name) reset. */
static struct rec *record(struct deep *d, const char *name, struct strbuf *why)
{
	size_t len = strlen(name);
	struct strmap_item *it = strmap_find(&d->files, name, len);

	if (it) {
		rec_free(it->value);
		it->value = NULL;
	} else {
		if (d->name_bytes + len > MAX_NAME_BYTES) {
			strbuf_addstr(why, "the tar's entry names take too much memory");
			return NULL;
		}
		if (!(it = strmap_put(&d->files, name, len))) {
			strbuf_addstr(why, "out of memory");
			return NULL;
		}
		d->name_bytes += len;
	}
	if (!(it->value = calloc(1, sizeof(struct rec))))
		strbuf_addstr(why, "out of memory");
	return it->value;
}

static int is_json_start(unsigned char c)
{
	return c == '{' || c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/* Where one entry's content goes besides the hash. */
struct sinks {
	struct strbuf *keep;	/* NULL: nothing kept */
	size_t keep_max;
	int inner;		/* decompress into inner_md */
};

static void inner_failed(struct rec *r, struct sinks *k, struct strbuf *msg)
{
	k->inner = 0;
	free(r->inner_why);
	if (!msg->len)
		strbuf_addstr(msg, "sha256 failed");
	r->inner_why = strbuf_detach(msg);
	if (!r->inner_why)
		r->inner_why = xstrdup_or_null("out of memory");
}

/* The entry's first bytes are known: choose where its content goes. */
static void choose_sinks(struct deep *d, struct rec *r, const char *name, la_int64_t size,
			 const unsigned char *head, size_t len, struct sinks *k)
{
	enum unz_kind kind = magic_kind(head, len);

	k->keep = NULL;
	k->keep_max = VERIFY_MAX_JSON;
	if (!strcmp(name, "manifest.json")) {
		k->keep = &d->manifest;
		strbuf_reset(&d->manifest);
	} else if (len && is_json_start(head[0]) && size >= 0 &&
		   (unsigned long long)size <= VERIFY_MAX_JSON) {
		k->keep = &d->tmp;
		strbuf_reset(&d->tmp);
	}
	k->inner = 0;
	r->inner = kind != UNZ_NONE;
	if (r->inner) {
		struct strbuf msg = STRBUF_INIT;

		if (unz_start(&d->inner, kind, &msg) == 0 &&
		    EVP_DigestInit_ex(d->inner_md, EVP_sha256(), NULL))
			k->inner = 1;
		else
			inner_failed(r, k, &msg);
		strbuf_release(&msg);
	}
}

/* Decompress a chunk of a compressed blob into its inner hash. */
static void feed_inner(struct deep *d, struct rec *r, struct sinks *k, const unsigned char *in,
		       size_t len)
{
	struct strbuf msg = STRBUF_INIT;
	size_t pos = 0, made;

	do {
		size_t before = pos;

		if (unz_step(&d->inner, in, len, &pos, d->inner_out, DATA_CHUNK, &made, &msg) < 0 ||
		    (made && !EVP_DigestUpdate(d->inner_md, d->inner_out, made))) {
			inner_failed(r, k, &msg);
			break;
		}
		if (!made && pos == before)
			break;
	} while (pos < len || made == DATA_CHUNK);
	strbuf_release(&msg);
}

static int feed(struct deep *d, struct rec *r, struct sinks *k, const unsigned char *p,
		size_t n, const char *name, struct strbuf *why)
{
	if (k->keep) {
		if (k->keep->len + n > k->keep_max) {
			if (k->keep == &d->manifest) {
				strbuf_addf(why, "manifest.json is larger than %zu MiB",
					    VERIFY_MAX_JSON >> 20);
				return -1;
			}
			k->keep = NULL;	/* too large to be the config */
		} else if (strbuf_add(k->keep, p, n) < 0) {
			strbuf_addf(why, "out of memory reading '");
			text_quote(why, name);
			strbuf_addch(why, '\'');
			return -1;
		}
	}
	if (k->inner)
		feed_inner(d, r, k, p, n);
	return 0;
}

/* Why libarchive stopped: the stream's own reason when it was ours. */
static int tar_error(struct deep *d, struct archive *a, struct strbuf *why)
{
	const char *msg = archive_error_string(a);

	if (d->src.read_error || d->src.bad) {
		strbuf_addstr(why, strbuf_str(&d->src.why));
		return -1;
	}
	strbuf_addstr(why, "tar: ");
	errtext_add(why, msg && *msg ? msg : "unreadable");
	return -1;
}

/* Hash a regular entry's content as it streams past (see struct sinks). */
static int hash_entry(struct deep *d, struct archive *a, struct rec *r, const char *name,
		      la_int64_t size, struct strbuf *why)
{
	static const unsigned char nothing[1];
	unsigned char head[4], sum[EVP_MAX_MD_SIZE];
	size_t head_len = 0;
	struct sinks k = { 0 };
	int decided = 0;

	if (!EVP_DigestInit_ex(d->md, EVP_sha256(), NULL)) {
		strbuf_addstr(why, "sha256 failed");
		return -1;
	}
	for (;;) {
		la_ssize_t n = archive_read_data(a, d->data, DATA_CHUNK);
		size_t take;

		if (n == 0)
			break;
		if (n < 0)
			return tar_error(d, a, why);
		if (!EVP_DigestUpdate(d->md, d->data, (size_t)n)) {
			strbuf_addstr(why, "sha256 failed");
			return -1;
		}
		if (decided) {
			if (feed(d, r, &k, d->data, (size_t)n, name, why) < 0)
				return -1;
			continue;
		}
		/* Which sinks depends on the first 4 bytes, which may come in pieces. */
		take = sizeof(head) - head_len < (size_t)n ? sizeof(head) - head_len : (size_t)n;
		memcpy(head + head_len, d->data, take);
		head_len += take;
		if (head_len < sizeof(head))
			continue;
		choose_sinks(d, r, name, size, head, head_len, &k);
		decided = 1;
		if (feed(d, r, &k, head, head_len, name, why) < 0 ||
		    feed(d, r, &k, d->data + take, (size_t)n - take, name, why) < 0)
			return -1;
	}
	if (!decided) {
		choose_sinks(d, r, name, size, head, head_len, &k);
		if (feed(d, r, &k, head, head_len, name, why) < 0)
			return -1;
	}
	if (!EVP_DigestFinal_ex(d->md, sum, NULL)) {
		strbuf_addstr(why, "sha256 failed");
		return -1;
	}
	hex_of(sum, r->hex);
	r->regular = 1;
	if (k.inner) {
		struct strbuf msg = STRBUF_INIT;

		feed_inner(d, r, &k, nothing, 0);	/* flush what the decoder holds */
		if (k.inner && unz_finish(&d->inner, &msg) < 0)
			inner_failed(r, &k, &msg);
		else if (k.inner && EVP_DigestFinal_ex(d->inner_md, sum, NULL))
			hex_of(sum, r->inner_hex);
		else if (k.inner)
			inner_failed(r, &k, &msg);
		strbuf_release(&msg);
	}
	if (k.keep == &d->manifest) {
		if (d->have_manifest) {
			strbuf_addstr(why, "manifest.json appears twice in the tar");
			return -1;
		}
		d->have_manifest = 1;
	} else if (k.keep == &d->tmp && !strcmp(r->hex, d->want)) {
		struct strbuf t = d->config;

		d->config = d->tmp;
		d->tmp = t;
		d->have_config = 1;
	}
	return 0;
}

static int read_entry(struct deep *d, struct archive *a, struct archive_entry *ent,
		      struct strbuf *why)
{
	const char *path = archive_entry_pathname(ent);
	const char *hard = archive_entry_hardlink(ent);
	const char *sym = archive_entry_filetype(ent) == AE_IFLNK ? archive_entry_symlink(ent) : NULL;
	struct rec *r;

	if (!path) {
		strbuf_addstr(why, "tar: an entry has no usable name");
		return -1;
	}
	if (++d->entries > VERIFY_MAX_TAR_ENTRIES) {
		strbuf_addf(why, "tar: more than %d entries", VERIFY_MAX_TAR_ENTRIES);
		return -1;
	}
	normalise(path, &d->name);
	if (d->name.toobig) {
		strbuf_addstr(why, "out of memory");
		return -1;
	}
	if (!(r = record(d, strbuf_str(&d->name), why)))
		return -1;
	if (hard || sym) {
		r->link = link_target(strbuf_str(&d->name), hard ? hard : sym, !hard);
		r->bad_link = !r->link;
	} else if (archive_entry_filetype(ent) == AE_IFREG) {
		return hash_entry(d, a, r, strbuf_str(&d->name),
				  archive_entry_size_is_set(ent) ? archive_entry_size(ent) : -1, why);
	}
	if (archive_read_data_skip(a) < ARCHIVE_WARN)
		return tar_error(d, a, why);
	return 0;
}

static int all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

/* Read every tar entry, then the rest of the stream. 0, or -1 with why set. */
static int read_tar(struct deep *d, struct strbuf *why)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ent;
	const unsigned char *p;
	ssize_t n;
	int ret = -1;

	if (!a) {
		strbuf_addstr(why, "out of memory");
		return -1;
	}
	if (archive_read_support_format_tar(a) != ARCHIVE_OK ||
	    archive_read_open(a, &d->src, NULL, tar_feed, NULL) != ARCHIVE_OK) {
		tar_error(d, a, why);
		goto out;
	}
	for (;;) {
		int rc = archive_read_next_header(a, &ent);

		if (rc == ARCHIVE_EOF)
			break;
		if ((rc != ARCHIVE_OK && rc != ARCHIVE_WARN) || read_entry(d, a, ent, why) < 0) {
			if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN)
				tar_error(d, a, why);
			goto out;
		}
	}
	/* libarchive stops at the end-of-archive blocks; the stream must end cleanly too. */
	while ((n = src_next(&d->src, &p)) > 0)
		;
	if (n < 0) {
		strbuf_addstr(why, strbuf_str(&d->src.why));
		goto out;
	}
	if (d->src.out_total < TAR_END || !all_zero(d->src.tail, TAR_END)) {
		strbuf_addstr(why, "the tar has no end-of-archive blocks (it was cut short)");
		goto out;
	}
	ret = 0;
out:
	archive_read_free(a);
	return ret;
}

/* ---- the checks, once everything is read ---------------------------------- */

/* The record name leads to (links followed), or NULL. */
static const struct rec *lookup(const struct deep *d, const char *name, struct strbuf *tmp)
{
	const char *n;

	normalise(name, tmp);
	n = strbuf_str(tmp);
	for (int hops = 0; hops <= MAX_LINK_HOPS; hops++) {
		struct strmap_item *it = strmap_find(&d->files, n, strlen(n));
		const struct rec *r = it ? it->value : NULL;

		if (!r || r->bad_link)
			return NULL;
		if (!r->link)
			return r;
		n = r->link;
	}
	return NULL;
}

static void quoted(struct strbuf *why, const char *s)
{
	strbuf_addch(why, '\'');
	text_quote(why, s);
	strbuf_addch(why, '\'');
}

/* The image of docker's manifest.json whose config hashes to want, or NULL (why set). */
static json_t *find_image(const struct deep *d, json_t *root, struct strbuf *why)
{
	struct strbuf tmp = STRBUF_INIT;
	const char *first = NULL;
	const struct rec *first_rec = NULL;
	json_t *item, *found = NULL;
	size_t i;

	json_array_foreach(root, i, item) {
		const char *cfg = json_string_value(json_object_get(item, "Config"));
		const struct rec *r;

		if (!cfg)
			continue;
		r = lookup(d, cfg, &tmp);
		if (r && r->regular && !strcmp(r->hex, d->want)) {
			found = item;
			break;
		}
		if (!first) {
			first = cfg;
			first_rec = r;
		}
	}
	if (found) {
		/* Found by hash, so this is the config whose text was kept. */
	} else if (!first) {
		strbuf_addstr(why, "docker's manifest.json names no image config");
	} else if (!first_rec || !first_rec->regular) {
		strbuf_addstr(why, "docker's manifest.json names the image config ");
		quoted(why, first);
		strbuf_addstr(why, ", which is not in the tar");
	} else {
		strbuf_addstr(why, "the image config ");
		quoted(why, first);
		strbuf_addf(why, " hashes to sha256:%.12s…, not to the entry's docker_id "
			    "sha256:%.12s…", first_rec->hex, d->want);
	}
	strbuf_release(&tmp);
	return found;
}

static int check_layer(const struct deep *d, const char *layer, const char *diff_id, size_t i,
		       size_t n, struct strbuf *tmp, struct strbuf *why)
{
	const struct rec *r = layer ? lookup(d, layer, tmp) : NULL;
	const char *got;

	if (!layer) {
		strbuf_addf(why, "docker's manifest.json: layer %zu of %zu is not a string", i + 1, n);
		return -1;
	}
	strbuf_addf(why, "layer %zu of %zu (", i + 1, n);
	quoted(why, layer);
	if (!r || !r->regular) {
		strbuf_addstr(why, ") is not in the tar");
		return -1;
	}
	if (r->inner_why) {
		strbuf_addstr(why, ") does not decompress: ");
		strbuf_addstr(why, r->inner_why);
		return -1;
	}
	got = r->inner ? r->inner_hex : r->hex;
	if (!diff_id || strncmp(diff_id, "sha256:", 7) || strcmp(diff_id + 7, got)) {
		strbuf_addf(why, ") hashes to sha256:%.12s…, but its diff_id in the config is ", got);
		if (!diff_id) {
			strbuf_addstr(why, "missing");
		} else {
			struct strbuf cut = STRBUF_INIT;

			strbuf_add(&cut, diff_id, strnlen(diff_id, 19));
			text_quote(why, strbuf_str(&cut));
			if (strlen(diff_id) > 19)
				strbuf_addstr(why, "…");
			strbuf_release(&cut);
		}
		return -1;
	}
	strbuf_reset(why);
	return 0;
}

/* The config (kept by hash) lists a diff_id per layer, and each layer hashes to it. */
static int check_layers(const struct deep *d, json_t *image, struct strbuf *why)
{
	json_t *layers = json_object_get(image, "Layers"), *config, *ids;
	struct strbuf tmp = STRBUF_INIT, msg = STRBUF_INIT;
	json_error_t je;
	size_t n;
	int ret = -1;

	if (!d->have_config) {
		strbuf_addf(why, "the image config is not a JSON file of at most %zu MiB",
			    VERIFY_MAX_JSON >> 20);
		return -1;
	}
	if (!(config = json_parse(d->config.buf, d->config.len, 0, &je))) {
		strbuf_addf(why, "the image config is not valid JSON (line %d: ", je.line);
		text_quote(why, je.text);
		strbuf_addch(why, ')');
		return -1;
	}
	ids = json_object_get(json_object_get(config, "rootfs"), "diff_ids");
	n = json_array_size(layers);
	if (!json_is_array(layers)) {
		strbuf_addstr(why, "docker's manifest.json: \"Layers\" is not an array");
	} else if (!json_is_array(ids) || json_array_size(ids) != n) {
		strbuf_addf(why, "the image config lists %zu diff_ids for the %zu layers "
			    "docker's manifest.json names", json_array_size(ids), n);
	} else {
		ret = 0;
		for (size_t i = 0; i < n && ret == 0; i++)
			ret = check_layer(d, json_string_value(json_array_get(layers, i)),
					  json_string_value(json_array_get(ids, i)), i, n, &tmp,
					  &msg);
		if (ret < 0)
			strbuf_addstr(why, strbuf_str(&msg));
	}
	json_decref(config);
	strbuf_release(&tmp);
	strbuf_release(&msg);
	return ret;
}

static int check_image(const struct deep *d, struct strbuf *why)
{
	json_error_t je;
	json_t *root, *image;
	int ret = -1;

	if (!d->have_manifest) {
		strbuf_addstr(why, "no manifest.json in the tar (not a docker save stream)");
		return -1;
	}
	root = json_parse(d->manifest.buf, d->manifest.len, 0, &je);
	if (!root) {
		strbuf_addf(why, "docker's manifest.json is not valid JSON (line %d: ", je.line);
		text_quote(why, je.text);
		strbuf_addch(why, ')');
		return -1;
	}
	if (!json_is_array(root) || !json_array_size(root))
		strbuf_addstr(why, "docker's manifest.json is not a non-empty array");
	else if ((image = find_image(d, root, why)))
		ret = check_layers(d, image, why);
	json_decref(root);
	return ret;
}

/* Every blobs/sha256/<hex> and top-level <hex>.json hashes to its name. */
static int check_names(const struct deep *d, struct strbuf *why)
{
	for (size_t i = 0; i < d->files.n; i++) {
		const struct strmap_item *it = &d->files.items[i];
		const struct rec *r = it->value;
		char hex[65];

		if (!r || !r->regular || !named_hex(it->key, hex) || !strcmp(hex, r->hex))
			continue;
		quoted(why, it->key);
		strbuf_addf(why, " does not hash to its name (its content hashes to sha256:%.12s…)",
			    r->hex);
		return -1;
	}
	return 0;
}

/* ---- the whole --------------------------------------------------------- */

static int deep_init(struct deep *d, int fd)
{
	d->src.fd = fd;
	d->src.md = EVP_MD_CTX_new();
	d->md = EVP_MD_CTX_new();
	d->inner_md = EVP_MD_CTX_new();
	d->src.raw = malloc(RAW_CHUNK);
	d->src.out = malloc(OUT_CHUNK);
	d->data = malloc(DATA_CHUNK);
	d->inner_out = malloc(DATA_CHUNK);
	if (!d->src.md || !d->md || !d->inner_md || !d->src.raw || !d->src.out || !d->data ||
	    !d->inner_out || !EVP_DigestInit_ex(d->src.md, EVP_sha256(), NULL))
		return -1;
	return 0;
}

static void deep_free(struct deep *d)
{
	EVP_MD_CTX_free(d->src.md);
	EVP_MD_CTX_free(d->md);
	EVP_MD_CTX_free(d->inner_md);
	free(d->src.raw);
	free(d->src.out);
	free(d->data);
	free(d->inner_out);
	unz_free(&d->src.u);
	unz_free(&d->inner);
	strbuf_release(&d->src.why);
	strmap_free(&d->files, rec_free);
	strbuf_release(&d->manifest);
	strbuf_release(&d->config);
	strbuf_release(&d->tmp);
	strbuf_release(&d->name);
}

/* Decompress, read the tar and check it. 0, or -1 with why set. */
static int read_and_check(struct deep *d, const char *name, struct strbuf *why)
{
	enum unz_kind kind = magic_kind(d->src.raw, d->src.raw_len);

	if (!d->src.raw_len) {
		strbuf_addstr(why, "the file is empty");
		return -1;
	}
	if (has_suffix(name, ".tar.gz") && kind != UNZ_GZIP) {
		strbuf_addstr(why, "not gzip data (the name ends in .tar.gz)");
		return -1;
	}
	if (has_suffix(name, ".tar.zst") && kind != UNZ_ZSTD) {
		strbuf_addstr(why, "not zstd data (the name ends in .tar.zst)");
		return -1;
	}
	if (unz_start(&d->src.u, kind, why) < 0 || read_tar(d, why) < 0 ||
	    check_image(d, why) < 0 || check_names(d, why) < 0)
		return -1;
	return 0;
}

int verify_deep_fd(int fd, const char *name, const char *docker_id, char raw_hex[65],
		   unsigned long long *raw_size, struct strbuf *why)
{
	struct deep d = { 0 };
	struct strbuf msg = STRBUF_INIT;
	unsigned char sum[EVP_MAX_MD_SIZE];
	int ret;

	raw_hex[0] = '\0';
	*raw_size = 0;
	if (deep_init(&d, fd) < 0) {
		deep_free(&d);
		strbuf_addstr(why, "out of memory");
		return -1;
	}
	d.want = docker_id && !strncmp(docker_id, "sha256:", 7) ? docker_id + 7 : "";
	ret = src_fill(&d.src) < 0 ? -1 : read_and_check(&d, name, &msg) < 0 ? 1 : 0;
	if (d.src.read_error || src_drain_raw(&d.src) < 0 ||
	    !EVP_DigestFinal_ex(d.src.md, sum, NULL)) {
		ret = -1;
		strbuf_reset(&msg);
		strbuf_addstr(&msg, d.src.why.len ? strbuf_str(&d.src.why) : "sha256 failed");
	} else {
		hex_of(sum, raw_hex);
		*raw_size = d.src.raw_size;
	}
	if (ret)
		strbuf_addstr(why, strbuf_str(&msg));
	strbuf_release(&msg);
	deep_free(&d);
	return ret;
}
