/* Posting a roadmap to GitHub Issues through the REST API with libcurl: list the repository's
 * issues (every page, open and closed), then create the items no issue has the title of and
 * update those whose issue differs, closing issues whose item is done.
 *
 * Failures stop the run at once and say what happened in words: the rate limit (with when it
 * resets), a refused token, a missing repository, a rejected payload, a server error. The report
 * the caller passes in records every write as it happens, so that a failure can be told together
 * with exactly what was already written. The token only ever travels in a request header, and
 * only over https (or plain http to this machine, for tests); it is hidden from every message,
 * even when a server echoes it back, and a next-page link is followed only under the API URL. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/util.h"
#include "kanban/kanban_internal.h"

#define DEFAULT_API "https://api.github.com"
#define MAX_ANSWER (32u * 1024u * 1024u) /* bytes of one answer */
#define PER_PAGE 100
#define MAX_PAGES 1000 /* of PER_PAGE issues each */
#define MAX_OWNER 39   /* GitHub's limits on an owner's and a repository's name, characters */
#define MAX_NAME 100
#define REDACTED "[token hidden]"
#define PARTIAL_MIN 4 /* a text cut short that ends in this many first characters of the token */

typedef struct existing {
    long number;
    char *title;
    char *body; /* "" when GitHub has none */
    int closed;
    char **labels;
    size_t n_labels;
} existing;

typedef struct gh {
    CURL *curl;
    const char *token; /* hidden from every message; NULL when there is none */
    struct curl_slist *headers;
    char api[512];       /* API base URL without a trailing '/' */
    char repo_path[256]; /* "/repos/OWNER/NAME" */
    char errbuf[CURL_ERROR_SIZE];
} gh;

typedef struct gh_resp {
    long status;
    pgi_buf body;
    char *next;        /* the Link header's rel="next" URL */
    long rl_remaining; /* x-ratelimit-remaining, -1 when absent */
    long rl_reset;     /* x-ratelimit-reset (Unix time), -1 when absent */
    long retry_after;  /* retry-after, seconds, -1 when absent */
    int too_big;
} gh_resp;

static void
resp_reset(gh_resp *r)
{
    pgi_buf_free(&r->body);
    memset(&r->body, 0, sizeof r->body);
    free(r->next);
    r->next = NULL;
    r->status = 0;
    r->rl_remaining = r->rl_reset = r->retry_after = -1;
    r->too_big = 0;
}

/* ------------------------------------------------------------------ options */

void
pg_kanban_post_options_init(pg_kanban_post_options *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->api_url = DEFAULT_API;
    o->timeout_s = 60;
}

/* s as a message can show it: at most 80 bytes, bytes that are not printable ASCII as \xNN. */
static void
shown(const char *s, char *out, size_t size)
{
    size_t n = 0, i = 0;
    for (; s[i] && i < 80 && n + 5 < size; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7F)
            out[n++] = (char)c;
        else
            n += (size_t)snprintf(out + n, size - n, "\\x%02X", c);
    }
    if (s[i] && n + 4 < size)
        n += (size_t)snprintf(out + n, size - n, "...");
    out[n] = '\0';
}

static int
name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
}

int
pg_kanban_repo_check(const char *repo, pg_error *err)
{
    if (!repo || !repo[0])
        return pg_error_set(err, PG_EINVAL,
                            "no repository given: it is OWNER/NAME, such as octocat/hello-world");
    char show[400];
    shown(repo, show, sizeof show);
    const char *slash = strchr(repo, '/');
    if (!slash || strchr(slash + 1, '/'))
        return pg_error_set(err, PG_EINVAL,
                            "the repository '%s' is not OWNER/NAME: it needs exactly one '/', "
                            "between the owner and the name (such as octocat/hello-world)",
                            show);
    const char *name = slash + 1;
    size_t ol = (size_t)(slash - repo), nl = strlen(name);
    if (ol == 0 || nl == 0)
        return pg_error_set(err, PG_EINVAL,
                            "the repository '%s' is not OWNER/NAME: the %s is missing", show,
                            ol == 0 ? "owner before the '/'" : "name after the '/'");
    for (const char *p = repo; *p; p++) {
        if (p == slash || name_char(*p))
            continue;
        unsigned char c = (unsigned char)*p;
        char what[32];
        if (c == ' ')
            snprintf(what, sizeof what, "a space");
        else if (c > 0x20 && c < 0x7F)
            snprintf(what, sizeof what, "'%c'", c);
        else
            snprintf(what, sizeof what, "the byte 0x%02X", c);
        return pg_error_set(err, PG_EINVAL,
                            "the repository '%s' has %s in its %s: GitHub allows only letters, "
                            "digits, '-', '_' and '.' in an owner and a repository name",
                            show, what, p < slash ? "owner" : "name");
    }
    if (strstr(repo, ".."))
        return pg_error_set(err, PG_EINVAL,
                            "the repository '%s' has '..' in it: GitHub does not allow two dots "
                            "in a row in an owner or a repository name",
                            show);
    if (repo[0] == '.' || repo[0] == '-')
        return pg_error_set(err, PG_EINVAL,
                            "the repository '%s' has an owner that starts with '%c': GitHub owners "
                            "start with a letter or a digit",
                            show, repo[0]);
    if (strcmp(name, ".") == 0)
        return pg_error_set(err, PG_EINVAL, "the repository '%s' has no name: '.' is not one",
                            show);
    if (ol > MAX_OWNER)
        return pg_error_set(err, PG_EINVAL,
                            "the repository '%s' has an owner of %zu characters: GitHub allows "
                            "at most %d",
                            show, ol, MAX_OWNER);
    if (nl > MAX_NAME)
        return pg_error_set(err, PG_EINVAL,
                            "the repository '%s' has a name of %zu characters: GitHub allows at "
                            "most %d",
                            show, nl, MAX_NAME);
    return PG_OK;
}

void
pgi_kanban_redact(const char *s, const char *secret, char *out, size_t size)
{
    if (!out || size == 0)
        return;
    out[0] = '\0';
    if (!s)
        return;
    size_t tl = secret ? strlen(secret) : 0, rl = strlen(REDACTED), n = 0;
    for (const char *p = s; *p && n + 1 < size;) {
        if (tl && strncmp(p, secret, tl) == 0) {
            for (size_t k = 0; k < rl && n + 1 < size; k++)
                out[n++] = REDACTED[k];
            p += tl;
        } else {
            /* Control characters (a line break, an escape sequence) would garble the terminal;
             * a space is never part of a token, so it cannot complete one. */
            unsigned char c = (unsigned char)*p++;
            out[n++] = c < 0x20 || c == 0x7F ? ' ' : (char)c;
        }
    }
    out[n] = '\0';
    /* A text cut short, here or before it came here, may end in the token's first characters. */
    for (size_t k = tl ? tl - 1 : 0; k >= PARTIAL_MIN; k--) {
        if (k <= n && memcmp(out + n - k, secret, k) == 0) {
            n -= k;
            snprintf(out + n, size - n, "%s", REDACTED);
            break;
        }
    }
    pgi_kanban_utf8_fix(out);
}

/* Hides the token in what an error says (its message, and the place, which may hold a URL a
 * server gave). */
static void
redact_error(pg_error *err, const char *token)
{
    if (!err || !token || !token[0])
        return;
    char tmp[sizeof err->msg];
    pgi_kanban_redact(err->msg, token, tmp, sizeof tmp);
    memcpy(err->msg, tmp, sizeof tmp);
    pgi_kanban_redact(err->path, token, tmp, sizeof err->path);
    memcpy(err->path, tmp, sizeof err->path);
    pgi_kanban_redact(err->file, token, tmp, sizeof err->file);
    memcpy(err->file, tmp, sizeof err->file);
}

/* https to anywhere; plain http only to this machine, so that a token never crosses a network
 * in the clear. */
static int
api_url_ok(const char *url, pg_error *err)
{
    const char *host;
    int https = 0;
    if (strncmp(url, "https://", 8) == 0) {
        host = url + 8;
        https = 1;
    } else if (strncmp(url, "http://", 7) == 0) {
        host = url + 7;
    } else {
        return pg_error_set(err, PG_EINVAL,
                            "the API URL '%.200s' must start with https:// (or http:// for a "
                            "server on this machine)",
                            url);
    }
    size_t hl = strcspn(host, "/?#");
    if (hl == 0 || memchr(host, '@', hl))
        return pg_error_set(err, PG_EINVAL, "the API URL '%.200s' has no usable host", url);
    if (!https) {
        static const char *const loopback[] = {"127.0.0.1", "localhost", "[::1]", NULL};
        int ok = 0;
        for (const char *const *l = loopback; *l; l++) {
            size_t n = strlen(*l);
            if (strncmp(host, *l, n) == 0 && (host[n] == ':' || n == hl))
                ok = 1;
        }
        if (!ok)
            return pg_error_set(err, PG_EINVAL,
                                "refusing plain http to '%.*s': the token would cross the "
                                "network unencrypted (use https://)",
                                (int)(hl > 200 ? 200 : hl), host);
    }
    if (strlen(url) >= 400)
        return pg_error_set(err, PG_EINVAL, "the API URL is too long");
    return PG_OK;
}

int
pg_kanban_token_check(const char *token, pg_error *err)
{
    size_t n = token ? strlen(token) : 0;
    if (n == 0)
        return pg_error_set(err, PG_EINVAL, "the token is empty");
    if (n > PG_KANBAN_MAX_TOKEN)
        return pg_error_set(err, PG_EINVAL,
                            "the token is %zu characters long; no GitHub token is longer than "
                            "%d",
                            n, PG_KANBAN_MAX_TOKEN);
    const char *what = NULL;
    char byte[64];
    for (const unsigned char *p = (const unsigned char *)token; *p && !what; p++) {
        if (*p == '\n' || *p == '\r')
            what = "a line break";
        else if (*p == ' ' || *p == '\t')
            what = "a space or a tab";
        else if (*p < 0x20 || *p == 0x7F)
            what = (snprintf(byte, sizeof byte, "a control character (byte 0x%02X)", *p), byte);
        else if (*p >= 0x80)
            what = "a character that is not ASCII";
    }
    if (what)
        return pg_error_set(err, PG_EINVAL,
                            "the token has %s inside it; a GitHub token is one word of letters, "
                            "digits and '_' (give the token alone, on one line)",
                            what);
    return PG_OK;
}

/* An item whose issue would carry the token is refused: posting it would publish the token, and
 * printing the plan would show it. */
static int
roadmap_holds_token(const pg_kanban_roadmap *r, const char *token, pg_error *err)
{
    for (size_t i = 0; token && i < r->n_items; i++) {
        const pg_kanban_item *it = &r->items[i];
        char *body = pgi_kanban_issue_body(it);
        if (!body)
            return pg_error_set(err, PG_ENOMEM, "out of memory");
        int found = strstr(it->title, token) || strstr(body, token);
        free(body);
        for (size_t k = 0; k < it->n_labels; k++)
            found |= strstr(it->labels[k], token) != NULL;
        if (found) {
            pg_error_at(err, r->source, it->line, 0, NULL);
            return pg_error_set(err, PG_EINVAL,
                                "this item holds the API token (in its title, body or labels); "
                                "refusing to send it where others could read it: take the "
                                "token out of the roadmap");
        }
    }
    return PG_OK;
}

/* ------------------------------------------------------------------ HTTP */

static int
header_is(const char *buf, size_t len, const char *name, const char **value, size_t *vlen)
{
    size_t n = strlen(name);
    if (len <= n || strncasecmp(buf, name, n) != 0 || buf[n] != ':')
        return 0;
    const char *v = buf + n + 1;
    size_t vl = len - n - 1;
    while (vl > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        vl--;
    }
    while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
        vl--;
    *value = v;
    *vlen = vl;
    return 1;
}

static long
header_long(const char *v, size_t n)
{
    char tmp[32];
    if (n == 0 || n >= sizeof tmp)
        return -1;
    memcpy(tmp, v, n);
    tmp[n] = '\0';
    char *end;
    long x = strtol(tmp, &end, 10);
    return (*end || x < 0) ? -1 : x;
}

/* The URL of rel="next" in a Link header: <URL>; rel="next", <URL>; rel="last". */
static char *
link_next(const char *v, size_t n)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && v[i] != '<')
            i++;
        size_t u0 = ++i;
        while (i < n && v[i] != '>')
            i++;
        if (i >= n)
            return NULL;
        size_t u1 = i;
        size_t p0 = i + 1;
        while (i < n && v[i] != '<')
            i++;
        /* The parameters of this link run to the next '<'. */
        for (size_t k = p0; k + 3 < i; k++) {
            if (strncasecmp(v + k, "rel=", 4) == 0) {
                const char *r = v + k + 4;
                size_t rn = i - k - 4;
                if ((rn >= 6 && strncmp(r, "\"next\"", 6) == 0) ||
                    (rn >= 4 && strncmp(r, "next", 4) == 0 &&
                     (rn == 4 || r[4] == ';' || r[4] == ',' || r[4] == ' ')))
                    return strndup(v + u0, u1 - u0);
            }
        }
    }
    return NULL;
}

static size_t
on_header(char *buf, size_t size, size_t nitems, void *ud)
{
    gh_resp *r = ud;
    size_t len = size * nitems;
    const char *v;
    size_t vl;
    if (len >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
        /* A new answer starts (after a "100 Continue", say): forget the previous headers. */
        free(r->next);
        r->next = NULL;
        r->rl_remaining = r->rl_reset = r->retry_after = -1;
    } else if (header_is(buf, len, "link", &v, &vl)) {
        free(r->next);
        r->next = link_next(v, vl);
    } else if (header_is(buf, len, "x-ratelimit-remaining", &v, &vl)) {
        r->rl_remaining = header_long(v, vl);
    } else if (header_is(buf, len, "x-ratelimit-reset", &v, &vl)) {
        r->rl_reset = header_long(v, vl);
    } else if (header_is(buf, len, "retry-after", &v, &vl)) {
        r->retry_after = header_long(v, vl);
    }
    return len;
}

static size_t
on_body(char *buf, size_t size, size_t nmemb, void *ud)
{
    gh_resp *r = ud;
    size_t len = size * nmemb;
    if (r->body.len + len > MAX_ANSWER) {
        r->too_big = 1;
        return 0;
    }
    pgi_buf_append(&r->body, buf, len);
    return r->body.failed ? 0 : len;
}

static int
gh_open(gh *g, const pg_kanban_post_options *o, pg_error *err)
{
    memset(g, 0, sizeof *g);
    g->token = o->token;
    size_t al = strlen(o->api_url);
    while (al > 0 && o->api_url[al - 1] == '/')
        al--;
    snprintf(g->api, sizeof g->api, "%.*s", (int)al, o->api_url);
    snprintf(g->repo_path, sizeof g->repo_path, "/repos/%s", o->repo);
    g->curl = curl_easy_init();
    if (!g->curl)
        return pg_error_set(err, PG_ENOMEM, "could not start an HTTP client (libcurl)");
    struct curl_slist *h = NULL, *t;
    static const char *const fixed[] = {"Accept: application/vnd.github+json",
                                        "X-GitHub-Api-Version: 2022-11-28",
                                        "Content-Type: application/json", "Expect:", NULL};
    for (const char *const *f = fixed; *f; f++) {
        if (!(t = curl_slist_append(h, *f)))
            goto nomem;
        h = t;
    }
    if (o->token) {
        char auth[1100];
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", o->token);
        t = curl_slist_append(h, auth);
        memset(auth, 0, sizeof auth);
        if (!t)
            goto nomem;
        h = t;
    }
    g->headers = h;
    CURL *c = g->curl;
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, g->headers);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "plurigrid/" PG_VERSION_STRING " (kanban)");
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, g->errbuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 15L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, o->timeout_s > 0 ? o->timeout_s : 60L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    return PG_OK;
nomem:
    curl_slist_free_all(h);
    return pg_error_set(err, PG_ENOMEM, "out of memory");
}

static void
gh_close(gh *g)
{
    if (g->curl)
        curl_easy_cleanup(g->curl);
    curl_slist_free_all(g->headers);
    g->curl = NULL;
    g->headers = NULL;
}

/* What GitHub said in an error answer: its "message" and the messages of its "errors", with the
 * token hidden (a server may echo what it was sent) and control characters made spaces; cut,
 * with "...", to leave room in the error for what to do about it. */
static void
github_message(const gh *g, const gh_resp *r, char *out, size_t size)
{
    json_error_t je;
    json_t *j = r->body.data ? json_loads(r->body.data, 0, &je) : NULL;
    pgi_buf b = {0};
    const char *m = json_string_value(json_object_get(j, "message"));
    if (m)
        pgi_buf_puts(&b, m);
    json_t *errors = json_object_get(j, "errors");
    size_t i;
    json_t *e;
    json_array_foreach(errors, i, e)
    {
        if (b.len > 4 * size)
            break;
        const char *em = json_string_value(json_object_get(e, "message"));
        const char *code = json_string_value(json_object_get(e, "code"));
        const char *field = json_string_value(json_object_get(e, "field"));
        if (json_is_string(e))
            em = json_string_value(e);
        if (em)
            pgi_buf_printf(&b, "%s%s", b.len ? "; " : "", em);
        else if (code)
            pgi_buf_printf(&b, "%s%s%s%s", b.len ? "; " : "", field ? field : "", field ? " " : "",
                           code);
    }
    json_decref(j);
    char all[1024];
    pgi_kanban_redact(b.failed || !b.data ? "" : b.data, g->token, all, sizeof all);
    pgi_buf_free(&b);
    if (strlen(all) < size) {
        memcpy(out, all, strlen(all) + 1);
        return;
    }
    snprintf(out, size, "%.*s...", (int)(size - 4), all);
    pgi_kanban_utf8_fix(out);
}

/* "in 30 minutes (at 2024-05-01 14:03:00 UTC)" for a moment wait seconds from now. */
static void
when_text(long wait, char *out, size_t size)
{
    if (wait < 0)
        wait = 0;
    char at[64] = "";
    if (wait <= 366L * 24 * 3600) {
        time_t t = time(NULL) + (time_t)wait;
        struct tm tm;
        if (gmtime_r(&t, &tm))
            strftime(at, sizeof at, " (at %Y-%m-%d %H:%M:%S UTC)", &tm);
    }
    if (wait < 120)
        snprintf(out, size, "in %ld second%s%s", wait, wait == 1 ? "" : "s", at);
    else if (wait < 2 * 3600)
        snprintf(out, size, "in %ld minutes%s", (wait + 59) / 60, at);
    else
        snprintf(out, size, "in %ld hours%s", (wait + 3599) / 3600, at);
}

/* Turns a non-2xx answer into an error that says what happened and what to do. */
static int
status_error(const gh *g, const char *method, const gh_resp *r, pg_error *err)
{
    char said[240];
    github_message(g, r, said, sizeof said);
    char what[460];
    if (said[0])
        snprintf(what, sizeof what, "HTTP %ld, \"%s\"", r->status, said);
    else
        snprintf(what, sizeof what, "HTTP %ld", r->status);
    int write = strcmp(method, "GET") != 0;
    char when[120];
    if ((r->status == 403 || r->status == 429) && r->rl_remaining == 0) {
        if (r->rl_reset < 0)
            return pg_error_set(err, PG_ELIMIT,
                                "GitHub's API rate limit is used up (%s, x-ratelimit-remaining: "
                                "0); GitHub did not say when it resets (no x-ratelimit-reset "
                                "header), and the limit is counted per hour: run again in an hour",
                                what);
        long wait = (long)((time_t)r->rl_reset - time(NULL));
        if (wait <= 0)
            return pg_error_set(err, PG_ELIMIT,
                                "GitHub's API rate limit was used up (%s, x-ratelimit-remaining: "
                                "0); it has reset since: run again now",
                                what);
        when_text(wait, when, sizeof when);
        return pg_error_set(err, PG_ELIMIT,
                            "GitHub's API rate limit is used up (%s, x-ratelimit-remaining: 0); "
                            "it resets %s: run again after that",
                            what, when);
    }
    if (r->status == 429 || ((r->status == 403) && r->retry_after >= 0)) {
        if (r->retry_after < 0)
            return pg_error_set(err, PG_ELIMIT,
                                "GitHub is limiting the rate of requests (%s, a secondary rate "
                                "limit); it did not say how long to wait (no retry-after "
                                "header): wait at least a minute, then run again",
                                what);
        when_text(r->retry_after, when, sizeof when);
        return pg_error_set(err, PG_ELIMIT,
                            "GitHub is limiting the rate of requests (%s, a secondary rate "
                            "limit); it asks to retry after %ld seconds: run again %s",
                            what, r->retry_after, when);
    }
    if (r->status == 401)
        return pg_error_set(err, PG_EAUTH,
                            "GitHub did not accept the token (%s); check the file given with "
                            "--token-file or GITHUB_TOKEN",
                            what);
    if (r->status == 403)
        return pg_error_set(err, PG_EAUTH,
                            "GitHub refused the request (%s); the token needs permission to %s "
                            "issues in this repository",
                            what, write ? "write" : "read");
    if (r->status == 404)
        return pg_error_set(err, PG_ENOTFOUND,
                            "not found (%s): the repository %s does not exist, or the token "
                            "cannot see it",
                            what, g->repo_path + 7);
    if (r->status == 410)
        return pg_error_set(err, PG_ENOTFOUND, "issues are turned off in %s (%s)", g->repo_path + 7,
                            what);
    if (r->status == 422 || r->status == 400)
        return pg_error_set(err, PG_EPARSE, "GitHub rejected the request as invalid (%s)", what);
    if (r->status >= 500)
        return pg_error_set(err, PG_ENET, "GitHub failed to answer (%s)%s", what,
                            write ? "; the change may or may not have been made, and running "
                                    "again is safe: issues are matched by title"
                                  : "");
    return pg_error_set(err, PG_ENET, "unexpected answer from GitHub (%s)", what);
}

/* Sends one request; url is a path under the API base ("/repos/...") or a full URL that starts
 * with it. A non-2xx answer is an error (see status_error). */
static int
gh_send(gh *g, const char *method, const char *url, const char *body, gh_resp *r, pg_error *err)
{
    /* Built to its length: a next-page link may be long, and a cut URL is another request. */
    pgi_buf full = {0};
    if (url[0] == '/')
        pgi_buf_puts(&full, g->api);
    pgi_buf_puts(&full, url);
    if (full.failed)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    resp_reset(r);
    CURL *c = g->curl;
    curl_easy_setopt(c, CURLOPT_URL, full.data);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, NULL);
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, strcmp(method, "POST") == 0 ? NULL : method);
    }
    g->errbuf[0] = '\0';
    CURLcode cc = curl_easy_perform(c);
    pgi_buf_free(&full);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    if (cc != CURLE_OK) {
        if (r->too_big)
            return pg_error_set(err, PG_ENET, "GitHub's answer is larger than %u MiB",
                                MAX_ANSWER / (1024u * 1024u));
        char why[CURL_ERROR_SIZE + 16];
        pgi_kanban_redact(g->errbuf[0] ? g->errbuf : curl_easy_strerror(cc), g->token, why,
                          sizeof why);
        const char *maybe = strcmp(method, "GET") != 0
                                ? "; the change may or may not have been made, and running "
                                  "again is safe: issues are matched by title"
                                : "";
        if (r->status <= 0)
            return pg_error_set(err, PG_ENET, "could not reach %s (%s)%s", g->api, why, maybe);
        /* The server answered: say so, and what libcurl's limit on a header line means. */
        int too_large = cc == CURLE_OUT_OF_MEMORY;
#if LIBCURL_VERSION_NUM >= 0x080600
        too_large |= cc == CURLE_TOO_LARGE;
#endif
        return pg_error_set(err, PG_ENET,
                            "%s answered HTTP %ld, but its answer could not be read "
                            "(%s)%s%s",
                            g->api, r->status, why,
                            too_large ? "; libcurl refuses a header line over 100 KiB, such as a "
                                        "next-page link that long"
                                      : "",
                            maybe);
    }
    if (r->status < 200 || r->status > 299)
        return status_error(g, method, r, err);
    return PG_OK;
}

/* ------------------------------------------------------------------ existing issues */

static void
existing_free(existing *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(e[i].title);
        free(e[i].body);
        for (size_t k = 0; k < e[i].n_labels; k++)
            free(e[i].labels[k]);
        free(e[i].labels);
    }
    free(e);
}

/* Copies GitHub's body with "\r\n" turned into "\n" (the web editor sends CRLF). */
static char *
body_copy(const char *s)
{
    char *d = malloc(strlen(s) + 1);
    if (!d)
        return NULL;
    size_t o = 0;
    for (; *s; s++)
        if (!(s[0] == '\r' && s[1] == '\n'))
            d[o++] = *s;
    d[o] = '\0';
    return d;
}

/* Appends the issues of one page (pull requests are left out). */
static int
read_page(const char *text, existing **list, size_t *n, size_t *cap, pg_error *err)
{
    json_error_t je;
    json_t *a = json_loads(text ? text : "", 0, &je);
    int rc = PG_OK;
    if (!json_is_array(a)) {
        rc = pg_error_set(err, PG_ENET, "GitHub's answer is not the list of issues expected (%s)",
                          a ? "not a JSON array" : je.text);
        goto out;
    }
    size_t i;
    json_t *o;
    json_array_foreach(a, i, o)
    {
        if (json_object_get(o, "pull_request"))
            continue;
        json_t *num = json_object_get(o, "number");
        const char *title = json_string_value(json_object_get(o, "title"));
        const char *state = json_string_value(json_object_get(o, "state"));
        json_t *body = json_object_get(o, "body");
        json_t *labels = json_object_get(o, "labels");
        if (!json_is_integer(num) || json_integer_value(num) <= 0 || !title || !state ||
            !(json_is_string(body) || json_is_null(body) || !body) ||
            !(json_is_array(labels) || !labels)) {
            rc = pg_error_set(err, PG_ENET,
                              "GitHub's list of issues has an entry (%zu) without a number, "
                              "title or state",
                              i);
            goto out;
        }
        if (*n == *cap) {
            size_t nc = *cap ? *cap * 2 : 64;
            existing *l = realloc(*list, nc * sizeof *l);
            if (!l)
                goto nomem;
            *list = l;
            *cap = nc;
        }
        existing *e = &(*list)[*n];
        memset(e, 0, sizeof *e);
        (*n)++;
        e->number = (long)json_integer_value(num);
        e->closed = strcmp(state, "closed") == 0;
        e->title = pgi_strdup(title);
        e->body = body_copy(json_is_string(body) ? json_string_value(body) : "");
        if (!e->title || !e->body)
            goto nomem;
        size_t k;
        json_t *l;
        json_array_foreach(labels, k, l)
        {
            const char *name = json_is_string(l) ? json_string_value(l)
                                                 : json_string_value(json_object_get(l, "name"));
            if (!name)
                continue;
            char **nl = realloc(e->labels, (e->n_labels + 1) * sizeof *nl);
            if (!nl)
                goto nomem;
            e->labels = nl;
            if (!(e->labels[e->n_labels] = pgi_strdup(name)))
                goto nomem;
            e->n_labels++;
        }
    }
    goto out;
nomem:
    rc = pg_error_set(err, PG_ENOMEM, "out of memory while reading GitHub's list of issues");
out:
    json_decref(a);
    return rc;
}

/* url as an error can show it: a path under the API when it is one, the token hidden, at most
 * 200 characters (with "..." when cut). */
static void
url_shown(const gh *g, const char *url, char *out, size_t size)
{
    size_t al = strlen(g->api);
    if (url[0] != '/' && strncmp(url, g->api, al) == 0)
        url += al;
    char tmp[220];
    pgi_kanban_redact(url, g->token, tmp, sizeof tmp);
    snprintf(out, size, "%.200s%s", tmp, strlen(tmp) > 200 ? "..." : "");
}

static int
list_issues(gh *g, existing **list, size_t *n, pg_error *err)
{
    size_t cap = 0;
    gh_resp r = {0};
    char first[400];
    snprintf(first, sizeof first, "%s/issues?state=all&per_page=%d", g->repo_path, PER_PAGE);
    char *url = pgi_strdup(first);
    int rc = url ? PG_OK : pg_error_set(err, PG_ENOMEM, "out of memory");
    for (int page = 1; rc == PG_OK && url; page++) {
        if (page > MAX_PAGES) {
            /* Not a rate limit, and running again would stop at the same place. */
            rc = pg_error_set(err, PG_EUNSUPPORTED,
                              "the repository %s has more than %d pages of issues (%d issues a "
                              "page), or GitHub's next-page links go round in a circle; "
                              "plurigrid kanban reads at most %d issues, so it stopped listing "
                              "there, before writing anything",
                              g->repo_path + 7, MAX_PAGES, PER_PAGE, MAX_PAGES * PER_PAGE);
            break;
        }
        rc = gh_send(g, "GET", url, NULL, &r, err);
        if (rc == PG_OK)
            rc = read_page(r.body.data, list, n, &cap, err);
        if (rc != PG_OK) {
            char shown_url[220], where[260];
            url_shown(g, url, shown_url, sizeof shown_url);
            snprintf(where, sizeof where, "GET %s (page %d)", shown_url, page);
            pg_error_at(err, NULL, 0, 0, where);
            break;
        }
        free(url);
        url = NULL;
        if (r.next) {
            /* Follow the next page only within the API we were given: the token goes along. */
            size_t al = strlen(g->api);
            if (strncmp(r.next, g->api, al) != 0 || (r.next[al] != '/' && r.next[al] != '?')) {
                char shown_url[220];
                url_shown(g, r.next, shown_url, sizeof shown_url);
                rc = pg_error_set(err, PG_ENET,
                                  "GitHub's next-page link (%s) points outside %s; not "
                                  "following it, since the token would go along",
                                  shown_url, g->api);
                break;
            }
            url = r.next;
            r.next = NULL;
        }
    }
    free(url);
    resp_reset(&r);
    return rc;
}

/* The issue with this title; the oldest when several have it. */
static const existing *
find_title(const existing *list, size_t n, const char *title)
{
    const existing *best = NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i].title, title) == 0 && (!best || list[i].number < best->number))
            best = &list[i];
    return best;
}

/* Labels this roadmap decides: "task", "estimate:*", "people:*" and its section labels. The
 * others an issue carries (added by people on GitHub) are kept when it is updated. */
static int
managed(const pg_kanban_roadmap *r, const char *label)
{
    if (strcmp(label, "task") == 0 || strncmp(label, "estimate:", 9) == 0 ||
        strncmp(label, "people:", 7) == 0)
        return 1;
    for (size_t i = 0; i < r->n_items; i++)
        if (r->items[i].kind == PG_KANBAN_CHECKLIST && r->items[i].n_labels &&
            strcmp(r->items[i].labels[0], label) == 0)
            return 1;
    return 0;
}

static int
has_label(char *const *labels, size_t n, const char *l)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(labels[i], l) == 0)
            return 1;
    return 0;
}

/* ------------------------------------------------------------------ the report */

void
pg_kanban_report_init(pg_kanban_report *rep)
{
    if (rep)
        memset(rep, 0, sizeof *rep);
}

void
pg_kanban_report_clear(pg_kanban_report *rep)
{
    if (!rep)
        return;
    for (size_t i = 0; i < rep->n_requests; i++) {
        free(rep->requests[i].method);
        free(rep->requests[i].path);
        free(rep->requests[i].body);
    }
    free(rep->requests);
    free(rep->outcome);
    free(rep->number);
    memset(rep, 0, sizeof *rep);
}

/* Records a write request before it is sent; returns its index or -1. */
static long
record(pg_kanban_report *rep, const char *method, const char *path, const char *body, size_t item)
{
    pg_kanban_request *q = realloc(rep->requests, (rep->n_requests + 1) * sizeof *q);
    if (!q)
        return -1;
    rep->requests = q;
    pg_kanban_request *e = &q[rep->n_requests];
    e->method = pgi_strdup(method);
    e->path = pgi_strdup(path);
    e->body = pgi_strdup(body);
    e->item = item;
    e->status = 0;
    if (!e->method || !e->path || !e->body) {
        free(e->method);
        free(e->path);
        free(e->body);
        return -1;
    }
    return (long)rep->n_requests++;
}

/* ------------------------------------------------------------------ posting */

typedef struct run {
    const pg_kanban_roadmap *r;
    const pg_kanban_post_options *o;
    pg_kanban_report *rep;
    gh g;
    gh_resp resp;
} run;

/* Records, and unless this is a dry run sends, one write for item i. */
static int
write_request(run *x, size_t i, const char *method, const char *path, json_t *payload,
              pg_error *err)
{
    char *body = pgi_kanban_dumps(payload, JSON_COMPACT);
    if (!body)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    long q = record(x->rep, method, path, body, i);
    int rc = PG_OK;
    if (q < 0)
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
    else if (!x->o->dry_run) {
        rc = gh_send(&x->g, method, path, body, &x->resp, err);
        x->rep->requests[q].status = x->resp.status;
    }
    free(body);
    if (rc != PG_OK) {
        char where[300];
        snprintf(where, sizeof where, "%s %.200s", method, path);
        pg_error_at(err, x->r->source, x->r->items[i].line, 0, where);
    }
    return rc;
}

static int
create_issue(run *x, size_t i, json_t *want, pg_error *err)
{
    const pg_kanban_item *it = &x->r->items[i];
    char path[400];
    snprintf(path, sizeof path, "%s/issues", x->g.repo_path);
    json_t *post = json_deep_copy(want);
    if (!post)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    /* "Create an issue" takes no state: a closed item is created, then closed. */
    json_object_del(post, "state");
    json_object_del(post, "state_reason");
    int rc = write_request(x, i, "POST", path, post, err);
    json_decref(post);
    if (rc != PG_OK) {
        x->rep->outcome[i] = PG_KANBAN_FAILED;
        return rc;
    }
    long number = 0;
    if (!x->o->dry_run) {
        json_error_t je;
        json_t *a = json_loads(x->resp.body.data ? x->resp.body.data : "", 0, &je);
        json_t *num = json_object_get(a, "number");
        number = json_is_integer(num) ? (long)json_integer_value(num) : 0;
        json_decref(a);
    }
    x->rep->number[i] = number;
    x->rep->outcome[i] = it->closed ? PG_KANBAN_CREATED_OPEN : PG_KANBAN_CREATED;
    if (!x->o->dry_run && number <= 0) {
        pg_error_at(err, x->r->source, it->line, 0, path);
        return pg_error_set(err, PG_ENET,
                            "GitHub created the issue but its answer carries no issue number");
    }
    if (!it->closed)
        return PG_OK;
    if (x->o->dry_run)
        snprintf(path, sizeof path, "%s/issues/{new}", x->g.repo_path);
    else
        snprintf(path, sizeof path, "%s/issues/%ld", x->g.repo_path, number);
    json_t *close = json_pack("{s:s, s:s}", "state", "closed", "state_reason", "completed");
    if (!close)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    rc = write_request(x, i, "PATCH", path, close, err);
    json_decref(close);
    if (rc == PG_OK)
        x->rep->outcome[i] = PG_KANBAN_CREATED;
    return rc;
}

static int
update_issue(run *x, size_t i, const existing *e, json_t *want, pg_error *err)
{
    const pg_kanban_item *it = &x->r->items[i];
    x->rep->number[i] = e->number;
    const char *body = json_string_value(json_object_get(want, "body"));
    json_t *labels = json_array();
    if (!labels)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    for (size_t k = 0; k < it->n_labels; k++)
        json_array_append_new(labels, json_string(it->labels[k]));
    size_t n_wanted = it->n_labels;
    for (size_t k = 0; k < e->n_labels; k++)
        if (!managed(x->r, e->labels[k]) && !has_label(it->labels, it->n_labels, e->labels[k])) {
            json_array_append_new(labels, json_string(e->labels[k]));
            n_wanted++;
        }
    int same_labels = n_wanted == e->n_labels && json_array_size(labels) == n_wanted;
    for (size_t k = 0; same_labels && k < it->n_labels; k++)
        same_labels = has_label(e->labels, e->n_labels, it->labels[k]);
    if (same_labels && strcmp(body, e->body) == 0 && (e->closed != 0) == it->closed) {
        json_decref(labels);
        x->rep->outcome[i] = PG_KANBAN_UNCHANGED;
        return PG_OK;
    }
    json_t *patch = json_object();
    int bad = !patch;
    if (!bad) {
        bad |= json_object_set_new(patch, "body", json_string(body)) != 0;
        bad |= json_object_set(patch, "labels", labels) != 0;
        bad |=
            json_object_set_new(patch, "state", json_string(it->closed ? "closed" : "open")) != 0;
        if (it->closed && !e->closed)
            bad |= json_object_set_new(patch, "state_reason", json_string("completed")) != 0;
        if (!it->closed && e->closed)
            bad |= json_object_set_new(patch, "state_reason", json_string("reopened")) != 0;
    }
    json_decref(labels);
    int rc = bad ? pg_error_set(err, PG_ENOMEM, "out of memory") : PG_OK;
    if (rc == PG_OK) {
        char path[400];
        snprintf(path, sizeof path, "%s/issues/%ld", x->g.repo_path, e->number);
        rc = write_request(x, i, "PATCH", path, patch, err);
    }
    json_decref(patch);
    x->rep->outcome[i] = rc == PG_OK ? PG_KANBAN_UPDATED : PG_KANBAN_FAILED;
    return rc;
}

static int
post(const pg_kanban_roadmap *r, const pg_kanban_post_options *o, pg_kanban_report *rep,
     pg_error *err)
{
    pg_kanban_report_clear(rep);
    rep->dry_run = o->dry_run;
    int rc = pg_kanban_repo_check(o->repo, err);
    if (rc != PG_OK)
        return rc;
    const char *api = o->api_url && o->api_url[0] ? o->api_url : DEFAULT_API;
    rc = api_url_ok(api, err);
    if (rc != PG_OK)
        return rc;
    if (o->token && (rc = pg_kanban_token_check(o->token, err)) != PG_OK)
        return rc;
    if (!o->token && !o->dry_run)
        return pg_error_set(err, PG_EINVAL, "posting needs a GitHub token");
    rc = pg_kanban_check(r, err);
    if (rc == PG_OK)
        rc = roadmap_holds_token(r, o->token, err);
    if (rc != PG_OK)
        return rc;
    rep->n_items = r->n_items;
    rep->outcome = calloc(r->n_items + 1, sizeof *rep->outcome);
    rep->number = calloc(r->n_items + 1, sizeof *rep->number);
    if (!rep->outcome || !rep->number)
        return pg_error_set(err, PG_ENOMEM, "out of memory");

    pg_kanban_post_options oo = *o;
    oo.api_url = api;
    run x = {.r = r, .o = &oo, .rep = rep};
    existing *list = NULL;
    size_t n_list = 0;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return pg_error_set(err, PG_ENOMEM, "could not start libcurl");
    rc = gh_open(&x.g, &oo, err);
    if (rc != PG_OK)
        goto out;
    rc = list_issues(&x.g, &list, &n_list, err);
    if (rc != PG_OK)
        goto out;
    rep->n_existing = n_list;
    for (size_t i = 0; i < r->n_items; i++) {
        json_t *want = pgi_kanban_payload(&r->items[i]);
        if (!want) {
            rc = pg_error_set(err, PG_ENOMEM, "out of memory");
            goto out;
        }
        const existing *e = find_title(list, n_list, r->items[i].title);
        rc = e ? update_issue(&x, i, e, want, err) : create_issue(&x, i, want, err);
        json_decref(want);
        if (rc != PG_OK)
            goto out;
    }
out:
    existing_free(list, n_list);
    resp_reset(&x.resp);
    gh_close(&x.g);
    curl_global_cleanup();
    return rc;
}

int
pg_kanban_post(const pg_kanban_roadmap *r, const pg_kanban_post_options *o, pg_kanban_report *rep,
               pg_error *err)
{
    if (!r || !o || !rep)
        return pg_error_set(err, PG_EINVAL, "pg_kanban_post: missing argument");
    int rc = post(r, o, rep, err);
    /* Last, whatever the failure: the pieces a server sent were hidden as they came in, and
     * this pass also covers what the caller gave (an API URL that holds the token, say). */
    if (rc != PG_OK)
        redact_error(err, o->token);
    return rc;
}
