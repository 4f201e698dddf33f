/* libFuzzer target for the roadmap parser: any bytes are parsed, turned into payloads and the
 * JSON document, and checked; the first line is also checked as a repository name and a token
 * and hidden from the text as a server's message would be (the hidden text must not hold it);
 * nothing may crash, leak or trip a sanitizer. Its corpus (tests/fuzz/corpus/kanban/) replays
 * as a test. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kanban/kanban.h"
#include "kanban/kanban_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pg_kanban_roadmap *r = NULL;
    pg_error err = {0};
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char *nl = strchr(text, '\n');
    if (nl) {
        *nl = '\0';
        pg_kanban_repo_check(text, &err);
        /* A token of letters, digits and '_' (GitHub's) that is not a piece of the words put
         * in its place is never in the hidden text. */
        if (pg_kanban_token_check(text, &err) == PG_OK && !strstr("[token hidden]", text) &&
            strspn(text, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") ==
                strlen(text)) {
            char shown[300];
            pgi_kanban_redact(nl + 1, text, shown, sizeof shown);
            if (strstr(shown, text))
                abort();
        }
    }
    free(text);
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
