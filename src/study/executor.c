/* The table of study executors: "local" (threads of this process, local.c) and "nats" (workers in
 * a NATS queue group, nats.c). A new way of running jobs is one new file and one row here. */
#include <string.h>

#include "study/study_priv.h"

static const pgi_study_executor *const table[] = {&pgi_study_local, &pgi_study_nats};
#define N_EXECUTORS (sizeof table / sizeof table[0])

const pg_study_executor *
pg_study_executors(size_t *n)
{
    static pg_study_executor pub[N_EXECUTORS];
    static int filled; /* the rows are constants: filling twice writes the same values */
    if (!filled) {
        for (size_t i = 0; i < N_EXECUTORS; i++)
            pub[i] = table[i]->pub;
        filled = 1;
    }
    if (n)
        *n = N_EXECUTORS;
    return pub;
}

const pgi_study_executor *
pgi_study_executor_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < N_EXECUTORS; i++)
        if (strcmp(table[i]->pub.name, name) == 0)
            return table[i];
    return NULL;
}
