/* Internal additions to the atomic writer of core.h (src/core/file.c). */
#ifndef PG_CORE_FILE_H
#define PG_CORE_FILE_H

#include "plurigrid/core.h"

/* pg_output_open for a secret: the temporary file is created with mode 0600 (owner only) from
 * the start, so no other user can open it while it is written, and the file put in place has that
 * mode whatever the one it replaces had. Standard output and files that are not regular (a FIFO,
 * /dev/null) are written in place as by pg_output_open. */
int pgi_output_open_private(pg_output **out, const char *path, pg_error *err);

#endif
