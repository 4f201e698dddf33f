/* The roadmap parser: reads markdown with cmark (the CommonMark reference implementation) and
 * walks its block tree to find the two item shapes a roadmap uses, checklists under a section
 * name and "Task N: title (k people, h hours)" blocks, keeping every other line as context.
 *
 * Items are cut from the source text by the line and column cmark reports for each block, so
 * titles and bodies read exactly as written. A fenced block whose info string is empty,
 * "markdown" or "md" and that holds items is parsed again as markdown (the seed roadmap keeps
 * its checklists in such a fence). A final sweep turns any non-blank line that no item or
 * context entry covers into context, so nothing is dropped, whatever cmark makes of it. */
#include "kanban/kanban.h"

#include <cmark.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/util.h"
#include "kanban/kanban_internal.h"

/* Fences inside fences are parsed as markdown down to this depth; deeper ones are context. */
#define MAX_FENCE_DEPTH 8
/* GitHub label names are at most 50 characters. */
#define MAX_LABEL 50
/* Section names are cut to this many characters: every item under it carries a copy. */
#define MAX_SECTION 200

/* One text cmark parsed: the roadmap itself, or the content of a fence inside it. */
typedef struct doc {
    const char *text;
    size_t len;
    size_t *start;  /* [1..n_lines]: offset of each line */
    size_t *length; /* [1..n_lines]: its length without the line ending */
    int n_lines;
    int offset; /* roadmap line = offset + line in this text */
} doc;

typedef struct parser {
    pg_kanban_roadmap *r;
    size_t cap_items, cap_context;
    char *section;       /* the current section name, "" when none */
    char *label;         /* its label ("done"), "" when none */
    long task;           /* index of the open task in r->items, -1 when none */
    pgi_buf body;        /* steps of the open task */
    int body_last;       /* last piece added to body: 0 none, 1 a step line, 2 a block */
    unsigned char *used; /* [1..n_lines] of the roadmap: covered by an item or context */
    int n_lines;
    int nomem;
} parser;

static void process(parser *p, const doc *d, cmark_node *parent, int depth);
static int lazy_task_line(const doc *d, int first, int last);

/* ------------------------------------------------------------------ text helpers */

/* Copies in, replacing NUL bytes and invalid UTF-8 with U+FFFD and dropping a leading byte
 * order mark, so that cmark's columns match our own and every string is valid JSON text. */
static char *
normalize(const char *in, size_t len, size_t *out_len)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t i = 0, o = 0;
    if (len >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF)
        i = 3;
    if (len > (SIZE_MAX - 1) / 3)
        return NULL;
    char *out = malloc(len * 3 + 1);
    if (!out)
        return NULL;
    while (i < len) {
        unsigned char c = s[i];
        size_t need = 0;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c >= 0x01 && c < 0x80) {
            out[o++] = (char)c;
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            if (c == 0xE0)
                lo = 0xA0;
            if (c == 0xED)
                hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            if (c == 0xF0)
                lo = 0x90;
            if (c == 0xF4)
                hi = 0x8F;
        }
        int ok = need > 0 && i + need < len;
        if (ok && (s[i + 1] < lo || s[i + 1] > hi))
            ok = 0;
        for (size_t k = 2; ok && k <= need; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xBF)
                ok = 0;
        if (ok) {
            memcpy(out + o, s + i, need + 1);
            o += need + 1;
            i += need + 1;
        } else {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        }
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

/* Splits d->text into lines the way cmark does ("\n", "\r\n" and "\r" end a line). */
static int
doc_index(doc *d)
{
    int n = 0;
    for (size_t i = 0; i < d->len; i++) {
        if (d->text[i] == '\n' || d->text[i] == '\r') {
            if (d->text[i] == '\r' && i + 1 < d->len && d->text[i + 1] == '\n')
                i++;
            n++;
        }
    }
    if (d->len > 0 && d->text[d->len - 1] != '\n' && d->text[d->len - 1] != '\r')
        n++;
    if (n > INT32_MAX - 2)
        return -1;
    d->start = malloc(((size_t)n + 2) * sizeof *d->start);
    d->length = malloc(((size_t)n + 2) * sizeof *d->length);
    if (!d->start || !d->length)
        return -1;
    int line = 1;
    size_t begin = 0;
    for (size_t i = 0; i < d->len && line <= n; i++) {
        if (d->text[i] == '\n' || d->text[i] == '\r') {
            d->start[line] = begin;
            d->length[line] = i - begin;
            if (d->text[i] == '\r' && i + 1 < d->len && d->text[i + 1] == '\n')
                i++;
            begin = i + 1;
            line++;
        }
    }
    if (line <= n) {
        d->start[line] = begin;
        d->length[line] = d->len - begin;
    }
    d->n_lines = n;
    return 0;
}

static void
doc_release(doc *d)
{
    free(d->start);
    free(d->length);
    d->start = d->length = NULL;
}

static int
clamp_line(const doc *d, int line)
{
    if (line < 1)
        return 1;
    if (line > d->n_lines)
        return d->n_lines;
    return line;
}

/* Line `line` of d from byte column `col` (1-based), or "" when out of range. */
static void
line_from(const doc *d, int line, int col, const char **s, size_t *n)
{
    *s = "";
    *n = 0;
    if (line < 1 || line > d->n_lines)
        return;
    size_t skip = col > 1 ? (size_t)(col - 1) : 0;
    if (skip > d->length[line])
        skip = d->length[line];
    *s = d->text + d->start[line] + skip;
    *n = d->length[line] - skip;
}

static int
is_space(char c)
{
    return c == ' ' || c == '\t';
}

static void
trim(const char **s, size_t *n)
{
    while (*n > 0 && (is_space(**s) || **s == '\v' || **s == '\f')) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && (is_space((*s)[*n - 1]) || (*s)[*n - 1] == '\v' || (*s)[*n - 1] == '\f'))
        (*n)--;
}

static int
is_blank_line(const doc *d, int line)
{
    const char *s;
    size_t n;
    line_from(d, line, 1, &s, &n);
    trim(&s, &n);
    return n == 0;
}

/* Narrows [*first, *last] to drop blank lines at either end; false when nothing is left. */
static int
trim_range(const doc *d, int *first, int *last)
{
    *first = clamp_line(d, *first);
    *last = clamp_line(d, *last);
    while (*first <= *last && is_blank_line(d, *first))
        (*first)++;
    while (*last >= *first && is_blank_line(d, *last))
        (*last)--;
    return *first <= *last;
}

static char *
dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* ------------------------------------------------------------------ recognisers */

typedef struct task_header {
    int number;
    const char *title;
    size_t title_len;
    int people;   /* 0 when not given */
    double hours; /* negative when not given */
} task_header;

static int
match_word(const char *s, size_t n, size_t *i, const char *const *words)
{
    for (const char *const *w = words; *w; w++) {
        size_t wl = strlen(*w);
        if (n - *i >= wl && strncasecmp(s + *i, *w, wl) == 0 &&
            (n - *i == wl || !((s[*i + wl] | 0x20) >= 'a' && (s[*i + wl] | 0x20) <= 'z'))) {
            *i += wl;
            return 1;
        }
    }
    return 0;
}

static void
skip_spaces(const char *s, size_t n, size_t *i)
{
    while (*i < n && is_space(s[*i]))
        (*i)++;
}

/* "(k people, h hours)": k a whole number 1..99999, h a number 0..99999 with at most two
 * decimals. */
static int
parse_estimate(const char *s, size_t n, int *people, double *hours)
{
    static const char *const person_words[] = {"people", "persons", "person", NULL};
    static const char *const hour_words[] = {"hours", "hour", "hrs", "hr", "h", NULL};
    size_t i = 0;
    skip_spaces(s, n, &i);
    long k = 0;
    size_t d0 = i;
    while (i < n && s[i] >= '0' && s[i] <= '9' && i - d0 < 5)
        k = k * 10 + (s[i++] - '0');
    if (i == d0 || k < 1 || (i < n && s[i] >= '0' && s[i] <= '9'))
        return 0;
    skip_spaces(s, n, &i);
    if (!match_word(s, n, &i, person_words))
        return 0;
    skip_spaces(s, n, &i);
    if (i >= n || s[i] != ',')
        return 0;
    i++;
    skip_spaces(s, n, &i);
    double h = 0;
    d0 = i;
    while (i < n && s[i] >= '0' && s[i] <= '9' && i - d0 < 5)
        h = h * 10 + (s[i++] - '0');
    if (i == d0 || (i < n && s[i] >= '0' && s[i] <= '9'))
        return 0;
    if (i < n && s[i] == '.') {
        i++;
        double scale = 0.1;
        size_t f0 = i;
        while (i < n && s[i] >= '0' && s[i] <= '9' && i - f0 < 2) {
            h += scale * (s[i++] - '0');
            scale /= 10;
        }
        if (i == f0 || (i < n && s[i] >= '0' && s[i] <= '9'))
            return 0;
    }
    skip_spaces(s, n, &i);
    if (!match_word(s, n, &i, hour_words))
        return 0;
    skip_spaces(s, n, &i);
    if (i != n)
        return 0;
    *people = (int)k;
    *hours = h;
    return 1;
}

/* "Task N: title (k people, h hours)" on one trimmed line; the estimate is optional. */
static int
parse_task_header(const char *s, size_t n, task_header *h)
{
    size_t i = 0;
    if (n < 6 || strncasecmp(s, "task", 4) != 0 || !is_space(s[4]))
        return 0;
    i = 4;
    skip_spaces(s, n, &i);
    long num = 0;
    size_t d0 = i;
    while (i < n && s[i] >= '0' && s[i] <= '9' && i - d0 < 9)
        num = num * 10 + (s[i++] - '0');
    if (i == d0 || (i < n && s[i] >= '0' && s[i] <= '9'))
        return 0;
    skip_spaces(s, n, &i);
    if (i >= n || s[i] != ':')
        return 0;
    i++;
    const char *t = s + i;
    size_t tn = n - i;
    trim(&t, &tn);
    if (tn == 0)
        return 0;
    h->number = (int)num;
    h->title = t;
    h->title_len = tn;
    h->people = 0;
    h->hours = -1;
    if (t[tn - 1] == ')') {
        size_t open = tn - 1;
        while (open > 0 && t[open] != '(')
            open--;
        if (t[open] == '(' && open > 0) {
            const char *title = t;
            size_t title_len = open;
            trim(&title, &title_len);
            if (title_len > 0 &&
                parse_estimate(t + open + 1, tn - open - 2, &h->people, &h->hours)) {
                h->title = title;
                h->title_len = title_len;
            }
        }
    }
    return 1;
}

/* A list item that starts with "[ ]", "[x]" or "[X]" followed by a space or the line's end.
 * Sets *para to the item's first paragraph and *text to what follows the box. */
static int
checkbox(const doc *d, cmark_node *item, int *checked, cmark_node **para, const char **text,
         size_t *text_len)
{
    cmark_node *c = cmark_node_first_child(item);
    if (!c || cmark_node_get_type(c) != CMARK_NODE_PARAGRAPH)
        return 0;
    const char *s;
    size_t n;
    line_from(d, cmark_node_get_start_line(c), cmark_node_get_start_column(c), &s, &n);
    if (n < 3 || s[0] != '[' || s[2] != ']' || (s[1] != ' ' && s[1] != 'x' && s[1] != 'X'))
        return 0;
    if (n > 3 && !is_space(s[3]))
        return 0;
    *checked = s[1] != ' ';
    *para = c;
    *text = s + 3;
    *text_len = n - 3;
    return 1;
}

static int
is_checklist(const doc *d, cmark_node *list)
{
    if (!list || cmark_node_get_type(list) != CMARK_NODE_LIST)
        return 0;
    for (cmark_node *it = cmark_node_first_child(list); it; it = cmark_node_next(it)) {
        int checked;
        cmark_node *para;
        const char *t;
        size_t tn;
        if (checkbox(d, it, &checked, &para, &t, &tn))
            return 1;
    }
    return 0;
}

/* A fenced code block (not an indented one) whose info string says it is markdown or nothing. */
static int
is_markdown_fence(const doc *d, cmark_node *code)
{
    const char *s;
    size_t n;
    line_from(d, cmark_node_get_start_line(code), cmark_node_get_start_column(code), &s, &n);
    trim(&s, &n);
    if (n < 3 || !((s[0] == '`' && s[1] == '`' && s[2] == '`') ||
                   (s[0] == '~' && s[1] == '~' && s[2] == '~')))
        return 0;
    const char *info = cmark_node_get_fence_info(code);
    if (!info)
        return 1;
    size_t w = 0;
    while (info[w] && !is_space(info[w]))
        w++;
    return w == 0 || (w == 2 && strncasecmp(info, "md", 2) == 0) ||
           (w == 8 && strncasecmp(info, "markdown", 8) == 0);
}

/* Whether the block tree under parent holds anything that would become an item. */
static int probe(const doc *d, cmark_node *parent, int depth);

static int
text_has_task(const doc *d, cmark_node *block)
{
    int first = clamp_line(d, cmark_node_get_start_line(block));
    int last = clamp_line(d, cmark_node_get_end_line(block));
    for (int l = first; l <= last; l++) {
        const char *s;
        size_t n;
        task_header h;
        line_from(d, l, l == first ? cmark_node_get_start_column(block) : 1, &s, &n);
        trim(&s, &n);
        while (n > 0 && *s == '#') { /* an ATX heading's marker */
            s++;
            n--;
        }
        trim(&s, &n);
        if (parse_task_header(s, n, &h))
            return 1;
    }
    return 0;
}

static int
parse_nested(const doc *outer, cmark_node *code, doc *nd, cmark_node **root)
{
    const char *lit = cmark_node_get_literal(code);
    memset(nd, 0, sizeof *nd);
    nd->text = lit ? lit : "";
    nd->len = strlen(nd->text);
    nd->offset = outer->offset + cmark_node_get_start_line(code);
    if (doc_index(nd) != 0) {
        doc_release(nd);
        return -1;
    }
    *root = cmark_parse_document(nd->text, nd->len, CMARK_OPT_DEFAULT);
    if (!*root) {
        doc_release(nd);
        return -1;
    }
    return 0;
}

static int
probe(const doc *d, cmark_node *parent, int depth)
{
    for (cmark_node *c = cmark_node_first_child(parent); c; c = cmark_node_next(c)) {
        switch (cmark_node_get_type(c)) {
        case CMARK_NODE_LIST:
            if (is_checklist(d, c) || lazy_task_line(d, clamp_line(d, cmark_node_get_start_line(c)),
                                                     clamp_line(d, cmark_node_get_end_line(c))))
                return 1;
            break;
        case CMARK_NODE_PARAGRAPH:
        case CMARK_NODE_HEADING:
            if (text_has_task(d, c))
                return 1;
            break;
        case CMARK_NODE_CODE_BLOCK:
            if (depth < MAX_FENCE_DEPTH && is_markdown_fence(d, c)) {
                doc nd;
                cmark_node *root;
                if (parse_nested(d, c, &nd, &root) == 0) {
                    int found = probe(&nd, root, depth + 1);
                    cmark_node_free(root);
                    doc_release(&nd);
                    if (found)
                        return 1;
                }
            }
            break;
        default: break;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ building the result */

static void
mark(parser *p, const doc *d, int first, int last)
{
    for (int l = first; l <= last; l++) {
        int rl = d->offset + l;
        if (rl >= 1 && rl <= p->n_lines)
            p->used[rl] = 1;
    }
}

/* Lines [first, last] of d, each with up to `indent` leading blanks removed, joined by "\n". */
static void
append_lines(pgi_buf *b, const doc *d, int first, int last, size_t indent)
{
    for (int l = first; l <= last; l++) {
        const char *s;
        size_t n;
        line_from(d, l, 1, &s, &n);
        size_t k = 0;
        while (k < indent && k < n && is_space(s[k]))
            k++;
        if (l > first)
            pgi_buf_append(b, "\n", 1);
        pgi_buf_append(b, s + k, n - k);
    }
}

static void
add_context_text(parser *p, int line, int end_line, char *text)
{
    pg_kanban_roadmap *r = p->r;
    if (!text) {
        p->nomem = 1;
        return;
    }
    if (r->n_context == p->cap_context) {
        size_t nc = p->cap_context ? p->cap_context * 2 : 16;
        pg_kanban_context *c = realloc(r->context, nc * sizeof *c);
        if (!c) {
            free(text);
            p->nomem = 1;
            return;
        }
        r->context = c;
        p->cap_context = nc;
    }
    r->context[r->n_context++] = (pg_kanban_context){line, end_line, text};
}

/* Keeps lines [first, last] of d (blank ends dropped) as one context entry. */
static void
add_context(parser *p, const doc *d, int first, int last)
{
    if (!trim_range(d, &first, &last))
        return;
    pgi_buf b = {0};
    append_lines(&b, d, first, last, 0);
    if (b.failed) {
        pgi_buf_free(&b);
        p->nomem = 1;
        return;
    }
    add_context_text(p, d->offset + first, d->offset + last, b.data ? b.data : pgi_strdup(""));
    mark(p, d, first, last);
}

/* "Done" -> "done", "Week 2: Next up" -> "week-2-next-up"; bytes beyond ASCII are kept. */
static char *
slug(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    int dash = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')) {
            if (dash && o > 0)
                out[o++] = '-';
            dash = 0;
            out[o++] = (char)c;
        } else if (c >= 'A' && c <= 'Z') {
            if (dash && o > 0)
                out[o++] = '-';
            dash = 0;
            out[o++] = (char)(c - 'A' + 'a');
        } else {
            dash = 1;
        }
    }
    /* Cut at a character boundary to GitHub's label length. */
    size_t chars = 0, cut = o;
    for (size_t i = 0; i < o; i++) {
        if (((unsigned char)out[i] & 0xC0) != 0x80) {
            if (chars == MAX_LABEL) {
                cut = i;
                break;
            }
            chars++;
        }
    }
    while (cut > 0 && out[cut - 1] == '-')
        cut--;
    out[cut] = '\0';
    return out;
}

static int
add_label(pg_kanban_item *it, char *label)
{
    if (!label)
        return -1;
    char **l = realloc(it->labels, (it->n_labels + 1) * sizeof *l);
    if (!l) {
        free(label);
        return -1;
    }
    it->labels = l;
    it->labels[it->n_labels++] = label;
    return 0;
}

/* Appends an item (title copied from t), filling its section and, for checklists, its label.
 * Returns its index, or -1 when memory runs out. */
static long
add_item(parser *p, pg_kanban_kind kind, int line, const char *t, size_t tn)
{
    pg_kanban_roadmap *r = p->r;
    if (r->n_items == p->cap_items) {
        size_t nc = p->cap_items ? p->cap_items * 2 : 32;
        pg_kanban_item *items = realloc(r->items, nc * sizeof *items);
        if (!items) {
            p->nomem = 1;
            return -1;
        }
        r->items = items;
        p->cap_items = nc;
    }
    pg_kanban_item *it = &r->items[r->n_items];
    memset(it, 0, sizeof *it);
    it->kind = kind;
    it->line = line;
    it->hours = -1;
    it->title = dup_n(t, tn);
    it->section = pgi_strdup(p->section);
    it->body = NULL;
    r->n_items++;
    if (!it->title || !it->section) {
        p->nomem = 1;
        return -1;
    }
    if (kind == PG_KANBAN_CHECKLIST && p->label[0]) {
        it->closed = strcmp(p->label, "done") == 0;
        if (add_label(it, pgi_strdup(p->label)) != 0) {
            p->nomem = 1;
            return -1;
        }
    }
    return (long)(r->n_items - 1);
}

static void
close_task(parser *p)
{
    if (p->task < 0)
        return;
    pg_kanban_item *it = &p->r->items[p->task];
    pgi_buf *b = &p->body;
    while (b->len > 0 && (b->data[b->len - 1] == '\n' || is_space(b->data[b->len - 1])))
        b->data[--b->len] = '\0';
    if (b->failed)
        p->nomem = 1;
    it->body = pgi_strdup(b->data ? b->data : "");
    if (!it->body)
        p->nomem = 1;
    pgi_buf_free(b);
    memset(b, 0, sizeof *b);
    p->body_last = 0;
    p->task = -1;
}

static void
start_task(parser *p, const doc *d, int line, const task_header *h)
{
    close_task(p);
    long idx = add_item(p, PG_KANBAN_TASK, d->offset + line, h->title, h->title_len);
    mark(p, d, line, line);
    if (idx < 0)
        return;
    pg_kanban_item *it = &p->r->items[idx];
    it->number = h->number;
    it->people = h->people;
    it->hours = h->hours;
    if (add_label(it, pgi_strdup("task")) != 0)
        p->nomem = 1;
    if (h->hours >= 0) {
        char label[64];
        snprintf(label, sizeof label, "estimate:%.8gh", h->hours);
        if (add_label(it, pgi_strdup(label)) != 0)
            p->nomem = 1;
        snprintf(label, sizeof label, "people:%d", h->people);
        if (add_label(it, pgi_strdup(label)) != 0)
            p->nomem = 1;
    }
    p->task = idx;
}

static void
set_section(parser *p, const char *s, size_t n)
{
    trim(&s, &n);
    while (n > 0 && s[n - 1] == ':')
        n--;
    trim(&s, &n);
    size_t chars = 0;
    for (size_t i = 0; i < n; i++) {
        if (((unsigned char)s[i] & 0xC0) != 0x80 && ++chars > MAX_SECTION) {
            n = i;
            break;
        }
    }
    char *sec = dup_n(s, n);
    char *label = sec ? slug(sec) : NULL;
    if (!sec || !label) {
        free(sec);
        p->nomem = 1;
        return;
    }
    free(p->section);
    free(p->label);
    p->section = sec;
    p->label = label;
}

/* One bullet-less line of a task's body becomes one step "- line". */
static void
body_step(parser *p, const char *s, size_t n)
{
    if (p->body_last == 2)
        pgi_buf_append(&p->body, "\n", 1);
    if (p->body_last != 0)
        pgi_buf_append(&p->body, "\n", 1);
    pgi_buf_append(&p->body, "- ", 2);
    pgi_buf_append(&p->body, s, n);
    p->body_last = 1;
}

/* A whole block (a list, a quote, code) joins a task's body as written, set apart by a blank
 * line from what came before unless both are lists. */
static void
body_block(parser *p, const doc *d, int first, int last, size_t indent, int is_list)
{
    if (!trim_range(d, &first, &last))
        return;
    if (p->body_last != 0)
        pgi_buf_append(&p->body, (p->body_last == 1 && is_list) ? "\n" : "\n\n",
                       (p->body_last == 1 && is_list) ? 1 : 2);
    append_lines(&p->body, d, first, last, indent);
    p->body_last = is_list ? 1 : 2;
    mark(p, d, first, last);
}

/* ------------------------------------------------------------------ blocks */

static int
node_first(const doc *d, cmark_node *n)
{
    return clamp_line(d, cmark_node_get_start_line(n));
}

static int
node_last(const doc *d, cmark_node *n)
{
    int last = cmark_node_get_end_line(n);
    if (last < cmark_node_get_start_line(n))
        last = cmark_node_get_start_line(n);
    return clamp_line(d, last);
}

static void
do_paragraph(parser *p, const doc *d, cmark_node *para)
{
    int first = node_first(d, para), last = node_last(d, para);
    int lead_in = 0;
    {
        const char *s;
        size_t n;
        task_header h;
        line_from(d, last, last == first ? cmark_node_get_start_column(para) : 1, &s, &n);
        trim(&s, &n);
        lead_in = n > 1 && s[n - 1] == ':' && !parse_task_header(s, n, &h) &&
                  is_checklist(d, cmark_node_next(para));
    }
    int ctx = -1; /* first line of a run of context lines */
    for (int l = first; l <= last; l++) {
        const char *s;
        size_t n;
        task_header h;
        line_from(d, l, l == first ? cmark_node_get_start_column(para) : 1, &s, &n);
        trim(&s, &n);
        int is_task = parse_task_header(s, n, &h);
        int is_lead = (l == last && lead_in) ||
                      (first == last && p->task < 0 && n > 1 && s[n - 1] == ':' && !is_task);
        if (is_task || is_lead || p->task >= 0) {
            if (ctx > 0)
                add_context(p, d, ctx, l - 1);
            ctx = -1;
        }
        if (is_lead) {
            close_task(p);
            set_section(p, s, n);
            add_context(p, d, l, l);
        } else if (is_task) {
            start_task(p, d, l, &h);
        } else if (p->task >= 0) {
            if (n > 0)
                body_step(p, s, n);
            mark(p, d, l, l);
        } else if (ctx < 0) {
            ctx = l;
        }
    }
    if (ctx > 0)
        add_context(p, d, ctx, last);
}

/* The text of a heading: an ATX heading without its #'s, a setext heading without its
 * underline (lines joined by spaces). */
static char *
heading_text(const doc *d, cmark_node *hd)
{
    int first = node_first(d, hd), last = node_last(d, hd);
    const char *s;
    size_t n;
    line_from(d, first, cmark_node_get_start_column(hd), &s, &n);
    trim(&s, &n);
    size_t hashes = 0;
    while (hashes < n && s[hashes] == '#')
        hashes++;
    if (first == last && hashes >= 1 && hashes <= 6 && (hashes == n || is_space(s[hashes]))) {
        s += hashes;
        n -= hashes;
        trim(&s, &n);
        /* An optional closing sequence of #'s, preceded by a space or alone. */
        size_t e = n;
        while (e > 0 && s[e - 1] == '#')
            e--;
        if (e == 0 || is_space(s[e - 1]))
            n = e;
        trim(&s, &n);
        return dup_n(s, n);
    }
    pgi_buf b = {0};
    for (int l = first; l < last || (l == first && first == last); l++) {
        line_from(d, l, l == first ? cmark_node_get_start_column(hd) : 1, &s, &n);
        trim(&s, &n);
        if (b.len > 0 && n > 0)
            pgi_buf_append(&b, " ", 1);
        pgi_buf_append(&b, s, n);
    }
    if (b.failed) {
        pgi_buf_free(&b);
        return NULL;
    }
    return b.data ? b.data : pgi_strdup("");
}

static void
do_heading(parser *p, const doc *d, cmark_node *hd)
{
    char *text = heading_text(d, hd);
    if (!text) {
        p->nomem = 1;
        return;
    }
    task_header h;
    int first = node_first(d, hd), last = node_last(d, hd);
    if (parse_task_header(text, strlen(text), &h)) {
        start_task(p, d, first, &h);
        mark(p, d, first, last);
    } else {
        close_task(p);
        set_section(p, text, strlen(text));
        add_context(p, d, first, last);
    }
    free(text);
}

/* The last non-blank line of a list item, which cmark may report past a trailing blank line. */
static int
item_last(const doc *d, cmark_node *item)
{
    int first = node_first(d, item), last = node_last(d, item);
    trim_range(d, &first, &last);
    return last < first ? first : last;
}

static void
do_checklist_item(parser *p, const doc *d, cmark_node *item, int stop)
{
    int checked;
    cmark_node *para;
    const char *t;
    size_t tn;
    int first = node_first(d, item), last = item_last(d, item);
    if (last > stop)
        last = stop;
    if (!checkbox(d, item, &checked, &para, &t, &tn)) {
        add_context(p, d, first, last);
        return;
    }
    /* The title is the first paragraph, its lines joined by spaces. */
    int pfirst = node_first(d, para), plast = node_last(d, para);
    if (plast > stop)
        plast = stop;
    pgi_buf title = {0};
    for (int l = pfirst; l <= plast; l++) {
        const char *s = t;
        size_t n = tn;
        if (l > pfirst)
            line_from(d, l, 1, &s, &n);
        trim(&s, &n);
        if (n == 0)
            continue;
        if (title.len > 0)
            pgi_buf_append(&title, " ", 1);
        pgi_buf_append(&title, s, n);
    }
    if (title.failed) {
        pgi_buf_free(&title);
        p->nomem = 1;
        return;
    }
    if (title.len == 0) {
        pgi_buf_free(&title);
        add_context(p, d, first, last);
        return;
    }
    long idx = add_item(p, PG_KANBAN_CHECKLIST, d->offset + pfirst, title.data, title.len);
    pgi_buf_free(&title);
    mark(p, d, first, last);
    if (idx < 0)
        return;
    pg_kanban_item *it = &p->r->items[idx];
    it->checked = checked;
    if (checked)
        it->closed = true;
    /* Further blocks of the item (paragraphs, sub-lists) are its body, de-indented to the
     * item's content column. */
    pgi_buf body = {0};
    int bfirst = plast + 1, blast = last;
    if (trim_range(d, &bfirst, &blast) && bfirst > plast)
        append_lines(&body, d, bfirst, blast,
                     (size_t)(cmark_node_get_start_column(para) > 1
                                  ? cmark_node_get_start_column(para) - 1
                                  : 0));
    if (body.failed)
        p->nomem = 1;
    it->body = body.data && !body.failed ? body.data : pgi_strdup("");
    if (body.failed)
        pgi_buf_free(&body);
    if (!it->body)
        p->nomem = 1;
}

/* The first line after a list's first that starts at column 1 with "Task N:". CommonMark makes
 * such a line a lazy continuation of the item above it; a roadmap means a new task. */
static int
lazy_task_line(const doc *d, int first, int last)
{
    for (int l = first + 1; l <= last; l++) {
        const char *s;
        size_t n;
        task_header h;
        line_from(d, l, 1, &s, &n);
        if (n == 0 || is_space(s[0]))
            continue;
        trim(&s, &n);
        if (parse_task_header(s, n, &h))
            return l;
    }
    return 0;
}

static int
starts_list_item(const char *s, size_t n)
{
    if (n >= 2 && (s[0] == '-' || s[0] == '*' || s[0] == '+') && is_space(s[1]))
        return 1;
    size_t i = 0;
    while (i < n && i < 9 && s[i] >= '0' && s[i] <= '9')
        i++;
    return i > 0 && i + 1 < n && (s[i] == '.' || s[i] == ')') && is_space(s[i + 1]);
}

/* The rest of a list from a lazy "Task N:" line on, line by line: task headers start tasks,
 * list lines and indented lines join the body as written, other lines are steps. */
static void
task_lines(parser *p, const doc *d, int from, int to)
{
    for (int l = from; l <= to; l++) {
        const char *raw;
        size_t rn;
        line_from(d, l, 1, &raw, &rn);
        const char *s = raw;
        size_t n = rn;
        trim(&s, &n);
        task_header h;
        if (n == 0)
            continue;
        if (!is_space(raw[0]) && parse_task_header(s, n, &h)) {
            start_task(p, d, l, &h);
        } else if (p->task >= 0 && !is_space(raw[0]) && !starts_list_item(raw, rn)) {
            body_step(p, s, n);
            mark(p, d, l, l);
        } else if (p->task >= 0) {
            body_block(p, d, l, l, 0, 1);
        }
    }
}

static void
do_list(parser *p, const doc *d, cmark_node *list)
{
    int first = node_first(d, list), last = node_last(d, list);
    int cut = lazy_task_line(d, first, last);
    int stop = cut ? cut - 1 : last;
    if (p->task >= 0) {
        int col = cmark_node_get_start_column(list);
        body_block(p, d, first, stop, col > 1 ? (size_t)col - 1 : 0, 1);
    } else {
        for (cmark_node *it = cmark_node_first_child(list); it; it = cmark_node_next(it))
            if (node_first(d, it) <= stop)
                do_checklist_item(p, d, it, stop);
    }
    if (cut)
        task_lines(p, d, cut, last);
}

/* The line that closes a fence, when the fence is closed (an unclosed one runs to the end). */
static int
closing_fence_line(const doc *d, cmark_node *code)
{
    int first = node_first(d, code), last = node_last(d, code);
    if (last <= first)
        return 0;
    const char *s;
    size_t n;
    line_from(d, last, 1, &s, &n);
    trim(&s, &n);
    if (n < 3)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] != s[0] || (s[0] != '`' && s[0] != '~'))
            return 0;
    return last;
}

static void
do_code(parser *p, const doc *d, cmark_node *code, int depth)
{
    int first = node_first(d, code), last = node_last(d, code);
    if (depth < MAX_FENCE_DEPTH && is_markdown_fence(d, code)) {
        doc nd;
        cmark_node *root;
        if (parse_nested(d, code, &nd, &root) != 0) {
            p->nomem = 1;
            return;
        }
        if (probe(&nd, root, depth + 1)) {
            close_task(p);
            mark(p, d, first, first);
            int closing = closing_fence_line(d, code);
            if (closing)
                mark(p, d, closing, closing);
            process(p, &nd, root, depth + 1);
            close_task(p); /* a task ends with the fence that holds it */
            cmark_node_free(root);
            doc_release(&nd);
            return;
        }
        cmark_node_free(root);
        doc_release(&nd);
    }
    if (p->task >= 0) {
        int col = cmark_node_get_start_column(code);
        body_block(p, d, first, last, col > 1 ? (size_t)col - 1 : 0, 0);
    } else {
        add_context(p, d, first, last);
    }
}

static void
process(parser *p, const doc *d, cmark_node *parent, int depth)
{
    for (cmark_node *c = cmark_node_first_child(parent); c && !p->nomem; c = cmark_node_next(c)) {
        switch (cmark_node_get_type(c)) {
        case CMARK_NODE_PARAGRAPH: do_paragraph(p, d, c); break;
        case CMARK_NODE_HEADING: do_heading(p, d, c); break;
        case CMARK_NODE_LIST: do_list(p, d, c); break;
        case CMARK_NODE_CODE_BLOCK: do_code(p, d, c, depth); break;
        case CMARK_NODE_THEMATIC_BREAK:
            close_task(p);
            add_context(p, d, node_first(d, c), node_last(d, c));
            break;
        default: /* block quotes, HTML blocks: part of a task's body, or context */
            if (p->task >= 0)
                body_block(p, d, node_first(d, c), node_last(d, c), 0, 0);
            else
                add_context(p, d, node_first(d, c), node_last(d, c));
            break;
        }
    }
}

/* Every non-blank roadmap line no item or context entry took (link reference definitions,
 * which cmark removes from its tree, and anything else) becomes context too. */
static void
sweep(parser *p, const doc *d)
{
    int run = 0;
    for (int l = 1; l <= d->n_lines + 1; l++) {
        int take = l <= d->n_lines && !p->used[l] && !is_blank_line(d, l);
        if (take && !run)
            run = l;
        if (!take && run) {
            add_context(p, d, run, l - 1);
            run = 0;
        }
    }
}

static int
cmp_context(const void *a, const void *b)
{
    const pg_kanban_context *x = a, *y = b;
    return (x->line > y->line) - (x->line < y->line);
}

int
pg_kanban_parse(pg_kanban_roadmap **out, const char *text, size_t len, const char *name,
                pg_error *err)
{
    int rc = PG_OK;
    char *norm = NULL;
    cmark_node *root = NULL;
    doc d = {0};
    parser p = {0};
    p.task = -1;
    if (!out || (!text && len > 0))
        return pg_error_set(err, PG_EINVAL, "pg_kanban_parse: no output or no text given");
    if (len > PG_KANBAN_MAX_INPUT) {
        rc = pg_error_set(err, PG_ELIMIT,
                          "the roadmap is %zu bytes; plurigrid kanban reads at most %u KiB", len,
                          PG_KANBAN_MAX_INPUT / 1024u);
        pg_error_at(err, name, 0, 0, NULL);
        return rc;
    }
    p.r = calloc(1, sizeof *p.r);
    p.section = pgi_strdup("");
    p.label = pgi_strdup("");
    if (!p.r || !p.section || !p.label)
        goto nomem;
    p.r->source = pgi_strdup(name ? name : "");
    size_t nlen = 0;
    norm = normalize(text ? text : "", len, &nlen);
    if (!p.r->source || !norm)
        goto nomem;
    d.text = norm;
    d.len = nlen;
    if (doc_index(&d) != 0)
        goto nomem;
    p.n_lines = d.n_lines;
    p.used = calloc((size_t)d.n_lines + 2, 1);
    root = cmark_parse_document(norm, nlen, CMARK_OPT_DEFAULT);
    if (!p.used || !root)
        goto nomem;
    process(&p, &d, root, 0);
    close_task(&p);
    if (!p.nomem)
        sweep(&p, &d);
    if (p.nomem)
        goto nomem;
    if (p.r->n_context > 1)
        qsort(p.r->context, p.r->n_context, sizeof *p.r->context, cmp_context);
    *out = p.r;
    p.r = NULL;
    goto out;
nomem:
    rc = pg_error_set(err, PG_ENOMEM, "out of memory while reading the roadmap");
    pg_error_at(err, name, 0, 0, NULL);
out:
    pg_kanban_free(p.r);
    pgi_buf_free(&p.body);
    free(p.section);
    free(p.label);
    free(p.used);
    if (root)
        cmark_node_free(root);
    doc_release(&d);
    free(norm);
    return rc;
}

int
pg_kanban_read(pg_kanban_roadmap **out, const char *path, pg_error *err)
{
    char *data = NULL;
    size_t len = 0;
    if (!path)
        return pg_error_set(err, PG_EINVAL, "pg_kanban_read: path is NULL");
    int rc = pg_input_read(path, PG_KANBAN_MAX_INPUT, &data, &len, err);
    if (rc)
        return rc;
    rc = pg_kanban_parse(out, data, len, path, err);
    free(data);
    return rc;
}

void
pg_kanban_free(pg_kanban_roadmap *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_items; i++) {
        pg_kanban_item *it = &r->items[i];
        free(it->title);
        free(it->body);
        free(it->section);
        for (size_t k = 0; k < it->n_labels; k++)
            free(it->labels[k]);
        free(it->labels);
    }
    for (size_t i = 0; i < r->n_context; i++)
        free(r->context[i].text);
    free(r->items);
    free(r->context);
    free(r->source);
    free(r);
}
