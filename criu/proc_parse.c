// SPDX-License-Identifier: GPL-2.0
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "proc_parse.h"

int parse_pid_stat_buf(const char *buf, struct proc_pid_stat *ret)
{
	struct proc_pid_stat s = {};
	const char *open = strchr(buf, '('), *close = strrchr(buf, ')');
	unsigned long long skip;
	int n;

	/* comm may hold spaces and parentheses: it runs from the first '(' to the last ')'. */
	if (!open || !close || close < open || sscanf(buf, "%d", &s.pid) != 1)
		return -EINVAL;
	snprintf(s.comm, sizeof(s.comm), "%.*s", (int)min((size_t)(close - open - 1), sizeof(s.comm) - 1), open + 1);

	n = sscanf(close + 2,
		   "%c %d %d %d %d %*d %lu %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu %lu %*d %*u %lu %lu %lu"
		   " %*u %*u %lu %lu %lu %lu %*u %*u %*u %d %*d %*u %*u %*u %llu %*d %lu %lu %lu %lu %lu %lu %lu %d",
		   &s.state, &s.ppid, &s.pgid, &s.sid, &s.tty_nr, &s.flags, &s.start_time, &s.vsize, &s.start_code,
		   &s.end_code, &s.start_stack, &s.sigpending, &s.sigblocked, &s.sigignore, &s.sigcatch,
		   &s.exit_signal, &skip, &s.start_data, &s.end_data, &s.start_brk, &s.arg_start, &s.arg_end,
		   &s.env_start, &s.env_end, &s.exit_code);
	if (n != 25)
		return -EINVAL;
	*ret = s;
	return 0;
}

int parse_pid_stat(int proc_dfd, struct proc_pid_stat *ret)
{
	char buf[1024];
	int n = read_file_at(proc_dfd, "stat", buf, sizeof(buf));

	if (n < 0)
		return n;
	return parse_pid_stat_buf(buf, ret);
}
