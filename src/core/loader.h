/* Loading a part of the library that is a shared object of its own (coin.so, nats.so), from the
 * folder plurigrid/ beside libplurigrid.so: the same layout in the build tree and once installed,
 * so the same rule finds the modules in both. Used by the shared library only; the static library
 * has the modules built in. */
#ifndef PG_CORE_LOADER_H
#define PG_CORE_LOADER_H

#include <stddef.h>

/* Opens plurigrid/<file> beside the library this function is in (RTLD_NOW | RTLD_LOCAL) and
 * returns the address of its exported symbol, or NULL with why (n bytes) saying what went wrong
 * (the dynamic loader's message, or the missing symbol). The module stays loaded for the life of
 * the process. Not synchronised: callers load once (pthread_once). */
void *pgi_module_symbol(const char *file, const char *symbol, char *why, size_t n);

#endif
