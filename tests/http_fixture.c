/* The `plurigrid serve` fixture of http_fixture.h: the real command as a child process on a free
 * loopback port (port 0, read back from its standard error), killed with the test
 * (PR_SET_PDEATHSIG), at exit and at every stop; requests through libcurl, and raw sockets for
 * slow or malformed clients. */
#define _GNU_SOURCE
#include "http_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Sanitized builds start slowly: the server has this long to say where it listens. */
#define START_TIMEOUT_S 60.0
#define STOP_TIMEOUT_S 20.0
#define BODY_MAX ((size_t)256 << 20)

struct pgt_http {
    pid_t pid;  /* 0 once reaped */
    int status; /* exit status once reaped */
    int port;
    char url[64];
    int errfd; /* the server's standard error: an unlinked file */
    pgt_http *next;
};

static pgt_http *all;
static pid_t owner;

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void
sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static char *
read_all_fd(int fd)
{
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0)
        return strdup("");
    size_t n = (size_t)st.st_size;
    char *buf = malloc(n + 1);
    if (!buf)
        return NULL;
    ssize_t r = pread(fd, buf, n, 0);
    buf[r > 0 ? (size_t)r : 0] = 0;
    return buf;
}

char *
pgt_http_stderr(const pgt_http *h)
{
    return read_all_fd(h ? h->errfd : -1);
}

static void
unlink_from_all(pgt_http *h)
{
    for (pgt_http **pp = &all; *pp; pp = &(*pp)->next)
        if (*pp == h) {
            *pp = h->next;
            return;
        }
}

/* Waits for the child up to timeout_s; true when it exited (status kept). */
static bool
reap_within(pgt_http *h, double timeout_s)
{
    if (h->pid <= 0)
        return true;
    double end = now_s() + timeout_s;
    for (;;) {
        int st;
        pid_t r = waitpid(h->pid, &st, WNOHANG);
        if (r == h->pid) {
            h->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
            h->pid = 0;
            return true;
        }
        if (r < 0 && errno != EINTR) {
            h->pid = 0;
            h->status = -1;
            return true;
        }
        if (now_s() >= end)
            return false;
        sleep_s(0.01);
    }
}

static void
destroy(pgt_http *h)
{
    if (h->pid > 0) {
        kill(h->pid, SIGKILL);
        reap_within(h, 30);
    }
    unlink_from_all(h);
    if (h->errfd >= 0)
        close(h->errfd);
    free(h);
}

void
pgt_http_kill_all(void)
{
    while (all)
        destroy(all);
}

int
pgt_http_teardown(void **state)
{
    (void)state;
    pgt_http_kill_all();
    return 0;
}

static void
at_exit(void)
{
    if (getpid() == owner)
        pgt_http_kill_all();
}

static void fail_with(pgt_http *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
fail_with(pgt_http *h, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (h) {
        char *e = pgt_http_stderr(h);
        fprintf(stderr, "--- standard error of plurigrid serve ---\n%s---\n", e ? e : "");
        free(e);
    }
    fail_msg("http fixture: %s", msg);
}

static pgt_http *
spawn(const char *const *args, const char *stdout_path, bool add_listen)
{
    if (!owner) {
        owner = getpid();
        atexit(at_exit);
    }
    pgt_http *h = calloc(1, sizeof *h);
    if (!h)
        fail_with(NULL, "out of memory");
    h->errfd = -1;
    h->next = all;
    all = h;
    char path[] = "/tmp/pgt-http-XXXXXX";
    h->errfd = mkostemp(path, O_CLOEXEC);
    if (h->errfd < 0)
        fail_with(NULL, "cannot create a file for the server's standard error: %s",
                  strerror(errno));
    unlink(path);
    size_t n = 0;
    bool has_listen = false;
    while (args && args[n]) {
        if (strcmp(args[n], "--listen") == 0)
            has_listen = true;
        n++;
    }
    const char **argv = calloc(n + 5, sizeof *argv);
    if (!argv)
        fail_with(NULL, "out of memory");
    size_t c = 0;
    argv[c++] = PG_CLI_PATH;
    argv[c++] = "serve";
    for (size_t i = 0; i < n; i++)
        argv[c++] = args[i];
    if (add_listen && !has_listen) {
        argv[c++] = "--listen";
        argv[c++] = "127.0.0.1:0";
    }
    argv[c] = NULL;
    pid_t parent = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        fail_with(NULL, "cannot fork: %s", strerror(errno));
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        int in = open("/dev/null", O_RDONLY);
        int out = open(stdout_path ? stdout_path : "/dev/null", O_WRONLY);
        if (in < 0 || out < 0)
            _exit(126);
        dup2(in, 0);
        dup2(out, 1);
        dup2(h->errfd, 2);
        long maxfd = sysconf(_SC_OPEN_MAX);
        if (maxfd < 0 || maxfd > 65536)
            maxfd = 65536;
        for (int fd = 3; fd < maxfd; fd++)
            close(fd);
        execv(PG_CLI_PATH, (char *const *)argv);
        _exit(127);
    }
    free(argv);
    h->pid = pid;
    return h;
}

/* The port from "plurigrid serve: listening on http://HOST:PORT" on the first line, or 0. */
static int
port_of(const char *err, char *url, size_t url_sz)
{
    static const char pre[] = "plurigrid serve: listening on ";
    if (strncmp(err, pre, sizeof pre - 1) != 0)
        return 0;
    const char *u = err + sizeof pre - 1;
    const char *nl = strchr(u, '\n');
    if (!nl)
        return 0;
    snprintf(url, url_sz, "%.*s", (int)(nl - u), u);
    const char *colon = strrchr(url, ':');
    return colon ? atoi(colon + 1) : 0;
}

pgt_http *
pgt_http_start_io(const char *const *args, const char *stdout_path)
{
    pgt_http *h = spawn(args, stdout_path, true);
    double end = now_s() + START_TIMEOUT_S;
    for (;;) {
        char *e = pgt_http_stderr(h);
        int port = e ? port_of(e, h->url, sizeof h->url) : 0;
        free(e);
        if (port > 0) {
            h->port = port;
            return h;
        }
        if (reap_within(h, 0))
            fail_with(h, "plurigrid serve exited (status %d) before it listened", h->status);
        if (now_s() > end)
            fail_with(h, "plurigrid serve did not say where it listens within %.0f s",
                      START_TIMEOUT_S);
        sleep_s(0.02);
    }
}

pgt_http *
pgt_http_start(const char *const *args)
{
    return pgt_http_start_io(args, NULL);
}

int
pgt_http_refused(const char *const *args, char **err)
{
    pgt_http *h = spawn(args, NULL, false);
    if (!reap_within(h, START_TIMEOUT_S))
        fail_with(h, "plurigrid serve did not exit within %.0f s", START_TIMEOUT_S);
    char *e = pgt_http_stderr(h);
    if (e && strstr(e, "plurigrid serve: listening on http"))
        fail_with(h, "plurigrid serve started, but was expected to refuse to");
    int status = h->status;
    destroy(h);
    if (err)
        *err = e;
    else
        free(e);
    return status;
}

int
pgt_http_stop(pgt_http *h)
{
    if (!h)
        return 0;
    if (h->pid > 0)
        kill(h->pid, SIGTERM);
    if (!reap_within(h, STOP_TIMEOUT_S)) {
        kill(h->pid, SIGKILL);
        reap_within(h, 30);
        fail_with(h, "plurigrid serve did not stop within %.0f s of SIGTERM (killed)",
                  STOP_TIMEOUT_S);
    }
    int status = h->status;
    destroy(h);
    return status;
}

int
pgt_http_port(const pgt_http *h)
{
    return h->port;
}

const char *
pgt_http_url(const pgt_http *h)
{
    return h->url;
}

bool
pgt_http_alive(pgt_http *h)
{
    return h->pid > 0 && !reap_within(h, 0);
}

int
pgt_http_pid(const pgt_http *h)
{
    return (int)h->pid;
}

/* ---------------------------------------------------------------- libcurl */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void
curl_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

typedef struct sink {
    char *data;
    size_t len, cap;
    bool over;
} sink;

static size_t
sink_write(char *p, size_t size, size_t nmemb, void *ud)
{
    sink *s = ud;
    size_t n = size * nmemb;
    if (s->len + n + 1 > BODY_MAX) {
        s->over = true;
        return 0;
    }
    if (s->len + n + 1 > s->cap) {
        size_t nc = s->cap ? s->cap : 4096;
        while (nc < s->len + n + 1)
            nc *= 2;
        char *nd = realloc(s->data, nc);
        if (!nd)
            return 0;
        s->data = nd;
        s->cap = nc;
    }
    memcpy(s->data + s->len, p, n);
    s->len += n;
    s->data[s->len] = 0;
    return n;
}

typedef struct source {
    const char *data;
    size_t len, off;
} source;

static size_t
source_read(char *buf, size_t size, size_t nitems, void *ud)
{
    source *s = ud;
    size_t n = size * nitems;
    if (n > s->len - s->off)
        n = s->len - s->off;
    if (n > 65536)
        n = 65536;
    memcpy(buf, s->data + s->off, n);
    s->off += n;
    return n;
}

long
pgt_http_do(pgt_http *h, const pgt_http_req *rq, pgt_http_reply *out)
{
    pthread_once(&curl_once, curl_init);
    memset(out, 0, sizeof *out);
    CURL *c = curl_easy_init();
    if (!c)
        fail_with(h, "curl_easy_init failed");
    char url[4096];
    snprintf(url, sizeof url, "%s%s", h->url, rq->path ? rq->path : "/");
    sink body = {0}, head = {0};
    source src = {rq->body, rq->len, 0};
    struct curl_slist *hl = NULL;
    for (size_t i = 0; rq->headers && rq->headers[i]; i++)
        hl = curl_slist_append(hl, rq->headers[i]);
    const char *method = rq->method ? rq->method : "GET";
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
                     (long)((rq->timeout_s > 0 ? rq->timeout_s : 60) * 1000));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, sink_write);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &head);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    else if (strcmp(method, "GET") != 0)
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (rq->body) {
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, source_read);
        curl_easy_setopt(c, CURLOPT_READDATA, &src);
        if (!rq->chunked)
            curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)rq->len);
        else
            hl = curl_slist_append(hl, "Transfer-Encoding: chunked");
        hl = curl_slist_append(hl, "Expect:");
        if (strcmp(method, "GET") == 0)
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "POST");
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    else {
        snprintf(out->error, sizeof out->error, "%s", curl_easy_strerror(rc));
        /* A reply that came before the connection was cut still counts. */
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    }
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    out->status = status;
    out->body = body.data ? body.data : calloc(1, 1);
    out->len = body.len;
    out->headers = head.data ? head.data : calloc(1, 1);
    return status;
}

long
pgt_http_get(pgt_http *h, const char *path, const char *const *headers, pgt_http_reply *out)
{
    pgt_http_req rq = {0};
    rq.path = path;
    rq.headers = headers;
    return pgt_http_do(h, &rq, out);
}

void
pgt_http_reply_free(pgt_http_reply *r)
{
    if (!r)
        return;
    free(r->body);
    free(r->headers);
    r->body = r->headers = NULL;
}

const char *
pgt_http_header(const pgt_http_reply *r, const char *name)
{
    static char value[1024];
    size_t nl = strlen(name);
    /* The last block of headers (after a 100 Continue, the real reply's). */
    const char *p = r->headers, *last = r->headers;
    while (p && (p = strstr(p, "HTTP/")) != NULL) {
        if (p == r->headers || p[-1] == '\n')
            last = p;
        p += 5;
    }
    for (p = last; p && *p;) {
        const char *e = strstr(p, "\r\n");
        size_t ll = e ? (size_t)(e - p) : strlen(p);
        if (ll > nl && p[nl] == ':' && strncasecmp(p, name, nl) == 0) {
            const char *v = p + nl + 1;
            while (*v == ' ')
                v++;
            size_t vl = ll - (size_t)(v - p);
            snprintf(value, sizeof value, "%.*s", (int)vl, v);
            return value;
        }
        if (!e)
            break;
        p = e + 2;
    }
    return NULL;
}

/* ---------------------------------------------------------------- raw sockets */

int
pgt_http_connect(pgt_http *h)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        fail_with(h, "socket: %s", strerror(errno));
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)h->port);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        int e = errno;
        close(fd);
        fail_with(h, "cannot connect to port %d: %s", h->port, strerror(e));
    }
    return fd;
}

bool
pgt_http_send(int fd, const void *bytes, size_t n)
{
    const char *p = bytes;
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

char *
pgt_http_read_until(int fd, const char *needle, double timeout_s, bool *closed)
{
    size_t cap = 8192, n = 0;
    char *buf = malloc(cap);
    if (!buf)
        return NULL;
    buf[0] = 0;
    if (closed)
        *closed = false;
    double end = now_s() + timeout_s;
    for (;;) {
        if (needle && strstr(buf, needle))
            break;
        double left = end - now_s();
        if (left <= 0)
            break;
        struct pollfd p = {fd, POLLIN, 0};
        int pr = poll(&p, 1, (int)(left * 1000) + 1);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            continue;
        if (n + 4096 + 1 > cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb)
                break;
            buf = nb;
            cap *= 2;
        }
        ssize_t r = recv(fd, buf + n, cap - n - 1, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (closed)
                *closed = true;
            break;
        }
        n += (size_t)r;
        buf[n] = 0;
    }
    return buf;
}
