/*
 * yamltree: libyaml events -> node tree; see yamltree.h.
 *
 * Nodes are built bottom-up on an explicit stack, so depth costs no C
 * stack. An anchor is registered when its node is complete, so an alias
 * can never point into its own node (no cycles). Each node's weight is the
 * size of its expanded subtree; a document heavier than YAML_MAX_EXPANDED
 * is refused, which is what stops alias bombs.
 */
#include "yamltree.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "../util/array.h"
#include "../util/strmap.h"
#include "../util/text.h"

struct builder {
	struct ytree *t;
	struct ynode **stack;
	size_t depth, stack_alloc;
	struct strmap anchors;	/* name -> struct ynode * (a later anchor replaces one) */
	char **stack_anchor;	/* the anchor to register when stack[i] ends */
	struct strbuf *err;
	unsigned line, col;
};

static int fail(struct builder *b, unsigned line, unsigned col, const char *fmt, const char *arg)
{
	strbuf_addf(b->err, fmt, arg);
	b->line = line;
	b->col = col;
	return -1;
}

static struct ynode *node_new(struct builder *b, enum ynode_kind kind, const yaml_mark_t *m)
{
	struct ytree *t = b->t;
	struct ynode **all = array_grow(t->all, &t->alloc, t->nall, sizeof(*all));
	struct ynode *n;

	if (!all)
		return NULL;
	t->all = all;
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->kind = kind;
	n->line = (unsigned)m->line + 1;
	n->col = (unsigned)m->column + 1;
	n->weight = 1;
	t->all[t->nall++] = n;
	return n;
}

static int items_push(struct ynode *parent, struct ynode *child)
{
	if ((parent->n & (parent->n - 1)) == 0) {	/* grow at powers of two */
		size_t alloc = parent->n ? parent->n * 2 : 4;
		struct ynode **p = realloc(parent->items, alloc * sizeof(*p));

		if (!p)
			return -1;
		parent->items = p;
	}
	parent->items[parent->n++] = child;
	return 0;
}

static int key_equals(const struct ynode *k, const char *s, size_t len)
{
	return k->kind == YN_SCALAR && k->len == len && !memcmp(k->str, s, len);
}

/* A set of scalar keys, hashed, so big mappings stay linear. */
struct keyset {
	const struct ynode **slots;
	size_t cap;
};

static size_t key_hash(const struct ynode *k)
{
	size_t h = 5381;

	for (size_t i = 0; i < k->len; i++)
		h = h * 33 + (unsigned char)k->str[i];
	return h;
}

/* 1 when k was already in the set, 0 when added, -1 when out of memory. */
static int keyset_add(struct keyset *s, const struct ynode *k)
{
	size_t i;

	if (k->kind != YN_SCALAR)
		return 0;	/* complex keys are never compared */
	for (i = key_hash(k) & (s->cap - 1); s->slots[i]; i = (i + 1) & (s->cap - 1))
		if (key_equals(s->slots[i], k->str, k->len))
			return 1;
	s->slots[i] = k;
	return 0;
}

static int keyset_init(struct keyset *s, size_t nkeys)
{
	s->cap = 16;
	while (s->cap < nkeys * 2 + 2)
		s->cap *= 2;
	s->slots = calloc(s->cap, sizeof(*s->slots));
	return s->slots ? 0 : -1;
}

static int is_merge_key(const struct ynode *k)
{
	return k->kind == YN_SCALAR && !k->quote && k->len == 2 && !memcmp(k->str, "<<", 2);
}

/* Add the pairs of `src` whose keys are not in `seen` yet (explicit keys win). */
static int merge_from(struct builder *b, struct ynode *out, const struct ynode *src,
		      struct keyset *seen)
{
	if (src->kind != YN_MAP)
		return fail(b, src->line, src->col, "%s", "merge key '<<' needs a mapping or a list of mappings");
	for (size_t i = 0; i + 1 < src->n; i += 2) {
		if (keyset_add(seen, src->items[i]))
			continue;
		if (items_push(out, src->items[i]) < 0 || items_push(out, src->items[i + 1]) < 0)
			return fail(b, src->line, src->col, "%s", "out of memory");
	}
	return 0;
}

/* Expand the `<<` keys of a mapping whose explicit keys are all in `seen`. */
static int apply_merges(struct builder *b, struct ynode *map, struct keyset *seen)
{
	struct ynode merged = { 0 };

	for (size_t i = 0; i + 1 < map->n; i += 2) {
		struct ynode *k = map->items[i], *v = map->items[i + 1];
		int r = 0;

		if (!is_merge_key(k)) {
			if (items_push(&merged, k) < 0 || items_push(&merged, v) < 0)
				r = fail(b, k->line, k->col, "%s", "out of memory");
		} else if (v->kind == YN_SEQ) {
			for (size_t j = 0; j < v->n && !r; j++)
				r = merge_from(b, &merged, v->items[j], seen);
		} else {
			r = merge_from(b, &merged, v, seen);
		}
		if (r < 0) {
			free(merged.items);
			return -1;
		}
	}
	free(map->items);
	map->items = merged.items;
	map->n = merged.n;
	map->weight = 1;
	for (size_t i = 0; i < map->n; i++)
		map->weight += map->items[i]->weight;
	return 0;
}

/*
 * A finished mapping: reject duplicate keys, then expand `<<` merges in
 * place. Explicit keys override merged ones; within a merge list, earlier
 * mappings win; merged keys take the place of the `<<` key.
 */
static int finish_map(struct builder *b, struct ynode *map)
{
	struct keyset seen;
	int has_merge = 0, r = 0;

	if (keyset_init(&seen, map->n) < 0)
		return fail(b, map->line, map->col, "%s", "out of memory");
	for (size_t i = 0; i + 1 < map->n && !r; i += 2) {
		const struct ynode *k = map->items[i];

		if (is_merge_key(k))
			has_merge = 1;
		else if (keyset_add(&seen, k))
			r = fail(b, k->line, k->col, "duplicate key '%.200s'", k->str);
	}
	if (!r && has_merge) {
		size_t total = map->n;

		/* Room for every key the merges could bring. */
		for (size_t i = 0; i + 1 < map->n; i += 2)
			if (is_merge_key(map->items[i]))
				total += map->items[i + 1]->weight;
		if (total * 2 + 2 > seen.cap) {
			struct keyset big;

			if (keyset_init(&big, total) < 0) {
				free(seen.slots);
				return fail(b, map->line, map->col, "%s", "out of memory");
			}
			for (size_t i = 0; i < seen.cap; i++)
				if (seen.slots[i])
					keyset_add(&big, seen.slots[i]);
			free(seen.slots);
			seen = big;
		}
		r = apply_merges(b, map, &seen);
	}
	free(seen.slots);
	return r;
}

static int add_weight(struct builder *b, struct ynode *parent, const struct ynode *child)
{
	parent->weight += child->weight;
	if (parent->weight > YAML_MAX_EXPANDED || child->weight > YAML_MAX_EXPANDED)
		return fail(b, child->line, child->col,
			    "%s", "document too large once aliases are expanded (an alias bomb?)");
	return 0;
}

/* Attach a finished node to the open collection, or make it the root. */
static int attach(struct builder *b, struct ynode *n)
{
	struct ynode *parent;

	if (!b->depth) {
		if (!b->t->root)
			b->t->root = n;
		return 0;
	}
	parent = b->stack[b->depth - 1];
	if (add_weight(b, parent, n) < 0)
		return -1;
	if (items_push(parent, n) < 0)
		return fail(b, n->line, n->col, "%s", "out of memory");
	return 0;
}

static int set_anchor(struct builder *b, const char *name, struct ynode *n)
{
	struct strmap_item *it = strmap_put(&b->anchors, name, strlen(name));

	if (!it)
		return -1;
	it->value = n;
	return 0;
}

static int push(struct builder *b, struct ynode *n, const char *anchor)
{
	if (b->depth >= YAML_MAX_DEPTH)
		return fail(b, n->line, n->col, "nesting deeper than %s levels", YAML_MAX_DEPTH_TEXT);
	if (b->depth == b->stack_alloc) {
		size_t alloc = b->stack_alloc ? b->stack_alloc * 2 : 16;
		struct ynode **s = realloc(b->stack, alloc * sizeof(*s));
		char **a = realloc(b->stack_anchor, alloc * sizeof(*a));

		if (s)
			b->stack = s;
		if (a)
			b->stack_anchor = a;
		if (!s || !a)
			return fail(b, n->line, n->col, "%s", "out of memory");
		b->stack_alloc = alloc;
	}
	b->stack[b->depth] = n;
	b->stack_anchor[b->depth] = anchor ? strdup(anchor) : NULL;
	b->depth++;
	return 0;
}

static int pop(struct builder *b)
{
	struct ynode *n = b->stack[--b->depth];
	char *anchor = b->stack_anchor[b->depth];
	int r = 0;

	if (n->kind == YN_MAP)
		r = finish_map(b, n);
	if (r == 0 && anchor && set_anchor(b, anchor, n) < 0)
		r = fail(b, n->line, n->col, "%s", "out of memory");
	free(anchor);
	return r < 0 ? r : attach(b, n);
}

static int is_null_scalar(const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;

	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	if (ev->data.scalar.tag && strcmp((const char *)ev->data.scalar.tag, "tag:yaml.org,2002:null"))
		return 0;
	return len == 0 || (len == 1 && v[0] == '~') ||
	       (len == 4 && (!memcmp(v, "null", 4) || !memcmp(v, "Null", 4) || !memcmp(v, "NULL", 4)));
}

static int scalar(struct builder *b, const yaml_event_t *ev)
{
	struct ynode *n;

	/* "\0" escapes are YAML, but no compose value can hold a NUL. */
	if (memchr(ev->data.scalar.value, '\0', ev->data.scalar.length))
		return fail(b, (unsigned)ev->start_mark.line + 1, (unsigned)ev->start_mark.column + 1,
			    "%s", "a NUL character in a value is not supported");
	n = node_new(b, YN_SCALAR, &ev->start_mark);
	if (!n || !(n->str = malloc(ev->data.scalar.length + 1)))
		return fail(b, 0, 0, "%s", "out of memory");
	memcpy(n->str, ev->data.scalar.value, ev->data.scalar.length);
	n->str[ev->data.scalar.length] = '\0';
	n->len = ev->data.scalar.length;
	n->is_null = is_null_scalar(ev);
	if (ev->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE)
		n->quote = '\'';
	else if (ev->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE)
		n->quote = '"';
	if (ev->data.scalar.anchor && set_anchor(b, (const char *)ev->data.scalar.anchor, n) < 0)
		return fail(b, n->line, n->col, "%s", "out of memory");
	return attach(b, n);
}

static int alias(struct builder *b, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;

	const struct strmap_item *it = strmap_find(&b->anchors, name, strlen(name));

	if (it)
		return attach(b, it->value);
	return fail(b, (unsigned)ev->start_mark.line + 1, (unsigned)ev->start_mark.column + 1,
		    "unknown anchor '%.200s'", name);
}

static int handle(struct builder *b, const yaml_event_t *ev)
{
	struct ynode *n;

	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		return scalar(b, ev);
	case YAML_ALIAS_EVENT:
		return alias(b, ev);
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		n = node_new(b, ev->type == YAML_SEQUENCE_START_EVENT ? YN_SEQ : YN_MAP,
			     &ev->start_mark);
		if (!n)
			return fail(b, 0, 0, "%s", "out of memory");
		return push(b, n, (const char *)(ev->type == YAML_SEQUENCE_START_EVENT ?
					ev->data.sequence_start.anchor : ev->data.mapping_start.anchor));
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return pop(b);
	default:
		return 0;
	}
}

int ytree_parse(struct ytree *t, const char *data, size_t len,
		struct strbuf *err, unsigned *line, unsigned *col)
{
	struct builder b = { .t = t, .err = err };
	yaml_parser_t parser;
	int r = 0, done = 0;

	memset(t, 0, sizeof(*t));
	if (!yaml_parser_initialize(&parser)) {
		strbuf_addstr(err, "out of memory");
		return -1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	while (!done) {
		yaml_event_t ev;

		if (!yaml_parser_parse(&parser, &ev)) {
			strbuf_addstr(err, parser.error == YAML_MEMORY_ERROR ? "out of memory"
					   : parser.problem ? parser.problem : "invalid YAML");
			if (parser.context)
				strbuf_addf(err, " %s", parser.context);
			if (parser.error == YAML_READER_ERROR) {
				/* Reader errors (bad UTF-8, control bytes) give only an offset. */
				text_position(data, len, parser.problem_offset, &b.line, &b.col);
			} else {
				b.line = (unsigned)parser.problem_mark.line + 1;
				b.col = (unsigned)parser.problem_mark.column + 1;
			}
			r = -1;
			break;
		}
		/* Only the first document counts. */
		done = ev.type == YAML_STREAM_END_EVENT || ev.type == YAML_DOCUMENT_END_EVENT;
		r = handle(&b, &ev);
		yaml_event_delete(&ev);
		if (r < 0)
			break;
	}
	yaml_parser_delete(&parser);
	while (b.depth)
		free(b.stack_anchor[--b.depth]);
	free(b.stack);
	free(b.stack_anchor);
	strmap_free(&b.anchors, NULL);
	if (r < 0) {
		if (line)
			*line = b.line;
		if (col)
			*col = b.col;
		ytree_free(t);
	}
	return r;
}

void ytree_free(struct ytree *t)
{
	for (size_t i = 0; i < t->nall; i++) {
		free(t->all[i]->str);
		free(t->all[i]->items);
		free(t->all[i]);
	}
	free(t->all);
	memset(t, 0, sizeof(*t));
}

const struct ynode *ynode_get(const struct ynode *map, const char *key)
{
	size_t len = strlen(key);

	if (!map || map->kind != YN_MAP)
		return NULL;
	for (size_t i = 0; i + 1 < map->n; i += 2)
		if (key_equals(map->items[i], key, len))
			return map->items[i + 1];
	return NULL;
}
