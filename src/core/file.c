/* Reading inputs with a bound and writing outputs atomically: the one place where plurigrid
 * opens files for its formats, reports and plots, so that /dev/zero, a FIFO, a folder, a full
 * disk or /dev/full get the same clear answer from every command. */
#define _GNU_SOURCE /* O_CLOEXEC in fdopen's mode, realpath */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/file.h"
#include "core/util.h"
#include "plurigrid/core.h"

static int fail(pg_error *err, int code, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
fail(pg_error *err, int code, const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pg_error_vset(err, code, fmt, ap);
    va_end(ap);
    pg_error_at(err, name, 0, 0, "");
    return code;
}

/* What a file is, in words, for messages about the wrong kind of file. */
static const char *
kind_of(mode_t m)
{
    if (S_ISDIR(m))
        return "a folder, not a file";
    if (S_ISCHR(m) || S_ISBLK(m))
        return "a device, not a file";
    if (S_ISSOCK(m))
        return "a socket, not a file";
    return "not a regular file";
}

/* A named FIFO opened without blocking: waits at most PG_INPUT_FIFO_WAIT_S for data (or a writer
 * that comes and goes), so that a FIFO no program writes to is an error rather than a hang. When
 * the wait runs out, one read tells a writer that is there but slow (EAGAIN: read on, without a
 * limit) from none at all (0 bytes). What that read gets is stored in buf; *n is its length. */
static int
wait_for_writer(int fd, char *buf, size_t cap, size_t *n, const char *name, pg_error *err)
{
    struct pollfd p = {fd, POLLIN, 0};
    int pr;
    do
        pr = poll(&p, 1, PG_INPUT_FIFO_WAIT_S * 1000);
    while (pr < 0 && errno == EINTR);
    if (pr != 0)
        return PG_OK;
    ssize_t got = read(fd, buf, cap);
    if (got > 0)
        *n = (size_t)got;
    else if (got == 0)
        return fail(err, PG_EIO, name,
                    "it is a FIFO (named pipe) and no program opened it for writing within %d "
                    "seconds; write into it from another program, or give a regular file",
                    PG_INPUT_FIFO_WAIT_S);
    else if (errno != EAGAIN)
        return fail(err, PG_EIO, name, "cannot read the file: %s", strerror(errno));
    return PG_OK;
}

int
pg_input_read(const char *path, size_t max, char **data, size_t *len, pg_error *err)
{
    if (!path || !data || !len)
        return pg_error_set(err, PG_EINVAL, "pg_input_read: NULL argument");
    if (max == 0)
        max = PG_INPUT_MAX;
    bool std = strcmp(path, "-") == 0;
    const char *name = std ? "standard input" : path;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer here (see wait_for_writer). */
    int fd = std ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return fail(err, PG_EIO, name, "cannot read the file: %s", strerror(errno));
    int rc = PG_OK;
    char *buf = NULL;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = fail(err, PG_EIO, name, "cannot read the file: %s", strerror(errno));
        goto out;
    }
    /* A terminal is allowed for standard input (typing a file, ended by Ctrl-D). */
    if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode) && !(std && isatty(fd))) {
        rc = fail(err, PG_EIO, name, "cannot read it: it is %s", kind_of(st.st_mode));
        goto out;
    }
    if (S_ISREG(st.st_mode) && (unsigned long long)st.st_size > max) {
        rc = fail(err, PG_ELIMIT, name,
                  "the file is %lld bytes, more than the %zu bytes (%zu MiB) plurigrid reads",
                  (long long)st.st_size, max, max >> 20);
        goto out;
    }
    /* Regular files: one right-sized block. Pipes: grow as data comes, up to max + 1. */
    size_t cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 65536;
    if (cap > max + 1)
        cap = max + 1;
    size_t n = 0;
    buf = malloc(cap + 1);
    if (!buf) {
        rc = fail(err, PG_ENOMEM, name, "out of memory reading the file");
        goto out;
    }
    if (!std) {
        if (S_ISFIFO(st.st_mode) && (rc = wait_for_writer(fd, buf, cap, &n, name, err)))
            goto out;
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
            rc = fail(err, PG_EIO, name, "cannot read the file: %s", strerror(errno));
            goto out;
        }
    }
    for (;;) {
        if (n == cap) {
            if (cap > max) /* read max + 1 bytes: too long */
                break;
            size_t nc = cap > max / 2 ? max + 1 : cap * 2;
            char *nb = realloc(buf, nc + 1);
            if (!nb) {
                rc = fail(err, PG_ENOMEM, name, "out of memory reading the file");
                goto out;
            }
            buf = nb;
            cap = nc;
        }
        ssize_t got = read(fd, buf + n, cap - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            rc = fail(err, PG_EIO, name, "cannot read the file: %s", strerror(errno));
            goto out;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    if (n > max) {
        rc = fail(err, PG_ELIMIT, name,
                  "the input is longer than the %zu bytes (%zu MiB) plurigrid reads", max,
                  max >> 20);
        goto out;
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    buf = NULL;
out:
    free(buf);
    if (!std)
        close(fd);
    return rc;
}

struct pg_output {
    FILE *f;
    char *path; /* the destination as given */
    char *tmp;  /* the temporary file renamed over it; NULL when written in place */
    bool std;   /* standard output */
};

/* mode: the temporary file's mode when created (the umask applies), or -1 for 0666 keeping a
 * replaced file's mode. */
static int
output_open(pg_output **out, const char *path, int mode, pg_error *err)
{
    if (!out || !path || !path[0])
        return pg_error_set(err, PG_EINVAL, "pg_output_open: no path");
    pg_output *o = calloc(1, sizeof *o);
    if (!o || !(o->path = pgi_strdup(path))) {
        free(o);
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    }
    int rc = PG_OK;
    struct stat st;
    if (strcmp(path, "-") == 0) {
        o->std = true;
        o->f = stdout;
        goto done;
    }
    bool exists = stat(path, &st) == 0;
    if (exists && S_ISDIR(st.st_mode)) {
        rc = fail(err, PG_EIO, path, "cannot write it: it is a folder, not a file");
        goto done;
    }
    if (exists && !S_ISREG(st.st_mode)) {
        /* /dev/null, /dev/full, a FIFO, a terminal: not replaceable, written in place. */
        o->f = fopen(path, "w");
        if (!o->f)
            rc = fail(err, PG_EIO, path, "cannot open it for writing: %s", strerror(errno));
        goto done;
    }
    /* A symbolic link to a file: replace the file it points to, keep the link. */
    char *real = realpath(path, NULL);
    const char *target = real ? real : path;
    const char *slash = strrchr(target, '/');
    int dir = slash ? (int)(slash - target) + 1 : 0;
    size_t tl = strlen(target) + 48;
    o->tmp = malloc(tl);
    if (!o->tmp) {
        free(real);
        rc = pg_error_set(err, PG_ENOMEM, "out of memory");
        goto done;
    }
    if (real) {
        free(o->path);
        o->path = real;
    }
    /* The temporary file is created with mode 0666 like any new file (the kernel applies the
     * umask), under a name no other writer uses (O_EXCL); a replaced file keeps its mode. A
     * private output's file has its mode (0600) from its creation. */
    static _Atomic unsigned serial;
    int fd = -1;
    for (int tries = 0; fd < 0 && tries < 100; tries++) {
        snprintf(o->tmp, tl, "%.*s.%s.%ld.%u.tmp", dir, o->path, o->path + dir, (long)getpid(),
                 serial++);
        fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode >= 0 ? (mode_t)mode : 0666);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0) {
        rc = fail(err, PG_EIO, path, "cannot create the file: %s", strerror(errno));
        free(o->tmp);
        o->tmp = NULL;
        goto done;
    }
    if (exists && mode < 0)
        (void)fchmod(fd, st.st_mode & 07777);
    o->f = fdopen(fd, "w");
    if (!o->f) {
        rc = fail(err, PG_EIO, path, "cannot create the file: %s", strerror(errno));
        close(fd);
        unlink(o->tmp);
    }
done:
    if (rc) {
        free(o->tmp);
        free(o->path);
        free(o);
        return rc;
    }
    *out = o;
    return PG_OK;
}

int
pg_output_open(pg_output **out, const char *path, pg_error *err)
{
    return output_open(out, path, -1, err);
}

int
pgi_output_open_private(pg_output **out, const char *path, pg_error *err)
{
    return output_open(out, path, 0600, err);
}

FILE *
pg_output_stream(pg_output *o)
{
    return o ? o->f : NULL;
}

int
pg_output_commit(pg_output *o, pg_error *err)
{
    if (!o)
        return pg_error_set(err, PG_EINVAL, "pg_output_commit: NULL output");
    const char *name = o->std ? "standard output" : o->path;
    int e = 0;
    if (fflush(o->f) != 0 || ferror(o->f))
        e = errno ? errno : EIO;
    if (o->std) {
        /* The caller reports this failure; clearing the flag keeps the command's final check of
         * standard output from reporting it a second time. Later failures are still seen. */
        if (e)
            clearerr(o->f);
    } else {
        if (!e && o->tmp && fsync(fileno(o->f)) != 0)
            e = errno;
        if (fclose(o->f) != 0 && !e)
            e = errno ? errno : EIO;
        if (o->tmp) {
            if (!e && rename(o->tmp, o->path) != 0)
                e = errno;
            if (e)
                unlink(o->tmp);
            else {
                /* Sync the folder so the rename itself survives a crash. */
                const char *slash = strrchr(o->path, '/');
                char *dir = slash ? strndup(o->path, (size_t)(slash - o->path) + 1) : NULL;
                int dfd = open(dir ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dfd >= 0) {
                    (void)fsync(dfd);
                    close(dfd);
                }
                free(dir);
            }
        }
    }
    int rc = PG_OK;
    if (e && o->std)
        rc = pg_error_set(err, PG_EIO, "cannot write to standard output: %s", strerror(e));
    else if (e)
        rc = fail(err, PG_EIO, name, "cannot write the file: %s%s", strerror(e),
                  o->tmp ? " (the file was left as it was)" : "");
    free(o->tmp);
    free(o->path);
    free(o);
    return rc;
}

void
pg_output_discard(pg_output *o)
{
    if (!o)
        return;
    if (o->std)
        fflush(o->f);
    else {
        fclose(o->f);
        if (o->tmp)
            unlink(o->tmp);
    }
    free(o->tmp);
    free(o->path);
    free(o);
}

int
pg_output_write(const char *path, const void *data, size_t len, pg_error *err)
{
    pg_output *o = NULL;
    int rc = pg_output_open(&o, path, err);
    if (rc)
        return rc;
    if (len && fwrite(data, 1, len, o->f) != len) {
        /* commit reports the stream's error */
    }
    return pg_output_commit(o, err);
}
