/* The sandbox's parent side (docs/wasm.md, "Limits"): the runner (plurigrid-sandbox) started as
 * a child process with fork and exec, its end of a Unix socket pair as fd 3; one call at a time
 * over the framed protocol of proto.h. Every reply is read under the call's deadline (poll); a
 * call past it gets the child killed (SIGKILL) and reaped, and is reported "killed"; a child that
 * dies, or sends a malformed or oversized reply, is reported with its reason; either way the next
 * call starts a new child (and instantiates and initialises the module again). The parent's end
 * is non-blocking and close-on-exec, written with MSG_NOSIGNAL (a dead child never raises
 * SIGPIPE here), and every child is reaped: no zombies, no leaked descriptors. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/util.h"
#include "wasm/internal.h"
#include "wasm/proto.h"
#include "wasm/sandbox_internal.h"

void
pgi_wasm_limits_init(pgi_wasm_sandbox_limits *l)
{
    memset(l, 0, sizeof *l);
    l->memory_pages = 256;
    l->stack_depth = 4096;
    l->call_ms = 250;
    l->init_ms = 2000;
    l->log_bytes = 4096;
    l->cpu_s = 600;
}

/* ---------------------------------------------------------------- finding the runner */

static int
executable(const char *p)
{
    struct stat st;
    return p && *p && stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0;
}

/* A function of this file, to find the library's own file with dladdr. */
static void
anchor(void)
{
}

/* plurigrid/plurigrid-sandbox in the folder of the file this code is in (libplurigrid.so; for a
 * program linked with the static library, the program's folder), as src/core/loader.c finds the
 * library's modules. */
static char *
beside_library(void)
{
    Dl_info info;
    void (*fn)(void) = anchor;
    void *addr;
    memcpy(&addr, &fn, sizeof addr);
    if (!dladdr(addr, &info) || !info.dli_fname)
        return NULL;
    const char *slash = strrchr(info.dli_fname, '/');
    if (!slash)
        return NULL;
    pgi_buf b = {0};
    pgi_buf_printf(&b, "%.*s/plurigrid/plurigrid-sandbox", (int)(slash - info.dli_fname),
                   info.dli_fname);
    if (b.failed) {
        pgi_buf_free(&b);
        return NULL;
    }
    return b.data;
}

static char *
find_runner(const char *given, pg_error *err)
{
    if (given) {
        if (executable(given))
            return pgi_strdup(given);
        pg_error_set(err, PG_ENOTFOUND, "the sandbox's runner %s is not an executable file", given);
        return NULL;
    }
    const char *env = getenv("PLURIGRID_SANDBOX");
    if (env && *env) {
        if (executable(env))
            return pgi_strdup(env);
        pg_error_set(err, PG_ENOTFOUND,
                     "PLURIGRID_SANDBOX names %s, which is not an executable file", env);
        return NULL;
    }
    char *p = beside_library();
    if (p && executable(p))
        return p;
    free(p);
#ifdef PG_WASM_BUILD_RUNNER
    if (executable(PG_WASM_BUILD_RUNNER))
        return pgi_strdup(PG_WASM_BUILD_RUNNER);
#endif
    pg_error_set(err, PG_ENOTFOUND,
                 "cannot find the sandbox's runner plurigrid-sandbox (it is installed in "
                 "lib/plurigrid/ beside libplurigrid; PLURIGRID_SANDBOX may name it)");
    return NULL;
}

/* ---------------------------------------------------------------- the child */

static void set_why(pgi_wasm_outcome *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void
set_why(pgi_wasm_outcome *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o->why, sizeof o->why, fmt, ap);
    va_end(ap);
}

/* Kills (when asked) and reaps the child; fills how it ended when o is given. */
static void
stop_child(pgi_wasm_sandbox *sb, int kill_it, pgi_wasm_outcome *o)
{
    if (sb->fd >= 0) {
        close(sb->fd);
        sb->fd = -1;
    }
    if (sb->pid <= 0)
        return;
    if (kill_it)
        kill(sb->pid, SIGKILL);
    int st = 0;
    pid_t r;
    do
        r = waitpid(sb->pid, &st, 0);
    while (r < 0 && errno == EINTR);
    if (o && r == sb->pid) {
        if (WIFSIGNALED(st)) {
            o->signal = WTERMSIG(st);
            set_why(o, "died: signal %d (%s)%s", o->signal, strsignal(o->signal),
                    o->signal == SIGSYS    ? ": a system call the sandbox does not allow"
                    : o->signal == SIGXCPU ? ": the CPU-time backstop"
                                           : "");
        } else if (WIFEXITED(st))
            set_why(o, "died: the runner ended with status %d", WEXITSTATUS(st));
    }
    sb->pid = 0;
}

static int
spawn(pgi_wasm_sandbox *sb, pg_error *err)
{
    int sv[2] = {-1, -1};
    int devnull = -1;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
        return pg_error_set(err, PG_EIO, "cannot make the sandbox's socket pair: %s",
                            strerror(errno));
    devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0) {
        close(sv[0]);
        close(sv[1]);
        return pg_error_set(err, PG_EIO, "cannot open /dev/null: %s", strerror(errno));
    }
    char *argv[] = {sb->runner, sb->so_path, NULL};
    pid_t pid = fork();
    if (pid == 0) {
        /* only async-signal-safe calls until exec */
        if (sv[1] == PGW_CHILD_FD)
            fcntl(sv[1], F_SETFD, 0);
        else if (dup2(sv[1], PGW_CHILD_FD) < 0)
            _exit(127);
        if (dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0)
            _exit(127);
        struct rlimit st;
        if (getrlimit(RLIMIT_STACK, &st) == 0) {
            rlim_t want = (rlim_t)64 << 20;
            if (st.rlim_max != RLIM_INFINITY && st.rlim_max < want)
                want = st.rlim_max;
            st.rlim_cur = want;
            setrlimit(RLIMIT_STACK, &st);
        }
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execv(argv[0], argv);
        _exit(127);
    }
    int saved = errno;
    close(sv[1]);
    close(devnull);
    if (pid < 0) {
        close(sv[0]);
        return pg_error_set(err, PG_EIO, "cannot start the sandbox's runner: %s", strerror(saved));
    }
    fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
    sb->fd = sv[0];
    sb->pid = pid;
    return PG_OK;
}

/* ---------------------------------------------------------------- frames under a deadline */

enum { IO_OK = 0, IO_TIMEOUT = 1, IO_EOF = 2, IO_BAD = 3 };

static int
wait_fd(int fd, short ev, double deadline)
{
    for (;;) {
        double left = deadline - pgi_now();
        if (left <= 0)
            return IO_TIMEOUT;
        struct pollfd p = {fd, ev, 0};
        int ms = (int)ceil(left * 1000);
        int r = poll(&p, 1, ms < 1 ? 1 : ms);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return IO_EOF;
        if (r > 0)
            return IO_OK;
    }
}

static int
send_all(int fd, const void *buf, size_t n, double deadline)
{
    const uint8_t *p = buf;
    while (n) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k > 0) {
            p += k;
            n -= (size_t)k;
            continue;
        }
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int w = wait_fd(fd, POLLOUT, deadline);
            if (w)
                return w;
            continue;
        }
        return IO_EOF;
    }
    return IO_OK;
}

static int
recv_all(int fd, void *buf, size_t n, double deadline)
{
    uint8_t *p = buf;
    while (n) {
        ssize_t k = recv(fd, p, n, 0);
        if (k > 0) {
            p += k;
            n -= (size_t)k;
            continue;
        }
        if (k == 0)
            return IO_EOF;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            int w = wait_fd(fd, POLLIN, deadline);
            if (w)
                return w;
            continue;
        }
        return IO_EOF;
    }
    return IO_OK;
}

static int
send_frame(pgi_wasm_sandbox *sb, uint32_t type, const void *p, size_t len, double deadline)
{
    uint32_t h[3] = {PGW_MAGIC, type, (uint32_t)len};
    if (len > PGW_FRAME_MAX)
        return IO_BAD;
    int r = send_all(sb->fd, h, sizeof h, deadline);
    return r ? r : send_all(sb->fd, p, len, deadline);
}

/* Reads one frame of the expected type, at most max bytes. */
static int
recv_frame(pgi_wasm_sandbox *sb, uint32_t want, uint32_t max, uint8_t **out, uint32_t *len,
           double deadline)
{
    uint32_t h[3];
    int r = recv_all(sb->fd, h, sizeof h, deadline);
    if (r)
        return r;
    if (h[0] != PGW_MAGIC || h[1] != want || h[2] > max)
        return IO_BAD;
    uint8_t *p = malloc(h[2] ? h[2] : 1);
    if (!p)
        return IO_BAD;
    r = recv_all(sb->fd, p, h[2], deadline);
    if (r) {
        free(p);
        return r;
    }
    *out = p;
    *len = h[2];
    return IO_OK;
}

/* An I/O failure of a call, as its outcome; the child is gone afterwards. */
static void
io_failed(pgi_wasm_sandbox *sb, int io, double ms_limit, pgi_wasm_outcome *o)
{
    if (io == IO_TIMEOUT) {
        stop_child(sb, 1, NULL);
        o->kind = PGI_WASM_KILLED;
        set_why(o, "killed: past its deadline of %g ms", ms_limit);
    } else if (io == IO_BAD) {
        stop_child(sb, 1, NULL);
        o->kind = PGI_WASM_PROTOCOL;
        set_why(o, "protocol error: the runner sent a malformed or oversized reply");
    } else {
        o->kind = PGI_WASM_DIED;
        set_why(o, "died");
        /* the socket closed: the child is ending, or hung up and must be stopped */
        stop_child(sb, 1, o);
    }
}

/* ---------------------------------------------------------------- starting */

static int raw_invoke(pgi_wasm_sandbox *sb, const char *name, const pgi_wasm_val *args,
                      size_t nargs, pgi_wasm_val *results, size_t nres, uint32_t readback,
                      uint8_t *back, pgi_wasm_outcome *o, double ms, pg_error *err);

/* Starts the child, instantiates the module and calls _initialize and pg_init when exported. */
static int
start(pgi_wasm_sandbox *sb, pg_error *err)
{
    int rc = spawn(sb, err);
    if (rc)
        return rc;
    double deadline = pgi_now() + sb->limits.init_ms / 1000.0;
    pgw_init_msg m = {sb->limits.memory_pages,
                      sb->limits.stack_depth,
                      sb->limits.log_bytes,
                      sb->limits.cpu_s,
                      sb->host.seed,
                      sb->limits.selftest,
                      0};
    uint8_t *p = NULL;
    uint32_t len = 0;
    int io = send_frame(sb, PGW_MSG_INIT, &m, sizeof m, deadline);
    if (!io)
        io = recv_frame(sb, PGW_MSG_READY, 4096, &p, &len, deadline);
    if (io) {
        pgi_wasm_outcome o = {0};
        io_failed(sb, io, sb->limits.init_ms, &o);
        return pg_error_set(err, PG_EMODEL, "cannot start the strategy %s: %s", sb->so_path, o.why);
    }
    pgw_rd r = {p, len, 0};
    int32_t status = (int32_t)pgw_u32(&r);
    uint32_t trap = pgw_u32(&r);
    int32_t code = (int32_t)pgw_u32(&r);
    int msg_len = (int)(r.left > 300 ? 300 : r.left);
    if (r.bad || status != 0) {
        char msg[320];
        snprintf(msg, sizeof msg, "%.*s", msg_len, (const char *)r.p);
        free(p);
        stop_child(sb, 1, NULL);
        if (status == 1)
            return pg_error_set(err, PG_EMODEL, "the strategy %s trapped while instantiated: %s",
                                sb->so_path, pgi_wasm_trap_name((pgi_wasm_trap)trap));
        if (status == 2)
            return pg_error_set(err, PG_EMODEL,
                                "the strategy %s exited (code %d) while instantiated", sb->so_path,
                                code);
        return pg_error_set(err, PG_EMODEL, "cannot start the strategy %s: %s", sb->so_path,
                            r.bad ? "malformed reply from the runner" : msg);
    }
    free(p);
    static const char *const inits[] = {PGI_WASM_EXPORT_INITIALIZE, "pg_init"};
    for (size_t i = 0; i < 2; i++) {
        pgi_wasm_outcome o = {0};
        pgi_wasm_val res = {0};
        size_t nres = i == 1 ? 1 : 0;
        /* one deadline for the whole start: what the earlier steps used is gone */
        double left_ms = (deadline - pgi_now()) * 1000;
        if (left_ms < 1) {
            stop_child(sb, 1, NULL);
            return pg_error_set(err, PG_EMODEL,
                                "the strategy's %s failed: killed: past the start deadline of "
                                "%u ms",
                                inits[i], sb->limits.init_ms);
        }
        rc = raw_invoke(sb, inits[i], NULL, 0, &res, nres, 0, NULL, &o, left_ms, err);
        if (rc == PG_ENOTFOUND) {
            pg_error_clear(err);
            continue;
        }
        if (rc)
            return rc;
        if (o.kind == PGI_WASM_KILLED)
            set_why(&o, "killed: past the start deadline of %u ms", sb->limits.init_ms);
        if (o.kind != PGI_WASM_OK) {
            stop_child(sb, 1, NULL);
            return pg_error_set(err, PG_EMODEL, "the strategy's %s failed: %s", inits[i], o.why);
        }
        if (nres && res.v.i32 != 0) {
            stop_child(sb, 1, NULL);
            return pg_error_set(err, PG_EMODEL,
                                "the strategy's pg_init refused to start (it returned %d)",
                                (int32_t)res.v.i32);
        }
    }
    return PG_OK;
}

int
pgi_wasm_sandbox_new(pgi_wasm_sandbox **out, const char *so_path,
                     const pgi_wasm_sandbox_limits *limits, const pgi_wasm_host *host,
                     pg_error *err)
{
    if (!out || !so_path)
        return pg_error_set(err, PG_EINVAL, "pgi_wasm_sandbox_new: out or so_path is NULL");
    pgi_wasm_sandbox *sb = calloc(1, sizeof *sb);
    if (!sb)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    sb->fd = -1;
    if (limits)
        sb->limits = *limits;
    else
        pgi_wasm_limits_init(&sb->limits);
    if (host)
        sb->host = *host;
    sb->host.runner = NULL;
    int rc = PG_OK;
    if (sb->limits.memory_pages == 0 || sb->limits.memory_pages > 32768 ||
        sb->limits.stack_depth == 0 || sb->limits.stack_depth > PGI_WASM_MAX_DEPTH ||
        sb->limits.call_ms == 0 || sb->limits.init_ms == 0 || sb->limits.log_bytes > (1u << 20)) {
        rc = pg_error_set(err, PG_EINVAL,
                          "sandbox limits out of range: memory 1..32768 pages, stack depth "
                          "1..%u, call and start deadlines > 0 ms, log at most 1 MiB per call",
                          PGI_WASM_MAX_DEPTH);
        goto out;
    }
    if (!(sb->so_path = pgi_strdup(so_path)) ||
        !(sb->runner = find_runner(host ? host->runner : NULL, err))) {
        rc = sb->so_path && sb->runner ? PG_ENOMEM : (err && err->code ? err->code : PG_ENOMEM);
        goto out;
    }
    rc = start(sb, err);
out:
    if (rc) {
        pgi_wasm_sandbox_free(sb);
        return rc;
    }
    *out = sb;
    return PG_OK;
}

/* ---------------------------------------------------------------- calls */

static int
raw_invoke(pgi_wasm_sandbox *sb, const char *name, const pgi_wasm_val *args, size_t nargs,
           pgi_wasm_val *results, size_t nres, uint32_t readback, uint8_t *back,
           pgi_wasm_outcome *o, double ms, pg_error *err)
{
    memset(o, 0, sizeof *o);
    size_t name_len = strlen(name);
    if (nargs > 64 || nres > 64 || name_len > 65536)
        return pg_error_set(err, PG_EINVAL, "a call of %s with too many values", name);
    pgw_wr w = {0};
    pgw_put_u32(&w, (uint32_t)name_len);
    pgw_put(&w, name, name_len);
    pgw_put_u32(&w, (uint32_t)nargs);
    for (size_t i = 0; i < nargs; i++) {
        uint64_t bits = 0;
        switch (args[i].type) {
        case PGI_WASM_I32: bits = args[i].v.i32; break;
        case PGI_WASM_I64: bits = args[i].v.i64; break;
        case PGI_WASM_F32: {
            uint32_t b;
            memcpy(&b, &args[i].v.f32, sizeof b);
            bits = b;
            break;
        }
        case PGI_WASM_F64: memcpy(&bits, &args[i].v.f64, sizeof bits); break;
        default:
            pgw_wr_free(&w);
            return pg_error_set(err, PG_EINVAL, "argument %zu of %s has no number type", i + 1,
                                name);
        }
        pgw_put_u32(&w, args[i].type);
        pgw_put_u64(&w, bits);
    }
    pgw_put_u32(&w, (uint32_t)nres);
    pgw_put_u32(&w, readback);
    if (w.failed) {
        pgw_wr_free(&w);
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    }
    double t0 = pgi_now();
    double deadline = t0 + ms / 1000.0;
    uint8_t *p = NULL;
    uint32_t len = 0;
    int io = IO_OK;
    if (sb->state.len)
        io = send_frame(sb, PGW_MSG_STATE, sb->state.p, sb->state.len, deadline);
    if (!io)
        io = send_frame(sb, PGW_MSG_INVOKE, w.p, w.len, deadline);
    pgw_wr_free(&w);
    if (!io)
        io = recv_frame(sb, PGW_MSG_RESULT, 64 * 13 + 32 + sb->limits.log_bytes + readback, &p,
                        &len, deadline);
    o->ms = (pgi_now() - t0) * 1000;
    if (io) {
        io_failed(sb, io, ms, o);
        return PG_OK;
    }
    pgw_rd r = {p, len, 0};
    uint32_t status = pgw_u32(&r);
    uint32_t trap = pgw_u32(&r);
    int32_t code = (int32_t)pgw_u32(&r);
    uint32_t nout = pgw_u32(&r);
    pgi_wasm_val vals[64];
    if (nout > 64 || (status == PGW_RES_OK && nout != nres) ||
        (status != PGW_RES_OK && status != PGW_RES_BADREAD && nout != 0))
        r.bad = 1;
    for (uint32_t i = 0; i < nout && !r.bad; i++) {
        uint32_t t = pgw_u32(&r);
        uint64_t bits = pgw_u64(&r);
        vals[i].type = (uint8_t)t;
        switch (t) {
        case PGI_WASM_I32: vals[i].v.i32 = (uint32_t)bits; break;
        case PGI_WASM_I64: vals[i].v.i64 = bits; break;
        case PGI_WASM_F32: {
            uint32_t b = (uint32_t)bits;
            memcpy(&vals[i].v.f32, &b, sizeof b);
            break;
        }
        case PGI_WASM_F64: memcpy(&vals[i].v.f64, &bits, sizeof bits); break;
        default: r.bad = 1;
        }
    }
    uint32_t log_len = pgw_u32(&r);
    uint32_t dropped = pgw_u32(&r);
    const uint8_t *log = log_len <= sb->limits.log_bytes ? pgw_bytes(&r, log_len) : NULL;
    uint32_t back_len = pgw_u32(&r);
    const uint8_t *bk = pgw_bytes(&r, back_len);
    if (!log || r.bad || r.left || (back_len && back_len != readback) || status > PGW_RES_BADREAD) {
        free(p);
        io_failed(sb, IO_BAD, ms, o);
        return PG_OK;
    }
    o->log_dropped = dropped;
    if (log_len && sb->host.log)
        sb->host.log(sb->host.user, (const char *)log, log_len);
    int rc = PG_OK;
    switch (status) {
    case PGW_RES_OK:
        o->kind = PGI_WASM_OK;
        snprintf(o->why, sizeof o->why, "ok");
        for (size_t i = 0; i < nres; i++)
            results[i] = vals[i];
        if (readback && back && back_len)
            memcpy(back, bk, back_len);
        break;
    case PGW_RES_TRAP:
        o->kind = PGI_WASM_TRAPPED;
        o->trap = (pgi_wasm_trap)trap;
        set_why(o, "trap: %s", pgi_wasm_trap_name(o->trap));
        break;
    case PGW_RES_EXIT:
        o->kind = PGI_WASM_EXITED;
        o->exit_code = code;
        set_why(o, "exited: proc_exit(%d)", code);
        stop_child(sb, 0, NULL); /* the runner ends after an exit */
        break;
    case PGW_RES_BADREAD:
        o->kind = PGI_WASM_BAD_BID;
        set_why(o, "bad bid: the returned address is outside the strategy's memory");
        break;
    case PGW_RES_NOFUNC:
        rc = pg_error_set(err, PG_ENOTFOUND, "the module exports no function %s", name);
        break;
    default:
        rc = pg_error_set(err, PG_EINVAL,
                          "%s was called with arguments or results that do not match its type",
                          name);
    }
    free(p);
    return rc;
}

int
pgi_wasm_sandbox_call(pgi_wasm_sandbox *sb, const char *name, const pgi_wasm_val *args,
                      size_t nargs, pgi_wasm_val *results, size_t nres, uint32_t readback,
                      uint8_t *back, pgi_wasm_outcome *o, pg_error *err)
{
    if (!sb || !name || !o || (nargs && !args) || (nres && !results))
        return pg_error_set(err, PG_EINVAL, "pgi_wasm_sandbox_invoke: a required argument is NULL");
    memset(o, 0, sizeof *o);
    if (sb->pid <= 0) {
        int rc = start(sb, err);
        if (rc)
            return rc;
    }
    return raw_invoke(sb, name, args, nargs, results, nres, readback, back, o, sb->limits.call_ms,
                      err);
}

int
pgi_wasm_sandbox_invoke(pgi_wasm_sandbox *sb, const char *export_name, const pgi_wasm_val *args,
                        size_t nargs, pgi_wasm_val *results, size_t nres, pgi_wasm_outcome *outcome,
                        pg_error *err)
{
    return pgi_wasm_sandbox_call(sb, export_name, args, nargs, results, nres, 0, NULL, outcome,
                                 err);
}

long
pgi_wasm_sandbox_pid(const pgi_wasm_sandbox *sb)
{
    return sb && sb->pid > 0 ? (long)sb->pid : 0;
}

void
pgi_wasm_sandbox_free(pgi_wasm_sandbox *sb)
{
    if (!sb)
        return;
    if (sb->pid > 0) {
        /* closing the socket ends the runner at once; a runner busy in a call is killed */
        close(sb->fd);
        sb->fd = -1;
        int st;
        pid_t r = waitpid(sb->pid, &st, WNOHANG);
        for (int i = 0; r == 0 && i < 20; i++) {
            usleep(1000);
            r = waitpid(sb->pid, &st, WNOHANG);
        }
        if (r == 0)
            stop_child(sb, 1, NULL);
        sb->pid = 0;
    }
    if (sb->fd >= 0)
        close(sb->fd);
    pgw_wr_free(&sb->state);
    free(sb->so_path);
    free(sb->runner);
    free(sb);
}
