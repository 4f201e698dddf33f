/* bench/wasm: what the WebAssembly sandbox costs a node (docs/wasm.md). The example strategy
 * forecast (examples/strategies/forecast.c: a bid curve of ten points,
 * from a 96-step forecast of prices, load and PV) is called on the same view natively (the same
 * C source linked with the shim native.c) and sandboxed (the module built by make, run by the
 * sandbox's child process), and the plans are checked to be the same; then the cost of the
 * process boundary alone (a call of an export that returns at once: pg_init) and of starting
 * the sandbox (a fresh child: fork, exec, load, instantiate, pg_init; and stopping it). Each
 * figure is a median and a 99th percentile over many calls, in microseconds.
 *
 * Usage: bench/wasm [CALLS] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "core/util.h"
#include "native.h"
#include "wasm/internal.h"

#define H 96

static double
pct(double *t, int n, double p)
{
    qsort(t, (size_t)n, sizeof *t, bench_cmp_double);
    int k = (int)(p * (n - 1) + 0.5);
    return t[k];
}

static void
report(const char *what, double *t, int n)
{
    double med = bench_median(t, n), p99 = pct(t, n, 0.99);
    printf("  %-44s median %9.2f us   p99 %9.2f us   (%d)\n", what, med * 1e6, p99 * 1e6, n);
}

int
main(int argc, char **argv)
{
    int calls = argc > 1 ? atoi(argv[1]) : 5000;
    if (calls < 10)
        calls = 10;
#if !PG_WASM_STRATEGIES
    fprintf(stderr, "bench/wasm: the example strategies were not built: %s\n",
            PG_WASM_STRATEGIES_WHY);
    return 2;
#endif
    /* a day of quarter hours from 18:00: prices, a home's load, a cloudy day's PV */
    double retail[H], feed_in[H], fixed[H], pv[H];
    for (int k = 0; k < H; k++) {
        double h = k * 0.25;
        /* a real-time price, dearest now (18:00) and cheapest in the early morning */
        retail[k] = 0.12 + 0.30 * (0.5 + 0.5 * cos(2 * M_PI * k / H)) + 0.002 * (k % 7);
        feed_in[k] = 0.11;
        fixed[k] = 0.25 * (0.6 + 0.4 * (h < 4) + 0.05 * sin(k));
        double hd = fmod(18 + h, 24), sun = sin((hd - 6) / 13 * M_PI);
        pv[k] = hd > 6 && hd < 19 ? 0.25 * 1.5 * sun : 0; /* a cloudy day */
    }
    const double *forecast[2] = {fixed, pv};
    pg_node_env env = {.t = 40,
                       .hours = 0.25,
                       .time_h = 18,
                       .hour_of_day = 18,
                       .horizon = H,
                       .retail = retail,
                       .feed_in = feed_in,
                       .grid_connected = true,
                       .forecast = forecast,
                       .actual = fixed};
    pg_node_view v = {.env = &env,
                      .profile = PG_NODE_RESIDENTIAL,
                      .fixed_kwh = fixed,
                      .pv_kwh = pv,
                      .soc_kwh = 3.2,
                      .soc_min_kwh = 0.64,
                      .soc_max_kwh = 6.4,
                      .charge_max_kw = 5,
                      .discharge_max_kw = 5,
                      .eta_charge = 0.95,
                      .eta_discharge = 0.95,
                      .temp_c = NAN,
                      .setpoint_c = NAN,
                      .deadband_c = NAN};

    char so[1024];
    snprintf(so, sizeof so, "%s/forecast.so", PG_WASM_STRATEGIES_DIR);
    pgi_wasm_sandbox_limits lim;
    pgi_wasm_limits_init(&lim);
    pgi_wasm_host host = {.seed = 1, .n_inputs = 2};
    pgi_wasm_sandbox *sb = NULL;
    pg_error err = {0};
    if (pgi_wasm_sandbox_new(&sb, so, &lim, &host, &err) != PG_OK) {
        fprintf(stderr, "bench/wasm: %s\n", err.msg);
        return 3;
    }
    double *t = malloc((size_t)calls * sizeof *t);
    if (!t)
        return 3;
    printf("wasm: the strategy forecast, a bid curve from a %d-step forecast, %d calls\n", H,
           calls);

    /* native */
    pg_node_plan pn, ps;
    pgx_forecast.init();
    for (int i = 0; i < calls; i++) {
        double t0 = pgi_now();
        pgx_native_bid(&pgx_forecast, &v, 2, &pn);
        t[i] = pgi_now() - t0;
    }
    report("strategy call, native C", t, calls);

    /* sandboxed */
    pgi_wasm_outcome oc;
    for (int i = 0; i < calls; i++) {
        double t0 = pgi_now();
        int rc = pgi_wasm_strategy_bid(sb, &v, &ps, &oc, &err);
        t[i] = pgi_now() - t0;
        if (rc != PG_OK || oc.kind != PGI_WASM_OK) {
            fprintf(stderr, "bench/wasm: the sandboxed call failed: %s %s\n", err.msg, oc.why);
            return 3;
        }
    }
    report("strategy call, sandboxed", t, calls);
    if (ps.n_points != pn.n_points ||
        memcmp(ps.curve, pn.curve, pn.n_points * sizeof *pn.curve) != 0 ||
        memcmp(&ps.battery_kw, &pn.battery_kw, sizeof pn.battery_kw) != 0) {
        fprintf(stderr, "bench/wasm: the sandboxed plan differs from the native one\n");
        return 1;
    }
    printf("  (the same plan both ways: %zu points, battery %.6g kW)\n", pn.n_points,
           pn.battery_kw);

    /* the process boundary alone: an export that returns at once */
    pgi_wasm_val res;
    for (int i = 0; i < calls; i++) {
        double t0 = pgi_now();
        int rc = pgi_wasm_sandbox_invoke(sb, "pg_init", NULL, 0, &res, 1, &oc, &err);
        t[i] = pgi_now() - t0;
        if (rc != PG_OK || oc.kind != PGI_WASM_OK) {
            fprintf(stderr, "bench/wasm: the empty call failed: %s %s\n", err.msg, oc.why);
            return 3;
        }
    }
    report("empty call round trip (process boundary)", t, calls);
    pgi_wasm_sandbox_free(sb);

    /* starting the sandbox: a fresh child each time */
    int starts = calls / 50 < 20 ? 20 : calls / 50;
    for (int i = 0; i < starts; i++) {
        double t0 = pgi_now();
        if (pgi_wasm_sandbox_new(&sb, so, &lim, &host, &err) != PG_OK) {
            fprintf(stderr, "bench/wasm: %s\n", err.msg);
            return 3;
        }
        double t1 = pgi_now();
        pgi_wasm_sandbox_free(sb);
        t[i] = t1 - t0;
    }
    report("sandbox start (fork, exec, load, pg_init)", t, starts);
    free(t);
    return 0;
}
