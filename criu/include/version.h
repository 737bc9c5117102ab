/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The CRIU interface level this tool implements (command line, RPC, images),
 * and the name of this implementation. `criu --version` prints
 * "Version: MAJOR.MINOR" first, as CRIU does; the RPC version request
 * answers with the same numbers.
 */
#ifndef CRIU_VERSION_H
#define CRIU_VERSION_H

#include "config.h"	/* CRIU_VERSION: this project's own release */

#define CRIU_VERSION_MAJOR	4
#define CRIU_VERSION_MINOR	2
#define CRIU_VERSION_SUBLEVEL	0

/* "4.2": what `criu --version` reports as its Version (SUBLEVEL 0 is not printed, as in CRIU) */
#define CRIU_INTERFACE_VERSION	"4.2"
/* the implementation: a from-scratch CRIU with pidfd support */
#define CRIU_EDITION_NAME	"criu (pidfd edition)"
#define CRIU_EDITION_VERSION	CRIU_VERSION

#endif
