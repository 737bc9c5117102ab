// SPDX-License-Identifier: GPL-2.0
/*
 * ns_user01: ns_user00 with setgroups "allow": the inside child also has
 * the supplementary groups 1003 and 1005 (101002 and 101004 outside), the
 * same after restore, seen from inside and from outside.
 */
#define NS_USER_ALLOW 1
#include "ns_user00.c"
