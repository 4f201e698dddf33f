/* libFuzzer target for the classic-game reader and analysis: any bytes are read as a
 * "plurigrid-game/1" file and, when accepted, analysed (short learning runs, a small enumeration
 * budget) and rendered as text and JSON. Nothing may crash, leak or trip a sanitizer, and a
 * refused input must leave no report. Its corpus (tests/fuzz/corpus/game/) replays as a test. */
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
    if (pg_game_text_analyze((const char *)data, size, "fuzz.json", &o, &r, &err) != PG_OK) {
        if (r || err.code == PG_OK)
            abort(); /* a refusal says why and writes no report */
        return 0;
    }
    char *text = NULL, *json = NULL;
    if (pg_game_report_text(r, &text, &err) != PG_OK || pg_game_report_json(r, &json, &err))
        abort();
    free(text);
    free(json);
    pg_game_report_free(r);
    return 0;
}
