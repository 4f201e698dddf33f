/* Signing keys: libsodium's initialisation (once per process), Ed25519 keys made fresh or from a
 * seed, and key files ("plurigrid-key/1", docs/ledger.md "Key files"): text naming the public key
 * and the secret seed, mode 0600, never replaced, and refused when others may read it. Nothing
 * here ever puts a secret into a message; buffers that held one are wiped. */
#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ledger/internal.h"

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static int sodium_status;

static void
sodium_start(void)
{
    sodium_status = sodium_init() < 0 ? -1 : 0;
}

int
pgi_ledger_sodium(pg_error *err)
{
    pthread_once(&sodium_once, sodium_start);
    if (sodium_status < 0)
        return pg_error_set(err, PG_EUNSUPPORTED, "ledger: libsodium could not be initialised");
    return PG_OK;
}

int
pgi_ledger_key_generate(pg_ledger_key *out, pg_error *err)
{
    uint8_t seed[32];
    int rc = pgi_ledger_sodium(err);
    if (rc)
        return rc;
    randombytes_buf(seed, sizeof seed);
    rc = pgi_ledger_key_from_seed(out, seed, err);
    sodium_memzero(seed, sizeof seed);
    return rc;
}

int
pgi_ledger_key_from_seed(pg_ledger_key *out, const uint8_t seed[32], pg_error *err)
{
    pg_ledger_key k;
    int rc = pgi_ledger_sodium(err);
    if (rc)
        return rc;
    if (!out || !seed)
        return pg_error_set(err, PG_EINVAL, "key: no seed or no output");
    if (crypto_sign_seed_keypair(k.pk.b, k.sk, seed) != 0)
        return pg_error_set(err, PG_EINVAL, "key: libsodium refused the seed");
    *out = k;
    sodium_memzero(&k, sizeof k);
    return PG_OK;
}

/* ---------------------------------------------------------------- key files */

#define KEY_FORMAT "plurigrid-key/1"

static int
fail_at(pg_error *err, int code, const char *path, int line, const char *msg)
{
    pg_error_set(err, code, "%s", msg);
    pg_error_at(err, path, line, 0, NULL);
    return code;
}

/* 64 hex digits into 32 bytes; false otherwise. Constant in time on the digits' values (sodium). */
static bool
hex32(const char *s, size_t n, uint8_t out[32])
{
    size_t got = 0;
    const char *end = NULL;
    if (n != 64)
        return false;
    if (sodium_hex2bin(out, 32, s, n, NULL, &got, &end) != 0 || got != 32 || end != s + n)
        return false;
    return true;
}

int
pgi_ledger_key_read(const char *path, pg_ledger_key *out, pg_error *err)
{
    char *data = NULL;
    size_t len = 0;
    uint8_t seed[32], pub[32];
    pg_ledger_key k;
    int rc = pgi_ledger_sodium(err);
    if (rc)
        return rc;
    if (!path || !out)
        return pg_error_set(err, PG_EINVAL, "key: no file or no output");
    if (strcmp(path, "-") != 0) {
        struct stat st;
        if (stat(path, &st) != 0) {
            rc = pg_error_set(err, errno == ENOENT ? PG_ENOTFOUND : PG_EIO,
                              "cannot read the key file: %s", strerror(errno));
            pg_error_at(err, path, 0, 0, NULL);
            return rc;
        }
        if ((S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode)) && (st.st_mode & 077)) {
            rc = pg_error_set(err, PG_EAUTH,
                              "the key file may be %s by others than its owner (mode %04o): a "
                              "signing key must be private; make it so with `chmod 600 %s`",
                              (st.st_mode & 022) ? "written" : "read",
                              (unsigned)(st.st_mode & 07777), path);
            pg_error_at(err, path, 0, 0, NULL);
            return rc;
        }
    }
    if ((rc = pg_input_read(path, 4096, &data, &len, err)))
        return rc;
    bool have_format = false, have_pub = false, have_seed = false;
    int line = 0, pub_line = 0;
    char *p = data, *end = data + len;
    if (memchr(data, '\0', len)) {
        rc = fail_at(err, PG_EPARSE, path, 0, "the key file is not text (it has NUL bytes)");
        goto out;
    }
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *le = nl ? nl : end;
        line++;
        size_t n = (size_t)(le - p);
        if (n && p[n - 1] == '\r')
            n--;
        if (n == 0 || p[0] == '#') {
            p = nl ? nl + 1 : end;
            continue;
        }
        char *sp = memchr(p, ' ', n);
        size_t kl = sp ? (size_t)(sp - p) : n;
        const char *val = sp ? sp + 1 : p + n;
        size_t vl = sp ? n - kl - 1 : 0;
#define IS(word) (kl == strlen(word) && memcmp(p, word, kl) == 0)
        if (IS("format")) {
            if (have_format) {
                rc = fail_at(err, PG_EPARSE, path, line, "a second format line");
                goto out;
            }
            if (vl != strlen(KEY_FORMAT) || memcmp(val, KEY_FORMAT, vl) != 0) {
                rc = fail_at(err, PG_EPARSE, path, line,
                             "the format is not " KEY_FORMAT
                             ": this is not a plurigrid key file (or a newer one)");
                goto out;
            }
            have_format = true;
        } else if (IS("public")) {
            if (have_pub) {
                rc = fail_at(err, PG_EPARSE, path, line, "a second public line");
                goto out;
            }
            if (!hex32(val, vl, pub)) {
                rc = fail_at(err, PG_EPARSE, path, line, "the public key is not 64 hex digits");
                goto out;
            }
            have_pub = true;
            pub_line = line;
        } else if (IS("seed")) {
            if (have_seed) {
                rc = fail_at(err, PG_EPARSE, path, line, "a second seed line");
                goto out;
            }
            if (!hex32(val, vl, seed)) {
                rc = fail_at(err, PG_EPARSE, path, line, "the secret seed is not 64 hex digits");
                goto out;
            }
            have_seed = true;
        } else {
            rc = fail_at(err, PG_EPARSE, path, line,
                         "expected a line 'format', 'public' or 'seed' (or a # comment)");
            goto out;
        }
#undef IS
        p = nl ? nl + 1 : end;
    }
    if (!have_format || !have_pub || !have_seed) {
        rc = fail_at(err, PG_EPARSE, path, 0,
                     !have_format ? "the key file has no format line"
                     : !have_pub  ? "the key file has no public line"
                                  : "the key file has no seed line");
        goto out;
    }
    if ((rc = pgi_ledger_key_from_seed(&k, seed, err)))
        goto out;
    if (memcmp(k.pk.b, pub, 32) != 0) {
        rc = fail_at(err, PG_EPARSE, path, pub_line,
                     "the public key is not the seed's: the file was changed or damaged");
        goto out;
    }
    *out = k;
out:
    sodium_memzero(&k, sizeof k);
    sodium_memzero(seed, sizeof seed);
    if (data) {
        sodium_memzero(data, len);
        free(data);
    }
    return rc;
}

int
pgi_ledger_key_write(const char *path, const pg_ledger_key *k,
                     int (*open_private)(pg_output **out, const char *path, pg_error *err),
                     pg_error *err)
{
    char pub[65], seed[65], text[400];
    pg_output *o = NULL;
    struct stat st;
    int rc = pgi_ledger_sodium(err);
    if (rc)
        return rc;
    if (!path || !path[0] || !k)
        return pg_error_set(err, PG_EINVAL, "key: no file or no key");
    if (strcmp(path, "-") != 0 && (lstat(path, &st) == 0) &&
        (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode) || S_ISDIR(st.st_mode))) {
        rc = pg_error_set(err, PG_ESTATE,
                          S_ISDIR(st.st_mode)
                              ? "cannot write a key there: it is a folder"
                              : "a file is already there: a key file is never replaced (move "
                                "it away first if you mean to)");
        pg_error_at(err, path, 0, 0, NULL);
        return rc;
    }
    /* libsodium's secret key is the seed followed by the public key. */
    sodium_bin2hex(pub, sizeof pub, k->pk.b, 32);
    sodium_bin2hex(seed, sizeof seed, k->sk, 32);
    int n = snprintf(text, sizeof text,
                     "# A plurigrid ledger signing key. Keep it secret: whoever has this file "
                     "can sign as this key.\nformat %s\npublic %s\nseed %s\n",
                     KEY_FORMAT, pub, seed);
    /* Private from its creation: no other user can open it while it is written. */
    if ((rc = open_private(&o, path, err)))
        goto out;
    FILE *f = pg_output_stream(o);
    fwrite(text, 1, (size_t)n, f);
    rc = pg_output_commit(o, err);
out:
    sodium_memzero(seed, sizeof seed);
    sodium_memzero(text, sizeof text);
    return rc;
}
