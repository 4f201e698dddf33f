"""C declarations of the parts of libplurigrid beyond worlds and power flow (scheduling, OPF,
games, plots), in cffi's cdef syntax, copied from include/plurigrid/*.h. _ffi.py declares them
after its own (core, model, io, pf), so they may use pg_error, pg_world, pg_notes and friends.

Structs whose fields Python reads or writes are copied whole (dispatch.h's options and results,
game.h's and scenario.h's options); the game report and scenario objects are opaque here: their
content reaches Python as the JSON report the library writes. Enum fields are ``int``.
"""

CDEF = r"""
/* core.h: the one bounded reader every input goes through */
int pg_input_read(const char *path, size_t max, char **data, size_t *len, pg_error *err);

/* plot.h */
typedef struct pg_plot pg_plot;
typedef struct pg_plot_options {
    int width; int height; int y_from_zero; int step;
} pg_plot_options;
void pg_plot_options_init(pg_plot_options *o);
int pg_plot_new(pg_plot **out, const char *title, const char *x_label, const char *y_label,
                const pg_plot_options *opts, pg_error *err);
void pg_plot_free(pg_plot *p);
int pg_plot_add_line(pg_plot *p, const char *label, const double *x, const double *y, size_t n,
                     const char *color, pg_error *err);
int pg_plot_add_dashed(pg_plot *p, const char *label, const double *x, const double *y, size_t n,
                       const char *color, pg_error *err);
int pg_plot_add_stack(pg_plot *p, const char *label, const double *x, const double *y, size_t n,
                      const char *color, pg_error *err);
int pg_plot_add_band(pg_plot *p, const char *label, const double *x, const double *lo,
                     const double *hi, size_t n, const char *color, pg_error *err);
int pg_plot_add_bars(pg_plot *p, const char *label, const double *x, const double *y, size_t n,
                     const char *color, pg_error *err);
int pg_plot_render(const pg_plot *p, char **svg, size_t *len, pg_error *err);

/* dispatch.h */
typedef int pg_network;
typedef int pg_dispatch_phase;
typedef int pg_uc_status;
typedef int pg_dispatch_chart;
typedef void (*pg_dispatch_progress_fn)(void *user, pg_dispatch_phase phase, size_t step,
                                        size_t n_steps);
typedef struct pg_dispatch_options {
    size_t start_step; size_t horizon; double step_h; pg_network network; bool commitment;
    bool intertemporal; double voll; double overgen_cost; int pwl_segments; double mip_gap;
    double time_limit_s; int threads; bool solver_log; pg_dispatch_progress_fn progress;
    void *progress_user;
} pg_dispatch_options;
void pg_dispatch_options_init(pg_dispatch_options *o);
typedef struct pg_dispatch_result {
    size_t n_steps; double step_h; size_t start_step; pg_network network;
    size_t n_buses, n_branches, n_thermals, n_renewables, n_storages;
    pg_uc_status uc_status; double uc_objective; double uc_bound; double uc_gap;
    double uc_seconds; double ed_seconds; size_t n_variables, n_integers, n_constraints;
    double *thermal_p; unsigned char *thermal_on; unsigned char *thermal_start;
    unsigned char *thermal_stop;
    double *renewable_p; double *renewable_avail;
    double *storage_charge; double *storage_discharge; double *storage_soc;
    double *bus_demand; double *bus_unserved; double *bus_overgen; double *lmp; double *bus_angle;
    double *branch_flow; double *branch_price;
    double *energy_price; double *cost_variable; double *cost_fixed; double *cost_startup;
    double *cost_penalty;
    double total_cost; double total_unserved_mwh; double total_overgen_mwh;
    double total_curtailed_mwh;
} pg_dispatch_result;
int pg_dispatch_check(const pg_world *w, const pg_dispatch_options *opts, pg_error *err);
int pg_dispatch_run(const pg_world *w, const pg_dispatch_options *opts, pg_dispatch_result **out,
                    pg_error *err);
void pg_dispatch_result_free(pg_dispatch_result *r);
typedef struct pg_dispatch_ac_step {
    bool solved; int iterations; double losses_mw; double slack_mw; double vm_min, vm_max;
    size_t n_voltage; size_t n_overload; double max_loading; size_t n_q_limit; bool ref_held;
    char reason[400];
} pg_dispatch_ac_step;
typedef struct pg_dispatch_ac {
    size_t n_steps; pg_dispatch_ac_step *steps; size_t n_unsolved; size_t n_with_violations;
} pg_dispatch_ac;
int pg_dispatch_ac_check(const pg_world *w, const pg_dispatch_result *r,
                         const pg_dispatch_options *opts, pg_dispatch_ac **out, pg_error *err);
void pg_dispatch_ac_free(pg_dispatch_ac *ac);
int pg_dispatch_result_text(const pg_world *w, const pg_dispatch_result *r,
                            const pg_dispatch_ac *ac, char **text, pg_error *err);
int pg_dispatch_result_json(const pg_world *w, const pg_dispatch_result *r,
                            const pg_dispatch_ac *ac, char **text, pg_error *err);
int pg_dispatch_result_csv(const pg_world *w, const pg_dispatch_result *r,
                           const pg_dispatch_ac *ac, char **text, pg_error *err);
int pg_dispatch_plot(pg_plot **out, const pg_world *w, const pg_dispatch_result *r,
                     pg_dispatch_chart chart, pg_error *err);
typedef struct pg_dcopf_result {
    size_t n_buses, n_branches, n_thermals; double objective; double *pg; double *va;
    double *lmp; double *flow; double *branch_price; double unserved_mw; double overgen_mw;
    double seconds;
} pg_dcopf_result;
int pg_dcopf_solve(const pg_world *w, const pg_dispatch_options *opts, pg_dcopf_result **out,
                   pg_error *err);
void pg_dcopf_result_free(pg_dcopf_result *r);
int pg_dcopf_result_text(const pg_world *w, const pg_dcopf_result *r, char **text, pg_error *err);
int pg_dcopf_result_json(const pg_world *w, const pg_dcopf_result *r, char **text, pg_error *err);

/* game.h: classic-game files; the report is read through its JSON */
typedef void (*pg_game_progress_fn)(const char *what, size_t done, size_t total, void *ud);
typedef struct pg_game_options {
    uint64_t seed; size_t rounds; double tolerance; bool learning; size_t max_profiles;
    pg_game_progress_fn progress; void *progress_ud;
} pg_game_options;
void pg_game_options_init(pg_game_options *o);
typedef struct pg_game_report pg_game_report;
bool pg_game_text_is_classic(const char *text, size_t len);
int pg_game_text_analyze(const char *text, size_t len, const char *name,
                         const pg_game_options *opts, pg_game_report **out, pg_error *err);
void pg_game_report_free(pg_game_report *r);
int pg_game_report_json(const pg_game_report *r, char **out, pg_error *err);
int pg_game_report_text(const pg_game_report *r, char **out, pg_error *err);

/* scenario.h: scenario files, their resilience report and charts */
typedef struct pg_scenario pg_scenario;
typedef void (*pg_scenario_progress_fn)(size_t done, size_t total, void *ud);
typedef struct pg_scenario_options {
    size_t runs; size_t turns; bool set_seed; uint64_t seed; size_t threads;
    pg_scenario_progress_fn progress; void *progress_ud;
} pg_scenario_options;
void pg_scenario_options_init(pg_scenario_options *o);
typedef struct pg_scenario_result pg_scenario_result;
int pg_scenario_parse(const char *text, size_t len, const char *name, pg_scenario **out,
                      pg_error *err);
void pg_scenario_free(pg_scenario *s);
int pg_scenario_run(const pg_scenario *s, const pg_scenario_options *opts,
                    pg_scenario_result **out, pg_error *err);
void pg_scenario_result_free(pg_scenario_result *r);
int pg_scenario_report_json(const pg_scenario_result *r, char **out, pg_error *err);
int pg_scenario_report_text(const pg_scenario_result *r, char **out, pg_error *err);
size_t pg_scenario_result_runs(const pg_scenario_result *r);
size_t pg_scenario_result_turns(const pg_scenario_result *r);
const double *pg_scenario_result_performance(const pg_scenario_result *r, size_t run);
int pg_scenario_plots_svg(const pg_scenario_result *r, char ***names, char ***svgs, size_t *n,
                          pg_error *err);
void pg_scenario_plots_free(char **names, char **svgs, size_t n);
"""
