/* Reading inputs with a bound and writing outputs whole: every reader and writer of plurigrid goes
 * through pg_input_read and pg_output_*, so these are the cases that must hold everywhere: a
 * folder, a device, an endless stream, a FIFO, a file over the limit, a full disk, /dev/full. */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/file.h"
#include "plurigrid/core.h"

static void
test_read_regular_and_limits(void **state)
{
    (void)state;
    char path[4200];
    snprintf(path, sizeof path, "%s/in.txt", pgt_tmpdir());
    pgt_write(path, "hello, grid");
    char *data = NULL;
    size_t len = 0;
    pg_error err = {0};
    assert_int_equal(pg_input_read(path, 0, &data, &len, &err), PG_OK);
    assert_int_equal(len, 11);
    assert_string_equal(data, "hello, grid");
    free(data);
    /* exactly at the limit is fine, one byte over is not, and says how much is allowed */
    data = NULL;
    assert_int_equal(pg_input_read(path, 11, &data, &len, &err), PG_OK);
    free(data);
    data = NULL;
    assert_int_equal(pg_input_read(path, 10, &data, &len, &err), PG_ELIMIT);
    assert_null(data);
    assert_string_equal(err.file, path);
    assert_non_null(strstr(err.msg, "11 bytes, more than the 10 bytes"));
    /* an empty file is read as empty text */
    pgt_write(path, "");
    assert_int_equal(pg_input_read(path, 0, &data, &len, &err), PG_OK);
    assert_int_equal(len, 0);
    assert_string_equal(data, "");
    free(data);
    pgt_tmpdir_cleanup();
}

static void
test_read_refuses(void **state)
{
    (void)state;
    char *data = NULL;
    size_t len = 0;
    pg_error err = {0};
    /* a folder, a device that never ends, a missing file: exit-2 errors that name the file */
    assert_int_equal(pg_input_read(pgt_tmpdir(), 0, &data, &len, &err), PG_EIO);
    assert_string_equal(err.file, pgt_tmpdir());
    assert_non_null(strstr(err.msg, "a folder, not a file"));
    pg_error_clear(&err);
    assert_int_equal(pg_input_read("/dev/zero", 0, &data, &len, &err), PG_EIO);
    assert_non_null(strstr(err.msg, "a device, not a file"));
    pg_error_clear(&err);
    assert_int_equal(pg_input_read("/nonexistent/x.json", 0, &data, &len, &err), PG_EIO);
    assert_non_null(strstr(err.msg, "No such file or directory"));
    assert_null(data);
    pgt_tmpdir_cleanup();
}

/* Feeds n bytes of 'x' into a FIFO from a child process. */
static pid_t
feed_fifo(const char *path, size_t n)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGPIPE, SIG_DFL);
        int fd = open(path, O_WRONLY);
        char buf[4096];
        memset(buf, 'x', sizeof buf);
        while (fd >= 0 && n > 0) {
            size_t k = n < sizeof buf ? n : sizeof buf;
            if (write(fd, buf, k) < 0)
                _exit(1);
            n -= k;
        }
        _exit(0);
    }
    return pid;
}

static void
test_read_fifo_once_and_bounded(void **state)
{
    (void)state;
    char path[4200];
    snprintf(path, sizeof path, "%s/fifo", pgt_tmpdir());
    assert_int_equal(mkfifo(path, 0600), 0);
    char *data = NULL;
    size_t len = 0;
    pg_error err = {0};
    pid_t pid = feed_fifo(path, 100000);
    assert_int_equal(pg_input_read(path, 0, &data, &len, &err), PG_OK);
    assert_int_equal(len, 100000);
    assert_int_equal(data[99999], 'x');
    free(data);
    waitpid(pid, NULL, 0);
    /* a stream longer than the limit stops at the limit: it is never read to its end */
    pid = feed_fifo(path, 10u << 20);
    data = NULL;
    assert_int_equal(pg_input_read(path, 1u << 20, &data, &len, &err), PG_ELIMIT);
    assert_null(data);
    assert_non_null(strstr(err.msg, "longer than the 1048576 bytes (1 MiB)"));
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    /* a FIFO no program opens for writing: an error after a bounded wait, not a hang */
    data = NULL;
    assert_int_equal(pg_input_read(path, 0, &data, &len, &err), PG_EIO);
    assert_null(data);
    assert_non_null(strstr(err.msg, "no program opened it for writing within 30 seconds"));
    pgt_tmpdir_cleanup();
}

static void
test_output_atomic(void **state)
{
    (void)state;
    char path[4200], link[4300];
    snprintf(path, sizeof path, "%s/out.json", pgt_tmpdir());
    pg_error err = {0};
    assert_int_equal(pg_output_write(path, "{\"v\": 1}\n", 9, &err), PG_OK);
    size_t len = 0;
    char *got = pgt_slurp(path, &len);
    assert_string_equal(got, "{\"v\": 1}\n");
    free(got);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    mode_t um = umask(0);
    umask(um);
    assert_int_equal(st.st_mode & 0777, 0666 & ~um); /* as a new file, not mkstemp's 0600 */
    /* a discarded output leaves the old file and no temporary file behind */
    pg_output *o = NULL;
    assert_int_equal(pg_output_open(&o, path, &err), PG_OK);
    fputs("half a fi", pg_output_stream(o));
    pg_output_discard(o);
    got = pgt_slurp(path, &len);
    assert_string_equal(got, "{\"v\": 1}\n");
    free(got);
    /* through a symbolic link: the file it points to is replaced, the link stays */
    snprintf(link, sizeof link, "%s/link.json", pgt_tmpdir());
    assert_int_equal(symlink(path, link), 0);
    assert_int_equal(pg_output_write(link, "2\n", 2, &err), PG_OK);
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    got = pgt_slurp(path, &len);
    assert_string_equal(got, "2\n");
    free(got);
    /* a folder is refused */
    assert_int_equal(pg_output_write(pgt_tmpdir(), "x", 1, &err), PG_EIO);
    assert_non_null(strstr(err.msg, "folder"));
    pgt_tmpdir_cleanup();
}

static void
test_output_full_disk_keeps_old_file(void **state)
{
    (void)state;
    const char *dir = pgt_full_disk_begin(64 * 1024);
    char path[4200];
    snprintf(path, sizeof path, "%s/result.json", dir);
    pg_error err = {0};
    assert_int_equal(pg_output_write(path, "old\n", 4, &err), PG_OK);
    size_t big = 1u << 20;
    char *text = malloc(big);
    assert_non_null(text);
    memset(text, 'y', big);
    assert_int_equal(pg_output_write(path, text, big, &err), PG_EIO);
    assert_string_equal(err.file, path);
    assert_non_null(strstr(err.msg, "the file was left as it was"));
    free(text);
    size_t len = 0;
    char *got = pgt_slurp(path, &len);
    assert_string_equal(got, "old\n");
    free(got);
    pgt_full_disk_end();
    pgt_tmpdir_cleanup();
}

static void
test_output_dev_full(void **state)
{
    (void)state;
    pg_error err = {0};
    /* /dev/full is written in place (never replaced by a rename) and the error is reported */
    assert_int_equal(pg_output_write("/dev/full", "x\n", 2, &err), PG_EIO);
    assert_string_equal(err.file, "/dev/full");
    assert_non_null(strstr(err.msg, "No space left on device"));
    struct stat st;
    assert_int_equal(stat("/dev/full", &st), 0);
    assert_true(S_ISCHR(st.st_mode));
    assert_int_equal(pg_output_write("/dev/null", "x\n", 2, &err), PG_OK);
}

/* Every allocation of a read and of a write may fail: the call says so and leaks nothing. */
static void
test_allocation_failures(void **state)
{
    (void)state;
    char path[4200];
    snprintf(path, sizeof path, "%s/a.txt", pgt_tmpdir());
    pgt_write(path, "abc");
    char *data = NULL;
    size_t len = 0;
    pg_error err = {0};
    pgt_alloc_fail_after(LONG_MAX);
    assert_int_equal(pg_input_read(path, 0, &data, &len, &err), PG_OK);
    assert_int_equal(pg_output_write(path, "xyz", 3, &err), PG_OK);
    long n = pgt_alloc_count();
    pgt_alloc_fail_after(-1);
    free(data);
    assert_true(n >= 3);
    for (long k = 0; k < n; k++) {
        data = NULL;
        pgt_alloc_fail_after(k);
        int a = pg_input_read(path, 0, &data, &len, &err);
        int b = pg_output_write(path, "xyz", 3, &err);
        pgt_alloc_fail_after(-1);
        assert_true(a == PG_OK || a == PG_ENOMEM);
        assert_true(b == PG_OK || b == PG_ENOMEM || b == PG_EIO);
        assert_true(a != PG_OK || b != PG_OK); /* the k-th allocation failed somewhere */
        free(data);
    }
    size_t l = 0;
    char *got = pgt_slurp(path, &l);
    assert_string_equal(got, "xyz");
    free(got);
    pgt_tmpdir_cleanup();
}

/* The mode of the one temporary file (".tmp") in dir while it is being written. */
static mode_t
tmp_mode(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    mode_t m = 0;
    int found = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n > 4 && strcmp(e->d_name + n - 4, ".tmp") == 0) {
            char p[4600];
            snprintf(p, sizeof p, "%.4200s/%.255s", dir, e->d_name);
            struct stat st;
            assert_int_equal(stat(p, &st), 0);
            m = st.st_mode & 07777;
            found++;
        }
    }
    closedir(d);
    assert_int_equal(found, 1);
    return m;
}

/* A private output (a secret key) is owner-only from the moment its temporary file exists, even
 * with a umask of 0, and the file put in place is 0600 whatever the mode of the one it replaces. */
static void
test_output_private_mode(void **state)
{
    (void)state;
    char dir[4200], path[4300];
    snprintf(dir, sizeof dir, "%s/private", pgt_tmpdir());
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(path, sizeof path, "%s/secret", dir);
    mode_t old = umask(0);
    for (int replace = 0; replace < 2; replace++) {
        if (replace) {
            pgt_write(path, "old");
            assert_int_equal(chmod(path, 0644), 0);
        }
        pg_output *o = NULL;
        assert_int_equal(pgi_output_open_private(&o, path, NULL), PG_OK);
        assert_int_equal(tmp_mode(dir), 0600);
        fputs("seed", pg_output_stream(o));
        assert_int_equal(pg_output_commit(o, NULL), PG_OK);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
    }
    /* An ordinary output keeps the mode of the file it replaces. */
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(pg_output_write(path, "x", 1, NULL), PG_OK);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0644);
    umask(old);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_regular_and_limits),
        cmocka_unit_test(test_read_refuses),
        cmocka_unit_test(test_read_fifo_once_and_bounded),
        cmocka_unit_test(test_output_atomic),
        cmocka_unit_test(test_output_full_disk_keeps_old_file),
        cmocka_unit_test(test_output_dev_full),
        cmocka_unit_test(test_allocation_failures),
        cmocka_unit_test(test_output_private_mode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
