/*
 * test_store_lock: store/lock — while one process holds an archive
 * folder's lock, another (a forked child) is refused at once with the
 * holder's pid, or with wait = 1 blocks until the holder lets go; after a
 * release the lock can be taken again, and the lock file stays.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "table.h"
#include "store/lock.h"
#include "util/fileio.h"

static char dir[] = "/tmp/imgvault-test-lock.XXXXXX";

/* Run fn(arg) in a child; its exit status (0 = the child's checks held). */
static int in_child(int (*fn)(const void *), const void *arg)
{
	pid_t pid = fork();
	int status;

	if (pid == 0)
		_exit(fn(arg));
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* In the child: refused at once, with the message naming the folder and *pid. */
static int refused_with_pid(const void *arg)
{
	struct store_lock l = STORE_LOCK_INIT;
	struct strbuf err = STRBUF_INIT, want = STRBUF_INIT;

	strbuf_addf(&want, "archive folder '%s' is in use by another imgvault (pid %ld); "
		    "wait for it or stop it", dir, *(const long *)arg);
	if (lock_acquire(&l, dir, 0, &err) != LOCK_BUSY || l.fd != -1) {
		fprintf(stderr, "child: not refused: %s\n", strbuf_str(&err));
		return 1;
	}
	if (strcmp(strbuf_str(&err), want.buf)) {
		fprintf(stderr, "child: got \"%s\"\n want \"%s\"\n", strbuf_str(&err), want.buf);
		return 2;
	}
	return 0;
}

/* In the child: the lock is free. */
static int acquires(const void *arg)
{
	struct store_lock l = STORE_LOCK_INIT;
	struct strbuf err = STRBUF_INIT;

	(void)arg;
	if (lock_acquire(&l, dir, 0, &err) != LOCK_OK) {
		fprintf(stderr, "child: %s\n", strbuf_str(&err));
		return 1;
	}
	lock_release(&l);
	return 0;
}

static void lock_file_text(struct strbuf *out)
{
	struct strbuf path = STRBUF_INIT, err = STRBUF_INIT;

	strbuf_addf(&path, "%s/" LOCK_FILE_NAME, dir);
	assert_int_equal(file_read_all(path.buf, 1024, out, &err), FILEIO_OK);
	strbuf_release(&path);
	strbuf_release(&err);
}

static void second_run_is_refused_with_the_holders_pid(void **state)
{
	struct store_lock l = STORE_LOCK_INIT;
	struct strbuf err = STRBUF_INIT, text = STRBUF_INIT, want = STRBUF_INIT;
	long me = (long)getpid();

	(void)state;
	assert_int_equal(lock_acquire(&l, dir, 0, &err), LOCK_OK);
	assert_true(l.fd >= 0);
	lock_file_text(&text);
	strbuf_addf(&want, "%ld\n", me);
	assert_string_equal(text.buf, want.buf);
	assert_int_equal(in_child(refused_with_pid, &me), 0);
	lock_release(&l);
	assert_int_equal(l.fd, -1);
	lock_release(&l);	/* a second release is a no-op */
	assert_int_equal(in_child(acquires, NULL), 0);
	/* The file stays, with no pid in it. */
	lock_file_text(&text);
	assert_int_equal(text.len, 0);
	strbuf_release(&err);
	strbuf_release(&text);
	strbuf_release(&want);
}

/*
 * In the child: wait for the lock, then exit 0. The child first closes its
 * copy of the parent's descriptor: a flock belongs to the open file, so
 * that copy would hold the lock after the parent released it.
 */
static int waits(const void *arg)
{
	struct store_lock l = STORE_LOCK_INIT;
	struct strbuf err = STRBUF_INIT;

	close(*(const int *)arg);
	if (lock_acquire(&l, dir, 1, &err) != LOCK_OK)
		return 1;
	lock_release(&l);
	return 0;
}

static void waiting_run_blocks_until_release(void **state)
{
	struct store_lock l = STORE_LOCK_INIT;
	struct strbuf err = STRBUF_INIT;
	struct timespec pause = { 0, 200 * 1000 * 1000 };
	pid_t pid;
	int status;

	(void)state;
	assert_int_equal(lock_acquire(&l, dir, 0, &err), LOCK_OK);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(waits(&l.fd));
	nanosleep(&pause, NULL);
	assert_int_equal(waitpid(pid, &status, WNOHANG), 0);	/* still waiting */
	lock_release(&l);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	strbuf_release(&err);
}

static void same_process_twice_is_refused(void **state)
{
	struct store_lock a = STORE_LOCK_INIT, b = STORE_LOCK_INIT;
	struct strbuf err = STRBUF_INIT;

	(void)state;
	assert_int_equal(lock_acquire(&a, dir, 0, &err), LOCK_OK);
	assert_int_equal(lock_acquire(&b, dir, 0, &err), LOCK_BUSY);
	lock_release(&a);
	strbuf_reset(&err);
	assert_int_equal(lock_acquire(&b, dir, 0, &err), LOCK_OK);
	lock_release(&b);
	strbuf_release(&err);
}

static void missing_folder_is_an_error(void **state)
{
	struct store_lock l = STORE_LOCK_INIT;
	struct strbuf err = STRBUF_INIT, path = STRBUF_INIT;

	(void)state;
	strbuf_addf(&path, "%s/none", dir);
	assert_int_equal(lock_acquire(&l, path.buf, 0, &err), LOCK_ERROR);
	assert_int_equal(l.fd, -1);
	assert_non_null(strstr(strbuf_str(&err), "cannot open lock file .imgvault.lock"));
	assert_non_null(strstr(strbuf_str(&err), path.buf));
	strbuf_release(&err);
	strbuf_release(&path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(second_run_is_refused_with_the_holders_pid),
		cmocka_unit_test(waiting_run_blocks_until_release),
		cmocka_unit_test(same_process_twice_is_refused),
		cmocka_unit_test(missing_folder_is_an_error),
	};
	struct strbuf path = STRBUF_INIT;
	int failed;

	if (!mkdtemp(dir))
		return 1;
	failed = cmocka_run_group_tests_name("store lock", tests, NULL, NULL);
	strbuf_addf(&path, "%s/" LOCK_FILE_NAME, dir);
	unlink(path.buf);
	rmdir(dir);
	strbuf_release(&path);
	return failed;
}
