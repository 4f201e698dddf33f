/* A community on the lattice (community.h, docs/lattice.md): the options of a lattice run and
 * their checks, log levels, the run's events (pg_community_event), and pg_community_run_lattice,
 * which plays one run of a scenario with some of its members hosted in this process (run.c does the
 * playing, the same code as the in-process runner) and reports it as this process recorded it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "community/internal.h"
#include "core/util.h"
#include "plurigrid/lattice.h"

void
pg_lattice_options_init(pg_lattice_options *o)
{
    memset(o, 0, sizeof *o);
    o->transport = "nats";
    o->servers = "nats://127.0.0.1:4222";
    o->heartbeat_s = 0.5;
    o->timeout_s = 3;
    o->retry_s = 0.25;
    o->form_s = 10;
    o->log_level = PG_LOG_INFO;
    o->ledger_sync_s = 5;
}

void
pgi_lattice_log(const pg_lattice_options *o, pg_log_level level, const char *fmt, va_list ap)
{
    if (!o || !o->log || level > o->log_level)
        return;
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    o->log(o->log_ud, level, msg);
}

void
pg_community_event_init(pg_community_event *ev, pg_community_event_kind kind)
{
    memset(ev, 0, sizeof *ev);
    ev->kind = kind;
    ev->interval = PG_COMMUNITY_NO_INTERVAL;
    ev->time_h = NAN;
    ev->price = ev->volume_kwh = ev->buy_kwh = ev->sell_kwh = NAN;
    ev->import_kwh = ev->export_kwh = ev->amount = NAN;
    ev->load_kwh = ev->pv_kwh = ev->soc_kwh = NAN;
    ev->dr_start_h = ev->dr_end_h = ev->dr_kw = NAN;
}

const char *
pg_community_event_name(pg_community_event_kind kind)
{
    switch (kind) {
    case PG_COMMUNITY_EVENT_MEMBER: return "member";
    case PG_COMMUNITY_EVENT_OPERATOR: return "operator";
    case PG_COMMUNITY_EVENT_OPEN: return "open";
    case PG_COMMUNITY_EVENT_BID: return "bid";
    case PG_COMMUNITY_EVENT_CLEARED: return "cleared";
    case PG_COMMUNITY_EVENT_SETTLED: return "settled";
    case PG_COMMUNITY_EVENT_TELEMETRY: return "telemetry";
    case PG_COMMUNITY_EVENT_DR: return "dr";
    case PG_COMMUNITY_EVENT_DONE: return "done";
    case PG_COMMUNITY_EVENT_CONNECTION: return "connection";
    }
    return "unknown";
}

void
pgi_lattice_event(const pg_lattice_options *o, const pg_community_event *ev)
{
    if (o && o->event)
        o->event(o->event_ud, ev);
}

int
pg_log_level_parse(const char *s, pg_log_level *out, pg_error *err)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    for (int k = 0; s && k < 4; k++)
        if (strcmp(s, names[k]) == 0) {
            *out = (pg_log_level)k;
            return PG_OK;
        }
    return pg_error_set(err, PG_EINVAL, "unknown log level '%s' (error, warn, info or debug)",
                        s ? s : "(null)");
}

/* A duration option: finite, within [lo, hi]. */
static int
check_s(const char *what, double x, double lo, double hi, pg_error *err)
{
    if (!(isfinite(x) && x >= lo && x <= hi))
        return pg_error_set(err, PG_EINVAL, "%s must be a number of seconds from %g to %g (got %g)",
                            what, lo, hi, x);
    return PG_OK;
}

int
pg_lattice_options_check(const pg_lattice_options *o, pg_error *err)
{
    int rc;
    if (!o)
        return pg_error_set(err, PG_EINVAL, "no lattice options");
    if ((rc = check_s("heartbeat_s", o->heartbeat_s, 0.001, 3600, err)) ||
        (rc = check_s("timeout_s", o->timeout_s, 0.001, 86400, err)) ||
        (rc = check_s("retry_s", o->retry_s, 0.001, 3600, err)) ||
        (rc = check_s("form_s", o->form_s, 0, 86400, err)) ||
        (rc = check_s("interval_s", o->interval_s, 0, 86400, err)) ||
        (rc = check_s("ledger_sync_s", o->ledger_sync_s, 0.01, 86400, err)))
        return rc;
    if (o->ledger_dir && !o->ledger_dir[0])
        return pg_error_set(err, PG_EINVAL, "the ledger folder must not be empty");
    if (o->timeout_s <= o->heartbeat_s)
        return pg_error_set(err, PG_EINVAL,
                            "timeout_s (%g) must be longer than heartbeat_s (%g): a member would "
                            "be dropped between two heartbeats",
                            o->timeout_s, o->heartbeat_s);
    if (o->session && !pgi_token_ok(o->session))
        return pg_error_set(err, PG_EINVAL,
                            "the session '%.80s' must be 1 to 63 letters, digits, '-' or '_'",
                            o->session);
    if ((unsigned)o->log_level > PG_LOG_DEBUG)
        return pg_error_set(err, PG_EINVAL, "unknown log level %d", (int)o->log_level);
    return PG_OK;
}

/* The report of one run: one variant, the run in its market's place (has_market, the baseline
 * not played: its node is NULL), or in the baseline's with the market off; takes the trace's
 * run. */
static int
one_run_report(const pg_community *c, size_t variant, const char *mname, bool has_market,
               cm_trace *tr, pg_community_report **out, pg_error *err)
{
    pg_community_report *r = NULL;
    int rc = pgi_community_report_new(c, mname, c->seed, variant, 1, &r, err);
    if (rc)
        return rc;
    pg_community_variant *var = &r->variants[0];
    var->has_market = has_market;
    pgi_community_finish_run(c, tr, NULL);
    if (has_market)
        var->market = tr->run;
    else
        var->baseline = tr->run;
    memset(&tr->run, 0, sizeof tr->run);
    *out = r;
    return PG_OK;
}

int
pg_community_run_lattice(const pg_community *c, const char *const *members, size_t n_members,
                         const char *market, const pg_lattice_options *o, pg_community_report **out,
                         pg_error *err)
{
    int rc;
    bool *hosted = NULL;
    cm_trace tr;
    memset(&tr, 0, sizeof tr);
    if ((rc = pg_lattice_options_check(o, err)))
        return rc;
    if (o->variant >= c->n_variants)
        return pg_error_set(err, PG_EINVAL, "the scenario has %zu variants: no variant %zu",
                            c->n_variants, o->variant);
    const char *mname = market ? market : c->mechanism;
    const pg_market_mechanism *mech = NULL;
    if (strcmp(mname, "none") != 0 && !(mech = pg_market_mechanism_find(mname, err)))
        return PG_EINVAL;
    if (members && n_members) {
        if (!(hosted = calloc(c->n_nodes ? c->n_nodes : 1, sizeof *hosted)))
            return pg_error_set(err, PG_ENOMEM, "out of memory");
        for (size_t k = 0; k < n_members; k++) {
            size_t i = 0;
            while (i < c->n_nodes && strcmp(c->nodes[i].name, members[k]) != 0)
                i++;
            if (i == c->n_nodes) {
                rc = pg_error_set(err, PG_EINVAL, "the community '%s' has no member called '%s'",
                                  c->name, members[k]);
                goto out;
            }
            if (hosted[i]) {
                rc = pg_error_set(err, PG_EINVAL, "member '%s' is named twice", members[k]);
                goto out;
            }
            hosted[i] = true;
        }
    }
    cm_run_spec spec = {.variant = o->variant,
                        .mech = mech,
                        .sharing = c->sharing && !(market && strcmp(market, "none") == 0),
                        .events = true,
                        .seed = c->seed,
                        .lattice = o,
                        .hosted = hosted};
    rc = pgi_community_play(c, &spec, &tr, err);
    if (rc && rc != PG_ECANCELED)
        goto out;
    pg_error e2;
    int rrc = one_run_report(c, o->variant, mname, mech || spec.sharing, &tr, out, &e2);
    if (rrc) {
        rc = rrc;
        if (err)
            *err = e2;
    }
out:
    pgi_community_trace_free(&tr);
    free(hosted);
    return rc;
}
