/* The glue generator: the C source compiled into every strategy's shared object beside wasm2c's
 * translation and the wasm2c runtime (docs/wasm.md, "How a module is built"). */
#include "wasm/internal.h"

int
pgi_wasm_glue_source(const pgi_wasm_module_info *info, char **src, pg_error *err)
{
    (void)info;
    (void)src;
    return pg_error_set(err, PG_EUNSUPPORTED, "the glue generator is not written yet");
}
