/*
 * sha256: the hashing tee writer and the file hasher (see sha256.h). Each
 * writer owns one EVP_MD_CTX, released by free.
 */
#include "sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILE_BLOCK ((size_t)1 << 20)

struct sha256_writer {
	struct writer w;
	struct writer *next;
	EVP_MD_CTX *ctx;
	unsigned long long bytes;
	unsigned char md[32];
	int failed, closed;
};

static void to_hex(const unsigned char md[32], char out[SHA256_HEX_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < 32; i++) {
		out[2 * i] = digits[md[i] >> 4];
		out[2 * i + 1] = digits[md[i] & 15];
	}
	out[SHA256_HEX_LEN] = '\0';
}

static int sw_write(struct writer *w, const void *buf, size_t len, struct strbuf *err)
{
	struct sha256_writer *s = (struct sha256_writer *)w;

	if (s->failed || s->closed) {
		strbuf_setf(err, "sha256: writer used after it failed or was closed");
		return -1;
	}
	if (len && !EVP_DigestUpdate(s->ctx, buf, len)) {
		s->failed = 1;
		strbuf_setf(err, "sha256: openssl digest update failed");
		return -1;
	}
	s->bytes += len;
	if (s->next && writer_write(s->next, buf, len, err) < 0) {
		s->failed = 1;
		return -1;
	}
	return 0;
}

static int sw_close(struct writer *w, struct strbuf *err)
{
	struct sha256_writer *s = (struct sha256_writer *)w;

	if (s->failed || s->closed) {
		strbuf_setf(err, "sha256: writer used after it failed or was closed");
		return -1;
	}
	if (!EVP_DigestFinal_ex(s->ctx, s->md, NULL)) {
		s->failed = 1;
		strbuf_setf(err, "sha256: openssl digest final failed");
		return -1;
	}
	s->closed = 1;
	return 0;
}

static void sw_free(struct writer *w)
{
	struct sha256_writer *s = (struct sha256_writer *)w;

	EVP_MD_CTX_free(s->ctx);
	free(s);
}

struct writer *sha256_writer_new(struct writer *next)
{
	struct sha256_writer *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->w.write = sw_write;
	s->w.close = sw_close;
	s->w.free = sw_free;
	s->next = next;
	s->ctx = EVP_MD_CTX_new();
	if (!s->ctx || !EVP_DigestInit_ex(s->ctx, EVP_sha256(), NULL)) {
		sw_free(&s->w);
		return NULL;
	}
	return &s->w;
}

int sha256_writer_hex(struct writer *w, char out[SHA256_HEX_LEN + 1])
{
	struct sha256_writer *s = (struct sha256_writer *)w;

	out[0] = '\0';
	if (!w || w->write != sw_write || !s->closed)
		return -1;
	to_hex(s->md, out);
	return 0;
}

unsigned long long sha256_writer_bytes(struct writer *w)
{
	if (!w || w->write != sw_write)
		return 0;
	return ((struct sha256_writer *)w)->bytes;
}

static int hash_fd(int fd, const char *path, EVP_MD_CTX *ctx, unsigned char *buf,
		   unsigned long long *total, struct strbuf *err)
{
	for (;;) {
		ssize_t n = read(fd, buf, FILE_BLOCK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			strbuf_setf(err, "read '%s': %s", path, strerror(errno));
			return -1;
		}
		if (n == 0)
			return 0;
		if (!EVP_DigestUpdate(ctx, buf, (size_t)n)) {
			strbuf_setf(err, "sha256 '%s': openssl digest update failed", path);
			return -1;
		}
		*total += (unsigned long long)n;
	}
}

int sha256_file(const char *path, char out[SHA256_HEX_LEN + 1],
		unsigned long long *size, struct strbuf *err)
{
	unsigned char md[32], *buf = NULL;
	unsigned long long total = 0;
	EVP_MD_CTX *ctx = NULL;
	struct stat st;
	int fd, r = -1;

	out[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		strbuf_setf(err, "open '%s': %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		strbuf_setf(err, "stat '%s': %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		strbuf_setf(err, "'%s' is not a regular file", path);
		goto out;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	buf = malloc(FILE_BLOCK);
	ctx = EVP_MD_CTX_new();
	if (!buf || !ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		strbuf_setf(err, "sha256 '%s': out of memory", path);
		goto out;
	}
	if (hash_fd(fd, path, ctx, buf, &total, err) < 0)
		goto out;
	if (!EVP_DigestFinal_ex(ctx, md, NULL)) {
		strbuf_setf(err, "sha256 '%s': openssl digest final failed", path);
		goto out;
	}
	to_hex(md, out);
	if (size)
		*size = total;
	r = 0;
out:
	EVP_MD_CTX_free(ctx);
	free(buf);
	close(fd);
	return r;
}
