// SPDX-License-Identifier: GPL-2.0
/* sk_unix_name_taken_refused: sk_unix_name_gone with a FIFO made where the socket file was. */
#define NAME_TAKEN
#include "sk_unix_name_gone.c"
