/* Finite probability distributions over int tuples: the history distributions that open games
 * push forward, with Bayesian conditioning (on events, on one coordinate, by a likelihood),
 * marginals, expectations and sampling. Outcomes are stored flat (width ints each) with their
 * weights, and a hash index on the outcomes merges equal ones as they are added. */
#include "plurigrid/opengame.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct pg_dist {
    size_t width;
    size_t n, cap;
    int *outcomes;   /* n x width */
    double *weights; /* n */
    double total;    /* sum of the weights, kept as they change so probabilities cost O(1) */
    size_t *slots;   /* hash index: outcome number + 1, 0 = empty; nslots is a power of two */
    size_t nslots;
};

static uint64_t
hash_tuple(const int *v, size_t width)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < width; i++) {
        h ^= (uint64_t)(uint32_t)v[i];
        h *= 0x100000001b3ULL;
        h ^= h >> 29;
    }
    return h;
}

static size_t
find_slot(const pg_dist *d, const int *v)
{
    size_t mask = d->nslots - 1;
    size_t i = (size_t)hash_tuple(v, d->width) & mask;
    while (d->slots[i]) {
        size_t k = d->slots[i] - 1;
        if (d->width == 0 || memcmp(d->outcomes + k * d->width, v, d->width * sizeof *v) == 0)
            return i;
        i = (i + 1) & mask;
    }
    return i;
}

static int
rehash(pg_dist *d, size_t nslots)
{
    size_t *slots = calloc(nslots, sizeof *slots);
    if (!slots)
        return PG_ENOMEM;
    free(d->slots);
    d->slots = slots;
    d->nslots = nslots;
    for (size_t k = 0; k < d->n; k++)
        d->slots[find_slot(d, d->outcomes + k * d->width)] = k + 1;
    return PG_OK;
}

int
pg_dist_new(pg_dist **out, size_t width, pg_error *err)
{
    if (!out)
        return pg_error_set(err, PG_EINVAL, "pg_dist_new: out is NULL");
    pg_dist *d = calloc(1, sizeof *d);
    if (!d)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    d->width = width;
    if (rehash(d, 16)) {
        free(d);
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    }
    *out = d;
    return PG_OK;
}

void
pg_dist_free(pg_dist *d)
{
    if (!d)
        return;
    free(d->outcomes);
    free(d->weights);
    free(d->slots);
    free(d);
}

static int
reserve(pg_dist *d, size_t n)
{
    if (n <= d->cap)
        return PG_OK;
    size_t nc = d->cap ? d->cap : 16;
    while (nc < n)
        nc *= 2;
    /* width 0 still needs a non-NULL outcome array for the single empty outcome */
    int *o = realloc(d->outcomes, nc * (d->width ? d->width : 1) * sizeof *o);
    if (!o)
        return PG_ENOMEM;
    d->outcomes = o;
    double *w = realloc(d->weights, nc * sizeof *w);
    if (!w)
        return PG_ENOMEM;
    d->weights = w;
    d->cap = nc;
    return PG_OK;
}

int
pg_dist_add(pg_dist *d, const int *outcome, double weight, pg_error *err)
{
    if (!d || (!outcome && d->width))
        return pg_error_set(err, PG_EINVAL, "pg_dist_add: distribution or outcome is NULL");
    if (!(weight >= 0) || !isfinite(weight))
        return pg_error_set(err, PG_EINVAL, "a probability weight must be finite and >= 0, got %g",
                            weight);
    size_t slot = find_slot(d, outcome);
    if (d->slots[slot]) {
        d->weights[d->slots[slot] - 1] += weight;
        d->total += weight;
        return PG_OK;
    }
    if (reserve(d, d->n + 1))
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    if (d->width)
        memcpy(d->outcomes + d->n * d->width, outcome, d->width * sizeof *outcome);
    d->weights[d->n] = weight;
    d->n++;
    d->total += weight;
    if (2 * d->n > d->nslots) {
        if (rehash(d, d->nslots * 2)) {
            d->n--;
            d->total -= weight;
            return pg_error_set(err, PG_ENOMEM, "out of memory");
        }
    } else {
        d->slots[slot] = d->n;
    }
    return PG_OK;
}

int
pg_dist_clone(pg_dist **out, const pg_dist *d, pg_error *err)
{
    if (!out || !d)
        return pg_error_set(err, PG_EINVAL, "pg_dist_clone: argument is NULL");
    pg_dist *c = NULL;
    int rc = pg_dist_new(&c, d->width, err);
    if (rc)
        return rc;
    for (size_t k = 0; k < d->n; k++) {
        rc = pg_dist_add(c, d->outcomes + k * d->width, d->weights[k], err);
        if (rc) {
            pg_dist_free(c);
            return rc;
        }
    }
    *out = c;
    return PG_OK;
}

size_t
pg_dist_width(const pg_dist *d)
{
    return d ? d->width : 0;
}

size_t
pg_dist_size(const pg_dist *d)
{
    return d ? d->n : 0;
}

const int *
pg_dist_outcome(const pg_dist *d, size_t i)
{
    if (!d || i >= d->n)
        return NULL;
    return d->outcomes + i * d->width;
}

double
pg_dist_total(const pg_dist *d)
{
    return d ? d->total : 0;
}

/* Recomputes the total from the weights (after they were all rescaled). */
static void
retotal(pg_dist *d)
{
    d->total = 0;
    for (size_t k = 0; k < d->n; k++)
        d->total += d->weights[k];
}

double
pg_dist_prob(const pg_dist *d, size_t i)
{
    if (!d || i >= d->n)
        return 0;
    double t = pg_dist_total(d);
    return t > 0 ? d->weights[i] / t : 0;
}

double
pg_dist_prob_of(const pg_dist *d, const int *outcome)
{
    if (!d || (!outcome && d->width))
        return 0;
    size_t slot = find_slot(d, outcome);
    return d->slots[slot] ? pg_dist_prob(d, d->slots[slot] - 1) : 0;
}

double
pg_dist_prob_event(const pg_dist *d, pg_dist_event event, void *ud)
{
    double t = pg_dist_total(d), in = 0;
    if (!(t > 0) || !event)
        return 0;
    for (size_t k = 0; k < d->n; k++)
        if (event(d->outcomes + k * d->width, ud))
            in += d->weights[k];
    return in / t;
}

double
pg_dist_expect(const pg_dist *d, pg_dist_fn f, void *ud)
{
    double t = pg_dist_total(d), s = 0;
    if (!(t > 0) || !f)
        return 0;
    for (size_t k = 0; k < d->n; k++)
        if (d->weights[k] > 0)
            s += d->weights[k] * f(d->outcomes + k * d->width, ud);
    return s / t;
}

int
pg_dist_normalize(pg_dist *d, pg_error *err)
{
    if (!d)
        return pg_error_set(err, PG_EINVAL, "pg_dist_normalize: distribution is NULL");
    double t = pg_dist_total(d);
    if (!(t > 0))
        return pg_error_set(err, PG_EMODEL, "the distribution has total probability 0");
    for (size_t k = 0; k < d->n; k++)
        d->weights[k] /= t;
    retotal(d);
    return PG_OK;
}

/* Keeps the outcomes whose new weight (old weight times factor[k]) is positive, in order, and
 * rebuilds the index. factor has d->n entries. */
static int
reweigh_and_compact(pg_dist *d, const double *factor, double *evidence, pg_error *err)
{
    double before = pg_dist_total(d), after = 0;
    for (size_t k = 0; k < d->n; k++)
        after += d->weights[k] * factor[k];
    if (!(after > 0) || !(before > 0))
        return pg_error_set(err, PG_EMODEL,
                            "cannot condition on an event of probability 0 (Bayes' rule divides "
                            "by it)");
    size_t m = 0;
    for (size_t k = 0; k < d->n; k++) {
        double w = d->weights[k] * factor[k];
        if (!(w > 0))
            continue;
        if (m != k && d->width)
            memmove(d->outcomes + m * d->width, d->outcomes + k * d->width,
                    d->width * sizeof *d->outcomes);
        d->weights[m] = w / after;
        m++;
    }
    d->n = m;
    retotal(d);
    if (rehash(d, d->nslots))
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    if (evidence)
        *evidence = after / before;
    return PG_OK;
}

int
pg_dist_reweight(pg_dist *d, pg_dist_fn likelihood, void *ud, double *evidence, pg_error *err)
{
    if (!d || !likelihood)
        return pg_error_set(err, PG_EINVAL, "pg_dist_reweight: argument is NULL");
    double *f = malloc((d->n ? d->n : 1) * sizeof *f);
    if (!f)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    int rc = PG_OK;
    for (size_t k = 0; k < d->n; k++) {
        f[k] = likelihood(d->outcomes + k * d->width, ud);
        if (!(f[k] >= 0) || !isfinite(f[k])) {
            rc = pg_error_set(err, PG_EINVAL, "a likelihood must be finite and >= 0, got %g", f[k]);
            goto out;
        }
    }
    rc = reweigh_and_compact(d, f, evidence, err);
out:
    free(f);
    return rc;
}

int
pg_dist_condition(pg_dist *d, pg_dist_event event, void *ud, double *evidence, pg_error *err)
{
    if (!d || !event)
        return pg_error_set(err, PG_EINVAL, "pg_dist_condition: argument is NULL");
    double *f = malloc((d->n ? d->n : 1) * sizeof *f);
    if (!f)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    for (size_t k = 0; k < d->n; k++)
        f[k] = event(d->outcomes + k * d->width, ud) ? 1.0 : 0.0;
    int rc = reweigh_and_compact(d, f, evidence, err);
    free(f);
    return rc;
}

struct eq_event {
    size_t coord;
    int value;
};

static bool
coord_equals(const int *outcome, void *ud)
{
    const struct eq_event *e = ud;
    return outcome[e->coord] == e->value;
}

int
pg_dist_condition_eq(pg_dist *d, size_t coord, int value, double *evidence, pg_error *err)
{
    if (!d || coord >= d->width)
        return pg_error_set(err, PG_EINVAL, "coordinate %zu is outside the outcomes (width %zu)",
                            coord, d ? d->width : 0);
    struct eq_event e = {coord, value};
    return pg_dist_condition(d, coord_equals, &e, evidence, err);
}

int
pg_dist_marginal(pg_dist **out, const pg_dist *d, const size_t *coords, size_t n, pg_error *err)
{
    if (!out || !d || (n && !coords))
        return pg_error_set(err, PG_EINVAL, "pg_dist_marginal: argument is NULL");
    for (size_t i = 0; i < n; i++)
        if (coords[i] >= d->width)
            return pg_error_set(err, PG_EINVAL,
                                "coordinate %zu is outside the outcomes (width %zu)", coords[i],
                                d->width);
    pg_dist *m = NULL;
    int *tuple = malloc((n ? n : 1) * sizeof *tuple);
    int rc = tuple ? pg_dist_new(&m, n, err) : pg_error_set(err, PG_ENOMEM, "out of memory");
    if (rc)
        goto out;
    for (size_t k = 0; k < d->n; k++) {
        for (size_t i = 0; i < n; i++)
            tuple[i] = d->outcomes[k * d->width + coords[i]];
        rc = pg_dist_add(m, tuple, d->weights[k], err);
        if (rc)
            goto out;
    }
    *out = m;
    m = NULL;
out:
    pg_dist_free(m);
    free(tuple);
    return rc;
}

size_t
pg_dist_sample(const pg_dist *d, pg_rng *rng)
{
    if (!d || !rng)
        return d ? d->n : 0;
    size_t k = pg_rng_pick(rng, d->weights, d->n);
    return k;
}
