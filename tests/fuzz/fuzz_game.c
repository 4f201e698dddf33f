/* libFuzzer target for the classic-game reader and analysis: any bytes are told classic or not
 * (pg_game_text_is_classic), read as a "plurigrid-game/1" file and, when accepted, analysed (short
 * learning runs, a small enumeration budget) and rendered as text and JSON, which must read back
 * as JSON. Nothing may crash, leak or trip a sanitizer, a refused input must leave no report, and
 * an accepted one must have been told classic. Its corpus (tests/fuzz/corpus/game/) replays as a
 * test. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "plurigrid/game.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pg_game_options o;
    pg_game_options_init(&o);
    o.rounds = 30;
    o.max_profiles = 64;
    pg_game_report *r = NULL;
    pg_error err = {0};
    bool classic = pg_game_text_is_classic((const char *)data, size);
    if (pg_game_text_analyze((const char *)data, size, "fuzz.json", &o, &r, &err) != PG_OK) {
        if (r || err.code == PG_OK)
            abort(); /* a refusal says why and writes no report */
        return 0;
    }
    if (!classic)
        abort(); /* what the reader accepts, the command sends to it */
    char *text = NULL, *json = NULL;
    if (pg_game_report_text(r, &text, &err) != PG_OK || pg_game_report_json(r, &json, &err))
        abort();
    json_error_t je;
    json_t *back = json_loads(json, 0, &je);
    if (!back)
        abort(); /* the report is JSON */
    json_decref(back);
    free(text);
    free(json);
    pg_game_report_free(r);
    return 0;
}
