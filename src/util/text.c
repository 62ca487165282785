/*
 * text: UTF-8 validation and escaping for display; see text.h.
 */
#include "text.h"

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when it is not one. */
static size_t utf8_seq(const unsigned char *s, size_t len)
{
	unsigned c = s[0];
	size_t n;
	unsigned min;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		n = 2, min = 0x80;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3, min = 0x800;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4, min = 0x10000;
	else
		return 0;
	if (len < n)
		return 0;
	{
		unsigned cp = c & (0xFF >> (n + 1));

		for (size_t i = 1; i < n; i++) {
			if ((s[i] & 0xC0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
	}
	return n;
}

int utf8_valid(const char *s, size_t len, size_t *bad)
{
	const unsigned char *u = (const unsigned char *)s;

	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq(u + i, len - i);

		if (!n) {
			if (bad)
				*bad = i;
			return 0;
		}
		i += n;
	}
	return 1;
}

int text_quote(struct strbuf *out, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len = 0;

	while (u[len])
		len++;
	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq(u + i, len - i);
		int r;

		if (n == 1 && u[i] == '\n')
			r = strbuf_addstr(out, "\\n");
		else if (n == 1 && u[i] == '\t')
			r = strbuf_addstr(out, "\\t");
		else if (n == 1 && u[i] == '\r')
			r = strbuf_addstr(out, "\\r");
		else if (!n || (n == 1 && (u[i] < 0x20 || u[i] == 0x7F)))
			r = strbuf_addf(out, "\\x%02x", u[i]);
		else
			r = strbuf_add(out, s + i, n);
		if (r < 0)
			return -1;
		i += n ? n : 1;
	}
	return 0;
}

void text_position(const char *data, size_t len, size_t off, unsigned *line, unsigned *col)
{
	unsigned l = 1, c = 1;

	for (size_t i = 0; i < off && i < len; i++) {
		if (data[i] == '\n') {
			l++;
			c = 1;
		} else if (((unsigned char)data[i] & 0xC0) != 0x80) {
			c++;
		}
	}
	*line = l;
	*col = c;
}
