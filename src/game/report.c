/* Writers of the classic-game analysis report: JSON for machines ("plurigrid-game-report/1",
 * documented in docs/open-games.md, a jansson tree dumped by pgi_json_dumps, so every number
 * reads back exactly and non-finite ones are null) and text for people (one paragraph per
 * profile: is it an equilibrium, and where a player would deviate to what). */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_write.h"
#include "core/util.h"
#include "plurigrid/game.h"

/* Observations listed per decision in the text report before "... and N more". */
#define TEXT_OBS 8

static json_t *
count_or_null(size_t n)
{
    return n == SIZE_MAX ? json_null() : json_integer((json_int_t)n);
}

static json_t *
str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *
check_json(const pg_og_check *c)
{
    json_t *decisions = json_array();
    for (size_t d = 0; d < c->n_decisions && decisions; d++) {
        const pg_og_decision_check *dc = &c->decisions[d];
        json_t *obs = json_array();
        for (size_t o = 0; o < dc->n_obs && obs; o++) {
            const pg_og_observation_check *oc = &dc->obs[o];
            json_array_append_new(
                obs,
                json_pack("{s:s, s:o, s:o, s:s, s:o, s:o}", "observation", oc->label, "probability",
                          pgi_json_num(oc->probability), "payoff", pgi_json_num(oc->payoff),
                          "best_action", oc->best_label, "best_payoff",
                          pgi_json_num(oc->best_payoff), "gain", pgi_json_num(oc->gain)));
        }
        json_array_append_new(decisions,
                              json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:b, s:o}", "decision",
                                        dc->decision, "player", dc->player, "reach",
                                        pgi_json_num(dc->reach), "payoff", pgi_json_num(dc->payoff),
                                        "best_payoff", pgi_json_num(dc->best_payoff), "gain",
                                        pgi_json_num(dc->gain), "ok", dc->ok, "observations",
                                        obs ? obs : json_null()));
    }
    return decisions;
}

int
pg_game_report_json(const pg_game_report *r, char **out, pg_error *err)
{
    if (!r || !out)
        return pg_error_set(err, PG_EINVAL, "pg_game_report_json: argument is NULL");
    json_t *profiles = json_array(), *notes = json_array();
    for (size_t i = 0; i < r->n_profiles && profiles; i++) {
        const pg_game_profile_report *p = &r->profiles[i];
        json_t *probs = json_array();
        for (size_t k = 0; k < p->n_probs && probs; k++)
            json_array_append_new(probs, pgi_json_num(p->probs[k]));
        json_t *expect = p->expect < 0    ? json_null()
                         : p->expect == 1 ? json_string("equilibrium")
                                          : json_string("not-equilibrium");
        json_array_append_new(
            profiles,
            json_pack("{s:s, s:s, s:s, s:o, s:o, s:b, s:o, s:o, s:o, s:o}", "name", p->name,
                      "source", p->source, "profile", p->description, "expect", expect,
                      "expectation_met",
                      p->expect < 0 ? json_null() : json_boolean(p->expectation_met), "equilibrium",
                      p->check.equilibrium, "max_gain", pgi_json_num(p->check.max_gain),
                      "tolerance", pgi_json_num(p->check.tolerance), "decisions",
                      check_json(&p->check), "probabilities", probs ? probs : json_null()));
    }
    for (size_t i = 0; i < r->n_notes && notes; i++)
        json_array_append_new(notes, json_string(r->notes[i]));
    json_t *root = json_pack(
        "{s:s, s:s, s:s, s:o, s:s, s:o, s:o, s:I, s:o, s:o}", "format", "plurigrid-game-report/1",
        "name", r->name, "kind", r->kind, "description", str_or_null(r->description), "file",
        r->file, "pure_equilibria", count_or_null(r->n_pure), "extreme_equilibria",
        count_or_null(r->n_extreme), "failed_expectations", (json_int_t)r->n_failed, "profiles",
        profiles ? profiles : json_null(), "notes", notes ? notes : json_null());
    char *text = root ? pgi_json_dumps(root, JSON_INDENT(2)) : NULL;
    json_decref(root);
    if (!text)
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    *out = text;
    return PG_OK;
}

/* Rounding residue (1e-17 where the answer is 0) would only distract a reader. */
static double
clean(double x)
{
    return fabs(x) < 1e-12 ? 0.0 : x;
}

static void
text_check(pgi_buf *b, const pg_og_check *c)
{
    for (size_t d = 0; d < c->n_decisions; d++) {
        const pg_og_decision_check *dc = &c->decisions[d];
        if (dc->n_obs == 1) {
            const pg_og_observation_check *oc = &dc->obs[0];
            pgi_buf_printf(b, "    %s (%s)%s%s: payoff %.6g; best deviation %s earns %.6g%s\n",
                           dc->decision, dc->player, oc->label[0] ? " seeing " : "", oc->label,
                           clean(oc->payoff), oc->best_label, clean(oc->best_payoff),
                           dc->ok ? "" : "  <- gains");
            continue;
        }
        pgi_buf_printf(b, "    %s (%s): payoff %.6g; best deviation earns %.6g%s\n", dc->decision,
                       dc->player, clean(dc->payoff), clean(dc->best_payoff),
                       dc->ok ? "" : "  <- gains");
        size_t shown = 0, hidden = 0;
        for (size_t o = 0; o < dc->n_obs; o++) {
            const pg_og_observation_check *oc = &dc->obs[o];
            if (oc->gain <= c->tolerance && dc->n_obs > TEXT_OBS)
                continue; /* many observations: list only where a deviation gains */
            if (shown++ >= TEXT_OBS) {
                hidden++;
                continue;
            }
            pgi_buf_printf(b, "      seeing %s (p %.4g): payoff %.6g; best %s earns %.6g%s\n",
                           oc->label, oc->probability, clean(oc->payoff), oc->best_label,
                           clean(oc->best_payoff), oc->gain > c->tolerance ? "  <- gains" : "");
        }
        if (hidden)
            pgi_buf_printf(b, "      ... and %zu more observations where a deviation gains\n",
                           hidden);
    }
}

int
pg_game_report_text(const pg_game_report *r, char **out, pg_error *err)
{
    if (!r || !out)
        return pg_error_set(err, PG_EINVAL, "pg_game_report_text: argument is NULL");
    pgi_buf b = {0};
    pgi_buf_printf(&b, "%s (%s game, %s)\n", r->name, r->kind, r->file);
    if (r->description)
        pgi_buf_printf(&b, "%s\n", r->description);
    if (r->n_pure != SIZE_MAX)
        pgi_buf_printf(&b, "pure equilibria: %zu\n", r->n_pure);
    if (r->n_extreme != SIZE_MAX)
        pgi_buf_printf(&b, "extreme equilibria, mixed ones included: %zu\n", r->n_extreme);
    for (size_t i = 0; i < r->n_profiles; i++) {
        const pg_game_profile_report *p = &r->profiles[i];
        pgi_buf_printf(&b, "\n%s [%s]\n  %s\n", p->name, p->source, p->description);
        pgi_buf_printf(&b, "  equilibrium: %s", p->check.equilibrium ? "yes" : "no");
        if (!p->check.equilibrium)
            pgi_buf_printf(&b, " (a deviation gains up to %.6g)", p->check.max_gain);
        else if (p->check.max_gain > 0)
            pgi_buf_printf(&b, " (within %.3g; largest gain %.3g)", p->check.tolerance,
                           clean(p->check.max_gain));
        if (p->expect >= 0)
            pgi_buf_printf(&b, "; the file expects %s: %s", p->expect ? "an equilibrium" : "none",
                           p->expectation_met ? "as expected" : "NOT AS EXPECTED");
        pgi_buf_puts(&b, "\n");
        text_check(&b, &p->check);
    }
    if (r->n_notes)
        pgi_buf_puts(&b, "\nnotes:\n");
    for (size_t i = 0; i < r->n_notes; i++)
        pgi_buf_printf(&b, "  - %s\n", r->notes[i]);
    if (r->n_failed)
        pgi_buf_printf(&b, "\n%zu expectation%s in the file did not hold\n", r->n_failed,
                       r->n_failed == 1 ? "" : "s");
    if (b.failed || !b.data) {
        pgi_buf_free(&b);
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    }
    *out = b.data;
    return PG_OK;
}
