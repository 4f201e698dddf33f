/* Implementation of the shared test helpers (see harness.h). */
#define _GNU_SOURCE /* unshare, CLONE_NEWNS */
#include "harness.h"

#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <time.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

void
pgt_assert_near(double a, double b, double tol, const char *ea, const char *eb, const char *file,
                int line)
{
    if (isnan(a) || isnan(b) || fabs(a - b) > tol) {
        print_error("%s = %.12g and %s = %.12g differ by %.3g > %.3g\n", ea, a, eb, b, fabs(a - b),
                    tol);
        _fail(file, line);
    }
}

const char *
pgt_data_dir(void)
{
    const char *env = getenv("PG_DATA_DIR");
    return (env && env[0]) ? env : PG_DATA_DIR;
}

static char path_slots[8][4096];
static int path_slot;

const char *
pgt_data_path(const char *rel)
{
    char *p = path_slots[path_slot++ % 8];
    snprintf(p, sizeof path_slots[0], "%s/%s", pgt_data_dir(), rel);
    if (access(p, R_OK) != 0) {
        print_error("reference data file %s is missing: the tests need ../shared/data beside "
                    "the checkout (or PG_DATA_DIR pointing at it)\n",
                    p);
        fail();
    }
    return p;
}

const char *
pgt_source_path(const char *rel)
{
    char *p = path_slots[path_slot++ % 8];
    snprintf(p, sizeof path_slots[0], "%s/%s", PG_SOURCE_DIR, rel);
    return p;
}

static char tmpdir_path[4096];

const char *
pgt_tmpdir(void)
{
    if (tmpdir_path[0])
        return tmpdir_path;
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir_path, sizeof tmpdir_path, "%s/pgtest.XXXXXX", base && base[0] ? base : "/tmp");
    if (!mkdtemp(tmpdir_path)) {
        print_error("cannot create a temporary directory: %s\n", strerror(errno));
        fail();
    }
    return tmpdir_path;
}

static int
rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

void
pgt_tmpdir_cleanup(void)
{
    if (tmpdir_path[0])
        nftw(tmpdir_path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    tmpdir_path[0] = '\0';
}

/* Appends what is readable on fd to a growing buffer; returns 0 at EOF. */
static int
drain(int fd, char **buf, size_t *len, size_t *cap)
{
    char chunk[8192];
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n <= 0)
        return 0;
    if (*len + (size_t)n + 1 > *cap) {
        size_t nc = (*cap ? *cap : 8192);
        while (nc < *len + (size_t)n + 1)
            nc *= 2;
        char *nb = realloc(*buf, nc);
        assert_non_null(nb);
        *buf = nb;
        *cap = nc;
    }
    memcpy(*buf + *len, chunk, (size_t)n);
    *len += (size_t)n;
    (*buf)[*len] = '\0';
    return 1;
}

int
pgt_run_cli(const char *const *args, const char *stdin_text, char **out, char **err)
{
    return pgt_run_cli_io(args, stdin_text, NULL, NULL, out, err);
}

/* The limit on one run of the command: a hang (a FIFO read twice, a loop) fails the test here
 * instead of stalling the suite until ctest's timeout. */
#define PGT_CLI_SECONDS 300

int
pgt_run_cli_io(const char *const *args, const char *stdin_text, const char *stdin_path,
               const char *stdout_path, char **out, char **err)
{
    int po[2], pe[2], pi[2];
    assert_int_equal(pipe(po), 0);
    assert_int_equal(pipe(pe), 0);
    assert_int_equal(pipe(pi), 0);
    size_t n = 0;
    while (args[n])
        n++;
    char **argv = calloc(n + 2, sizeof *argv);
    assert_non_null(argv);
    argv[0] = (char *)PG_CLI_PATH;
    for (size_t i = 0; i < n; i++)
        argv[i + 1] = (char *)args[i];
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (stdin_path) {
            int fd = open(stdin_path, O_RDONLY);
            if (fd < 0)
                _exit(126);
            dup2(fd, 0);
        } else {
            dup2(pi[0], 0);
        }
        if (stdout_path) {
            int fd = open(stdout_path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
            if (fd < 0)
                _exit(126);
            dup2(fd, 1);
        } else {
            dup2(po[1], 1);
        }
        dup2(pe[1], 2);
        close(po[0]);
        close(pe[0]);
        close(pi[1]);
        close(po[1]);
        execv(PG_CLI_PATH, argv);
        _exit(127);
    }
    free(argv);
    close(po[1]);
    close(pe[1]);
    close(pi[0]);
    if (stdin_text && !stdin_path) {
        /* Write stdin in full first; tests pass small inputs. */
        signal(SIGPIPE, SIG_IGN);
        size_t left = strlen(stdin_text);
        const char *p = stdin_text;
        while (left) {
            ssize_t w = write(pi[1], p, left);
            if (w <= 0)
                break;
            p += w;
            left -= (size_t)w;
        }
    }
    close(pi[1]);
    char *ob = NULL, *eb = NULL;
    size_t ol = 0, oc = 0, el = 0, ec = 0;
    struct pollfd fds[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
    int open_fds = 2;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    bool hung = false;
    while (open_fds > 0) {
        int pr = poll(fds, 2, 1000);
        if (pr < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (t1.tv_sec - t0.tv_sec > PGT_CLI_SECONDS) {
            hung = true;
            kill(pid, SIGKILL);
            break;
        }
        for (int k = 0; k < 2; k++) {
            if (fds[k].fd >= 0 && (fds[k].revents & (POLLIN | POLLHUP | POLLERR))) {
                int more =
                    k == 0 ? drain(fds[k].fd, &ob, &ol, &oc) : drain(fds[k].fd, &eb, &el, &ec);
                if (!more) {
                    close(fds[k].fd);
                    fds[k].fd = -1;
                    open_fds--;
                }
            }
        }
    }
    for (int k = 0; k < 2; k++)
        if (fds[k].fd >= 0)
            close(fds[k].fd);
    int status = 0;
    waitpid(pid, &status, 0);
    if (hung) {
        print_error("the command did not finish within %d s (killed): %s ...\n", PGT_CLI_SECONDS,
                    args[0] ? args[0] : "");
        fail();
    }
    if (!ob)
        ob = calloc(1, 1);
    if (!eb)
        eb = calloc(1, 1);
    if (out)
        *out = ob;
    else
        free(ob);
    if (err)
        *err = eb;
    else
        free(eb);
    if (WIFSIGNALED(status))
        return -1;
    return WEXITSTATUS(status);
}

static char full_dir[4096];
static bool full_rlimit;
static struct rlimit full_old;

/* Makes the mounts below dir private to this mount namespace, so that a mount there does not
 * propagate to the rest of the machine: the whole tree when "/" is a mount point, otherwise (in a
 * chroot) dir bound onto itself. */
static bool
private_below(const char *dir)
{
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0)
        return true;
    return mount(dir, dir, NULL, MS_BIND, NULL) == 0 &&
           mount(NULL, dir, NULL, MS_REC | MS_PRIVATE, NULL) == 0;
}

const char *
pgt_full_disk_begin(size_t bytes)
{
    /* A new, empty folder for every full disk. */
    snprintf(full_dir, sizeof full_dir, "%s/full.XXXXXX", pgt_tmpdir());
    if (!mkdtemp(full_dir))
        fail_msg("cannot create a folder in %s: %s", pgt_tmpdir(), strerror(errno));
    char opts[64];
    snprintf(opts, sizeof opts, "size=%zu", bytes);
    /* A small tmpfs in a mount namespace of this test alone (children inherit it). */
    if (unshare(CLONE_NEWNS) == 0 && private_below(full_dir) &&
        mount("tmpfs", full_dir, "tmpfs", 0, opts) == 0) {
        full_rlimit = false;
        return full_dir;
    }
    /* Not permitted here: files larger than bytes fail to grow instead (EFBIG, not ENOSPC). */
    print_message(
        "[ NOTE     ] no tmpfs mount allowed; a file-size limit stands in for the full disk\n");
    signal(SIGXFSZ, SIG_IGN);
    getrlimit(RLIMIT_FSIZE, &full_old);
    struct rlimit r = {(rlim_t)bytes, full_old.rlim_max};
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &r), 0);
    full_rlimit = true;
    return full_dir;
}

void
pgt_full_disk_end(void)
{
    if (full_rlimit)
        setrlimit(RLIMIT_FSIZE, &full_old);
    else if (full_dir[0])
        while (umount2(full_dir, MNT_DETACH) == 0) /* the tmpfs, and a bind mount under it */
            ;
    full_rlimit = false;
    full_dir[0] = '\0';
}

char *
pgt_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        print_error("cannot open %s: %s\n", path, strerror(errno));
        fail();
    }
    size_t cap = 65536, n = 0, got;
    char *buf = malloc(cap);
    assert_non_null(buf);
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 >= cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
    }
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

void
pgt_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        print_error("cannot write %s: %s\n", path, strerror(errno));
        fail();
    }
    fputs(text, f);
    fclose(f);
}

size_t
pgt_read_csv(const char *path, size_t *ncols, double **values, char ***header)
{
    char *text = pgt_slurp(path, NULL);
    char *save = NULL;
    char *line = strtok_r(text, "\r\n", &save);
    assert_non_null(line);
    size_t nc = 1;
    for (char *p = line; *p; p++)
        nc += *p == ',';
    char **hdr = calloc(nc, sizeof *hdr);
    assert_non_null(hdr);
    {
        char *s2 = NULL;
        size_t k = 0;
        for (char *tok = strtok_r(line, ",", &s2); tok && k < nc; tok = strtok_r(NULL, ",", &s2))
            hdr[k++] = strdup(tok);
    }
    size_t rows = 0, cap = 64;
    double *v = malloc(cap * nc * sizeof *v);
    assert_non_null(v);
    while ((line = strtok_r(NULL, "\r\n", &save)) != NULL) {
        if (!line[0])
            continue;
        if (rows == cap) {
            cap *= 2;
            v = realloc(v, cap * nc * sizeof *v);
            assert_non_null(v);
        }
        char *p = line;
        for (size_t k = 0; k < nc; k++) {
            char *end = p;
            double x = strtod(p, &end);
            v[rows * nc + k] = end == p ? NAN : x;
            char *comma = strchr(p, ',');
            if (!comma) {
                for (size_t j = k + 1; j < nc; j++)
                    v[rows * nc + j] = NAN;
                break;
            }
            p = comma + 1;
        }
        rows++;
    }
    free(text);
    *ncols = nc;
    *values = v;
    if (header)
        *header = hdr;
    else
        pgt_free_header(hdr, nc);
    return rows;
}

void
pgt_free_header(char **header, size_t ncols)
{
    if (!header)
        return;
    for (size_t i = 0; i < ncols; i++)
        free(header[i]);
    free(header);
}

size_t
pgt_csv_col(char **header, size_t ncols, const char *name)
{
    for (size_t i = 0; i < ncols; i++)
        if (header[i] && strcmp(header[i], name) == 0)
            return i;
    print_error("CSV column '%s' not found\n", name);
    fail();
    return 0;
}

/* Allocation failure injection: every test executable is linked with --wrap for malloc, calloc
 * and realloc, so calls from the library's objects and the test's own code come here (the
 * libraries plurigrid links, COIN-OR's and jansson's own allocations among them, are not
 * affected). */
void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);

static long alloc_fail_at = -1; /* the allocation (counted from arming) that fails; -1: none */
static long alloc_seen;

void
pgt_alloc_fail_after(long n)
{
    alloc_seen = 0;
    alloc_fail_at = n;
}

long
pgt_alloc_count(void)
{
    return alloc_seen;
}

static bool
alloc_fails(void)
{
    if (alloc_fail_at < 0)
        return false;
    return alloc_seen++ == alloc_fail_at;
}

void *
__wrap_malloc(size_t n)
{
    return alloc_fails() ? NULL : __real_malloc(n);
}

void *
__wrap_calloc(size_t n, size_t size)
{
    return alloc_fails() ? NULL : __real_calloc(n, size);
}

void *
__wrap_realloc(void *p, size_t n)
{
    return alloc_fails() ? NULL : __real_realloc(p, n);
}

const char *
pgt_tmp(const char *name)
{
    static char buf[8][4200];
    static int k;
    char *p = buf[k++ % 8];
    snprintf(p, sizeof buf[0], "%s/%s", pgt_tmpdir(), name);
    return p;
}

int
pgt_teardown_tmpdir(void **state)
{
    (void)state;
    pgt_tmpdir_cleanup();
    return 0;
}

const char *
pgt_variant(const char *src, const char *name, const char *from, const char *to)
{
    char *text = pgt_slurp(src, NULL);
    char *at = strstr(text, from);
    if (!at)
        fail_msg("'%s' is not in %s", from, src);
    size_t n = strlen(text) + strlen(to) + 1;
    char *out = malloc(n);
    assert_non_null(out);
    snprintf(out, n, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    const char *path = pgt_tmp(name);
    pgt_write(path, out);
    free(text);
    free(out);
    return path;
}

void
pgt_expect_cli(const char *const *args, const char *stdin_path, int code,
               const char *const *needles)
{
    char *out = NULL, *err = NULL;
    int rc = pgt_run_cli_io(args, NULL, stdin_path, NULL, &out, &err);
    if (rc != code)
        fail_msg("plurigrid %s %s: exit %d (-1 is a crash), expected %d; stderr: %s", args[0],
                 args[1] ? args[1] : "", rc, code, err);
    for (; needles && *needles; needles++)
        if (!strstr(err, *needles))
            fail_msg("plurigrid %s %s: standard error '%s' does not mention '%s'", args[0],
                     args[1] ? args[1] : "", err, *needles);
    free(out);
    free(err);
}
