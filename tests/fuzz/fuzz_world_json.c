/* libFuzzer target for the JSON world reader: any input must be read or refused without a crash
 * or a leak, and whatever is read must survive a write and a second read unchanged, the second
 * write giving the same text. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plurigrid/io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pg_world *w = NULL, *r = NULL;
    pg_error err = {0};
    if (pg_world_json_read_buffer((const char *)data, size, "fuzz.json", &w, NULL, &err) != PG_OK) {
        if (w)
            abort();
        return 0;
    }
    char *text = NULL, *text2 = NULL;
    size_t len = 0;
    if (pg_world_json_write_buffer(w, &text, &len, &err) != PG_OK)
        abort();
    if (pg_world_json_read_buffer(text, len, "fuzz.json", &r, NULL, &err) != PG_OK) {
        fprintf(stderr, "written world does not read back: line %d: %s: %s\n%s\n", err.line,
                err.path, err.msg, text);
        abort();
    }
    char diff[512];
    if (!pg_world_equal(w, r, diff, sizeof diff)) {
        fprintf(stderr, "round trip changed the world: %s\n", diff);
        abort();
    }
    if (pg_world_json_write_buffer(r, &text2, NULL, &err) != PG_OK || strcmp(text, text2) != 0)
        abort();
    /* the MATPOWER writer must cope with any world the JSON reader accepts */
    char *m = NULL;
    pg_notes notes = {0};
    if (pg_matpower_write_buffer(w, &m, NULL, &notes, &err) == PG_OK) {
        pg_world *mw = NULL;
        if (pg_matpower_read_buffer(m, strlen(m), "fuzz.m", &mw, NULL, &err) == PG_OK)
            pg_world_free(mw);
    }
    free(m);
    pg_notes_clear(&notes);
    free(text);
    free(text2);
    pg_world_free(r);
    pg_world_free(w);
    return 0;
}
