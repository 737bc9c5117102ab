// SPDX-License-Identifier: GPL-2.0
/*
 * criu-rpc CRIU dump|restore|check ARGS...: the zdtm runner's --rpc mode.
 *
 * Takes the criu command lines the runner builds (dump -t PID -D DIR -o LOG
 * -vN [--leave-running] [--shell-job] [--page-server --address A --port P]; restore -d -D DIR -o LOG -vN
 * --pidfile F [--shell-job]; both: --root PATH, --external mnt[A]:B,
 * --ext-mount-map A:B from a test's .desc) and does the same through RPC: it starts
 * `CRIU swrk FD` on one end of a SOCK_SEQPACKET socketpair, sends one
 * criu_req (DUMP or RESTORE) and reads the criu_resp, as a runtime would.
 * The images directory goes as an fd of ours (images_dir_fd), the log as
 * a name in it. A restore writes resp.restore.pid to the pidfile. `check`
 * has no RPC form with our feature names: it runs CRIU itself.
 *
 * Exit 0 when criu answered success, 1 otherwise (criu's message on stderr),
 * 2 on a usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rpc.pb-c.h"

struct args {
	const char *cmd;
	const char *dir;
	const char *log;
	const char *pidfile;
	int pid;
	int loglevel;
	bool leave_running;
	bool shell_job;
	const char *root;
	char *external[8];	/* criu_opts.external */
	int nr_external;
	ExtMountMap maps[8];	/* criu_opts.ext_mnt */
	ExtMountMap *map_ptrs[8];
	int nr_maps;
	const char *cg_roots[8];	/* --cgroup-root [CTL:]/PATH */
	int nr_cg_roots;
	const char *cg_mode;		/* --manage-cgroups=MODE */
	const char *freeze_cgroup;	/* --freeze-cgroup PATH */
	bool tcp_established, tcp_close, skip_in_flight, file_locks, ext_unix_sk;
	int network_lock;	/* CRIU_NETWORK_LOCK_METHOD__*, 0: not given */
	long long ghost_limit;	/* --ghost-limit N[KMG], -1: not given */
	bool page_server;	/* --page-server --address A --port P: criu_opts.ps */
	const char *ps_address;
	int ps_port;
};

/* --ghost-limit's value: a number with an optional K, M or G; -1 if it is not one or does not fit. */
static long long ghost_limit_arg(const char *v)
{
	char *end;
	long long n = strtoll(v, &end, 10);
	int shift = !*end ? 0 : !strcmp(end, "K") ? 10 : !strcmp(end, "M") ? 20 : !strcmp(end, "G") ? 30 : -1;

	if (end == v || n < 0 || shift < 0 || (n << shift) > 0xffffffffLL)
		return -1;
	return n << shift;
}

static int usage(const char *why)
{
	fprintf(stderr, "criu-rpc: %s\nusage: criu-rpc CRIU dump|restore|check ARGS...\n", why);
	return 2;
}

/* The options the zdtm runner passes; anything else is a usage error, never dropped. */
static int parse(int argc, char **argv, struct args *a)
{
	a->cmd = argv[0];
	a->loglevel = 2;
	a->ghost_limit = -1;
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(o, "-t") && val)
			a->pid = atoi(argv[++i]);
		else if (!strcmp(o, "-D") && val)
			a->dir = argv[++i];
		else if (!strcmp(o, "-o") && val)
			a->log = argv[++i];
		else if (!strcmp(o, "--pidfile") && val)
			a->pidfile = argv[++i];
		else if (!strncmp(o, "-v", 2) && o[2] >= '0' && o[2] <= '9' && !o[3])
			a->loglevel = o[2] - '0';
		else if (!strcmp(o, "--leave-running") || !strcmp(o, "-R"))
			a->leave_running = true;
		else if (!strcmp(o, "--shell-job") || !strcmp(o, "-j"))
			a->shell_job = true;
		else if (!strcmp(o, "--cgroup-root") && val && a->nr_cg_roots < 8)
			a->cg_roots[a->nr_cg_roots++] = argv[++i];
		else if (!strcmp(o, "--freeze-cgroup") && val)
			a->freeze_cgroup = argv[++i];
		else if (!strncmp(o, "--manage-cgroups=", 17))
			a->cg_mode = o + 17;
		else if (!strcmp(o, "--root") && val)
			a->root = argv[++i];
		else if (!strcmp(o, "--external") && val && a->nr_external < 8)
			a->external[a->nr_external++] = argv[++i];
		else if (!strcmp(o, "--ext-mount-map") && val && strchr(val, ':') && a->nr_maps < 8) {
			ExtMountMap *m = &a->maps[a->nr_maps];

			ext_mount_map__init(m);
			m->key = strndup(val, strchr(val, ':') - val);
			m->val = strchr(argv[++i], ':') + 1;
			a->map_ptrs[a->nr_maps++] = m;
		} else if (!strcmp(o, "-d") || !strcmp(o, "--restore-detached"))
			;	/* an RPC restore is always detached */
		else if (!strcmp(o, "--tcp-established"))
			a->tcp_established = true;
		else if (!strcmp(o, "--file-locks"))
			a->file_locks = true;
		else if (!strcmp(o, "--ext-unix-sk"))
			a->ext_unix_sk = true;
		else if (!strcmp(o, "--tcp-close"))
			a->tcp_close = true;
		else if (!strcmp(o, "--skip-in-flight") || !strcmp(o, "--tcp-skip-in-flight"))
			a->skip_in_flight = true;
		else if (!strcmp(o, "--network-lock") && val && !strcmp(val, "iptables") && ++i)
			a->network_lock = CRIU_NETWORK_LOCK_METHOD__IPTABLES;
		else if (!strcmp(o, "--network-lock") && val && !strcmp(val, "nftables") && ++i)
			a->network_lock = CRIU_NETWORK_LOCK_METHOD__NFTABLES;
		else if (!strcmp(o, "--network-lock") && val && !strcmp(val, "skip") && ++i)
			a->network_lock = CRIU_NETWORK_LOCK_METHOD__SKIP;
		else if (!strcmp(o, "--ghost-limit") && val && ghost_limit_arg(val) >= 0 && ++i)
			a->ghost_limit = ghost_limit_arg(val);
		else if (!strcmp(o, "--page-server"))
			a->page_server = true;
		else if (!strcmp(o, "--address") && val)
			a->ps_address = argv[++i];
		else if (!strcmp(o, "--port") && val)
			a->ps_port = atoi(argv[++i]);
		else {
			fprintf(stderr, "criu-rpc: option %s has no RPC form here\n", o);
			return -1;
		}
	}
	if (!a->dir)
		return -1;
	if (!strcmp(a->cmd, "dump") && a->pid <= 0)
		return -1;
	return 0;
}

static pid_t start_swrk(const char *criu, int *ret_sk)
{
	int sk[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sk))
		return -1;
	pid = fork();
	if (pid == 0) {
		char fd[16];
		int s = dup(sk[1]);	/* without O_CLOEXEC: criu keeps it */

		if (s < 0)
			_exit(127);
		snprintf(fd, sizeof(fd), "%d", s);
		execl(criu, criu, "swrk", fd, (char *)NULL);
		perror("criu-rpc: exec");
		_exit(127);
	}
	close(sk[1]);
	if (pid < 0) {
		close(sk[0]);
		return -1;
	}
	*ret_sk = sk[0];
	return pid;
}

static int send_req(int sk, const CriuReq *req)
{
	size_t len = criu_req__get_packed_size(req);
	uint8_t *buf = malloc(len ? len : 1);
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	criu_req__pack(req, buf);
	n = send(sk, buf, len, 0);
	free(buf);
	return n == (ssize_t)len ? 0 : -EIO;
}

static CriuResp *recv_resp(int sk)
{
	static uint8_t buf[1 << 16];
	ssize_t n = recv(sk, buf, sizeof(buf), 0);

	if (n <= 0)
		return NULL;
	return criu_resp__unpack(NULL, n, buf);
}

static int write_pidfile(const char *path, int pid)
{
	FILE *f = fopen(path, "we");

	if (!f)
		return -1;
	fprintf(f, "%d", pid);
	return fclose(f) ? -1 : 0;
}

/* Send the request, read the answer; 0 on success. */
static int run(const char *criu, const struct args *a, int dir_fd)
{
	CriuOpts opts = CRIU_OPTS__INIT;
	CriuReq req = CRIU_REQ__INIT;
	CriuResp *resp;
	int sk, status, ret = 1;
	pid_t swrk;

	req.type = strcmp(a->cmd, "dump") ? CRIU_REQ_TYPE__RESTORE : CRIU_REQ_TYPE__DUMP;
	req.opts = &opts;
	opts.images_dir_fd = dir_fd;
	opts.log_file = (char *)(a->log ? a->log : (req.type == CRIU_REQ_TYPE__DUMP ? "dump.log" : "restore.log"));
	opts.has_log_level = true;
	opts.log_level = a->loglevel;
	if (req.type == CRIU_REQ_TYPE__DUMP) {
		opts.has_pid = true;
		opts.pid = a->pid;
	}
	if (a->leave_running) {
		opts.has_leave_running = true;
		opts.leave_running = true;
	}
	if (a->shell_job) {
		opts.has_shell_job = true;
		opts.shell_job = true;
	}
	opts.root = (char *)a->root;
	opts.n_external = a->nr_external;
	opts.external = (char **)a->external;
	opts.n_ext_mnt = a->nr_maps;
	opts.ext_mnt = (ExtMountMap **)a->map_ptrs;
	/* criu_opts.cg_root, manage_cgroups_mode: as runtimes send them */
	CgroupRoot roots[8], *rootp[8];
	char ctls[8][64];

	for (int i = 0; i < a->nr_cg_roots; i++) {
		const char *colon = strchr(a->cg_roots[i], ':');

		cgroup_root__init(&roots[i]);
		rootp[i] = &roots[i];
		roots[i].path = (char *)(colon ? colon + 1 : a->cg_roots[i]);
		if (colon) {
			snprintf(ctls[i], sizeof(ctls[i]), "%.*s", (int)(colon - a->cg_roots[i]), a->cg_roots[i]);
			roots[i].ctrl = ctls[i];
		}
	}
	opts.n_cg_root = a->nr_cg_roots;
	opts.freeze_cgroup = (char *)a->freeze_cgroup;
	opts.cg_root = rootp;
	if (a->cg_mode) {
		static const char *const modes[] = { "ignore", "none", "props", "soft", "full", "strict" };

		for (int i = 0; i < 6; i++)
			if (!strcmp(a->cg_mode, modes[i])) {
				opts.has_manage_cgroups_mode = true;
				opts.manage_cgroups_mode = (CriuCgMode)i;
			}
	}
	opts.has_tcp_established = opts.tcp_established = a->tcp_established;
	opts.has_file_locks = opts.file_locks = a->file_locks;
	if (a->ghost_limit >= 0) {
		opts.has_ghost_limit = true;
		opts.ghost_limit = a->ghost_limit;
	}
	opts.has_ext_unix_sk = opts.ext_unix_sk = a->ext_unix_sk;
	opts.has_tcp_close = opts.tcp_close = a->tcp_close;
	opts.has_tcp_skip_in_flight = opts.tcp_skip_in_flight = a->skip_in_flight;
	if (a->network_lock) {
		opts.has_network_lock = true;
		opts.network_lock = a->network_lock;
	}

	if (a->page_server) {	/* the runner's --page-server */
		static CriuPageServerInfo ps = CRIU_PAGE_SERVER_INFO__INIT;

		ps.address = (char *)a->ps_address;
		ps.has_port = true;
		ps.port = a->ps_port;
		opts.ps = &ps;
	}

	swrk = start_swrk(criu, &sk);
	if (swrk < 0) {
		perror("criu-rpc: can't start criu swrk");
		return 1;
	}
	if (send_req(sk, &req)) {
		fprintf(stderr, "criu-rpc: can't send the request\n");
	} else if (!(resp = recv_resp(sk))) {
		fprintf(stderr, "criu-rpc: no answer from criu swrk\n");
	} else {
		if (!resp->success)
			fprintf(stderr, "criu-rpc: %s failed: %s (errno %d)\n", a->cmd,
				resp->cr_errmsg ? resp->cr_errmsg : "no message", resp->cr_errno);
		else if (req.type == CRIU_REQ_TYPE__RESTORE && (!resp->restore || resp->restore->pid <= 0))
			fprintf(stderr, "criu-rpc: restore answered without the root's pid\n");
		else if (req.type == CRIU_REQ_TYPE__RESTORE && a->pidfile &&
			 write_pidfile(a->pidfile, resp->restore->pid))
			perror("criu-rpc: can't write the pidfile");
		else
			ret = 0;
		criu_resp__free_unpacked(resp, NULL);
	}
	close(sk);
	if (waitpid(swrk, &status, 0) != swrk || !WIFEXITED(status)) {
		fprintf(stderr, "criu-rpc: criu swrk did not exit cleanly\n");
		ret = 1;
	}
	return ret;
}

int main(int argc, char **argv)
{
	struct args a = {};
	int dir_fd, ret;

	if (argc < 3)
		return usage("too few arguments");
	if (!strcmp(argv[2], "check")) {
		execv(argv[1], argv + 1);
		perror("criu-rpc: exec");
		return 1;
	}
	if (strcmp(argv[2], "dump") && strcmp(argv[2], "restore"))
		return usage("only dump, restore and check");
	if (parse(argc - 2, argv + 2, &a))
		return usage("bad arguments");
	dir_fd = open(a.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);	/* criu opens it through /proc/<us>/fd */
	if (dir_fd < 0) {
		perror("criu-rpc: images dir");
		return 1;
	}
	ret = run(argv[1], &a, dir_fd);
	close(dir_fd);
	for (int i = 0; i < a.nr_maps; i++)
		free(a.maps[i].key);	/* strndup()ed by parse() */
	return ret;
}
