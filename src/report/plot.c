/* SVG charts (see plot.h): collects series, picks axis ranges and "nice" ticks, and renders lines,
 * stacked areas, shaded bands and a legend as plain SVG 1.1 text. */
#include "plurigrid/plot.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

enum series_kind { S_LINE, S_DASHED, S_STACK, S_BAND, S_BARS };

typedef struct series {
    enum series_kind kind;
    char *label;
    char color[8];
    size_t n;
    double *x;
    double *y;  /* line/stack values, band lower bound */
    double *hi; /* band upper bound */
} series;

struct pg_plot {
    char *title, *x_label, *y_label;
    pg_plot_options opt;
    series *s;
    size_t n, cap;
};

static const char *palette[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
                                "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
#define N_PALETTE (sizeof palette / sizeof *palette)

void
pg_plot_options_init(pg_plot_options *o)
{
    o->width = 900;
    o->height = 480;
    o->y_from_zero = 1;
    o->step = 0;
}

int
pg_plot_new(pg_plot **out, const char *title, const char *x_label, const char *y_label,
            const pg_plot_options *opts, pg_error *err)
{
    if (!out)
        return pg_error_set(err, PG_EINVAL, "pg_plot_new: out is NULL");
    pg_plot *p = calloc(1, sizeof *p);
    if (!p)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    p->title = pgi_strdup(title ? title : "");
    p->x_label = pgi_strdup(x_label ? x_label : "");
    p->y_label = pgi_strdup(y_label ? y_label : "");
    if (opts)
        p->opt = *opts;
    else
        pg_plot_options_init(&p->opt);
    if (p->opt.width < 200)
        p->opt.width = 200;
    if (p->opt.height < 150)
        p->opt.height = 150;
    if (!p->title || !p->x_label || !p->y_label) {
        pg_plot_free(p);
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    }
    *out = p;
    return PG_OK;
}

void
pg_plot_free(pg_plot *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++) {
        free(p->s[i].label);
        free(p->s[i].x);
        free(p->s[i].y);
        free(p->s[i].hi);
    }
    free(p->s);
    free(p->title);
    free(p->x_label);
    free(p->y_label);
    free(p);
}

static double *
dup_values(const double *v, size_t n)
{
    double *d = malloc((n ? n : 1) * sizeof *d);
    if (d && n)
        memcpy(d, v, n * sizeof *d);
    return d;
}

static int
valid_color(const char *c)
{
    if (!c || c[0] != '#' || strlen(c) != 7)
        return 0;
    for (int i = 1; i < 7; i++)
        if (!strchr("0123456789abcdefABCDEF", c[i]))
            return 0;
    return 1;
}

static int
add_series(pg_plot *p, enum series_kind kind, const char *label, const double *x, const double *y,
           const double *hi, size_t n, const char *color, pg_error *err)
{
    if (!p || (n && (!x || !y || (kind == S_BAND && !hi))))
        return pg_error_set(err, PG_EINVAL, "plot: NULL series data");
    if (color && !valid_color(color))
        return pg_error_set(err, PG_EINVAL, "plot: color '%s' is not of the form #rrggbb", color);
    if (p->n == p->cap) {
        size_t nc = p->cap ? 2 * p->cap : 8;
        series *ns = realloc(p->s, nc * sizeof *ns);
        if (!ns)
            return pg_error_set(err, PG_ENOMEM, "out of memory");
        p->s = ns;
        p->cap = nc;
    }
    series s = {0};
    s.kind = kind;
    s.n = n;
    s.label = pgi_strdup(label ? label : "");
    s.x = dup_values(x, n);
    s.y = dup_values(y, n);
    s.hi = kind == S_BAND ? dup_values(hi, n) : NULL;
    if (!s.label || !s.x || !s.y || (kind == S_BAND && !s.hi)) {
        free(s.label);
        free(s.x);
        free(s.y);
        free(s.hi);
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    }
    snprintf(s.color, sizeof s.color, "%s", color ? color : palette[p->n % N_PALETTE]);
    p->s[p->n++] = s;
    return PG_OK;
}

int
pg_plot_add_line(pg_plot *p, const char *label, const double *x, const double *y, size_t n,
                 const char *color, pg_error *err)
{
    return add_series(p, S_LINE, label, x, y, NULL, n, color, err);
}

int
pg_plot_add_dashed(pg_plot *p, const char *label, const double *x, const double *y, size_t n,
                   const char *color, pg_error *err)
{
    return add_series(p, S_DASHED, label, x, y, NULL, n, color, err);
}

int
pg_plot_add_stack(pg_plot *p, const char *label, const double *x, const double *y, size_t n,
                  const char *color, pg_error *err)
{
    return add_series(p, S_STACK, label, x, y, NULL, n, color, err);
}

int
pg_plot_add_band(pg_plot *p, const char *label, const double *x, const double *lo, const double *hi,
                 size_t n, const char *color, pg_error *err)
{
    return add_series(p, S_BAND, label, x, lo, hi, n, color, err);
}

int
pg_plot_add_bars(pg_plot *p, const char *label, const double *x, const double *y, size_t n,
                 const char *color, pg_error *err)
{
    return add_series(p, S_BARS, label, x, y, NULL, n, color, err);
}

/* ---------------------------------------------------------------- rendering */

typedef struct frame {
    double x0, x1, y0, y1;           /* data ranges */
    double left, right, top, bottom; /* pixel box */
} frame;

static double
px(const frame *f, double x)
{
    return f->left + (x - f->x0) / (f->x1 - f->x0) * (f->right - f->left);
}

static double
py(const frame *f, double y)
{
    return f->bottom - (y - f->y0) / (f->y1 - f->y0) * (f->bottom - f->top);
}

/* A step of 1, 2 or 5 times a power of ten giving about `want` intervals over span. */
static double
nice_step(double span, int want)
{
    double raw = span / want;
    double mag = pow(10.0, floor(log10(raw)));
    double m = raw / mag;
    double k = m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10;
    return k * mag;
}

static void
put_escaped(pgi_buf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': pgi_buf_puts(b, "&amp;"); break;
        case '<': pgi_buf_puts(b, "&lt;"); break;
        case '>': pgi_buf_puts(b, "&gt;"); break;
        case '"': pgi_buf_puts(b, "&quot;"); break;
        default:
            /* Control characters are not allowed in XML 1.0 text. */
            if ((unsigned char)*s >= 0x20 || *s == '\t' || *s == '\n')
                pgi_buf_append(b, s, 1);
        }
    }
}

/* The width of the last x interval, used to draw the final step of a step chart. */
static double
last_dx(const series *s)
{
    return s->n >= 2 ? s->x[s->n - 1] - s->x[s->n - 2] : 1.0;
}

/* The width of a series' bars: 80 % of the smallest gap between neighbouring finite x. */
static double
bar_width(const series *s)
{
    double gap = INFINITY;
    for (size_t i = 1; i < s->n; i++) {
        double d = fabs(s->x[i] - s->x[i - 1]);
        if (isfinite(d) && d > 0 && d < gap)
            gap = d;
    }
    return 0.8 * (isfinite(gap) ? gap : 1.0);
}

/* Cumulative stack tops: stack_top[k][i] for the k-th stacked series. Stacked series are summed
 * point by point (they are expected to share x). */
static double **
stack_tops(const pg_plot *p)
{
    double **tops = calloc(p->n ? p->n : 1, sizeof *tops);
    if (!tops)
        return NULL;
    const double *prev = NULL;
    size_t prev_n = 0;
    for (size_t k = 0; k < p->n; k++) {
        const series *s = &p->s[k];
        if (s->kind != S_STACK)
            continue;
        tops[k] = malloc((s->n ? s->n : 1) * sizeof **tops);
        if (!tops[k]) {
            for (size_t j = 0; j < k; j++)
                free(tops[j]);
            free(tops);
            return NULL;
        }
        for (size_t i = 0; i < s->n; i++) {
            double base = (prev && i < prev_n && isfinite(prev[i])) ? prev[i] : 0.0;
            double v = isfinite(s->y[i]) ? s->y[i] : 0.0;
            tops[k][i] = base + v;
        }
        prev = tops[k];
        prev_n = s->n;
    }
    return tops;
}

static void
extend(double *lo, double *hi, double v)
{
    if (!isfinite(v))
        return;
    if (v < *lo)
        *lo = v;
    if (v > *hi)
        *hi = v;
}

static void
path_points(pgi_buf *b, const frame *f, const double *x, const double *y, size_t n, int step,
            double dx_last)
{
    int pen = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]) || !isfinite(y[i])) {
            pen = 0;
            continue;
        }
        pgi_buf_printf(b, "%c%.2f,%.2f ", pen ? 'L' : 'M', px(f, x[i]), py(f, y[i]));
        pen = 1;
        if (step) {
            double xn = i + 1 < n ? x[i + 1] : x[i] + dx_last;
            pgi_buf_printf(b, "L%.2f,%.2f ", px(f, xn), py(f, y[i]));
        }
    }
}

/* The polygon between a lower and an upper curve (stack slice or band). */
static void
area_path(pgi_buf *b, const frame *f, const double *x, const double *lo, const double *hi, size_t n,
          int step, double dx_last)
{
    if (n == 0)
        return;
    for (size_t i = 0; i < n; i++) {
        double xn = i + 1 < n ? x[i + 1] : x[i] + dx_last;
        double h = isfinite(hi[i]) ? hi[i] : 0.0;
        pgi_buf_printf(b, "%c%.2f,%.2f ", i ? 'L' : 'M', px(f, x[i]), py(f, h));
        if (step)
            pgi_buf_printf(b, "L%.2f,%.2f ", px(f, xn), py(f, h));
    }
    for (size_t i = n; i-- > 0;) {
        double xn = i + 1 < n ? x[i + 1] : x[i] + dx_last;
        double l = lo ? (isfinite(lo[i]) ? lo[i] : 0.0) : 0.0;
        if (step)
            pgi_buf_printf(b, "L%.2f,%.2f ", px(f, xn), py(f, l));
        pgi_buf_printf(b, "L%.2f,%.2f ", px(f, x[i]), py(f, l));
    }
    pgi_buf_puts(b, "Z");
}

int
pg_plot_render(const pg_plot *p, char **svg, size_t *len, pg_error *err)
{
    if (!p || !svg)
        return pg_error_set(err, PG_EINVAL, "pg_plot_render: NULL argument");
    int rc = PG_OK;
    pgi_buf b = {0};
    double **tops = stack_tops(p);
    if (!tops)
        return pg_error_set(err, PG_ENOMEM, "out of memory");

    /* Data ranges. */
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (size_t k = 0; k < p->n; k++) {
        const series *s = &p->s[k];
        int step = p->opt.step && s->kind != S_BAND;
        for (size_t i = 0; i < s->n; i++) {
            extend(&x0, &x1, s->x[i]);
            if (step && i + 1 == s->n)
                extend(&x0, &x1, s->x[i] + last_dx(s));
            if (s->kind == S_STACK) {
                extend(&y0, &y1, tops[k][i]);
                extend(&y0, &y1, 0.0);
            } else if (s->kind == S_BARS) {
                if (isfinite(s->x[i])) {
                    extend(&x0, &x1, s->x[i] - bar_width(s) / 2);
                    extend(&x0, &x1, s->x[i] + bar_width(s) / 2);
                }
                extend(&y0, &y1, s->y[i]);
                extend(&y0, &y1, 0.0);
            } else {
                extend(&y0, &y1, s->y[i]);
                if (s->hi)
                    extend(&y0, &y1, s->hi[i]);
            }
        }
    }
    if (!isfinite(x0)) {
        x0 = 0;
        x1 = 1;
    }
    if (!isfinite(y0)) {
        y0 = 0;
        y1 = 1;
    }
    if (p->opt.y_from_zero) {
        if (y0 > 0)
            y0 = 0;
        if (y1 < 0)
            y1 = 0;
    }
    if (x1 - x0 <= 0) {
        x0 -= 0.5;
        x1 += 0.5;
    }
    if (y1 - y0 <= 0) {
        double d = fabs(y0) > 0 ? fabs(y0) * 0.1 : 1.0;
        y0 -= d;
        y1 += d;
    }
    double ystep = nice_step(y1 - y0, 6);
    y0 = floor(y0 / ystep + 1e-9) * ystep;
    y1 = ceil(y1 / ystep - 1e-9) * ystep;
    double xstep = nice_step(x1 - x0, 8);

    /* Legend width from the longest label. */
    size_t longest = 0;
    for (size_t k = 0; k < p->n; k++)
        if (strlen(p->s[k].label) > longest)
            longest = strlen(p->s[k].label);
    double legend_w = p->n ? 40.0 + 7.0 * (double)(longest > 30 ? 30 : longest) : 10.0;
    frame f = {x0, x1, y0, y1, 72.0, p->opt.width - legend_w - 10.0, 44.0, p->opt.height - 52.0};
    if (f.right < f.left + 50)
        f.right = f.left + 50;

    pgi_buf_printf(&b,
                   "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                   "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                   "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n"
                   "<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n",
                   p->opt.width, p->opt.height, p->opt.width, p->opt.height);
    pgi_buf_puts(&b, "<title>");
    put_escaped(&b, p->title);
    pgi_buf_puts(&b, "</title>\n");
    pgi_buf_printf(&b, "<text x=\"%.1f\" y=\"24\" font-size=\"16\" font-weight=\"bold\">", f.left);
    put_escaped(&b, p->title);
    pgi_buf_puts(&b, "</text>\n");

    /* Grid and ticks. */
    pgi_buf_puts(&b, "<g stroke=\"#e0e0e0\" stroke-width=\"1\">\n");
    for (double y = y0; y <= y1 + ystep * 1e-6; y += ystep)
        pgi_buf_printf(&b, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n", f.left,
                       py(&f, y), f.right, py(&f, y));
    pgi_buf_puts(&b, "</g>\n<g fill=\"#333\" text-anchor=\"end\">\n");
    for (double y = y0; y <= y1 + ystep * 1e-6; y += ystep)
        pgi_buf_printf(&b, "<text x=\"%.2f\" y=\"%.2f\">%g</text>\n", f.left - 6, py(&f, y) + 4,
                       fabs(y) < ystep * 1e-9 ? 0.0 : y);
    pgi_buf_puts(&b, "</g>\n<g fill=\"#333\" text-anchor=\"middle\">\n");
    double xt0 = ceil(x0 / xstep - 1e-9) * xstep;
    for (double x = xt0; x <= x1 + xstep * 1e-6; x += xstep)
        pgi_buf_printf(&b, "<text x=\"%.2f\" y=\"%.2f\">%g</text>\n", px(&f, x), f.bottom + 18,
                       fabs(x) < xstep * 1e-9 ? 0.0 : x);
    pgi_buf_puts(&b, "</g>\n");
    pgi_buf_printf(&b, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\">",
                   (f.left + f.right) / 2, (double)p->opt.height - 12);
    put_escaped(&b, p->x_label);
    pgi_buf_printf(&b,
                   "</text>\n<text transform=\"translate(16,%.2f) rotate(-90)\" "
                   "text-anchor=\"middle\">",
                   (f.top + f.bottom) / 2);
    put_escaped(&b, p->y_label);
    pgi_buf_puts(&b, "</text>\n");

    /* Bands first (behind), then stacks, then lines on top. */
    for (int pass = 0; pass < 3; pass++) {
        const double *prev_top = NULL;
        for (size_t k = 0; k < p->n; k++) {
            const series *s = &p->s[k];
            if (s->n == 0)
                continue;
            if (pass == 0 && s->kind == S_BAND) {
                pgi_buf_printf(&b, "<path fill=\"%s\" fill-opacity=\"0.25\" stroke=\"none\" d=\"",
                               s->color);
                area_path(&b, &f, s->x, s->y, s->hi, s->n, 0, 0);
                pgi_buf_puts(&b, "\"/>\n");
            } else if (pass == 1 && s->kind == S_STACK) {
                pgi_buf_printf(&b,
                               "<path fill=\"%s\" fill-opacity=\"0.85\" stroke=\"%s\" "
                               "stroke-width=\"0.5\" d=\"",
                               s->color, s->color);
                area_path(&b, &f, s->x, prev_top, tops[k], s->n, p->opt.step, last_dx(s));
                pgi_buf_puts(&b, "\"/>\n");
                prev_top = tops[k];
            } else if (pass == 1 && s->kind == S_BARS) {
                double w = bar_width(s);
                pgi_buf_printf(&b, "<g fill=\"%s\" fill-opacity=\"0.85\">\n", s->color);
                for (size_t i = 0; i < s->n; i++) {
                    if (!isfinite(s->x[i]) || !isfinite(s->y[i]))
                        continue;
                    double xa = px(&f, s->x[i] - w / 2), xb = px(&f, s->x[i] + w / 2);
                    double ya = py(&f, s->y[i] > 0 ? s->y[i] : 0.0);
                    double yb = py(&f, s->y[i] > 0 ? 0.0 : s->y[i]);
                    pgi_buf_printf(&b,
                                   "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" "
                                   "height=\"%.2f\"/>\n",
                                   xa, ya, xb - xa, yb - ya);
                }
                pgi_buf_puts(&b, "</g>\n");
            } else if (pass == 2 && (s->kind == S_LINE || s->kind == S_DASHED)) {
                pgi_buf_printf(&b, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s d=\"",
                               s->color, s->kind == S_DASHED ? " stroke-dasharray=\"6,4\"" : "");
                path_points(&b, &f, s->x, s->y, s->n, p->opt.step, last_dx(s));
                pgi_buf_puts(&b, "\"/>\n");
            }
        }
    }

    /* Axes box. */
    pgi_buf_printf(&b,
                   "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"none\" "
                   "stroke=\"#666\"/>\n",
                   f.left, f.top, f.right - f.left, f.bottom - f.top);

    /* Legend: in drawing order, stacks listed top first as they appear. */
    double ly = f.top + 4;
    for (size_t k = 0; k < p->n; k++) {
        const series *s = &p->s[k];
        double lx = f.right + 14;
        if (s->kind == S_LINE || s->kind == S_DASHED)
            pgi_buf_printf(&b,
                           "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" "
                           "stroke=\"%s\" stroke-width=\"2\"%s/>\n",
                           lx, ly + 6, lx + 18, ly + 6, s->color,
                           s->kind == S_DASHED ? " stroke-dasharray=\"6,4\"" : "");
        else
            pgi_buf_printf(&b,
                           "<rect x=\"%.2f\" y=\"%.2f\" width=\"18\" height=\"12\" "
                           "fill=\"%s\" fill-opacity=\"%s\"/>\n",
                           lx, ly, s->color, s->kind == S_BAND ? "0.25" : "0.85");
        pgi_buf_printf(&b, "<text x=\"%.2f\" y=\"%.2f\">", lx + 24, ly + 10);
        put_escaped(&b, s->label);
        pgi_buf_puts(&b, "</text>\n");
        ly += 18;
    }
    pgi_buf_puts(&b, "</svg>\n");

    if (b.failed) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        pgi_buf_free(&b);
    } else {
        *svg = b.data;
        if (len)
            *len = b.len;
    }
    for (size_t k = 0; k < p->n; k++)
        free(tops[k]);
    free(tops);
    return rc;
}

int
pg_plot_write(const pg_plot *p, const char *path, pg_error *err)
{
    if (!p || !path)
        return pg_error_set(err, PG_EINVAL, "pg_plot_write: NULL argument");
    char *svg = NULL;
    size_t len = 0;
    int rc = pg_plot_render(p, &svg, &len, err);
    if (rc)
        return rc;
    rc = pg_output_write(path, svg, len, err);
    free(svg);
    return rc;
}
