/* MATPOWER case reader (case format version 2). A MATPOWER case is a MATLAB function file that
 * assigns matrices to fields of a struct (`mpc.bus = [ ... ];`). This file reads the subset of
 * MATLAB that case files use -- assignments of numbers, strings, numeric matrices and cell arrays
 * to struct fields, with comments, continuations, commas or blanks between values and semicolons
 * or line ends between rows -- and maps the struct onto a pg_world (see docs/matpower.md for the
 * mapping). Files that compute their data with MATLAB code are refused with the line that does
 * so: plurigrid reads data, it does not run MATLAB.
 *
 * Parsing happens in two steps: a tokenizer/parser that turns the text into named values (with
 * the line and column of every matrix element, so errors can point at them), then a mapper that
 * checks each matrix column and builds the world. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "model/io/io_internal.h"

/* ---------------------------------------------------------------- tokens */

typedef enum {
    T_EOF,
    T_NL,    /* end of line (significant: it ends statements and matrix rows) */
    T_NUM,   /* a number, sign included where MATLAB reads it as part of the number */
    T_STR,   /* a quoted string; text in s/len is the decoded content */
    T_IDENT, /* identifier or keyword */
    T_PUNCT, /* one of [ ] { } ( ) = ; , . ' (the quote as transpose) */
    T_OP,    /* any other character: arithmetic and such, never valid in case data */
} tok_kind;

typedef struct tok {
    tok_kind kind;
    int line, col;
    double num;
    char c;        /* T_PUNCT, T_OP: the character */
    const char *s; /* T_IDENT: points into the text; T_STR: into the lexer's string buffer */
    size_t len;
    bool space_before; /* blanks (or a continuation) separate it from the previous token */
} tok;

typedef struct lexer {
    const char *p, *end, *line_start;
    int line;
    bool prev_value; /* the previous token can end a value: a quote after it is a transpose */
    int depth;       /* [ ] and { } nesting, where blanks separate elements */
    pgi_buf str;     /* decoded content of the last string token */
    const char *file;
    pg_error *err;
    int rc; /* first error the lexer met (PG_OK when none) */
} lexer;

static int lex_fail(lexer *lx, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
lex_fail(lexer *lx, int line, int col, const char *fmt, ...)
{
    if (lx->rc)
        return lx->rc;
    lx->rc = PG_EPARSE;
    if (lx->err) {
        va_list ap;
        va_start(ap, fmt);
        pg_error_vset(lx->err, PG_EPARSE, fmt, ap);
        va_end(ap);
        pg_error_at(lx->err, lx->file, line, col, "");
    }
    return lx->rc;
}

static int
col_of(const lexer *lx, const char *q)
{
    return (int)(q - lx->line_start) + 1;
}

static bool
is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static bool
is_ident_start(char c)
{
    return isalpha((unsigned char)c) || c == '_';
}

static bool
is_ident_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* Length of the word Inf/inf/NaN/nan at q (not followed by an identifier character), else 0. */
static size_t
special_number(const char *q, const char *end)
{
    static const char *words[] = {"Inf", "inf", "NaN", "nan"};
    for (size_t i = 0; i < 4; i++) {
        size_t n = 3;
        if ((size_t)(end - q) >= n && memcmp(q, words[i], n) == 0 &&
            (q + n == end || !is_ident_char(q[n])))
            return n;
    }
    return 0;
}

static bool
starts_number(const char *q, const char *end)
{
    if (q >= end)
        return false;
    if (isdigit((unsigned char)*q))
        return true;
    if (*q == '.' && q + 1 < end && isdigit((unsigned char)q[1]))
        return true;
    return special_number(q, end) > 0;
}

/* Skips a line (the rest of it, not the newline). */
static void
skip_to_eol(lexer *lx)
{
    while (lx->p < lx->end && *lx->p != '\n')
        lx->p++;
}

static void
newline(lexer *lx)
{
    lx->p++;
    lx->line++;
    lx->line_start = lx->p;
}

/* True when the line from q holds only blanks and then `%{` (or `%}` when close) and blanks. */
static bool
block_marker(const char *q, const char *end, bool close)
{
    while (q < end && is_blank(*q))
        q++;
    if (end - q < 2 || q[0] != '%' || q[1] != (close ? '}' : '{'))
        return false;
    q += 2;
    while (q < end && is_blank(*q))
        q++;
    return q == end || *q == '\n';
}

static bool
at_line_start(const lexer *lx)
{
    for (const char *q = lx->line_start; q < lx->p; q++)
        if (!is_blank(*q))
            return false;
    return true;
}

/* True when the text from the start of the line up to q is `function <name> =`: what follows
 * is the function's name, not a value. */
static bool
names_function(const lexer *lx, const char *q)
{
    const char *p = lx->line_start;
    while (p < q && is_blank(*p))
        p++;
    if (q - p < 8 || memcmp(p, "function", 8) != 0 || (p + 8 < q && is_ident_char(p[8])))
        return false;
    const char *e = q;
    while (e > p && is_blank(e[-1]))
        e--;
    return e > p && e[-1] == '=';
}

/* Reads a number at lx->p (the sign, if any, already consumed into sign). */
static int
lex_number(lexer *lx, tok *t, double sign, const char *start)
{
    const char *q = lx->p;
    size_t sp = special_number(q, lx->end);
    if (sp) {
        t->num = sign * (q[0] == 'I' || q[0] == 'i' ? INFINITY : NAN);
        lx->p += sp;
        return PG_OK;
    }
    char buf[512];
    size_t n = 0;
    bool ok = true;
#define PUT(ch)                                                                                    \
    do {                                                                                           \
        if (n + 1 < sizeof buf)                                                                    \
            buf[n++] = (ch);                                                                       \
        else                                                                                       \
            ok = false;                                                                            \
    } while (0)
    while (q < lx->end && isdigit((unsigned char)*q))
        PUT(*q++);
    if (q < lx->end && *q == '.' &&
        !(q + 1 < lx->end && (q[1] == '*' || q[1] == '/' || q[1] == '^' || q[1] == '\''))) {
        PUT(*q++);
        while (q < lx->end && isdigit((unsigned char)*q))
            PUT(*q++);
    }
    if (q < lx->end && (*q == 'e' || *q == 'E' || *q == 'd' || *q == 'D')) {
        const char *r = q + 1;
        if (r < lx->end && (*r == '+' || *r == '-'))
            r++;
        if (r < lx->end && isdigit((unsigned char)*r)) {
            PUT('e');
            q++;
            if (*q == '+' || *q == '-')
                PUT(*q++);
            while (q < lx->end && isdigit((unsigned char)*q))
                PUT(*q++);
        }
    }
#undef PUT
    if (q < lx->end && (is_ident_char(*q) || *q == '.')) {
        const char *e = q;
        while (e < lx->end && (is_ident_char(*e) || *e == '.'))
            e++;
        int shown = (int)(e - start > 40 ? 40 : e - start);
        if (names_function(lx, start))
            return lex_fail(lx, lx->line, col_of(lx, start),
                            "'%.*s' is not a function name: a MATLAB function name starts with a "
                            "letter and holds only letters, digits and '_' (MATPOWER names the "
                            "function after its file, as in 'function mpc = case9' in case9.m)",
                            shown, start);
        return lex_fail(lx, lx->line, col_of(lx, start), "'%.*s' is not a number", shown, start);
    }
    if (!ok)
        return lex_fail(lx, lx->line, col_of(lx, start), "a number with more than %zu characters",
                        sizeof buf - 1);
    buf[n] = '\0';
    errno = 0;
    t->num = sign * strtod(buf, NULL); /* overflow gives +-HUGE_VAL (Inf), as in MATLAB */
    lx->p = q;
    return PG_OK;
}

static int
lex_string(lexer *lx, tok *t)
{
    char quote = *lx->p;
    const char *start = lx->p;
    lx->p++;
    lx->str.len = 0;
    if (lx->str.data)
        lx->str.data[0] = '\0';
    for (;;) {
        if (lx->p >= lx->end || *lx->p == '\n')
            return lex_fail(lx, t->line, col_of(lx, start),
                            "a string opened here is not closed with %c on the same line", quote);
        char c = *lx->p++;
        if (c == quote) {
            if (lx->p < lx->end && *lx->p == quote) {
                lx->p++;
                pgi_buf_append(&lx->str, &c, 1);
                continue;
            }
            break;
        }
        if (quote == '"' && c == '\\' && lx->p < lx->end && *lx->p != '\n') {
            char e = *lx->p++;
            c = e == 'n' ? '\n' : e == 't' ? '\t' : e;
        }
        pgi_buf_append(&lx->str, &c, 1);
    }
    if (lx->str.failed)
        return lx->rc = pg_error_set(lx->err, PG_ENOMEM, "out of memory");
    if (!lx->str.data)
        pgi_buf_append(&lx->str, "", 0);
    t->kind = T_STR;
    t->s = lx->str.data ? lx->str.data : "";
    t->len = lx->str.len;
    return PG_OK;
}

static int
lex_next(lexer *lx, tok *t)
{
    memset(t, 0, sizeof *t);
    if (lx->rc)
        return lx->rc;
    for (;;) {
        if (lx->p >= lx->end) {
            t->kind = T_EOF;
            t->line = lx->line;
            t->col = col_of(lx, lx->p);
            return PG_OK;
        }
        char c = *lx->p;
        if (is_blank(c)) {
            lx->p++;
            t->space_before = true;
        } else if (c == '%' || c == '#') {
            if (at_line_start(lx) && block_marker(lx->p, lx->end, false)) {
                /* %{ ... %} block comment: skip whole lines up to the closing marker. */
                int open_line = lx->line;
                for (;;) {
                    skip_to_eol(lx);
                    if (lx->p >= lx->end)
                        return lex_fail(lx, open_line, 1,
                                        "the block comment opened with %%{ here is never "
                                        "closed with %%}");
                    newline(lx);
                    if (block_marker(lx->p, lx->end, true)) {
                        skip_to_eol(lx);
                        break;
                    }
                }
            } else {
                skip_to_eol(lx);
            }
        } else if (c == '.' && lx->end - lx->p >= 3 && lx->p[1] == '.' && lx->p[2] == '.') {
            /* Continuation: the rest of the line is a comment and the line break is a blank. */
            skip_to_eol(lx);
            if (lx->p < lx->end)
                newline(lx);
            t->space_before = true;
        } else {
            break;
        }
    }
    const char *start = lx->p;
    char c = *lx->p;
    t->line = lx->line;
    t->col = col_of(lx, start);
    bool blank_before = t->space_before;
    if (c == '\n') {
        newline(lx);
        t->kind = T_NL;
        lx->prev_value = false;
        return PG_OK;
    }
    if (c == '\'' && lx->prev_value && !blank_before) {
        lx->p++;
        t->kind = T_PUNCT;
        t->c = '\'';
        return PG_OK; /* a transpose leaves prev_value as it was: x'' is x */
    }
    if (c == '\'' || c == '"') {
        int rc = lex_string(lx, t);
        lx->prev_value = true;
        return rc;
    }
    if (starts_number(lx->p, lx->end)) {
        t->kind = T_NUM;
        lx->prev_value = true;
        return lex_number(lx, t, 1.0, start);
    }
    if ((c == '-' || c == '+') && starts_number(lx->p + 1, lx->end) &&
        (!lx->prev_value || (lx->depth > 0 && blank_before))) {
        /* A sign belongs to the number after it when nothing it could subtract from precedes it,
         * or, inside brackets, when a blank precedes it and none follows: [1 -2] is two
         * elements, as in MATLAB. */
        lx->p++;
        t->kind = T_NUM;
        lx->prev_value = true;
        return lex_number(lx, t, c == '-' ? -1.0 : 1.0, start);
    }
    if (is_ident_start(c)) {
        while (lx->p < lx->end && is_ident_char(*lx->p))
            lx->p++;
        t->kind = T_IDENT;
        t->s = start;
        t->len = (size_t)(lx->p - start);
        lx->prev_value = true;
        return PG_OK;
    }
    lx->p++;
    t->c = c;
    if (strchr("[]{}()=;,.", c) && c != '\0') {
        t->kind = T_PUNCT;
        if (c == '[' || c == '{')
            lx->depth++;
        else if ((c == ']' || c == '}') && lx->depth > 0)
            lx->depth--;
        lx->prev_value = c == ']' || c == '}' || c == ')';
        return PG_OK;
    }
    t->kind = T_OP;
    lx->prev_value = false;
    return PG_OK;
}

static bool
tok_is(const tok *t, char c)
{
    return t->kind == T_PUNCT && t->c == c;
}

static bool
tok_word(const tok *t, const char *w)
{
    return t->kind == T_IDENT && t->len == strlen(w) && memcmp(t->s, w, t->len) == 0;
}

/* A short printable description of a token for messages. */
static const char *
tok_desc(const tok *t, char *buf, size_t size)
{
    switch (t->kind) {
    case T_EOF: return "the end of the file";
    case T_NL: return "the end of the line";
    case T_NUM: snprintf(buf, size, "the number %g", t->num); return buf;
    case T_STR: return "a quoted string";
    case T_IDENT: snprintf(buf, size, "'%.*s'", (int)(t->len > 40 ? 40 : t->len), t->s); return buf;
    case T_PUNCT:
    case T_OP:
        if (isprint((unsigned char)t->c))
            snprintf(buf, size, "'%c'", t->c);
        else if ((unsigned char)t->c >= 0x80)
            snprintf(buf, size, "byte 0x%02x (not ASCII)", (unsigned char)t->c);
        else
            snprintf(buf, size, "control character 0x%02x", (unsigned char)t->c);
        return buf;
    }
    return "?";
}

/* ---------------------------------------------------------------- values */

typedef enum { V_NONE, V_NUM, V_STR, V_MATRIX, V_CELL } value_kind;

/* A parsed right-hand side. Matrices keep the place of every element for error messages. */
typedef struct value {
    value_kind kind;
    int line, col;     /* where the value starts */
    int stmt_line;     /* line of the assignment that gave it */
    size_t rows, cols; /* V_MATRIX: shape (rows x cols); V_CELL: count in rows, cols = 1 */
    double *v;         /* V_MATRIX: row-major; V_NUM: one value */
    int *vline, *vcol; /* V_MATRIX: place of each element */
    char **strs;       /* V_CELL: the strings (NULL for numeric cells), V_STR: strs[0] */
    int *sline;        /* V_CELL: line of each string */
} value;

static void
value_free(value *v)
{
    free(v->v);
    free(v->vline);
    free(v->vcol);
    if (v->strs) {
        size_t n = v->kind == V_CELL ? v->rows : 1;
        for (size_t i = 0; i < n; i++)
            free(v->strs[i]);
        free(v->strs);
    }
    free(v->sline);
    memset(v, 0, sizeof *v);
}

typedef struct parser {
    lexer lx;
    tok t; /* current token */
    const char *file;
    pg_error *err;
    pg_notes notes;
    char var[64]; /* the struct's name: the function's output, or "mpc" */
    bool have_function;
    char fname[128];
    /* the fields that matter */
    value version, base, bus, gen, branch, gencost, bus_name;
    int version_line;
} parser;

static int
advance(parser *ps)
{
    return lex_next(&ps->lx, &ps->t);
}

static int fail_at(parser *ps, int code, int line, int col, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static int
fail_at(parser *ps, int code, int line, int col, const char *path, const char *fmt, ...)
{
    if (ps->err) {
        va_list ap;
        va_start(ap, fmt);
        pg_error_vset(ps->err, code, fmt, ap);
        va_end(ap);
        pg_error_at(ps->err, ps->file, line, col, path ? path : "");
    }
    return code;
}

static int
nomem(parser *ps)
{
    return pg_error_set(ps->err, PG_ENOMEM, "out of memory");
}

/* Growable arrays for matrix parsing. */
typedef struct dbuf {
    double *v;
    int *line, *col;
    size_t n, cap;
} dbuf;

static int
dbuf_push(dbuf *d, double x, int line, int col)
{
    if (d->n == d->cap) {
        size_t nc = d->cap ? d->cap * 2 : 256;
        double *v = realloc(d->v, nc * sizeof *v);
        if (v)
            d->v = v;
        int *l = realloc(d->line, nc * sizeof *l);
        if (l)
            d->line = l;
        int *c = realloc(d->col, nc * sizeof *c);
        if (c)
            d->col = c;
        if (!v || !l || !c)
            return PG_ENOMEM;
        d->cap = nc;
    }
    d->v[d->n] = x;
    d->line[d->n] = line;
    d->col[d->n] = col;
    d->n++;
    return PG_OK;
}

static void
dbuf_free(dbuf *d)
{
    free(d->v);
    free(d->line);
    free(d->col);
}

/* Parses `[ ... ]` (the current token is '['). field names the matrix in messages. */
static int
parse_matrix(parser *ps, const char *field, value *out)
{
    int open_line = ps->t.line, open_col = ps->t.col;
    dbuf d = {0};
    size_t cols = 0, rows = 0, in_row = 0;
    int rc = PG_OK;
    char path[256], desc[64];
    for (;;) {
        if ((rc = advance(ps)))
            goto out;
        tok *t = &ps->t;
        if (t->kind == T_NUM) {
            if (dbuf_push(&d, t->num, t->line, t->col)) {
                rc = nomem(ps);
                goto out;
            }
            in_row++;
            continue;
        }
        if (tok_is(t, ','))
            continue;
        bool end = tok_is(t, ']');
        if (tok_is(t, ';') || t->kind == T_NL || end) {
            if (in_row) {
                if (rows == 0) {
                    cols = in_row;
                } else if (in_row != cols) {
                    snprintf(path, sizeof path, "%.120s row %zu", field, rows + 1);
                    rc = fail_at(ps, PG_EPARSE, d.line[d.n - in_row], 0, path,
                                 "row %zu has %zu values but the rows above it have %zu; every "
                                 "row of a matrix needs the same number of columns",
                                 rows + 1, in_row, cols);
                    goto out;
                }
                rows++;
                in_row = 0;
            }
            if (end)
                break;
            continue;
        }
        if (t->kind == T_EOF) {
            rc = fail_at(ps, PG_EPARSE, open_line, open_col, field,
                         "the matrix opened here is never closed with ']' (the file ends at "
                         "line %d): is the file cut short?",
                         t->line);
            goto out;
        }
        if (t->kind == T_IDENT) {
            snprintf(path, sizeof path, "%.120s row %zu", field, rows + 1);
            rc = fail_at(ps, PG_EPARSE, t->line, t->col, path,
                         "unexpected %s inside the matrix opened on line %d: is a '];' "
                         "missing before it?",
                         tok_desc(t, desc, sizeof desc), open_line);
            goto out;
        }
        snprintf(path, sizeof path, "%.120s row %zu", field, rows + 1);
        if (t->kind == T_OP &&
            (t->c == '-' || t->c == '+' || t->c == '*' || t->c == '/' || t->c == '^'))
            rc = fail_at(ps, PG_EPARSE, t->line, t->col, path,
                         "arithmetic ('%c') inside a matrix: plurigrid reads numbers only", t->c);
        else
            rc = fail_at(ps, PG_EPARSE, t->line, t->col, path,
                         "unexpected %s inside a numeric matrix", tok_desc(t, desc, sizeof desc));
        goto out;
    }
    out->kind = V_MATRIX;
    out->line = open_line;
    out->col = open_col;
    out->rows = rows;
    out->cols = cols;
    out->v = d.v;
    out->vline = d.line;
    out->vcol = d.col;
    return advance(ps);
out:
    dbuf_free(&d);
    return rc;
}

/* Parses `{ ... }` (the current token is '{') into a flat list of strings, in reading order. */
static int
parse_cell(parser *ps, const char *field, value *out)
{
    int open_line = ps->t.line, open_col = ps->t.col;
    char **strs = NULL;
    int *lines = NULL;
    size_t n = 0, cap = 0;
    int rc = PG_OK;
    char desc[64];
    for (;;) {
        if ((rc = advance(ps)))
            goto out;
        tok *t = &ps->t;
        if (t->kind == T_STR || t->kind == T_NUM) {
            if (n == cap) {
                size_t nc = cap ? cap * 2 : 64;
                char **s2 = realloc(strs, nc * sizeof *s2);
                if (s2)
                    strs = s2;
                int *l2 = realloc(lines, nc * sizeof *l2);
                if (l2)
                    lines = l2;
                if (!s2 || !l2) {
                    rc = nomem(ps);
                    goto out;
                }
                cap = nc;
            }
            strs[n] = NULL;
            if (t->kind == T_STR) {
                strs[n] = malloc(t->len + 1);
                if (!strs[n]) {
                    rc = nomem(ps);
                    goto out;
                }
                memcpy(strs[n], t->s, t->len);
                strs[n][t->len] = '\0';
            }
            lines[n] = t->line;
            n++;
            continue;
        }
        if (tok_is(t, ',') || tok_is(t, ';') || t->kind == T_NL)
            continue;
        if (tok_is(t, '}'))
            break;
        if (t->kind == T_EOF)
            rc = fail_at(ps, PG_EPARSE, open_line, open_col, field,
                         "the cell array opened here is never closed with '}' (the file ends "
                         "at line %d)",
                         t->line);
        else
            rc = fail_at(ps, PG_EPARSE, t->line, t->col, field,
                         "unexpected %s inside a cell array (opened on line %d)",
                         tok_desc(t, desc, sizeof desc), open_line);
        goto out;
    }
    out->kind = V_CELL;
    out->line = open_line;
    out->col = open_col;
    out->rows = n;
    out->cols = 1;
    out->strs = strs;
    out->sline = lines;
    return advance(ps);
out:
    for (size_t i = 0; i < n; i++)
        free(strs[i]);
    free(strs);
    free(lines);
    return rc;
}

static bool
at_statement_end(const tok *t)
{
    return t->kind == T_EOF || t->kind == T_NL || tok_is(t, ';') || tok_is(t, ',');
}

/* Parses the right-hand side of a field the reader uses. */
static int
parse_value(parser *ps, const char *field, value *out)
{
    int rc;
    char desc[64];
    tok *t = &ps->t;
    if (tok_is(t, '['))
        rc = parse_matrix(ps, field, out);
    else if (tok_is(t, '{'))
        rc = parse_cell(ps, field, out);
    else if (t->kind == T_NUM) {
        out->kind = V_NUM;
        out->line = t->line;
        out->col = t->col;
        out->v = malloc(sizeof *out->v);
        if (!out->v)
            return nomem(ps);
        out->v[0] = t->num;
        out->rows = out->cols = 1;
        rc = advance(ps);
    } else if (t->kind == T_STR) {
        out->kind = V_STR;
        out->line = t->line;
        out->col = t->col;
        out->strs = malloc(sizeof *out->strs);
        if (!out->strs || !(out->strs[0] = malloc(t->len + 1))) {
            free(out->strs);
            out->strs = NULL;
            return nomem(ps);
        }
        memcpy(out->strs[0], t->s, t->len);
        out->strs[0][t->len] = '\0';
        rc = advance(ps);
    } else {
        return fail_at(ps, PG_EPARSE, t->line, t->col, field,
                       "expected a number, a string, a matrix [...] or a cell array {...} "
                       "after '=', found %s",
                       tok_desc(t, desc, sizeof desc));
    }
    if (rc)
        return rc;
    bool transposed = false;
    while (tok_is(t, '\'')) {
        transposed = !transposed;
        if ((rc = advance(ps)))
            return rc;
    }
    if (transposed && out->kind == V_MATRIX && out->rows > 1 && out->cols > 1) {
        /* A transposed matrix: swap rows and columns so the rest of the reader sees MATLAB's
         * result. */
        size_t r = out->rows, c = out->cols, n = r * c;
        double *v = malloc(n * sizeof *v);
        int *l = malloc(n * sizeof *l), *cc = malloc(n * sizeof *cc);
        if (!v || !l || !cc) {
            free(v);
            free(l);
            free(cc);
            return nomem(ps);
        }
        for (size_t i = 0; i < r; i++)
            for (size_t j = 0; j < c; j++) {
                v[j * r + i] = out->v[i * c + j];
                l[j * r + i] = out->vline[i * c + j];
                cc[j * r + i] = out->vcol[i * c + j];
            }
        free(out->v);
        free(out->vline);
        free(out->vcol);
        out->v = v;
        out->vline = l;
        out->vcol = cc;
        out->rows = c;
        out->cols = r;
    } else if (transposed && out->kind == V_MATRIX) {
        size_t r = out->rows;
        out->rows = out->cols;
        out->cols = r;
    }
    if (!at_statement_end(t))
        return fail_at(ps, PG_EPARSE, t->line, t->col, field,
                       "unexpected %s after the value of %s: plurigrid reads plain data, not "
                       "expressions",
                       tok_desc(t, desc, sizeof desc), field);
    return PG_OK;
}

/* Skips the right-hand side of a field the reader does not use, whatever it holds, up to the end
 * of the statement (bracket nesting respected). */
static int
skip_value(parser *ps, const char *field)
{
    int depth = 0, open_line = ps->t.line;
    for (;;) {
        tok *t = &ps->t;
        if (t->kind == T_EOF) {
            if (depth > 0)
                return fail_at(ps, PG_EPARSE, open_line, 0, field,
                               "the value that starts here is never closed (the file ends at "
                               "line %d)",
                               t->line);
            return PG_OK;
        }
        if (depth == 0 && at_statement_end(t))
            return PG_OK;
        if (tok_is(t, '[') || tok_is(t, '{') || tok_is(t, '('))
            depth++;
        else if ((tok_is(t, ']') || tok_is(t, '}') || tok_is(t, ')')) && depth > 0)
            depth--;
        int rc = advance(ps);
        if (rc)
            return rc;
    }
}

static int
unsupported_code(parser *ps, const tok *t)
{
    return fail_at(ps, PG_EUNSUPPORTED, t->line, t->col, "",
                   "this line is MATLAB code, not case data: plurigrid reads case files that "
                   "assign plain numbers, matrices and strings to %s.<field>. Load the case in "
                   "MATPOWER and write a data-only copy with savecase('copy.m', mpc)",
                   ps->var[0] ? ps->var : "mpc");
}

/* `function mpc = name` (current token: 'function'). */
static int
parse_function(parser *ps)
{
    int rc;
    tok *t = &ps->t;
    int line = t->line;
    char desc[64];
    if ((rc = advance(ps)))
        return rc;
    if (tok_is(t, '['))
        return fail_at(ps, PG_EPARSE, line, 0, "",
                       "this function returns several matrices ([baseMVA, bus, gen, ...]): that "
                       "is MATPOWER case format version 1; plurigrid reads version 2 (one struct, "
                       "mpc). Convert it in MATPOWER with savecase('new.m', loadcase('old.m'))");
    if (t->kind != T_IDENT)
        return fail_at(ps, PG_EPARSE, t->line, t->col, "",
                       "expected 'function mpc = name', found %s after 'function'",
                       tok_desc(t, desc, sizeof desc));
    tok out = *t;
    if ((rc = advance(ps)))
        return rc;
    if (!tok_is(t, '='))
        return fail_at(ps, PG_EPARSE, t->line, t->col, "",
                       "expected 'function mpc = name': a MATPOWER case function returns its "
                       "case struct");
    if ((rc = advance(ps)))
        return rc;
    if (t->kind != T_IDENT)
        return fail_at(ps, PG_EPARSE, t->line, t->col, "",
                       "expected the function's name after '=', found %s",
                       tok_desc(t, desc, sizeof desc));
    snprintf(ps->var, sizeof ps->var, "%.*s", (int)(out.len < 63 ? out.len : 63), out.s);
    snprintf(ps->fname, sizeof ps->fname, "%.*s", (int)(t->len < 127 ? t->len : 127), t->s);
    ps->have_function = true;
    if ((rc = advance(ps)))
        return rc;
    if (tok_is(t, '(')) { /* function mpc = name() */
        if ((rc = advance(ps)))
            return rc;
        if (!tok_is(t, ')'))
            return fail_at(ps, PG_EPARSE, t->line, t->col, "",
                           "a case function takes no arguments");
        if ((rc = advance(ps)))
            return rc;
    }
    if (!at_statement_end(t))
        return fail_at(ps, PG_EPARSE, t->line, t->col, "", "unexpected %s after the function line",
                       tok_desc(t, desc, sizeof desc));
    return PG_OK;
}

/* `var.field[.sub...] = value` (current token: the struct's name). */
static int
parse_assignment(parser *ps)
{
    int rc;
    tok *t = &ps->t;
    tok first = *t;
    char field[128];
    size_t fl = (size_t)snprintf(field, sizeof field, "%s", ps->var);
    int depth = 0;
    if ((rc = advance(ps)))
        return rc;
    while (tok_is(t, '.')) {
        if ((rc = advance(ps)))
            return rc;
        if (t->kind != T_IDENT)
            return unsupported_code(ps, &first);
        if (fl < sizeof field)
            fl += (size_t)snprintf(field + fl, sizeof field - fl, ".%.*s",
                                   (int)(t->len > 60 ? 60 : t->len), t->s);
        depth++;
        if ((rc = advance(ps)))
            return rc;
    }
    if (depth == 0 || !tok_is(t, '='))
        return unsupported_code(ps, &first);
    if ((rc = advance(ps)))
        return rc;
    const char *name = field + strlen(ps->var) + 1;
    value *slot = NULL;
    if (depth == 1) {
        if (strcmp(name, "version") == 0)
            slot = &ps->version;
        else if (strcmp(name, "baseMVA") == 0)
            slot = &ps->base;
        else if (strcmp(name, "bus") == 0)
            slot = &ps->bus;
        else if (strcmp(name, "gen") == 0)
            slot = &ps->gen;
        else if (strcmp(name, "branch") == 0)
            slot = &ps->branch;
        else if (strcmp(name, "gencost") == 0)
            slot = &ps->gencost;
        else if (strcmp(name, "bus_name") == 0)
            slot = &ps->bus_name;
    }
    if (!slot) {
        int line = first.line;
        if ((rc = skip_value(ps, field)))
            return rc;
        if (pg_notes_add(&ps->notes, "line %d: %s is not used by plurigrid and was ignored", line,
                         field))
            return nomem(ps);
        return PG_OK;
    }
    /* MATLAB would keep the last of two assignments, but in a case file the second is almost
     * always a pasting mistake that silently drops the first: refuse it, naming both. */
    if (slot->kind != V_NONE)
        return fail_at(ps, PG_EPARSE, first.line, first.col, field,
                       "assigned twice, on line %d and again on line %d; a case gives each "
                       "field once",
                       slot->stmt_line, first.line);
    value v = {0};
    if ((rc = parse_value(ps, field, &v))) {
        value_free(&v);
        return rc;
    }
    v.stmt_line = first.line;
    *slot = v;
    return PG_OK;
}

static int
parse_text(parser *ps)
{
    int rc;
    tok *t = &ps->t;
    if ((rc = advance(ps)))
        return rc;
    for (;;) {
        if (t->kind == T_EOF)
            return PG_OK;
        if (t->kind == T_NL || tok_is(t, ';') || tok_is(t, ',')) {
            if ((rc = advance(ps)))
                return rc;
            continue;
        }
        if (tok_word(t, "function")) {
            if (ps->have_function) {
                /* A second function in the file (a local helper): nothing after it is data. */
                return PG_OK;
            }
            rc = parse_function(ps);
        } else if (tok_word(t, "end") || tok_word(t, "endfunction") || tok_word(t, "return")) {
            if ((rc = advance(ps)))
                return rc;
            if (!at_statement_end(t))
                return unsupported_code(ps, t);
            continue;
        } else if (t->kind == T_IDENT) {
            if (!ps->var[0] && t->len < sizeof ps->var)
                snprintf(ps->var, sizeof ps->var, "%.*s", (int)t->len, t->s);
            if (t->len != strlen(ps->var) || memcmp(t->s, ps->var, t->len) != 0)
                return unsupported_code(ps, t);
            rc = parse_assignment(ps);
        } else {
            char desc[64];
            return fail_at(ps, PG_EPARSE, t->line, t->col, "",
                           "unexpected %s at the start of a statement",
                           tok_desc(t, desc, sizeof desc));
        }
        if (rc)
            return rc;
        if (!at_statement_end(t)) {
            char desc[64];
            return fail_at(ps, PG_EPARSE, t->line, t->col, "", "unexpected %s",
                           tok_desc(t, desc, sizeof desc));
        }
    }
}

/* The first block of comment lines after the function line: MATLAB's help text for the case. */
static char *
help_text(const char *data, size_t len)
{
    const char *p = data, *end = data + len;
    bool found = false;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        const char *q = p;
        while (q < eol && is_blank(*q))
            q++;
        p = eol < end ? eol + 1 : end;
        if ((size_t)(eol - q) >= 8 && memcmp(q, "function", 8) == 0 &&
            (eol - q == 8 || !is_ident_char(q[8]))) {
            found = true;
            break;
        }
        if (q < eol && *q != '%' && *q != '#')
            return NULL; /* data before any function line: a script, no help text */
    }
    if (!found)
        return NULL;
    pgi_buf b = {0};
    size_t lines = 0;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        const char *q = p;
        while (q < eol && is_blank(*q))
            q++;
        if (q == eol || *q != '%')
            break;
        if (block_marker(q, eol, false))
            break;
        const char *e = eol;
        while (e > q + 1 && e[-1] == '\r') /* line ends: \r\n, even \r\r\n */
            e--;
        if (lines++)
            pgi_buf_append(&b, "\n", 1);
        for (const char *c = q + 1; c < e; c++)
            if (*c != '\0') /* a C string cannot hold it */
                pgi_buf_append(&b, c, 1);
        p = eol < end ? eol + 1 : end;
    }
    if (b.failed) {
        pgi_buf_free(&b);
        return NULL;
    }
    if (!b.data || !b.data[0]) { /* no text: no description (as the writer leaves it out) */
        pgi_buf_free(&b);
        return NULL;
    }
    return b.data;
}

/* ---------------------------------------------------------------- mapping onto the world */

static const char *const bus_cols[] = {"BUS_I",    "BUS_TYPE", "PD",    "QD",      "GS",     "BS",
                                       "BUS_AREA", "VM",       "VA",    "BASE_KV", "ZONE",   "VMAX",
                                       "VMIN",     "LAM_P",    "LAM_Q", "MU_VMAX", "MU_VMIN"};
static const char *const gen_cols[] = {
    "GEN_BUS", "PG",     "QG",  "QMAX",    "QMIN",    "VG",      "MBASE",  "GEN_STATUS", "PMAX",
    "PMIN",    "PC1",    "PC2", "QC1MIN",  "QC1MAX",  "QC2MIN",  "QC2MAX", "RAMP_AGC",   "RAMP_10",
    "RAMP_30", "RAMP_Q", "APF", "MU_PMAX", "MU_PMIN", "MU_QMAX", "MU_QMIN"};
static const char *const branch_cols[] = {
    "F_BUS",  "T_BUS", "BR_R",  "BR_X",      "BR_B",   "RATE_A",    "RATE_B",
    "RATE_C", "TAP",   "SHIFT", "BR_STATUS", "ANGMIN", "ANGMAX",    "PF",
    "QF",     "PT",    "QT",    "MU_SF",     "MU_ST",  "MU_ANGMIN", "MU_ANGMAX"};

enum { BUS_I, BUS_TYPE, PD, QD, GS, BS, BUS_AREA, VM, VA, BASE_KV, ZONE, VMAX, VMIN };
enum {
    GEN_BUS,
    PG,
    QG,
    QMAX,
    QMIN,
    VG,
    MBASE,
    GEN_STATUS,
    PMAX,
    PMIN,
    PC1,
    PC2,
    QC1MIN,
    QC1MAX,
    QC2MIN,
    QC2MAX,
    RAMP_AGC,
    RAMP_10,
    RAMP_30,
    RAMP_Q,
    APF
};
enum {
    F_BUS,
    T_BUS,
    BR_R,
    BR_X,
    BR_B,
    RATE_A,
    RATE_B,
    RATE_C,
    TAP,
    SHIFT,
    BR_STATUS,
    ANGMIN,
    ANGMAX
};

typedef struct matrix_ref {
    parser *ps;
    const value *m;
    const char *field;           /* "mpc.bus" */
    const char *const *colnames; /* NULL for gencost */
    size_t ncolnames;
} matrix_ref;

static void
cell_path(const matrix_ref *mr, size_t row, size_t col, char *buf, size_t size)
{
    if (mr->colnames && col < mr->ncolnames)
        snprintf(buf, size, "%s row %zu, column %zu (%s)", mr->field, row + 1, col + 1,
                 mr->colnames[col]);
    else
        snprintf(buf, size, "%s row %zu, column %zu", mr->field, row + 1, col + 1);
}

static int cell_fail(const matrix_ref *mr, int code, size_t row, size_t col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int
cell_fail(const matrix_ref *mr, int code, size_t row, size_t col, const char *fmt, ...)
{
    parser *ps = mr->ps;
    char path[160];
    cell_path(mr, row, col, path, sizeof path);
    size_t k = row * mr->m->cols + (col < mr->m->cols ? col : 0);
    if (ps->err) {
        va_list ap;
        va_start(ap, fmt);
        pg_error_vset(ps->err, code, fmt, ap);
        va_end(ap);
        pg_error_at(ps->err, ps->file, mr->m->vline[k], mr->m->vcol[k], path);
    }
    return code;
}

static double
cell(const matrix_ref *mr, size_t row, size_t col)
{
    return mr->m->v[row * mr->m->cols + col];
}

/* Checks that the element is a number, and finite unless allow_inf, and returns it in *x. */
static int
get_num(const matrix_ref *mr, size_t row, size_t col, bool allow_inf, double *x)
{
    double v = cell(mr, row, col);
    const char *name = mr->colnames && col < mr->ncolnames ? mr->colnames[col] : "this value";
    if (isnan(v))
        return cell_fail(mr, PG_EPARSE, row, col, "NaN is not allowed here: %s must be a number",
                         name);
    if (isinf(v) && !allow_inf)
        return cell_fail(mr, PG_EPARSE, row, col,
                         "%s is not allowed here: %s must be a finite number",
                         v > 0 ? "Inf" : "-Inf", name);
    *x = v;
    return PG_OK;
}

static int
get_int(const matrix_ref *mr, size_t row, size_t col, int *x)
{
    double v = 0;
    int rc = get_num(mr, row, col, false, &v);
    if (rc)
        return rc;
    if (v != floor(v) || v < INT_MIN || v > INT_MAX)
        return cell_fail(mr, PG_EPARSE, row, col, "%s must be a whole number, got %.17g",
                         mr->colnames && col < mr->ncolnames ? mr->colnames[col] : "this value", v);
    *x = (int)v;
    return PG_OK;
}

/* Bus number -> index, by binary search over a sorted copy. */
typedef struct bus_key {
    int number;
    size_t index;
} bus_key;

static int
cmp_bus_key(const void *a, const void *b)
{
    const bus_key *x = a, *y = b;
    if (x->number != y->number)
        return x->number < y->number ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

static int
cmp_str_ptr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static size_t
find_bus(const bus_key *keys, size_t n, int number)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (keys[mid].number < number)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && keys[lo].number == number ? keys[lo].index : PG_NONE;
}

static int
need_matrix(parser *ps, const value *v, const char *field, bool required)
{
    if (v->kind == V_NONE) {
        if (!required)
            return PG_OK;
        return fail_at(ps, PG_EPARSE, 0, 0, "",
                       "there is no %s: a MATPOWER case needs %s.baseMVA, %s.bus, %s.gen and "
                       "%s.branch",
                       field, ps->var, ps->var, ps->var, ps->var);
    }
    if (v->kind != V_MATRIX && !(v->kind == V_NUM))
        return fail_at(ps, PG_EPARSE, v->line, v->col, field,
                       "this must be a numeric matrix [...]");
    return PG_OK;
}

/* Turns a V_NUM into a 1x1 matrix so the column checks apply to it too. */
static int
as_matrix(parser *ps, value *v)
{
    if (v->kind != V_NUM)
        return PG_OK;
    v->vline = malloc(sizeof *v->vline);
    v->vcol = malloc(sizeof *v->vcol);
    if (!v->vline || !v->vcol)
        return nomem(ps);
    v->vline[0] = v->line;
    v->vcol[0] = v->col;
    v->kind = V_MATRIX;
    return PG_OK;
}

static int
check_columns(parser *ps, const value *m, const char *field, size_t min, size_t full,
              const char *const *names, size_t nnames, const char *what_extra)
{
    if (m->rows == 0)
        return PG_OK;
    if (m->cols < min)
        return fail_at(
            ps, PG_EPARSE, m->line, m->col, field,
            "the matrix has %zu columns; a MATPOWER version 2 %s matrix has %zu (%s ... %s)%s",
            m->cols, field + strlen(ps->var) + 1, full, names[0], names[full - 1],
            min < full ? ", of which the first ones are required" : "");
    if (m->cols > full) {
        size_t last = m->cols < nnames ? m->cols : nnames;
        if (last > full)
            return pg_notes_add(&ps->notes, "%s columns %zu-%zu (%s ... %s: %s) were ignored",
                                field, full + 1, m->cols, names[full], names[last - 1], what_extra)
                       ? nomem(ps)
                       : PG_OK;
        return pg_notes_add(&ps->notes, "%s columns %zu-%zu were ignored", field, full + 1, m->cols)
                   ? nomem(ps)
                   : PG_OK;
    }
    return PG_OK;
}

static int
build_buses(parser *ps, pg_world *w, bus_key **keys_out)
{
    char field[80];
    snprintf(field, sizeof field, "%s.bus", ps->var);
    matrix_ref mr = {ps, &ps->bus, field, bus_cols, sizeof bus_cols / sizeof *bus_cols};
    const value *m = &ps->bus;
    int rc = check_columns(ps, m, field, 13, 13, bus_cols, mr.ncolnames, "OPF results");
    if (rc)
        return rc;
    if (m->rows == 0)
        return fail_at(ps, PG_EMODEL, m->line, m->col, field,
                       "no buses: a case needs at least one");
    bool use_names = false;
    if (ps->bus_name.kind != V_NONE) {
        char nfield[80];
        snprintf(nfield, sizeof nfield, "%s.bus_name", ps->var);
        const value *bn = &ps->bus_name;
        if (bn->kind != V_CELL)
            return fail_at(ps, PG_EPARSE, bn->line, bn->col, nfield,
                           "this must be a cell array of strings, {'name'; ...}");
        if (bn->rows != m->rows)
            return fail_at(ps, PG_EMODEL, bn->line, bn->col, nfield,
                           "there are %zu names but %s has %zu rows", bn->rows, field, m->rows);
        for (size_t i = 0; i < bn->rows; i++)
            if (!bn->strs[i] || !bn->strs[i][0])
                return fail_at(ps, PG_EMODEL, bn->sline[i], 0, nfield,
                               "name %zu of %s is %s; bus names must be non-empty strings", i + 1,
                               nfield, bn->strs[i] ? "empty" : "a number");
        use_names = true;
    }
    bus_key *keys = malloc(m->rows * sizeof *keys);
    w->buses = calloc(m->rows, sizeof *w->buses);
    if (!keys || !w->buses) {
        free(keys);
        return nomem(ps);
    }
    w->cap_buses = m->rows;
    for (size_t i = 0; i < m->rows; i++) {
        pg_bus b;
        pg_bus_init(&b);
        int type;
        double x[13];
        if ((rc = get_int(&mr, i, BUS_I, &b.number)) || (rc = get_int(&mr, i, BUS_TYPE, &type)) ||
            (rc = get_int(&mr, i, BUS_AREA, &b.area)) || (rc = get_int(&mr, i, ZONE, &b.zone)))
            goto fail;
        for (size_t c = 0; c < 13; c++)
            if ((rc = get_num(&mr, i, c, false, &x[c])))
                goto fail;
        if (b.number <= 0) {
            rc = cell_fail(&mr, PG_EMODEL, i, BUS_I, "bus number %d: bus numbers must be > 0",
                           b.number);
            goto fail;
        }
        if (type < 1 || type > 4) {
            rc = cell_fail(&mr, PG_EMODEL, i, BUS_TYPE,
                           "bus type %d: it must be 1 (PQ), 2 (PV), 3 (reference) or 4 "
                           "(isolated)",
                           type);
            goto fail;
        }
        b.type = (pg_bus_type)type;
        b.gs = x[GS];
        b.bs = x[BS];
        b.vm = x[VM];
        b.va = x[VA];
        b.base_kv = x[BASE_KV];
        b.vmax = x[VMAX];
        b.vmin = x[VMIN];
        char num[24];
        snprintf(num, sizeof num, "%d", b.number);
        b.name = pgi_strdup(use_names ? ps->bus_name.strs[i] : num);
        if (!b.name) {
            rc = nomem(ps);
            goto fail;
        }
        w->buses[w->n_buses++] = b;
        keys[i].number = b.number;
        keys[i].index = i;
    }
    qsort(keys, m->rows, sizeof *keys, cmp_bus_key);
    for (size_t i = 1; i < m->rows; i++)
        if (keys[i].number == keys[i - 1].number) {
            rc = cell_fail(&mr, PG_EMODEL, keys[i].index, BUS_I,
                           "bus number %d is used twice (rows %zu and %zu of %s)", keys[i].number,
                           keys[i - 1].index + 1, keys[i].index + 1, field);
            goto fail;
        }
    if (use_names) {
        /* Bus names must be unique in a world; fall back to numbers when the case's are not. */
        char **sorted = malloc(m->rows * sizeof *sorted);
        if (!sorted) {
            rc = nomem(ps);
            goto fail;
        }
        for (size_t i = 0; i < m->rows; i++)
            sorted[i] = w->buses[i].name;
        bool dup = false;
        qsort(sorted, m->rows, sizeof *sorted, cmp_str_ptr);
        for (size_t i = 1; i < m->rows && !dup; i++)
            dup = strcmp(sorted[i], sorted[i - 1]) == 0;
        free(sorted);
        if (dup) {
            for (size_t i = 0; i < m->rows; i++) {
                char num[24];
                snprintf(num, sizeof num, "%d", w->buses[i].number);
                char *nn = pgi_strdup(num);
                if (!nn) {
                    rc = nomem(ps);
                    goto fail;
                }
                free(w->buses[i].name);
                w->buses[i].name = nn;
            }
            if (pg_notes_add(&ps->notes,
                             "%s.bus_name has repeated names; buses are named by their numbers "
                             "instead",
                             ps->var)) {
                rc = nomem(ps);
                goto fail;
            }
        }
    }
    *keys_out = keys;
    return PG_OK;
fail:
    free(keys);
    return rc;
}

static int
build_loads(parser *ps, pg_world *w)
{
    char field[80];
    snprintf(field, sizeof field, "%s.bus", ps->var);
    const value *m = &ps->bus;
    for (size_t i = 0; i < m->rows; i++) {
        double pd = m->v[i * m->cols + PD], qd = m->v[i * m->cols + QD];
        if (pd == 0 && qd == 0)
            continue;
        pg_load l;
        pg_load_init(&l);
        char name[40];
        snprintf(name, sizeof name, "load %d", w->buses[i].number);
        l.name = name;
        l.bus = i;
        l.p = pd;
        l.q = qd;
        int rc = pg_world_add_load(w, &l, NULL, ps->err);
        if (rc)
            return rc;
    }
    return PG_OK;
}

static int
build_thermals(parser *ps, pg_world *w, const bus_key *keys)
{
    char field[80];
    snprintf(field, sizeof field, "%s.gen", ps->var);
    matrix_ref mr = {ps, &ps->gen, field, gen_cols, sizeof gen_cols / sizeof *gen_cols};
    const value *m = &ps->gen;
    int rc = check_columns(ps, m, field, 10, 21, gen_cols, mr.ncolnames, "OPF results");
    if (rc)
        return rc;
    size_t dropped[APF + 1] = {0}, first_row[APF + 1] = {0};
    for (size_t i = 0; i < m->rows; i++) {
        pg_thermal t;
        pg_thermal_init(&t);
        int bus_no;
        double x[APF + 1] = {0};
        if ((rc = get_int(&mr, i, GEN_BUS, &bus_no)))
            return rc;
        size_t bus = find_bus(keys, w->n_buses, bus_no);
        if (bus == PG_NONE)
            return cell_fail(&mr, PG_EMODEL, i, GEN_BUS,
                             "generator %zu is at bus %d, which is not in %s.bus", i + 1, bus_no,
                             ps->var);
        size_t ncol = m->cols < APF + 1 ? m->cols : APF + 1;
        for (size_t c = PG; c < ncol; c++)
            if ((rc = get_num(&mr, i, c, c == QMAX || c == QMIN, &x[c])))
                return rc;
        for (size_t c = PC1; c < ncol; c++)
            if (c != RAMP_30 && x[c] != 0 && dropped[c]++ == 0)
                first_row[c] = i + 1;
        char name[40];
        snprintf(name, sizeof name, "gen %zu", i + 1);
        t.name = name;
        t.bus = bus;
        t.p = x[PG];
        t.q = x[QG];
        t.qmax = x[QMAX];
        t.qmin = x[QMIN];
        t.vg = x[VG];
        t.mbase = x[MBASE];
        t.in_service = x[GEN_STATUS] > 0;
        t.initial_on = t.in_service;
        t.pmax = x[PMAX];
        t.pmin = x[PMIN];
        /* RAMP_30 is MW in 30 minutes; MATPOWER's multi-period tools use twice it per hour. */
        t.ramp_up = t.ramp_down = 2.0 * x[RAMP_30];
        if ((rc = pg_world_add_thermal(w, &t, NULL, ps->err)))
            return rc;
    }
    for (size_t c = PC1; c <= APF; c++)
        if (dropped[c] &&
            pg_notes_add(&ps->notes,
                         "%s column %zu (%s) is not used by plurigrid: its non-zero values (%zu "
                         "row%s, the first is row %zu) were dropped",
                         field, c + 1, gen_cols[c], dropped[c], dropped[c] == 1 ? "" : "s",
                         first_row[c]))
            return nomem(ps);
    return PG_OK;
}

static int
build_branches(parser *ps, pg_world *w, const bus_key *keys)
{
    char field[80];
    snprintf(field, sizeof field, "%s.branch", ps->var);
    matrix_ref mr = {ps, &ps->branch, field, branch_cols, sizeof branch_cols / sizeof *branch_cols};
    const value *m = &ps->branch;
    int rc = check_columns(ps, m, field, 11, 13, branch_cols, mr.ncolnames,
                           "power flow and OPF results");
    if (rc)
        return rc;
    for (size_t i = 0; i < m->rows; i++) {
        pg_branch br;
        pg_branch_init(&br);
        int f, t;
        if ((rc = get_int(&mr, i, F_BUS, &f)) || (rc = get_int(&mr, i, T_BUS, &t)))
            return rc;
        br.from = find_bus(keys, w->n_buses, f);
        if (br.from == PG_NONE)
            return cell_fail(&mr, PG_EMODEL, i, F_BUS,
                             "branch %zu starts at bus %d, which is not in %s.bus", i + 1, f,
                             ps->var);
        br.to = find_bus(keys, w->n_buses, t);
        if (br.to == PG_NONE)
            return cell_fail(&mr, PG_EMODEL, i, T_BUS,
                             "branch %zu ends at bus %d, which is not in %s.bus", i + 1, t,
                             ps->var);
        double x[ANGMAX + 1] = {0};
        x[ANGMIN] = -360.0;
        x[ANGMAX] = 360.0;
        size_t ncol = m->cols < ANGMAX + 1 ? m->cols : ANGMAX + 1;
        for (size_t c = BR_R; c < ncol; c++)
            if ((rc = get_num(&mr, i, c, false, &x[c])))
                return rc;
        char name[40];
        snprintf(name, sizeof name, "branch %zu", i + 1);
        br.name = name;
        br.r = x[BR_R];
        br.x = x[BR_X];
        br.b = x[BR_B];
        br.rate_a = x[RATE_A];
        br.rate_b = x[RATE_B];
        br.rate_c = x[RATE_C];
        /* TAP 0 means "a line" (ratio 1) in MATPOWER; any tap or shift makes a transformer. */
        br.kind = (x[TAP] != 0 || x[SHIFT] != 0) ? PG_BRANCH_TRANSFORMER : PG_BRANCH_LINE;
        br.tap = x[TAP] != 0 ? x[TAP] : 1.0;
        br.shift = x[SHIFT];
        br.in_service = x[BR_STATUS] > 0;
        br.angmin = x[ANGMIN];
        br.angmax = x[ANGMAX];
        if ((rc = pg_world_add_branch(w, &br, NULL, ps->err)))
            return rc;
    }
    if (m->rows && m->cols < 13 &&
        pg_notes_add(&ps->notes, "%s has no ANGMIN/ANGMAX columns: angles are not limited", field))
        return nomem(ps);
    return PG_OK;
}

static int
build_costs(parser *ps, pg_world *w)
{
    char field[80];
    snprintf(field, sizeof field, "%s.gencost", ps->var);
    static const char *const gc_cols[] = {"MODEL", "STARTUP", "SHUTDOWN", "NCOST"};
    matrix_ref mr = {ps, &ps->gencost, field, gc_cols, 4};
    const value *m = &ps->gencost;
    size_t ng = w->n_thermals;
    if (m->kind == V_NONE)
        return PG_OK;
    if (m->rows == 0 && ng == 0)
        return PG_OK;
    if (m->rows != ng && m->rows != 2 * ng)
        return fail_at(ps, PG_EMODEL, m->line, m->col, field,
                       "the matrix has %zu rows but there are %zu generators: it needs one row per "
                       "generator (%zu), or two (%zu) when it also gives reactive power costs",
                       m->rows, ng, ng, 2 * ng);
    if (m->cols < 4)
        return fail_at(ps, PG_EPARSE, m->line, m->col, field,
                       "the matrix has %zu columns; it needs at least 4 (MODEL, STARTUP, SHUTDOWN, "
                       "NCOST) and then the cost data",
                       m->cols);
    double *buf = malloc(m->cols * sizeof *buf);
    if (!buf)
        return nomem(ps);
    int rc = PG_OK;
    for (size_t i = 0; i < ng; i++) {
        pg_thermal *t = &w->thermals[i];
        int model = 0, n = 0;
        double su = 0, sd = 0;
        if ((rc = get_int(&mr, i, 0, &model)) || (rc = get_num(&mr, i, 1, false, &su)) ||
            (rc = get_num(&mr, i, 2, false, &sd)) || (rc = get_int(&mr, i, 3, &n)))
            goto out;
        if (model != 1 && model != 2) {
            rc = cell_fail(&mr, PG_EMODEL, i, 0,
                           "cost model %d: it must be 1 (piecewise linear) or 2 (polynomial)",
                           model);
            goto out;
        }
        if (n < 0 || (model == 1 && n < 2)) {
            rc = cell_fail(&mr, PG_EMODEL, i, 3, "NCOST is %d; %s", n,
                           model == 1 ? "a piecewise-linear cost needs at least 2 points"
                                      : "it must be 0 or more");
            goto out;
        }
        size_t need = 4 + (size_t)n * (model == 1 ? 2 : 1);
        if (need > m->cols) {
            rc = cell_fail(&mr, PG_EPARSE, i, 3,
                           "NCOST = %d needs %zu columns (4 + %s) but %s has only %zu", n, need,
                           model == 1 ? "2 x NCOST" : "NCOST", field, m->cols);
            goto out;
        }
        for (size_t c = 4; c < need; c++)
            if ((rc = get_num(&mr, i, c, false, &buf[c])))
                goto out;
        t->startup_cost = su;
        t->shutdown_cost = sd;
        if (model == 2) {
            /* MATPOWER lists coefficients from the highest power down; pg_cost from P^0 up. */
            double *coef = buf + 4;
            for (int k = 0; k < n / 2; k++) {
                double tmp = coef[k];
                coef[k] = coef[n - 1 - k];
                coef[n - 1 - k] = tmp;
            }
            rc = pg_cost_set_polynomial(&t->cost, coef, (size_t)n, ps->err);
        } else {
            double *px = malloc((size_t)n * sizeof *px), *py = malloc((size_t)n * sizeof *py);
            if (!px || !py) {
                free(px);
                free(py);
                rc = nomem(ps);
                goto out;
            }
            for (int k = 0; k < n; k++) {
                px[k] = buf[4 + 2 * k];
                py[k] = buf[5 + 2 * k];
            }
            rc = pg_cost_set_piecewise(&t->cost, px, py, (size_t)n, ps->err);
            free(px);
            free(py);
        }
        if (rc)
            goto out;
    }
    if (m->rows == 2 * ng && ng > 0 &&
        pg_notes_add(&ps->notes,
                     "%s rows %zu-%zu (reactive power costs) are not used by plurigrid and were "
                     "ignored",
                     field, ng + 1, 2 * ng))
        rc = nomem(ps);
out:
    free(buf);
    return rc;
}

static int
check_version(parser *ps)
{
    char field[80];
    snprintf(field, sizeof field, "%s.version", ps->var);
    const value *v = &ps->version;
    if (v->kind == V_NONE)
        return pg_notes_add(&ps->notes, "%s is missing; the case was read as version 2", field)
                   ? nomem(ps)
                   : PG_OK;
    bool two =
        (v->kind == V_STR && strcmp(v->strs[0], "2") == 0) || (v->kind == V_NUM && v->v[0] == 2.0);
    if (two)
        return PG_OK;
    char shown[48];
    if (v->kind == V_STR)
        snprintf(shown, sizeof shown, "'%.40s'", v->strs[0]);
    else if (v->kind == V_NUM)
        snprintf(shown, sizeof shown, "%g", v->v[0]);
    else
        snprintf(shown, sizeof shown, "not a number or string");
    return fail_at(ps, PG_EPARSE, v->line, v->col, field,
                   "version %s; plurigrid reads MATPOWER case format version 2 ('2'). Convert "
                   "older cases in MATPOWER with savecase('new.m', loadcase('old.m'))",
                   shown);
}

static int
base_mva(parser *ps, double *out)
{
    char field[80];
    snprintf(field, sizeof field, "%s.baseMVA", ps->var);
    const value *v = &ps->base;
    if (v->kind == V_NONE)
        return fail_at(ps, PG_EPARSE, 0, 0, "",
                       "there is no %s: a MATPOWER case needs the system base in MVA", field);
    if (!((v->kind == V_NUM) || (v->kind == V_MATRIX && v->rows == 1 && v->cols == 1)))
        return fail_at(ps, PG_EPARSE, v->line, v->col, field,
                       "this must be a single number (the system base in MVA)");
    double x = v->v[0];
    if (!isfinite(x))
        return fail_at(ps, PG_EPARSE, v->line, v->col, field,
                       "the system base is %g; it must be a finite positive number of MVA", x);
    if (!(x >= PG_BASE_MVA_MIN && x <= PG_BASE_MVA_MAX))
        return fail_at(ps, PG_EMODEL, v->line, v->col, field,
                       "the system base is %g MVA; it must be a positive number from %g to "
                       "%.0f MVA",
                       x, PG_BASE_MVA_MIN, PG_BASE_MVA_MAX);
    *out = x;
    return PG_OK;
}

static bool
only_blanks(const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!is_blank(data[i]) && data[i] != '\n')
            return false;
    return true;
}

int
pg_matpower_read_buffer(const char *data, size_t len, const char *name, pg_world **out,
                        pg_notes *notes, pg_error *err)
{
    if (!out || (!data && len))
        return pg_error_set(err, PG_EINVAL, "pg_matpower_read_buffer: NULL argument");
    const char *file = name ? name : "<input>";
    char *unix_text = NULL;
    if (data) {
        pgi_io_skip_bom(&data, &len);
        /* Classic Mac OS ended lines with CR alone: read such a line end as a newline (one byte
         * for one, so columns stay). CR LF is a newline already (CR is a blank). */
        const char *cr = memchr(data, '\r', len);
        while (cr && cr + 1 < data + len && cr[1] == '\n')
            cr = memchr(cr + 2, '\r', len - (size_t)(cr + 2 - data));
        if (cr) {
            if (!(unix_text = malloc(len ? len : 1)))
                return pg_error_set(err, PG_ENOMEM, "out of memory");
            for (size_t i = 0; i < len; i++)
                unix_text[i] =
                    data[i] == '\r' && (i + 1 == len || data[i + 1] != '\n') ? '\n' : data[i];
            data = unix_text;
        }
    }
    parser ps;
    memset(&ps, 0, sizeof ps);
    ps.file = file;
    ps.err = err;
    ps.lx.p = ps.lx.line_start = data ? data : "";
    ps.lx.end = ps.lx.p + len;
    ps.lx.line = 1;
    ps.lx.file = file;
    ps.lx.err = err;
    pg_world *w = NULL;
    bus_key *keys = NULL;
    int rc;
    if (len == 0 || only_blanks(data, len)) {
        rc = pgi_io_fail(err, PG_EPARSE, file, 0, 0, "",
                         "the file is empty: expected a MATPOWER case (function mpc = name, then "
                         "mpc.baseMVA, mpc.bus, mpc.gen, mpc.branch)");
        goto out;
    }
    if ((rc = pgi_io_no_nul(data, len, file, "MATPOWER case", err)))
        goto out;
    if ((rc = parse_text(&ps)))
        goto out;
    if (!ps.var[0])
        snprintf(ps.var, sizeof ps.var, "mpc");
    char f_bus[80], f_gen[80], f_branch[80];
    snprintf(f_bus, sizeof f_bus, "%s.bus", ps.var);
    snprintf(f_gen, sizeof f_gen, "%s.gen", ps.var);
    snprintf(f_branch, sizeof f_branch, "%s.branch", ps.var);
    if ((rc = check_version(&ps)) || (rc = need_matrix(&ps, &ps.bus, f_bus, true)) ||
        (rc = need_matrix(&ps, &ps.gen, f_gen, true)) ||
        (rc = need_matrix(&ps, &ps.branch, f_branch, true)))
        goto out;
    char f_gc[80];
    snprintf(f_gc, sizeof f_gc, "%s.gencost", ps.var);
    if ((rc = need_matrix(&ps, &ps.gencost, f_gc, false)) || (rc = as_matrix(&ps, &ps.bus)) ||
        (rc = as_matrix(&ps, &ps.gen)) || (rc = as_matrix(&ps, &ps.branch)) ||
        (rc = as_matrix(&ps, &ps.gencost)))
        goto out;
    double base = 0;
    if ((rc = base_mva(&ps, &base)))
        goto out;
    char stem[128];
    pgi_path_stem(name, stem, sizeof stem);
    const char *wname = ps.fname[0] ? ps.fname : stem[0] ? stem : "case";
    if ((rc = pg_world_new(&w, wname, base, err)))
        goto out;
    w->description = help_text(data, len);
    if ((rc = build_buses(&ps, w, &keys)) || (rc = build_loads(&ps, w)) ||
        (rc = build_thermals(&ps, w, keys)) || (rc = build_branches(&ps, w, keys)) ||
        (rc = build_costs(&ps, w)))
        goto out;
out:
    free(unix_text);
    free(keys);
    value_free(&ps.version);
    value_free(&ps.base);
    value_free(&ps.bus);
    value_free(&ps.gen);
    value_free(&ps.branch);
    value_free(&ps.gencost);
    value_free(&ps.bus_name);
    pgi_buf_free(&ps.lx.str);
    if (rc) {
        /* Errors from the model's adders carry no place: give them the file at least. */
        if (err && !err->file[0])
            pg_error_at(err, file, err->line, err->column, NULL);
        pg_notes_clear(&ps.notes);
        pg_world_free(w);
        return rc;
    }
    if ((rc = pgi_notes_move(notes, &ps.notes))) {
        pg_world_free(w);
        return pg_error_set(err, rc, "out of memory");
    }
    *out = w;
    return PG_OK;
}

int
pg_matpower_read_file(const char *path, pg_world **out, pg_notes *notes, pg_error *err)
{
    if (!path || !out)
        return pg_error_set(err, PG_EINVAL, "pg_matpower_read_file: NULL argument");
    return pgi_read_world_file(path, pg_matpower_read_buffer, out, notes, err);
}
