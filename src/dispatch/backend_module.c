/* The solver backend of the shared library: the COIN-OR adapter is a module, coin.so, in the
 * folder plurigrid/ beside libplurigrid.so (the same layout in the build tree and once installed).
 * It is loaded at the first solve, once per process, so that a program that only reads worlds or
 * solves power flows never loads COIN-OR's C++, LAPACK and BLAS runtimes (about 6 ms per process
 * start, measured in bench/RESULTS.md). */
#define _GNU_SOURCE /* dladdr */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "dispatch/lp.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static const pgi_lp_backend *backend;
static char why[4300];

/* A function of this library, to find the library's own file with dladdr. */
static void
anchor(void)
{
}

static void
load(void)
{
    Dl_info info;
    void (*fn)(void) = anchor;
    void *addr;
    memcpy(&addr, &fn, sizeof addr);
    if (!dladdr(addr, &info) || !info.dli_fname) {
        snprintf(why, sizeof why, "cannot find the folder of libplurigrid");
        return;
    }
    char path[4096];
    const char *slash = strrchr(info.dli_fname, '/');
    int dir = slash ? (int)(slash - info.dli_fname) : 1;
    const char *base = slash ? info.dli_fname : ".";
    if (snprintf(path, sizeof path, "%.*s/plurigrid/coin.so", dir, base) >= (int)sizeof path) {
        snprintf(why, sizeof why, "the path of libplurigrid is too long");
        return;
    }
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        snprintf(why, sizeof why, "%s", e ? e : path);
        return;
    }
    backend = dlsym(h, "pgi_coin_backend");
    if (!backend)
        snprintf(why, sizeof why, "%s has no solver table (pgi_coin_backend)", path);
}

const pgi_lp_backend *
pgi_lp_backend_get(pg_error *err)
{
    pthread_once(&once, load);
    if (!backend)
        pg_error_set(err, PG_EUNSUPPORTED,
                     "the COIN-OR solver module could not be loaded: %s; reinstall plurigrid", why);
    return backend;
}
