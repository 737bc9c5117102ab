/* SPDX-License-Identifier: GPL-2.0 */
/* Kernel features probed at run time (never by version). */
#ifndef CRIU_KERNDAT_H
#define CRIU_KERNDAT_H

#include <stdbool.h>

struct kerndat_feature {
	const char *name;	/* criu check --feature NAME */
	const char *what;	/* one line for criu check */
	int (*probe)(void);	/* 0: supported; -errno: not */
	bool required;		/* dump/restore can't work without it */
};

const struct kerndat_feature *kerndat_features(int *ret_nr);
const struct kerndat_feature *kerndat_find(const char *name);
/* Cached result of a probe by name: 0 supported, -errno not. */
int kerndat_has(const char *name);

#endif
