/*
 * yamltree: a YAML document read with libyaml into a small tree of
 * scalars, sequences and mappings, each with its line and column.
 *
 * Anchors and aliases resolve to shared nodes (a DAG, never copied), and
 * `<<` merge keys are applied while the tree is built, so readers see the
 * document as Compose does. The expanded size of the document is bounded
 * (an alias bomb is an error, not a hang), as is the nesting depth;
 * duplicate keys are errors. The tree owns every node; free it whole.
 */
#ifndef IMGVAULT_YAMLTREE_H
#define IMGVAULT_YAMLTREE_H

#include <stddef.h>

#include "../util/strbuf.h"

#define YAML_MAX_DEPTH 200
#define YAML_MAX_DEPTH_TEXT "200"
#define YAML_MAX_EXPANDED 2000000	/* nodes, counting every alias expansion */

enum ynode_kind { YN_SCALAR, YN_SEQ, YN_MAP };

struct ynode {
	enum ynode_kind kind;
	unsigned line, col;	/* 1-based position of the node's start */
	char *str;		/* scalar value (NUL-terminated), else NULL */
	size_t len;
	int is_null;		/* plain scalar null, ~ or empty */
	char quote;		/* scalar written in quotes: '\'' or '"', else 0 */
	struct ynode **items;	/* seq: items; map: key, value, key, value … */
	size_t n;		/* number of entries in items */
	size_t weight;		/* nodes in the fully expanded subtree */
};

struct ytree {
	struct ynode *root;	/* NULL for an empty document */
	struct ynode **all;	/* every node, for freeing */
	size_t nall, alloc;
};

/*
 * Parse the first document of data[0..len). On error returns -1, writes
 * the reason into err and the 1-based position into *line / *col.
 */
int ytree_parse(struct ytree *t, const char *data, size_t len,
		struct strbuf *err, unsigned *line, unsigned *col);
void ytree_free(struct ytree *t);

/* The value under a scalar key in a mapping, or NULL. */
const struct ynode *ynode_get(const struct ynode *map, const char *key);

#endif
