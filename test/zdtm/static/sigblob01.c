// SPDX-License-Identifier: GPL-2.0
/*
 * sigblob01: sigblob00 with only SIGURG caught and nothing of SIGWINCH's or
 * SIGCHLD's touched: the dump's blob ends with SIGWINCH, which must leave no
 * trace (not pending, its action still SIG_DFL, no handler run).
 */
#define CATCH_WINCH 0
#define BLOCK_CHLD 0
#include "sigblob00.c"
