/* What a parsed roadmap looks like to GitHub and to machines: the issue payload of each item,
 * the whole parse as a JSON document, the checks an item must pass before it is posted, and the
 * report of a post run as JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_write.h"
#include "core/util.h"
#include "kanban/kanban_internal.h"

/* GitHub's limits on an issue's title and body, in characters. */
#define MAX_TITLE 256
#define MAX_BODY 65536

size_t
pgi_kanban_chars(const char *s)
{
    size_t n = 0;
    for (; s && *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

void
pgi_kanban_utf8_fix(char *s)
{
    unsigned char *p = (unsigned char *)s;
    while (p && *p) {
        size_t need = *p < 0x80                    ? 0
                      : (*p >= 0xC2 && *p <= 0xDF) ? 1
                      : (*p >= 0xE0 && *p <= 0xEF) ? 2
                      : (*p >= 0xF0 && *p <= 0xF4) ? 3
                                                   : 4;
        size_t k = 1;
        while (need < 4 && k <= need && (p[k] & 0xC0) == 0x80)
            k++;
        if (need == 4 || k <= need) { /* a stray byte, or a sequence cut short */
            *p++ = '?';
            continue;
        }
        p += need + 1;
    }
}

char *
pgi_kanban_issue_body(const pg_kanban_item *it)
{
    pgi_buf b = {0};
    if (it->body && it->body[0])
        pgi_buf_puts(&b, it->body);
    const char *sep = b.len ? "\n\n" : "";
    if (it->kind == PG_KANBAN_TASK && it->hours >= 0) {
        pgi_buf_printf(&b, "%sEstimate: %d %s, %.8g %s", sep, it->people,
                       it->people == 1 ? "person" : "people", it->hours,
                       it->hours == 1 ? "hour" : "hours");
        sep = "\n";
    }
    if (it->section && it->section[0])
        pgi_buf_printf(&b, "%sRoadmap section: %s", sep, it->section);
    if (b.failed) {
        pgi_buf_free(&b);
        return NULL;
    }
    return b.data ? b.data : pgi_strdup("");
}

json_t *
pgi_kanban_payload(const pg_kanban_item *it)
{
    json_t *o = json_object();
    json_t *labels = json_array();
    char *body = pgi_kanban_issue_body(it);
    int bad = !o || !labels || !body;
    if (!bad) {
        bad |= json_object_set_new(o, "title", json_string(it->title)) != 0;
        bad |= json_object_set_new(o, "body", json_string(body)) != 0;
        for (size_t k = 0; k < it->n_labels; k++)
            bad |= json_array_append_new(labels, json_string(it->labels[k])) != 0;
        bad |= json_object_set(o, "labels", labels) != 0;
        bad |= json_object_set_new(o, "state", json_string(it->closed ? "closed" : "open")) != 0;
        if (it->closed)
            bad |= json_object_set_new(o, "state_reason", json_string("completed")) != 0;
    }
    free(body);
    json_decref(labels);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

char *
pgi_kanban_dumps(const json_t *j, size_t flags)
{
    /* pgi_json_dumps gives malloc'd text (whatever jansson's allocator is) ending in "\n"; a
     * payload is sent, and printed, without it. */
    char *s = j ? pgi_json_dumps(j, flags | JSON_PRESERVE_ORDER) : NULL;
    size_t n = s ? strlen(s) : 0;
    if (n && s[n - 1] == '\n')
        s[n - 1] = '\0';
    return s;
}

static int
dump(json_t *j, size_t flags, char **out, pg_error *err)
{
    char *s = pgi_kanban_dumps(j, flags);
    json_decref(j);
    if (!s)
        return pg_error_set(err, PG_ENOMEM, "out of memory while writing JSON");
    *out = s;
    return PG_OK;
}

int
pg_kanban_item_payload(const pg_kanban_item *it, char **json, pg_error *err)
{
    if (!it || !json)
        return pg_error_set(err, PG_EINVAL, "pg_kanban_item_payload: no item or no output");
    return dump(pgi_kanban_payload(it), JSON_COMPACT, json, err);
}

int
pg_kanban_payloads_json(const pg_kanban_roadmap *r, bool pretty, char **json, pg_error *err)
{
    if (!r || !json)
        return pg_error_set(err, PG_EINVAL, "pg_kanban_payloads_json: no roadmap or no output");
    json_t *a = json_array();
    for (size_t i = 0; a && i < r->n_items; i++) {
        json_t *p = pgi_kanban_payload(&r->items[i]);
        if (!p || json_array_append_new(a, p) != 0) {
            json_decref(a);
            a = NULL;
        }
    }
    return dump(a, pretty ? JSON_INDENT(2) : JSON_COMPACT, json, err);
}

/* Counts per label of checklist entries ("done": 8, ...) and of tasks. */
static json_t *
counts(const pg_kanban_roadmap *r)
{
    json_t *c = json_object();
    size_t tasks = 0;
    for (size_t i = 0; c && i < r->n_items; i++) {
        const pg_kanban_item *it = &r->items[i];
        if (it->kind == PG_KANBAN_TASK) {
            tasks++;
            continue;
        }
        const char *key = it->n_labels ? it->labels[0] : "(no section)";
        json_t *v = json_object_get(c, key);
        json_object_set_new(c, key, json_integer(v ? json_integer_value(v) + 1 : 1));
    }
    if (c)
        json_object_set_new(c, "tasks", json_integer((json_int_t)tasks));
    return c;
}

int
pg_kanban_roadmap_json(const pg_kanban_roadmap *r, const char *repo, char **json, pg_error *err)
{
    if (!r || !json)
        return pg_error_set(err, PG_EINVAL, "pg_kanban_roadmap_json: no roadmap or no output");
    json_t *doc = json_object();
    json_t *items = json_array();
    json_t *ctx = json_array();
    int bad = !doc || !items || !ctx;
    for (size_t i = 0; !bad && i < r->n_items; i++) {
        const pg_kanban_item *it = &r->items[i];
        json_t *o = json_object();
        bad |= !o;
        if (bad)
            break;
        json_object_set_new(o, "line", json_integer(it->line));
        json_object_set_new(o, "kind",
                            json_string(it->kind == PG_KANBAN_TASK ? "task" : "checklist"));
        json_object_set_new(o, "section", json_string(it->section));
        if (it->kind == PG_KANBAN_TASK) {
            json_object_set_new(o, "number", json_integer(it->number));
            json_object_set_new(o, "people",
                                it->people > 0 ? json_integer(it->people) : json_null());
            json_object_set_new(o, "hours",
                                it->hours >= 0 ? pgi_json_real(it->hours) : json_null());
        } else {
            json_object_set_new(o, "checked", json_boolean(it->checked));
        }
        json_object_set_new(o, "title", json_string(it->title));
        json_object_set_new(o, "body", json_string(it->body));
        json_t *p = pgi_kanban_payload(it);
        bad |= !p || json_object_set_new(o, "payload", p) != 0;
        bad |= json_array_append_new(items, o) != 0;
    }
    for (size_t i = 0; !bad && i < r->n_context; i++) {
        const pg_kanban_context *c = &r->context[i];
        json_t *o =
            json_pack("{s:i, s:i, s:s}", "line", c->line, "end_line", c->end_line, "text", c->text);
        bad |= !o || json_array_append_new(ctx, o) != 0;
    }
    if (!bad) {
        json_object_set_new(doc, "format", json_string("plurigrid-kanban/1"));
        char *source = pgi_strdup(r->source ? r->source : "");
        if (source)
            pgi_kanban_utf8_fix(source); /* a file name need not be UTF-8; JSON text must */
        bad |= !source || json_object_set_new(doc, "source", json_string(source)) != 0;
        free(source);
        json_object_set_new(doc, "repo", repo ? json_string(repo) : json_null());
        json_object_set_new(doc, "counts", counts(r));
        bad |= json_object_set(doc, "items", items) != 0;
        bad |= json_object_set(doc, "context", ctx) != 0;
    }
    json_decref(items);
    json_decref(ctx);
    if (bad) {
        json_decref(doc);
        doc = NULL;
    }
    return dump(doc, JSON_INDENT(2), json, err);
}

typedef struct titled {
    const char *title;
    size_t index;
} titled;

static int
cmp_title(const void *a, const void *b)
{
    const titled *x = a, *y = b;
    int c = strcmp(x->title, y->title);
    return c ? c : (x->index > y->index) - (x->index < y->index);
}

/* Titles must be unique: sorted, equal titles are neighbours. Reports the duplicate that comes
 * first in the roadmap. */
static int
check_unique(const pg_kanban_roadmap *r, pg_error *err)
{
    if (r->n_items < 2)
        return PG_OK;
    titled *t = malloc(r->n_items * sizeof *t);
    if (!t)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    for (size_t i = 0; i < r->n_items; i++)
        t[i] = (titled){r->items[i].title, i};
    qsort(t, r->n_items, sizeof *t, cmp_title);
    size_t dup = r->n_items, orig = 0, group = 0;
    for (size_t k = 1; k < r->n_items; k++) {
        if (strcmp(t[k].title, t[group].title) != 0) {
            group = k;
            continue;
        }
        if (t[k].index < dup) {
            dup = t[k].index;
            orig = t[group].index;
        }
    }
    free(t);
    if (dup == r->n_items)
        return PG_OK;
    pg_error_at(err, r->source, r->items[dup].line, 0, NULL);
    return pg_error_set(err, PG_EPARSE,
                        "the title \"%.200s\" is also used on line %d; issues are matched by "
                        "title, so each item needs its own",
                        r->items[dup].title, r->items[orig].line);
}

int
pg_kanban_check(const pg_kanban_roadmap *r, pg_error *err)
{
    if (!r)
        return pg_error_set(err, PG_EINVAL, "pg_kanban_check: no roadmap");
    for (size_t i = 0; i < r->n_items; i++) {
        const pg_kanban_item *it = &r->items[i];
        size_t tc = pgi_kanban_chars(it->title);
        if (tc > MAX_TITLE) {
            pg_error_at(err, r->source, it->line, 0, NULL);
            return pg_error_set(err, PG_EPARSE,
                                "the title is %zu characters long; GitHub allows at most %d", tc,
                                MAX_TITLE);
        }
        char *body = pgi_kanban_issue_body(it);
        if (!body)
            return pg_error_set(err, PG_ENOMEM, "out of memory");
        size_t bc = pgi_kanban_chars(body);
        free(body);
        if (bc > MAX_BODY) {
            pg_error_at(err, r->source, it->line, 0, NULL);
            return pg_error_set(err, PG_EPARSE,
                                "the issue body would be %zu characters long; GitHub allows at "
                                "most %d",
                                bc, MAX_BODY);
        }
    }
    return check_unique(r, err);
}

const char *
pg_kanban_outcome_name(pg_kanban_outcome o)
{
    switch (o) {
    case PG_KANBAN_NOT_SENT: return "not sent";
    case PG_KANBAN_CREATED: return "created";
    case PG_KANBAN_UPDATED: return "updated";
    case PG_KANBAN_UNCHANGED: return "unchanged";
    case PG_KANBAN_FAILED: return "failed";
    case PG_KANBAN_CREATED_OPEN: return "created, left open";
    }
    return "unknown";
}

int
pg_kanban_report_json(const pg_kanban_roadmap *r, const pg_kanban_report *rep,
                      const pg_error *error, char **json, pg_error *err)
{
    if (!r || !rep || !json)
        return pg_error_set(err, PG_EINVAL, "pg_kanban_report_json: missing argument");
    json_t *doc = json_object();
    json_t *items = json_array();
    json_t *reqs = json_array();
    int bad = !doc || !items || !reqs;
    size_t n_by[6] = {0};
    for (size_t i = 0; !bad && i < rep->n_items && i < r->n_items; i++) {
        pg_kanban_outcome oc = rep->outcome[i];
        if ((unsigned)oc < 6)
            n_by[oc]++;
        json_t *o = json_pack("{s:i, s:s, s:s, s:o}", "line", r->items[i].line, "title",
                              r->items[i].title, "outcome", pg_kanban_outcome_name(oc), "number",
                              rep->number[i] > 0 ? json_integer(rep->number[i]) : json_null());
        bad |= !o || json_array_append_new(items, o) != 0;
    }
    for (size_t i = 0; !bad && i < rep->n_requests; i++) {
        const pg_kanban_request *q = &rep->requests[i];
        json_error_t je;
        json_t *body = json_loads(q->body, 0, &je);
        json_t *o = json_pack("{s:s, s:s, s:o, s:I}", "method", q->method, "path", q->path, "body",
                              body ? body : json_string(q->body), "status", (json_int_t)q->status);
        bad |= !o || json_array_append_new(reqs, o) != 0;
    }
    if (!bad) {
        char ebuf[1400] = "";
        if (error && error->code != PG_OK)
            pg_error_format(error, ebuf, sizeof ebuf);
        pgi_kanban_utf8_fix(ebuf);
        json_object_set_new(doc, "format", json_string("plurigrid-kanban-post/1"));
        json_object_set_new(doc, "dry_run", json_boolean(rep->dry_run));
        json_object_set_new(doc, "existing", json_integer((json_int_t)rep->n_existing));
        json_object_set_new(
            doc, "created",
            json_integer((json_int_t)(n_by[PG_KANBAN_CREATED] + n_by[PG_KANBAN_CREATED_OPEN])));
        json_object_set_new(doc, "updated", json_integer((json_int_t)n_by[PG_KANBAN_UPDATED]));
        json_object_set_new(doc, "unchanged", json_integer((json_int_t)n_by[PG_KANBAN_UNCHANGED]));
        json_object_set_new(doc, "not_sent", json_integer((json_int_t)n_by[PG_KANBAN_NOT_SENT]));
        json_object_set_new(doc, "error", ebuf[0] ? json_string(ebuf) : json_null());
        bad |= json_object_set(doc, "items", items) != 0;
        bad |= json_object_set(doc, "requests", reqs) != 0;
    }
    json_decref(items);
    json_decref(reqs);
    if (bad) {
        json_decref(doc);
        doc = NULL;
    }
    return dump(doc, JSON_INDENT(2), json, err);
}
