/* The scenario simulator: agents with actions and strategies act on state
 * variables through rules written as data (linear effects with noise, thresholds, joint-action
 * interactions, decay towards baselines), under shocks, with alliances, negotiated joint projects
 * and learning (Roth-Erev and Q-learning from learn.h, active inference from aif.h). Many runs
 * (seeded, in parallel, reproducible for a seed whatever the thread count) give a performance
 * indicator over time, from which resilience metrics are measured per run and summarised across
 * runs, strategy profiles and initial conditions (resilience.h). The file format
 * "plurigrid-scenario/1" is documented in docs/scenarios.md. */
#ifndef PLURIGRID_SCENARIO_H
#define PLURIGRID_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plurigrid/core.h"
#include "plurigrid/resilience.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ================================================================ scenarios */

typedef struct pg_scenario pg_scenario;

/* Largest scenario file pg_scenario_read() reads, bytes (64 MiB). */
#define PG_SCENARIO_INPUT_MAX ((size_t)64 << 20)

/* Limits of one simulation, in a file and in pg_scenario_options alike: runs and turns, and the
 * values of the indicator a result keeps for the report, runs x (turns + 1) (800 MB of them). */
#define PG_SCENARIO_MAX_RUNS ((size_t)1000000)
#define PG_SCENARIO_MAX_TURNS ((size_t)100000)
#define PG_SCENARIO_MAX_VALUES ((size_t)100000000)

/* Reads a "plurigrid-scenario/1" file. Errors name the file, the line and column, the JSON path
 * ("$.rules[2].when") and what is wrong (unknown key, unknown agent, action or variable, bad
 * number, syntax, ...). *out is written only on success. */
PG_API int pg_scenario_read(const char *path, pg_scenario **out, pg_error *err);
/* The same from text in memory; name stands for the file in error messages. Borrows text. */
PG_API int pg_scenario_parse(const char *text, size_t len, const char *name, pg_scenario **out,
                             pg_error *err);
PG_API void pg_scenario_free(pg_scenario *s);

/* Read-outs (borrowed strings, valid while s lives). */
PG_API const char *pg_scenario_name(const pg_scenario *s);
PG_API size_t pg_scenario_default_runs(const pg_scenario *s);
PG_API size_t pg_scenario_default_turns(const pg_scenario *s);
PG_API uint64_t pg_scenario_default_seed(const pg_scenario *s);
PG_API size_t pg_scenario_n_agents(const pg_scenario *s);
PG_API const char *pg_scenario_agent(const pg_scenario *s, size_t i);
PG_API size_t pg_scenario_n_variables(const pg_scenario *s);
PG_API const char *pg_scenario_variable(const pg_scenario *s, size_t i);
PG_API size_t pg_scenario_n_profiles(const pg_scenario *s);
PG_API const char *pg_scenario_profile(const pg_scenario *s, size_t i);
PG_API size_t pg_scenario_n_groups(const pg_scenario *s); /* initial-condition groups */
PG_API const char *pg_scenario_group(const pg_scenario *s, size_t i);

/* Called after each finished block of runs with the number of runs done so far (from the
 * calling thread only). */
typedef void (*pg_scenario_progress_fn)(size_t done, size_t total, void *ud);

typedef struct pg_scenario_options {
    size_t runs;   /* 0: the file's "runs"; at most PG_SCENARIO_MAX_RUNS */
    size_t turns;  /* 0: the file's "turns"; at most PG_SCENARIO_MAX_TURNS */
    bool set_seed; /* false: the file's "seed" */
    uint64_t seed;
    size_t threads; /* worker threads (the calling thread is one of them); 0 or 1: none */
    pg_scenario_progress_fn progress;
    void *progress_ud;
} pg_scenario_options;

PG_API void pg_scenario_options_init(pg_scenario_options *o);

typedef struct pg_scenario_result pg_scenario_result;

/* Runs the scenario: run r plays strategy profile r mod P with initial-condition group
 * (r / P) mod G, drawing every random number from the stream (seed, r). Results are reduced in
 * run order, so they are identical for a seed whatever the number of threads. Borrows s, which
 * must outlive the result. opts may be NULL for the file's settings in one thread. PG_ELIMIT,
 * naming the limit, for more runs or turns than the limits above allow. */
PG_API int pg_scenario_run(const pg_scenario *s, const pg_scenario_options *opts,
                           pg_scenario_result **out, pg_error *err);
PG_API void pg_scenario_result_free(pg_scenario_result *r);

PG_API size_t pg_scenario_result_runs(const pg_scenario_result *r);
PG_API size_t pg_scenario_result_turns(const pg_scenario_result *r);
/* Performance indicator of run `run` after each turn: turns + 1 values (borrowed). */
PG_API const double *pg_scenario_result_performance(const pg_scenario_result *r, size_t run);
/* Resilience metrics of one run, and its disruption onset turn. */
PG_API const pg_resilience *pg_scenario_result_metrics(const pg_scenario_result *r, size_t run);
PG_API size_t pg_scenario_result_onset(const pg_scenario_result *r, size_t run);
/* Number of times agent took action in run (including actions imposed by agreements). */
PG_API size_t pg_scenario_result_action_count(const pg_scenario_result *r, size_t run, size_t agent,
                                              size_t action);

/* The resilience report: settings, metric summaries across all runs, per strategy profile, per
 * initial-condition group and per agent behaviour (the action an agent took most in a run),
 * ranked by effect on the resilience of the system; agreement rates of negotiations; the
 * scenario's documented assumptions. *out is malloc'd (caller frees). The JSON text is a
 * deterministic function of the result. */
PG_API int pg_scenario_report_json(const pg_scenario_result *r, char **out, pg_error *err);
PG_API int pg_scenario_report_text(const pg_scenario_result *r, char **out, pg_error *err);
/* Writes SVG charts into dir (which must exist): performance.svg (median and percentile bands
 * over all runs), performance_by_profile.svg, performance_by_group.svg, variables.svg (mean of
 * each state variable) and actions_<agent>.svg (share of each action over time). */
PG_API int pg_scenario_write_plots(const pg_scenario_result *r, const char *dir, pg_error *err);
/* The same charts as SVG text in memory, for programs that show them rather than write them
 * (a notebook): *n charts, (*names)[i] the file name pg_scenario_write_plots gives chart i
 * ("performance.svg", ...) and (*svgs)[i] its text. Borrows r; the arrays and strings are new
 * (free them with pg_scenario_plots_free), written only on success. */
PG_API int pg_scenario_plots_svg(const pg_scenario_result *r, char ***names, char ***svgs,
                                 size_t *n, pg_error *err);
/* Frees what pg_scenario_plots_svg returned. Accepts NULL arrays. */
PG_API void pg_scenario_plots_free(char **names, char **svgs, size_t n);

#ifdef __cplusplus
}
#endif
#endif
