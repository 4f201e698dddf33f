/* Roadmaps kept as markdown, turned into GitHub issues (`plurigrid kanban`).
 *
 * A roadmap is CommonMark text with two shapes of item: checklists under a section name
 * ("Done:", "## Next", ...) whose entries are `- [ ] title` or `- [x] title`, and task blocks
 * "Task N: title (k people, h hours)" whose following lines are the task's steps. Everything else
 * is kept, line for line, as context. docs/kanban.md describes the accepted shapes exactly.
 *
 * pg_kanban_parse() reads the roadmap into plain structs; pg_kanban_item_payload() and
 * pg_kanban_payloads_json() give the GitHub REST API payloads each item stands for;
 * pg_kanban_post() creates or updates those issues in a repository, matching existing issues by
 * title so that running it again changes nothing. */
#ifndef PLURIGRID_KANBAN_H
#define PLURIGRID_KANBAN_H

#include <stdbool.h>
#include <stddef.h>

#include "plurigrid/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest roadmap pg_kanban_parse() accepts, bytes. */
#define PG_KANBAN_MAX_INPUT (1024u * 1024u)

typedef enum pg_kanban_kind {
    PG_KANBAN_CHECKLIST = 1, /* "- [ ] title" / "- [x] title" under a section name */
    PG_KANBAN_TASK = 2,      /* "Task N: title (k people, h hours)" and its steps */
} pg_kanban_kind;

typedef struct pg_kanban_item {
    pg_kanban_kind kind;
    int line;      /* 1-based roadmap line of the title */
    char *title;   /* the title as written, inline markdown kept, spaces trimmed */
    char *body;    /* markdown: a checklist entry's further lines, a task's steps as a bullet
                      list; "" when there are none */
    char *section; /* the section the item is under ("Done", "Week of ... Roadmap"), "" when
                      none; cut to 200 characters */
    bool checked;  /* checklist box ticked ("[x]") */
    bool closed;   /* the state is closed: box ticked, or the section label is "done" */
    int number;    /* tasks: N of "Task N:"; 0 for checklist entries */
    int people;    /* tasks: k of "(k people, ...)"; 0 when not given */
    double hours;  /* tasks: h of "(..., h hours)", hours; negative when not given */
    char **labels; /* checklists: the section label ("done"), if any; tasks: "task",
                      "estimate:<h>h", "people:<k>" */
    size_t n_labels;
} pg_kanban_item;

/* A run of roadmap lines that is not part of any item, kept as written. */
typedef struct pg_kanban_context {
    int line;     /* first line, 1-based */
    int end_line; /* last line */
    char *text;   /* the lines, joined by "\n" */
} pg_kanban_context;

/* A parsed roadmap. Owns every string and array reachable from it. */
typedef struct pg_kanban_roadmap {
    char *source;          /* the name given to pg_kanban_parse() */
    pg_kanban_item *items; /* in document order */
    size_t n_items;
    pg_kanban_context *context; /* in document order */
    size_t n_context;
} pg_kanban_roadmap;

/* Parses len bytes of markdown (need not be NUL-terminated; NUL bytes and invalid UTF-8 become
 * U+FFFD). name names the input in errors and in the result (may be NULL). Never fails on the
 * shape of the text: what is not an item becomes context. Fails with PG_ELIMIT when len exceeds
 * PG_KANBAN_MAX_INPUT and PG_ENOMEM when memory runs out. Copies what it needs from text and
 * name; *out is the caller's, released with pg_kanban_free(). */
int pg_kanban_parse(pg_kanban_roadmap **out, const char *text, size_t len, const char *name,
                    pg_error *err);

/* Reads and parses a roadmap file. Borrows path; *out is the caller's. */
int pg_kanban_read(pg_kanban_roadmap **out, const char *path, pg_error *err);

void pg_kanban_free(pg_kanban_roadmap *r);

/* Checks that the items can be posted: titles unique (issues are matched by title), at most 256
 * characters, bodies at most 65536 characters. Borrows r. On failure err names the item's line. */
int pg_kanban_check(const pg_kanban_roadmap *r, pg_error *err);

/* The issue an item stands for, as one compact JSON object {"title", "body", "labels", "state"
 * [, "state_reason"]}: the payload of GitHub's "update an issue" request. Borrows it; *json is
 * malloc'd and the caller's. */
int pg_kanban_item_payload(const pg_kanban_item *it, char **json, pg_error *err);

/* Every item's payload as a JSON array, indented by two spaces when pretty. Borrows r; *json is
 * malloc'd and the caller's. */
int pg_kanban_payloads_json(const pg_kanban_roadmap *r, bool pretty, char **json, pg_error *err);

/* The whole parse as a JSON document (format "plurigrid-kanban/1"): items with their line,
 * section, estimate and payload, counts, and the context. repo may be NULL. Borrows r and repo;
 * *json is malloc'd and the caller's. */
int pg_kanban_roadmap_json(const pg_kanban_roadmap *r, const char *repo, char **json,
                           pg_error *err);

/* ------------------------------------------------------------------ posting to GitHub */

typedef struct pg_kanban_post_options {
    const char *repo;    /* "OWNER/NAME", required */
    const char *api_url; /* default "https://api.github.com"; plain http only to loopback */
    const char *token;   /* API token; required unless dry_run (then used when given) */
    bool dry_run;        /* list the existing issues, plan the writes, send none */
    long timeout_s;      /* per request, seconds; default 60 */
} pg_kanban_post_options;

void pg_kanban_post_options_init(pg_kanban_post_options *o);

/* Longest token accepted, characters (GitHub's tokens have 40 to about 100). */
#define PG_KANBAN_MAX_TOKEN 1024

/* Checks that repo names a repository as GitHub allows it, so that it can only ever stand for
 * that repository in a request path ("../x" cannot climb out): OWNER/NAME with exactly one '/',
 * only letters, digits, '-', '_' and '.', no "..", an owner of at most 39 characters that starts
 * with a letter or a digit, a name of at most 100 characters other than ".". Borrows repo; on
 * failure err names the rule broken (PG_EINVAL). */
int pg_kanban_repo_check(const char *repo, pg_error *err);

/* Checks that a token can be sent as it is: not empty, at most PG_KANBAN_MAX_TOKEN characters,
 * printable ASCII without spaces, tabs, line breaks or control characters. The message says what
 * is wrong without showing the token (PG_EINVAL). Borrows token. */
int pg_kanban_token_check(const char *token, pg_error *err);

typedef enum pg_kanban_outcome {
    PG_KANBAN_NOT_SENT = 0,    /* not reached: the run stopped earlier */
    PG_KANBAN_CREATED = 1,     /* a new issue (dry run: would be created) */
    PG_KANBAN_UPDATED = 2,     /* the issue with this title was changed (dry run: would be) */
    PG_KANBAN_UNCHANGED = 3,   /* the issue with this title already matched */
    PG_KANBAN_FAILED = 4,      /* its request failed and the run stopped there */
    PG_KANBAN_CREATED_OPEN = 5 /* created, but closing it failed: it is open on GitHub */
} pg_kanban_outcome;

/* One write request, sent or (dry run) planned. */
typedef struct pg_kanban_request {
    char *method; /* "POST" or "PATCH" */
    char *path;   /* "/repos/OWNER/NAME/issues[/NUMBER]"; "{new}" stands for the number of
                     an issue a dry run would create */
    char *body;   /* compact JSON */
    size_t item;  /* index of the item in the roadmap */
    long status;  /* HTTP status of the answer; 0 when not sent or no answer came */
} pg_kanban_request;

/* What a post run did. Unlike an out parameter it is written while the run proceeds and stays
 * valid when pg_kanban_post() fails, so that the caller can say exactly what was written. */
typedef struct pg_kanban_report {
    bool dry_run;
    size_t n_existing; /* issues listed in the repository (pull requests left out) */
    size_t n_items;
    pg_kanban_outcome *outcome;  /* per item */
    long *number;                /* per item: issue number, 0 when none (yet) */
    pg_kanban_request *requests; /* write requests in the order sent */
    size_t n_requests;
} pg_kanban_report;

void pg_kanban_report_init(pg_kanban_report *rep);
void pg_kanban_report_clear(pg_kanban_report *rep);

/* Creates or updates one issue per item in o->repo: lists the repository's issues (all pages,
 * open and closed), updates an issue whose title matches (only when its body, state or labels
 * differ; labels it carries that this roadmap does not manage are kept), creates the others,
 * and closes created issues whose item is closed. Stops at the first failure: a rate limit
 * (PG_ELIMIT), a refused token (PG_EAUTH), a missing repository (PG_ENOTFOUND), a rejected
 * payload (PG_EPARSE), a repository with more issues than are listed (PG_EUNSUPPORTED), a server
 * or network failure (PG_ENET); a bad repository, API URL or token, or an item that holds the
 * token, is refused before anything is sent (PG_EINVAL). The token never appears in err, even
 * when a server echoes it. rep records every outcome and request up to that point. Borrows r
 * and o; rep must have been initialised and is the caller's (cleared first). */
int pg_kanban_post(const pg_kanban_roadmap *r, const pg_kanban_post_options *o,
                   pg_kanban_report *rep, pg_error *err);

/* The report as a JSON document: per item outcome and issue number, the requests. error may be
 * NULL (no failure). Borrows everything; *json is malloc'd and the caller's. */
int pg_kanban_report_json(const pg_kanban_roadmap *r, const pg_kanban_report *rep,
                          const pg_error *error, char **json, pg_error *err);

/* "created", "updated", ... for an outcome. Never NULL. */
const char *pg_kanban_outcome_name(pg_kanban_outcome o);

#ifdef __cplusplus
}
#endif
#endif
