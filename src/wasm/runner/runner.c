/* plurigrid-sandbox: the child process that runs one strategy's shared object (docs/wasm.md,
 * "Limits"). The sandbox (src/wasm/sandbox.c) starts it with the object's path and its end of a
 * socket pair as fd 3, and sends the limits. The runner then
 *   1. closes every other descriptor above 2 and loads the object (dlopen), the only files it
 *      ever opens;
 *   2. sets its rlimits: no files written (FSIZE 0), no core dumps, no new processes (NPROC 0),
 *      4 descriptors, a lifetime CPU backstop (CPU; the parent's watchdog is the real deadline)
 *      and an address-space ceiling (AS) that the linear memory ceiling plus the runtime fit in
 *      (the runtime is compiled with explicit bounds checks, so it reserves no guard region);
 *   3. installs a seccomp filter: read on fd 3, write on fds 2 and 3, memory management without
 *      PROT_EXEC, signal return and masks, clocks, futex and exit; anything else kills the
 *      process (SIGSYS), so a call that escaped the runtime kills only this child;
 *   4. instantiates the module (its start function and data run under the filter) and serves
 *      calls: STATE frames set what the "pg" imports read, INVOKE frames call an export under
 *      the runtime's trap handler and answer with a RESULT (results, trap, exit, the call's
 *      capped log and optionally bytes read back from the guest's memory).
 * It links nothing of libplurigrid: the host side of every import is in host.c. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "wasm/proto.h"
#include "wasm/runner/host.h"
#include "wasm/so_abi.h"

#if defined(__x86_64__)
#define PGW_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define PGW_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#error "the sandbox's seccomp filter knows x86-64 and aarch64 only"
#endif

#if defined(__SANITIZE_ADDRESS__)
#define PGW_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PGW_ASAN 1
#endif
#endif
#ifndef PGW_ASAN
#define PGW_ASAN 0
#endif

#define ARG_LO(i) (offsetof(struct seccomp_data, args) + (i) * sizeof(uint64_t))
#define KILL BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS)
#define ALLOW BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)
#define ALLOW_NR(nr) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), ALLOW

static int
install_filter(void)
{
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PGW_AUDIT_ARCH, 1, 0),
        KILL,
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
#if defined(__x86_64__)
        /* the x32 ABI's numbers */
        BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 1),
        KILL,
#endif
        /* read: the socket only */
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_read, 0, 4),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(0)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PGW_CHILD_FD, 0, 1),
        ALLOW,
        KILL,
        /* write: the socket and standard error (the runtime's own last words) */
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_write, 0, 5),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(0)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PGW_CHILD_FD, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 2, 1, 0),
        KILL,
        ALLOW,
        /* mmap and mprotect: never executable */
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mmap, 0, 4),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(2)),
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, PROT_EXEC, 1, 0),
        ALLOW,
        KILL,
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mprotect, 0, 4),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(2)),
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, PROT_EXEC, 1, 0),
        ALLOW,
        KILL,
        ALLOW_NR(__NR_munmap),
        ALLOW_NR(__NR_mremap),
#ifdef __NR_brk
        ALLOW_NR(__NR_brk),
#endif
        ALLOW_NR(__NR_madvise),
        ALLOW_NR(__NR_rt_sigreturn),
        ALLOW_NR(__NR_rt_sigprocmask),
        ALLOW_NR(__NR_sigaltstack),
        ALLOW_NR(__NR_clock_gettime),
        ALLOW_NR(__NR_futex),
        ALLOW_NR(__NR_exit_group),
        ALLOW_NR(__NR_exit),
        KILL,
    };
    struct sock_fprog prog = {.len = (unsigned short)(sizeof f / sizeof f[0]), .filter = f};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
        return -1;
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) ? -1 : 0;
}

static void
close_others(void)
{
#ifdef SYS_close_range
    if (syscall(SYS_close_range, PGW_CHILD_FD + 1, ~0u, 0) == 0)
        return;
#endif
    struct rlimit r;
    long n = getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < 65536 ? (long)r.rlim_cur : 65536;
    for (long fd = PGW_CHILD_FD + 1; fd < n; fd++)
        close((int)fd);
}

static int
limit(int what, rlim_t v)
{
    struct rlimit r = {v, v};
    struct rlimit old;
    if (getrlimit(what, &old) == 0 && old.rlim_max != RLIM_INFINITY && old.rlim_max < v)
        r.rlim_cur = r.rlim_max = old.rlim_max;
    return setrlimit(what, &r);
}

static void
ready(int32_t status, uint32_t trap, int32_t code, const char *msg)
{
    pgw_wr w = {0};
    pgw_put_u32(&w, (uint32_t)status);
    pgw_put_u32(&w, trap);
    pgw_put_u32(&w, (uint32_t)code);
    pgw_put(&w, msg, strlen(msg));
    if (w.failed || pgw_send_blocking(PGW_CHILD_FD, PGW_MSG_READY, w.p, (uint32_t)w.len))
        _exit(3);
    pgw_wr_free(&w);
}

static int
sig_matches(const char *sig, pgw_rd *r, uint32_t n, pgw_value *vals)
{
    if (strlen(sig) != n)
        return 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t t = pgw_u32(r);
        uint64_t bits = pgw_u64(r);
        char want = t == 0x7f ? 'i' : t == 0x7e ? 'I' : t == 0x7d ? 'f' : t == 0x7c ? 'F' : '?';
        if (r->bad || want != sig[i])
            return 0;
        switch (want) {
        case 'i': vals[i].i32 = (uint32_t)bits; break;
        case 'I': vals[i].i64 = bits; break;
        case 'f': {
            uint32_t b32 = (uint32_t)bits;
            memcpy(&vals[i].f32, &b32, sizeof b32);
            break;
        }
        default: memcpy(&vals[i].f64, &bits, sizeof bits);
        }
    }
    return 1;
}

static void
put_value(pgw_wr *w, char sig, const pgw_value *v)
{
    uint64_t bits = 0;
    uint32_t type = 0x7f;
    switch (sig) {
    case 'i': bits = v->i32; break;
    case 'I': type = 0x7e, bits = v->i64; break;
    case 'f': {
        uint32_t b32;
        memcpy(&b32, &v->f32, sizeof b32);
        type = 0x7d, bits = b32;
        break;
    }
    default: type = 0x7c; memcpy(&bits, &v->f64, sizeof bits);
    }
    pgw_put_u32(w, type);
    pgw_put_u64(w, bits);
}

static void
selftest(uint32_t what)
{
    if (what & PGW_SELFTEST_OPEN) {
        /* a forged system call: the filter must kill the process here */
        int fd = open("/etc/hostname", O_RDONLY);
        (void)fd;
        _exit(5);
    }
    if (what & PGW_SELFTEST_GARBAGE) {
        static const char junk[] = "this is not a frame of the sandbox protocol";
        if (write(PGW_CHILD_FD, junk, sizeof junk) < 0)
            _exit(3);
    }
    if (what & PGW_SELFTEST_HUGE) {
        uint32_t h[3] = {PGW_MAGIC, PGW_MSG_RESULT, 0xffffff00u};
        if (write(PGW_CHILD_FD, h, sizeof h) < 0)
            _exit(3);
    }
}

/* Serves one INVOKE: returns 1 when the process must end after the reply (proc_exit). */
static int
invoke(const pgw_module_v1 *so, pgw_host_state *hs, const uint8_t *p, uint32_t len, uint32_t depth,
       uint32_t *selftests)
{
    pgw_rd r = {p, len, 0};
    uint32_t name_len = pgw_u32(&r);
    const uint8_t *name = pgw_bytes(&r, name_len);
    uint32_t nargs = pgw_u32(&r);
    int status = PGW_RES_OK, end = 0;
    uint32_t trap = 0;
    int32_t code = 0;
    const pgw_export_v1 *e = NULL;
    uint32_t idx = 0;
    pgw_value args[64], res[64];
    memset(res, 0, sizeof res);
    if (r.bad || nargs > 64)
        _exit(4);
    for (idx = 0; name && idx < so->n_exports; idx++)
        if (strlen(so->exports[idx].name) == name_len &&
            !memcmp(so->exports[idx].name, name, name_len)) {
            e = &so->exports[idx];
            break;
        }
    if (e && *selftests) {
        selftest(*selftests); /* at the first call of an export */
        *selftests = 0;
    }
    if (!e)
        status = PGW_RES_NOFUNC;
    else if (!sig_matches(e->params, &r, nargs, args))
        status = PGW_RES_BADARGS;
    uint32_t nres = 0, readback = 0;
    if (status == PGW_RES_OK) {
        nres = pgw_u32(&r);
        readback = pgw_u32(&r);
        if (r.bad || nres != e->n_results || nres > 64 || readback > PGW_FRAME_MAX / 2)
            status = PGW_RES_BADARGS;
    }
    if (status == PGW_RES_OK) {
        pgw_host_begin_call(hs);
        int rc = so->invoke(idx, args, res, depth, &trap, &code);
        if (rc == PGW_CALL_TRAP)
            status = PGW_RES_TRAP;
        else if (rc == PGW_CALL_EXIT)
            status = PGW_RES_EXIT, end = 1;
        else if (rc != PGW_CALL_OK)
            status = PGW_RES_NOFUNC;
    }
    pgw_wr w = {0};
    pgw_put_u32(&w, (uint32_t)status);
    pgw_put_u32(&w, trap);
    pgw_put_u32(&w, (uint32_t)code);
    uint32_t nout = status == PGW_RES_OK ? nres : 0;
    pgw_put_u32(&w, nout);
    for (uint32_t i = 0; i < nout; i++)
        put_value(&w, e->results[i], &res[i]);
    pgw_put_u32(&w, (uint32_t)hs->log_len);
    pgw_put_u32(&w, (uint32_t)(hs->log_dropped > UINT32_MAX ? UINT32_MAX : hs->log_dropped));
    pgw_put(&w, hs->log, hs->log_len);
    const uint8_t *back = NULL;
    uint32_t back_len = 0;
    if (status == PGW_RES_OK && readback && nres >= 1 && e->results[0] == 'i' && res[0].i32) {
        uint32_t size, pages, max;
        uint8_t *mem = so->memory(&size, &pages, &max);
        if (!mem || (uint64_t)res[0].i32 + readback > size) {
            /* answered as BADREAD: the status word is rewritten */
            uint32_t s = PGW_RES_BADREAD;
            if (!w.failed)
                memcpy(w.p, &s, sizeof s);
        } else {
            back = mem + res[0].i32;
            back_len = readback;
        }
    }
    pgw_put_u32(&w, back_len);
    pgw_put(&w, back, back_len);
    if (w.failed || pgw_send_blocking(PGW_CHILD_FD, PGW_MSG_RESULT, w.p, (uint32_t)w.len))
        _exit(3);
    pgw_wr_free(&w);
    return end;
}

int
main(int argc, char **argv)
{
    if (argc != 2 || fcntl(PGW_CHILD_FD, F_GETFD) < 0) {
        fprintf(stderr, "plurigrid-sandbox runs a strategy for plurigrid's sandbox; it is started "
                        "by plurigrid, not by hand\n");
        return 2;
    }
    close_others();
    uint32_t type, len;
    uint8_t *p = NULL;
    if (pgw_recv_blocking(PGW_CHILD_FD, &type, &p, &len) || type != PGW_MSG_INIT ||
        len != sizeof(pgw_init_msg))
        return 3;
    pgw_init_msg init;
    memcpy(&init, p, sizeof init);
    free(p);

    void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        char msg[512];
        snprintf(msg, sizeof msg, "cannot load %s", e ? e : argv[1]);
        ready(PGW_CALL_REFUSED, 0, 0, msg);
        return 0;
    }
    const pgw_module_v1 *so = dlsym(h, "pg_wasm_module_v1");
    if (!so || so->abi != PGW_SO_ABI_VERSION) {
        ready(PGW_CALL_REFUSED, 0, 0,
              so ? "the module was built for another version of the sandbox: build it again "
                   "with plurigrid wasm build"
                 : "this shared object is not a strategy built by plurigrid wasm build");
        return 0;
    }
    if (so->has_memory && so->mem_initial > init.max_pages) {
        char msg[256];
        snprintf(msg, sizeof msg,
                 "the module's initial memory (%u pages of 64 KiB) is above the ceiling of %u "
                 "pages",
                 so->mem_initial, init.max_pages);
        ready(PGW_CALL_REFUSED, 0, 0, msg);
        return 0;
    }

    pgw_host_state *hs = pgw_host_new(init.seed, init.log_bytes);
    if (!hs)
        return 3;
    pgw_host_v1 host = {hs, pgw_host_import};

    /* rlimits, then the filter: from here on the process can only compute and talk on fd 3 */
    limit(RLIMIT_FSIZE, 0);
    limit(RLIMIT_CORE, 0);
    limit(RLIMIT_NPROC, 0);
    limit(RLIMIT_NOFILE, PGW_CHILD_FD + 1);
    limit(RLIMIT_CPU, init.cpu_s ? init.cpu_s : 600);
    if (!PGW_ASAN)
        limit(RLIMIT_AS, (rlim_t)init.max_pages * 65536u * 2 + ((rlim_t)1 << 30));
    if (install_filter()) {
        char msg[256];
        snprintf(msg, sizeof msg, "cannot install the seccomp filter: %s", strerror(errno));
        ready(PGW_CALL_REFUSED, 0, 0, msg);
        return 0;
    }

    uint32_t trap = 0;
    int32_t code = 0;
    int rc = so->instantiate(&host, init.max_pages, init.depth, &trap, &code);
    if (rc != PGW_CALL_OK) {
        ready(rc, trap, code,
              rc == PGW_CALL_TRAP   ? "instantiating the module trapped"
              : rc == PGW_CALL_EXIT ? "the module exited while instantiated"
                                    : "the module refused to be instantiated");
        return 0;
    }
    ready(PGW_CALL_OK, 0, 0, "ready");

    uint32_t selftests = init.selftest;
    for (;;) {
        if (pgw_recv_blocking(PGW_CHILD_FD, &type, &p, &len))
            _exit(0); /* the parent closed its end */
        if (type == PGW_MSG_STATE) {
            if (pgw_host_set_state(hs, p, len))
                _exit(4);
        } else if (type == PGW_MSG_INVOKE) {
            if (invoke(so, hs, p, len, init.depth, &selftests)) {
                free(p);
                _exit(0);
            }
        } else
            _exit(4);
        free(p);
    }
}
