/*
 * sshconn: the ssh transport; see sshconn.h.
 */
#include "sshconn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../util/text.h"

#define SSH_STDERR_MAX 4096

void sshconn_argv(struct strlist *argv, const char *program, const char *config,
		  const char *destination, const char *port)
{
	strlist_add(argv, program && *program ? program : "ssh");
	if (config && *config) {
		strlist_add(argv, "-F");
		strlist_add(argv, config);
	}
	strlist_add(argv, "-o");
	strlist_add(argv, "ConnectTimeout=30");
	/* Image exports are big and compress well: compress the bytes on the wire. */
	strlist_add(argv, "-o");
	strlist_add(argv, "Compression=yes");
	strlist_add(argv, "-T");
	if (port) {
		strlist_add(argv, "-p");
		strlist_add(argv, port);
	}
	/* "--": a destination from a config file can never become an option. */
	strlist_add(argv, "--");
	strlist_add(argv, destination);
	strlist_add(argv, "docker");
	strlist_add(argv, "system");
	strlist_add(argv, "dial-stdio");
}

static int temp_errfile(void)
{
	const char *dir = getenv("TMPDIR");
	int fd = open(dir && *dir ? dir : "/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd < 0) {
		char name[] = "/tmp/imgvault-ssh.XXXXXX";

		fd = mkostemp(name, O_CLOEXEC);
		if (fd >= 0)
			unlink(name);
	}
	return fd;
}

/*
 * In the child: take the one connection curl makes, then become ssh on
 * it. Only async-signal-safe calls here: the parent may have threads.
 */
static void child(char **args, int listener, int errfd, pid_t parent)
{
	static const char msg[] = "imgvault: cannot run ssh\n";
	int sock;

	/*
	 * Its own process group keeps Ctrl-C away; so when imgvault dies (kill
	 * -9 included), this child, and ssh after the exec, die with it rather
	 * than wait in accept() for a connection that never comes.
	 */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(127);
	do
		sock = accept(listener, NULL, NULL);
	while (sock < 0 && errno == EINTR);
	if (sock < 0)
		_exit(127);
	if (dup2(sock, 0) < 0 || dup2(sock, 1) < 0 || (errfd >= 0 && dup2(errfd, 2) < 0))
		_exit(127);
	close(sock);
	close(listener);
	/* Our SIGPIPE handling must not leak into ssh. */
	signal(SIGPIPE, SIG_DFL);
	execvp(args[0], args);
	if (write(2, msg, sizeof(msg) - 1) < 0)
		_exit(127);
	_exit(127);
}

int sshconn_open(struct sshconn *c, const struct strlist *argv, int listener, struct strbuf *err)
{
	c->fd = c->errfd = -1;
	c->pid = 0;
	c->status = -1;
	/* The argv is made before fork: the child may not allocate. */
	char **args = calloc(argv->n + 1, sizeof(*args));
	pid_t parent;

	if (!args) {
		strbuf_addstr(err, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < argv->n; i++)
		args[i] = argv->items[i];
	c->errfd = temp_errfile();
	parent = getpid();
	c->pid = fork();
	if (c->pid < 0) {
		free(args);
		strbuf_addf(err, "fork: %s", strerror(errno));
		if (c->errfd >= 0)
			close(c->errfd);
		c->errfd = -1;
		c->pid = 0;
		return -1;
	}
	if (c->pid == 0) {
		/* Own process group: a Ctrl-C reaches us, and we close ssh cleanly. */
		setpgid(0, 0);
		child(args, listener, c->errfd, parent);
	}
	free(args);
	return 0;
}

/* Wait up to `ms` for the child; 1 when reaped. */
static int reap(struct sshconn *c, int ms)
{
	for (int waited = 0;; waited += 10) {
		int st;
		pid_t r = waitpid(c->pid, &st, WNOHANG);

		if (r == c->pid || (r < 0 && errno == ECHILD)) {
			c->status = r == c->pid ? st : -1;
			c->pid = 0;
			return 1;
		}
		if (waited >= ms)
			return 0;
		nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
	}
}

void sshconn_close(struct sshconn *c)
{
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
	if (c->pid > 0 && !reap(c, 3000)) {
		kill(c->pid, SIGTERM);
		if (!reap(c, 2000)) {
			kill(c->pid, SIGKILL);
			reap(c, 2000);
		}
	}
}

void sshconn_free(struct sshconn *c)
{
	sshconn_close(c);
	if (c->errfd >= 0) {
		close(c->errfd);
		c->errfd = -1;
	}
}

void sshconn_reason(struct sshconn *c, struct strbuf *out)
{
	char buf[SSH_STDERR_MAX + 1];
	ssize_t n = -1;
	off_t size;

	if (c->pid > 0)
		reap(c, 3000);
	if (c->errfd >= 0 && (size = lseek(c->errfd, 0, SEEK_END)) > 0) {
		off_t from = size > SSH_STDERR_MAX ? size - SSH_STDERR_MAX : 0;

		n = pread(c->errfd, buf, (size_t)(size - from), from);
	}
	if (n > 0) {
		/* The last non-empty line says why: "Host key verification failed." */
		char *end, *line;

		buf[n] = 0;
		end = buf + n;
		while (end > buf && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
			*--end = 0;
		line = strrchr(buf, '\n');
		line = line ? line + 1 : buf;
		if (*line) {
			strbuf_addstr(out, "ssh: ");
			text_quote(out, line);
			return;
		}
	}
	if (c->status != -1 && WIFEXITED(c->status))
		strbuf_addf(out, "ssh exited with status %d", WEXITSTATUS(c->status));
	else if (c->status != -1 && WIFSIGNALED(c->status))
		strbuf_addf(out, "ssh killed by signal %d", WTERMSIG(c->status));
}

int sshconn_listen(char **path, struct strbuf *err)
{
	const char *tmp = getenv("TMPDIR");
	struct strbuf dir = STRBUF_INIT;
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = -1;

	*path = NULL;
	/* A socket path must fit sun_path: fall back to /tmp for a long TMPDIR. */
	strbuf_addf(&dir, "%s/imgvault-ssh.XXXXXX", tmp && *tmp && strlen(tmp) < 60 ? tmp : "/tmp");
	if (!mkdtemp(dir.buf)) {
		strbuf_addf(err, "cannot make a folder for the ssh socket: %s", strerror(errno));
		goto fail;
	}
	strbuf_addstr(&dir, "/s");
	memcpy(addr.sun_path, dir.buf, dir.len + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 4) < 0) {
		strbuf_addf(err, "cannot listen on '%s': %s", dir.buf, strerror(errno));
		sshconn_unlisten(fd, strbuf_detach(&dir));
		return -1;
	}
	*path = strbuf_detach(&dir);
	return fd;
fail:
	strbuf_release(&dir);
	return -1;
}

void sshconn_unlisten(int fd, char *path)
{
	if (fd >= 0)
		close(fd);
	if (path) {
		char *slash = strrchr(path, '/');

		unlink(path);
		if (slash) {
			*slash = 0;
			rmdir(path);
		}
	}
	free(path);
}
