/* The synthetic community of the community and lattice benchmarks: nodes homes of 15-minute
 * intervals, each a fixed load (one of ten daily profiles), a clear-sky PV roof of 2 to 6 kWp and,
 * every third one, a 10 kWh battery, under a time-of-use retail price and a uniform-price market.
 * A header, since every .c file in bench/ is built as a program of its own. */
#ifndef PG_BENCH_SYNTHETIC_H
#define PG_BENCH_SYNTHETIC_H

#include <stdio.h>
#include <stdlib.h>

#include "core/util.h"

/* The scenario's text (malloc'd); exits on out of memory. */
static inline char *
bench_synthetic_community(size_t nodes, size_t intervals)
{
    pgi_buf b = {0};
    pgi_buf_printf(&b,
                   "{\"format\": \"plurigrid-community/1\", \"name\": \"synthetic\", \"seed\": 1,"
                   " \"step_h\": 0.25, \"intervals\": %zu, \"horizon_h\": 6,"
                   " \"start\": {\"date\": \"2016-08-01T00:00\"},",
                   intervals);
    pgi_buf_puts(&b, " \"prices\": {\"retail\": {\"model\": \"daily-profile\", \"values\": "
                     "[0.21,0.21,0.21,0.21,0.21,0.21,0.21,0.21,0.22,0.22,0.22,0.22,0.22,0.22,"
                     "0.22,0.22,0.40,0.40,0.50,0.54,0.54,0.40,0.22,0.21]},"
                     " \"feed_in\": {\"constant\": 0.05}},\n \"series\": {"
                     "\"pv\": {\"model\": \"clear-sky-pv\", \"latitude\": 34.1,"
                     " \"longitude\": -117.4, \"utc_offset_h\": -8}");
    for (int k = 0; k < 10; k++) {
        pgi_buf_printf(&b, ",\n  \"load%d\": {\"model\": \"daily-profile\", \"values\": [", k);
        for (int h = 0; h < 24; h++) {
            double v = 0.3 + 0.1 * k * (h >= 17 && h <= 21) + 0.05 * ((h * 7 + k * 3) % 5);
            pgi_buf_printf(&b, "%s%.3f", h ? "," : "", v);
        }
        pgi_buf_puts(&b, "]}");
    }
    pgi_buf_puts(&b, "},\n \"nodes\": [");
    for (size_t i = 0; i < nodes; i++) {
        pgi_buf_printf(&b,
                       "%s\n  {\"name\": \"h%zu\", \"config\": {\"name\": \"h%zu\", \"profile\": "
                       "\"residential\", \"devices\": [{\"kind\": \"fixed_load\", \"name\": "
                       "\"house\", \"input\": \"load\"}, {\"kind\": \"pv\", \"name\": \"roof\", "
                       "\"kw_peak\": %g, \"input\": \"pv\"}%s], \"controller\": {\"kind\": "
                       "\"rules\"}}, \"inputs\": {\"load\": \"load%zu\", \"pv\": \"pv\"}}",
                       i ? "," : "", i, i, 2.0 + (double)(i % 5),
                       i % 3 == 0 ? ", {\"kind\": \"battery\", \"name\": \"b\", \"capacity_kwh\": "
                                    "10, \"power_kw\": 5}"
                                  : "",
                       i % 10);
    }
    pgi_buf_puts(&b, "\n ],\n \"market\": {\"mechanism\": \"uniform\"}}\n");
    if (b.failed) {
        fprintf(stderr, "bench: out of memory\n");
        exit(1);
    }
    return b.data;
}

#endif
