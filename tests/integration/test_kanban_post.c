/* plurigrid kanban --post against a fake GitHub started here on a free loopback port. The fake
 * implements the three endpoints the command uses (list issues with Link-header pagination,
 * create an issue, update an issue) and records every request. Checked: the expected requests
 * are made with the token in the header; a second run creates and changes nothing; a rate limit
 * part way reports exactly what was written and a rerun finishes without duplicates; 401, 403
 * rate limit, 429 and 500 answers each give a clear message and a non-zero exit; a repository
 * that is not OWNER/NAME, a token that is not one word and a token file that is a folder or a
 * device are refused before anything is sent; long next-page links are followed whole, links to
 * another host never; the token never appears in any output, even when the server echoes it;
 * --json FILE|-, and write errors on /dev/full and a full disk. */
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
#include <sys/stat.h>
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
    char target[8192];
    char auth[256];
    char *body;
} request;

enum {
    FAIL_NONE,
    FAIL_STATUS,   /* answer fail_status with a GitHub-like error */
    FAIL_RATE,     /* the primary rate limit (403, x-ratelimit-remaining: 0) */
    FAIL_RETRY,    /* a secondary rate limit (429, retry-after) */
    FAIL_BAD_LINK, /* a next-page link to another host */
    FAIL_ECHO,     /* answer fail_status, echoing the Authorization header everywhere it can */
    FAIL_ECHO_LINK /* a next-page link on this host whose URL holds the token, then a 404 */
};

typedef struct server {
    int fd;
    int port;
    pthread_t thread;
    volatile int stop;
    pthread_mutex_t mu;
    int fail_kind;    /* FAIL_* */
    int fail_status;  /* with FAIL_STATUS */
    size_t fail_from; /* 1-based request number from which requests fail */
    int no_header;    /* FAIL_RATE without x-ratelimit-reset, FAIL_RETRY without retry-after */
    int msg_pad;      /* FAIL_ECHO: characters of message before the token */
    size_t link_pad;  /* characters of padding in next-page links (a long link) */
    int endless;      /* every page has a next page */
    int no_number;    /* "create an issue" answers without the issue's number */
    size_t n_seen;    /* requests answered, also those past the log's end */
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
    case 400: return "Bad Request";
    case 422: return "Unprocessable Entity";
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
            sb_add(headers, "x-ratelimit-limit: 5000\r\nx-ratelimit-remaining: 0\r\n");
            if (!s->no_header)
                sb_add(headers, "x-ratelimit-reset: %ld\r\n", (long)time(NULL) + 1800);
            sb_add(body, "{\"message\":\"API rate limit exceeded for user ID 1.\"}");
            return 403;
        case FAIL_RETRY:
            if (!s->no_header)
                sb_add(headers, "retry-after: 60\r\n");
            sb_add(body, "{\"message\":\"You have exceeded a secondary rate limit.\"}");
            return 429;
        case FAIL_ECHO:
            /* What a careless or hostile server might do with the credentials it was sent. */
            sb_add(headers,
                   "X-Echo: %s\r\nWWW-Authenticate: %s\r\nx-ratelimit-remaining: 7\r\n"
                   "Link: <http://elsewhere.example/?auth=%s>; rel=\"next\"\r\n",
                   q->auth, q->auth, q->auth + 7);
            sb_add(body,
                   "{\"message\":\"%*sToken %s is not valid\",\"errors\":[{\"message\":\"you "
                   "sent %s\"},{\"field\":\"%s\",\"code\":\"invalid\"},\"%s\"],"
                   "\"documentation_url\":\"https://docs.github.com/%s\"}",
                   s->msg_pad, "", q->auth + 7, q->auth, q->auth + 7, q->auth + 7, q->auth + 7);
            return s->fail_status;
        case FAIL_ECHO_LINK:
            if (strstr(q->target, "page=2")) {
                sb_add(body, "{\"message\":\"no page %s\"}", q->target);
                return 404;
            }
            sb_add(headers,
                   "Link: <http://127.0.0.1:%d%s?state=all&per_page=100&page=2&t=%s>; "
                   "rel=\"next\"\r\n",
                   s->port, base, q->auth + 7);
            sb_add(body, "[]");
            return 200;
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
        if (s->fail_kind == FAIL_BAD_LINK) {
            sb_add(headers,
                   "Link: <http://elsewhere.example/repos/o/r/issues?page=2&t=%s>; "
                   "rel=\"next\"\r\n",
                   q->auth[0] ? q->auth + 7 : "");
        } else if (page < last || s->endless) {
            char *pad = calloc(1, s->link_pad + 8);
            assert_non_null(pad);
            if (s->link_pad) {
                memcpy(pad, "&pad=", 5);
                memset(pad + 5, 'x', s->link_pad);
            }
            sb_add(headers,
                   "Link: <http://127.0.0.1:%d%s?state=all&per_page=100&page=%zu%s>; "
                   "rel=\"next\", <http://127.0.0.1:%d%s?state=all&per_page=100&page=%zu>; "
                   "rel=\"last\"\r\n",
                   s->port, base, page + 1, pad, s->port, base, last);
            free(pad);
        }
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
        if (s->no_number)
            sb_add(body, "{\"title\":\"created\"}");
        else
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
    sscanf(buf, "%15s %8191s", q.method, q.target);
    for (char *h = strstr(buf, "\r\n"); h && h < end; h = strstr(h + 2, "\r\n"))
        if (strncasecmp(h + 2, "Authorization:", 14) == 0)
            sscanf(h + 16, " %255[^\r\n]", q.auth);
    q.body = strdup(buf + head);

    sbuf headers = {0}, body = {0};
    pthread_mutex_lock(&s->mu);
    s->n_seen++;
    int kept = s->n_reqs < 512;
    if (kept)
        s->reqs[s->n_reqs++] = q;
    int status = route(s, &q, &headers, &body);
    if (!kept)
        free(q.body);
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
    s->n_seen = 0;
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

/* Runs `plurigrid kanban ROADMAP --post --repo o/r --api-url <the fake> EXTRA...` (extra is
 * NULL-terminated; roadmap NULL for examples/roadmap.md), standard output to stdout_path when
 * it is not NULL. */
static result
run_kanban(const server *s, const char *roadmap, const char *const *extra, const char *stdout_path)
{
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", s ? s->port : 9);
    const char *args[32] = {"kanban", roadmap ? roadmap : pgt_source_path("examples/roadmap.md"),
                            "--post", "--repo",
                            "o/r",    "--api-url",
                            url};
    size_t n = 7;
    for (size_t k = 0; extra && extra[k]; k++) {
        assert_true(n < 31);
        args[n++] = extra[k];
    }
    args[n] = NULL;
    result r;
    r.status = pgt_run_cli_io(args, NULL, NULL, stdout_path, &r.out, &r.err);
    return r;
}

static result
run_post3(const server *s, const char *extra1, const char *extra2, const char *extra3)
{
    const char *extra[] = {extra1, extra2, extra3, NULL};
    if (!extra2)
        extra[1] = NULL;
    else if (!extra3)
        extra[2] = NULL;
    return run_kanban(s, NULL, extra1 ? extra : NULL, NULL);
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

static void
assert_not_contains(const char *hay, const char *needle)
{
    if (strstr(hay, needle)) {
        print_error("did not expect \"%s\" in:\n%s\n", needle, hay);
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
    r = run_post3(s, "--dry-run", "--json", "-");
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
    assert_contains(r.err, "nothing was written to GitHub: the run stopped before its first write");
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
    assert_contains(r.err, "it resets in 30 minutes (at ");
    assert_contains(r.err, " UTC): run again after that");
    assert_contains(r.err, "POST /repos/o/r/issues");
    assert_contains(r.err, "written before the failure: 1 issue created, 1 updated:\n");
    assert_contains(r.err, "  created #4 Release Laura v0 Alpha\n");
    assert_contains(r.err, "  updated #1 Develop Plurigrid Protocol\n");
    assert_contains(r.err, "the request for \"Plan device architecture for first hardware "
                           "node\" (line 6) failed");
    assert_contains(r.err, "; the 32 items after it were not sent.\n");
    assert_contains(r.err, "running again is safe");
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
    assert_contains(r.err, "retry after 60 seconds: run again in 60 seconds (at ");
    result_free(&r);

    /* Without retry-after the message still says how long to wait. */
    server_forget_requests(s);
    s->no_header = 1;
    r = run_post(s, "--token-file", token_file());
    assert_int_equal(r.status, 1);
    assert_contains(r.err, "(no retry-after header): wait at least a minute, then run again");
    result_free(&r);
    server_stop(s);
}

/* The primary rate limit without x-ratelimit-reset: the message still says when to run again. */
static void
test_rate_limit_without_reset(void **state)
{
    (void)state;
    server *s = seeded_server();
    s->fail_kind = FAIL_RATE;
    s->no_header = 1;
    s->fail_from = 1;
    result r = run_post(s, "--token-file", token_file());
    assert_int_equal(r.status, 1);
    assert_contains(r.err, "no x-ratelimit-reset header");
    assert_contains(r.err, "run again in an hour");
    assert_contains(r.err, "nothing was written to GitHub: the run stopped before its first write");
    assert_not_contains(r.err, "0 items");
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
    const char *json_extra[] = {"--token-file", token_file(), "--json", "-", NULL};
    r = run_kanban(s, NULL, json_extra, NULL);
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

/* A repository that is not OWNER/NAME as GitHub allows it is refused before anything is sent,
 * so the token can never go to another path of the API ("../x" made it <api>/x/issues). */
static void
test_repo_refused(void **state)
{
    (void)state;
    server *s = seeded_server();
    struct {
        const char *repo, *says;
    } cases[] = {
        {"../x", "'..'"},
        {"o/..", "'..'"},
        {"o/r/../../x", "exactly one '/'"},
        {"o/r/x", "exactly one '/'"},
        {"o/r?x=1", "'?'"},
        {"o/r#x", "'#'"},
        {"o/%2e%2e", "'%'"},
        {"o/.", "'.' is not one"},
        {".o/r", "starts with '.'"},
        {"/r", "owner before the '/' is missing"},
        {"o/", "name after the '/' is missing"},
        {"o\\/r", "'\\'"},
        {"o/r\nHost: evil", "0x0A"},
        {"o/r x", "a space"},
        {"abcdefghijabcdefghijabcdefghijabcdefghij/r", "at most 39"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        const char *args[] = {"kanban",      pgt_source_path("examples/roadmap.md"),
                              "--post",      "--repo",
                              cases[k].repo, "--token-file",
                              token_file(),  "--api-url",
                              NULL,          NULL};
        char url[64];
        snprintf(url, sizeof url, "http://127.0.0.1:%d", s->port);
        args[8] = url;
        char *out, *err;
        int st = pgt_run_cli(args, NULL, &out, &err);
        if (st != 2 || !strstr(err, cases[k].says))
            print_error("repo '%s': exit %d, stderr: %s\n", cases[k].repo, st, err);
        assert_int_equal(st, 2);
        assert_contains(err, "--repo: the repository '");
        assert_contains(err, cases[k].says);
        free(out);
        free(err);
    }
    assert_int_equal(s->n_seen, 0);
    /* Names GitHub allows are taken as they are. */
    const char *ok[] = {"octo-cat/hello_world.js", "a/.github", "A1/b-2.c_3", NULL};
    for (size_t k = 0; ok[k]; k++) {
        char url[64];
        snprintf(url, sizeof url, "http://127.0.0.1:%d", s->port);
        const char *args[] = {"kanban",    pgt_source_path("examples/roadmap.md"),
                              "--post",    "--repo",
                              ok[k],       "--dry-run",
                              "--api-url", url,
                              NULL};
        char *out, *err;
        assert_int_equal(pgt_run_cli(args, NULL, &out, &err), 2); /* the fake knows only o/r */
        assert_contains(err, "not found (HTTP 404");
        free(out);
        free(err);
    }
    server_stop(s);
}

/* A next-page link longer than any fixed buffer is followed whole. */
static void
test_long_next_link(void **state)
{
    (void)state;
    server *s = seeded_server();
    s->link_pad = 5000;
    unsetenv("GITHUB_TOKEN");
    result r = run_post(s, "--dry-run", NULL);
    if (r.status != 0)
        print_error("stderr: %s\n", r.err);
    assert_int_equal(r.status, 0);
    assert_int_equal(count_method(s, "GET"), 2);
    size_t tl = strlen(s->reqs[1].target);
    assert_true(tl > 5000);
    assert_int_equal(
        strncmp(s->reqs[1].target, "/repos/o/r/issues?state=all&per_page=100&page=2&pad=xxx", 55),
        0);
    assert_int_equal(tl, strlen("/repos/o/r/issues?state=all&per_page=100&page=2&pad=") + 5000);
    assert_contains(r.err, "dry run: 34 to create, 1 to update, 0 unchanged (2 issues were "
                           "already in o/r)");
    result_free(&r);

    /* A link longer than libcurl takes in one header line: refused with a message. */
    server_forget_requests(s);
    s->link_pad = 200000;
    r = run_post(s, "--dry-run", NULL);
    assert_int_equal(r.status, 3);
    assert_contains(r.err, "answered HTTP 200, but its answer could not be read");
    assert_int_equal(s->n_seen, 1);
    result_free(&r);
    server_stop(s);
}

/* A repository whose listing never ends stops at 1000 pages with exit 2 (not 1: that is the
 * rate limit's code, and running again later would stop at the same place). */
static void
test_page_limit(void **state)
{
    (void)state;
    server *s = seeded_server();
    s->endless = 1;
    result r = run_post(s, "--token-file", token_file());
    if (r.status != 2)
        print_error("exit %d, stderr: %s\n", r.status, r.err);
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "the repository o/r has more than 1000 pages of issues (100 issues a "
                           "page)");
    assert_contains(r.err, "reads at most 100000 issues");
    assert_contains(r.err, "nothing was written to GitHub");
    assert_not_contains(r.err, "rate limit");
    assert_int_equal(s->n_seen, 1000);
    assert_int_equal(count_method(s, "POST"), 0);
    result_free(&r);
    server_stop(s);
}

/* Messages after a failure say what is true: no "0 items were not sent" when the last item
 * failed, no "created #0" when GitHub gave no number, nothing about items when the run stopped
 * before sending anything. */
static void
test_failure_messages(void **state)
{
    (void)state;
    server *s = seeded_server();
    /* 2 GETs, then 42 writes: the 44th request is the last item's. */
    s->fail_kind = FAIL_STATUS;
    s->fail_status = 500;
    s->fail_from = 44;
    result r = run_post(s, "--token-file", token_file());
    assert_int_equal(r.status, 3);
    assert_int_equal(s->n_seen, 44);
    assert_contains(r.err, "written before the failure: 33 issues created, 1 updated:\n");
    assert_contains(r.err, "failed; it was the roadmap's last item.\n");
    assert_not_contains(r.err, "0 items");
    assert_not_contains(r.err, "0 item ");
    result_free(&r);
    server_stop(s);

    /* GitHub creates the issue but its answer has no number. */
    s = seeded_server();
    s->no_number = 1;
    r = run_post(s, "--token-file", token_file());
    assert_int_equal(r.status, 3);
    assert_contains(r.err, "no issue number");
    assert_contains(r.err, "  created Release Laura v0 Alpha (GitHub's answer gave no issue "
                           "number) (still open on GitHub: without its number it could not be "
                           "closed; running again closes it)\n");
    assert_contains(r.err, "the run stopped at \"Release Laura v0 Alpha\" (line 4); the 34 items "
                           "after it were not sent.\n");
    assert_not_contains(r.err, "#0");
    assert_not_contains(r.out, "#0");
    result_free(&r);
    server_stop(s);

    /* Refused before sending: a roadmap whose titles repeat. */
    char path[4200];
    snprintf(path, sizeof path, "%s/dup.md", pgt_tmpdir());
    pgt_write(path, "Next:\n- [ ] same\n- [ ] same\n");
    s = seeded_server();
    r = run_kanban(s, path, (const char *const[]){"--token-file", token_file(), NULL}, NULL);
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "also used on line 2");
    assert_contains(r.err, "nothing was sent to GitHub.\n");
    assert_not_contains(r.err, "0 items");
    assert_not_contains(r.err, "before the failure");
    assert_int_equal(s->n_seen, 0);
    result_free(&r);
    server_stop(s);
}

/* --token-file and GITHUB_TOKEN: a folder, a device, NUL bytes, a second line or a line break
 * inside the token, and an empty file are refused with a message; a FIFO is read once. */
typedef struct fifo_writer {
    const char *path;
    const char *text;
} fifo_writer;

static void *
write_fifo(void *arg)
{
    fifo_writer *w = arg;
    int fd = open(w->path, O_WRONLY);
    if (fd >= 0) {
        ssize_t n = write(fd, w->text, strlen(w->text));
        (void)n;
        close(fd);
    }
    return NULL;
}

static void
test_token_sources(void **state)
{
    (void)state;
    server *s = seeded_server();
    const char *dir = pgt_tmpdir();
    char nul[4200], two[4200], empty[4200], big[4200], fifo[4200];
    snprintf(nul, sizeof nul, "%s/nul-token", dir);
    snprintf(two, sizeof two, "%s/two-token", dir);
    snprintf(empty, sizeof empty, "%s/empty-token", dir);
    snprintf(big, sizeof big, "%s/big-token", dir);
    snprintf(fifo, sizeof fifo, "%s/fifo-token", dir);
    FILE *f = fopen(nul, "wb");
    assert_non_null(f);
    fwrite("abc\0def\n", 1, 8, f);
    fclose(f);
    pgt_write(two, "first-part\nsecond-part\n");
    pgt_write(empty, " \n\n");
    char *b = malloc(5001);
    assert_non_null(b);
    memset(b, 'a', 5000);
    b[5000] = '\0';
    pgt_write(big, b);
    free(b);
    struct {
        const char *file, *says;
    } cases[] = {
        {dir, "cannot read the token (--token-file): "},
        {"/dev/zero", "it is a device, not a file"},
        {nul, "holds NUL bytes"},
        {two, "the token has a line break inside it"},
        {empty, "is empty"},
        {big, "is longer than 4096 bytes"},
    };
    unsetenv("GITHUB_TOKEN");
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        result r = run_post(s, "--token-file", cases[k].file);
        if (r.status != 2 || !strstr(r.err, cases[k].says))
            print_error("%s: exit %d, stderr: %s\n", cases[k].file, r.status, r.err);
        assert_int_equal(r.status, 2);
        assert_contains(r.err, cases[k].says);
        assert_not_contains(r.err, "first-part");
        assert_not_contains(r.err, "second-part");
        result_free(&r);
    }
    result r = run_post(s, "--token-file", dir);
    assert_contains(r.err, "it is a folder, not a file");
    result_free(&r);
    r = run_post(s, "--token-file", "/dev/zero");
    assert_not_contains(r.err, "empty");
    result_free(&r);

    /* GITHUB_TOKEN with a line break inside: refused, neither part shown. */
    setenv("GITHUB_TOKEN", "first-part\nsecond-part", 1);
    r = run_post(s, NULL, NULL);
    unsetenv("GITHUB_TOKEN");
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "GITHUB_TOKEN: the token has a line break inside it");
    assert_not_contains(r.err, "first-part");
    assert_not_contains(r.err, "second-part");
    result_free(&r);
    setenv("GITHUB_TOKEN", "tab\there", 1);
    r = run_post(s, "--dry-run", NULL);
    unsetenv("GITHUB_TOKEN");
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "a space or a tab inside it");
    result_free(&r);
    assert_int_equal(s->n_seen, 0);

    /* Surrounding spaces and the final line break are trimmed. */
    setenv("GITHUB_TOKEN", "  env-token\n", 1);
    r = run_post(s, "--dry-run", NULL);
    unsetenv("GITHUB_TOKEN");
    assert_int_equal(r.status, 0);
    assert_string_equal(s->reqs[0].auth, "Bearer env-token");
    result_free(&r);

    /* A FIFO with a writer: read once, to its end. */
    server_forget_requests(s);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    fifo_writer w = {fifo, "fifo-token\n"};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, write_fifo, &w), 0);
    r = run_post3(s, "--token-file", fifo, "--dry-run");
    pthread_join(t, NULL);
    assert_int_equal(r.status, 0);
    assert_string_equal(s->reqs[0].auth, "Bearer fifo-token");
    result_free(&r);

    /* A FIFO no program writes to: a clear message after a bounded wait, not a hang. */
    server_forget_requests(s);
    r = run_post3(s, "--token-file", fifo, "--dry-run");
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "is a FIFO (named pipe) and no program opened it for writing within "
                           "30 seconds");
    assert_int_equal(s->n_seen, 0);
    result_free(&r);

    /* Standard input, when the roadmap is a file. */
    server_forget_requests(s);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", s->port);
    const char *args[] = {"kanban",
                          pgt_source_path("examples/roadmap.md"),
                          "--post",
                          "--repo",
                          "o/r",
                          "--dry-run",
                          "--api-url",
                          url,
                          "--token-file",
                          "-",
                          NULL};
    char *out, *err;
    assert_int_equal(pgt_run_cli(args, "stdin-token\n", &out, &err), 0);
    assert_string_equal(s->reqs[0].auth, "Bearer stdin-token");
    free(out);
    free(err);
    args[1] = "-";
    assert_int_equal(pgt_run_cli(args, "Next:\n- [ ] a\n", &out, &err), 2);
    assert_contains(err, "cannot both come from standard input");
    free(out);
    free(err);
    server_stop(s);
}

/* ------------------------------------------------------------------ the token is never shown */

#define TOKEN "ghp_Zq7XwV3kLm9PbR2tYc8NdF5hJs1GaE4uKo6I"

/* Neither the token nor any 8 characters of it in a row. */
static void
assert_no_token(const char *what, const char *text)
{
    const char *t = TOKEN;
    size_t tl = strlen(t);
    for (size_t k = 0; k + 8 <= tl; k++) {
        char piece[9];
        memcpy(piece, t + k, 8);
        piece[8] = '\0';
        if (strstr(text, piece)) {
            print_error("%s shows the token (\"%s\"):\n%s\n", what, piece, text);
            fail();
        }
    }
}

static void
check_run(const char *label, result *r, int want_status)
{
    if (want_status >= 0 && r->status != want_status)
        print_error("%s: exit %d, stderr:\n%s\n", label, r->status, r->err);
    if (want_status >= 0)
        assert_int_equal(r->status, want_status);
    assert_true(r->status >= 0); /* not a crash */
    assert_no_token(label, r->out);
    assert_no_token(label, r->err);
    result_free(r);
}

/* Every path of kanban that prints, run with a recognisable token (from GITHUB_TOKEN and from a
 * file) against a server that echoes it back in its messages, its error lists, its headers and
 * its next-page links: the token never appears on standard output, standard error or in a
 * --json file. */
static void
test_token_never_printed(void **state)
{
    (void)state;
    char tf[4200], jf[4200], tr[4200];
    snprintf(tf, sizeof tf, "%s/recognisable-token", pgt_tmpdir());
    snprintf(jf, sizeof jf, "%s/report.json", pgt_tmpdir());
    snprintf(tr, sizeof tr, "%s/holds-token.md", pgt_tmpdir());
    pgt_write(tf, TOKEN "\n");
    pgt_write(tr, "Next:\n- [ ] rotate " TOKEN " soon\n");
    const char *ex = pgt_source_path("examples/roadmap.md");

    setenv("GITHUB_TOKEN", TOKEN, 1);
    /* The server echoes the token in every error it can, while listing and on the first
     * write, with a long message before it (cut where the token starts) and without. */
    const int statuses[] = {400, 401, 403, 404, 410, 422, 500, 502};
    for (size_t k = 0; k < sizeof statuses / sizeof *statuses; k++)
        for (size_t from = 1; from <= 3; from += 2)
            for (int variant = 0; variant < 3; variant++) {
                server *s = seeded_server();
                s->fail_kind = FAIL_ECHO;
                s->fail_status = statuses[k];
                s->fail_from = from;
                s->msg_pad = variant == 1 ? 385 : 0; /* the message cut inside the token */
                int json = variant == 2;
                const char *extra[] = {"--json", "-", NULL};
                result r = run_kanban(s, NULL, json ? extra : NULL, NULL);
                char label[64];
                snprintf(label, sizeof label, "echo %d from request %zu", statuses[k], from);
                assert_true(r.status == 2 || r.status == 3);
                if (variant != 1) /* else the message is cut inside "[token hidden]" */
                    assert_contains(r.err, "[token hidden]");
                if (json)
                    assert_contains(r.out, "[token hidden]");
                check_run(label, &r, -1);
                server_stop(s);
            }
    /* Without --post: payloads and notes, the parse as JSON. */
    {
        const char *a1[] = {"kanban", ex, NULL};
        const char *a2[] = {"kanban", ex, "--json", "-", NULL};
        const char *a3[] = {"kanban", ex, "--json", jf, NULL};
        const char *const *runs[] = {a1, a2, a3};
        for (size_t k = 0; k < 3; k++) {
            result r;
            r.status = pgt_run_cli(runs[k], NULL, &r.out, &r.err);
            check_run("kanban without --post", &r, 0);
        }
        char *doc = pgt_slurp(jf, NULL);
        assert_no_token("--json file", doc);
        free(doc);
    }
    /* Success, dry run, text and JSON, token from the environment and from a file. */
    for (int from_file = 0; from_file < 2; from_file++) {
        const char *const modes[][4] = {{NULL},
                                        {"--json", "-", NULL},
                                        {"--json", jf, NULL},
                                        {"--dry-run", NULL},
                                        {"--dry-run", "--json", "-", NULL}};
        for (size_t m = 0; m < sizeof modes / sizeof *modes; m++) {
            server *s = seeded_server();
            const char *extra[8];
            size_t n = 0;
            if (from_file) {
                extra[n++] = "--token-file";
                extra[n++] = tf;
            }
            for (size_t k = 0; modes[m][k]; k++)
                extra[n++] = modes[m][k];
            extra[n] = NULL;
            result r = run_kanban(s, NULL, extra, NULL);
            check_run("a post that succeeds", &r, 0);
            assert_string_equal(s->reqs[0].auth, "Bearer " TOKEN);
            server_stop(s);
        }
    }
    char *doc = pgt_slurp(jf, NULL);
    assert_no_token("--json report", doc);
    free(doc);

    /* The token in the URL of a next-page link: on this host (then a 404 naming the URL), and
     * on another host (not followed). */
    for (int kind = 0; kind < 2; kind++) {
        server *s = seeded_server();
        s->fail_kind = kind ? FAIL_BAD_LINK : FAIL_ECHO_LINK;
        s->fail_from = 1;
        result r = run_post(s, NULL, NULL);
        assert_int_equal(r.status, kind ? 3 : 2);
        assert_contains(r.err, "[token hidden]");
        check_run("a next-page link holding the token", &r, -1);
        server_stop(s);
    }
    /* Rate limits, and a server that is not there. */
    for (int kind = 0; kind < 3; kind++) {
        server *s = seeded_server();
        s->fail_kind = kind == 0 ? FAIL_RATE : FAIL_RETRY;
        s->fail_from = 1;
        result r = kind == 2 ? run_kanban(NULL, NULL, NULL, NULL) : run_post(s, NULL, NULL);
        check_run("a rate limit or no server", &r, kind == 2 ? 3 : 1);
        server_stop(s);
    }
    /* A roadmap that holds the token is refused before anything is sent. */
    {
        server *s = seeded_server();
        result r = run_kanban(s, tr, (const char *const[]){"--dry-run", NULL}, NULL);
        assert_int_equal(r.status, 2);
        assert_contains(r.err, "holds the API token");
        assert_int_equal(s->n_seen, 0);
        check_run("a roadmap holding the token", &r, 2);
        server_stop(s);
    }
    /* An API URL that holds the token (refused, or not reachable). */
    for (int k = 0; k < 2; k++) {
        const char *extra[] = {"--api-url",
                               k ? "ftp://127.0.0.1/" TOKEN : "http://127.0.0.1:9/" TOKEN, NULL};
        result r = run_kanban(NULL, NULL, extra, NULL);
        assert_contains(r.err, "[token hidden]");
        check_run("an API URL holding the token", &r, k ? 2 : 3);
    }
    /* A token with a line break inside, and usage errors. */
    setenv("GITHUB_TOKEN", TOKEN "\n" TOKEN, 1);
    result r = run_post(NULL, NULL, NULL);
    check_run("a token with a line break", &r, 2);
    setenv("GITHUB_TOKEN", TOKEN, 1);
    r = run_kanban(NULL, NULL, (const char *const[]){"--json", NULL}, NULL);
    check_run("a usage error", &r, 2);
    unsetenv("GITHUB_TOKEN");
}

/* --json FILE|-: the file is written whole, the payloads or outcome lines still print;
 * '-' prints the JSON alone; a missing value, or the roadmap itself as FILE, is refused. */
static void
test_json_option(void **state)
{
    (void)state;
    const char *ex = pgt_source_path("examples/roadmap.md");
    char jf[4200], copy[4200];
    snprintf(jf, sizeof jf, "%s/parse.json", pgt_tmpdir());
    snprintf(copy, sizeof copy, "%s/roadmap-copy.md", pgt_tmpdir());
    char *text = pgt_slurp(ex, NULL);
    pgt_write(copy, text);

    const char *a1[] = {"kanban", ex, "--json", jf, NULL};
    char *out, *err;
    assert_int_equal(pgt_run_cli(a1, NULL, &out, &err), 0);
    assert_int_equal(strncmp(out, "[\n  {\n    \"title\": \"Release Laura v0 Alpha\"", 43), 0);
    assert_contains(err, "35 issues");
    char *doc = pgt_slurp(jf, NULL);
    assert_int_equal(strncmp(doc, "{\n  \"format\": \"plurigrid-kanban/1\",\n  \"source\": ", 48),
                     0);
    assert_contains(doc, "\"hours\": 20.0,");
    assert_int_equal(doc[strlen(doc) - 1], '\n');
    assert_int_equal(doc[strlen(doc) - 2], '}');
    free(out);
    free(err);

    const char *a2[] = {"kanban", ex, "--json", "-", NULL};
    assert_int_equal(pgt_run_cli(a2, NULL, &out, &err), 0);
    assert_string_equal(out, doc); /* the same document */
    assert_string_equal(err, "");
    free(doc);
    free(out);
    free(err);

    struct {
        const char *args[8];
        const char *says;
    } bad[] = {
        {{"kanban", ex, "--json", NULL}, "--json needs a value (FILE, or - for standard output)"},
        {{"kanban", "--json", ex, NULL}, "no roadmap given (--json takes the file to write"},
        {{"kanban", ex, "--json", "--post", NULL}, "not the option --post"},
        {{"kanban", copy, "--json", copy, NULL}, "would replace the roadmap itself"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        assert_int_equal(pgt_run_cli(bad[k].args, NULL, &out, &err), 2);
        assert_contains(err, bad[k].says);
        free(out);
        free(err);
    }
    char *again = pgt_slurp(copy, NULL);
    assert_string_equal(again, text); /* the roadmap is untouched */
    free(again);
    free(text);

    /* With --post: the outcome lines print, the report goes to FILE. */
    server *s = seeded_server();
    snprintf(jf, sizeof jf, "%s/report.json", pgt_tmpdir());
    result r = run_kanban(
        s, NULL, (const char *const[]){"--token-file", token_file(), "--json", jf, NULL}, NULL);
    assert_int_equal(r.status, 0);
    assert_contains(r.out, "created      #4     Release Laura v0 Alpha");
    assert_contains(r.err, "34 created, 1 updated, 0 unchanged (2 issues were already in o/r)");
    doc = pgt_slurp(jf, NULL);
    assert_contains(doc, "\"format\": \"plurigrid-kanban-post/1\"");
    assert_contains(doc, "\"created\": 34,");
    assert_contains(doc, "\"error\": null");
    free(doc);
    result_free(&r);
    server_stop(s);
}

/* A failed write is an error: standard output on /dev/full, --json into /dev/full or onto a
 * full disk (where the old file stays as it was). */
static void
test_write_errors(void **state)
{
    (void)state;
    const char *ex = pgt_source_path("examples/roadmap.md");
    char *out, *err;
    const char *a1[] = {"kanban", ex, NULL};
    assert_int_equal(pgt_run_cli_io(a1, NULL, NULL, "/dev/full", &out, &err), 2);
    assert_contains(err, "cannot write to standard output");
    free(out);
    free(err);
    const char *a2[] = {"kanban", ex, "--json", "-", NULL};
    assert_int_equal(pgt_run_cli_io(a2, NULL, NULL, "/dev/full", &out, &err), 2);
    assert_contains(err, "standard output");
    free(out);
    free(err);
    const char *a3[] = {"kanban", ex, "--json", "/dev/full", NULL};
    assert_int_equal(pgt_run_cli(a3, NULL, &out, &err), 2);
    assert_contains(err, "/dev/full");
    free(out);
    free(err);

    /* --post: the outcome lines and the report. */
    server *s = seeded_server();
    result r =
        run_kanban(s, NULL, (const char *const[]){"--token-file", token_file(), NULL}, "/dev/full");
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "cannot write to standard output");
    result_free(&r);
    r = run_kanban(s, NULL,
                   (const char *const[]){"--token-file", token_file(), "--json", "/dev/full", NULL},
                   NULL);
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "the report was not written: /dev/full");
    result_free(&r);
    server_stop(s);

    /* A full disk: the JSON document (about 30 kB) does not fit in 16 kB. */
    const char *dir = pgt_full_disk_begin(16384);
    char jf[4200];
    snprintf(jf, sizeof jf, "%s/parse.json", dir);
    pgt_write(jf, "old\n");
    const char *a4[] = {"kanban", ex, "--json", jf, NULL};
    int st = pgt_run_cli(a4, NULL, &out, &err);
    char *kept = pgt_slurp(jf, NULL);
    pgt_full_disk_end();
    assert_int_equal(st, 2);
    assert_contains(err, jf);
    assert_string_equal(kept, "old\n");
    free(kept);
    free(out);
    free(err);
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
    const char *jargs[] = {"kanban", "-", "--json", "-", NULL};
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
        cmocka_unit_test(test_rate_limit_without_reset),
        cmocka_unit_test(test_500),
        cmocka_unit_test(test_next_link_elsewhere),
        cmocka_unit_test(test_repo_refused),
        cmocka_unit_test(test_long_next_link),
        cmocka_unit_test(test_page_limit),
        cmocka_unit_test(test_failure_messages),
        cmocka_unit_test(test_token_sources),
        cmocka_unit_test(test_token_never_printed),
        cmocka_unit_test(test_json_option),
        cmocka_unit_test(test_write_errors),
        cmocka_unit_test(test_usage),
        cmocka_unit_test(test_print),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    pgt_tmpdir_cleanup();
    return rc;
}
