/* The sandbox (src/wasm/sandbox.c, the runner, the glue): hand-written modules, assembled with
 * wat2wasm and built with pg_wasm_build, run in the child process. Out-of-bounds loads and
 * stores trap and the child carries on; an infinite loop is killed at its deadline and the next
 * call works in a new child; unbounded recursion traps (call stack exhausted); memory.grow past
 * the ceiling returns -1 and a module whose initial memory is above it is refused; a forged
 * system call (the runner's self-test: open() after the filter) kills the child with SIGSYS; a
 * child writing garbage or an oversized frame is a protocol error; proc_exit is "exited"; the log
 * is capped per call; random bytes repeat with the seed and the clock is the simulated time;
 * typed calls of every number type and several results; a strategy's plan is read back and a
 * malformed one is "bad bid"; no child is left unreaped and no descriptor leaks; the start
 * deadline covers _initialize and pg_init together; a table too large to allocate traps at
 * instantiation. */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "plurigrid/wasm.h"
#include "plurigrid/wasm_guest.h"
#include "core/util.h"
#include "wasm/internal.h"
#include "wasm/proto.h"
#include "wasm/tool.h"

#if defined(__SANITIZE_ADDRESS__)
#define PGW_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PGW_TEST_ASAN 1
#endif
#endif
#ifndef PGW_TEST_ASAN
#define PGW_TEST_ASAN 0
#endif

static const char *const HOSTILE =
    "(module\n"
    "  (import \"pg\" \"log\" (func $log (param i32 i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"fd_write\"\n"
    "    (func $fd_write (param i32 i32 i32 i32) (result i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"proc_exit\" (func $exit (param i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"random_get\" (func $random (param i32 i32) (result "
    "i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"clock_time_get\"\n"
    "    (func $clock (param i32 i64 i32) (result i32)))\n"
    "  (memory (export \"memory\") 1 100)\n"
    "  (global $calls (mut i32) (i32.const 0))\n"
    "  (func (export \"load\") (param i32) (result i32) (i32.load (local.get 0)))\n"
    "  (func (export \"store\") (param i32) (result i32)\n"
    "    (i32.store (local.get 0) (i32.const 7)) (i32.const 1))\n"
    "  (func (export \"spin\") (result i32) (loop $l (br $l)) (i32.const 0))\n"
    "  (func $rec (export \"rec\") (param i32) (result i32)\n"
    "    (i32.add (i32.const 1) (call $rec (local.get 0))))\n"
    "  (func (export \"grow\") (param i32) (result i32) (memory.grow (local.get 0)))\n"
    "  (func (export \"pages\") (result i32) (memory.size))\n"
    "  (func (export \"count\") (result i32)\n"
    "    (global.set $calls (i32.add (global.get $calls) (i32.const 1))) (global.get $calls))\n"
    "  (func (export \"bye\") (param i32) (result i32) (call $exit (local.get 0)) (i32.const "
    "0))\n"
    /* 100 bytes of 'x' at 1024, an iovec at 64 pointing at them; written n times */
    "  (func (export \"spam\") (param $n i32) (result i32)\n"
    "    (memory.fill (i32.const 1024) (i32.const 120) (i32.const 100))\n"
    "    (i32.store (i32.const 64) (i32.const 1024)) (i32.store (i32.const 68) (i32.const "
    "100))\n"
    "    (block $b (loop $l (br_if $b (i32.eqz (local.get $n)))\n"
    "      (drop (call $fd_write (i32.const 1) (i32.const 64) (i32.const 1) (i32.const 72)))\n"
    "      (local.set $n (i32.sub (local.get $n) (i32.const 1))) (br $l)))\n"
    "    (call $log (i32.const 1024) (i32.const 5)) (i32.const 0))\n"
    "  (func (export \"badlog\") (result i32) (call $log (i32.const 65530) (i32.const 100)) "
    "(i32.const 0))\n"
    "  (func (export \"rand\") (result i64)\n"
    "    (drop (call $random (i32.const 128) (i32.const 8))) (i64.load (i32.const 128)))\n"
    "  (func (export \"clock\") (result i64)\n"
    "    (drop (call $clock (i32.const 0) (i64.const 1) (i32.const 136))) (i64.load (i32.const "
    "136)))\n"
    "  (func (export \"mix\") (param i32 i64 f32 f64) (result f64 i64 f32 i32)\n"
    "    (f64.add (local.get 3) (f64.convert_i64_s (local.get 1)))\n"
    "    (i64.mul (local.get 1) (i64.const 2)) (f32.mul (local.get 2) (f32.const 2))\n"
    "    (i32.add (local.get 0) (i32.const 1)))\n"
    ")\n";

/* A strategy: pg_on_interval's plan depends on a mode set by set_mode. Mode 0 a good plan from
 * the view (price = retail[0], qty = soc), 1 a NaN price, 2 an increasing curve, 3 an address
 * outside the memory, 4 no bid (0), 5 seventeen points (one more than a plan holds). */
static const char *const STRATEGY =
    "(module\n"
    "  (import \"pg\" \"view\" (func $view (param i32 i32) (result i32)))\n"
    "  (import \"pg\" \"series\" (func $series (param i32 i32 i32) (result i32)))\n"
    "  (memory (export \"memory\") 1 2)\n"
    "  (global $mode (mut i32) (i32.const 0))\n"
    "  (func (export \"pg_init\") (result i32) (i32.const 0))\n"
    "  (func (export \"set_mode\") (param i32) (result i32) (global.set $mode (local.get 0)) "
    "(i32.const 0))\n"
    "  (func (export \"pg_on_interval\") (result i32)\n"
    "    (drop (call $view (i32.const 0) (i32.const 216)))\n"
    "    (drop (call $series (i32.const 0) (i32.const 4096) (i32.const 96)))\n"
    /* the plan at 1024: battery_kw = hour_of_day (view + 64), hvac NaN */
    "    (f64.store (i32.const 1024) (f64.load (i32.const 64)))\n"
    "    (f64.store (i32.const 1040) (f64.const nan))\n"
    "    (i32.store (i32.const 1072) (i32.const 2))\n"
    "    (f64.store (i32.const 1080) (f64.load (i32.const 4096)))\n"
    "    (f64.store (i32.const 1088) (f64.load (i32.const 72)))\n"
    "    (f64.store (i32.const 1096) (f64.add (f64.load (i32.const 4096)) (f64.const 1)))\n"
    "    (f64.store (i32.const 1104) (f64.const 0))\n"
    "    (if (i32.eq (global.get $mode) (i32.const 1))\n"
    "      (then (f64.store (i32.const 1080) (f64.const nan))))\n"
    "    (if (i32.eq (global.get $mode) (i32.const 2))\n"
    "      (then (f64.store (i32.const 1104) (f64.const 50))))\n"
    "    (if (i32.eq (global.get $mode) (i32.const 3)) (then (return (i32.const 65500))))\n"
    "    (if (i32.eq (global.get $mode) (i32.const 4)) (then (return (i32.const 0))))\n"
    "    (if (i32.eq (global.get $mode) (i32.const 5))\n"
    "      (then (i32.store (i32.const 1072) (i32.const 17))))\n"
    "    (i32.const 1024))\n"
    ")\n";

/* Initial memory of 8 pages: above a ceiling of 4. */
static const char *const BIG = "(module (memory (export \"memory\") 8 8)\n"
                               "  (func (export \"f\") (result i32) (i32.const 1)))\n";

/* A strategy in C on wasi-libc (a reactor): stdio, malloc, time, getenv and random through the
 * WASI subset, the view and a series through the pg imports. */
static const char *const C_STRATEGY =
    "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n#include <time.h>\n"
    "#include \"plurigrid/wasm_guest.h\"\n"
    "static pg_wasm_plan plan;\n"
    "static int calls;\n"
    "PG_WASM_EXPORT(\"pg_init\") int32_t init(void) { printf(\"init\\n\"); return 0; }\n"
    "PG_WASM_EXPORT(\"pg_on_interval\") int32_t on_interval(void) {\n"
    "  pg_wasm_view v;\n  pg_view(&v, sizeof v);\n"
    "  double r[96];\n  int h = pg_series(PG_SERIES_RETAIL, r, 96);\n"
    "  char *p = malloc(100000);\n  memset(p, 1, 100000);\n"
    "  unsigned x;\n  arc4random_buf(&x, sizeof x);\n"
    "  printf(\"call %d t=%u h=%d time=%ld env=%s\\n\", ++calls, v.t, h, (long)time(NULL),\n"
    "         getenv(\"HOME\") ? \"yes\" : \"no\");\n"
    "  fprintf(stderr, \"rnd %u\\n\", x);\n"
    "  int one = p[7];\n"
    "  free(p);\n"
    "  plan.n_points = 1;\n  plan.curve[0].price = r[0];\n  plan.curve[0].qty = one;\n"
    "  plan.battery_kw = v.soc_kwh;\n"
    "  return (int32_t)(intptr_t)&plan;\n}\n";

static char so_hostile[4200], so_strategy[4200], so_big[4200];

static void
build(const char *name, const char *wat, char *so, size_t so_size)
{
    char base[64];
    snprintf(base, sizeof base, "%s.wat", name);
    char watpath[4200], wasmpath[4200];
    snprintf(watpath, sizeof watpath, "%s", pgt_tmp(base));
    pgt_write(watpath, wat);
    snprintf(base, sizeof base, "%s.wasm", name);
    snprintf(wasmpath, sizeof wasmpath, "%s", pgt_tmp(base));
    const char *argv[] = {"wat2wasm", watpath, "-o", wasmpath, NULL};
    char *output = NULL;
    pg_error err = {0};
    if (pgi_wasm_tool_run(argv, "wabt", 60, &output, &err) != PG_OK)
        fail_msg("wat2wasm %s: %s", name, err.msg);
    free(output);
    snprintf(base, sizeof base, "%s.so", name);
    snprintf(so, so_size, "%s", pgt_tmp(base));
    pg_wasm_build_options o;
    pg_wasm_build_options_init(&o);
    o.abi = PG_WASM_ABI_ANY;
    if (pg_wasm_build(wasmpath, so, &o, &err) != PG_OK)
        fail_msg("building %s: %s", name, err.msg);
}

static int
setup(void **state)
{
    (void)state;
    build("hostile", HOSTILE, so_hostile, sizeof so_hostile);
    build("strategy", STRATEGY, so_strategy, sizeof so_strategy);
    build("big", BIG, so_big, sizeof so_big);
    return 0;
}

static int
teardown(void **state)
{
    return pgt_teardown_tmpdir(state);
}

static pgi_wasm_sandbox *
open_sb(const char *so, const pgi_wasm_sandbox_limits *l, const pgi_wasm_host *h)
{
    pgi_wasm_sandbox *sb = NULL;
    pg_error err = {0};
    if (pgi_wasm_sandbox_new(&sb, so, l, h, &err) != PG_OK)
        fail_msg("sandbox: %s", err.msg);
    return sb;
}

static pgi_wasm_val
i32v(uint32_t x)
{
    pgi_wasm_val v = {.type = PGI_WASM_I32};
    v.v.i32 = x;
    return v;
}

/* Calls name(arg) -> i32 (or no argument when arg is negative). */
static pgi_wasm_outcome
call1(pgi_wasm_sandbox *sb, const char *name, long arg, uint32_t *out)
{
    pgi_wasm_val a = i32v((uint32_t)arg), r = {0};
    pgi_wasm_outcome o;
    pg_error err = {0};
    int rc = pgi_wasm_sandbox_invoke(sb, name, &a, arg < 0 ? 0 : 1, &r, 1, &o, &err);
    if (rc != PG_OK)
        fail_msg("%s: %s", name, err.msg);
    if (out)
        *out = o.kind == PGI_WASM_OK ? r.v.i32 : 0xdeadbeef;
    return o;
}

static int
count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

static void
no_children_left(void)
{
    errno = 0;
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);
}

static void
test_out_of_bounds(void **state)
{
    (void)state;
    pgi_wasm_sandbox *sb = open_sb(so_hostile, NULL, NULL);
    long pid = pgi_wasm_sandbox_pid(sb);
    assert_true(pid > 0);
    uint32_t v;
    pgi_wasm_outcome o = call1(sb, "store", 100, &v);
    assert_int_equal(o.kind, PGI_WASM_OK);
    assert_int_equal(call1(sb, "load", 100, &v).kind, PGI_WASM_OK);
    assert_int_equal(v, 7);
    /* the last 4 bytes of the page are in; 65533 and 65536 are not */
    assert_int_equal(call1(sb, "load", 65532, &v).kind, PGI_WASM_OK);
    o = call1(sb, "load", 65533, &v);
    assert_int_equal(o.kind, PGI_WASM_TRAPPED);
    assert_int_equal(o.trap, PGI_WASM_TRAP_OOB);
    assert_non_null(strstr(o.why, "out-of-bounds"));
    o = call1(sb, "store", 0xfffffffc, &v);
    assert_int_equal(o.kind, PGI_WASM_TRAPPED);
    assert_int_equal(o.trap, PGI_WASM_TRAP_OOB);
    /* a host import given an address outside the memory traps too */
    o = call1(sb, "badlog", -1, &v);
    assert_int_equal(o.kind, PGI_WASM_TRAPPED);
    assert_int_equal(o.trap, PGI_WASM_TRAP_OOB);
    /* the same child carries on, with its memory */
    assert_int_equal(call1(sb, "load", 100, &v).kind, PGI_WASM_OK);
    assert_int_equal(v, 7);
    assert_int_equal(pgi_wasm_sandbox_pid(sb), pid);
    pgi_wasm_sandbox_free(sb);
    no_children_left();
}

static void
test_infinite_loop_killed(void **state)
{
    (void)state;
    pgi_wasm_sandbox_limits l;
    pgi_wasm_limits_init(&l);
    l.call_ms = 100;
    pgi_wasm_sandbox *sb = open_sb(so_hostile, &l, NULL);
    uint32_t v;
    assert_int_equal(call1(sb, "count", -1, &v).kind, PGI_WASM_OK);
    assert_int_equal(v, 1);
    long pid = pgi_wasm_sandbox_pid(sb);
    double t0 = pgi_now();
    pgi_wasm_outcome o = call1(sb, "spin", -1, &v);
    double s = pgi_now() - t0;
    assert_int_equal(o.kind, PGI_WASM_KILLED);
    assert_non_null(strstr(o.why, "deadline"));
    assert_true(s >= 0.095 && s < 2.0);
    assert_int_equal(pgi_wasm_sandbox_pid(sb), 0);
    assert_int_equal(kill((pid_t)pid, 0), -1); /* killed and reaped */
    /* the next call works, in a new child whose module starts over */
    assert_int_equal(call1(sb, "count", -1, &v).kind, PGI_WASM_OK);
    assert_int_equal(v, 1);
    assert_true(pgi_wasm_sandbox_pid(sb) > 0 && pgi_wasm_sandbox_pid(sb) != pid);
    pgi_wasm_sandbox_free(sb);
    no_children_left();
}

static void
test_recursion_traps(void **state)
{
    (void)state;
    pgi_wasm_sandbox_limits l;
    pgi_wasm_limits_init(&l);
    for (int k = 0; k < 2; k++) {
        l.stack_depth = k ? PGI_WASM_MAX_DEPTH : 1000;
        pgi_wasm_sandbox *sb = open_sb(so_hostile, &l, NULL);
        uint32_t v;
        pgi_wasm_outcome o = call1(sb, "rec", 1, &v);
        assert_int_equal(o.kind, PGI_WASM_TRAPPED);
        assert_int_equal(o.trap, PGI_WASM_TRAP_EXHAUSTION);
        assert_non_null(strstr(o.why, "call stack exhausted"));
        /* the counter is reset by the trap: calls go on */
        assert_int_equal(call1(sb, "count", -1, &v).kind, PGI_WASM_OK);
        pgi_wasm_sandbox_free(sb);
    }
    no_children_left();
}

static void
test_memory_ceiling(void **state)
{
    (void)state;
    pgi_wasm_sandbox_limits l;
    pgi_wasm_limits_init(&l);
    l.memory_pages = 4;
    pgi_wasm_sandbox *sb = open_sb(so_hostile, &l, NULL);
    uint32_t v;
    assert_int_equal(call1(sb, "grow", 2, &v).kind, PGI_WASM_OK);
    assert_int_equal(v, 1); /* the old size */
    assert_int_equal(call1(sb, "grow", 2, &v).kind, PGI_WASM_OK);
    assert_int_equal(v, 0xffffffffu); /* 5 pages: past the ceiling of 4 */
    assert_int_equal(call1(sb, "grow", 1, &v).kind, PGI_WASM_OK);
    assert_int_equal(v, 3);
    assert_int_equal(call1(sb, "grow", 1, &v).kind, PGI_WASM_OK);
    assert_int_equal(v, 0xffffffffu);
    assert_int_equal(call1(sb, "pages", -1, &v).kind, PGI_WASM_OK);
    assert_int_equal(v, 4);
    /* the grown memory is usable up to its end, and no further */
    assert_int_equal(call1(sb, "store", 4 * 65536 - 4, &v).kind, PGI_WASM_OK);
    assert_int_equal(call1(sb, "store", 4 * 65536, &v).kind, PGI_WASM_TRAPPED);
    pgi_wasm_sandbox_free(sb);

    /* a module whose initial memory is above the ceiling is refused */
    pgi_wasm_sandbox *big = NULL;
    pg_error err = {0};
    assert_int_equal(pgi_wasm_sandbox_new(&big, so_big, &l, NULL, &err), PG_EMODEL);
    assert_null(big);
    assert_non_null(strstr(err.msg, "8 pages"));
    assert_non_null(strstr(err.msg, "ceiling of 4"));
    no_children_left();
}

static void
test_seccomp_kills_forged_syscall(void **state)
{
    (void)state;
    pgi_wasm_sandbox_limits l;
    pgi_wasm_limits_init(&l);
    l.selftest = PGW_SELFTEST_OPEN;
    pgi_wasm_sandbox *sb = open_sb(so_hostile, &l, NULL);
    uint32_t v;
    pgi_wasm_outcome o = call1(sb, "count", -1, &v);
    assert_int_equal(o.kind, PGI_WASM_DIED);
    assert_int_equal(o.signal, SIGSYS);
    assert_non_null(strstr(o.why, "system call"));
    assert_int_equal(pgi_wasm_sandbox_pid(sb), 0);
    pgi_wasm_sandbox_free(sb);
    no_children_left();
}

static void
test_garbage_is_protocol_error(void **state)
{
    (void)state;
    const uint32_t tests[] = {PGW_SELFTEST_GARBAGE, PGW_SELFTEST_HUGE};
    for (size_t k = 0; k < 2; k++) {
        pgi_wasm_sandbox_limits l;
        pgi_wasm_limits_init(&l);
        l.selftest = tests[k];
        pgi_wasm_sandbox *sb = open_sb(so_hostile, &l, NULL);
        uint32_t v;
        pgi_wasm_outcome o = call1(sb, "count", -1, &v);
        assert_int_equal(o.kind, PGI_WASM_PROTOCOL);
        assert_non_null(strstr(o.why, "protocol error"));
        assert_int_equal(pgi_wasm_sandbox_pid(sb), 0);
        pgi_wasm_sandbox_free(sb);
    }
    no_children_left();
}

static void
test_proc_exit(void **state)
{
    (void)state;
    pgi_wasm_sandbox *sb = open_sb(so_hostile, NULL, NULL);
    uint32_t v;
    pgi_wasm_outcome o = call1(sb, "bye", 7, &v);
    assert_int_equal(o.kind, PGI_WASM_EXITED);
    assert_int_equal(o.exit_code, 7);
    assert_non_null(strstr(o.why, "proc_exit(7)"));
    assert_int_equal(pgi_wasm_sandbox_pid(sb), 0);
    assert_int_equal(call1(sb, "count", -1, &v).kind, PGI_WASM_OK);
    assert_int_equal(v, 1);
    pgi_wasm_sandbox_free(sb);
    no_children_left();
}

typedef struct logs {
    size_t calls, bytes;
    char last[64];
} logs;

static void
on_log(void *user, const char *text, size_t len)
{
    logs *g = user;
    g->calls++;
    g->bytes += len;
    snprintf(g->last, sizeof g->last, "%.*s", (int)(len < 63 ? len : 63), text);
}

static void
test_log_capped(void **state)
{
    (void)state;
    pgi_wasm_sandbox_limits l;
    pgi_wasm_limits_init(&l);
    l.log_bytes = 250;
    logs g = {0};
    pgi_wasm_host h = {.seed = 1, .log = on_log, .user = &g};
    pgi_wasm_sandbox *sb = open_sb(so_hostile, &l, &h);
    uint32_t v;
    pgi_wasm_outcome o = call1(sb, "spam", 2, &v); /* 200 bytes and 5: all kept */
    assert_int_equal(o.kind, PGI_WASM_OK);
    assert_int_equal(g.calls, 1);
    assert_int_equal(g.bytes, 205);
    assert_int_equal(o.log_dropped, 0);
    o = call1(sb, "spam", 1000, &v); /* 100005 bytes: 250 kept */
    assert_int_equal(o.kind, PGI_WASM_OK);
    assert_int_equal(g.calls, 2);
    assert_int_equal(g.bytes, 205 + 250);
    assert_int_equal(o.log_dropped, 100005 - 250);
    assert_int_equal(call1(sb, "count", -1, &v).kind, PGI_WASM_OK);
    assert_int_equal(g.calls, 2); /* no log, no callback */
    pgi_wasm_sandbox_free(sb);
    no_children_left();
}

static uint64_t
call64(pgi_wasm_sandbox *sb, const char *name)
{
    pgi_wasm_val r = {0};
    pgi_wasm_outcome o;
    pg_error err = {0};
    assert_int_equal(pgi_wasm_sandbox_invoke(sb, name, NULL, 0, &r, 1, &o, &err), PG_OK);
    assert_int_equal(o.kind, PGI_WASM_OK);
    assert_int_equal(r.type, PGI_WASM_I64);
    return r.v.i64;
}

static void
test_random_repeats_and_typed_calls(void **state)
{
    (void)state;
    pgi_wasm_host h = {.seed = 42};
    pgi_wasm_sandbox *a = open_sb(so_hostile, NULL, &h);
    pgi_wasm_sandbox *b = open_sb(so_hostile, NULL, &h);
    h.seed = 43;
    pgi_wasm_sandbox *c = open_sb(so_hostile, NULL, &h);
    uint64_t a1 = call64(a, "rand"), a2 = call64(a, "rand");
    assert_true(a1 != a2);
    assert_true(call64(b, "rand") == a1);
    assert_true(call64(b, "rand") == a2);
    assert_true(call64(c, "rand") != a1);
    assert_true(call64(a, "clock") == 0); /* no interval yet: time 0 */

    /* every number type in and out, several results */
    pgi_wasm_val args[4] = {{.type = PGI_WASM_I32},
                            {.type = PGI_WASM_I64},
                            {.type = PGI_WASM_F32},
                            {.type = PGI_WASM_F64}};
    args[0].v.i32 = 41;
    args[1].v.i64 = (uint64_t)1 << 40;
    args[2].v.f32 = 1.25f;
    args[3].v.f64 = 0.5;
    pgi_wasm_val r[4];
    pgi_wasm_outcome o;
    pg_error err = {0};
    assert_int_equal(pgi_wasm_sandbox_invoke(a, "mix", args, 4, r, 4, &o, &err), PG_OK);
    assert_int_equal(o.kind, PGI_WASM_OK);
    assert_int_equal(r[0].type, PGI_WASM_F64);
    assert_true(r[0].v.f64 == 0.5 + 1099511627776.0);
    assert_true(r[1].v.i64 == (uint64_t)1 << 41);
    assert_true(r[2].v.f32 == 2.5f);
    assert_int_equal(r[3].v.i32, 42);
    /* mismatched types and unknown exports are the host's errors, not outcomes */
    args[0].type = PGI_WASM_F64;
    assert_int_equal(pgi_wasm_sandbox_invoke(a, "mix", args, 4, r, 4, &o, &err), PG_EINVAL);
    assert_int_equal(pgi_wasm_sandbox_invoke(a, "nope", NULL, 0, r, 0, &o, &err), PG_ENOTFOUND);
    assert_non_null(strstr(err.msg, "nope"));
    pgi_wasm_sandbox_free(a);
    pgi_wasm_sandbox_free(b);
    pgi_wasm_sandbox_free(c);
    no_children_left();
}

static void
strategy_view(pg_node_env *env, pg_node_view *v, double *retail)
{
    memset(env, 0, sizeof *env);
    memset(v, 0, sizeof *v);
    for (int i = 0; i < 96; i++)
        retail[i] = 0.1 + 0.001 * i;
    env->t = 5;
    env->hours = 0.25;
    env->time_h = 1.25;
    env->hour_of_day = 13.5;
    env->horizon = 96;
    env->retail = retail;
    env->feed_in = retail;
    env->grid_connected = true;
    v->env = env;
    v->soc_kwh = 3.5;
    v->fixed_kwh = retail;
    v->pv_kwh = retail;
}

static void
set_mode(pgi_wasm_sandbox *sb, int mode)
{
    uint32_t v;
    assert_int_equal(call1(sb, "set_mode", mode, &v).kind, PGI_WASM_OK);
}

static void
test_strategy_plan_checked(void **state)
{
    (void)state;
    pg_node_env env;
    pg_node_view v;
    double retail[96];
    strategy_view(&env, &v, retail);
    pgi_wasm_sandbox *sb = open_sb(so_strategy, NULL, NULL);
    pg_node_plan p;
    pgi_wasm_outcome o;
    pg_error err = {0};
    assert_int_equal(pgi_wasm_strategy_bid(sb, &v, &p, &o, &err), PG_OK);
    assert_int_equal(o.kind, PGI_WASM_OK);
    assert_true(p.battery_kw == 13.5); /* hour_of_day, read through pg.view */
    assert_true(isnan(p.hvac_kw));
    assert_int_equal(p.n_points, 2);
    assert_true(p.curve[0].price == 0.1); /* retail[0], read through pg.series */
    assert_true(p.curve[0].qty == 3.5);   /* soc_kwh */
    assert_true(p.curve[1].price == 1.1);
    assert_true(p.curve[1].qty == 0);

    static const char *const why[] = {NULL,
                                      "not a finite number",
                                      "must not increase",
                                      "outside the strategy's memory",
                                      NULL,
                                      "17 points"};
    for (int mode = 1; mode <= 5; mode++) {
        set_mode(sb, mode);
        pg_node_plan q;
        memset(&q, 0x5a, sizeof q);
        assert_int_equal(pgi_wasm_strategy_bid(sb, &v, &q, &o, &err), PG_OK);
        if (mode == 4) {
            assert_int_equal(o.kind, PGI_WASM_OK);
            assert_int_equal(q.n_points, 0);
            assert_true(isnan(q.hvac_kw));
            continue;
        }
        assert_int_equal(o.kind, PGI_WASM_BAD_BID);
        if (!strstr(o.why, why[mode]))
            fail_msg("mode %d: %s", mode, o.why);
        assert_int_equal(q.n_points, 0x5a5a5a5a5a5a5a5a); /* untouched */
    }
    /* a strategy without pg_on_dr_event takes events as a no-op */
    pg_dr_event e;
    memset(&e, 0, sizeof e);
    snprintf(e.id, sizeof e.id, "ev1");
    e.n_intervals = 1;
    assert_int_equal(pgi_wasm_strategy_dr_event(sb, &e, &o, &err), PG_OK);
    assert_int_equal(o.kind, PGI_WASM_OK);
    pgi_wasm_sandbox_free(sb);
    no_children_left();
}

static void
test_wasi_libc_strategy(void **state)
{
    (void)state;
    char cpath[4200], wasmpath[4200], so[4200], inc[4200];
    snprintf(cpath, sizeof cpath, "%s", pgt_tmp("cstrat.c"));
    pgt_write(cpath, C_STRATEGY);
    snprintf(wasmpath, sizeof wasmpath, "%s", pgt_tmp("cstrat.wasm"));
    snprintf(inc, sizeof inc, "-I%s", pgt_source_path("include"));
    const char *argv[] = {"clang",
                          "--target=wasm32-wasi",
                          "--sysroot=/usr",
                          "-O2",
                          "-mexec-model=reactor",
                          inc,
                          cpath,
                          "-o",
                          wasmpath,
                          NULL};
    char *output = NULL;
    pg_error err = {0};
    if (pgi_wasm_tool_run(argv, "clang", 120, &output, &err) != PG_OK)
        fail_msg("clang for wasm32-wasi: %s", err.msg);
    free(output);
    snprintf(so, sizeof so, "%s", pgt_tmp("cstrat.so"));
    if (pg_wasm_build(wasmpath, so, NULL, &err) != PG_OK) /* the strategy ABI */
        fail_msg("building the C strategy: %s", err.msg);

    logs g = {0};
    pgi_wasm_host h = {.seed = 9, .log = on_log, .user = &g};
    pgi_wasm_sandbox *sb = open_sb(so, NULL, &h);
    assert_int_equal(g.calls, 1); /* pg_init's line */
    assert_string_equal(g.last, "init\n");
    pg_node_env env;
    pg_node_view v;
    double retail[96];
    strategy_view(&env, &v, retail);
    env.time_h = 2;
    pg_node_plan p;
    pgi_wasm_outcome o;
    assert_int_equal(pgi_wasm_strategy_bid(sb, &v, &p, &o, &err), PG_OK);
    assert_int_equal(o.kind, PGI_WASM_OK);
    assert_int_equal(p.n_points, 1);
    assert_true(p.curve[0].price == 0.1);
    assert_true(p.curve[0].qty == 1);
    assert_true(p.battery_kw == 3.5);
    /* the clock is the interval's simulated time (2 h), no environment */
    if (!strstr(g.last, "call 1 t=5 h=96 time=7200 env=no"))
        fail_msg("log: %s", g.last);
    pgi_wasm_sandbox_free(sb);
    no_children_left();
}

static void
test_no_leaks_across_restarts(void **state)
{
    (void)state;
    int fds = count_fds();
    pgi_wasm_sandbox_limits l;
    pgi_wasm_limits_init(&l);
    l.call_ms = 50;
    pgi_wasm_sandbox *sb = open_sb(so_hostile, &l, NULL);
    uint32_t v;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(call1(sb, "spin", -1, &v).kind, PGI_WASM_KILLED);
        assert_int_equal(call1(sb, "bye", 1, &v).kind, PGI_WASM_EXITED);
        assert_int_equal(call1(sb, "load", 1 << 20, &v).kind, PGI_WASM_TRAPPED);
    }
    assert_int_equal(count_fds(), fds + 1); /* the socket of the running child */
    pgi_wasm_sandbox_free(sb);
    assert_int_equal(count_fds(), fds);
    no_children_left();

    pgi_wasm_sandbox *none = NULL;
    pg_error err = {0};
    pgi_wasm_host h = {.runner = "/nonexistent/plurigrid-sandbox"};
    assert_int_equal(pgi_wasm_sandbox_new(&none, so_hostile, NULL, &h, &err), PG_ENOTFOUND);
    assert_non_null(strstr(err.msg, "/nonexistent/plurigrid-sandbox"));
    /* not a strategy object */
    assert_int_equal(pgi_wasm_sandbox_new(&none, "/nonexistent.so", NULL, NULL, &err), PG_EMODEL);
    assert_non_null(strstr(err.msg, "nonexistent.so"));
    assert_int_equal(count_fds(), fds);
    no_children_left();
}

/* The glue refuses what the ABI does not offer, naming it (the checker refuses it first; the
 * glue does not rely on that). */
static void
test_glue_refuses_foreign_imports(void **state)
{
    (void)state;
    uint8_t params[2] = {PGI_WASM_I32, PGI_WASM_I32}, results[1] = {PGI_WASM_I32};
    pgi_wasm_functype types[2] = {{2, 0, params, NULL}, {2, 1, params, results}};
    pgi_wasm_import im = {.module = "env",
                          .module_len = 3,
                          .name = "system",
                          .name_len = 6,
                          .kind = PGI_WASM_KIND_FUNC,
                          .type = 0};
    pgi_wasm_module_info info = {.n_types = 2, .types = types, .n_imports = 1, .imports = &im};
    char *src = NULL;
    pg_error err = {0};
    assert_int_equal(pgi_wasm_glue_source(&info, &src, &err), PG_EUNSUPPORTED);
    assert_null(src);
    assert_non_null(strstr(err.msg, "\"env\" \"system\""));
    /* an offered name with another signature: pg.log is (i32, i32) -> () */
    im.module = "pg", im.module_len = 2, im.name = "log", im.name_len = 3, im.type = 1;
    assert_int_equal(pgi_wasm_glue_source(&info, &src, &err), PG_EUNSUPPORTED);
    assert_non_null(strstr(err.msg, "\"pg\" \"log\""));
    /* with its own signature it is forwarded as row PGI_WASM_IMP_LOG */
    im.type = 0;
    assert_int_equal(pgi_wasm_glue_source(&info, &src, &err), PG_OK);
    assert_non_null(strstr(src, "void Z_pgZ_log(struct Z_pg_instance_t *self, u32 p0, u32 p1)"));
    assert_non_null(strstr(src, "pgw_import(3u, a, r)"));
    free(src);
    /* a memory import is refused */
    im.kind = PGI_WASM_KIND_MEMORY;
    assert_int_equal(pgi_wasm_glue_source(&info, &src, &err), PG_EUNSUPPORTED);
    assert_non_null(strstr(err.msg, "not a function"));
}

/* _initialize and pg_init each spin for the same time t: with a start deadline of 1.25 t the
 * two together (2 t) are past it, so the start fails; each alone would fit. */
static const char *const SLOW_START =
    "(module\n"
    "  (memory (export \"memory\") 1)\n"
    "  (func $spin (param $n i32) (result i32) (local $x i32)\n"
    "    (block $b (loop $l (br_if $b (i32.eqz (local.get $n)))\n"
    "      (local.set $x (i32.add (i32.mul (local.get $x) (i32.const 1103515245))\n"
    "                             (i32.const 12345)))\n"
    "      (local.set $n (i32.sub (local.get $n) (i32.const 1))) (br $l)))\n"
    "    (local.get $x))\n"
    "  (global $g (export \"g\") (mut i32) (i32.const 0))\n"
    "  (func (export \"_initialize\") (global.set $g (call $spin (i32.const 150000000))))\n"
    "  (func (export \"pg_init\") (result i32)\n"
    "    (global.set $g (call $spin (i32.const 150000000))) (i32.const 0))\n"
    "  (func (export \"spin\") (param i32) (result i32) (call $spin (local.get 0))))\n";

static void
test_start_deadline_covers_all_steps(void **state)
{
    (void)state;
    char so[4200];
    build("slow_start", SLOW_START, so, sizeof so);
    pgi_wasm_sandbox_limits l;
    pgi_wasm_limits_init(&l);
    l.init_ms = 60000;
    l.call_ms = 60000;
    pgi_wasm_sandbox *sb = open_sb(so, &l, NULL);
    uint32_t v;
    double t0 = pgi_now();
    assert_int_equal(call1(sb, "spin", 150000000, &v).kind, PGI_WASM_OK);
    double t = pgi_now() - t0;
    pgi_wasm_sandbox_free(sb);
    l.init_ms = (uint32_t)(1.25 * t * 1000) + 1;
    pg_error err = {0};
    sb = NULL;
    t0 = pgi_now();
    assert_int_equal(pgi_wasm_sandbox_new(&sb, so, &l, NULL, &err), PG_EMODEL);
    double s = pgi_now() - t0;
    assert_null(sb);
    assert_non_null(strstr(err.msg, "start deadline"));
    assert_true(s < l.init_ms / 1000.0 + 2.0);
    no_children_left();
}

/* A table too large for the child's address space: the runtime's calloc fails, and the table
 * must not be left with its size and no storage (table.set would write wherever the index
 * points: the child died with SIGSEGV). Instantiating traps instead; where the allocation does
 * succeed (no RLIMIT_AS under ASan) the store is an ordinary one. */
static const char *const BIG_TABLE =
    "(module\n"
    "  (memory (export \"memory\") 1)\n"
    "  (table $t 200000000 funcref)\n"
    "  (func (export \"pg_init\") (result i32) (i32.const 0))\n"
    "  (func (export \"pg_on_interval\") (result i32)\n"
    "    (table.set $t (i32.const 199999999) (ref.func 0)) (i32.const 0))\n"
    "  (elem declare func 0))\n";

static void
test_huge_table_refused(void **state)
{
    (void)state;
    char so[4200];
    build("big_table", BIG_TABLE, so, sizeof so);
    pgi_wasm_sandbox *sb = NULL;
    pg_error err = {0};
    int rc = pgi_wasm_sandbox_new(&sb, so, NULL, NULL, &err);
    if (rc == PG_OK) {
        uint32_t v;
        pgi_wasm_outcome o = call1(sb, "pg_on_interval", -1, &v);
        if (o.kind != PGI_WASM_OK)
            fail_msg("the store into the table: %s", o.why);
        pgi_wasm_sandbox_free(sb);
    } else {
        assert_int_equal(rc, PG_EMODEL);
        assert_null(strstr(err.msg, "signal 11"));
        if (!PGW_TEST_ASAN)
            assert_non_null(strstr(err.msg, "trapped while instantiated"));
    }
    no_children_left();
}

int
main(void)
{
    signal(SIGPIPE, SIG_DFL); /* a dead child must never raise it here */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_out_of_bounds),
        cmocka_unit_test(test_infinite_loop_killed),
        cmocka_unit_test(test_recursion_traps),
        cmocka_unit_test(test_memory_ceiling),
        cmocka_unit_test(test_seccomp_kills_forged_syscall),
        cmocka_unit_test(test_garbage_is_protocol_error),
        cmocka_unit_test(test_proc_exit),
        cmocka_unit_test(test_log_capped),
        cmocka_unit_test(test_random_repeats_and_typed_calls),
        cmocka_unit_test(test_strategy_plan_checked),
        cmocka_unit_test(test_wasi_libc_strategy),
        cmocka_unit_test(test_glue_refuses_foreign_imports),
        cmocka_unit_test(test_no_leaks_across_restarts),
        cmocka_unit_test(test_start_deadline_covers_all_steps),
        cmocka_unit_test(test_huge_table_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
