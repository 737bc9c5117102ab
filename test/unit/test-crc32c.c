// SPDX-License-Identifier: GPL-2.0
/*
 * Unit test of crc32c() (criu/crc32c.c), the image manifest's checksum:
 * the check value of "123456789" and the iSCSI vectors of RFC 3720 (B.4);
 * a CRC extended piece by piece equals the one-shot CRC; the SSE4.2 path and
 * the table path agree on random buffers at every alignment and length;
 * crc32c_combine() of two pieces' CRCs gives the CRC of the whole.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "crc32c.h"
#include "tap.h"

int main(void)
{
	unsigned char buf[4096 + 16], v[32];
	bool same = true, split = true;

	check(crc32c(0, "123456789", 9) == 0xE3069283, "crc32c(\"123456789\") is 0xE3069283");
	check(crc32c_sw(0, "123456789", 9) == 0xE3069283, "the table code agrees");
	memset(v, 0, sizeof(v));
	check(crc32c(0, v, 32) == 0x8A9136AA, "32 zero bytes: 0x8A9136AA (RFC 3720)");
	memset(v, 0xff, sizeof(v));
	check(crc32c(0, v, 32) == 0x62A8AB43, "32 0xff bytes: 0x62A8AB43");
	for (int i = 0; i < 32; i++)
		v[i] = i;
	check(crc32c(0, v, 32) == 0x46DD794E, "bytes 0..31: 0x46DD794E");
	check(crc32c(0, v, 0) == 0, "an empty buffer: 0");

	srand(18);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = rand();
	for (int off = 0; off < 16; off++) {
		for (size_t len = 0; len < 300; len += 7) {
			uint32_t one = crc32c(0, buf + off, len);

			if (one != crc32c_sw(0, buf + off, len))
				same = false;
			for (size_t cut = 0; cut <= len; cut += 13)
				if (crc32c(crc32c(0, buf + off, cut), buf + off + cut, len - cut) != one)
					split = false;
		}
	}
	check(crc32c(0, buf, 4096) == crc32c_sw(0, buf, 4096), "4 KiB: both paths agree");
	same = true;
	for (size_t len = 4000; len <= 4096; len++)
		for (int off = 0; off < 16 && len + off <= sizeof(buf); off += 5)
			if (crc32c(0x1234, buf + off, len) != crc32c_sw(0x1234, buf + off, len))
				same = false;
	check(same, "long buffers (three chains at once): both paths agree");
	check(same, "both paths agree at every alignment and length up to 300");
	check(split, "extending a CRC piece by piece gives the one-shot CRC");
	split = true;
	for (size_t len = 0; len < sizeof(buf); len += 61)
		for (size_t cut = 0; cut <= len; cut += 97)
			if (crc32c_combine(crc32c(0, buf, cut), crc32c(0, buf + cut, len - cut), len - cut) !=
			    crc32c(0, buf, len))
				split = false;
	check(split, "crc32c_combine() of two pieces gives the one-shot CRC");
	printf("1..%d\n", nr_test);
	return nr_fail ? 1 : 0;
}
