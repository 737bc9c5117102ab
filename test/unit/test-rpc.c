// SPDX-License-Identifier: GPL-2.0
/*
 * criu swrk over a socketpair, as go-criu and runc drive it: VERSION and
 * FEATURE_CHECK on one keep_open session, CHECK, requests we don't support
 * (CPUINFO_DUMP; PAGE_SERVER, PRE_DUMP without opts; an unsupported criu_opts field, which must leave the target
 * running), a malformed packet (an error answer, criu exits without a
 * crash), a refused post-dump notification (as in CRIU: the dump fails,
 * the tree resumes and the images are kept), then a DUMP and a RESTORE (rst_sibling) of the zdtm test
 * env00 with every action-script notification acknowledged: the restored
 * root has its pid, is our child, and passes its own check after SIGTERM.
 * Needs root; TAP output, exit 77 when criu/criu or env00 is not built.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rpc.pb-c.h"
#include "tap.h"

#define CRIU "criu/criu"
#define ENV00 "test/build/zdtm/static/env00"

static char tmp[] = "/tmp/test-rpc.XXXXXX";
static char criu_path[4096];

struct swrk {
	pid_t pid;
	int sk;
};

static int swrk_start(struct swrk *s)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return -1;
	s->pid = fork();
	if (s->pid == 0) {
		char fd[16];
		int dn = open("/dev/null", O_WRONLY);

		/* the server end, without CLOEXEC, under its own number */
		fcntl(sv[1], F_SETFD, 0);
		snprintf(fd, sizeof(fd), "%d", sv[1]);
		if (dn >= 0)
			dup2(dn, STDOUT_FILENO);
		execl(criu_path, criu_path, "swrk", fd, NULL);
		_exit(127);
	}
	close(sv[1]);
	s->sk = sv[0];
	return s->pid < 0 ? -1 : 0;
}

/* Close our end and reap criu; its wait status. */
static int swrk_finish(struct swrk *s)
{
	int status = -1;

	close(s->sk);
	waitpid(s->pid, &status, 0);
	return status;
}

static int send_req(int sk, CriuReq *req)
{
	size_t len = criu_req__get_packed_size(req);
	uint8_t buf[len ?: 1];

	criu_req__pack(req, buf);
	return send(sk, buf, len, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

/* The next answer, NULL on EOF or garbage (waits at most 60 s). */
static CriuResp *recv_resp(int sk)
{
	uint8_t buf[65536];
	struct timeval tv = { .tv_sec = 60 };
	ssize_t n;

	setsockopt(sk, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = recv(sk, buf, sizeof(buf), 0);
	if (n <= 0)
		return NULL;
	return criu_resp__unpack(NULL, n, buf);
}

/* One request on a fresh swrk, no notifications expected. */
static CriuResp *one_shot(CriuReq *req, int *ret_status)
{
	struct swrk s;
	CriuResp *resp = NULL;

	if (swrk_start(&s))
		return NULL;
	if (!send_req(s.sk, req))
		resp = recv_resp(s.sk);
	*ret_status = swrk_finish(&s);
	return resp;
}

static bool has_text(const char *s, const char *what)
{
	return s && strstr(s, what);
}

static void test_version_features(void)
{
	CriuReq req = CRIU_REQ__INIT;
	CriuFeatures f = CRIU_FEATURES__INIT;
	CriuResp *r;
	struct swrk s;

	if (!check(!swrk_start(&s), "criu swrk starts"))
		return;
	req.type = CRIU_REQ_TYPE__VERSION;
	req.has_keep_open = req.keep_open = true;
	send_req(s.sk, &req);
	r = recv_resp(s.sk);
	check(r && r->type == CRIU_REQ_TYPE__VERSION && r->success && r->version, "VERSION answered");
	if (r && r->version) {
		check(r->version->major_number == 4 && r->version->minor_number == 2 && r->version->has_sublevel,
		      "VERSION is 4.2.%d (>= 3.11 for runc)", r->version->sublevel);
		check(has_text(r->version->name, "pidfd edition"), "VERSION names the project: '%s'",
		      r->version->name ?: "");
		check(!r->version->gitid, "VERSION has no gitid (go-criu would bump the minor)");
	}
	if (r)
		criu_resp__free_unpacked(r, NULL);

	/* the same session: keep_open was honoured */
	req = (CriuReq)CRIU_REQ__INIT;
	req.type = CRIU_REQ_TYPE__FEATURE_CHECK;
	f.has_mem_track = f.mem_track = true;
	f.has_lazy_pages = f.lazy_pages = true;
	req.features = &f;
	send_req(s.sk, &req);
	r = recv_resp(s.sk);
	check(r && r->type == CRIU_REQ_TYPE__FEATURE_CHECK && r->success && r->features,
	      "FEATURE_CHECK answered on the keep_open session");
	if (r && r->features)
		check(r->features->has_mem_track && r->features->mem_track && r->features->has_lazy_pages &&
			      r->features->lazy_pages,
		      "FEATURE_CHECK: mem_track (pre-dump), lazy_pages (this kernel's userfaultfd has its events)");
	if (r)
		criu_resp__free_unpacked(r, NULL);
	check(WIFEXITED(swrk_finish(&s)), "criu swrk exits once the session ends");
}

static void test_check_and_refusals(void)
{
	CriuReq req = CRIU_REQ__INIT;
	CriuResp *r;
	int st;

	req.type = CRIU_REQ_TYPE__CHECK;
	r = one_shot(&req, &st);
	check(r && r->type == CRIU_REQ_TYPE__CHECK && r->success, "CHECK succeeds (%s)",
	      r && r->cr_errmsg ? r->cr_errmsg : "");
	check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "criu swrk exits 0 after CHECK");
	if (r)
		criu_resp__free_unpacked(r, NULL);

	req.type = CRIU_REQ_TYPE__CPUINFO_DUMP;
	r = one_shot(&req, &st);
	check(r && r->type == CRIU_REQ_TYPE__CPUINFO_DUMP && !r->success && r->has_cr_errno &&
		      r->cr_errno == EOPNOTSUPP && has_text(r->cr_errmsg, "CPUINFO_DUMP"),
	      "CPUINFO_DUMP is refused by name: '%s'", r && r->cr_errmsg ? r->cr_errmsg : "");
	if (r)
		criu_resp__free_unpacked(r, NULL);

	req.type = CRIU_REQ_TYPE__PAGE_SERVER;
	r = one_shot(&req, &st);
	check(r && r->type == CRIU_REQ_TYPE__PAGE_SERVER && !r->success && has_text(r->cr_errmsg, "no opts"),
	      "PAGE_SERVER without opts is refused: '%s'", r && r->cr_errmsg ? r->cr_errmsg : "");
	if (r)
		criu_resp__free_unpacked(r, NULL);

	req.type = CRIU_REQ_TYPE__PRE_DUMP;
	r = one_shot(&req, &st);
	check(r && r->type == CRIU_REQ_TYPE__PRE_DUMP && !r->success && has_text(r->cr_errmsg, "no opts"),
	      "PRE_DUMP without opts is refused: '%s'", r && r->cr_errmsg ? r->cr_errmsg : "");
	if (r)
		criu_resp__free_unpacked(r, NULL);

	req.type = 77;
	r = one_shot(&req, &st);
	check(r && !r->success && has_text(r->cr_errmsg, "invalid request type 77"),
	      "an unknown request type is refused: '%s'", r && r->cr_errmsg ? r->cr_errmsg : "");
	if (r)
		criu_resp__free_unpacked(r, NULL);
}

static void test_malformed(void)
{
	static const uint8_t junk[] = { 0xff, 0xff, 0xff, 0xff, 0x0f, 0x08 };
	CriuResp *r = NULL;
	struct swrk s;
	int st;

	if (!check(!swrk_start(&s), "criu swrk starts"))
		return;
	if (send(s.sk, junk, sizeof(junk), MSG_NOSIGNAL) == sizeof(junk))
		r = recv_resp(s.sk);
	check(r && !r->success && r->type == CRIU_REQ_TYPE__EMPTY && has_text(r->cr_errmsg, "malformed request"),
	      "a malformed packet gets an error answer: '%s'", r && r->cr_errmsg ? r->cr_errmsg : "");
	st = swrk_finish(&s);
	check(WIFEXITED(st) && WEXITSTATUS(st) == 1, "criu exits 1 after it, no crash (status 0x%x)", st);
	if (r)
		criu_resp__free_unpacked(r, NULL);
}

/* ------------------------------------------------------------ env00 */

static pid_t start_env00(void)
{
	char pidf[300], outf[300], buf[32] = "";
	pid_t launcher;
	int st, fd;

	snprintf(pidf, sizeof(pidf), "%s/env00.pid", tmp);
	snprintf(outf, sizeof(outf), "%s/env00.out", tmp);
	unlink(pidf);
	unlink(outf);
	launcher = fork();
	if (launcher == 0) {
		char a1[320], a2[320];
		int dn = open("/dev/null", O_RDWR);

		snprintf(a1, sizeof(a1), "--pidfile=%s", pidf);
		snprintf(a2, sizeof(a2), "--outfile=%s", outf);
		dup2(dn, 0);
		dup2(dn, 1);
		dup2(dn, 2);
		execl(ENV00, ENV00, a1, a2, NULL);
		_exit(127);
	}
	/* the launcher exits 0 once the test is ready and wrote its pidfile */
	if (launcher < 0 || waitpid(launcher, &st, 0) != launcher || !WIFEXITED(st) || WEXITSTATUS(st))
		return -1;
	fd = open(pidf, O_RDONLY);
	if (fd < 0 || read(fd, buf, sizeof(buf) - 1) <= 0)
		return -1;
	close(fd);
	return atoi(buf);
}

static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	int fd, n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] ? p[2] : 0;
}

/* Running or sleeping as it likes: not stopped, traced, a zombie or gone (a resumed task may be on a CPU). */
static int runs_free(pid_t pid)
{
	char st = proc_state(pid);

	return st == 'S' || st == 'R';
}

static bool file_exists(const char *dir, const char *name)
{
	char path[400];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

/*
 * Send req on a fresh swrk, answer every NOTIFY (recorded in seen, with
 * the post-restore pid in *ret_notify_pid) with success unless its name is
 * refuse. Returns the final answer.
 */
static CriuResp *run_with_notify(CriuReq *req, const char *refuse, char *seen, size_t seen_len,
				 pid_t *ret_notify_pid)
{
	CriuResp *r;
	struct swrk s;

	seen[0] = '\0';
	if (swrk_start(&s))
		return NULL;
	send_req(s.sk, req);
	while ((r = recv_resp(s.sk)) && r->type == CRIU_REQ_TYPE__NOTIFY && r->notify) {
		CriuReq ack = CRIU_REQ__INIT;
		const char *name = r->notify->script ?: "?";

		snprintf(seen + strlen(seen), seen_len - strlen(seen), "%s%s", seen[0] ? "," : "", name);
		if (!strcmp(name, "post-restore") && r->notify->has_pid && ret_notify_pid)
			*ret_notify_pid = r->notify->pid;
		ack.type = CRIU_REQ_TYPE__NOTIFY;
		ack.has_notify_success = true;
		ack.notify_success = !refuse || strcmp(name, refuse);
		criu_resp__free_unpacked(r, NULL);
		send_req(s.sk, &ack);
	}
	swrk_finish(&s);
	return r;
}

static void test_dump_restore(void)
{
	char imgs[300], seen[256];
	CriuReq req = CRIU_REQ__INIT;
	CriuOpts o = CRIU_OPTS__INIT;
	pid_t pid, notified = 0;
	CriuResp *r;
	int dfd, st;

	pid = start_env00();
	if (!check(pid > 0, "env00 started (pid %d)", pid))
		return;
	snprintf(imgs, sizeof(imgs), "%s/imgs", tmp);
	mkdir(imgs, 0700);
	dfd = open(imgs, O_RDONLY | O_DIRECTORY);

	o.images_dir_fd = dfd;
	o.has_pid = true;
	o.pid = pid;
	o.log_file = "dump.log";
	o.has_log_level = true;
	o.log_level = 4;
	req.type = CRIU_REQ_TYPE__DUMP;
	req.opts = &o;

	/* an option we don't implement: refused by name, before anything is touched */
	o.has_auto_ext_mnt = o.auto_ext_mnt = true;
	r = one_shot(&req, &st);
	check(r && r->type == CRIU_REQ_TYPE__DUMP && !r->success && has_text(r->cr_errmsg, "auto_ext_mnt"),
	      "DUMP with auto_ext_mnt is refused by name: '%s'", r && r->cr_errmsg ? r->cr_errmsg : "");
	check(runs_free(pid), "env00 still runs, untouched (state %c)", proc_state(pid) ?: '-');
	if (r)
		criu_resp__free_unpacked(r, NULL);
	o.has_auto_ext_mnt = o.auto_ext_mnt = false;

	/* the client fails post-dump: as in CRIU the dump fails, the tree goes on, the images stay */
	o.has_notify_scripts = o.notify_scripts = true;
	r = run_with_notify(&req, "post-dump", seen, sizeof(seen), NULL);
	check(r && r->type == CRIU_REQ_TYPE__DUMP && !r->success && has_text(r->cr_errmsg, "post-dump"),
	      "a refused post-dump fails the DUMP: '%s'", r && r->cr_errmsg ? r->cr_errmsg : "");
	check(!strcmp(seen, "pre-dump,post-dump"), "notifications: %s", seen);
	check(runs_free(pid) && file_exists(imgs, "inventory.img"),
	      "env00 runs on (state %c), the images are kept", proc_state(pid) ?: '-');
	if (r)
		criu_resp__free_unpacked(r, NULL);

	/* the dump */
	r = run_with_notify(&req, NULL, seen, sizeof(seen), NULL);
	check(r && r->type == CRIU_REQ_TYPE__DUMP && r->success && r->dump && !r->dump->restored,
	      "DUMP through RPC succeeds (%s)", r && r->cr_errmsg ? r->cr_errmsg : "");
	check(!strcmp(seen, "pre-dump,post-dump"), "DUMP notifications: %s", seen);
	check(file_exists(imgs, "inventory.img") && file_exists(imgs, "dump.log"),
	      "inventory.img and dump.log are in the images dir (opened through images_dir_fd)");
	if (r)
		criu_resp__free_unpacked(r, NULL);
	/* we are a subreaper: the killed env00 is ours to reap */
	check(waitpid(pid, &st, 0) == pid && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
	      "the dumped env00 was killed");

	/* a restore the client stops at pre-restore: nothing starts */
	o.has_pid = false;
	o.log_file = "restore.log";
	o.has_rst_sibling = o.rst_sibling = true;
	req.type = CRIU_REQ_TYPE__RESTORE;
	r = run_with_notify(&req, "pre-restore", seen, sizeof(seen), NULL);
	check(r && r->type == CRIU_REQ_TYPE__RESTORE && !r->success && has_text(r->cr_errmsg, "pre-restore") &&
		      proc_state(pid) == 0,
	      "a refused pre-restore fails the RESTORE, nothing started: '%s'",
	      r && r->cr_errmsg ? r->cr_errmsg : "");
	if (r)
		criu_resp__free_unpacked(r, NULL);

	/* the restore, as our child (rst_sibling) */
	r = run_with_notify(&req, NULL, seen, sizeof(seen), &notified);
	check(r && r->type == CRIU_REQ_TYPE__RESTORE && r->success && r->restore && r->restore->pid == pid,
	      "RESTORE through RPC succeeds, resp.restore.pid %d (dumped %d) (%s)", r && r->restore ? r->restore->pid : 0,
	      pid, r && r->cr_errmsg ? r->cr_errmsg : "");
	check(!strcmp(seen, "pre-restore,post-restore,pre-resume,post-resume"), "RESTORE notifications: %s", seen);
	check(notified == pid, "post-restore carried the root's pid (%d)", notified);
	if (r)
		criu_resp__free_unpacked(r, NULL);
	close(dfd);

	/* rst_sibling: the restored root is our own child, so this waitpid is not the subreaper's */
	kill(pid, SIGTERM);
	check(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "restored env00 exits 0 after SIGTERM (status 0x%x)", st);
	{
		char outf[300], buf[64] = "";
		int fd;

		snprintf(outf, sizeof(outf), "%s/env00.out", tmp);
		fd = open(outf, O_RDONLY);
		if (fd >= 0 && read(fd, buf, sizeof(buf) - 1) < 0)
			buf[0] = '\0';
		if (fd >= 0)
			close(fd);
		check(!strcmp(buf, "PASS\n"), "env00's verdict after restore: %s", buf);
	}
}

int main(void)
{
	if (access(CRIU, X_OK) || access(ENV00, X_OK)) {
		printf("# SKIP: %s or %s is not built\n", CRIU, ENV00);
		return 77;
	}
	if (geteuid()) {
		printf("# SKIP: needs root\n");
		return 77;
	}
	if (!realpath(CRIU, criu_path) || !mkdtemp(tmp))
		return 1;
	/* orphans of the dumps and restores come back to us */
	prctl(PR_SET_CHILD_SUBREAPER, 1);

	test_version_features();
	test_check_and_refusals();
	test_malformed();
	test_dump_restore();

	{
		char cmd[400];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
		if (!nr_fail && system(cmd))
			printf("# can't remove %s\n", tmp);
	}
	printf("1..%d\n", nr_test);
	return nr_fail ? 1 : 0;
}
