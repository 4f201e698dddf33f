/* plurigrid kanban: turns a markdown roadmap into GitHub issues. By default it prints the issue
 * payloads and sends nothing; with --post it creates or updates the issues in a repository,
 * and when that stops part way it says exactly what was already written. The token is read
 * once, checked, kept out of every output and wiped from memory when the run ends. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "kanban/kanban.h"

/* A token file holds a token (about 100 bytes); anything longer is not one. */
#define TOKEN_FILE_MAX 4096

static void
usage(FILE *f)
{
    fprintf(f,
            "Usage: plurigrid kanban ROADMAP.md [--json FILE|-] [--post --repo OWNER/NAME\n"
            "                        [--token-file F] [--api-url URL] [--dry-run]]\n"
            "\n"
            "Reads a markdown roadmap (checklists under a section name such as \"Done:\" or\n"
            "\"## Next\", and \"Task N: title (k people, h hours)\" blocks whose following lines\n"
            "are the task's steps) and turns each item into a GitHub issue. Lines that are\n"
            "not items are kept as context. ROADMAP.md may be '-' for standard input.\n"
            "\n"
            "Without --post, prints the issues as GitHub REST API payloads (a JSON array of\n"
            "{title, body, labels, state}) and sends nothing.\n"
            "\n"
            "Options:\n"
            "  --json FILE|-      write the whole parse as JSON (format plurigrid-kanban/1):\n"
            "                     items with line, section and estimate, counts, and context;\n"
            "                     with --post, the run's report (plurigrid-kanban-post/1).\n"
            "                     '-' for standard output (the payloads or the outcome\n"
            "                     lines are then not printed); a FILE is replaced whole\n"
            "  --post             create or update the issues in --repo: an issue whose title\n"
            "                     exists is updated, never duplicated\n"
            "  --repo OWNER/NAME  the repository to post to\n"
            "  --token-file F     read the API token from file F ('-' for standard input;\n"
            "                     default: $GITHUB_TOKEN); the token is never taken from the\n"
            "                     command line, and never printed\n"
            "  --api-url URL      the API to use (default https://api.github.com; for GitHub\n"
            "                     Enterprise https://HOST/api/v3)\n"
            "  --dry-run          with --post: list the existing issues, print the requests\n"
            "                     that would be sent, and send none\n"
            "  -h, --help         show this help\n"
            "\n"
            "Exit status: 0 done; 1 GitHub's rate limit stopped the run (the message says\n"
            "when to run again); 2 bad input: roadmap, options, token refused, repository\n"
            "not found or with too many issues to list, payload rejected, output not\n"
            "written; 3 a network or server failure.\n"
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
    case PG_EUNSUPPORTED:
    case PG_EIO:
    case PG_EINVAL: return PG_EXIT_USAGE;
    default: return PG_EXIT_INTERNAL;
    }
}

/* Zeroes n bytes of a secret (so that it does not linger in freed memory) and frees it. */
static void
forget(char *secret, size_t n)
{
    if (!secret)
        return;
    volatile char *p = secret;
    while (n--)
        *p++ = '\0';
    free(secret);
}

/* The token from --token-file (the whole file, surrounding spaces and line breaks trimmed) or
 * GITHUB_TOKEN; NULL when neither gives one. Sets *failed, after saying why on stderr without
 * showing the token, when the file cannot be read or what it holds is not a token. *size is
 * the size of the returned buffer, for forget(). */
static char *
read_token(const char *file, int *failed, size_t *size)
{
    *failed = 1;
    char *t = NULL;
    size_t len = 0;
    char from[4200]; /* where the token comes from, for messages */
    if (!file)
        snprintf(from, sizeof from, "GITHUB_TOKEN");
    else if (strcmp(file, "-") == 0)
        snprintf(from, sizeof from, "the token on standard input (--token-file -)");
    else
        snprintf(from, sizeof from, "the token file %.4000s", file);
    char ebuf[1400];
    pg_error err = {0};
    if (file) {
        int rc = pg_input_read(file, TOKEN_FILE_MAX, &t, &len, &err);
        if (rc == PG_ELIMIT) {
            fprintf(stderr,
                    "plurigrid kanban: %s is longer than %d bytes; it should hold the token "
                    "alone\n",
                    from, TOKEN_FILE_MAX);
            return NULL;
        }
        if (rc != PG_OK) {
            fprintf(stderr, "plurigrid kanban: cannot read the token (--token-file): %s\n",
                    pg_error_format(&err, ebuf, sizeof ebuf));
            return NULL;
        }
        if (memchr(t, '\0', len)) {
            fprintf(stderr,
                    "plurigrid kanban: %s holds NUL bytes; it should be text that holds the "
                    "token alone\n",
                    from);
            forget(t, len + 1);
            return NULL;
        }
    } else {
        const char *env = getenv("GITHUB_TOKEN");
        if (!env || !env[0]) {
            *failed = 0;
            return NULL;
        }
        len = strlen(env);
        if (!(t = malloc(len + 1))) {
            fprintf(stderr, "plurigrid kanban: out of memory\n");
            return NULL;
        }
        memcpy(t, env, len + 1);
    }
    *size = len + 1;
    /* Surrounding spaces and line breaks are trimmed (the newline at the end of a file, the
     * spaces of a copy and paste); inside, the token check refuses them. */
    size_t a = 0, b = len;
    while (a < b && strchr(" \t\r\n", t[a]))
        a++;
    while (b > a && strchr(" \t\r\n", t[b - 1]))
        b--;
    memmove(t, t + a, b - a);
    memset(t + (b - a), 0, len + 1 - (b - a));
    if (!t[0]) {
        fprintf(stderr, "plurigrid kanban: %s %s\n", from,
                file ? "is empty (or holds only spaces and line breaks)"
                     : "holds only spaces and line breaks, no token");
        forget(t, *size);
        return NULL;
    }
    if (pg_kanban_token_check(t, &err) != PG_OK) {
        fprintf(stderr, "plurigrid kanban: %s: %s\n", from, err.msg);
        forget(t, *size);
        return NULL;
    }
    *failed = 0;
    return t;
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
        fprintf(stderr, "%s; --json - lists them)", r->n_context > 12 ? ", ..." : "");
    }
    fprintf(stderr, "\n");
}

/* The note after a created issue that is not as the roadmap wants it. */
static const char *
created_note(const pg_kanban_report *rep, size_t i)
{
    if (rep->outcome[i] != PG_KANBAN_CREATED_OPEN)
        return "";
    return rep->number[i] > 0 ? " (still open on GitHub: closing it failed; running again closes "
                                "it)"
                              : " (still open on GitHub: without its number it could not be "
                                "closed; running again closes it)";
}

static void
print_outcomes(const pg_kanban_roadmap *r, const pg_kanban_report *rep)
{
    for (size_t i = 0; i < rep->n_items; i++) {
        pg_kanban_outcome oc = rep->outcome[i];
        if (oc == PG_KANBAN_NOT_SENT || oc == PG_KANBAN_FAILED)
            continue;
        const char *verb = pg_kanban_outcome_name(oc);
        if (oc == PG_KANBAN_CREATED_OPEN)
            verb = "created";
        if (rep->dry_run)
            verb = oc == PG_KANBAN_CREATED   ? "would create"
                   : oc == PG_KANBAN_UPDATED ? "would update"
                                             : verb;
        if (rep->number[i] > 0)
            printf("%-12s #%-5ld %s%s\n", verb, rep->number[i], r->items[i].title,
                   created_note(rep, i));
        else if (rep->dry_run)
            printf("%-12s %-6s %s\n", verb, "", r->items[i].title);
        else
            printf("%-12s %-6s %s (GitHub's answer gave no issue number)%s\n", verb, "?",
                   r->items[i].title, created_note(rep, i));
    }
}

/* After a failure: exactly which issues were written before it, and what was not sent. */
static void
print_partial(const pg_kanban_roadmap *r, const pg_kanban_report *rep)
{
    if (rep->dry_run) {
        fprintf(stderr, "plurigrid kanban: dry run, nothing was written to GitHub.\n");
        return;
    }
    if (!rep->outcome) {
        fprintf(stderr, "plurigrid kanban: nothing was sent to GitHub.\n");
        return;
    }
    size_t created = 0, updated = 0, not_sent = 0, last = rep->n_items;
    for (size_t i = 0; i < rep->n_items; i++) {
        pg_kanban_outcome oc = rep->outcome[i];
        created += oc == PG_KANBAN_CREATED || oc == PG_KANBAN_CREATED_OPEN;
        updated += oc == PG_KANBAN_UPDATED;
        not_sent += oc == PG_KANBAN_NOT_SENT;
        if (oc != PG_KANBAN_NOT_SENT)
            last = i;
    }
    if (last == rep->n_items) {
        fprintf(stderr, "plurigrid kanban: nothing was written to GitHub: the run stopped "
                        "before its first write.\n");
        return;
    }
    if (created == 0 && updated == 0) {
        fprintf(stderr, "plurigrid kanban: no issue was created or updated before the "
                        "failure.\n");
    } else {
        fprintf(stderr,
                "plurigrid kanban: written before the failure: %zu issue%s created, %zu "
                "updated:\n",
                created, created == 1 ? "" : "s", updated);
        for (int k = 0; k < 2; k++)
            for (size_t i = 0; i < rep->n_items; i++) {
                pg_kanban_outcome oc = rep->outcome[i];
                const char *verb =
                    k == 0 && (oc == PG_KANBAN_CREATED || oc == PG_KANBAN_CREATED_OPEN) ? "created"
                    : k == 1 && oc == PG_KANBAN_UPDATED                                 ? "updated"
                                                                                        : NULL;
                if (!verb)
                    continue;
                if (rep->number[i] > 0)
                    fprintf(stderr, "  %s #%ld %s%s\n", verb, rep->number[i], r->items[i].title,
                            created_note(rep, i));
                else
                    fprintf(stderr, "  %s %s (GitHub's answer gave no issue number)%s\n", verb,
                            r->items[i].title, created_note(rep, i));
            }
    }
    const pg_kanban_item *it = &r->items[last];
    if (rep->outcome[last] == PG_KANBAN_FAILED)
        fprintf(stderr, "plurigrid kanban: the request for \"%s\" (line %d) failed", it->title,
                it->line);
    else
        fprintf(stderr, "plurigrid kanban: the run stopped at \"%s\" (line %d)", it->title,
                it->line);
    if (not_sent)
        fprintf(stderr, "; the %zu item%s after it %s not sent.\n", not_sent,
                not_sent == 1 ? "" : "s", not_sent == 1 ? "was" : "were");
    else
        fprintf(stderr, "; it was the roadmap's last item.\n");
    fprintf(stderr, "plurigrid kanban: running again is safe: issues are matched by title, so "
                    "nothing is duplicated.\n");
}

/* Writes text and a final newline to path ("-": standard output) as one whole output. */
static int
write_json(const char *path, const char *text, pg_error *err)
{
    size_t n = strlen(text);
    char *t = malloc(n + 2);
    if (!t)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    memcpy(t, text, n);
    t[n] = '\n';
    t[n + 1] = '\0';
    int rc = pg_output_write(path, t, n + 1, err);
    free(t);
    return rc;
}

static int
do_post(const pg_kanban_roadmap *r, const pg_kanban_post_options *o, const char *json_path)
{
    pg_kanban_report rep;
    pg_kanban_report_init(&rep);
    pg_error err = {0};
    int rc = pg_kanban_post(r, o, &rep, &err);
    int code = PG_EXIT_OK;
    bool json_only = json_path && strcmp(json_path, "-") == 0;
    if (!json_only) {
        print_outcomes(r, &rep);
        if (o->dry_run && rep.n_requests) {
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
    } else if (!json_only) {
        size_t n[6] = {0};
        for (size_t i = 0; i < rep.n_items; i++)
            n[rep.outcome[i]]++;
        fprintf(stderr,
                "plurigrid kanban: %s%zu %s, %zu %s, %zu unchanged (%zu issue%s already in "
                "%s)%s\n",
                o->dry_run ? "dry run: " : "", n[PG_KANBAN_CREATED] + n[PG_KANBAN_CREATED_OPEN],
                o->dry_run ? "to create" : "created", n[PG_KANBAN_UPDATED],
                o->dry_run ? "to update" : "updated", n[PG_KANBAN_UNCHANGED], rep.n_existing,
                rep.n_existing == 1 ? " was" : "s were", o->repo,
                o->dry_run ? "; nothing was sent" : "");
    }
    if (json_path) {
        char *doc = NULL;
        pg_error jerr = {0};
        if (pg_kanban_report_json(r, &rep, rc == PG_OK ? NULL : &err, &doc, &jerr) != PG_OK ||
            write_json(json_path, doc, &jerr) != PG_OK) {
            char buf[1400];
            fprintf(stderr, "plurigrid kanban: the report was not written: %s\n",
                    pg_error_format(&jerr, buf, sizeof buf));
            if (code == PG_EXIT_OK)
                code = pg_cli_exit_code(jerr.code);
        }
        free(doc);
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

/* True when a and b are the same existing file. */
static bool
same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return a && b && stat(a, &sa) == 0 && stat(b, &sb) == 0 && S_ISREG(sa.st_mode) &&
           sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int
pg_cmd_kanban(int argc, char **argv)
{
    const char *path = NULL, *repo = NULL, *token_file = NULL, *api_url = NULL, *json_path = NULL;
    bool post = false, dry_run = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        if (pg_cli_is_help(a)) {
            usage(stdout);
            return PG_EXIT_OK;
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
                   option_value(argc, argv, &i, "--api-url", &v) ||
                   option_value(argc, argv, &i, "--json", &v)) {
            size_t nl = strcspn(a, "=");
            if (!v || !v[0] || (v[0] == '-' && v[1] == '-')) {
                fprintf(stderr, "plurigrid kanban: %.*s needs a value%s%s%s\n", (int)nl, a,
                        strncmp(a, "--json", 6) == 0 ? " (FILE, or - for standard output)" : "",
                        v && v[0] ? ", not the option " : "", v && v[0] ? v : "");
                return PG_EXIT_USAGE;
            }
            if (strncmp(a, "--repo", 6) == 0)
                repo = v;
            else if (strncmp(a, "--token-file", 12) == 0)
                token_file = v;
            else if (strncmp(a, "--json", 6) == 0)
                json_path = v;
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
        if (json_path) {
            fprintf(stderr,
                    "plurigrid kanban: no roadmap given (--json takes the file to write, or - "
                    "for standard output, so '--json %s' did not name the roadmap)\n",
                    json_path);
            return PG_EXIT_USAGE;
        }
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
    if (repo && pg_kanban_repo_check(repo, &err) != PG_OK) {
        fprintf(stderr, "plurigrid kanban: --repo: %s\n", err.msg);
        return PG_EXIT_USAGE;
    }
    if (token_file && strcmp(token_file, "-") == 0 && strcmp(path, "-") == 0) {
        fprintf(stderr, "plurigrid kanban: the roadmap and the token cannot both come from "
                        "standard input ('-'); give one of them as a file\n");
        return PG_EXIT_USAGE;
    }
    if (json_path && (same_file(json_path, path) || same_file(json_path, token_file))) {
        fprintf(stderr,
                "plurigrid kanban: --json %s would replace the %s itself; give another file\n",
                json_path, same_file(json_path, path) ? "roadmap" : "token file");
        return PG_EXIT_USAGE;
    }

    pg_kanban_roadmap *r = NULL;
    int rc;
    if (strcmp(path, "-") == 0) {
        char *text = NULL;
        size_t len = 0;
        rc = pg_input_read("-", PG_KANBAN_MAX_INPUT, &text, &len, &err);
        if (rc == PG_OK)
            rc = pg_kanban_parse(&r, text, len, "<stdin>", &err);
        free(text);
    } else {
        rc = pg_kanban_read(&r, path, &err);
    }
    if (rc != PG_OK)
        return pg_cli_report("kanban", &err);

    int code = PG_EXIT_OK;
    if (!post) {
        bool json_only = json_path && strcmp(json_path, "-") == 0;
        char *out = NULL;
        if (json_path) {
            if (pg_kanban_roadmap_json(r, repo, &out, &err) != PG_OK ||
                write_json(json_path, out, &err) != PG_OK)
                code = pg_cli_report("kanban", &err);
            free(out);
            out = NULL;
        }
        if (code == PG_EXIT_OK && !json_only) {
            if (pg_kanban_payloads_json(r, true, &out, &err) != PG_OK) {
                code = pg_cli_report("kanban", &err);
            } else {
                printf("%s\n", out);
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
            free(out);
        }
        pg_kanban_free(r);
        return code;
    }

    int failed;
    size_t token_size = 0;
    char *token = read_token(token_file, &failed, &token_size);
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
    code = do_post(r, &o, json_path);
    forget(token, token_size);
    pg_kanban_free(r);
    return code;
}
