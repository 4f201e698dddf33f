/* Analysis of a classic-game file: check the profiles the file names, enumerate equilibria where
 * the kind allows it (pure profiles for every kind, extreme mixed equilibria for two-player
 * normal-form games), run the learning dynamics and verify what they propose with the same
 * equilibrium check, and collect it all in a pg_game_report. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "game/internal.h"

#define MAX_LISTED 20 /* enumerated equilibria listed one by one */
#define MAX_MARKOV_PROFILES 4096

typedef struct an {
    cg_game *g;
    const pg_game_options *o;
    pg_game_report *rep;
    pg_error *err;
} an;

void
pg_game_options_init(pg_game_options *o)
{
    memset(o, 0, sizeof *o);
    o->seed = 1;
    o->tolerance = 1e-9;
    o->learning = true;
    o->max_profiles = 100000;
}

static int note(an *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
note(an *a, const char *fmt, ...)
{
    pgi_buf b = {0};
    va_list ap;
    va_start(ap, fmt);
    pgi_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    char **n = realloc(a->rep->notes, (a->rep->n_notes + 1) * sizeof *n);
    if (n)
        a->rep->notes = n;
    if (!n || b.failed || !b.data) {
        pgi_buf_free(&b);
        return pg_error_set(a->err, PG_ENOMEM, "out of memory");
    }
    n[a->rep->n_notes++] = b.data;
    return PG_OK;
}

/* A count that may be astronomically large, given by its base-10 logarithm, in words: "1234",
 * "about 4.0 x 10^359" (a double would print such counts as "inf"). */
static void
say_count(char *buf, size_t size, double log10_count)
{
    if (log10_count < 15) {
        snprintf(buf, size, "%.0f", round(pow(10, log10_count)));
        return;
    }
    double e = floor(log10_count), m = pow(10, log10_count - e);
    if (m >= 9.95) { /* rounds up to 10.0 */
        m /= 10;
        e += 1;
    }
    snprintf(buf, size, "about %.1f x 10^%.0f", m, e);
}

/* log10 of the binomial coefficient C(n, k). */
static double
log10_choose(double n, double k)
{
    return (lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1)) / log(10);
}

/* "0.5 H + 0.5 T" or "H" for one observation's mixed action. Shares below 0.001 are left out
 * of the text ("+ ..."); the report's probabilities keep them. */
static void
describe_action(pgi_buf *b, const cg_decision *d, const double *row)
{
    for (size_t a = 0; a < d->n_actions; a++)
        if (row[a] >= 1 - 1e-12) {
            pgi_buf_puts(b, d->action_labels[a]);
            return;
        }
    bool first = true, small = false;
    for (size_t a = 0; a < d->n_actions; a++) {
        if (!(row[a] >= 1e-3)) {
            small = small || row[a] > 0;
            continue;
        }
        pgi_buf_printf(b, "%s%.4g %s", first ? "" : " + ", row[a], d->action_labels[a]);
        first = false;
    }
    if (small)
        pgi_buf_puts(b, " + ...");
}

static char *
describe(const cg_game *g, const double *probs)
{
    pgi_buf b = {0};
    size_t off = 0;
    for (size_t k = 0; k < g->n_dec; k++) {
        const cg_decision *d = &g->dec[k];
        pgi_buf_printf(&b, "%s%s: ", k ? "; " : "", d->name);
        for (size_t o = 0; o < d->n_obs; o++) {
            if (d->n_obs > 1)
                pgi_buf_printf(&b, "%s%s -> ", o ? ", " : "", d->obs_labels[o]);
            describe_action(&b, d, probs + off + o * d->n_actions);
        }
        off += d->n_obs * d->n_actions;
    }
    if (b.failed) {
        pgi_buf_free(&b);
        return NULL;
    }
    return b.data ? b.data : pgi_strdup("");
}

/* Adds a profile to the report, taking *check (cleared here on failure). */
static int
add_profile(an *a, const char *name, const char *source, int expect, const double *probs,
            pg_og_check *check)
{
    pg_game_report *rep = a->rep;
    pg_game_profile_report *p = realloc(rep->profiles, (rep->n_profiles + 1) * sizeof *p);
    if (!p) {
        pg_og_check_clear(check);
        return pg_error_set(a->err, PG_ENOMEM, "out of memory");
    }
    rep->profiles = p;
    p = &rep->profiles[rep->n_profiles++];
    memset(p, 0, sizeof *p);
    p->check = *check;
    memset(check, 0, sizeof *check);
    p->expect = expect;
    p->name = pgi_strdup(name);
    p->source = pgi_strdup(source);
    p->description = describe(a->g, probs);
    p->n_probs = a->g->n_probs;
    p->probs = malloc((p->n_probs ? p->n_probs : 1) * sizeof *p->probs);
    if (!p->name || !p->source || !p->description || !p->probs)
        return pg_error_set(a->err, PG_ENOMEM, "out of memory");
    memcpy(p->probs, probs, p->n_probs * sizeof *probs);
    p->expectation_met = expect < 0 || (expect == 1) == p->check.equilibrium;
    if (!p->expectation_met)
        rep->n_failed++;
    return PG_OK;
}

/* The equilibrium check of a profile vector, whatever the kind. */
static int
check(an *a, const double *probs, double tol, pg_og_check *out)
{
    const cg_game *g = a->g;
    if (g->kind == CG_MARKOV)
        return pg_mg_check(g->mg, probs, tol, out, a->err);
    pg_og_profile *p = NULL;
    int rc = pg_og_profile_new(&p, g->og, a->err);
    if (!rc)
        rc = pgi_cg_to_og(g, probs, p, a->err);
    if (!rc)
        rc = pg_og_check_equilibrium(p, tol, out, a->err);
    pg_og_profile_free(p);
    return rc;
}

static int
check_and_add(an *a, const char *name, const char *source, int expect, const double *probs,
              double tol)
{
    pg_og_check c = {0};
    int rc = check(a, probs, tol, &c);
    if (rc)
        return rc;
    return add_profile(a, name, source, expect, probs, &c);
}

/* ---------------------------------------------------------------- enumeration */

/* Pure profiles of normal-form kinds, from the normal form's own enumeration. */
static int
enumerate_nf(an *a)
{
    const cg_game *g = a->g;
    size_t *eq = NULL, n = 0;
    int rc = pg_nf_pure_equilibria(g->nf, g->tolerance, &eq, &n, a->err);
    if (rc)
        return rc;
    a->rep->n_pure = n;
    size_t np = pg_nf_n_players(g->nf);
    double *probs = calloc(g->n_probs, sizeof *probs);
    if (!probs)
        rc = pg_error_set(a->err, PG_ENOMEM, "out of memory");
    for (size_t e = 0; e < n && e < MAX_LISTED && !rc; e++) {
        memset(probs, 0, g->n_probs * sizeof *probs);
        for (size_t i = 0; i < np; i++)
            probs[pgi_cg_offset(g, i) + eq[e * np + i]] = 1;
        char name[64];
        snprintf(name, sizeof name, "pure equilibrium %zu", e + 1);
        rc = check_and_add(a, name, "enumeration", -1, probs, g->tolerance);
    }
    if (!rc && n > MAX_LISTED)
        rc = note(a, "%zu pure equilibria; the first %d are listed, %zu are left out", n,
                  MAX_LISTED, n - MAX_LISTED);
    /* Extreme equilibria, mixed ones included, of two-player games (small enough ones). */
    if (!rc && np == 2) {
        double *ext = NULL;
        size_t ne = 0;
        pg_error e2 = {0};
        /* The vertex method tries every basis: C(m + n, m) of them. */
        size_t m = pg_nf_n_actions(g->nf, 0), n2 = pg_nf_n_actions(g->nf, 1);
        double lb = log10_choose((double)(m + n2), (double)m);
        char bases[64];
        say_count(bases, sizeof bases, lb);
        int r2 = lb > log10(10.0 * (double)a->o->max_profiles)
                     ? pg_error_set(&e2, PG_ELIMIT,
                                    "a %zu x %zu game has %s bases, more than 10 x the "
                                    "enumeration limit of %zu",
                                    m, n2, bases, a->o->max_profiles)
                     : pg_nf_bimatrix_equilibria(g->nf, &ext, &ne, &e2);
        if (r2 == PG_ELIMIT) {
            rc = note(a, "mixed equilibria were not enumerated: %s", e2.msg);
        } else if (r2) {
            rc = r2;
            *a->err = e2;
        } else {
            a->rep->n_extreme = ne;
            size_t mixed = 0;
            for (size_t k = 0; k < ne && !rc; k++) {
                const double *x = ext + k * g->n_probs;
                bool pure = true;
                for (size_t t = 0; t < g->n_probs; t++)
                    pure = pure && (x[t] < 1e-9 || x[t] > 1 - 1e-9);
                if (pure || ++mixed > MAX_LISTED)
                    continue;
                char name[64];
                snprintf(name, sizeof name, "mixed equilibrium %zu", mixed);
                /* Vertex coordinates carry rounding: judge them at 1e-9 at least. */
                rc = check_and_add(a, name, "vertex-enumeration", -1, x, fmax(g->tolerance, 1e-9));
            }
            if (!rc && mixed > MAX_LISTED)
                rc = note(a, "%zu mixed equilibria; the first %d are listed, %zu are left out",
                          mixed, MAX_LISTED, mixed - MAX_LISTED);
        }
        free(ext);
    }
    free(probs);
    free(eq);
    return rc;
}

/* Pure profiles of open-game and Markov kinds, by trying them all when there are few enough. */
static int
enumerate_all(an *a)
{
    const cg_game *g = a->g;
    size_t limit = a->o->max_profiles;
    if (g->kind == CG_MARKOV && limit > MAX_MARKOV_PROFILES)
        limit = MAX_MARKOV_PROFILES;
    /* Slots: one per (decision, observation), each choosing an action. */
    size_t slots = 0;
    double log_total = 0; /* log10 of the number of pure profiles, which can exceed a double */
    for (size_t k = 0; k < g->n_dec; k++) {
        slots += g->dec[k].n_obs;
        log_total += (double)g->dec[k].n_obs * log10((double)g->dec[k].n_actions);
    }
    if (log_total > log10((double)limit) + 1e-12) {
        char total[64];
        say_count(total, sizeof total, log_total);
        a->rep->n_pure = SIZE_MAX;
        return note(a,
                    "pure equilibria were not enumerated: there are %s pure profiles, more than "
                    "the limit of %zu",
                    total, limit);
    }
    size_t *choice = calloc(slots ? slots : 1, sizeof *choice);
    size_t *n_act = calloc(slots ? slots : 1, sizeof *n_act);
    size_t *base = calloc(slots ? slots : 1, sizeof *base);
    double *probs = calloc(g->n_probs ? g->n_probs : 1, sizeof *probs);
    int rc = (!choice || !n_act || !base || !probs)
                 ? pg_error_set(a->err, PG_ENOMEM, "out of memory")
                 : PG_OK;
    size_t s = 0;
    for (size_t k = 0; k < g->n_dec && !rc; k++)
        for (size_t o = 0; o < g->dec[k].n_obs; o++, s++) {
            n_act[s] = g->dec[k].n_actions;
            base[s] = pgi_cg_offset(g, k) + o * g->dec[k].n_actions;
        }
    size_t found = 0;
    while (!rc) {
        memset(probs, 0, g->n_probs * sizeof *probs);
        for (size_t t = 0; t < slots; t++)
            probs[base[t] + choice[t]] = 1;
        pg_og_check c = {0};
        rc = check(a, probs, g->tolerance, &c);
        if (rc)
            break;
        if (c.equilibrium) {
            found++;
            if (found <= MAX_LISTED) {
                char name[64];
                snprintf(name, sizeof name, "pure equilibrium %zu", found);
                rc = add_profile(a, name, "enumeration", -1, probs, &c);
            }
        }
        pg_og_check_clear(&c);
        /* Next profile: count in the mixed radix of the slots. */
        size_t t = slots;
        while (t-- > 0) {
            if (++choice[t] < n_act[t])
                break;
            choice[t] = 0;
        }
        if (t == (size_t)-1)
            break;
    }
    if (!rc) {
        a->rep->n_pure = found;
        if (found > MAX_LISTED)
            rc = note(a, "%zu pure equilibria; the first %d are listed, %zu are left out", found,
                      MAX_LISTED, found - MAX_LISTED);
    }
    free(choice);
    free(n_act);
    free(base);
    free(probs);
    return rc;
}

/* ---------------------------------------------------------------- learning */

/* What a learning run reports to the caller's progress function. */
typedef struct progress_ctx {
    const pg_game_options *o;
    char what[160];
} progress_ctx;

static void
on_progress(size_t done, size_t total, void *ud)
{
    progress_ctx *p = ud;
    p->o->progress(p->what, done, total, p->o->progress_ud);
}

static int
learn(an *a, const cg_run *given, size_t index)
{
    const cg_game *g = a->g;
    cg_run copy = *given;
    const cg_run *run = &copy;
    progress_ctx pc = {.o = a->o};
    if (a->o->progress) {
        snprintf(pc.what, sizeof pc.what, "%s, learning run %zu of %zu",
                 pg_learn_rule_name(copy.o.rule), index + 1, g->n_runs);
        copy.o.progress = on_progress;
        copy.o.progress_ud = &pc;
    }
    pg_rng rng;
    pg_rng_seed(&rng, a->o->seed, index);
    double *probs = calloc(g->n_probs ? g->n_probs : 1, sizeof *probs);
    if (!probs)
        return pg_error_set(a->err, PG_ENOMEM, "out of memory");
    int rc = PG_OK;
    const char *what = run->average ? "average" : "last";
    if (g->kind == CG_MARKOV) {
        rc = pg_mg_learn(g->mg, &run->o, run->rounds, g->start_state, &rng, probs, a->err);
        what = "greedy";
    } else if (g->kind == CG_NORMAL_FORM || g->kind == CG_COURNOT) {
        pg_nf_learning l = {0};
        rc = pg_nf_learn(g->nf, &run->o, run->rounds, &rng, &l, a->err);
        if (!rc)
            memcpy(probs, run->average ? l.average : l.last, g->n_probs * sizeof *probs);
        pg_nf_learning_clear(&l);
    } else {
        pg_og_profile *p = NULL;
        rc = pg_og_profile_new(&p, g->og, a->err);
        if (!rc)
            rc = pg_og_learn(g->og, &run->o, run->rounds, &rng, run->average ? p : NULL,
                             run->average ? NULL : p, a->err);
        if (!rc)
            rc = pgi_cg_from_og(g, p, probs, a->err);
        pg_og_profile_free(p);
    }
    if (!rc) {
        char name[128];
        snprintf(name, sizeof name, "%s (%s policy after %zu %s)", pg_learn_rule_name(run->o.rule),
                 what, run->rounds, g->kind == CG_MARKOV ? "steps" : "rounds");
        rc = check_and_add(a, name, "learning", run->expect, probs, run->tolerance);
    }
    free(probs);
    return rc;
}

/* ---------------------------------------------------------------- the report */

void
pg_game_report_free(pg_game_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_profiles; i++) {
        pg_game_profile_report *p = &r->profiles[i];
        free(p->name);
        free(p->source);
        free(p->description);
        free(p->probs);
        pg_og_check_clear(&p->check);
    }
    free(r->profiles);
    for (size_t i = 0; i < r->n_notes; i++)
        free(r->notes[i]);
    free(r->notes);
    free(r->name);
    free(r->kind);
    free(r->description);
    free(r->file);
    free(r);
}

static const char *
kind_name(cg_kind k)
{
    switch (k) {
    case CG_NORMAL_FORM: return "normal-form";
    case CG_COURNOT: return "cournot";
    case CG_AUCTION: return "auction";
    case CG_MARKOV: return "markov";
    case CG_OPEN: return "open";
    }
    return "?";
}

static int
analyze(an *a)
{
    cg_game *g = a->g;
    pg_game_report *rep = a->rep;
    int rc = PG_OK;
    rep->n_pure = rep->n_extreme = SIZE_MAX;
    for (size_t i = 0; i < g->n_profiles && !rc; i++)
        rc = check_and_add(a, g->profiles[i].name, "file", g->profiles[i].expect,
                           g->profiles[i].probs, g->tolerance);
    if (!rc && g->kind == CG_COURNOT) {
        double q[16];
        pg_nf_cournot_equilibrium(g->cournot_a, g->cournot_b, g->cournot_costs, g->n_firms, q);
        pgi_buf b = {0};
        for (size_t i = 0; i < g->n_firms; i++)
            pgi_buf_printf(&b, "%sfirm%zu %.6g", i ? ", " : "", i + 1, q[i]);
        rc = note(a, "closed-form Cournot equilibrium: %s", b.data ? b.data : "");
        pgi_buf_free(&b);
    }
    if (!rc && (g->kind == CG_NORMAL_FORM || g->kind == CG_COURNOT))
        rc = enumerate_nf(a);
    else if (!rc)
        rc = enumerate_all(a);
    if (!rc && g->kind != CG_NORMAL_FORM && g->kind != CG_COURNOT && g->kind != CG_MARKOV)
        rc = note(a, "the check is a Nash check: observations reached with probability 0 (off "
                     "the path of play) are not tested");
    if (!rc && g->kind == CG_MARKOV)
        rc = note(a, "Markov profiles are stationary policies, checked for subgame perfection by "
                     "one-shot deviations in every state");
    for (size_t i = 0; i < g->n_runs && !rc && a->o->learning; i++)
        rc = learn(a, &g->runs[i], i);
    return rc;
}

int
pg_game_text_analyze(const char *text, size_t len, const char *name, const pg_game_options *opts,
                     pg_game_report **out, pg_error *err)
{
    if (!text || !out)
        return pg_error_set(err, PG_EINVAL, "pg_game_text_analyze: text or out is NULL");
    pg_game_options defaults;
    pg_game_options_init(&defaults);
    if (!opts)
        opts = &defaults;
    if (!(opts->tolerance >= 0) || !isfinite(opts->tolerance))
        return pg_error_set(err, PG_EINVAL, "the tolerance must be finite and >= 0");
    if (opts->rounds > PG_GAME_MAX_ROUNDS)
        return pg_error_set(err, PG_ELIMIT,
                            "learning rounds must be a whole number from 1 to %zu (it is %zu)",
                            PG_GAME_MAX_ROUNDS, opts->rounds);
    cg_game *g = NULL;
    int rc = pgi_cg_parse(text, len, name, opts, &g, err);
    if (rc)
        return rc;
    pg_game_report *rep = calloc(1, sizeof *rep);
    if (!rep) {
        pgi_cg_free(g);
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    }
    rep->name = pgi_strdup(g->name);
    rep->kind = pgi_strdup(kind_name(g->kind));
    rep->description = g->description ? pgi_strdup(g->description) : NULL;
    rep->file = pgi_strdup(g->file);
    if (!rep->name || !rep->kind || !rep->file || (g->description && !rep->description))
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
    an a = {g, opts, rep, err};
    if (!rc)
        rc = analyze(&a);
    pgi_cg_free(g);
    if (rc) {
        pg_game_report_free(rep);
        return rc;
    }
    *out = rep;
    return PG_OK;
}

int
pg_game_file_analyze(const char *path, const pg_game_options *opts, pg_game_report **out,
                     pg_error *err)
{
    if (!path || !out)
        return pg_error_set(err, PG_EINVAL, "pg_game_file_analyze: path or out is NULL");
    char *text = NULL;
    size_t len = 0;
    int rc = pg_input_read(path, PG_GAME_INPUT_MAX, &text, &len, err);
    if (rc)
        return rc;
    rc = pg_game_text_analyze(text, len, path, opts, out, err);
    free(text);
    return rc;
}
