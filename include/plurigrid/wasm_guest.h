/* The strategy ABI seen from inside the sandbox: the header a strategy written in C includes when
 * it is compiled for wasm32-wasi (clang --target=wasm32-wasi -mexec-model=reactor). It declares
 * the host's imports (module "pg"), the memory layouts they fill and the plan a strategy returns,
 * and is plain C11 with fixed-width types so that the host reads the same layouts (it includes
 * this header too, and checks every offset at compile time). docs/wasm.md describes the ABI.
 *
 * A strategy exports:
 *   int32_t pg_init(void);          once, after the module is instantiated: 0 ready, else refused
 *   int32_t pg_on_interval(void);   each interval: the address of a pg_wasm_plan in its memory,
 *                                   or 0 for "no bid"
 *   int32_t pg_on_dr_event(void);   optional: a demand-response event arrived (pg_dr_event(-1))
 * and its memory as "memory". */
#ifndef PLURIGRID_WASM_GUEST_H
#define PLURIGRID_WASM_GUEST_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PG_WASM_ABI_VERSION 1u

/* The node at the start of an interval (pg_view). Units as in plurigrid/node.h: kW, kWh, h,
 * degrees C, $/kWh; > 0 imports, < 0 exports. */
typedef struct pg_wasm_view {
    uint32_t version;  /* PG_WASM_ABI_VERSION */
    uint32_t size;     /* sizeof(pg_wasm_view) */
    uint32_t t;        /* interval index from the start of the run */
    uint32_t horizon;  /* intervals of every series below ([0] is this interval) */
    uint32_t profile;  /* 0 off-grid, 1 residential, 2 commercial, 3 data center */
    uint32_t n_inputs; /* the node config's input series (pg_series(PG_SERIES_INPUT + i)) */
    uint32_t n_events; /* active demand-response events (pg_dr_event(0 .. n_events-1)) */
    uint32_t grid_connected;
    uint32_t ev_departs_in;     /* intervals until the EV leaves (0: not plugged in) */
    uint32_t shift_deadline_in; /* intervals until shiftable work must be done */
    uint32_t thermal;           /* 1 with a thermostatic load or HVAC */
    uint32_t reserved;
    double hours;       /* interval length, h */
    double time_h;      /* start of the interval, h from the start of the run */
    double hour_of_day; /* 0 <= h < 24 */
    double soc_kwh, soc_min_kwh, soc_max_kwh;
    double charge_max_kw, discharge_max_kw;
    double eta_charge, eta_discharge;
    double ev_need_kwh, ev_max_kw;
    double temp_c, setpoint_c, deadband_c, hvac_max_kw;
    double shift_need_kwh, shift_max_kw;
    double gen_max_kw, gen_cost;
    double hvac_self_kwh;
} pg_wasm_view;

/* Series for pg_series (each `horizon` values). */
enum {
    PG_SERIES_RETAIL = 0,  /* grid import price, $/kWh */
    PG_SERIES_FEED_IN = 1, /* grid export price, $/kWh */
    PG_SERIES_FIXED = 2,   /* inflexible load forecast, kWh per interval */
    PG_SERIES_PV = 3,      /* PV forecast, kWh per interval */
    PG_SERIES_OUTDOOR = 4, /* outdoor temperature, degrees C (absent without thermal load) */
    PG_SERIES_INPUT = 16,  /* + i: forecast of the node config's input i */
};

#define PG_WASM_MAX_POINTS 16

typedef struct pg_wasm_point {
    double price; /* $/kWh */
    double qty;   /* kWh: > 0 buy, < 0 sell */
} pg_wasm_point;

/* What pg_on_interval returns the address of. The host checks it before use: a plan whose
 * numbers are not finite (hvac_kw may be NaN: the thermostat runs on its own), beyond the market's
 * ranges, with more than PG_WASM_MAX_POINTS points or a curve that is not monotone (docs/market.md)
 * is "bad bid": the node bids nothing that interval. */
typedef struct pg_wasm_plan {
    double battery_kw; /* > 0 charge, < 0 discharge */
    double ev_kw;
    double hvac_kw;
    double setpoint_offset_c;
    double shift_kw;
    double generator_kw;
    uint32_t n_points;
    uint32_t reserved;
    pg_wasm_point curve[PG_WASM_MAX_POINTS];
} pg_wasm_plan;

/* A demand-response event (pg_dr_event). */
#define PG_WASM_DR_MAX_INTERVALS 96
typedef struct pg_wasm_dr_event {
    char id[64]; /* NUL-terminated */
    uint32_t modification;
    uint32_t signal; /* 0 SIMPLE (level), 1 ELECTRICITY_PRICE ($/kWh), 2 LOAD_DISPATCH (kW) */
    uint32_t n_intervals;
    uint32_t cancelled;
    double start_h, duration_h, notice_h;
    double interval_h[PG_WASM_DR_MAX_INTERVALS];
    double interval_value[PG_WASM_DR_MAX_INTERVALS];
} pg_wasm_dr_event;

#if defined(__wasm__)
#define PG_WASM_IMPORT(name) __attribute__((import_module("pg"), import_name(name)))
#define PG_WASM_EXPORT(name) __attribute__((export_name(name)))

/* Copies min(len, sizeof(pg_wasm_view)) bytes of the view to dst; returns sizeof(pg_wasm_view). */
PG_WASM_IMPORT("view") int32_t pg_view(pg_wasm_view *dst, uint32_t len);
/* Copies min(n, horizon) values of series `which` to dst; returns horizon, or -1 for a series
 * the node does not have. */
PG_WASM_IMPORT("series") int32_t pg_series(int32_t which, double *dst, uint32_t n);
/* Copies min(len, sizeof(pg_wasm_dr_event)) bytes of event `index` (0 .. n_events-1 of the view;
 * -1: the event pg_on_dr_event is told of) to dst; returns its size, or -1 when there is none. */
PG_WASM_IMPORT("dr_event") int32_t pg_dr_event(int32_t index, pg_wasm_dr_event *dst, uint32_t len);
/* Adds len bytes to the call's log (capped per call: what is beyond the cap is counted, not
 * kept). */
PG_WASM_IMPORT("log") void pg_log(const char *text, uint32_t len);
#endif

#ifdef __cplusplus
}
#endif
#endif
