/*
 * failshim: an LD_PRELOAD library that makes the Nth call of one kind fail,
 * for the fault-injection test (tests/e2e/t80-faults.sh). Built by that
 * script:  cc -shared -fPIC -O1 -o failshim.so tests/fault/failshim.c -ldl
 *
 *   FAILSHIM_CALL=KIND   write  (write, writev, pwrite, pwrite64, pwritev)
 *                        fsync  (fsync, fdatasync)
 *                        rename (rename, renameat, renameat2)
 *                        open   (open, open64, openat, openat64, creat, creat64)
 *                        malloc (malloc, calloc, realloc, posix_memalign,
 *                                aligned_alloc, memalign)
 *   FAILSHIM_N=N         fail the Nth counted call (1-based); 0 or unset:
 *                        fail none, only count
 *   FAILSHIM_ERRNO=E     errno of the failure: a name (EIO, ENOSPC, EDQUOT,
 *                        EACCES, EROFS, EMFILE, ENOMEM, EPERM) or a number;
 *                        default EIO (malloc always fails with ENOMEM)
 *   FAILSHIM_PATH=DIR    only calls on things under DIR count (required for
 *                        every kind but malloc): open and rename of regular
 *                        files and folders (or of a name that does not exist
 *                        yet), write and fsync on descriptors of regular
 *                        files (fsync: and folders) -- never sockets, pipes
 *                        or terminals, so the engine's socket and stdout are
 *                        never hit. malloc counts every call.
 *   FAILSHIM_COUNT_FILE=F  at exit, write the number of counted calls to F
 *   FAILSHIM_LOG=F       append one line per injected failure to F, with a
 *                        backtrace (binary(+offset), for addr2line); for
 *                        malloc, a crash's signal and backtrace too
 *   FAILSHIM_PROG=NAME   the program under test (default imgvault): only a
 *                        process whose executable is named NAME counts, from
 *                        the moment its main() starts to the moment main
 *                        returns or exit() is called. Children it forks stop
 *                        counting at once (an atfork handler); programs they
 *                        run (ssh, make, timeout around imgvault) never start.
 *
 * Only one process counts, so N means the same thing on every run, up to
 * the order in which threads happen to make their calls.
 *
 * The real functions are found with dlsym(RTLD_NEXT) in the constructor
 * (or at a first call made before it). malloc: glibc sends its own
 * allocations through an interposed malloc, and dlsym() itself may call
 * calloc, so a per-thread guard sends anything asked for while the real
 * allocator is unknown to a static bootstrap buffer (never freed).
 */
#undef _FORTIFY_SOURCE
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <ucontext.h>
#include <unistd.h>

enum kind { K_NONE, K_WRITE, K_FSYNC, K_RENAME, K_OPEN, K_MALLOC };

static const char *const kind_names[] = { "none", "write", "fsync", "rename", "open",
					  "malloc" };

static enum kind want_kind;		/* the kind counted here */
static long fail_at;			/* the call to fail; 0 = none */
static int fail_errno = EIO;
static atomic_long counted;
static atomic_int active;		/* this process counts, main() is running */
static int is_target;			/* this process is FAILSHIM_PROG */
static char prefix[PATH_MAX];
static size_t prefix_len;
static char count_file[PATH_MAX];
static char log_file[PATH_MAX];
static int want_backtrace;

/* Set while the shim itself runs, so its own allocations and I/O never count. */
static __thread int in_shim __attribute__((tls_model("initial-exec")));

/* ---- the real functions ----------------------------------------------- */

static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off64_t);
static ssize_t (*real_pwritev)(int, const struct iovec *, int, off_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_rename)(const char *, const char *);
static int (*real_renameat)(int, const char *, int, const char *);
static int (*real_renameat2)(int, const char *, int, const char *, unsigned int);
static int (*real_open)(const char *, int, ...);
static int (*real_open64)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_openat64)(int, const char *, int, ...);
static int (*real_creat)(const char *, mode_t);
static int (*real_creat64)(const char *, mode_t);
static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);
static void *(*real_memalign)(size_t, size_t);
static void (*real_exit)(int);
static int (*real_pthread_create)(pthread_t *, const pthread_attr_t *, void *(*)(void *),
				  void *);

/* dlsym under the guard: a calloc it makes comes from the bootstrap buffer. */
static void *next_sym(const char *name)
{
	void *p;

	in_shim++;
	p = dlsym(RTLD_NEXT, name);
	in_shim--;
	return p;
}

#define RESOLVE(name) \
	do { \
		if (!real_##name) \
			*(void **)&real_##name = next_sym(#name); \
	} while (0)

/* ---- bootstrap allocations ------------------------------------------------ */

static _Alignas(max_align_t) unsigned char boot[256 * 1024];
static atomic_size_t boot_used;

static void *boot_alloc(size_t size, size_t align)
{
	size_t start, cur = atomic_load(&boot_used);

	if (align < _Alignof(max_align_t))
		align = _Alignof(max_align_t);
	do {
		start = (cur + align - 1) & ~(align - 1);
		if (start + size < start || start + size > sizeof(boot))
			return NULL;
	} while (!atomic_compare_exchange_weak(&boot_used, &cur, start + size));
	return boot + start;
}

static int is_boot(const void *p)
{
	return (const unsigned char *)p >= boot && (const unsigned char *)p < boot + sizeof(boot);
}

/* ---- the decision ------------------------------------------------------- */

static void say(int fd, const char *s)
{
	size_t n = strlen(s);

	while (n) {
		ssize_t w = real_write ? real_write(fd, s, n) : (ssize_t)n;

		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void log_failure(const char *fn, long n, const char *what)
{
	char line[PATH_MAX + 128];
	void *frames[32];
	int fd, depth;

	if (!log_file[0] || !real_open)
		return;
	fd = real_open(log_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	snprintf(line, sizeof(line), "failshim: pid %ld: failing %s #%ld (%s) with errno %d\n",
		 (long)getpid(), fn, n, what ? what : "-", want_kind == K_MALLOC ? ENOMEM : fail_errno);
	say(fd, line);
	if (want_backtrace) {
		depth = backtrace(frames, 32);
		backtrace_symbols_fd(frames, depth, fd);
	}
	close(fd);
}

/*
 * Count one eligible call of kind k; 1 if it is the one to fail (errno is
 * then set), else 0.
 */
static int hit(enum kind k, const char *fn, const char *what)
{
	long n;

	if (k != want_kind || !atomic_load_explicit(&active, memory_order_relaxed) || in_shim)
		return 0;
	n = atomic_fetch_add(&counted, 1) + 1;
	if (n != fail_at)
		return 0;
	in_shim++;
	log_failure(fn, n, what);
	in_shim--;
	errno = k == K_MALLOC ? ENOMEM : fail_errno;
	return 1;
}

/* Is this kind worth a look (cheap test before any path work)? */
static int watching(enum kind k)
{
	return k == want_kind && !in_shim && atomic_load_explicit(&active, memory_order_relaxed);
}

static int under_prefix(const char *abs)
{
	return prefix_len && strncmp(abs, prefix, prefix_len) == 0 &&
	       (abs[prefix_len] == '/' || abs[prefix_len] == '\0');
}

/* The folder dirfd names (or the cwd), into buf; 0 or -1. */
static int dir_path(int dirfd, char *buf, size_t size)
{
	char link[64];
	ssize_t n;

	if (dirfd == AT_FDCWD)
		return getcwd(buf, size) ? 0 : -1;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
	n = readlink(link, buf, size - 1);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* dirfd + path as an absolute path (lexically), into buf; 0 or -1. */
static int abs_path(int dirfd, const char *path, char *buf, size_t size)
{
	size_t len;

	if (!path)
		return -1;
	if (path[0] == '/') {
		if (strlen(path) >= size)
			return -1;
		strcpy(buf, path);
		return 0;
	}
	if (dir_path(dirfd, buf, size) < 0)
		return -1;
	len = strlen(buf);
	if (len + 1 + strlen(path) >= size)
		return -1;
	buf[len] = '/';
	strcpy(buf + len + 1, path);
	return 0;
}

/* A regular file or folder (or nothing yet) under the prefix. */
static int path_eligible(int dirfd, const char *path, char *abs, size_t size)
{
	struct stat st;

	if (abs_path(dirfd, path, abs, size) < 0 || !under_prefix(abs))
		return 0;
	if (fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT;
	return S_ISREG(st.st_mode) || S_ISDIR(st.st_mode) || S_ISLNK(st.st_mode);
}

/* A descriptor on a regular file (or, with dirs, a folder) under the prefix. */
static int fd_eligible(int fd, int dirs, char *abs, size_t size)
{
	struct stat st;

	if (fstat(fd, &st) < 0 || !(S_ISREG(st.st_mode) || (dirs && S_ISDIR(st.st_mode))))
		return 0;
	return dir_path(fd, abs, size) == 0 && under_prefix(abs);
}

static int fd_hit(enum kind k, int fd, const char *fn)
{
	char abs[PATH_MAX];
	int r;

	if (!watching(k))
		return 0;
	in_shim++;
	r = fd_eligible(fd, k == K_FSYNC, abs, sizeof(abs));
	in_shim--;
	return r && hit(k, fn, abs);
}

static int path_hit(enum kind k, int dirfd, const char *path, const char *fn)
{
	char abs[PATH_MAX];
	int r;

	if (!watching(k))
		return 0;
	in_shim++;
	r = path_eligible(dirfd, path, abs, sizeof(abs));
	in_shim--;
	return r && hit(k, fn, abs);
}

/* ---- write ------------------------------------------------------------- */

ssize_t write(int fd, const void *buf, size_t len)
{
	RESOLVE(write);
	if (fd_hit(K_WRITE, fd, "write"))
		return -1;
	return real_write(fd, buf, len);
}

ssize_t writev(int fd, const struct iovec *iov, int n)
{
	RESOLVE(writev);
	if (fd_hit(K_WRITE, fd, "writev"))
		return -1;
	return real_writev(fd, iov, n);
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
	RESOLVE(pwrite);
	if (fd_hit(K_WRITE, fd, "pwrite"))
		return -1;
	return real_pwrite(fd, buf, len, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t len, off64_t off)
{
	RESOLVE(pwrite64);
	if (fd_hit(K_WRITE, fd, "pwrite64"))
		return -1;
	return real_pwrite64(fd, buf, len, off);
}

ssize_t pwritev(int fd, const struct iovec *iov, int n, off_t off)
{
	RESOLVE(pwritev);
	if (fd_hit(K_WRITE, fd, "pwritev"))
		return -1;
	return real_pwritev(fd, iov, n, off);
}

/* ---- fsync --------------------------------------------------------------- */

int fsync(int fd)
{
	RESOLVE(fsync);
	if (fd_hit(K_FSYNC, fd, "fsync"))
		return -1;
	return real_fsync(fd);
}

int fdatasync(int fd)
{
	RESOLVE(fdatasync);
	if (fd_hit(K_FSYNC, fd, "fdatasync"))
		return -1;
	return real_fdatasync(fd);
}

/* ---- rename -------------------------------------------------------------- */

int rename(const char *from, const char *to)
{
	RESOLVE(rename);
	if (path_hit(K_RENAME, AT_FDCWD, from, "rename"))
		return -1;
	return real_rename(from, to);
}

int renameat(int fromfd, const char *from, int tofd, const char *to)
{
	RESOLVE(renameat);
	if (path_hit(K_RENAME, fromfd, from, "renameat"))
		return -1;
	return real_renameat(fromfd, from, tofd, to);
}

int renameat2(int fromfd, const char *from, int tofd, const char *to, unsigned int flags)
{
	RESOLVE(renameat2);
	if (path_hit(K_RENAME, fromfd, from, "renameat2"))
		return -1;
	return real_renameat2(fromfd, from, tofd, to, flags);
}

/* ---- open ---------------------------------------------------------------- */

static mode_t mode_arg(int flags, va_list ap)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? va_arg(ap, mode_t) : 0;
}

int open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	RESOLVE(open);
	if (path_hit(K_OPEN, AT_FDCWD, path, "open"))
		return -1;
	return real_open(path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	RESOLVE(open64);
	if (path_hit(K_OPEN, AT_FDCWD, path, "open64"))
		return -1;
	return real_open64(path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	RESOLVE(openat);
	if (path_hit(K_OPEN, dirfd, path, "openat"))
		return -1;
	return real_openat(dirfd, path, flags, mode);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	RESOLVE(openat64);
	if (path_hit(K_OPEN, dirfd, path, "openat64"))
		return -1;
	return real_openat64(dirfd, path, flags, mode);
}

int creat(const char *path, mode_t mode)
{
	RESOLVE(creat);
	if (path_hit(K_OPEN, AT_FDCWD, path, "creat"))
		return -1;
	return real_creat(path, mode);
}

int creat64(const char *path, mode_t mode)
{
	RESOLVE(creat64);
	if (path_hit(K_OPEN, AT_FDCWD, path, "creat64"))
		return -1;
	return real_creat64(path, mode);
}

/* ---- malloc -------------------------------------------------------------- */

/* The allocator, unless dlsym is running on this thread (then: bootstrap). */
static int malloc_ready(void)
{
	if (real_malloc && real_calloc && real_realloc && real_free)
		return 1;
	if (in_shim)
		return 0;
	RESOLVE(malloc);
	RESOLVE(calloc);
	RESOLVE(realloc);
	RESOLVE(free);
	return real_malloc && real_calloc && real_realloc && real_free;
}

void *malloc(size_t size)
{
	if (!malloc_ready())
		return boot_alloc(size, 0);
	if (hit(K_MALLOC, "malloc", NULL))
		return NULL;
	return real_malloc(size);
}

void *calloc(size_t n, size_t size)
{
	if (!malloc_ready()) {
		if (size && n > SIZE_MAX / size)
			return NULL;
		return boot_alloc(n * size, 0);	/* static: already zero */
	}
	if (hit(K_MALLOC, "calloc", NULL))
		return NULL;
	return real_calloc(n, size);
}

void *realloc(void *p, size_t size)
{
	if (p && is_boot(p)) {
		/* The old size is unknown: copy what can be there, up to size. */
		void *q = malloc(size ? size : 1);
		size_t room = (size_t)(boot + sizeof(boot) - (unsigned char *)p);

		if (q)
			memcpy(q, p, size < room ? size : room);
		return q;
	}
	if (!malloc_ready())
		return boot_alloc(size, 0);
	if (size && hit(K_MALLOC, "realloc", NULL))
		return NULL;
	return real_realloc(p, size);
}

void free(void *p)
{
	if (!p || is_boot(p))
		return;
	if (!malloc_ready())
		return;	/* cannot happen: p came from the real malloc */
	real_free(p);
}

int posix_memalign(void **out, size_t align, size_t size)
{
	RESOLVE(posix_memalign);
	if (!real_posix_memalign || !malloc_ready()) {
		*out = boot_alloc(size, align);
		return *out ? 0 : ENOMEM;
	}
	if (hit(K_MALLOC, "posix_memalign", NULL))
		return ENOMEM;
	return real_posix_memalign(out, align, size);
}

void *aligned_alloc(size_t align, size_t size)
{
	RESOLVE(aligned_alloc);
	if (!real_aligned_alloc || !malloc_ready())
		return boot_alloc(size, align);
	if (hit(K_MALLOC, "aligned_alloc", NULL))
		return NULL;
	return real_aligned_alloc(align, size);
}

void *memalign(size_t align, size_t size)
{
	RESOLVE(memalign);
	if (!real_memalign || !malloc_ready())
		return boot_alloc(size, align);
	if (hit(K_MALLOC, "memalign", NULL))
		return NULL;
	return real_memalign(align, size);
}

/* ---- the process's life ---------------------------------------------------- */

static void stop_counting(void)
{
	atomic_store(&active, 0);
}

static void write_count(void)
{
	char line[32];
	int fd;

	if (!is_target || !count_file[0] || !real_open)
		return;
	fd = real_open(count_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	snprintf(line, sizeof(line), "%ld\n", atomic_load(&counted));
	say(fd, line);
	close(fd);
}

void exit(int code)
{
	RESOLVE(exit);
	stop_counting();
	real_exit(code);
	__builtin_unreachable();
}

typedef int (*main_fn)(int, char **, char **);
static main_fn real_main;

static int main_wrapper(int argc, char **argv, char **envp)
{
	int r;

	if (is_target)
		atomic_store(&active, 1);
	r = real_main(argc, argv, envp);
	stop_counting();
	return r;
}

int __libc_start_main(main_fn main, int argc, char **argv, void (*init)(void),
		      void (*fini)(void), void (*rtld_fini)(void), void *stack_end)
{
	int (*next)(main_fn, int, char **, void (*)(void), void (*)(void), void (*)(void),
		    void *);

	*(void **)&next = next_sym("__libc_start_main");
	real_main = main;
	return next(main_wrapper, argc, argv, init, fini, rtld_fini, stack_end);
}

static void copy_env(const char *name, char *dst, size_t size)
{
	const char *v = getenv(name);

	dst[0] = '\0';
	if (v && strlen(v) < size)
		strcpy(dst, v);
}

static int parse_errno(const char *s)
{
	static const struct { const char *name; int value; } names[] = {
		{ "EIO", EIO }, { "ENOSPC", ENOSPC }, { "EDQUOT", EDQUOT }, { "EACCES", EACCES },
		{ "EROFS", EROFS }, { "EMFILE", EMFILE }, { "ENOMEM", ENOMEM }, { "EPERM", EPERM },
	};

	if (!s || !*s)
		return EIO;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i].name))
			return names[i].value;
	return atoi(s) > 0 ? atoi(s) : EIO;
}

/* Is this process the program under test? */
static int program_matches(void)
{
	const char *want = getenv("FAILSHIM_PROG");
	char exe[PATH_MAX], *base;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n < 0)
		return 0;
	exe[n] = '\0';
	base = strrchr(exe, '/');
	base = base ? base + 1 : exe;
	return !strcmp(base, want && *want ? want : "imgvault");
}

/*
 * malloc only: a crash leaves "failshim: pid P: crashed with signal S"
 * and its backtrace in the log, so the test can tell a crash in the
 * program's own code from one inside a library that mishandled the
 * failure it was given. Then the signal takes its course.
 */
static void on_crash(int sig, siginfo_t *info, void *context)
{
	static atomic_long first;	/* the thread logging the first crash */
	long me = (long)gettid(), none = 0;
	char line[160];
	void *frames[64];
#ifdef REG_RIP
	void *pc = (void *)((ucontext_t *)context)->uc_mcontext.gregs[REG_RIP];
	void *sp = (void *)((ucontext_t *)context)->uc_mcontext.gregs[REG_RSP];
#else
	void *pc = NULL, *sp = NULL;

	(void)context;
#endif
	int fd = real_open ? real_open(log_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)
			   : -1;

	in_shim++;
	if (!atomic_compare_exchange_strong(&first, &none, me)) {
		if (none == me) {
			/* The unwinder itself crashed on what the first crash left. */
			if (fd >= 0)
				say(fd, "failshim: the backtrace crashed too\n");
		} else {
			/* Another thread: let the first finish its log, then die. */
			if (fd >= 0) {
				snprintf(line, sizeof(line),
					 "failshim: thread %ld crashed too, with signal %d\n", me, sig);
				say(fd, line);
				close(fd);
			}
			sleep(5);
			fd = -1;
		}
	} else if (fd >= 0) {
		snprintf(line, sizeof(line),
			 "failshim: pid %ld: crashed with signal %d in thread %ld\n"
			 "failshim: fault address %p, sp %p, pc%s\n",
			 (long)getpid(), sig, me, info->si_addr, sp, pc ? ":" : " unknown");
		say(fd, line);
		/* Where it stopped first: the stack past it may not unwind. */
		if (pc)
			backtrace_symbols_fd(&pc, 1, fd);
		backtrace_symbols_fd(frames, backtrace(frames, 64), fd);
	}
	if (fd >= 0)
		close(fd);
	signal(sig, SIG_DFL);
	raise(sig);
}

/*
 * A crash from a stack overflow cannot run its handler on the stack that
 * overflowed, so each thread gets an alternate signal stack: the main
 * thread here, every other one as it starts (pthread_create below). The
 * stacks are mapped, not allocated, so they never count as a malloc, and
 * a thread's is left mapped when it ends: a test run starts a handful.
 */
enum { ALT_STACK_SIZE = 256 * 1024 };
static int catching;

static void give_alt_stack(void)
{
	stack_t ss;
	void *p = mmap(NULL, ALT_STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);

	if (p == MAP_FAILED)
		return;
	memset(&ss, 0, sizeof(ss));
	ss.ss_sp = p;
	ss.ss_size = ALT_STACK_SIZE;
	if (sigaltstack(&ss, NULL) != 0)
		munmap(p, ALT_STACK_SIZE);
}

struct thread_start {
	void *(*fn)(void *);
	void *arg;
};

static void *start_on_alt_stack(void *p)
{
	struct thread_start start = *(struct thread_start *)p;

	munmap(p, sizeof(start));
	give_alt_stack();
	return start.fn(start.arg);
}

int pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
	struct thread_start *start;
	int rc;

	if (!real_pthread_create)
		RESOLVE(pthread_create);
	if (!catching)
		return real_pthread_create(thread, attr, fn, arg);
	start = mmap(NULL, sizeof(*start), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		     0);
	if (start == MAP_FAILED)
		return real_pthread_create(thread, attr, fn, arg);
	start->fn = fn;
	start->arg = arg;
	rc = real_pthread_create(thread, attr, start_on_alt_stack, start);
	if (rc != 0)
		munmap(start, sizeof(*start));
	return rc;
}

static void catch_crashes(void)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };
	struct sigaction sa;

	give_alt_stack();
	catching = 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_crash;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

static void in_child(void)
{
	is_target = 0;
	stop_counting();
}

__attribute__((constructor)) static void failshim_init(void)
{
	const char *call = getenv("FAILSHIM_CALL"), *n = getenv("FAILSHIM_N");

	in_shim++;
	/* All now, before any thread: later calls only read these. */
	RESOLVE(write);
	RESOLVE(writev);
	RESOLVE(pwrite);
	RESOLVE(pwrite64);
	RESOLVE(pwritev);
	RESOLVE(fsync);
	RESOLVE(fdatasync);
	RESOLVE(rename);
	RESOLVE(renameat);
	RESOLVE(renameat2);
	RESOLVE(open);
	RESOLVE(open64);
	RESOLVE(openat);
	RESOLVE(openat64);
	RESOLVE(creat);
	RESOLVE(creat64);
	RESOLVE(posix_memalign);
	RESOLVE(aligned_alloc);
	RESOLVE(memalign);
	RESOLVE(exit);
	RESOLVE(pthread_create);
	in_shim--;
	malloc_ready();
	in_shim++;
	for (enum kind k = K_WRITE; k <= K_MALLOC; k++)
		if (call && !strcmp(call, kind_names[k]))
			want_kind = k;
	if (call && *call && want_kind == K_NONE)
		say(2, "failshim: FAILSHIM_CALL must be write, fsync, rename, open or malloc\n");
	fail_at = n ? atol(n) : 0;
	fail_errno = parse_errno(getenv("FAILSHIM_ERRNO"));
	copy_env("FAILSHIM_PATH", prefix, sizeof(prefix));
	prefix_len = strlen(prefix);
	while (prefix_len > 1 && prefix[prefix_len - 1] == '/')
		prefix[--prefix_len] = '\0';
	copy_env("FAILSHIM_COUNT_FILE", count_file, sizeof(count_file));
	copy_env("FAILSHIM_LOG", log_file, sizeof(log_file));
	is_target = program_matches();
	if (is_target && log_file[0]) {
		void *frames[4];

		/* Loads the unwinder now, not inside a failing malloc. */
		backtrace(frames, 4);
		want_backtrace = 1;
		if (want_kind == K_MALLOC)
			catch_crashes();
	}
	pthread_atfork(NULL, NULL, in_child);
	in_shim--;
}

__attribute__((destructor)) static void failshim_fini(void)
{
	stop_counting();
	in_shim++;
	write_count();
	in_shim--;
}
