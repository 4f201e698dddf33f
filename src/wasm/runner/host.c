/* The host side of every import a strategy may use (the ABI table, src/wasm/abi.c), inside the
 * runner. Each guest address is checked against the memory's current size before it is read or
 * written; a WASI call with a bad address answers EFAULT, a "pg" call with one traps. Decisions
 * (docs/wasm.md, "Imports"):
 *   - fd_write to fd 1 or 2 appends to the call's log, capped at log_bytes per call (what is
 *     beyond the cap is counted, not kept); the sandbox hands the log to the host's callback;
 *   - clock_time_get is the simulated time: the start of the interval being bid, in ns from the
 *     start of the run, for every clock, so that a run repeats exactly;
 *   - random_get draws from xoshiro256** seeded (through splitmix64) with the strategy's seed;
 *   - no arguments, no environment, no files: fd 1 and 2 are write-only character devices (so
 *     wasi-libc line-buffers them), every other descriptor is EBADF;
 *   - proc_exit ends the call as "exited" (the runner then ends; the sandbox starts a new one at
 *     the next call). */
#include "wasm/runner/host.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plurigrid/wasm_guest.h"
#include "wasm/internal.h"
#include "wasm/proto.h"

/* WASI errno values */
enum { W_SUCCESS = 0, W_EBADF = 8, W_EFAULT = 21, W_EINVAL = 28, W_ESPIPE = 70 };

#define MAX_SERIES 96

typedef struct pgw_state {
    int have_view;
    pg_wasm_view view;
    uint32_t n_series;
    int32_t which[MAX_SERIES];
    uint32_t count[MAX_SERIES];
    double *values[MAX_SERIES];
    uint32_t n_events;
    pg_wasm_dr_event *events;
    int has_current;
    pg_wasm_dr_event current;
} pgw_state;

static uint64_t
splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t
rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t
next(uint64_t *s)
{
    uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return r;
}

static void
state_free(pgw_state *s)
{
    if (!s)
        return;
    for (uint32_t i = 0; i < s->n_series; i++)
        free(s->values[i]);
    free(s->events);
    free(s);
}

pgw_host_state *
pgw_host_new(uint64_t seed, uint32_t log_bytes)
{
    pgw_host_state *hs = calloc(1, sizeof *hs);
    if (!hs)
        return NULL;
    hs->log_cap = log_bytes;
    hs->log = malloc(log_bytes ? log_bytes : 1);
    hs->state = calloc(1, sizeof *hs->state);
    if (!hs->log || !hs->state) {
        free(hs->log);
        free(hs->state);
        free(hs);
        return NULL;
    }
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        hs->rng[i] = splitmix(&x);
    return hs;
}

int
pgw_host_set_state(pgw_host_state *hs, const uint8_t *p, uint32_t len)
{
    pgw_rd r = {p, len, 0};
    pgw_state *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    pgw_get(&r, &s->view, sizeof s->view);
    s->have_view = s->view.version != 0;
    s->n_series = pgw_u32(&r);
    if (s->n_series > MAX_SERIES)
        goto bad;
    for (uint32_t i = 0; i < s->n_series && !r.bad; i++) {
        s->which[i] = (int32_t)pgw_u32(&r);
        s->count[i] = pgw_u32(&r);
        if (s->count[i] > r.left / sizeof(double))
            goto bad;
        s->values[i] = malloc(s->count[i] * sizeof(double) + 1);
        if (!s->values[i]) {
            s->n_series = i;
            goto bad;
        }
        pgw_get(&r, s->values[i], s->count[i] * sizeof(double));
    }
    s->n_events = pgw_u32(&r);
    if (r.bad || s->n_events > r.left / sizeof(pg_wasm_dr_event))
        goto bad;
    s->events = malloc(s->n_events * sizeof *s->events + 1);
    if (!s->events)
        goto bad;
    pgw_get(&r, s->events, s->n_events * sizeof *s->events);
    s->has_current = pgw_u32(&r) != 0;
    if (s->has_current)
        pgw_get(&r, &s->current, sizeof s->current);
    if (r.bad || r.left)
        goto bad;
    state_free(hs->state);
    hs->state = s;
    return 0;
bad:
    state_free(s);
    return -1;
}

void
pgw_host_begin_call(pgw_host_state *hs)
{
    hs->log_len = 0;
    hs->log_dropped = 0;
}

static void
log_add(pgw_host_state *hs, const uint8_t *b, size_t n)
{
    size_t room = hs->log_cap - hs->log_len;
    size_t k = n < room ? n : room;
    memcpy(hs->log + hs->log_len, b, k);
    hs->log_len += k;
    hs->log_dropped += n - k;
}

static int
in_mem(uint32_t size, uint32_t addr, uint64_t len)
{
    return (uint64_t)addr + len <= size;
}

static void
put32(uint8_t *mem, uint32_t addr, uint32_t v)
{
    memcpy(mem + addr, &v, sizeof v);
}

static void
put64(uint8_t *mem, uint32_t addr, uint64_t v)
{
    memcpy(mem + addr, &v, sizeof v);
}

static int32_t
copy_out(uint8_t *mem, uint32_t size, uint32_t dst, uint32_t len, const void *src, size_t n,
         int *trap)
{
    size_t k = len < n ? len : n;
    if (!in_mem(size, dst, k)) {
        *trap = 1;
        return -1;
    }
    if (k)
        memcpy(mem + dst, src, k);
    return (int32_t)n;
}

int
pgw_host_import(void *user, uint32_t k, const pgw_value *a, pgw_value *res, uint8_t *mem,
                uint32_t size)
{
    pgw_host_state *hs = user;
    pgw_state *s = hs->state;
    int trap = 0;
    uint32_t e = W_SUCCESS;
    res[0].i32 = 0;
    switch (k) {
    case PGI_WASM_IMP_VIEW:
        if (!s->have_view) {
            res[0].i32 = (uint32_t)-1;
            break;
        }
        res[0].i32 =
            (uint32_t)copy_out(mem, size, a[0].i32, a[1].i32, &s->view, sizeof s->view, &trap);
        break;
    case PGI_WASM_IMP_SERIES: {
        res[0].i32 = (uint32_t)-1;
        for (uint32_t i = 0; i < s->n_series; i++)
            if (s->which[i] == (int32_t)a[0].i32) {
                uint64_t want = (uint64_t)a[2].i32 * sizeof(double);
                uint64_t have = (uint64_t)s->count[i] * sizeof(double);
                uint32_t n = (uint32_t)(want < have ? want : have);
                if (copy_out(mem, size, a[1].i32, n, s->values[i], n, &trap) < 0)
                    break;
                res[0].i32 = s->count[i];
                break;
            }
        break;
    }
    case PGI_WASM_IMP_DR_EVENT: {
        int32_t idx = (int32_t)a[0].i32;
        const pg_wasm_dr_event *ev = idx == -1 && s->has_current               ? &s->current
                                     : idx >= 0 && (uint32_t)idx < s->n_events ? &s->events[idx]
                                                                               : NULL;
        res[0].i32 = ev ? (uint32_t)copy_out(mem, size, a[1].i32, a[2].i32, ev, sizeof *ev, &trap)
                        : (uint32_t)-1;
        break;
    }
    case PGI_WASM_IMP_LOG:
        if (!in_mem(size, a[0].i32, a[1].i32))
            trap = 1;
        else
            log_add(hs, mem + a[0].i32, a[1].i32);
        break;
    case PGI_WASM_IMP_ARGS_SIZES_GET:
    case PGI_WASM_IMP_ENVIRON_SIZES_GET:
        if (!in_mem(size, a[0].i32, 4) || !in_mem(size, a[1].i32, 4))
            e = W_EFAULT;
        else
            put32(mem, a[0].i32, 0), put32(mem, a[1].i32, 0);
        break;
    case PGI_WASM_IMP_ARGS_GET:
    case PGI_WASM_IMP_ENVIRON_GET:
    case PGI_WASM_IMP_SCHED_YIELD: break;
    case PGI_WASM_IMP_CLOCK_RES_GET:
        if (a[0].i32 > 3)
            e = W_EINVAL;
        else if (!in_mem(size, a[1].i32, 8))
            e = W_EFAULT;
        else
            put64(mem, a[1].i32, 1);
        break;
    case PGI_WASM_IMP_CLOCK_TIME_GET: {
        double h =
            s->have_view && isfinite(s->view.time_h) && s->view.time_h >= 0 ? s->view.time_h : 0;
        double ns = h * 3600e9;
        uint64_t t = ns < 1.8e19 ? (uint64_t)ns : UINT64_MAX;
        if (a[0].i32 > 3)
            e = W_EINVAL;
        else if (!in_mem(size, a[2].i32, 8))
            e = W_EFAULT;
        else
            put64(mem, a[2].i32, t);
        break;
    }
    case PGI_WASM_IMP_FD_WRITE: {
        uint32_t fd = a[0].i32, iovs = a[1].i32, n = a[2].i32, out = a[3].i32;
        if (fd != 1 && fd != 2) {
            e = W_EBADF;
            break;
        }
        if (!in_mem(size, iovs, (uint64_t)n * 8) || !in_mem(size, out, 4)) {
            e = W_EFAULT;
            break;
        }
        uint64_t total = 0;
        for (uint32_t i = 0; i < n; i++) {
            uint32_t buf, len;
            memcpy(&buf, mem + iovs + 8 * i, 4);
            memcpy(&len, mem + iovs + 8 * i + 4, 4);
            if (!in_mem(size, buf, len)) {
                e = W_EFAULT;
                break;
            }
            log_add(hs, mem + buf, len);
            total += len;
        }
        if (e == W_SUCCESS)
            put32(mem, out, (uint32_t)(total > UINT32_MAX ? UINT32_MAX : total));
        break;
    }
    case PGI_WASM_IMP_FD_FDSTAT_GET:
        if (a[0].i32 != 1 && a[0].i32 != 2)
            e = W_EBADF;
        else if (!in_mem(size, a[1].i32, 24))
            e = W_EFAULT;
        else {
            memset(mem + a[1].i32, 0, 24);
            mem[a[1].i32] = 2;                 /* character device */
            put64(mem, a[1].i32 + 8, 1u << 6); /* fd_write */
        }
        break;
    case PGI_WASM_IMP_FD_SEEK: e = a[0].i32 <= 2 ? W_ESPIPE : W_EBADF; break;
    case PGI_WASM_IMP_FD_CLOSE:
    case PGI_WASM_IMP_FD_PRESTAT_GET:
    case PGI_WASM_IMP_FD_PRESTAT_DIR_NAME:
    case PGI_WASM_IMP_FD_READ: e = W_EBADF; break;
    case PGI_WASM_IMP_PROC_EXIT: res[0].i32 = a[0].i32; return PGW_IMPORT_EXIT;
    case PGI_WASM_IMP_RANDOM_GET: {
        uint32_t buf = a[0].i32, len = a[1].i32;
        if (!in_mem(size, buf, len)) {
            e = W_EFAULT;
            break;
        }
        for (uint32_t i = 0; i < len; i += 8) {
            uint64_t r = next(hs->rng);
            uint32_t c = len - i < 8 ? len - i : 8;
            memcpy(mem + buf + i, &r, c);
        }
        break;
    }
    default: return PGW_IMPORT_TRAP;
    }
    if (trap)
        return PGW_IMPORT_TRAP;
    if (k >= PGI_WASM_IMP_ARGS_GET)
        res[0].i32 = e;
    return PGW_IMPORT_OK;
}
