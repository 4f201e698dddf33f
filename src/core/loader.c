/* Finds and opens the library's modules (loader.h): dladdr on a function of this file gives the
 * library's own path, and the module is plurigrid/<file> in the same folder. */
#define _GNU_SOURCE /* dladdr */
#include "core/loader.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

/* A function of this library, to find the library's own file with dladdr. */
static void
anchor(void)
{
}

void *
pgi_module_symbol(const char *file, const char *symbol, char *why, size_t n)
{
    Dl_info info;
    void (*fn)(void) = anchor;
    void *addr;
    memcpy(&addr, &fn, sizeof addr);
    if (!dladdr(addr, &info) || !info.dli_fname) {
        snprintf(why, n, "cannot find the folder of libplurigrid");
        return NULL;
    }
    char path[4096];
    const char *slash = strrchr(info.dli_fname, '/');
    int dir = slash ? (int)(slash - info.dli_fname) : 1;
    const char *base = slash ? info.dli_fname : ".";
    if (snprintf(path, sizeof path, "%.*s/plurigrid/%s", dir, base, file) >= (int)sizeof path) {
        snprintf(why, n, "the path of libplurigrid is too long");
        return NULL;
    }
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        snprintf(why, n, "%s", e ? e : path);
        return NULL;
    }
    void *sym = dlsym(h, symbol);
    if (!sym)
        snprintf(why, n, "%s has no table %s", path, symbol);
    return sym;
}
