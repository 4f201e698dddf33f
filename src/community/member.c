/* Member files (plurigrid-member/1, docs/lattice.md "Node daemons"): what a node daemon needs to
 * take its place in a community on the lattice: the scenario (a file relative to the member
 * file), the member's name in it, which variant, market, data folder and days it plays, and its
 * lattice timings. The reader is strict like every format's: unknown keys, wrong types, numbers
 * out of range are errors naming the file, the line and the JSON path. Whether the name and the
 * variant are in the scenario can only be told once the scenario is read:
 * pg_community_member_find checks that and names a few of the members there are. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "community/internal.h"
#include "core/json_read.h"
#include "core/util.h"
#include "plurigrid/market.h"

#define FORMAT "plurigrid-member/1"

/* Largest member file read, bytes: a member file is a few lines. */
#define MEMBER_INPUT_MAX ((size_t)1 << 20)

/* The lattice timings a member file may set, seconds. Beyond a day a timing is a mistake, and a
 * heartbeat faster than 10 ms would flood the server. */
#define MIN_PERIOD_S 0.01
#define MAX_PERIOD_S 86400.0

/* The format key, with a way forward for the files a daemon is most likely given by mistake. */
static int
check_format(pgi_jr *r, const json_t *root)
{
    const char *format = NULL;
    int rc = pgi_jr_get_string(r, root, "format", true, &format);
    if (rc || strcmp(format, FORMAT) == 0)
        return rc;
    if (strncmp(format, "plurigrid-node/", 15) == 0)
        return pgi_jr_fail_key(
            r, PG_EPARSE, "format",
            "this is a node configuration (\"%s\"), not a member file: a node daemon needs a "
            "member file (\"" FORMAT "\") that names the community's scenario and the member, "
            "whose configuration the scenario gives, e.g. {\"format\": \"" FORMAT "\", "
            "\"community\": \"scenario.json\", \"name\": \"home-1\"} (docs/lattice.md, Node "
            "daemons)",
            format);
    if (strncmp(format, "plurigrid-community/", 20) == 0)
        return pgi_jr_fail_key(
            r, PG_EPARSE, "format",
            "this is a community scenario (\"%s\"), not a member file: a node daemon runs one "
            "member of it and needs a member file, e.g. {\"format\": \"" FORMAT "\", "
            "\"community\": \"scenario.json\", \"name\": \"home-1\"}; to run every member in one "
            "process, use 'plurigrid community SCENARIO --nats URL' (docs/lattice.md)",
            format);
    return pgi_jr_fail_key(r, PG_EPARSE, "format", "must be \"" FORMAT "\" (it is \"%s\")", format);
}

/* "none" or a mechanism of the market's table. */
static int
check_market(pgi_jr *r, const char *market)
{
    if (strcmp(market, "none") == 0 || pg_market_mechanism_find(market, NULL))
        return PG_OK;
    pgi_buf b = {0};
    size_t n = 0;
    const pg_market_mechanism *m = pg_market_mechanisms(&n);
    for (size_t i = 0; i < n; i++)
        pgi_buf_printf(&b, "%s, ", m[i].name);
    int rc = b.failed ? pgi_jr_nomem(r)
                      : pgi_jr_fail_key(r, PG_EPARSE, "market",
                                        "unknown market mechanism '%s' (the mechanisms are: "
                                        "%snone)",
                                        market, b.data ? b.data : "");
    pgi_buf_free(&b);
    return rc;
}

static int
read_lattice(pgi_jr *r, const json_t *root, pg_lattice_options *lo)
{
    json_t *obj = NULL;
    int rc = pgi_jr_get_object(r, root, "lattice", false, &obj);
    if (rc || !obj)
        return rc;
    size_t mark = pgi_jr_push_key(r, "lattice");
    static const char *const keys[] = {"heartbeat_s", "timeout_s",  "retry_s",       "form_s",
                                       "clock",       "interval_s", "ledger_sync_s", NULL};
    const char *clock = NULL;
    if ((rc = pgi_jr_check_keys(r, obj, "lattice", keys)) ||
        (rc = pgi_jr_get_number(r, obj, "heartbeat_s", false, MIN_PERIOD_S, MAX_PERIOD_S,
                                &lo->heartbeat_s)) ||
        (rc = pgi_jr_get_number(r, obj, "timeout_s", false, MIN_PERIOD_S, MAX_PERIOD_S,
                                &lo->timeout_s)) ||
        (rc = pgi_jr_get_number(r, obj, "retry_s", false, MIN_PERIOD_S, MAX_PERIOD_S,
                                &lo->retry_s)) ||
        (rc = pgi_jr_get_number(r, obj, "form_s", false, 0, MAX_PERIOD_S, &lo->form_s)) ||
        (rc = pgi_jr_get_number(r, obj, "interval_s", false, 0, MAX_PERIOD_S, &lo->interval_s)) ||
        (rc = pgi_jr_get_number(r, obj, "ledger_sync_s", false, MIN_PERIOD_S, MAX_PERIOD_S,
                                &lo->ledger_sync_s)) ||
        (rc = pgi_jr_get_string(r, obj, "clock", false, &clock)))
        goto out;
    if (clock && strcmp(clock, "simulation") != 0 && strcmp(clock, "wall") != 0) {
        rc = pgi_jr_fail_key(r, PG_EPARSE, "clock",
                             "must be \"simulation\" or \"wall\" (it is \"%s\")", clock);
        goto out;
    }
    if (clock)
        lo->wall_clock = strcmp(clock, "wall") == 0;
    /* A member dropped between two of its own heartbeats would come and go all the time. */
    if (lo->timeout_s <= lo->heartbeat_s) {
        bool own = json_object_get(obj, "timeout_s") != NULL;
        rc = pgi_jr_fail_key(r, PG_EMODEL, own ? "timeout_s" : "heartbeat_s",
                             "the timeout (%g s%s) must be longer than the heartbeat period "
                             "(%g s): a member is dropped after timeout_s without a heartbeat",
                             lo->timeout_s, own ? "" : ", the default", lo->heartbeat_s);
        goto out;
    }
out:
    pgi_jr_pop(r, mark);
    return rc;
}

void
pg_community_member_free(pg_community_member *m)
{
    if (!m)
        return;
    free(m->community);
    free(m->name);
    free(m->variant);
    free(m->market);
    free(m->data_dir);
    free(m->ledger);
    memset(m, 0, sizeof *m);
}

static int
parse_member(pg_community_member *m, const char *file, const char *text, size_t len,
             const char *base_dir, pg_error *err)
{
    pgi_jr jr, *r = &jr;
    int rc = pgi_jr_open(r, file, text, len, err);
    if (rc)
        return rc;
    json_t *root = r->root;
    static const char *const keys[] = {"format",  "community", "name",      "variant",
                                       "market",  "data",      "start_day", "days",
                                       "lattice", "ledger",    NULL};
    const char *community = NULL, *data = NULL, *ledger = NULL;
    if ((rc = pgi_jr_want(r, root, JSON_OBJECT, "a " FORMAT " object")) ||
        (rc = check_format(r, root)) || (rc = pgi_jr_check_keys(r, root, NULL, keys)) ||
        (rc = pgi_jr_get_string(r, root, "community", true, &community)) ||
        (rc = pgi_jr_dup_string(r, root, "name", true, &m->name)))
        goto out;
    if (!pgi_token_ok(m->name)) {
        rc = pgi_jr_fail_key(r, PG_EPARSE, "name",
                             "must be a node name of the scenario: 1 to 63 letters, digits, '-' "
                             "or '_' (it is \"%s\")",
                             m->name);
        goto out;
    }
    if ((rc = pgi_jr_dup_string(r, root, "variant", false, &m->variant)) ||
        (rc = pgi_jr_dup_string(r, root, "market", false, &m->market)) ||
        (rc = pgi_jr_get_string(r, root, "data", false, &data)) ||
        (rc = pgi_jr_get_size(r, root, "start_day", false, 0, 100000, &m->start_day)) ||
        (rc = pgi_jr_get_size(r, root, "days", false, 1, 100000, &m->days)))
        goto out;
    if (m->variant && !m->variant[0]) {
        rc = pgi_jr_fail_key(r, PG_EPARSE, "variant", "must not be empty");
        goto out;
    }
    if (m->market && (rc = check_market(r, m->market)))
        goto out;
    if (data && !data[0]) {
        rc = pgi_jr_fail_key(r, PG_EPARSE, "data", "must not be empty");
        goto out;
    }
    if ((rc = pgi_jr_get_string(r, root, "ledger", false, &ledger)))
        goto out;
    if (ledger && !ledger[0]) {
        rc = pgi_jr_fail_key(r, PG_EPARSE, "ledger",
                             "must not be empty: the ledger folder made by 'plurigrid ledger "
                             "init'");
        goto out;
    }
    if ((rc = read_lattice(r, root, &m->lattice)))
        goto out;
    if (!(m->community = pgi_path_join(base_dir, community)) ||
        (data && !(m->data_dir = pgi_path_join(base_dir, data))) ||
        (ledger && !(m->ledger = pgi_path_join(base_dir, ledger))))
        rc = pgi_jr_nomem(r);
    else if (m->ledger)
        m->lattice.ledger_dir = m->ledger;
out:
    pgi_jr_close(r);
    return rc;
}

int
pg_community_member_read(pg_community_member *out, const char *path, pg_error *err)
{
    char *text = NULL, *dir = NULL;
    size_t len = 0;
    pg_community_member m;
    memset(&m, 0, sizeof m);
    pg_lattice_options_init(&m.lattice);
    int rc = pg_input_read(path, MEMBER_INPUT_MAX, &text, &len, err);
    if (rc)
        return rc;
    if (!(dir = strcmp(path, "-") == 0 ? pgi_strdup(".") : pgi_path_dir(path))) {
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto out;
    }
    rc = parse_member(&m, path, text, len, dir, err);
out:
    free(dir);
    free(text);
    if (rc) {
        pg_community_member_free(&m);
        return rc;
    }
    *out = m;
    return PG_OK;
}

static const char *
node_name(const pg_community *c, size_t i)
{
    return c->nodes[i].name;
}

static const char *
variant_name(const pg_community *c, size_t i)
{
    return c->variants[i];
}

/* "a, b, c, ... (N in all)": the first few of n names, for an error. */
static void
list_names(pgi_buf *b, const pg_community *c, size_t n,
           const char *(*name)(const pg_community *, size_t))
{
    enum { SHOWN = 5 };
    for (size_t i = 0; i < n && i < SHOWN; i++)
        pgi_buf_printf(b, "%s%s", i ? ", " : "", name(c, i));
    if (n > SHOWN)
        pgi_buf_printf(b, ", ... (%zu in all)", n);
}

int
pg_community_member_find(const pg_community *c, const pg_community_member *m, size_t *node,
                         size_t *variant, pg_error *err)
{
    size_t v = 0, k = 0;
    pgi_buf b = {0};
    int rc = PG_OK;
    for (k = 0; k < c->n_nodes && strcmp(c->nodes[k].name, m->name) != 0; k++)
        ;
    if (k == c->n_nodes) {
        list_names(&b, c, c->n_nodes, node_name);
        rc = b.failed ? pg_error_set(err, PG_ENOMEM, "out of memory")
                      : pg_error_set(err, PG_EMODEL,
                                     "the community '%s' (%s) has no member '%s'; its members "
                                     "are: %s",
                                     c->name, m->community, m->name, b.data ? b.data : "");
        pg_error_at(err, NULL, 0, 0, "$.name");
        goto out;
    }
    if (m->variant) {
        for (v = 0; v < c->n_variants && strcmp(c->variants[v], m->variant) != 0; v++)
            ;
        if (v == c->n_variants) {
            list_names(&b, c, c->n_variants, variant_name);
            rc = b.failed ? pg_error_set(err, PG_ENOMEM, "out of memory")
                          : pg_error_set(err, PG_EMODEL,
                                         "the community '%s' (%s) has no variant '%s'; its "
                                         "variants are: %s",
                                         c->name, m->community, m->variant, b.data ? b.data : "");
            pg_error_at(err, NULL, 0, 0, "$.variant");
            goto out;
        }
    }
out:
    pgi_buf_free(&b);
    if (rc)
        return rc;
    if (node)
        *node = k;
    if (variant)
        *variant = v;
    return PG_OK;
}
