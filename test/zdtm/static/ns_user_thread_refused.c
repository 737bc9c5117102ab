// SPDX-License-Identifier: GPL-2.0
/*
 * ns_user_thread_refused: the task enters a user namespace of its own and
 * then starts a second thread. A task enters a user namespace only while it
 * has one thread, and criu restores threads before that: the dump must
 * fail naming the task's threads, and both threads must still run in the
 * same user namespace.
 */
#include <pthread.h>

#include "ns_user.h"

static void *spin(void *arg)
{
	int *stop = arg;

	while (!__atomic_load_n(stop, __ATOMIC_SEQ_CST))
		usleep(10000);
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned long user;
	pthread_t th;
	int stop = 0;

	test_init(argc, argv);
	if (ns_user_enter())
		return 1;
	if (pthread_create(&th, NULL, spin, &stop)) {
		fail("pthread_create");
		return 1;
	}
	user = ns_ino("self", "user");
	test_daemon();
	test_waitsig();

	ns_same("self", "user", user);
	ns_same("thread-self", "user", user);
	__atomic_store_n(&stop, 1, __ATOMIC_SEQ_CST);
	pthread_join(th, NULL);
	if (test_failed())
		return 1;
	pass();
	return 0;
}
