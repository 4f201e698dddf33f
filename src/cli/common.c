/* Helpers every subcommand shares: error reporting, exit codes, option values, outputs,
 * folders, the command's modules. */
#define _GNU_SOURCE /* dladdr */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"

int
pg_cli_exit_code(int status)
{
    switch (status) {
    case PG_OK: return PG_EXIT_OK;
    case PG_EINVAL:
    case PG_EIO:
    case PG_EPARSE:
    case PG_EMODEL:
    case PG_ENOTFOUND:
    case PG_EUNSUPPORTED:
    case PG_EAUTH: /* a key or credentials the user gave that may not be used */
    case PG_ELIMIT: return PG_EXIT_USAGE;
    default: return PG_EXIT_INTERNAL;
    }
}

/* Writes s to f with control characters escaped ("\x1b", "\r"), newlines kept when
 * keep_newlines; so that text from a file cannot move the cursor, retitle the terminal or
 * rewrite what was printed before. */
void
pg_cli_put_safe(FILE *f, const char *s, bool keep_newlines)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        if (c == '\n' && keep_newlines)
            putc(c, f);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c == '\r')
            fputs("\\r", f);
        else if (c == '\t')
            fputs("\\t", f);
        else if (c < 0x20 || c == 0x7f)
            fprintf(f, "\\x%02x", c);
        else if (c == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
            /* a C1 control character (U+0080 to U+009F) in UTF-8, such as the one-byte CSI */
            fprintf(f, "\\u%04x", p[1]);
            p++;
        } else
            putc(c, f);
    }
}

int
pg_cli_report(const char *cmd, const pg_error *err)
{
    char buf[1400];
    pg_error_format(err, buf, sizeof buf);
    fprintf(stderr, "plurigrid %s: ", cmd);
    pg_cli_put_safe(stderr, buf, false); /* messages quote names and keys from input files */
    fputc('\n', stderr);
    return pg_cli_exit_code(err ? err->code : PG_EINVAL);
}

bool
pg_cli_is_help(const char *arg)
{
    return arg && (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0);
}

bool
pg_cli_parse_double(const char *s, double *out)
{
    if (!s || !s[0])
        return false;
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || errno == ERANGE || !isfinite(v))
        return false;
    *out = v;
    return true;
}

bool
pg_cli_parse_count(const char *s, unsigned long long max, unsigned long long *out)
{
    if (!s || !s[0] || s[0] < '0' || s[0] > '9')
        return false;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || errno || v > max)
        return false;
    *out = v;
    return true;
}

int
pg_cli_count_option(const char *cmd, const char *opt, const char *s, unsigned long long lo,
                    unsigned long long hi, unsigned long long *out)
{
    unsigned long long v = 0;
    if (!s) {
        fprintf(stderr, "plurigrid %s: %s needs a whole number from %llu to %llu\n", cmd, opt, lo,
                hi);
        return -1;
    }
    if (!pg_cli_parse_count(s, ULLONG_MAX, &v) || v < lo || v > hi) {
        fprintf(stderr, "plurigrid %s: %s must be a whole number from %llu to %llu (it is '", cmd,
                opt, lo, hi);
        pg_cli_put_safe(stderr, s, false);
        fputs("')\n", stderr);
        return -1;
    }
    *out = v;
    return 0;
}

int
pg_cli_usage_error(const char *cmd, const char *what, const char *got)
{
    fprintf(stderr, "plurigrid %s: %s (got '%s')\n", cmd, what, got);
    return PG_EXIT_USAGE;
}

int
pg_cli_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "plurigrid %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nRun 'plurigrid %s --help' for the options.\n", cmd);
    va_end(ap);
    return PG_EXIT_USAGE;
}

int
pg_cli_make_dirs(const char *path)
{
    char buf[4096];
    if (!path || !path[0] || strlen(path) >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(buf, path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
        return -1;
    struct stat st;
    if (stat(buf, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

char *
pg_cli_read_stream(FILE *f, size_t max, size_t *len)
{
    size_t cap = 65536, n = 0, got;
    char *buf = malloc(cap + 1);
    while (buf && n <= max && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *nb = cap < SIZE_MAX / 4 ? realloc(buf, cap * 2 + 1) : NULL;
            if (!nb) {
                free(buf);
                errno = ENOMEM;
                return NULL;
            }
            buf = nb;
            cap *= 2;
        }
    }
    if (!buf) {
        errno = ENOMEM;
        return NULL;
    }
    if (ferror(f)) {
        free(buf);
        errno = EIO;
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

int
pg_cli_write(const char *cmd, const char *path, const char *text, size_t len)
{
    pg_error err = {0};
    if (strcmp(path, "-") == 0 && isatty(STDOUT_FILENO) && strlen(text) == len) {
        /* A terminal: names from input files are shown with their control characters escaped.
         * A file or a pipe gets the text byte for byte. */
        pg_cli_put_safe(stdout, text, true);
        if (fflush(stdout) != 0)
            return PG_EXIT_USAGE; /* main() says why when it closes standard output */
        return PG_EXIT_OK;
    }
    if (pg_output_write(path, text, len, &err) != PG_OK)
        return pg_cli_report(cmd, &err);
    return PG_EXIT_OK;
}

int
pg_cli_missing_value(const char *cmd, const char *opt, const char *what)
{
    fprintf(stderr, "plurigrid %s: %s needs %s; try 'plurigrid %s --help'\n", cmd, opt, what, cmd);
    return PG_EXIT_USAGE;
}

bool
pg_cli_same_file(const char *a, const char *b)
{
    if (!a || !b || strcmp(a, "-") == 0 || strcmp(b, "-") == 0)
        return false;
    struct stat sa, sb;
    if (stat(a, &sa) == 0 && stat(b, &sb) == 0) /* devices such as /dev/null may be shared */
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino && S_ISREG(sa.st_mode);
    return strcmp(a, b) == 0;
}

void *
pg_cli_module_open(const char *cmd, const char *module)
{
    const char *(*anchor)(void) = pg_version;
    void *addr;
    memcpy(&addr, &anchor, sizeof addr);
    Dl_info info;
    char path[4096];
    if (!dladdr(addr, &info) || !info.dli_fname || !strrchr(info.dli_fname, '/')) {
        fprintf(stderr, "plurigrid %s: cannot find the folder of libplurigrid\n", cmd);
        return NULL;
    }
    int dir = (int)(strrchr(info.dli_fname, '/') - info.dli_fname);
    if (snprintf(path, sizeof path, "%.*s/plurigrid/%s.so", dir, info.dli_fname, module) >=
        (int)sizeof path) {
        fprintf(stderr, "plurigrid %s: the path of libplurigrid is too long\n", cmd);
        return NULL;
    }
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        fprintf(stderr, "plurigrid %s: cannot load the module %s: %s\n", cmd, module, e ? e : path);
        return NULL;
    }
    return h;
}

void
pg_cli_forget(char *secret, size_t n)
{
    if (!secret)
        return;
    volatile char *p = secret;
    for (size_t i = 0; i < n; i++)
        p[i] = 0;
    free(secret);
}

int
pg_cli_read_token(const char *cmd, const char *path, char **out, size_t *out_len)
{
    char *data = NULL;
    size_t len = 0;
    pg_error err;
    pg_error_clear(&err);
    if (strcmp(path, "-") != 0) {
        struct stat st;
        if (stat(path, &st) != 0) {
            fprintf(stderr, "plurigrid %s: --token-file ", cmd);
            pg_cli_put_safe(stderr, path, false);
            fprintf(stderr, ": cannot read it: %s\n", strerror(errno));
            return PG_EXIT_USAGE;
        }
        if ((S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode)) && (st.st_mode & 077)) {
            fprintf(stderr, "plurigrid %s: --token-file ", cmd);
            pg_cli_put_safe(stderr, path, false);
            fprintf(stderr,
                    " may be %s by others than its owner (mode %04o): a token must be private; "
                    "make it so with `chmod 600 FILE`\n",
                    (st.st_mode & 022) ? "written" : "read", (unsigned)(st.st_mode & 07777));
            return PG_EXIT_USAGE;
        }
    }
    if (pg_input_read(path, PG_CLI_TOKEN_FILE_MAX, &data, &len, &err) != PG_OK) {
        fprintf(stderr, "plurigrid %s: --token-file: ", cmd);
        char buf[1400];
        pg_cli_put_safe(stderr, pg_error_format(&err, buf, sizeof buf), false);
        fputc('\n', stderr);
        return PG_EXIT_USAGE;
    }
    if (len && data[len - 1] == '\n')
        len--;
    if (len && data[len - 1] == '\r')
        len--;
    data[len] = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)data[i];
        if (c <= 0x20 || c >= 0x7f) {
            fprintf(stderr, "plurigrid %s: --token-file ", cmd);
            pg_cli_put_safe(stderr, path, false);
            fprintf(stderr,
                    ": the token must be one line of printable characters without spaces "
                    "(character %zu is not)\n",
                    i + 1);
            pg_cli_forget(data, len);
            return PG_EXIT_USAGE;
        }
    }
    if (len < PG_CLI_TOKEN_MIN) {
        fprintf(stderr, "plurigrid %s: --token-file ", cmd);
        pg_cli_put_safe(stderr, path, false);
        fprintf(stderr,
                ": the token has %zu characters; it needs %d or more (e.g. `head -c 24 "
                "/dev/urandom | base64 > FILE`)\n",
                len, PG_CLI_TOKEN_MIN);
        pg_cli_forget(data, len);
        return PG_EXIT_USAGE;
    }
    *out = data;
    *out_len = len;
    return PG_EXIT_OK;
}

int
pg_cli_subcommands(const char *cmd, const pg_cli_subcommand *sub, size_t n, void (*usage)(FILE *f),
                   const char *names, int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        fprintf(stderr, "\nplurigrid %s: a subcommand is needed (%s)\n", cmd, names);
        return PG_EXIT_USAGE;
    }
    if (pg_cli_is_help(argv[1])) {
        usage(stdout);
        return PG_EXIT_OK;
    }
    const char *name = argv[1];
    bool help = strcmp(name, "help") == 0;
    if (help) {
        if (argc < 3) {
            usage(stdout);
            return PG_EXIT_OK;
        }
        name = argv[2];
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(sub[i].name, name) != 0)
            continue;
        if (help) {
            sub[i].help(stdout);
            return PG_EXIT_OK;
        }
        return sub[i].run(argc - 1, argv + 1);
    }
    fprintf(stderr, "plurigrid %s: unknown subcommand '", cmd);
    pg_cli_put_safe(stderr, name, false);
    fprintf(stderr, "'; the subcommands are %s (plurigrid %s --help)\n", names, cmd);
    return PG_EXIT_USAGE;
}
