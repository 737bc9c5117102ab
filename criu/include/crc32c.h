/* SPDX-License-Identifier: GPL-2.0 */
/*
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of the
 * image manifest (image-check.c). crc32c("123456789") == 0xE3069283.
 */
#ifndef CRIU_CRC32C_H
#define CRIU_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/*
 * Extend crc (0 to start) over len bytes. Uses the SSE4.2 crc32 instruction
 * when the CPU has it, the table-driven code otherwise: same result.
 */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);
/* The table-driven code alone (for the unit test that compares both). */
uint32_t crc32c_sw(uint32_t crc, const void *buf, size_t len);

/*
 * The CRC of A followed by B, from crc_a = crc32c(0, A), crc_b = crc32c(0, B)
 * and B's length: pieces of a file can be summed apart, at once.
 */
uint32_t crc32c_combine(uint32_t crc_a, uint32_t crc_b, size_t len_b);

#endif
