/* The reader of plurigrid-node/1 node configs (docs/node-format.md): top-level members, the
 * devices (each kind's parameters are read by its row of the device table, devices.c) and the
 * controller's section. Every error names the file, line and JSON path. */
#include "node/node_json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "node/devices.h"
#include "node/internal.h"

#define NODE_FORMAT "plurigrid-node/1"

static const char *const top_keys[] = {"format",  "name",       "description",    "profile",
                                       "devices", "controller", "grid_connected", NULL};

int
pgi_config_add_input(pgi_jr *r, pg_node_config *c, const char *name, size_t *idx)
{
    for (size_t i = 0; i < c->n_inputs; i++)
        if (strcmp(c->inputs[i], name) == 0) {
            *idx = i;
            return PG_OK;
        }
    char **inputs = realloc(c->inputs, (c->n_inputs + 1) * sizeof *inputs);
    if (!inputs)
        return pgi_jr_nomem(r);
    c->inputs = inputs;
    if (!(c->inputs[c->n_inputs] = pgi_strdup(name)))
        return pgi_jr_nomem(r);
    *idx = c->n_inputs++;
    return PG_OK;
}

static int
read_profile(pgi_jr *r, const json_t *obj, pg_node_profile *out)
{
    const char *s;
    int rc = pgi_jr_get_string(r, obj, "profile", true, &s);
    if (rc)
        return rc;
    for (int p = PG_NODE_OFFGRID; p <= PG_NODE_DATACENTER; p++)
        if (strcmp(s, pg_node_profile_name((pg_node_profile)p)) == 0) {
            *out = (pg_node_profile)p;
            return PG_OK;
        }
    return pgi_jr_fail_key(r, PG_EPARSE, "profile",
                           "unknown profile '%s' (the profiles are: offgrid, residential, "
                           "commercial, datacenter)",
                           s);
}

/* "pv, battery, ..." into buf. */
static void
known_kinds(char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int k = 0; k < PGI_DEV_N && n < size; k++)
        n += (size_t)snprintf(buf + n, size - n, "%s%s", k ? ", " : "", pgi_dev_types[k].name);
}

static int
read_device(pgi_jr *r, const json_t *v, pg_node_config *c, pgi_dev_cfg *d)
{
    int rc;
    const char *kind;
    const char *keys[24];
    if ((rc = pgi_jr_want(r, v, JSON_OBJECT, "an object (a device)")) ||
        (rc = pgi_jr_get_string(r, v, "kind", true, &kind)))
        return rc;
    const pgi_dev_type *t = pgi_dev_type_find(kind, &d->kind);
    if (!t) {
        char list[300];
        known_kinds(list, sizeof list);
        return pgi_jr_fail_key(r, PG_EPARSE, "kind", "unknown device kind '%s' (the kinds are: %s)",
                               kind, list);
    }
    size_t n = 0;
    keys[n++] = "kind";
    keys[n++] = "name";
    for (size_t i = 0; t->keys[i] && n + 1 < sizeof keys / sizeof keys[0]; i++)
        keys[n++] = t->keys[i];
    keys[n] = NULL;
    char what[64];
    snprintf(what, sizeof what, "a %s device", t->name);
    if ((rc = pgi_jr_check_keys(r, v, what, keys)) ||
        (rc = pgi_jr_dup_string(r, v, "name", true, &d->name)))
        return rc;
    return t->read(r, v, c, d);
}

static int
read_devices(pgi_jr *r, const json_t *obj, pg_node_config *c)
{
    json_t *arr;
    int rc = pgi_jr_get_array(r, obj, "devices", true, 0, &arr);
    if (rc)
        return rc;
    size_t n = json_array_size(arr);
    if (n > 10000)
        return pgi_jr_fail_key(r, PG_EPARSE, "devices", "has %zu devices; a node has at most 10000",
                               n);
    if (n && !(c->devices = calloc(n, sizeof *c->devices)))
        return pgi_jr_nomem(r);
    size_t mark = pgi_jr_push_key(r, "devices");
    for (size_t i = 0; i < n && !rc; i++) {
        size_t m = pgi_jr_push_index(r, i);
        pgi_dev_cfg *d = &c->devices[i];
        d->input = d->outdoor = PGI_NO_INPUT;
        c->n_devices = i + 1;
        rc = read_device(r, json_array_get(arr, i), c, d);
        for (size_t j = 0; !rc && j < i; j++)
            if (strcmp(c->devices[j].name, d->name) == 0)
                rc = pgi_jr_fail_key(r, PG_EPARSE, "name",
                                     "another device (devices[%zu]) is also called '%s'", j,
                                     d->name);
        pgi_jr_pop(r, m);
    }
    pgi_jr_pop(r, mark);
    return rc;
}

/* name as a path from the current folder: a relative name is taken from the folder of file (the
 * document that holds it; none when file names no folder). malloc'd, NULL without memory. */
static char *
beside(const char *file, const char *name)
{
    const char *slash = file ? strrchr(file, '/') : NULL;
    if (name[0] == '/' || !slash)
        return pgi_strdup(name);
    size_t dir = (size_t)(slash - file) + 1, n = strlen(name);
    char *p = malloc(dir + n + 1);
    if (p) {
        memcpy(p, file, dir);
        memcpy(p + dir, name, n + 1);
    }
    return p;
}

static bool
in_list(const char *const *list, const char *key)
{
    for (size_t i = 0; list && list[i]; i++)
        if (strcmp(list[i], key) == 0)
            return true;
    return false;
}

static int
read_controller(pgi_jr *r, const json_t *obj, pg_node_config *c)
{
    json_t *ctl;
    int rc = pgi_jr_get_object(r, obj, "controller", false, &ctl);
    if (rc)
        return rc;
    if (!ctl) {
        c->controller = pg_node_controller_find("rules", NULL);
        return PG_OK;
    }
    size_t mark = pgi_jr_push_key(r, "controller");
    const char *kind;
    const char *keys[40];
    if ((rc = pgi_jr_get_string(r, ctl, "kind", true, &kind)))
        goto out;
    pg_error e = {0};
    if (!(c->controller = pg_node_controller_find(kind, &e))) {
        rc = pgi_jr_fail_key(r, PG_EPARSE, "kind", "%s", e.msg);
        goto out;
    }
    const pg_node_controller *t = c->controller;
    size_t n = 0;
    keys[n++] = "kind";
    for (size_t i = 0; t->params && t->params[i] && n + 1 < sizeof keys / sizeof keys[0]; i++)
        keys[n++] = t->params[i];
    for (size_t i = 0; t->file_params && t->file_params[i] && n + 1 < sizeof keys / sizeof keys[0];
         i++)
        keys[n++] = t->file_params[i];
    keys[n] = NULL;
    char what[64];
    snprintf(what, sizeof what, "the %s controller", t->name);
    if ((rc = pgi_jr_check_keys(r, ctl, what, keys)))
        goto out;
    size_t np = json_object_size(ctl) - 1;
    if (np && (!(c->param_key = calloc(np, sizeof *c->param_key)) ||
               !(c->param_val = calloc(np, sizeof *c->param_val)) ||
               !(c->file_key = calloc(np, sizeof *c->file_key)) ||
               !(c->file_val = calloc(np, sizeof *c->file_val)))) {
        rc = pgi_jr_nomem(r);
        goto out;
    }
    for (size_t i = 1; keys[i] && !rc; i++) {
        if (in_list(t->file_params, keys[i])) {
            const char *name = NULL;
            if ((rc = pgi_jr_get_string(r, ctl, keys[i], false, &name)) || !name)
                continue;
            if (!name[0]) {
                rc = pgi_jr_fail_key(r, PG_EPARSE, keys[i], "must name a file, not be empty");
                break;
            }
            if (!(c->file_key[c->n_files] = pgi_strdup(keys[i])) ||
                !(c->file_val[c->n_files] = beside(r->file, name))) {
                free(c->file_key[c->n_files]);
                c->file_key[c->n_files] = NULL;
                rc = pgi_jr_nomem(r);
                break;
            }
            c->n_files++;
            continue;
        }
        double x = NAN;
        if ((rc = pgi_jr_get_number(r, ctl, keys[i], false, -1e9, 1e9, &x)) || isnan(x))
            continue;
        if (!(c->param_key[c->n_params] = pgi_strdup(keys[i]))) {
            rc = pgi_jr_nomem(r);
            break;
        }
        c->param_val[c->n_params++] = x;
    }
out:
    pgi_jr_pop(r, mark);
    return rc;
}

/* What a profile needs (docs/node-format.md, "Profiles"). */
static int
check_profile(pgi_jr *r, pg_node_config *c)
{
    size_t count[PGI_DEV_N] = {0};
    for (size_t i = 0; i < c->n_devices; i++)
        count[c->devices[i].kind]++;
    switch (c->profile) {
    case PG_NODE_OFFGRID:
        if (c->grid_connected)
            return pgi_jr_fail_key(r, PG_EPARSE, "grid_connected",
                                   "an offgrid node has no grid connection (leave it out or "
                                   "make it false)");
        break;
    case PG_NODE_DATACENTER:
        if (!count[PGI_DEV_IT])
            return pgi_jr_fail_key(r, PG_EPARSE, "devices",
                                   "a datacenter node needs an it_load device");
        break;
    case PG_NODE_RESIDENTIAL:
    case PG_NODE_COMMERCIAL: break;
    }
    return PG_OK;
}

/* The controller takes its parameters and this node: made once and dropped, so that a bad
 * parameter is an error of the config, at its controller section. */
static int
check_controller(pgi_jr *r, const json_t *obj, pg_node_config *c)
{
    void *state = NULL;
    const pg_node_controller *ctl = c->controller;
    if (!ctl || !ctl->create)
        return PG_OK;
    int rc = ctl->create(&state, c, 0, r->err);
    if (rc) {
        size_t mark =
            json_object_get(obj, "controller") ? pgi_jr_push_key(r, "controller") : r->plen;
        rc = pgi_jr_place(r, rc);
        pgi_jr_pop(r, mark);
        return rc;
    }
    if (ctl->destroy)
        ctl->destroy(state);
    return PG_OK;
}

int
pgi_node_config_from_json(pgi_jr *r, const json_t *obj, pg_node_config **out)
{
    int rc;
    const char *format = NULL;
    pg_node_config *c = NULL;
    if ((rc = pgi_jr_want(r, obj, JSON_OBJECT, "an object (a node config)")) ||
        (rc = pgi_jr_check_keys(r, obj, "a node config", top_keys)) ||
        (rc = pgi_jr_get_string(r, obj, "format", false, &format)))
        return rc;
    if (format && strcmp(format, NODE_FORMAT) != 0)
        return pgi_jr_fail_key(r, PG_EPARSE, "format",
                               "unsupported format '%s' (this version reads \"" NODE_FORMAT "\")",
                               format);
    if (!(c = calloc(1, sizeof *c)))
        return pgi_jr_nomem(r);
    if ((rc = pgi_jr_dup_string(r, obj, "name", true, &c->name)) ||
        (rc = read_profile(r, obj, &c->profile)))
        goto out;
    c->grid_connected = c->profile != PG_NODE_OFFGRID;
    if ((rc = pgi_jr_get_bool(r, obj, "grid_connected", false, &c->grid_connected)) ||
        (rc = read_devices(r, obj, c)) || (rc = read_controller(r, obj, c)) ||
        (rc = check_profile(r, c)) || (rc = check_controller(r, obj, c)))
        goto out;
    *out = c;
    c = NULL;
out:
    pg_node_config_free(c);
    return rc;
}

int
pg_node_config_parse(pg_node_config **out, const char *file, const char *text, size_t len,
                     pg_error *err)
{
    pgi_jr r;
    pg_node_config *c = NULL;
    int rc = pgi_jr_open(&r, file ? file : "node config", text, len, err);
    if (rc)
        return rc;
    const char *format = NULL;
    if (json_is_object(r.root) && (rc = pgi_jr_get_string(&r, r.root, "format", true, &format)))
        goto out;
    if ((rc = pgi_node_config_from_json(&r, r.root, &c)))
        goto out;
    *out = c;
out:
    pgi_jr_close(&r);
    return rc;
}

int
pg_node_config_read(pg_node_config **out, const char *path, pg_error *err)
{
    char *text = NULL;
    size_t len = 0;
    int rc = pg_input_read(path, 0, &text, &len, err);
    if (rc)
        return rc;
    rc = pg_node_config_parse(out, path, text, len, err);
    free(text);
    return rc;
}
