// SPDX-License-Identifier: GPL-2.0
/* sk_unix_name_taken: sk_unix_name_gone with a FIFO made where the socket file was, which stays as it is. */
#define NAME_TAKEN
#include "sk_unix_name_gone.c"
