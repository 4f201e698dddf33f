/* plurigrid kanban: turns a markdown roadmap into GitHub issues. By default it prints the issue
 * payloads and sends nothing; with --post it creates or updates the issues in a repository,
 * and when that stops part way it says exactly what was already written. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "kanban/kanban.h"

static void
usage(FILE *f)
{
    fprintf(f,
            "Usage: plurigrid kanban ROADMAP.md [--json] [--post --repo OWNER/NAME\n"
            "                        [--token-file F] [--api-url URL] [--dry-run]]\n"
            "\n"
            "Reads a markdown roadmap (checklists under a section name such as \"Done:\" or\n"
            "\"## Next\", and \"Task N: title (k people, h hours)\" blocks whose following lines\n"
            "are the task's steps) and turns each item into a GitHub issue. Lines that are not\n"
            "items are kept as context. ROADMAP.md may be '-' for standard input.\n"
            "\n"
            "Without --post, prints the issues as GitHub REST API payloads (a JSON array of\n"
            "{title, body, labels, state}) and sends nothing.\n"
            "\n"
            "Options:\n"
            "  --json             print the whole parse instead (format plurigrid-kanban/1):\n"
            "                     items with line, section and estimate, counts, and context;\n"
            "                     with --post, print the run's report as JSON\n"
            "  --post             create or update the issues in --repo: an issue whose title\n"
            "                     exists is updated, never duplicated\n"
            "  --repo OWNER/NAME  the repository to post to\n"
            "  --token-file F     read the API token from file F (default: $GITHUB_TOKEN); the\n"
            "                     token is never taken from the command line\n"
            "  --api-url URL      the API to use (default https://api.github.com; for GitHub\n"
            "                     Enterprise https://HOST/api/v3)\n"
            "  --dry-run          with --post: list the existing issues, print the requests\n"
            "                     that would be sent, and send none\n"
            "  -h, --help         show this help\n"
            "\n"
            "Exit status: 0 done; 1 GitHub's rate limit stopped the run (run again later);\n"
            "2 bad input: roadmap, options, token refused, repository not found, payload\n"
            "rejected; 3 a network or server failure.\n"
            "See docs/kanban.md for the accepted roadmap shapes and the payloads.\n");
}

/* Exit code for a failed post: a rate limit is a "not now", not bad input. */
static int
post_exit_code(int status)
{
    switch (status) {
    case PG_ELIMIT: return PG_EXIT_FAIL;
    case PG_EAUTH:
    case PG_ENOTFOUND:
    case PG_EPARSE:
    case PG_EINVAL: return PG_EXIT_USAGE;
    default: return PG_EXIT_INTERNAL;
    }
}

/* The token from --token-file (first line, spaces trimmed) or GITHUB_TOKEN; NULL when neither
 * is given. Sets *failed when the file cannot be read. */
static char *
read_token(const char *file, int *failed)
{
    *failed = 0;
    char *t = NULL;
    if (file) {
        FILE *f = fopen(file, "rb");
        if (!f) {
            fprintf(stderr, "plurigrid kanban: cannot read the token file %s: %s\n", file,
                    strerror(errno));
            *failed = 1;
            return NULL;
        }
        size_t len;
        t = pg_cli_read_stream(f, 65536, &len);
        fclose(f);
        if (!t) {
            *failed = 1;
            return NULL;
        }
    } else {
        const char *env = getenv("GITHUB_TOKEN");
        if (!env || !env[0])
            return NULL;
        t = strdup(env);
        if (!t) {
            *failed = 1;
            return NULL;
        }
    }
    char *s = t;
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    size_t n = strcspn(s, "\r\n");
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    memmove(t, s, n);
    t[n] = '\0';
    if (!t[0]) {
        fprintf(stderr, "plurigrid kanban: the token %s is empty\n",
                file ? "file" : "in GITHUB_TOKEN");
        free(t);
        *failed = 1;
        return NULL;
    }
    return t;
}

static void
forget(char *secret)
{
    if (!secret)
        return;
    volatile char *p = secret;
    while (*p)
        *p++ = '\0';
    free(secret);
}

typedef struct label_count {
    const char *label;
    size_t first; /* index of the first item with it */
    size_t n;
} label_count;

static int
cmp_label(const void *a, const void *b)
{
    const label_count *x = a, *y = b;
    int c = strcmp(x->label, y->label);
    return c ? c : (x->first > y->first) - (x->first < y->first);
}

static int
cmp_first(const void *a, const void *b)
{
    const label_count *x = a, *y = b;
    return (x->first > y->first) - (x->first < y->first);
}

/* One line with the count per section label and the context kept, on stderr: the payloads go
 * to stdout. */
static void
summary(const pg_kanban_roadmap *r)
{
    label_count *c = calloc(r->n_items + 1, sizeof *c);
    size_t n = 0, tasks = 0;
    for (size_t i = 0; c && i < r->n_items; i++) {
        const pg_kanban_item *it = &r->items[i];
        if (it->kind == PG_KANBAN_TASK)
            tasks++;
        else
            c[n++] = (label_count){it->n_labels ? it->labels[0] : "", i, 1};
    }
    /* Group equal labels, then list them in the order they first appear. */
    size_t groups = 0;
    if (c && n) {
        qsort(c, n, sizeof *c, cmp_label);
        for (size_t k = 1; k < n; k++) {
            if (strcmp(c[k].label, c[groups].label) == 0)
                c[groups].n++;
            else
                c[++groups] = c[k];
        }
        groups++;
        qsort(c, groups, sizeof *c, cmp_first);
    }
    fprintf(stderr, "plurigrid kanban: %s: %zu issue%s (", r->source, r->n_items,
            r->n_items == 1 ? "" : "s");
    for (size_t k = 0; k < groups; k++)
        fprintf(stderr, "%zu %s, ", c[k].n, c[k].label[0] ? c[k].label : "without a section");
    fprintf(stderr, "%zu tasks)", tasks);
    free(c);
    if (r->n_context) {
        fprintf(stderr, "; %zu context block%s kept, not issues (line%s", r->n_context,
                r->n_context == 1 ? "" : "s", r->n_context == 1 ? "" : "s");
        for (size_t i = 0; i < r->n_context && i < 12; i++)
            fprintf(stderr, "%s%d", i ? ", " : " ", r->context[i].line);
        fprintf(stderr, "%s; --json lists them)", r->n_context > 12 ? ", ..." : "");
    }
    fprintf(stderr, "\n");
}

static void
print_outcomes(const pg_kanban_roadmap *r, const pg_kanban_report *rep)
{
    for (size_t i = 0; i < rep->n_items; i++) {
        pg_kanban_outcome oc = rep->outcome[i];
        if (oc == PG_KANBAN_NOT_SENT || oc == PG_KANBAN_FAILED)
            continue;
        const char *verb = pg_kanban_outcome_name(oc);
        if (rep->dry_run)
            verb = oc == PG_KANBAN_CREATED   ? "would create"
                   : oc == PG_KANBAN_UPDATED ? "would update"
                                             : verb;
        const char *note = "";
        if (oc == PG_KANBAN_CREATED_OPEN) {
            verb = "created";
            note = " (still open: closing it failed)";
        }
        if (rep->number[i] > 0)
            printf("%-12s #%-5ld %s%s\n", verb, rep->number[i], r->items[i].title, note);
        else
            printf("%-12s %-6s %s%s\n", verb, "", r->items[i].title, note);
    }
}

/* After a failure: exactly which issues were written before it. */
static void
print_partial(const pg_kanban_roadmap *r, const pg_kanban_report *rep)
{
    size_t created = 0, updated = 0, not_sent = 0;
    for (size_t i = 0; i < rep->n_items; i++) {
        created +=
            rep->outcome[i] == PG_KANBAN_CREATED || rep->outcome[i] == PG_KANBAN_CREATED_OPEN;
        updated += rep->outcome[i] == PG_KANBAN_UPDATED;
        not_sent += rep->outcome[i] == PG_KANBAN_NOT_SENT;
    }
    if (rep->dry_run) {
        fprintf(stderr, "plurigrid kanban: dry run, nothing was written to GitHub.\n");
        return;
    }
    if (created == 0 && updated == 0) {
        fprintf(stderr, "plurigrid kanban: no issue was created or updated before the "
                        "failure.\n");
    } else {
        fprintf(stderr,
                "plurigrid kanban: before the failure, %zu issue%s created and %zu updated:\n",
                created, created == 1 ? " was" : "s were", updated);
        for (int k = 0; k < 2; k++)
            for (size_t i = 0; i < rep->n_items; i++) {
                pg_kanban_outcome oc = rep->outcome[i];
                if (k == 0 && (oc == PG_KANBAN_CREATED || oc == PG_KANBAN_CREATED_OPEN))
                    fprintf(stderr, "  created #%ld %s%s\n", rep->number[i], r->items[i].title,
                            oc == PG_KANBAN_CREATED_OPEN ? " (still open: closing it failed)" : "");
                else if (k == 1 && oc == PG_KANBAN_UPDATED)
                    fprintf(stderr, "  updated #%ld %s\n", rep->number[i], r->items[i].title);
            }
    }
    for (size_t i = 0; i < rep->n_items; i++)
        if (rep->outcome[i] == PG_KANBAN_FAILED)
            fprintf(stderr, "plurigrid kanban: the request for \"%s\" (line %d) failed.\n",
                    r->items[i].title, r->items[i].line);
    fprintf(stderr,
            "plurigrid kanban: %zu item%s not sent. Running again is safe: issues are matched "
            "by title, so nothing is duplicated.\n",
            not_sent, not_sent == 1 ? " was" : "s were");
}

static int
do_post(const pg_kanban_roadmap *r, const pg_kanban_post_options *o, bool json)
{
    pg_kanban_report rep;
    pg_kanban_report_init(&rep);
    pg_error err = {0};
    int rc = pg_kanban_post(r, o, &rep, &err);
    int code = PG_EXIT_OK;
    if (json) {
        char *doc = NULL;
        pg_error jerr = {0};
        if (pg_kanban_report_json(r, &rep, rc == PG_OK ? NULL : &err, &doc, &jerr) == PG_OK)
            printf("%s\n", doc);
        free(doc);
    } else {
        print_outcomes(r, &rep);
        if (o->dry_run) {
            printf("\nRequests that would be sent:\n");
            for (size_t i = 0; i < rep.n_requests; i++)
                printf("%s %s\n%s\n", rep.requests[i].method, rep.requests[i].path,
                       rep.requests[i].body);
        }
    }
    if (rc != PG_OK) {
        char buf[1400];
        pg_error_format(&err, buf, sizeof buf);
        fprintf(stderr, "plurigrid kanban: %s\n", buf);
        print_partial(r, &rep);
        code = post_exit_code(rc);
    } else if (!json) {
        size_t n[6] = {0};
        for (size_t i = 0; i < rep.n_items; i++)
            n[rep.outcome[i]]++;
        fprintf(stderr,
                "plurigrid kanban: %s%zu %s, %zu %s, %zu unchanged (%zu issues were already in "
                "%s)%s\n",
                o->dry_run ? "dry run: " : "", n[PG_KANBAN_CREATED],
                o->dry_run ? "to create" : "created", n[PG_KANBAN_UPDATED],
                o->dry_run ? "to update" : "updated", n[PG_KANBAN_UNCHANGED], rep.n_existing,
                o->repo, o->dry_run ? "; nothing was sent" : "");
    }
    pg_kanban_report_clear(&rep);
    return code;
}

/* "--name VALUE" or "--name=VALUE"; advances *i past a separate value. */
static int
option_value(int argc, char **argv, int *i, const char *name, const char **value)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0)
        return 0;
    if (argv[*i][n] == '=') {
        *value = argv[*i] + n + 1;
        return 1;
    }
    if (argv[*i][n] != '\0')
        return 0;
    if (*i + 1 >= argc) {
        *value = NULL;
        return 1;
    }
    *value = argv[++*i];
    return 1;
}

int
pg_cmd_kanban(int argc, char **argv)
{
    const char *path = NULL, *repo = NULL, *token_file = NULL, *api_url = NULL;
    bool json = false, post = false, dry_run = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        if (pg_cli_is_help(a)) {
            usage(stdout);
            return PG_EXIT_OK;
        } else if (strcmp(a, "--json") == 0) {
            json = true;
        } else if (strcmp(a, "--post") == 0) {
            post = true;
        } else if (strcmp(a, "--dry-run") == 0) {
            dry_run = true;
        } else if (strncmp(a, "--token", 7) == 0 && strncmp(a, "--token-file", 12) != 0) {
            fprintf(stderr, "plurigrid kanban: the token is never taken from the command line, "
                            "where other users can read it; use --token-file F or set "
                            "GITHUB_TOKEN\n");
            return PG_EXIT_USAGE;
        } else if (option_value(argc, argv, &i, "--repo", &v) ||
                   option_value(argc, argv, &i, "--token-file", &v) ||
                   option_value(argc, argv, &i, "--api-url", &v)) {
            if (!v || !v[0]) {
                fprintf(stderr, "plurigrid kanban: %s needs a value\n", a);
                return PG_EXIT_USAGE;
            }
            if (strncmp(a, "--repo", 6) == 0)
                repo = v;
            else if (strncmp(a, "--token-file", 12) == 0)
                token_file = v;
            else
                api_url = v;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "plurigrid kanban: unknown option '%s' (see --help)\n", a);
            return PG_EXIT_USAGE;
        } else if (path) {
            fprintf(stderr, "plurigrid kanban: one roadmap at a time ('%s' and '%s' given)\n", path,
                    a);
            return PG_EXIT_USAGE;
        } else {
            path = a;
        }
    }
    if (!path) {
        usage(stderr);
        return PG_EXIT_USAGE;
    }
    if (dry_run && !post) {
        fprintf(stderr, "plurigrid kanban: --dry-run goes with --post (without --post nothing "
                        "is sent anyway)\n");
        return PG_EXIT_USAGE;
    }
    if (post && !repo) {
        fprintf(stderr, "plurigrid kanban: --post needs --repo OWNER/NAME\n");
        return PG_EXIT_USAGE;
    }
    if (!post && (token_file || api_url)) {
        fprintf(stderr, "plurigrid kanban: --token-file and --api-url go with --post\n");
        return PG_EXIT_USAGE;
    }

    pg_error err = {0};
    pg_kanban_roadmap *r = NULL;
    int rc;
    if (strcmp(path, "-") == 0) {
        size_t len;
        char *text = pg_cli_read_stream(stdin, PG_KANBAN_MAX_INPUT, &len);
        if (!text) {
            fprintf(stderr, "plurigrid kanban: cannot read standard input: %s\n", strerror(errno));
            return PG_EXIT_INTERNAL;
        }
        rc = pg_kanban_parse(&r, text, len, "<stdin>", &err);
        free(text);
    } else {
        rc = pg_kanban_read(&r, path, &err);
    }
    if (rc != PG_OK)
        return pg_cli_report("kanban", &err);

    int code = PG_EXIT_OK;
    if (!post) {
        char *out = NULL;
        rc = json ? pg_kanban_roadmap_json(r, repo, &out, &err)
                  : pg_kanban_payloads_json(r, true, &out, &err);
        if (rc != PG_OK) {
            code = pg_cli_report("kanban", &err);
        } else {
            printf("%s\n", out);
            if (!json) {
                summary(r);
                pg_error cerr = {0};
                if (pg_kanban_check(r, &cerr) != PG_OK) {
                    char buf[1400];
                    fprintf(stderr,
                            "plurigrid kanban: warning, --post would refuse this "
                            "roadmap: %s\n",
                            pg_error_format(&cerr, buf, sizeof buf));
                }
            }
        }
        free(out);
        pg_kanban_free(r);
        return code;
    }

    int failed;
    char *token = read_token(token_file, &failed);
    if (failed) {
        pg_kanban_free(r);
        return PG_EXIT_USAGE;
    }
    if (!token && !dry_run) {
        fprintf(stderr, "plurigrid kanban: posting needs a GitHub token: give --token-file F "
                        "or set GITHUB_TOKEN\n");
        pg_kanban_free(r);
        return PG_EXIT_USAGE;
    }
    pg_kanban_post_options o;
    pg_kanban_post_options_init(&o);
    o.repo = repo;
    if (api_url)
        o.api_url = api_url;
    o.token = token;
    o.dry_run = dry_run;
    code = do_post(r, &o, json);
    forget(token);
    pg_kanban_free(r);
    return code;
}
