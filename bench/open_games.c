/* Open-game and learning benchmark: the median time of a learner's draw + update (what a
 * simulated agent pays per turn) for each rule, of one equilibrium check of a sealed-bid auction
 * (2 bidders, 11 values and bids; 3 bidders, 6), of one round of regret-matching learning in that
 * auction, of the analysis of each classic example file, and of vertex enumeration of random
 * square games. Prints a table; figures go in bench/RESULTS.md.
 *
 *   build/bench/open_games [--runs N] [--examples DIR]
 *
 * Each figure is the median of N runs (default 15). The example files are read from DIR
 * (default examples/games, as `make bench` runs from the top of the source tree). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "core/util.h"
#include "plurigrid/game.h"
#include "plurigrid/opengame.h"
#include "plurigrid/rng.h"
#include "plurigrid/learn.h"

static int runs = 15;
static const char *examples = "examples/games";

static void
die(const char *what, const pg_error *err)
{
    char buf[1400];
    fprintf(stderr, "open_games bench: %s: %s\n", what, pg_error_format(err, buf, sizeof buf));
    exit(1);
}

static void
bench_learners(void)
{
    const pg_learn_rule rules[] = {PG_LEARN_REGRET_MATCHING, PG_LEARN_CONDITIONAL_REGRET,
                                   PG_LEARN_FICTITIOUS_PLAY, PG_LEARN_ROTH_EREV,
                                   PG_LEARN_Q_LEARNING};
    const size_t steps = 1000000, ns = 16, na = 4;
    double u[4] = {1, 0.5, 0.25, 0};
    printf("%-32s %14s\n", "learner (16 states, 4 actions)", "ns/draw+update");
    for (size_t k = 0; k < sizeof rules / sizeof *rules; k++) {
        double t[64];
        for (int r = 0; r < runs; r++) {
            pg_learn_options o;
            pg_learn_options_init(&o, rules[k], ns, na);
            pg_learner *l;
            pg_error err = {0};
            if (pg_learner_new(&l, &o, &err))
                die("learner", &err);
            pg_rng rng;
            pg_rng_seed(&rng, 1, (uint64_t)r);
            size_t s = 0;
            double t0 = pgi_now();
            for (size_t i = 0; i < steps; i++) {
                size_t a;
                pg_learner_draw(l, s, &rng, &a);
                pg_learn_feedback fb;
                pg_learn_feedback_init(&fb);
                fb.state = s;
                fb.action = a;
                fb.reward = u[a];
                fb.counterfactual = u;
                fb.next_state = (s + a + 1) % ns;
                pg_learner_update(l, &fb, NULL);
                s = fb.next_state;
            }
            t[r] = (pgi_now() - t0) / (double)steps * 1e9;
            pg_learner_free(l);
        }
        printf("%-32s %14.1f\n", pg_learn_rule_name(rules[k]), bench_median(t, runs));
    }
}

static pg_og *
auction(size_t bidders, size_t n, pg_game_auction_rule rule)
{
    double v[16], prior[16];
    for (size_t k = 0; k < n; k++) {
        v[k] = (double)k;
        prior[k] = 1.0 / (double)n;
    }
    pg_og *g;
    pg_error err = {0};
    if (pg_game_auction(&g, rule, bidders, v, n, prior, v, n, &err))
        die("auction", &err);
    return g;
}

static void
bench_auction_check(size_t bidders, size_t n)
{
    pg_og *g = auction(bidders, n, PG_GAME_AUCTION_SECOND_PRICE);
    pg_og_profile *p;
    pg_error err = {0};
    if (pg_og_profile_new(&p, g, &err))
        die("profile", &err);
    for (size_t i = 0; i < bidders; i++)
        for (size_t v = 0; v < n; v++)
            pg_og_profile_set_pure(p, pg_og_decision_at(g, i), v, v, NULL);
    double t[64];
    for (int r = 0; r < runs; r++) {
        double t0 = pgi_now();
        pg_og_check c;
        if (pg_og_check_equilibrium(p, 1e-9, &c, &err))
            die("check", &err);
        t[r] = (pgi_now() - t0) * 1e3;
        pg_og_check_clear(&c);
    }
    printf("check, second-price auction, %zu bidders x %zu values: %8.3f ms\n", bidders, n,
           bench_median(t, runs));
    /* Regret matching in the first-price auction: time per learning round. */
    pg_og_profile_free(p);
    pg_og_free(g);
    g = auction(bidders, n, PG_GAME_AUCTION_FIRST_PRICE);
    pg_og_profile *avg;
    pg_og_profile_new(&avg, g, NULL);
    const size_t rounds = 200;
    for (int r = 0; r < runs; r++) {
        pg_learn_options o;
        pg_learn_options_init(&o, PG_LEARN_REGRET_MATCHING, 1, 1);
        pg_rng rng;
        pg_rng_seed(&rng, 1, (uint64_t)r);
        double t0 = pgi_now();
        if (pg_og_learn(g, &o, rounds, &rng, avg, NULL, &err))
            die("learn", &err);
        t[r] = (pgi_now() - t0) / (double)rounds * 1e6;
    }
    printf("regret-matching round, first-price auction, %zu bidders x %zu values: %8.1f us\n",
           bidders, n, bench_median(t, runs));
    pg_og_profile_free(avg);
    pg_og_free(g);
}

static void
bench_examples(void)
{
    static const char *const files[] = {"prisoners-dilemma",        "matching-pennies",
                                        "battle-of-the-sexes",      "cournot-duopoly",
                                        "auction-second-price",     "auction-first-price",
                                        "markov-prisoners-dilemma", "entry-game"};
    printf("%-32s %14s\n", "example analysis (defaults)", "ms");
    for (size_t k = 0; k < sizeof files / sizeof *files; k++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s.json", examples, files[k]);
        double t[64];
        for (int r = 0; r < runs; r++) {
            pg_game_report *rep;
            pg_error err = {0};
            double t0 = pgi_now();
            if (pg_game_file_analyze(path, NULL, &rep, &err))
                die(files[k], &err);
            t[r] = (pgi_now() - t0) * 1e3;
            pg_game_report_free(rep);
        }
        printf("%-32s %14.2f\n", files[k], bench_median(t, runs));
    }
}

static void
bench_vertex(size_t n)
{
    const char *players[2] = {"row", "col"};
    size_t na[2] = {n, n};
    pg_nf *g;
    pg_nf_new(&g, "random", 2, players, na, NULL);
    pg_rng rng;
    pg_rng_seed(&rng, 7, n);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            size_t prof[2] = {i, j};
            double pay[2] = {(double)pg_rng_below(&rng, 100), (double)pg_rng_below(&rng, 100)};
            pg_nf_set_payoffs(g, prof, pay, NULL);
        }
    double t[64];
    size_t count = 0;
    for (int r = 0; r < runs; r++) {
        double *eq;
        pg_error err = {0};
        double t0 = pgi_now();
        if (pg_nf_bimatrix_equilibria(g, &eq, &count, &err))
            die("vertex enumeration", &err);
        t[r] = (pgi_now() - t0) * 1e3;
        free(eq);
    }
    printf("vertex enumeration, random %zux%zu game: %8.2f ms (%zu equilibria)\n", n, n,
           bench_median(t, runs), count);
    pg_nf_free(g);
}

int
main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            runs = atoi(argv[++i]);
            if (runs < 1 || runs > 64)
                runs = 15;
        } else if (strcmp(argv[i], "--examples") == 0 && i + 1 < argc) {
            examples = argv[++i];
        } else {
            fprintf(stderr, "usage: open_games [--runs N] [--examples DIR]\n");
            return 2;
        }
    }
    bench_learners();
    printf("\n");
    bench_auction_check(2, 11);
    bench_auction_check(3, 6);
    printf("\n");
    bench_examples();
    printf("\n");
    bench_vertex(4);
    bench_vertex(6);
    bench_vertex(8);
    return 0;
}
