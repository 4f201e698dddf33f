/* Shamir sharing over GF(2^16) (src/privacy/shamir.c): the field is a field (every nonzero
 * element has an inverse, so the polynomial is irreducible), every t of n shares give the secret
 * back for all 1 <= t <= n <= 10, t - 1 shares say nothing about it (each candidate secret is
 * consistent with exactly one polynomial, and the shares of two secrets are distributed alike),
 * and bad share sets are refused. Seeded: deterministic. */
#include <string.h>

#include "harness.h"

#include "privacy/internal.h"

static pgi_secagg_rng
rng_of(uint8_t b)
{
    uint8_t seed[32];
    memset(seed, b, sizeof seed);
    pgi_secagg_rng r;
    pgi_secagg_rng_seed(&r, seed);
    return r;
}

static void
test_field(void **state)
{
    (void)state;
    assert_int_equal(pgi_gf16_mul(0, 12345), 0);
    assert_int_equal(pgi_gf16_mul(1, 12345), 12345);
    assert_int_equal(pgi_gf16_mul(2, 0x8000), 0x100B); /* x * x^15 = x^16 = x^12 + x^3 + x + 1 */
    for (uint32_t a = 1; a < 65536; a++)
        assert_int_equal(pgi_gf16_mul((uint16_t)a, pgi_gf16_inv((uint16_t)a)), 1);
    pgi_secagg_rng r = rng_of(1);
    for (int i = 0; i < 2000; i++) {
        uint16_t v[3];
        pgi_secagg_rng_fill(&r, v, sizeof v);
        assert_int_equal(pgi_gf16_mul(v[0], v[1]), pgi_gf16_mul(v[1], v[0]));
        assert_int_equal(pgi_gf16_mul(v[0], (uint16_t)(v[1] ^ v[2])),
                         pgi_gf16_mul(v[0], v[1]) ^ pgi_gf16_mul(v[0], v[2]));
        assert_int_equal(pgi_gf16_mul(pgi_gf16_mul(v[0], v[1]), v[2]),
                         pgi_gf16_mul(v[0], pgi_gf16_mul(v[1], v[2])));
    }
}

/* Every subset of t of the n shares (n <= 10) reconstructs the secret; so does the whole set. */
static void
test_every_subset(void **state)
{
    (void)state;
    pgi_secagg_rng r = rng_of(2);
    pgi_shamir_share sh[10], pick[10];
    uint16_t xs[10];
    size_t subsets = 0;
    for (unsigned n = 1; n <= 10; n++)
        for (unsigned t = 1; t <= n; t++) {
            uint8_t secret[32], back[32];
            pgi_secagg_rng_fill(&r, secret, 32);
            for (unsigned i = 0; i < n; i++)
                xs[i] = (uint16_t)(1 + 97 * i); /* not just 1..n */
            assert_int_equal(pgi_shamir_split(secret, t, xs, n, sh, &r, NULL), PG_OK);
            for (unsigned mask = 0; mask < (1u << n); mask++) {
                if ((unsigned)__builtin_popcount(mask) != t)
                    continue;
                size_t k = 0;
                for (unsigned i = 0; i < n; i++)
                    if (mask >> i & 1)
                        pick[k++] = sh[i];
                memset(back, 0, 32);
                assert_int_equal(pgi_shamir_combine(pick, k, t, back, NULL), PG_OK);
                assert_memory_equal(back, secret, 32);
                subsets++;
            }
            assert_int_equal(pgi_shamir_combine(sh, n, t, back, NULL), PG_OK);
            assert_memory_equal(back, secret, 32);
        }
    assert_int_equal(subsets, 2036); /* sum over n <= 10 of 2^n - 1 */
}

/* One share of a 2-of-n sharing (y = s + a x): for every candidate secret s there is exactly one
 * slope a consistent with it, so the share is equally consistent with every secret. Checked for
 * 256 candidate secrets against all 65536 slopes. */
static void
test_one_share_hides(void **state)
{
    (void)state;
    pgi_secagg_rng r = rng_of(3);
    uint8_t secret[32];
    pgi_secagg_rng_fill(&r, secret, 32);
    uint16_t xs[2] = {7, 1000};
    pgi_shamir_share sh[2];
    assert_int_equal(pgi_shamir_split(secret, 2, xs, 2, sh, &r, NULL), PG_OK);
    uint16_t x = sh[0].x, y = sh[0].y[0];
    for (uint32_t s = 0; s < 65536; s += 256) {
        unsigned count = 0;
        for (uint32_t a = 0; a < 65536; a++)
            count += ((uint16_t)s ^ pgi_gf16_mul((uint16_t)a, x)) == y;
        assert_int_equal(count, 1);
    }
}

/* Two-sample chi-square of byte histograms (256 bins). */
static double
chi2(const unsigned *a, const unsigned *b)
{
    double na = 0, nb = 0, x = 0;
    for (int i = 0; i < 256; i++)
        na += a[i], nb += b[i];
    for (int i = 0; i < 256; i++) {
        double s = a[i] + b[i];
        if (s == 0)
            continue;
        double d = a[i] * sqrt(nb / na) - b[i] * sqrt(na / nb);
        x += d * d / s;
    }
    return x;
}

/* t - 1 shares of two different secrets are distributed alike (chi-square on their bytes well
 * under the 0.1% critical value 330.5 of 255 degrees of freedom), while t shares are not (the
 * same statistic on the reconstructed secrets is huge): the test can tell when it should. */
static void
test_fewer_than_t_shares_distribution(void **state)
{
    (void)state;
    pgi_secagg_rng r = rng_of(4);
    const unsigned t = 4, n = 6;
    uint16_t xs[6] = {1, 2, 3, 4, 5, 6};
    uint8_t sa[32], sb[32];
    memset(sa, 0, 32);
    memset(sb, 0xA5, 32);
    unsigned ha[256] = {0}, hb[256] = {0}, ra[256] = {0}, rb[256] = {0};
    pgi_shamir_share sh[6];
    uint8_t buf[PGI_SHAMIR_SHARE_BYTES];
    for (int round = 0; round < 400; round++)
        for (int which = 0; which < 2; which++) {
            assert_int_equal(pgi_shamir_split(which ? sb : sa, t, xs, n, sh, &r, NULL), PG_OK);
            for (unsigned i = 0; i < t - 1; i++) {
                pgi_shamir_share_pack(&sh[i], buf);
                for (int j = 2; j < PGI_SHAMIR_SHARE_BYTES; j++)
                    (which ? hb : ha)[buf[j]]++;
            }
            uint8_t back[32];
            assert_int_equal(pgi_shamir_combine(sh + 1, t, t, back, NULL), PG_OK);
            for (int j = 0; j < 32; j++)
                (which ? rb : ra)[back[j]]++;
        }
    double x = chi2(ha, hb);
    print_message("chi-square of t-1 shares of two secrets: %.1f (critical 330.5)\n", x);
    assert_true(x < 330.5);
    assert_true(chi2(ra, rb) > 10000);
}

static void
test_refusals(void **state)
{
    (void)state;
    pgi_secagg_rng r = rng_of(5);
    uint8_t secret[32] = {1, 2, 3}, back[32];
    uint16_t xs[4] = {1, 2, 3, 4};
    pgi_shamir_share sh[4];
    pg_error err = {0};
    assert_int_equal(pgi_shamir_split(secret, 5, xs, 4, sh, &r, &err), PG_EINVAL);
    assert_int_equal(pgi_shamir_split(secret, 0, xs, 4, sh, &r, &err), PG_EINVAL);
    uint16_t zero[3] = {1, 0, 3}, dup[3] = {1, 3, 3};
    assert_int_equal(pgi_shamir_split(secret, 2, zero, 3, sh, &r, &err), PG_EINVAL);
    assert_int_equal(pgi_shamir_split(secret, 2, dup, 3, sh, &r, &err), PG_EINVAL);
    assert_int_equal(pgi_shamir_split(secret, 3, xs, 4, sh, &r, NULL), PG_OK);
    /* too few */
    assert_int_equal(pgi_shamir_combine(sh, 2, 3, back, &err), PG_EINVAL);
    assert_non_null(strstr(err.msg, "cannot reconstruct"));
    /* a duplicate */
    pgi_shamir_share d[3] = {sh[0], sh[1], sh[1]};
    assert_int_equal(pgi_shamir_combine(d, 3, 3, back, &err), PG_EINVAL);
    assert_non_null(strstr(err.msg, "same x-coordinate"));
    /* x = 0 */
    pgi_shamir_share z[3] = {sh[0], sh[1], sh[2]};
    z[2].x = 0;
    assert_int_equal(pgi_shamir_combine(z, 3, 3, back, &err), PG_EINVAL);
    assert_non_null(strstr(err.msg, "x-coordinate 0"));
    /* pack and unpack */
    uint8_t b[PGI_SHAMIR_SHARE_BYTES];
    pgi_shamir_share u;
    pgi_shamir_share_pack(&sh[3], b);
    pgi_shamir_share_unpack(b, &u);
    assert_memory_equal(&u, &sh[3], sizeof u);
}

/* The fixed-point encoding: exact round trip, negative values in two's complement, sums mod
 * 2^64, refusals of non-finite and too-large values without naming them. */
static void
test_fixed_point(void **state)
{
    (void)state;
    double x[4] = {1.25, -3.5, 0, 1e6}, y[4];
    uint64_t e[4], f[4], s[4];
    assert_int_equal(pgi_secagg_encode(x, 4, 1000, e, NULL), PG_OK);
    assert_int_equal(e[1], (uint64_t)0 - 3500);
    double x2[4] = {-2.25, 3.5, -7, 2e6};
    assert_int_equal(pgi_secagg_encode(x2, 4, 1000, f, NULL), PG_OK);
    for (int i = 0; i < 4; i++)
        s[i] = e[i] + f[i];
    pgi_secagg_decode(s, 4, 1000, y);
    assert_true(y[0] == -1 && y[1] == 0 && y[2] == -7 && y[3] == 3e6);
    pg_error err = {0};
    double bad[2] = {1, NAN};
    assert_int_equal(pgi_secagg_encode(bad, 2, 1, e, &err), PG_EINVAL);
    assert_non_null(strstr(err.msg, "value 1"));
    double big[1] = {9007199254740993.0 * 2};
    assert_int_equal(pgi_secagg_encode(big, 1, 1, e, &err), PG_EINVAL);
    assert_null(strstr(err.msg, "1801439"));
    assert_int_equal(pgi_secagg_encode(x, 1, 0, e, &err), PG_EINVAL);
    /* The bound: 1000 members at the limit do not overflow. */
    double lim[1] = {-PGI_SECAGG_VALUE_MAX};
    assert_int_equal(pgi_secagg_encode(lim, 1, 1, e, NULL), PG_OK);
    uint64_t acc = 0;
    for (int i = 0; i < (int)PGI_SECAGG_MAX_MEMBERS; i++)
        acc += e[0];
    pgi_secagg_decode(&acc, 1, 1, y);
    assert_true(y[0] == -PGI_SECAGG_VALUE_MAX * PGI_SECAGG_MAX_MEMBERS);
    assert_int_equal(pgi_secagg_threshold(10, 0), 6);
    assert_int_equal(pgi_secagg_threshold(10, 3), 7);
    assert_int_equal(pgi_secagg_threshold(2, 0), 2);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_field),
        cmocka_unit_test(test_every_subset),
        cmocka_unit_test(test_one_share_hides),
        cmocka_unit_test(test_fewer_than_t_shares_distribution),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_fixed_point),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
