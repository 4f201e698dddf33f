"""The one binding of libplurigrid: cffi in ABI mode (no compiled extension).

The declarations below copy the public headers (include/plurigrid/*.h) that the package uses,
struct layouts included, so that cffi can read result structs and write world fields in place.
Enum fields are declared ``int`` (what the C compiler gives them). tests/test_abi.py compiles a
small C program against the headers and checks every size and offset declared here, so a header
change that is not copied here fails the tests instead of reading the wrong bytes.

Other modules of the package add their declarations in ``_cdef_more.py`` (``CDEF``); everything is
declared once, before the library is opened.

The library is found, in this order:

1. ``PLURIGRID_LIB``: the path of ``libplurigrid.so`` (or of a folder holding it);
2. the build tree the package sits in: ``<checkout>/build/lib/libplurigrid.so`` when this package
   is ``<checkout>/python/plurigrid``;
3. for an installed package (``make install``, ``cmake --install``: PREFIX/lib/python3.X/
   dist-packages/plurigrid), the library of the same install tree, which ``_install.py``
   (written by the install) names relative to the package, instead of 2;
4. the system's library search (``ctypes.util.find_library("plurigrid")``).

``ffi`` and ``lib`` are what the rest of the package uses; ``lib_path`` says which file was opened.
"""

import ctypes.util
import os

from cffi import FFI

from . import _cdef_more

CDEF_CORE = r"""
enum {
    PG_OK = 0, PG_EINVAL = -1, PG_ENOMEM = -2, PG_EIO = -3, PG_EPARSE = -4, PG_EMODEL = -5,
    PG_ESOLVER = -6, PG_ENOTFOUND = -7, PG_EUNSUPPORTED = -8, PG_ENET = -9, PG_EAUTH = -10,
    PG_ESTATE = -11, PG_ELIMIT = -12, PG_ECANCELED = -13
};
typedef struct pg_error {
    int code;
    char file[256];
    int line;
    int column;
    char path[256];
    char msg[768];
} pg_error;
const char *pg_strerror(int code);
void pg_error_clear(pg_error *err);
char *pg_error_format(const pg_error *err, char *buf, size_t size);
const char *pg_version(void);
int pg_output_write(const char *path, const void *data, size_t len, pg_error *err);
void free(void *p);
"""

CDEF_MODEL = r"""
typedef int pg_bus_type;
typedef int pg_branch_kind;
typedef int pg_cost_model;
typedef int pg_technology;
typedef struct pg_bus {
    char *name; int number; pg_bus_type type; double base_kv; double vm; double va;
    double vmin; double vmax; double gs; double bs; int area; int zone; double x, y;
} pg_bus;
typedef struct pg_branch {
    char *name; pg_branch_kind kind; size_t from; size_t to; double r; double x; double b;
    double rate_a; double rate_b; double rate_c; double tap; double shift; double angmin;
    double angmax; bool in_service;
} pg_branch;
typedef struct pg_series { char *name; double step_h; size_t n; double *values; } pg_series;
typedef struct pg_load {
    char *name; size_t bus; double p; double q; size_t p_series; size_t q_series;
    bool in_service;
} pg_load;
typedef struct pg_cost { pg_cost_model model; size_t n; double *coef; double *px; double *py; }
    pg_cost;
typedef struct pg_thermal {
    char *name; size_t bus; bool in_service; double p; double q; double pmin; double pmax;
    double qmin; double qmax; double vg; double mbase; double ramp_up; double ramp_down;
    double min_up_h; double min_down_h; bool initial_on; double initial_h; pg_cost cost;
    double fixed_cost; double startup_cost; double shutdown_cost;
} pg_thermal;
typedef struct pg_renewable {
    char *name; size_t bus; bool in_service; pg_technology technology; double rating;
    double power_factor; size_t availability; double cost; double p; double q;
} pg_renewable;
typedef struct pg_storage {
    char *name; size_t bus; bool in_service; double energy_mwh; double soc_min_mwh;
    double soc_initial_mwh; double soc_target_mwh; double charge_mw; double discharge_mw;
    double eff_charge; double eff_discharge; double cost; double p; double q;
} pg_storage;
typedef struct pg_world {
    char *name; char *description; double base_mva;
    pg_bus *buses; size_t n_buses; size_t cap_buses;
    pg_branch *branches; size_t n_branches; size_t cap_branches;
    pg_series *series; size_t n_series; size_t cap_series;
    pg_load *loads; size_t n_loads; size_t cap_loads;
    pg_thermal *thermals; size_t n_thermals; size_t cap_thermals;
    pg_renewable *renewables; size_t n_renewables; size_t cap_renewables;
    pg_storage *storages; size_t n_storages; size_t cap_storages;
} pg_world;
int pg_world_new(pg_world **out, const char *name, double base_mva, pg_error *err);
void pg_world_free(pg_world *w);
int pg_world_clone(pg_world **out, const pg_world *w, pg_error *err);
int pg_world_validate(const pg_world *w, pg_error *err);
bool pg_world_equal(const pg_world *a, const pg_world *b, char *diff, size_t size);
int pg_world_at_step(pg_world **out, const pg_world *w, size_t step, pg_error *err);
int pg_world_horizon(const pg_world *w, size_t *n_steps, double *step_h, pg_error *err);

typedef struct pg_notes { char **items; size_t n; size_t cap; } pg_notes;
void pg_notes_clear(pg_notes *notes);
int pg_matpower_read_buffer(const char *data, size_t len, const char *name, pg_world **out,
                            pg_notes *notes, pg_error *err);
int pg_matpower_write_buffer(const pg_world *w, char **text, size_t *len, pg_notes *notes,
                             pg_error *err);
int pg_world_json_read_buffer(const char *data, size_t len, const char *name, pg_world **out,
                              pg_notes *notes, pg_error *err);
int pg_world_json_write_buffer(const pg_world *w, char **text, size_t *len, pg_error *err);
const char *pg_world_format_from_path(const char *path);
int pg_world_read(const char *path, const char *format, pg_world **out, pg_notes *notes,
                  pg_error *err);
int pg_world_write(const pg_world *w, const char *path, const char *format, pg_notes *notes,
                   pg_error *err);
"""

CDEF_PF = r"""
typedef struct pg_pf_options {
    bool dc; bool enforce_q_lims; double tol; int max_iter; double q_lim_tol;
} pg_pf_options;
void pg_pf_options_init(pg_pf_options *o);
typedef struct pg_pf_island {
    int status; size_t n_buses; size_t first_bus; size_t ref_bus; double load_mw;
    char reason[200];
} pg_pf_island;
typedef struct pg_pf_result {
    bool dc; bool converged; bool all_solved; int iterations; int q_lim_rounds;
    double max_mismatch; char reason[400];
    size_t n_buses, n_branches, n_thermals;
    double *vm; double *va; int *bus_type; size_t *island; double *pg; double *qg;
    bool *q_limited; double *pf, *qf; double *pt, *qt;
    double gen_p, gen_q; double inj_p, inj_q; double load_p, load_q; double shunt_p, shunt_q;
    double charging_q; double loss_p, loss_q;
    size_t n_islands; pg_pf_island *islands;
    double time_setup_s; double time_solve_s;
} pg_pf_result;
void pg_pf_result_free(pg_pf_result *r);
int pg_pf_solve(const pg_world *w, const pg_pf_options *opts, pg_pf_result **out, pg_error *err);
typedef struct pg_pf_solver pg_pf_solver;
int pg_pf_solver_new(pg_pf_solver **out, const pg_pf_options *opts, pg_error *err);
void pg_pf_solver_free(pg_pf_solver *s);
int pg_pf_solver_solve(pg_pf_solver *s, const pg_world *w, pg_pf_result **out, pg_error *err);
typedef struct pg_pf_solver_info {
    int jacobian_n; int jacobian_nnz; int lu_nnz; int analyses; int factorizations;
    int refactorizations;
} pg_pf_solver_info;
void pg_pf_solver_get_info(const pg_pf_solver *s, pg_pf_solver_info *info);
int pg_pf_result_text(const pg_world *w, const pg_pf_result *r, char **text, pg_error *err);
int pg_pf_result_json(const pg_world *w, const pg_pf_result *r, char **text, pg_error *err);
"""

LIB_NAME = "libplurigrid.so"


def _candidates():
    env = os.environ.get("PLURIGRID_LIB")
    if env:
        # An explicit choice is the only candidate: a wrong one must fail, not fall back.
        return [os.path.join(env, LIB_NAME) if os.path.isdir(env) else env], True
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        # Installed (cmake --install, make install): the install wrote where the library is.
        from . import _install

        return [os.path.normpath(os.path.join(here, _install.LIBDIR, LIB_NAME))], False
    except ImportError:
        pass
    checkout = os.path.dirname(os.path.dirname(here))  # <checkout>/python/plurigrid
    return [os.path.join(checkout, "build", "lib", LIB_NAME)], False


def _open(ffi):
    cands, explicit = _candidates()
    tried = []
    for path in cands:
        if os.path.isfile(path):
            return ffi.dlopen(path), path
        tried.append(path)
    if explicit:
        raise ImportError(
            "plurigrid: PLURIGRID_LIB is set to %r, but there is no %s there"
            % (os.environ["PLURIGRID_LIB"], LIB_NAME)
        )
    found = ctypes.util.find_library("plurigrid")
    if found:
        try:
            return ffi.dlopen(found), found
        except OSError as e:  # pragma: no cover - system specific
            tried.append("%s (%s)" % (found, e))
    raise ImportError(
        "plurigrid: cannot find the C library %s. Build it (make python), or set PLURIGRID_LIB "
        "to its path. Looked in: %s, and the system's library path." % (LIB_NAME, ", ".join(tried))
    )


ffi = FFI()
ffi.cdef(CDEF_CORE)
ffi.cdef(CDEF_MODEL)
ffi.cdef(CDEF_PF)
if _cdef_more.CDEF.strip():
    ffi.cdef(_cdef_more.CDEF)
lib, lib_path = _open(ffi)

PG_NONE = (1 << (8 * ffi.sizeof("size_t"))) - 1


def take_string(p):
    """Copies a malloc'd C string into a Python str and frees it (NULL gives None)."""
    if p == ffi.NULL:
        return None
    try:
        return ffi.string(p).decode("utf-8", "replace")
    finally:
        lib.free(p)
