/* plurigrid kanban --post against a fake GitHub started here on a free loopback port. The fake
 * implements the three endpoints the command uses (list issues with Link-header pagination,
 * create an issue, update an issue) and records every request. Checked: the expected requests
 * are made with the token in the header; a second run creates and changes nothing; a rate limit
 * part way reports exactly what was written and a rerun finishes without duplicates; 401, 403
 * rate limit, 429 and 500 answers each give a clear message and a non-zero exit. */
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ minimal JSON scanning */

/* Length of the JSON value at s (string, array, object or literal). */
static size_t
skip_value(const char *s)
{
    size_t i = 0;
    if (s[0] == '"') {
        for (i = 1; s[i] && s[i] != '"'; i++)
            if (s[i] == '\\' && s[i + 1])
                i++;
        return s[i] ? i + 1 : i;
    }
    if (s[0] == '[' || s[0] == '{') {
        int depth = 0;
        for (i = 0; s[i]; i++) {
            if (s[i] == '"') {
                i += skip_value(s + i) - 1;
            } else if (s[i] == '[' || s[i] == '{') {
                depth++;
            } else if (s[i] == ']' || s[i] == '}') {
                if (--depth == 0)
                    return i + 1;
            }
        }
        return i;
    }
    while (s[i] && s[i] != ',' && s[i] != '}' && s[i] != ']')
        i++;
    return i;
}

/* The raw text of top-level key's value in a compact JSON object, or NULL. */
static char *
json_field(const char *obj, const char *key)
{
    if (!obj || obj[0] != '{')
        return NULL;
    const char *s = obj + 1;
    size_t kl = strlen(key);
    while (*s == '"') {
        size_t k = skip_value(s);
        int match = k == kl + 2 && strncmp(s + 1, key, kl) == 0;
        s += k;
        if (*s != ':')
            return NULL;
        s++;
        size_t v = skip_value(s);
        if (match)
            return strndup(s, v);
        s += v;
        if (*s != ',')
            return NULL;
        s++;
    }
    return NULL;
}

/* ------------------------------------------------------------------ the fake GitHub */

typedef struct issue {
    long number;
    char *title;  /* raw JSON string */
    char *body;   /* raw JSON string or null */
    char *labels; /* raw JSON array of strings */
    int closed;
    int is_pr;
} issue;

typedef struct request {
    char method[16];
    char target[512];
    char auth[128];
    char *body;
} request;

enum { FAIL_NONE, FAIL_STATUS, FAIL_RATE, FAIL_RETRY, FAIL_BAD_LINK };

typedef struct server {
    int fd;
    int port;
    pthread_t thread;
    volatile int stop;
    pthread_mutex_t mu;
    int fail_kind;    /* FAIL_* */
    int fail_status;  /* with FAIL_STATUS */
    size_t fail_from; /* 1-based request number from which requests fail */
    size_t page_size;
    issue issues[256];
    size_t n_issues;
    long next_number;
    request reqs[512];
    size_t n_reqs;
} server;

static void
add_issue(server *s, const char *title, const char *body, const char *labels, int closed, int is_pr)
{
    issue *i = &s->issues[s->n_issues++];
    i->number = s->next_number++;
    i->title = strdup(title);
    i->body = strdup(body);
    i->labels = strdup(labels);
    i->closed = closed;
    i->is_pr = is_pr;
}

/* A growable string for answers. */
typedef struct sbuf {
    char *p;
    size_t n, cap;
} sbuf;

static void sb_add(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
sb_add(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (b->n + (size_t)n + 1 > b->cap) {
        b->cap = (b->n + (size_t)n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    va_start(ap, fmt);
    vsnprintf(b->p + b->n, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)n;
}

/* GitHub lists labels as objects: ["a","b"] -> [{"name":"a"},{"name":"b"}]. */
static void
labels_as_objects(sbuf *b, const char *raw)
{
    sb_add(b, "[");
    const char *s = raw + 1;
    int first = 1;
    while (*s == '"') {
        size_t k = skip_value(s);
        sb_add(b, "%s{\"name\":%.*s}", first ? "" : ",", (int)k, s);
        first = 0;
        s += k;
        if (*s == ',')
            s++;
    }
    sb_add(b, "]");
}

static void
issue_json(sbuf *b, const issue *i)
{
    sb_add(b, "{\"number\":%ld,\"title\":%s,\"state\":\"%s\",\"body\":%s,\"labels\":", i->number,
           i->title, i->closed ? "closed" : "open", i->body);
    labels_as_objects(b, i->labels);
    if (i->is_pr)
        sb_add(b, ",\"pull_request\":{\"url\":\"x\"}");
    sb_add(b, "}");
}

static const char *
reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    default: return "Status";
    }
}

/* Answers one request (called with the lock held). */
static int
route(server *s, const request *q, sbuf *headers, sbuf *body)
{
    const char *base = "/repos/o/r/issues";
    size_t bl = strlen(base);
    if (s->fail_kind != FAIL_NONE && s->n_reqs >= s->fail_from) {
        switch (s->fail_kind) {
        case FAIL_STATUS:
            sb_add(body, "{\"message\":\"%s\",\"documentation_url\":\"https://docs.github.com\"}",
                   s->fail_status == 401 ? "Bad credentials" : "Server Error");
            return s->fail_status;
        case FAIL_RATE:
            sb_add(headers,
                   "x-ratelimit-limit: 5000\r\nx-ratelimit-remaining: 0\r\n"
                   "x-ratelimit-reset: %ld\r\n",
                   (long)time(NULL) + 1800);
            sb_add(body, "{\"message\":\"API rate limit exceeded for user ID 1.\"}");
            return 403;
        case FAIL_RETRY:
            sb_add(headers, "retry-after: 60\r\n");
            sb_add(body, "{\"message\":\"You have exceeded a secondary rate limit.\"}");
            return 429;
        default: break;
        }
    }
    if (strcmp(q->method, "GET") == 0 && strncmp(q->target, base, bl) == 0 &&
        q->target[bl] == '?') {
        const char *pg = strstr(q->target, "page=");
        while (pg && pg > q->target && pg[-1] == '_') /* skip "per_page=" */
            pg = strstr(pg + 1, "page=");
        size_t page = pg ? (size_t)atol(pg + 5) : 1;
        if (!strstr(q->target, "state=all")) {
            sb_add(body, "{\"message\":\"test expects state=all\"}");
            return 400;
        }
        /* Newest first, as GitHub lists them. */
        size_t from = (page - 1) * s->page_size;
        sb_add(body, "[");
        for (size_t k = 0; k < s->page_size && from + k < s->n_issues; k++) {
            if (k)
                sb_add(body, ",");
            issue_json(body, &s->issues[s->n_issues - 1 - (from + k)]);
        }
        sb_add(body, "]");
        size_t last = (s->n_issues + s->page_size - 1) / s->page_size;
        if (s->fail_kind == FAIL_BAD_LINK)
            sb_add(headers, "Link: <http://elsewhere.example/repos/o/r/issues?page=2>; "
                            "rel=\"next\"\r\n");
        else if (page < last)
            sb_add(headers,
                   "Link: <http://127.0.0.1:%d%s?state=all&per_page=100&page=%zu>; rel=\"next\", "
                   "<http://127.0.0.1:%d%s?state=all&per_page=100&page=%zu>; rel=\"last\"\r\n",
                   s->port, base, page + 1, s->port, base, last);
        return 200;
    }
    if (strcmp(q->method, "POST") == 0 && strcmp(q->target, base) == 0) {
        char *title = json_field(q->body, "title");
        char *b = json_field(q->body, "body");
        char *labels = json_field(q->body, "labels");
        char *state = json_field(q->body, "state");
        if (!title || state) { /* "create an issue" takes no state */
            free(title);
            free(b);
            free(labels);
            free(state);
            sb_add(body, "{\"message\":\"Invalid request.\"}");
            return 422;
        }
        add_issue(s, title, b ? b : "null", labels ? labels : "[]", 0, 0);
        free(title);
        free(b);
        free(labels);
        issue_json(body, &s->issues[s->n_issues - 1]);
        return 201;
    }
    if (strcmp(q->method, "PATCH") == 0 && strncmp(q->target, base, bl) == 0 &&
        q->target[bl] == '/') {
        long number = atol(q->target + bl + 1);
        for (size_t k = 0; k < s->n_issues; k++) {
            issue *i = &s->issues[k];
            if (i->number != number || i->is_pr)
                continue;
            char *v;
            if ((v = json_field(q->body, "title"))) {
                free(i->title);
                i->title = v;
            }
            if ((v = json_field(q->body, "body"))) {
                free(i->body);
                i->body = v;
            }
            if ((v = json_field(q->body, "labels"))) {
                free(i->labels);
                i->labels = v;
            }
            if ((v = json_field(q->body, "state"))) {
                i->closed = strcmp(v, "\"closed\"") == 0;
                free(v);
            }
            issue_json(body, i);
            return 200;
        }
    }
    sb_add(body, "{\"message\":\"Not Found\"}");
    return 404;
}

static void
serve_one(server *s, int c)
{
    struct timeval tv = {5, 0};
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    if (!buf)
        return;
    char *end = NULL;
    while (!end) {
        if (n == cap) {
            if (cap > (8u << 20))
                goto out;
            cap *= 2;
            char *nb = realloc(buf, cap + 1);
            if (!nb)
                goto out;
            buf = nb;
        }
        ssize_t r = read(c, buf + n, cap - n);
        if (r <= 0)
            goto out;
        n += (size_t)r;
        buf[n] = '\0';
        end = strstr(buf, "\r\n\r\n");
    }
    size_t head = (size_t)(end - buf) + 4;
    size_t clen = 0;
    for (char *h = strstr(buf, "\r\n"); h && h < end; h = strstr(h + 2, "\r\n"))
        if (strncasecmp(h + 2, "Content-Length:", 15) == 0)
            clen = (size_t)atol(h + 17);
    while (n < head + clen) {
        if (n == cap) {
            cap = head + clen;
            char *nb = realloc(buf, cap + 1);
            if (!nb)
                goto out;
            buf = nb;
        }
        ssize_t r = read(c, buf + n, cap - n);
        if (r <= 0)
            goto out;
        n += (size_t)r;
    }
    buf[head + clen] = '\0';
    request q = {0};
    sscanf(buf, "%15s %511s", q.method, q.target);
    for (char *h = strstr(buf, "\r\n"); h && h < end; h = strstr(h + 2, "\r\n"))
        if (strncasecmp(h + 2, "Authorization:", 14) == 0)
            sscanf(h + 16, " %127[^\r\n]", q.auth);
    q.body = strdup(buf + head);

    sbuf headers = {0}, body = {0};
    pthread_mutex_lock(&s->mu);
    if (s->n_reqs < 512)
        s->reqs[s->n_reqs++] = q;
    int status = route(s, &q, &headers, &body);
    pthread_mutex_unlock(&s->mu);
    sbuf out = {0};
    sb_add(&out,
           "HTTP/1.1 %d %s\r\nContent-Type: application/json; charset=utf-8\r\n"
           "Content-Length: %zu\r\nConnection: close\r\n%s\r\n%s",
           status, reason(status), body.n, headers.p ? headers.p : "", body.p ? body.p : "");
    for (size_t w = 0; w < out.n;) {
        ssize_t r = write(c, out.p + w, out.n - w);
        if (r <= 0)
            break;
        w += (size_t)r;
    }
    free(headers.p);
    free(body.p);
    free(out.p);
out:
    free(buf);
}

static void *
serve(void *arg)
{
    server *s = arg;
    while (!s->stop) {
        struct pollfd pfd = {s->fd, POLLIN, 0};
        if (poll(&pfd, 1, 50) <= 0)
            continue;
        int c = accept(s->fd, NULL, NULL);
        if (c < 0)
            continue;
        fcntl(c, F_SETFD, FD_CLOEXEC);
        serve_one(s, c);
        close(c);
    }
    return NULL;
}

static server *
server_start(void)
{
    server *s = calloc(1, sizeof *s);
    assert_non_null(s);
    s->next_number = 1;
    s->page_size = 2;
    pthread_mutex_init(&s->mu, NULL);
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(s->fd >= 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0; /* a free port */
    assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s->fd, 16), 0);
    socklen_t al = sizeof a;
    assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &al), 0);
    s->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
    return s;
}

static void
server_stop(server *s)
{
    s->stop = 1;
    pthread_join(s->thread, NULL);
    close(s->fd);
    for (size_t i = 0; i < s->n_issues; i++) {
        free(s->issues[i].title);
        free(s->issues[i].body);
        free(s->issues[i].labels);
    }
    for (size_t i = 0; i < s->n_reqs; i++)
        free(s->reqs[i].body);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static void
server_forget_requests(server *s)
{
    for (size_t i = 0; i < s->n_reqs; i++)
        free(s->reqs[i].body);
    s->n_reqs = 0;
}

static size_t
count_method(const server *s, const char *method)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n_reqs; i++)
        n += strcmp(s->reqs[i].method, method) == 0;
    return n;
}

static const issue *
find_issue(const server *s, const char *raw_title)
{
    const issue *found = NULL;
    for (size_t i = 0; i < s->n_issues; i++)
        if (!s->issues[i].is_pr && strcmp(s->issues[i].title, raw_title) == 0) {
            assert_null(found); /* never two issues with one title */
            found = &s->issues[i];
        }
    return found;
}

/* The repository as the tests find it: an issue titled like a done item (with a label added by
 * someone on GitHub), an unrelated issue, and a pull request titled like another item. */
static server *
seeded_server(void)
{
    server *s = server_start();
    add_issue(s, "\"Develop Plurigrid Protocol\"", "\"old text\"", "[\"done\",\"keep-me\"]", 0, 0);
    add_issue(s, "\"Unrelated issue\"", "null", "[\"bug\"]", 0, 0);
    add_issue(s, "\"Release Laura v0 Alpha\"", "\"a pull request\"", "[]", 0, 1);
    return s;
}

/* ------------------------------------------------------------------ running the command */

typedef struct result {
    int status;
    char *out, *err;
} result;

static const char *
token_file(void)
{
    static char path[4200];
    snprintf(path, sizeof path, "%s/token", pgt_tmpdir());
    pgt_write(path, "sekrit-token\n");
    return path;
}

static result
run_post3(const server *s, const char *extra1, const char *extra2, const char *extra3)
{
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", s->port);
    const char *args[16] = {
        "kanban", pgt_source_path("examples/roadmap.md"), "--post", "--repo", "o/r", "--api-url",
        url};
    size_t n = 7;
    if (extra1)
        args[n++] = extra1;
    if (extra2)
        args[n++] = extra2;
    if (extra3)
        args[n++] = extra3;
    args[n] = NULL;
    result r;
    r.status = pgt_run_cli(args, NULL, &r.out, &r.err);
    return r;
}

static result
run_post(const server *s, const char *extra1, const char *extra2)
{
    return run_post3(s, extra1, extra2, NULL);
}

static void
result_free(result *r)
{
    free(r->out);
    free(r->err);
}

static void
assert_contains(const char *hay, const char *needle)
{
    if (!strstr(hay, needle)) {
        print_error("expected to find \"%s\" in:\n%s\n", needle, hay);
        fail();
    }
}

/* ------------------------------------------------------------------ tests */

static void
test_post_then_post_again(void **state)
{
    (void)state;
    server *s = seeded_server();
    result r = run_post(s, "--token-file", token_file());
    if (r.status != 0)
        print_error("stderr: %s\n", r.err);
    assert_int_equal(r.status, 0);

    /* Listing: two pages of two (the pull request is on page 2), following the Link header. */
    assert_string_equal(s->reqs[0].method, "GET");
    assert_string_equal(s->reqs[0].target, "/repos/o/r/issues?state=all&per_page=100");
    assert_string_equal(s->reqs[1].target, "/repos/o/r/issues?state=all&per_page=100&page=2");
    assert_int_equal(count_method(s, "GET"), 2);
    /* 34 items are new; the 7 other done ones are closed after creation; one is updated. */
    assert_int_equal(count_method(s, "POST"), 34);
    assert_int_equal(count_method(s, "PATCH"), 7 + 1);
    assert_int_equal(s->n_reqs, 2 + 34 + 8);
    for (size_t i = 0; i < s->n_reqs; i++)
        assert_string_equal(s->reqs[i].auth, "Bearer sekrit-token");

    /* The first item: created (the pull request with its title does not count), then closed. */
    assert_string_equal(s->reqs[2].method, "POST");
    assert_string_equal(s->reqs[2].target, "/repos/o/r/issues");
    assert_string_equal(s->reqs[2].body, "{\"title\":\"Release Laura v0 Alpha\",\"body\":"
                                         "\"Roadmap section: Done\",\"labels\":[\"done\"]}");
    assert_string_equal(s->reqs[3].method, "PATCH");
    assert_string_equal(s->reqs[3].target, "/repos/o/r/issues/4");
    assert_string_equal(s->reqs[3].body, "{\"state\":\"closed\",\"state_reason\":\"completed\"}");
    /* The second: its issue exists, so it is updated, keeping the label added on GitHub. */
    assert_string_equal(s->reqs[4].method, "PATCH");
    assert_string_equal(s->reqs[4].target, "/repos/o/r/issues/1");
    assert_string_equal(s->reqs[4].body,
                        "{\"body\":\"Roadmap section: Done\",\"labels\":[\"done\",\"keep-me\"],"
                        "\"state\":\"closed\",\"state_reason\":\"completed\"}");
    /* A task, with its estimate as labels. */
    int seen_task = 0;
    for (size_t i = 0; i < s->n_reqs; i++)
        if (s->reqs[i].body && strstr(s->reqs[i].body, "\"Prototype development\"")) {
            assert_string_equal(s->reqs[i].body,
                                "{\"title\":\"Prototype development\",\"body\":\"- Design the "
                                "user interface for the app (mobile/desktop)\\n- Implement the "
                                "backend infrastructure and functionality\\n- Integrate "
                                "multilingual support\\n- Perform testing and iterate based on "
                                "feedback\\n- Involve the broader ecosystem of developers for "
                                "support, bug fixes, and improvements\\n\\nEstimate: 6 people, "
                                "180 hours\\nRoadmap section: Week of April 3rd - April 9th "
                                "Roadmap\",\"labels\":[\"task\",\"estimate:180h\","
                                "\"people:6\"]}");
            seen_task++;
        }
    assert_int_equal(seen_task, 1);

    /* What GitHub now holds: 3 + 34 entries, one issue per title, done ones closed. */
    assert_int_equal(s->n_issues, 37);
    const issue *i = find_issue(s, "\"Develop Plurigrid Protocol\"");
    assert_non_null(i);
    assert_true(i->closed);
    i = find_issue(s, "\"Release Laura v0 Alpha\"");
    assert_non_null(i);
    assert_true(i->closed);
    assert_int_equal(i->number, 4);
    i = find_issue(s, "\"Organize a meeting with the slide artisan Pim\"");
    assert_non_null(i);
    assert_false(i->closed);
    assert_string_equal(i->labels, "[\"next\"]");
    size_t closed = 0;
    for (size_t k = 0; k < s->n_issues; k++)
        closed += s->issues[k].closed;
    assert_int_equal(closed, 8);
    assert_contains(r.out, "created      #4     Release Laura v0 Alpha");
    assert_contains(r.out, "updated      #1     Develop Plurigrid Protocol");
    assert_contains(r.err, "34 created, 1 updated, 0 unchanged");
    result_free(&r);

    /* Again, with the token from GITHUB_TOKEN: 19 pages listed, nothing created or changed. */
    server_forget_requests(s);
    setenv("GITHUB_TOKEN", "env-token", 1);
    r = run_post(s, NULL, NULL);
    unsetenv("GITHUB_TOKEN");
    assert_int_equal(r.status, 0);
    assert_int_equal(count_method(s, "GET"), 19);
    assert_int_equal(count_method(s, "POST"), 0);
    assert_int_equal(count_method(s, "PATCH"), 0);
    assert_int_equal(s->n_issues, 37);
    assert_string_equal(s->reqs[0].auth, "Bearer env-token");
    assert_contains(r.err, "0 created, 0 updated, 35 unchanged");
    result_free(&r);

    /* Someone reopened a done issue and relabelled a task on GitHub: a run puts them back. */
    for (size_t k = 0; k < s->n_issues; k++) {
        if (strcmp(s->issues[k].title, "\"Release Laura v0 Alpha\"") == 0 && !s->issues[k].is_pr)
            s->issues[k].closed = 0;
        if (strcmp(s->issues[k].title, "\"Prototype development\"") == 0) {
            free(s->issues[k].labels);
            s->issues[k].labels = strdup("[\"task\",\"estimate:100h\",\"people:6\",\"ux\"]");
        }
    }
    server_forget_requests(s);
    r = run_post(s, "--token-file", token_file());
    assert_int_equal(r.status, 0);
    assert_int_equal(count_method(s, "POST"), 0);
    assert_int_equal(count_method(s, "PATCH"), 2);
    i = find_issue(s, "\"Prototype development\"");
    assert_string_equal(i->labels, "[\"task\",\"estimate:180h\",\"people:6\",\"ux\"]");
    assert_true(find_issue(s, "\"Release Laura v0 Alpha\"")->closed);
    result_free(&r);
    server_stop(s);
}

static void
test_dry_run_sends_nothing(void **state)
{
    (void)state;
    server *s = seeded_server();
    unsetenv("GITHUB_TOKEN");
    result r = run_post(s, "--dry-run", NULL); /* no token: a dry run lists anonymously */
    assert_int_equal(r.status, 0);
    assert_int_equal(count_method(s, "GET"), 2);
    assert_int_equal(s->n_reqs, 2);
    assert_string_equal(s->reqs[0].auth, "");
    assert_int_equal(s->n_issues, 3);
    assert_contains(r.out, "would create");
    assert_contains(r.out, "would update #1     Develop Plurigrid Protocol");
    assert_contains(r.out, "POST /repos/o/r/issues\n{\"title\":\"Release Laura v0 Alpha\"");
    assert_contains(r.out, "PATCH /repos/o/r/issues/{new}\n{\"state\":\"closed\"");
    assert_contains(r.err, "dry run: 34 to create, 1 to update, 0 unchanged");
    result_free(&r);

    /* --json gives the same plan as a document. */
    r = run_post(s, "--dry-run", "--json");
    assert_int_equal(r.status, 0);
    assert_contains(r.out, "\"format\": \"plurigrid-kanban-post/1\"");
    assert_contains(r.out, "\"dry_run\": true");
    assert_contains(r.out, "\"created\": 34");
    assert_contains(r.out, "\"error\": null");
    result_free(&r);
    server_stop(s);
}

static void
test_401(void **state)
{
    (void)state;
    server *s = seeded_server();
    s->fail_kind = FAIL_STATUS;
    s->fail_status = 401;
    s->fail_from = 1;
    result r = run_post(s, "--token-file", token_file());
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "GitHub did not accept the token (HTTP 401, \"Bad credentials\")");
    assert_contains(r.err, "GET /repos/o/r/issues");
    assert_contains(r.err, "no issue was created or updated");
    assert_int_equal(s->n_reqs, 1);
    result_free(&r);
    server_stop(s);
}

/* The rate limit runs out after four writes: the report names them; a rerun completes. */
static void
test_rate_limit_part_way(void **state)
{
    (void)state;
    server *s = seeded_server();
    s->fail_kind = FAIL_RATE;
    s->fail_from = 6; /* GET, GET, POST #4, PATCH #4, PATCH #1, then the 6th fails */
    result r = run_post(s, "--token-file", token_file());
    assert_int_equal(r.status, 1);
    assert_contains(r.err, "rate limit is used up (HTTP 403");
    assert_contains(r.err, "x-ratelimit-remaining: 0");
    assert_contains(r.err, "resets at");
    assert_contains(r.err, "POST /repos/o/r/issues");
    assert_contains(r.err, "1 issue was created and 1 updated");
    assert_contains(r.err, "  created #4 Release Laura v0 Alpha\n");
    assert_contains(r.err, "  updated #1 Develop Plurigrid Protocol\n");
    assert_contains(r.err, "the request for \"Plan device architecture for first hardware "
                           "node\" (line 6) failed");
    assert_contains(r.err, "32 items were not sent");
    assert_int_equal(s->n_issues, 4);
    result_free(&r);

    /* --json says the same, with the error. */
    server_forget_requests(s);
    s->fail_from = 1;
    r = run_post(s, "--token-file", token_file());
    assert_int_equal(r.status, 1);
    result_free(&r);

    s->fail_kind = FAIL_NONE;
    server_forget_requests(s);
    r = run_post(s, "--token-file", token_file());
    assert_int_equal(r.status, 0);
    assert_int_equal(count_method(s, "POST"), 33);
    assert_int_equal(s->n_issues, 37);
    for (size_t k = 0; k < s->n_issues; k++)
        if (!s->issues[k].is_pr)
            assert_non_null(find_issue(s, s->issues[k].title)); /* asserts uniqueness */
    result_free(&r);
    server_stop(s);
}

static void
test_secondary_rate_limit(void **state)
{
    (void)state;
    server *s = seeded_server();
    s->fail_kind = FAIL_RETRY;
    s->fail_from = 1;
    result r = run_post(s, "--token-file", token_file());
    assert_int_equal(r.status, 1);
    assert_contains(r.err, "HTTP 429");
    assert_contains(r.err, "retry after 60 seconds");
    result_free(&r);
    server_stop(s);
}

static void
test_500(void **state)
{
    (void)state;
    server *s = seeded_server();
    s->fail_kind = FAIL_STATUS;
    s->fail_status = 500;
    s->fail_from = 3; /* the first write */
    result r = run_post(s, "--token-file", token_file());
    assert_int_equal(r.status, 3);
    assert_contains(r.err, "GitHub failed to answer (HTTP 500, \"Server Error\")");
    assert_contains(r.err, "may or may not have been made");
    assert_contains(r.err, "no issue was created or updated before the failure");
    assert_int_equal(s->n_reqs, 3);
    result_free(&r);

    /* While listing: nothing is written at all. */
    server_forget_requests(s);
    s->fail_from = 2;
    r = run_post3(s, "--token-file", token_file(), "--json");
    assert_int_equal(r.status, 3);
    assert_contains(r.out, "\"error\": \"GET /repos/o/r/issues?state=all&per_page=100&page=2 "
                           "(page 2): GitHub failed to answer");
    assert_int_equal(s->n_reqs, 2);
    result_free(&r);
    server_stop(s);
}

static void
test_next_link_elsewhere(void **state)
{
    (void)state;
    server *s = seeded_server();
    s->fail_kind = FAIL_BAD_LINK;
    s->fail_from = 1000;
    result r = run_post(s, "--token-file", token_file());
    assert_int_equal(r.status, 3);
    assert_contains(r.err, "points outside");
    assert_int_equal(s->n_reqs, 1);
    result_free(&r);
    server_stop(s);
}

static void
test_usage(void **state)
{
    (void)state;
    const char *ex = pgt_source_path("examples/roadmap.md");
    struct {
        const char *args[10];
        int status;
        const char *says;
    } cases[] = {
        {{"kanban", ex, "--post", "--repo", "o/r", "--token", "abc", NULL}, 2, "never taken"},
        {{"kanban", ex, "--dry-run", NULL}, 2, "--dry-run goes with --post"},
        {{"kanban", ex, "--post", NULL}, 2, "--post needs --repo"},
        {{"kanban", ex, "--post", "--repo", "o/r", NULL}, 2, "posting needs a GitHub token"},
        {{"kanban", ex, "--post", "--repo", "o/r", "--dry-run", "--api-url", "http://example.org",
          NULL},
         2,
         "refusing plain http"},
        {{"kanban", ex, "--post", "--repo", "not a repo", "--dry-run", NULL}, 2, "OWNER/NAME"},
        {{"kanban", "no-such-roadmap.md", NULL}, 2, "no-such-roadmap.md: cannot read"},
        {{"kanban", "--help", NULL}, 0, NULL},
        {{"kanban", NULL}, 2, "Usage"},
    };
    unsetenv("GITHUB_TOKEN");
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        char *out, *err;
        int st = pgt_run_cli(cases[k].args, NULL, &out, &err);
        if (st != cases[k].status)
            print_error("case %zu: exit %d, stderr: %s\n", k, st, err);
        assert_int_equal(st, cases[k].status);
        if (cases[k].says)
            assert_contains(err, cases[k].says);
        free(out);
        free(err);
    }
}

/* Without --post: the payloads on stdout, a summary with the context lines on stderr. */
static void
test_print(void **state)
{
    (void)state;
    const char *args[] = {"kanban", pgt_source_path("examples/roadmap.md"), NULL};
    char *out, *err;
    assert_int_equal(pgt_run_cli(args, NULL, &out, &err), 0);
    assert_int_equal(strncmp(out, "[\n  {\n    \"title\": \"Release Laura v0 Alpha\"", 43), 0);
    size_t titles = 0;
    for (const char *p = out; (p = strstr(p, "\"title\"")); p++)
        titles++;
    assert_int_equal(titles, 35);
    assert_contains(out, "\"estimate:20h\"");
    assert_contains(err, "35 issues (8 done, 6 next, 14 upcoming, 7 tasks); 5 context blocks "
                         "kept, not issues (lines 1, 3, 13, 21, 38");
    free(out);
    free(err);
    const char *jargs[] = {"kanban", "-", "--json", NULL};
    assert_int_equal(
        pgt_run_cli(jargs, "Next:\n- [ ] a\n\nTask 1: b (2 people, 3 hours)\nc\n", &out, &err), 0);
    assert_contains(out, "\"counts\": {\n    \"next\": 1,\n    \"tasks\": 1\n  }");
    assert_contains(out, "\"people\": 2");
    assert_contains(out, "\"context\": [\n    {\n      \"line\": 1,");
    free(out);
    free(err);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_post_then_post_again),
        cmocka_unit_test(test_dry_run_sends_nothing),
        cmocka_unit_test(test_401),
        cmocka_unit_test(test_rate_limit_part_way),
        cmocka_unit_test(test_secondary_rate_limit),
        cmocka_unit_test(test_500),
        cmocka_unit_test(test_next_link_elsewhere),
        cmocka_unit_test(test_usage),
        cmocka_unit_test(test_print),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    pgt_tmpdir_cleanup();
    return rc;
}
