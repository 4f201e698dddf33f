/* Keys and key files: a seed gives one key, fresh keys differ, a key file is written with mode
 * 0600 and read back to the same key, is never replaced, is refused when others may read it and
 * when it is malformed (naming the line), and no message ever shows the secret seed. */
#include <sodium.h>
#include <sys/stat.h>

#include "fixture.h"

static const char seed_hex[] = "0505050505050505050505050505050505050505050505050505050505050505";

static void
write_text(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

/* A key file's text for the key of seed 5 with the given lines changed. */
static void
key_text(char *out, size_t n, const char *format, const char *pub, const char *seed)
{
    pg_ledger_key k = lf_key(5);
    char hex[65];
    pg_ledger_hex(k.pk.b, 32, hex);
    snprintf(out, n, "# comment\n\nformat %s\npublic %s\nseed %s\n", format, pub ? pub : hex,
             seed ? seed : seed_hex);
}

static void
assert_no_secret(const pg_error *err)
{
    char buf[2048];
    pg_error_format(err, buf, sizeof buf);
    assert_null(strstr(buf, seed_hex));
    assert_null(strstr(buf, "05050505"));
}

static void
test_seed_and_fresh(void **state)
{
    (void)state;
    pg_ledger_key a = lf_key(5), b = lf_key(5), c, d;
    assert_memory_equal(&a, &b, sizeof a);
    /* libsodium's layout: the seed, then the public key. */
    assert_memory_equal(a.sk + 32, a.pk.b, 32);
    uint8_t msg[3] = {1, 2, 3}, sig[64];
    crypto_sign_detached(sig, NULL, msg, 3, a.sk);
    assert_int_equal(crypto_sign_verify_detached(sig, msg, 3, a.pk.b), 0);
    assert_int_equal(pg_ledger_key_generate(&c, NULL), PG_OK);
    assert_int_equal(pg_ledger_key_generate(&d, NULL), PG_OK);
    assert_memory_not_equal(c.pk.b, d.pk.b, 32);
    pg_ledger_key_wipe(&c);
    pg_ledger_key zero = {0};
    assert_memory_equal(&c, &zero, sizeof c);
}

static void
test_file_round_trip(void **state)
{
    (void)state;
    pg_ledger_key k = lf_key(5), r;
    const char *path = pgt_tmp("k.key");
    pg_error err = {0};
    assert_int_equal(pg_ledger_key_write(path, &k, &err), PG_OK);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(pg_ledger_key_read(path, &r, &err), PG_OK);
    assert_memory_equal(&k, &r, sizeof k);
    /* Never replaced. */
    pg_ledger_key other = lf_key(6);
    assert_int_equal(pg_ledger_key_write(path, &other, &err), PG_ESTATE);
    assert_non_null(strstr(err.msg, "never replaced"));
    assert_int_equal(pg_ledger_key_read(path, &r, &err), PG_OK);
    assert_memory_equal(&k, &r, sizeof k);
    /* Readable by others: refused, saying how to fix it. */
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(pg_ledger_key_read(path, &r, &err), PG_EAUTH);
    assert_non_null(strstr(err.msg, "chmod 600"));
    assert_int_equal(chmod(path, 0620), 0);
    assert_int_equal(pg_ledger_key_read(path, &r, &err), PG_EAUTH);
    assert_int_equal(pg_ledger_key_read(pgt_tmp("none.key"), &r, &err), PG_ENOTFOUND);
    assert_int_equal(pg_ledger_key_write(pgt_tmpdir(), &k, &err), PG_ESTATE);
    assert_int_equal(pg_ledger_key_write("/nonexistent-folder/k.key", &k, &err), PG_EIO);
    assert_no_secret(&err);
}

static void
test_malformed(void **state)
{
    (void)state;
    const char *path = pgt_tmp("bad.key");
    char text[512];
    pg_ledger_key r;
    pg_error err = {0};
    struct {
        const char *format, *pub, *seed;
        int line;
        const char *needle;
    } cases[] = {
        {"plurigrid-key/2", NULL, NULL, 3, "not a plurigrid key file"},
        {"plurigrid-key/1", "00", NULL, 4, "64 hex digits"},
        {"plurigrid-key/1", NULL, "0505zz", 5, "64 hex digits"},
        {"plurigrid-key/1", NULL,
         "0606060606060606060606060606060606060606060606060606060606060606", 4, "not the seed's"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        key_text(text, sizeof text, cases[i].format, cases[i].pub, cases[i].seed);
        write_text(path, text, 0600);
        memset(&err, 0, sizeof err);
        assert_int_equal(pg_ledger_key_read(path, &r, &err), PG_EPARSE);
        assert_int_equal(err.line, cases[i].line);
        assert_string_equal(err.file, path);
        if (!strstr(err.msg, cases[i].needle))
            fail_msg("case %zu: %s", i, err.msg);
        assert_no_secret(&err);
    }
    write_text(path, "format plurigrid-key/1\nseed x\nseed y\n", 0600);
    assert_int_equal(pg_ledger_key_read(path, &r, &err), PG_EPARSE);
    write_text(path, "format plurigrid-key/1\n", 0600);
    assert_int_equal(pg_ledger_key_read(path, &r, &err), PG_EPARSE);
    assert_non_null(strstr(err.msg, "no public line"));
    char line[200];
    snprintf(line, sizeof line, "secret %s\n", seed_hex);
    write_text(path, line, 0600);
    assert_int_equal(pg_ledger_key_read(path, &r, &err), PG_EPARSE);
    assert_int_equal(err.line, 1);
    assert_no_secret(&err);
    write_text(path, "", 0600);
    assert_int_equal(pg_ledger_key_read(path, &r, &err), PG_EPARSE);
    /* Not a file. */
    assert_int_equal(pg_ledger_key_read("/dev/zero", &r, &err), PG_EIO);
    assert_int_equal(pg_ledger_key_read(pgt_tmpdir(), &r, &err), PG_EIO);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_and_fresh),
        cmocka_unit_test_teardown(test_file_round_trip, pgt_teardown_tmpdir),
        cmocka_unit_test_teardown(test_malformed, pgt_teardown_tmpdir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
