/* libFuzzer target for the node config reader and the node: any bytes are read as a
 * "plurigrid-node/1" document and, when accepted, the node runs two days of hourly intervals on
 * fixed inputs with its controller, every step balanced. Nothing may crash, leak or trip a
 * sanitizer, and a refused input must say why and leave no config. Its corpus
 * (tests/fuzz/corpus/node_config/) replays as a test. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "plurigrid/node.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
run_days(const pg_node_config *c)
{
    pg_node *n = NULL;
    pg_error err = {0};
    if (pg_node_new(&n, c, 0, 1, &err) != PG_OK)
        return; /* a controller not in this build */
    size_t ni = pg_node_config_n_inputs(c);
    double *actual = calloc(ni ? ni : 1, sizeof *actual);
    double retail[4] = {0.3, 0.3, 0.2, 0.1}, feed_in[4] = {0.05, 0.05, 0.05, 0.05};
    pg_dr_event ev = {.start_h = 17, .duration_h = 3, .signal = PG_DR_SIMPLE, .n_intervals = 1};
    ev.interval_h[0] = 3;
    ev.interval_value[0] = 2;
    for (size_t t = 0; actual && t < 48; t++) {
        for (size_t i = 0; i < ni; i++)
            actual[i] = (double)((t + i) % 7) * 0.3;
        pg_node_env env = {.t = t,
                           .hours = 1,
                           .time_h = (double)t,
                           .hour_of_day = (double)(t % 24),
                           .horizon = 4,
                           .retail = retail,
                           .feed_in = feed_in,
                           .grid_connected = t % 5 != 0,
                           .actual = actual,
                           .n_events = 1,
                           .events = &ev};
        pg_node_plan plan;
        pg_node_step st;
        if (pg_node_bid(n, &env, &plan, &err) != PG_OK ||
            pg_node_operate(n, &env, t % 3 ? 0 : -1, 0.2, &st, &err) != PG_OK)
            break;
        double lhs = st.load_kwh + st.battery_in_kwh + st.export_kwh;
        double rhs =
            st.pv_kwh + st.battery_out_kwh + st.import_kwh + st.generator_kwh + st.unserved_kwh;
        /* every step balances, to rounding of its largest flow */
        double scale = fmax(fmax(1, lhs), fmax(st.pv_kwh + st.pv_spilled_kwh, st.generator_kwh));
        if (!(fabs(lhs - rhs) <= 1e-9 * scale))
            abort();
    }
    free(actual);
    pg_node_free(n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pg_node_config *c = NULL;
    pg_error err = {0};
    if (pg_node_config_parse(&c, "fuzz.json", (const char *)data, size, &err) != PG_OK) {
        if (c || err.code == PG_OK || !err.msg[0])
            abort(); /* a refusal says why and returns nothing */
        return 0;
    }
    run_days(c);
    pg_node_config_free(c);
    return 0;
}
