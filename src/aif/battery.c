/* The home-battery model for the active-inference agent (see aif.h): builds the factors,
 * transitions, likelihoods and bill preferences from a tariff profile and DR event statistics.
 *
 * Timing: the agent observes step t (price level and DR status of hour t, state of charge at the
 * end of hour t, the bill and DR response of the action executed during hour t) and picks the
 * action executed during hour t+1. So the bill of an action is a function of the state it leads
 * to: the hour it ran in, the action itself (kept in the storage factor) and the DR status of
 * that hour. */
#include "plurigrid/aif.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Factors: the hour, the storage (state of charge and the action that was actually executed
 * last, as one factor because charging a full battery or discharging an empty one executes
 * as idle) and the DR event. */
enum { F_HOUR, F_STORE, F_DR, N_FACTORS };
enum { BILL_BUY = 0, BILL_IDLE = 3, BILL_SELL = 4 };

void
pg_aif_battery_spec_init(pg_aif_battery_spec *s)
{
    memset(s, 0, sizeof *s);
    s->hours = 24;
    s->soc_levels = 5;
    s->price[0] = 0.1;
    s->price[1] = 0.2;
    s->price[2] = 0.4;
    s->efficiency = 0.9;
    s->price_noise = 0.05;
    s->dr_start = 0.02;
    s->dr_stay = 0.5;
    s->dr_value = 0.5;
    s->dr_penalty = 0.5;
    s->beta = 10.0;
}

size_t
pg_aif_battery_bill(size_t action, int price_level)
{
    if (action == PG_AIF_BAT_IDLE || action > PG_AIF_BAT_DISCHARGE)
        return BILL_IDLE;
    if (price_level < 0)
        price_level = 0;
    if (price_level > 2)
        price_level = 2;
    return (action == PG_AIF_BAT_CHARGE ? BILL_BUY : BILL_SELL) + (size_t)price_level;
}

size_t
pg_aif_battery_response(size_t action, int dr_event)
{
    if (!dr_event)
        return 0;
    return action > PG_AIF_BAT_DISCHARGE ? 2 : 1 + action;
}

/* Money of each bill outcome, positive when the household gains. */
static double
bill_money(const pg_aif_battery_spec *sp, size_t o)
{
    if (o < BILL_IDLE)
        return -sp->price[o - BILL_BUY];
    if (o == BILL_IDLE)
        return 0;
    return sp->efficiency * sp->price[o - BILL_SELL];
}

/* The DR response is its own modality, not folded into the bill: whether an event is on is
 * uncertain whatever the battery does, so the outcome entropy of this modality does not depend
 * on the action and adds no spurious "information gain" to acting. */
static double
response_money(const pg_aif_battery_spec *sp, size_t o)
{
    switch (o) {
    case 1: return -sp->dr_penalty;
    case 3: return sp->dr_value;
    default: return 0;
    }
}

static int
check_spec(const pg_aif_battery_spec *sp, pg_error *err)
{
    if (sp->hours < 1 || sp->hours > 1000)
        return pg_error_set(err, PG_EINVAL, "battery: hours must be between 1 and 1000");
    if (sp->start_hour >= sp->hours)
        return pg_error_set(err, PG_EINVAL, "battery: start hour %zu is not below hours %zu",
                            sp->start_hour, sp->hours);
    if (sp->soc_levels < 2 || sp->soc_levels > 100)
        return pg_error_set(err, PG_EINVAL, "battery: soc_levels must be between 2 and 100");
    if (sp->start_soc >= sp->soc_levels)
        return pg_error_set(err, PG_EINVAL, "battery: start_soc %zu is not below soc_levels %zu",
                            sp->start_soc, sp->soc_levels);
    if (!sp->price_level)
        return pg_error_set(err, PG_EINVAL, "battery: the price level profile is missing");
    for (size_t h = 0; h < sp->hours; h++)
        if (sp->price_level[h] < 0 || sp->price_level[h] > 2)
            return pg_error_set(err, PG_EINVAL,
                                "battery: price level of hour %zu is %d; levels are 0 (low), 1 "
                                "(mid) and 2 (high)",
                                h, sp->price_level[h]);
    const double probs[] = {sp->price_noise, sp->dr_start, sp->dr_stay};
    for (size_t i = 0; i < 3; i++)
        if (!(probs[i] >= 0 && probs[i] <= 1))
            return pg_error_set(err, PG_EINVAL,
                                "battery: price_noise, dr_start and dr_stay are probabilities in "
                                "[0, 1]");
    const double nums[] = {sp->price[0], sp->price[1],   sp->price[2], sp->efficiency,
                           sp->dr_value, sp->dr_penalty, sp->beta};
    for (size_t i = 0; i < sizeof nums / sizeof *nums; i++)
        if (!isfinite(nums[i]))
            return pg_error_set(err, PG_EINVAL,
                                "battery: prices, efficiency, DR terms and beta "
                                "must be finite numbers");
    return PG_OK;
}

int
pg_aif_battery_new(pg_aif **out, const pg_aif_battery_spec *sp, const pg_aif_options *opts,
                   pg_error *err)
{
    if (!out || !sp)
        return pg_error_set(err, PG_EINVAL, "pg_aif_battery_new: out or spec is NULL");
    int rc = check_spec(sp, err);
    if (rc)
        return rc;
    const size_t H = sp->hours, K = sp->soc_levels;
    const size_t KS = K * 3; /* storage state k * 3 + last */
    const size_t ns[N_FACTORS] = {H, KS, 2};
    const size_t S = H * KS * 2;
    const size_t no[PG_AIF_BAT_N_OBS] = {3, 2, K, PG_AIF_BAT_N_BILL, PG_AIF_BAT_N_RESPONSE};
    double *B[N_FACTORS] = {0}, *D[N_FACTORS] = {0}, *A[PG_AIF_BAT_N_OBS] = {0};
    double C_bill[PG_AIF_BAT_N_BILL], C_resp[PG_AIF_BAT_N_RESPONSE];
    rc = PG_ENOMEM;
    for (size_t f = 0; f < N_FACTORS; f++)
        if (!(B[f] = calloc(3 * ns[f] * ns[f], sizeof(double))) ||
            !(D[f] = calloc(ns[f], sizeof(double))))
            goto out;
    for (size_t m = 0; m < PG_AIF_BAT_N_OBS; m++)
        if (!(A[m] = calloc(no[m] * S, sizeof(double))))
            goto out;

    for (size_t a = 0; a < 3; a++) {
        double *b = B[F_HOUR] + a * H * H;
        for (size_t h = 0; h < H; h++)
            b[((h + 1) % H) * H + h] = 1; /* the clock ticks whatever the battery does */
        b = B[F_STORE] + a * KS * KS;
        for (size_t k = 0; k < K; k++) {
            size_t nk = k, done = PG_AIF_BAT_IDLE;
            if (a == PG_AIF_BAT_CHARGE && k + 1 < K) {
                nk = k + 1;
                done = a;
            } else if (a == PG_AIF_BAT_DISCHARGE && k > 0) {
                nk = k - 1;
                done = a;
            }
            for (size_t last = 0; last < 3; last++)
                b[(nk * 3 + done) * KS + k * 3 + last] = 1;
        }
        b = B[F_DR] + a * 4;
        b[0 * 2 + 0] = 1 - sp->dr_start;
        b[1 * 2 + 0] = sp->dr_start;
        b[0 * 2 + 1] = 1 - sp->dr_stay;
        b[1 * 2 + 1] = sp->dr_stay;
    }
    D[F_HOUR][sp->start_hour] = 1;
    D[F_STORE][sp->start_soc * 3 + PG_AIF_BAT_IDLE] = 1;
    D[F_DR][0] = 0.5; /* the first observation tells */
    D[F_DR][1] = 0.5;

    for (size_t s = 0; s < S; s++) {
        size_t h = s / (KS * 2), k = (s / 6) % K, last = (s / 2) % 3, dr = s % 2;
        int expect = sp->price_level[h];
        double pl[3];
        for (int l = 0; l < 3; l++)
            pl[l] = (l == expect) ? 1 - sp->price_noise : sp->price_noise / 2;
        for (int l = 0; l < 3; l++) {
            A[PG_AIF_BAT_OBS_PRICE][(size_t)l * S + s] = pl[l];
            A[PG_AIF_BAT_OBS_BILL][pg_aif_battery_bill(last, l) * S + s] += pl[l];
        }
        A[PG_AIF_BAT_OBS_DR][dr * S + s] = 1;
        A[PG_AIF_BAT_OBS_SOC][k * S + s] = 1;
        A[PG_AIF_BAT_OBS_RESPONSE][pg_aif_battery_response(last, (int)dr) * S + s] = 1;
    }
    for (size_t o = 0; o < PG_AIF_BAT_N_BILL; o++)
        C_bill[o] = sp->beta * bill_money(sp, o);
    for (size_t o = 0; o < PG_AIF_BAT_N_RESPONSE; o++)
        C_resp[o] = sp->beta * response_money(sp, o);

    pg_aif_options o;
    if (opts) {
        o = *opts;
    } else {
        pg_aif_options_init(&o);
        o.policy_depth = 6;
        o.action_selection = PG_AIF_ARGMAX;
    }
    const double *Bc[N_FACTORS], *Dc[N_FACTORS], *Ac[PG_AIF_BAT_N_OBS];
    const double *Cc[PG_AIF_BAT_N_OBS] = {NULL, NULL, NULL, C_bill, C_resp};
    for (size_t f = 0; f < N_FACTORS; f++) {
        Bc[f] = B[f];
        Dc[f] = D[f];
    }
    for (size_t m = 0; m < PG_AIF_BAT_N_OBS; m++)
        Ac[m] = A[m];
    pg_aif_model model = {.n_factors = N_FACTORS,
                          .n_states = ns,
                          .n_actions = 3,
                          .B = Bc,
                          .n_modalities = PG_AIF_BAT_N_OBS,
                          .n_obs = no,
                          .A = Ac,
                          .C = Cc,
                          .D = Dc};
    rc = pg_aif_new(out, &model, &o, err);
out:
    for (size_t f = 0; f < N_FACTORS; f++) {
        free(B[f]);
        free(D[f]);
    }
    for (size_t m = 0; m < PG_AIF_BAT_N_OBS; m++)
        free(A[m]);
    if (rc == PG_ENOMEM)
        pg_error_set(err, rc, "out of memory");
    return rc;
}
