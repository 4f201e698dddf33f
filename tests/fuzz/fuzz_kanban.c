/* libFuzzer target for the roadmap parser: any bytes are parsed, turned into payloads and the
 * JSON document, and checked; nothing may crash, leak or trip a sanitizer. Its corpus
 * (tests/fuzz/corpus/kanban/) replays as a test. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "kanban/kanban.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pg_kanban_roadmap *r = NULL;
    pg_error err = {0};
    if (pg_kanban_parse(&r, (const char *)data, size, "fuzz.md", &err) != PG_OK)
        return 0;
    char *json = NULL;
    if (pg_kanban_payloads_json(r, false, &json, &err) == PG_OK)
        free(json);
    json = NULL;
    if (pg_kanban_roadmap_json(r, "o/r", &json, &err) == PG_OK)
        free(json);
    for (size_t i = 0; i < r->n_items; i++) {
        json = NULL;
        if (pg_kanban_item_payload(&r->items[i], &json, &err) == PG_OK)
            free(json);
    }
    pg_kanban_check(r, &err);
    pg_kanban_free(r);
    return 0;
}
