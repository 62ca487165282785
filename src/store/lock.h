/*
 * lock: an exclusive lock on an archive folder, so two imgvault runs never
 * interleave their writes to the same <base>/<arch>. It is flock() on
 * <arch>/.imgvault.lock, created when missing and never deleted (deleting
 * it would let a third run lock a different file). The holder writes its
 * pid into the file, so a refused run can say who holds it. The lock goes
 * with the process: a crash releases it, and the descriptor is
 * close-on-exec, so children that exec (ssh) never hold it. A flock
 * belongs to the open file, so a child forked without exec holds it too
 * until it closes its copy of the descriptor or exits.
 */
#ifndef IMGVAULT_STORE_LOCK_H
#define IMGVAULT_STORE_LOCK_H

#include "../util/strbuf.h"

#define LOCK_FILE_NAME ".imgvault.lock"

enum lock_status {
	LOCK_OK = 0,
	LOCK_ERROR = -1,	/* the lock file could not be opened or locked; err says why */
	LOCK_BUSY = -2,		/* another process holds it (only with wait = 0) */
};

struct store_lock {
	int fd;		/* -1 when not held */
};

#define STORE_LOCK_INIT { .fd = -1 }

/*
 * Take the lock on folder dir (which must exist). With wait = 0 a lock
 * held elsewhere fails at once with LOCK_BUSY and a message such as
 * "archive folder '/x/x86_64' is in use by another imgvault (pid 1234);
 * wait for it or stop it"; with wait = 1 it blocks until it is free.
 * l must not already hold a lock. On a read-only file system nothing can
 * change the folder, so LOCK_OK comes back without a lock (l->fd = -1).
 */
int lock_acquire(struct store_lock *l, const char *dir, int wait, struct strbuf *err);
/* Release the lock (clearing the pid in the file); a no-op when not held. */
void lock_release(struct store_lock *l);

#endif
