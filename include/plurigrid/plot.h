/* SVG charts for reports: lines, stacked areas (dispatch stacks), shaded bands (percentile ranges),
 * bars (histograms, rankings) and step lines, on a shared x axis with a legend. Plain SVG 1.1 text
 * that any browser shows.
 *
 * A pg_plot collects series (copying the data) and renders them in the order added; stacked
 * series are drawn cumulatively, each on top of the stacked series added before it. */
#ifndef PLURIGRID_PLOT_H
#define PLURIGRID_PLOT_H

#include <stddef.h>

#include "plurigrid/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pg_plot pg_plot;

typedef struct pg_plot_options {
    int width;       /* pixels, default 900 */
    int height;      /* pixels, default 480 */
    int y_from_zero; /* 1 (default): the y axis includes 0 */
    int step;        /* 1: lines and stacks are drawn as steps (piecewise constant over each
                        x interval, as hourly schedules are); default 0 */
} pg_plot_options;

PG_API void pg_plot_options_init(pg_plot_options *o);

/* Creates an empty chart. Copies the strings; opts may be NULL for defaults. */
PG_API int pg_plot_new(pg_plot **out, const char *title, const char *x_label, const char *y_label,
                       const pg_plot_options *opts, pg_error *err);
PG_API void pg_plot_free(pg_plot *p);

/* Adders copy x and y (n points each). color may be NULL to take the next palette color
 * ("#rrggbb" otherwise). Non-finite values leave a gap. */
PG_API int pg_plot_add_line(pg_plot *p, const char *label, const double *x, const double *y,
                            size_t n, const char *color, pg_error *err);
PG_API int pg_plot_add_dashed(pg_plot *p, const char *label, const double *x, const double *y,
                              size_t n, const char *color, pg_error *err);
PG_API int pg_plot_add_stack(pg_plot *p, const char *label, const double *x, const double *y,
                             size_t n, const char *color, pg_error *err);
PG_API int pg_plot_add_band(pg_plot *p, const char *label, const double *x, const double *lo,
                            const double *hi, size_t n, const char *color, pg_error *err);
/* Bars from 0 to y[i] centred on x[i] (a histogram's bins, a ranking), each as wide as 80 % of the
 * smallest gap between neighbouring x (0.8 for a single bar). Drawn behind lines, with stacks. */
PG_API int pg_plot_add_bars(pg_plot *p, const char *label, const double *x, const double *y,
                            size_t n, const char *color, pg_error *err);

/* Renders the chart. *svg is malloc'd (caller frees). */
PG_API int pg_plot_render(const pg_plot *p, char **svg, size_t *len, pg_error *err);
/* Renders into a file (written whole to a temporary file, then renamed into place). */
PG_API int pg_plot_write(const pg_plot *p, const char *path, pg_error *err);

#ifdef __cplusplus
}
#endif
#endif
