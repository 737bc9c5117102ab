// SPDX-License-Identifier: GPL-2.0
/*
 * clone_sighand_refused: clone_vm_refused with CLONE_SIGHAND as well: the
 * two processes share their signal handlers, which the dump names first.
 */
#define SHARE_FLAGS (CLONE_VM | CLONE_SIGHAND)
#include "clone_vm_refused.c"
