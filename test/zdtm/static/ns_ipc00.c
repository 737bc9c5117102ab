// SPDX-License-Identifier: GPL-2.0
/*
 * ns_ipc00: the test's root has an IPC namespace of its own, shared with its
 * child by inheritance, holding: ipc sysctls changed from their defaults,
 * two SysV shm segments (one with a key, mode 0640 and another owner, one
 * private; odd sizes, patterned contents), a semaphore set with values and
 * a message queue with three messages of different types and sizes. An
 * object made and removed first leaves the ids non-sequential. After restore
 * both tasks see all of it again, under the same ids, in one namespace that
 * is not criu's.
 */
#include <stdint.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>

#include "ns_tree.h"

#ifndef MSG_COPY
#define MSG_COPY 040000
#endif

#define SHM_KEY 0x2d7a11
#define SEM_KEY 0x2d7a12
#define MSG_KEY 0x2d7a13
#define SHM1_SIZE 10001
#define SHM2_SIZE 5000
#define NSEMS 5

static const struct ns_node nodes[] = {
	{ .parent = -1, .how = NS_NEW, .group = 1 },
	{ .parent = 0, .how = NS_KEEP, .group = 1 },
};

struct ids {
	int shm1, shm2, sem, msg;
};

/* in a MAP_SHARED page: the node that fills it tells the others (and itself after restore) */
static struct ids *ids;

static const struct {
	const char *name, *value;
} vars[] = {
	{ "/proc/sys/kernel/msgmnb", "32768" },
	{ "/proc/sys/kernel/msgmni", "1000" },
	{ "/proc/sys/kernel/shmmni", "2048" },
	{ "/proc/sys/kernel/sem", "250\t32000\t64\t200" },
	{ "/proc/sys/kernel/shm_rmid_forced", "0" },
	{ "/proc/sys/fs/mqueue/queues_max", "77" },
	{ "/proc/sys/fs/mqueue/msg_default", "9" },
};

static const struct {
	long type;
	const char *text;
} msgs[] = {
	{ 7, "first, type 7" },
	{ 3, "the second message, of type 3, a little longer" },
	{ 7, "3rd" },
};

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY), ok;

	if (fd < 0)
		return -1;
	ok = write(fd, s, strlen(s)) == (ssize_t)strlen(s);
	close(fd);
	return ok ? 0 : -1;
}

static int read_str(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if (buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return 0;
}

static void pattern(unsigned char *p, size_t len, int seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (unsigned char)(i * 7 + seed);
}

static int make_shm(key_t key, size_t size, int mode, int seed)
{
	int id = shmget(key, size, IPC_CREAT | IPC_EXCL | mode);
	unsigned char *p;

	if (id < 0)
		return -1;
	p = shmat(id, NULL, 0);
	if (p == (void *)-1)
		return -1;
	pattern(p, size, seed);
	shmdt(p);
	return id;
}

static int fill(int node)
{
	unsigned short vals[NSEMS] = { 0, 1, 42, 32767, 5 };
	struct shmid_ds ds;
	int gap;

	ids = mmap(NULL, sizeof(*ids), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (ids == MAP_FAILED) {
		fail("mmap");
		return -1;
	}
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if (write_str(vars[i].name, vars[i].value)) {
			fail("can't write %s", vars[i].name);
			return -1;
		}
	/* a gap in the ids */
	gap = shmget(IPC_PRIVATE, 4096, 0600);
	ids->shm1 = make_shm(SHM_KEY, SHM1_SIZE, 0640, 1);
	ids->shm2 = make_shm(IPC_PRIVATE, SHM2_SIZE, 0600, 2);
	if (gap < 0 || shmctl(gap, IPC_RMID, NULL) || ids->shm1 < 0 || ids->shm2 < 0) {
		fail("can't make the shm segments");
		return -1;
	}
	if (shmctl(ids->shm1, IPC_STAT, &ds)) {
		fail("IPC_STAT");
		return -1;
	}
	ds.shm_perm.uid = 1000;
	ds.shm_perm.gid = 2000;
	if (shmctl(ids->shm1, IPC_SET, &ds)) {
		fail("IPC_SET");
		return -1;
	}
	ids->sem = semget(SEM_KEY, NSEMS, IPC_CREAT | IPC_EXCL | 0666);
	if (ids->sem < 0 || semctl(ids->sem, 0, SETALL, vals)) {
		fail("can't make the semaphore set");
		return -1;
	}
	ids->msg = msgget(MSG_KEY, IPC_CREAT | IPC_EXCL | 0620);
	if (ids->msg < 0) {
		fail("can't make the message queue");
		return -1;
	}
	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		struct {
			long type;
			char text[64];
		} m = { msgs[i].type, "" };

		strcpy(m.text, msgs[i].text);
		if (msgsnd(ids->msg, &m, strlen(m.text), IPC_NOWAIT)) {
			fail("msgsnd");
			return -1;
		}
	}
	return 0;
}

static int check_shm(int node, int id, key_t key, size_t size, unsigned int mode, uid_t uid, int seed)
{
	unsigned char want[SHM1_SIZE], *p;
	struct shmid_ds ds;

	if (shmctl(id, IPC_STAT, &ds)) {
		fail("node %d: segment %d is gone", node, id);
		return -1;
	}
	if (ds.shm_perm.__key != key || ds.shm_segsz != size || (ds.shm_perm.mode & 0777) != mode ||
	    ds.shm_perm.uid != uid) {
		fail("node %d: segment %d: key %#x size %zu mode %o uid %d", node, id, ds.shm_perm.__key,
		     ds.shm_segsz, ds.shm_perm.mode & 0777, ds.shm_perm.uid);
		return -1;
	}
	p = shmat(id, NULL, SHM_RDONLY);
	if (p == (void *)-1) {
		fail("node %d: can't attach segment %d", node, id);
		return -1;
	}
	pattern(want, size, seed);
	if (memcmp(p, want, size)) {
		fail("node %d: segment %d has other contents", node, id);
		shmdt(p);
		return -1;
	}
	shmdt(p);
	return 0;
}

static int check(int node)
{
	unsigned short vals[NSEMS], want[NSEMS] = { 0, 1, 42, 32767, 5 };
	struct msqid_ds mds;
	char buf[64];

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if (read_str(vars[i].name, buf, sizeof(buf)) || strcmp(buf, vars[i].value)) {
			fail("node %d: %s is '%s', expected '%s'", node, vars[i].name, buf, vars[i].value);
			return -1;
		}
	if (check_shm(node, ids->shm1, SHM_KEY, SHM1_SIZE, 0640, 1000, 1) ||
	    check_shm(node, ids->shm2, IPC_PRIVATE, SHM2_SIZE, 0600, 0, 2))
		return -1;
	if (semget(SEM_KEY, 0, 0) != ids->sem || semctl(ids->sem, 0, GETALL, vals) ||
	    memcmp(vals, want, sizeof(vals))) {
		fail("node %d: the semaphore set %d is not back with its values", node, ids->sem);
		return -1;
	}
	if (msgget(MSG_KEY, 0) != ids->msg || msgctl(ids->msg, IPC_STAT, &mds) || mds.msg_qnum != 3 ||
	    (mds.msg_perm.mode & 0777) != 0620) {
		fail("node %d: the message queue %d is not back", node, ids->msg);
		return -1;
	}
	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		struct {
			long type;
			char text[64];
		} m = {};
		ssize_t n = msgrcv(ids->msg, &m, sizeof(m.text), i, IPC_NOWAIT | MSG_COPY);

		if (n != (ssize_t)strlen(msgs[i].text) || m.type != msgs[i].type || memcmp(m.text, msgs[i].text, n)) {
			fail("node %d: message %zu is (%ld, '%.*s')", node, i, m.type, (int)(n > 0 ? n : 0), m.text);
			return -1;
		}
	}
	return 0;
}

static const struct ns_tree tree = {
	.kind = "ipc", .flag = CLONE_NEWIPC, .nr = 2, .nodes = nodes, .fill = fill, .check = check,
};

int main(int argc, char **argv)
{
	return ns_tree_main(&tree, argc, argv);
}
