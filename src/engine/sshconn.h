/*
 * sshconn: a byte stream to a remote engine through the system `ssh`,
 * which runs `docker system dial-stdio` on the far side. curl connects to
 * a private unix socket of ours; a child accepts that one connection and
 * becomes ssh on it. The user's ssh
 * config, agent and known_hosts apply; host key checking is left to ssh
 * and never turned off. The command is an argv array, never a shell line.
 *
 * ssh's stderr goes to an unlinked temporary file, so when the stream
 * ends early the reason ssh gave ("Host key verification failed.") can
 * be told to the user.
 */
#ifndef IMGVAULT_ENGINE_SSHCONN_H
#define IMGVAULT_ENGINE_SSHCONN_H

#include <sys/types.h>

#include "../util/strbuf.h"
#include "../util/strlist.h"

struct sshconn {
	int fd;			/* curl's end of the connection, -1 when closed */
	pid_t pid;		/* the ssh process, or 0 */
	int errfd;		/* ssh's stderr (a temporary file), or -1 */
	int status;		/* wait status once reaped, else -1 */
};

/*
 * The argv that reaches `destination` ("[user@]host"), on `port` (or
 * NULL), with the ssh config file `config` (or NULL: ssh's own default).
 * `program` is the ssh binary ("ssh" when NULL).
 */
void sshconn_argv(struct strlist *argv, const char *program, const char *config,
		  const char *destination, const char *port);

/*
 * Start a child that accepts one connection on `listener` (a listening
 * unix socket) and runs ssh (argv) on it as its stdin and stdout. The
 * caller connects to the listener and sets c->fd to its end. Returns 0,
 * or -1 with err set.
 */
int sshconn_open(struct sshconn *c, const struct strlist *argv, int listener,
		 struct strbuf *err);

/*
 * A listening unix socket in a new private folder; *path (owned) is the
 * socket's path, for curl. Returns the socket, or -1 with err set.
 */
int sshconn_listen(char **path, struct strbuf *err);
/* Close the listener and remove its socket and folder. */
void sshconn_unlisten(int fd, char *path);

/*
 * Close the stream and reap ssh (waiting a few seconds, then killing it).
 * What ssh said stays readable until sshconn_free. Idempotent.
 */
void sshconn_close(struct sshconn *c);
/* Close everything, the stderr file too. */
void sshconn_free(struct sshconn *c);

/*
 * Why the stream ended: the last line ssh wrote on stderr ("ssh: Host key
 * verification failed."), control bytes escaped, else its exit status.
 * Appends nothing when there is nothing to tell.
 */
void sshconn_reason(struct sshconn *c, struct strbuf *out);

#endif
