// SPDX-License-Identifier: GPL-2.0
/*
 * CRC-32C for the image manifest: the SSE4.2 crc32 instruction, eight bytes
 * at a time, when the CPU has it (about as fast as the page cache can hand
 * the images back); else slicing-by-8 over tables built on first use.
 */
#include <pthread.h>
#include <string.h>

#include "crc32c.h"

#define POLY 0x82F63B78u

/* Built once (pthread_once): table[k][b] is the CRC of byte b followed by k zero bytes. */
static uint32_t table[8][256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void build_table(void)
{
	for (uint32_t b = 0; b < 256; b++) {
		uint32_t c = b;

		for (int i = 0; i < 8; i++)
			c = c & 1 ? (c >> 1) ^ POLY : c >> 1;
		table[0][b] = c;
	}
	for (uint32_t b = 0; b < 256; b++)
		for (int k = 1; k < 8; k++)
			table[k][b] = (table[k - 1][b] >> 8) ^ table[0][table[k - 1][b] & 0xff];
}

uint32_t crc32c_sw(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	pthread_once(&table_once, build_table);
	crc = ~crc;
	while (len && ((uintptr_t)p & 7)) {
		crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xff];
		len--;
	}
	while (len >= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		v ^= crc;
		crc = table[7][v & 0xff] ^ table[6][(v >> 8) & 0xff] ^ table[5][(v >> 16) & 0xff] ^
		      table[4][(v >> 24) & 0xff] ^ table[3][(v >> 32) & 0xff] ^ table[2][(v >> 40) & 0xff] ^
		      table[1][(v >> 48) & 0xff] ^ table[0][v >> 56];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xff];
	return ~crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint64_t c = ~crc;

	while (len && ((uintptr_t)p & 7)) {
		c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
		len--;
	}
	while (len >= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		c = __builtin_ia32_crc32di(c, v);
		p += 8;
		len -= 8;
	}
	while (len--)
		c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
	return ~(uint32_t)c;
}

/*
 * The crc32 instruction takes 3 cycles but can start one per cycle: three
 * independent CRCs of three thirds of a long buffer, combined after, run
 * about three times as fast as one chain.
 */
#define HW3_MIN 4096
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw3(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t third = (len / 3) & ~(size_t)7;
	const unsigned char *q = p + third, *r = p + 2 * third;
	uint64_t a = ~crc, b = ~0u, c = ~0u;

	for (size_t i = 0; i < third; i += 8) {
		uint64_t va, vb, vc;

		memcpy(&va, p + i, 8);
		memcpy(&vb, q + i, 8);
		memcpy(&vc, r + i, 8);
		a = __builtin_ia32_crc32di(a, va);
		b = __builtin_ia32_crc32di(b, vb);
		c = __builtin_ia32_crc32di(c, vc);
	}
	crc = crc32c_combine(~(uint32_t)a, ~(uint32_t)b, third);
	crc = crc32c_combine(crc, ~(uint32_t)c, third);
	return crc32c_hw(crc, p + 3 * third, len - 3 * third);
}

uint32_t crc32c(uint32_t crc, const void *buf, size_t len)
{
	if (__builtin_cpu_supports("sse4.2"))
		return len >= HW3_MIN ? crc32c_hw3(crc, buf, len) : crc32c_hw(crc, buf, len);
	return crc32c_sw(crc, buf, len);
}
#else
uint32_t crc32c(uint32_t crc, const void *buf, size_t len)
{
	return crc32c_sw(crc, buf, len);
}
#endif

/*
 * Combining CRCs: with the pre- and post-inversion of crc32c(), the CRC of
 * A then B is the CRC of A multiplied by x^(8 * len(B)) modulo the
 * polynomial, xor the CRC of B. Polynomials are bit-reversed as in the CRC
 * itself: bit 31 is x^0.
 */
static uint32_t gf2_mul(uint32_t a, uint32_t b)
{
	uint32_t prod = 0;

	for (uint32_t bit = 1u << 31; bit; bit >>= 1) {
		if (a & bit)
			prod ^= b;
		b = b & 1 ? (b >> 1) ^ POLY : b >> 1;	/* b times x */
	}
	return prod;
}

/* x^(8 * len) modulo the polynomial, by squaring. */
static uint32_t x_pow_bytes(size_t len)
{
	uint32_t result = 1u << 31;	/* x^0 */
	uint32_t sq = 1u << 23;		/* x^8: one byte */

	while (len) {
		if (len & 1)
			result = gf2_mul(result, sq);
		sq = gf2_mul(sq, sq);
		len >>= 1;
	}
	return result;
}

uint32_t crc32c_combine(uint32_t crc_a, uint32_t crc_b, size_t len_b)
{
	return gf2_mul(crc_a, x_pow_bytes(len_b)) ^ crc_b;
}
