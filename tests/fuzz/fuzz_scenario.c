/* libFuzzer target for the scenario reader and simulator: any bytes are read as a
 * "plurigrid-scenario/1" file and, when accepted, run briefly (3 runs of 12 turns, 2 threads)
 * and reported as JSON, which must read back as JSON, and text. Nothing may crash, leak or trip
 * a sanitizer, and a refused input must say why and leave no scenario. Its corpus
 * (tests/fuzz/corpus/scenario/) replays as a test. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "plurigrid/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pg_scenario *s = NULL;
    pg_error err = {0};
    if (pg_scenario_parse((const char *)data, size, "fuzz.json", &s, &err) != PG_OK) {
        if (s || err.code == PG_OK || !err.msg[0])
            abort(); /* a refusal says why and returns nothing */
        return 0;
    }
    pg_scenario_options o;
    pg_scenario_options_init(&o);
    o.runs = 3;
    o.turns = 12;
    o.threads = 2;
    pg_scenario_result *r = NULL;
    if (pg_scenario_run(s, &o, &r, &err) == PG_OK) {
        char *json = NULL, *text = NULL;
        if (pg_scenario_report_json(r, &json, &err) != PG_OK ||
            pg_scenario_report_text(r, &text, &err) != PG_OK)
            abort();
        json_error_t je;
        json_t *back = json_loads(json, 0, &je);
        if (!back)
            abort(); /* the report is JSON */
        json_decref(back);
        free(json);
        free(text);
        pg_scenario_result_free(r);
    }
    pg_scenario_free(s);
    return 0;
}
