/*
 * unpack: gzip / zstd / plain archive files read back as tar; see unpack.h.
 */
#include "unpack.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#define IN_SIZE ((size_t)1 << 20)

struct unpack {
	int fd;
	enum unpack_kind kind;
	char *path;
	unsigned char *in;		/* compressed bytes read, not yet used */
	size_t in_len, in_pos;
	int eof;			/* the file is read to its end */
	int done;			/* the stream ended properly */
	int member_open;		/* gzip: inside a member */
	z_stream z;
	ZSTD_DCtx *zd;
	int frame_open;			/* zstd: inside a frame */
	EVP_MD_CTX *md;
	unsigned long long size;
	char error[512];
};

static int fill(struct unpack *u)
{
	ssize_t n;

	if (u->in_pos < u->in_len || u->eof)
		return 0;
	do
		n = read(u->fd, u->in, IN_SIZE);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		snprintf(u->error, sizeof(u->error), "read '%s': %s", u->path, strerror(errno));
		return -1;
	}
	if (n == 0)
		u->eof = 1;
	EVP_DigestUpdate(u->md, u->in, (size_t)n);
	u->size += (unsigned long long)n;
	u->in_len = (size_t)n;
	u->in_pos = 0;
	return 0;
}

struct unpack *unpack_open(const char *path, struct strbuf *err)
{
	struct unpack *u = calloc(1, sizeof(*u));
	struct stat st;

	if (u)
		u->fd = -1;
	if (!u || !(u->in = malloc(IN_SIZE)) || !(u->path = strdup(path)) ||
	    !(u->md = EVP_MD_CTX_new()) || !EVP_DigestInit_ex(u->md, EVP_sha256(), NULL)) {
		strbuf_addstr(err, "out of memory");
		unpack_close(u);
		return NULL;
	}
	u->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (u->fd < 0 || fstat(u->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		strbuf_addf(err, "'%s': %s", path,
			    u->fd < 0 ? (errno == ELOOP ? "is a symlink" : strerror(errno))
				      : "not a regular file");
		unpack_close(u);
		return NULL;
	}
	if (fill(u) < 0) {
		strbuf_addstr(err, u->error);
		unpack_close(u);
		return NULL;
	}
	if (u->in_len >= 2 && u->in[0] == 0x1f && u->in[1] == 0x8b) {
		u->kind = UNPACK_GZIP;
		/* 16 + MAX_WBITS: gzip framing, with its CRC and length checked. */
		if (inflateInit2(&u->z, 16 + MAX_WBITS) != Z_OK) {
			strbuf_addstr(err, "out of memory");
			unpack_close(u);
			return NULL;
		}
		u->member_open = 1;
	} else if (u->in_len >= 4 && !memcmp(u->in, "\x28\xb5\x2f\xfd", 4)) {
		u->kind = UNPACK_ZSTD;
		if (!(u->zd = ZSTD_createDCtx())) {
			strbuf_addstr(err, "out of memory");
			unpack_close(u);
			return NULL;
		}
	}
	return u;
}

enum unpack_kind unpack_kind(const struct unpack *u)
{
	return u->kind;
}

const char *unpack_error(const struct unpack *u)
{
	return u->error;
}

static ssize_t read_plain(struct unpack *u, char *buf, size_t n)
{
	size_t k;

	if (fill(u) < 0)
		return -1;
	k = u->in_len - u->in_pos;
	if (k > n)
		k = n;
	memcpy(buf, u->in + u->in_pos, k);
	u->in_pos += k;
	if (!k)
		u->done = 1;
	return (ssize_t)k;
}

static ssize_t read_gzip(struct unpack *u, char *buf, size_t n)
{
	int r = Z_OK;

	for (;;) {
		if (fill(u) < 0)
			return -1;
		if (!u->member_open) {
			/* Between members: the end of the file ends the stream. */
			if (u->in_pos == u->in_len && u->eof) {
				u->done = 1;
				return 0;
			}
			if ((r = inflateReset(&u->z)) != Z_OK)
				break;
			u->member_open = 1;
		}
		if (u->in_pos == u->in_len && u->eof) {
			snprintf(u->error, sizeof(u->error), "'%s': gzip stream cut short", u->path);
			return -1;
		}
		u->z.next_in = u->in + u->in_pos;
		u->z.avail_in = (uInt)(u->in_len - u->in_pos);
		u->z.next_out = (Bytef *)buf;
		u->z.avail_out = (uInt)(n > (1u << 30) ? (1u << 30) : n);
		r = inflate(&u->z, Z_NO_FLUSH);
		u->in_pos = u->in_len - u->z.avail_in;
		if (r == Z_STREAM_END)
			u->member_open = 0;
		else if (r != Z_OK && r != Z_BUF_ERROR)
			break;
		if ((char *)u->z.next_out > buf)
			return (char *)u->z.next_out - buf;
	}
	/* zlib allocates its window on the first inflate: that can fail. */
	if (r == Z_MEM_ERROR)
		snprintf(u->error, sizeof(u->error), "'%s': out of memory to decompress it",
			 u->path);
	else
		snprintf(u->error, sizeof(u->error), "'%s': corrupt gzip data (%s)", u->path,
			 u->z.msg ? u->z.msg : "inflate failed");
	return -1;
}

static ssize_t read_zstd(struct unpack *u, char *buf, size_t n)
{
	for (;;) {
		ZSTD_inBuffer in;
		ZSTD_outBuffer out = { buf, n, 0 };
		size_t r;

		if (fill(u) < 0)
			return -1;
		if (u->in_pos == u->in_len && u->eof) {
			if (u->frame_open) {
				snprintf(u->error, sizeof(u->error), "'%s': zstd stream cut short",
					 u->path);
				return -1;
			}
			u->done = 1;
			return 0;
		}
		in = (ZSTD_inBuffer){ u->in, u->in_len, u->in_pos };
		r = ZSTD_decompressStream(u->zd, &out, &in);
		u->in_pos = in.pos;
		if (ZSTD_isError(r)) {
			snprintf(u->error, sizeof(u->error), "'%s': corrupt zstd data (%s)", u->path,
				 ZSTD_getErrorName(r));
			return -1;
		}
		/* r == 0: a frame ended here; another may follow. */
		u->frame_open = r != 0;
		if (out.pos)
			return (ssize_t)out.pos;
	}
}

ssize_t unpack_read(struct unpack *u, char *buf, size_t n)
{
	if (u->done || !n)
		return 0;
	switch (u->kind) {
	case UNPACK_GZIP:
		return read_gzip(u, buf, n);
	case UNPACK_ZSTD:
		return read_zstd(u, buf, n);
	default:
		return read_plain(u, buf, n);
	}
}

void unpack_digest(struct unpack *u, char hex[65], unsigned long long *size)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	EVP_DigestFinal_ex(u->md, md, &len);
	for (unsigned i = 0; i < len && i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	hex[64] = 0;
	if (size)
		*size = u->size;
}

void unpack_close(struct unpack *u)
{
	if (!u)
		return;
	if (u->fd >= 0)
		close(u->fd);
	if (u->kind == UNPACK_GZIP)
		inflateEnd(&u->z);
	ZSTD_freeDCtx(u->zd);
	EVP_MD_CTX_free(u->md);
	free(u->in);
	free(u->path);
	free(u);
}

unsigned long long unpack_consumed(const struct unpack *u)
{
	return u->size;
}
