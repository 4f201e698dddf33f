/* Child processes for the wabt tools and the C compiler, and private temporary folders (tool.h).
 * The tool's output is read through a pipe while it runs, so a chatty compiler cannot block on a
 * full pipe; only the first 64 KiB are kept. The deadline is checked while waiting on the pipe
 * and then on the exit; past it the whole process group is killed and reaped. */
#define _GNU_SOURCE
#include "wasm/tool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"

extern char **environ;

#define OUTPUT_KEEP (64u << 10)

/* The start of a tool's output for an error message: at most n bytes, up to a line's end, with
 * control bytes other than newlines shown as '?'. */
static void
output_excerpt(const char *out, size_t len, char *buf, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < len && k + 1 < n; i++) {
        unsigned char ch = (unsigned char)out[i];
        buf[k++] = (ch == '\n' || ch == '\t' || (ch >= 0x20 && ch != 0x7f)) ? (char)ch : '?';
    }
    while (k > 0 && (buf[k - 1] == '\n' || buf[k - 1] == ' '))
        k--;
    buf[k] = '\0';
}

static void
sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

int
pgi_wasm_tool_run(const char *const *argv, const char *package, double timeout_s, char **output,
                  pg_error *err)
{
    int rc = PG_OK;
    int pipefd[2] = {-1, -1};
    pid_t pid = -1;
    int spawned = 0, reaped = 0, killed = 0, status = 0;
    pgi_buf out = {0};
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    int fa_ok = 0, attr_ok = 0;
    const char *tool = argv[0];
    if (timeout_s <= 0)
        timeout_s = PGI_WASM_TOOL_TIMEOUT_S;

    if (pipe2(pipefd, O_CLOEXEC) != 0) {
        rc = pg_error_set(err, PG_EIO, "cannot run %s: cannot make a pipe: %s", tool,
                          strerror(errno));
        goto out;
    }
    if (posix_spawn_file_actions_init(&fa) != 0) {
        rc = pg_error_set(err, PG_ENOMEM, "cannot run %s: out of memory", tool);
        goto out;
    }
    fa_ok = 1;
    if (posix_spawnattr_init(&attr) != 0) {
        rc = pg_error_set(err, PG_ENOMEM, "cannot run %s: out of memory", tool);
        goto out;
    }
    attr_ok = 1;
    sigset_t none, dflt;
    sigemptyset(&none);
    sigemptyset(&dflt);
    sigaddset(&dflt, SIGPIPE);
    sigaddset(&dflt, SIGINT);
    sigaddset(&dflt, SIGTERM);
    sigaddset(&dflt, SIGCHLD);
    if (posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0) != 0 ||
        posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1) != 0 ||
        posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2) != 0 ||
        posix_spawnattr_setpgroup(&attr, 0) != 0 || posix_spawnattr_setsigmask(&attr, &none) != 0 ||
        posix_spawnattr_setsigdefault(&attr, &dflt) != 0 ||
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                            POSIX_SPAWN_SETSIGDEF) != 0) {
        rc = pg_error_set(err, PG_ENOMEM, "cannot run %s: out of memory", tool);
        goto out;
    }
    int e = posix_spawnp(&pid, tool, &fa, &attr, (char *const *)argv, environ);
    if (e != 0) {
        if (e == ENOENT)
            rc = pg_error_set(err, PG_ENOTFOUND,
                              "%s was not found on PATH: install Debian's package %s "
                              "(apt-get install %s)",
                              tool, package, package);
        else
            rc = pg_error_set(err, PG_EIO, "cannot run %s: %s", tool, strerror(e));
        goto out;
    }
    spawned = 1;
    close(pipefd[1]);
    pipefd[1] = -1;

    double deadline = pgi_now() + timeout_s;
    char chunk[4096];
    for (;;) {
        double left = deadline - pgi_now();
        if (left <= 0) {
            killed = 1;
            break;
        }
        struct pollfd pfd = {.fd = pipefd[0], .events = POLLIN};
        int ms = left > 1.0 ? 1000 : (int)(left * 1000) + 1;
        int pr = poll(&pfd, 1, ms);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr < 0) {
            killed = 1; /* cannot wait on it: stop it */
            break;
        }
        if (pr == 0)
            continue;
        ssize_t n = read(pipefd[0], chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* end of output: every writer closed it */
        if (out.len < OUTPUT_KEEP)
            pgi_buf_append(&out, chunk,
                           (size_t)n < OUTPUT_KEEP - out.len ? (size_t)n : OUTPUT_KEEP - out.len);
    }
    /* the output is closed; wait for the exit, still against the deadline */
    while (!killed) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) {
            reaped = 1;
            break;
        }
        if (w < 0 && errno != EINTR) {
            killed = 1;
            break;
        }
        if (pgi_now() >= deadline) {
            killed = 1;
            break;
        }
        sleep_ms(5);
    }
    if (killed) {
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
    }
    if (!reaped) {
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        reaped = 1;
    }
    if (out.failed) {
        rc = pg_error_set(err, PG_ENOMEM, "%s: out of memory keeping its output", tool);
        goto out;
    }
    char excerpt[560];
    output_excerpt(out.data ? out.data : "", out.len, excerpt, sizeof excerpt);
    if (killed)
        rc = pg_error_set(err, PG_ELIMIT, "%s did not finish within %g s and was stopped%s%s", tool,
                          timeout_s, excerpt[0] ? ": " : "", excerpt);
    else if (WIFSIGNALED(status))
        rc =
            pg_error_set(err, PG_EIO, "%s was killed by signal %d (%s)%s%s", tool, WTERMSIG(status),
                         strsignal(WTERMSIG(status)), excerpt[0] ? ": " : "", excerpt);
    else if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && out.len == 0)
        rc = pg_error_set(err, PG_ENOTFOUND, "%s could not be started: install Debian's package %s",
                          tool, package);
    else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        rc = pg_error_set(err, PG_EIO, "%s failed (exit status %d)%s%s", tool,
                          WIFEXITED(status) ? WEXITSTATUS(status) : -1, excerpt[0] ? ": " : "",
                          excerpt);
out:
    if (spawned && !reaped) {
        kill(-pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
    }
    if (pipefd[0] >= 0)
        close(pipefd[0]);
    if (pipefd[1] >= 0)
        close(pipefd[1]);
    if (fa_ok)
        posix_spawn_file_actions_destroy(&fa);
    if (attr_ok)
        posix_spawnattr_destroy(&attr);
    if (output && !out.failed) {
        *output = out.data ? out.data : pgi_strdup("");
        out.data = NULL;
    }
    pgi_buf_free(&out);
    return rc;
}

int
pgi_wasm_tmpdir_make(char **dir, pg_error *err)
{
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    pgi_buf b = {0};
    /* a relative base is made to start with "./": the folder's files are given to the tools
     * as arguments, and one starting with '-' would be read as an option */
    pgi_buf_printf(&b, "%s%s/plurigrid-wasm-XXXXXX", base[0] == '/' ? "" : "./", base);
    if (b.failed) {
        pgi_buf_free(&b);
        return pg_error_set(err, PG_ENOMEM, "out of memory");
    }
    if (!mkdtemp(b.data)) {
        int e = errno;
        int rc = pg_error_set(err, PG_EIO, "cannot make a temporary folder in %s: %s", base,
                              strerror(e));
        pgi_buf_free(&b);
        return rc;
    }
    *dir = b.data;
    return PG_OK;
}

void
pgi_wasm_tmpdir_remove(const char *dir)
{
    if (!dir)
        return;
    DIR *d = opendir(dir);
    if (d) {
        int fd = dirfd(d);
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            unlinkat(fd, de->d_name, 0);
        }
        closedir(d);
    }
    rmdir(dir);
}

char *
pgi_wasm_tmpdir_file(const char *dir, const char *name)
{
    pgi_buf b = {0};
    pgi_buf_printf(&b, "%s/%s", dir, name);
    if (b.failed) {
        pgi_buf_free(&b);
        return NULL;
    }
    return b.data;
}
