// SPDX-License-Identifier: GPL-2.0
/* sk_tcp_lock_fail_nft: sk_tcp_lock_fail with --network-lock nftables (see its .desc). */
#include "sk_tcp_lock_fail.c"
