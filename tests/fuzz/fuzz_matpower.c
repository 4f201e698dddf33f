/* libFuzzer target for the MATPOWER reader: any input must be read or refused without a crash or
 * a leak, and whatever is read must survive a write and a second read unchanged. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "plurigrid/io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pg_world *w = NULL, *r = NULL;
    pg_error err = {0};
    pg_notes notes = {0};
    if (pg_matpower_read_buffer((const char *)data, size, "fuzz.m", &w, &notes, &err) != PG_OK) {
        if (w || notes.n)
            abort(); /* outputs are written only on success */
        return 0;
    }
    pg_notes_clear(&notes);
    char *text = NULL;
    size_t len = 0;
    if (pg_matpower_write_buffer(w, &text, &len, &notes, &err) != PG_OK)
        abort();
    if (pg_matpower_read_buffer(text, len, "fuzz.m", &r, NULL, &err) != PG_OK) {
        fprintf(stderr, "written case does not read back: line %d: %s: %s\n%s\n", err.line,
                err.path, err.msg, text);
        abort();
    }
    char diff[512];
    if (!pg_world_equal(w, r, diff, sizeof diff)) {
        fprintf(stderr, "round trip changed the world: %s\n", diff);
        abort();
    }
    free(text);
    pg_notes_clear(&notes);
    pg_world_free(r);
    pg_world_free(w);
    return 0;
}
