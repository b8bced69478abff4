/*
 * crc32: table-driven CRC-32 (IEEE, reflected) of a 64 KiB buffer, `n` times, chaining the CRC.
 * Byte loads, a table lookup per byte, shifts and xors: a latency-bound loop.
 */
#include "kernel.h"

#define BUF_BYTES 65536

static uint8_t buffer[BUF_BYTES];
static uint32_t table[256];

uint32_t run(uint32_t n) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) {
            c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
        }
        table[i] = c;
    }
    uint32_t x = 12345;
    for (uint32_t i = 0; i < BUF_BYTES; i++) {
        x = x * 1103515245u + 12345u;
        buffer[i] = (uint8_t)(x >> 16);
    }
    uint32_t crc = 0;
    for (uint32_t round = 0; round < n; round++) {
        crc = ~crc;
        for (uint32_t i = 0; i < BUF_BYTES; i++) {
            crc = table[(crc ^ buffer[i]) & 0xff] ^ (crc >> 8);
        }
        crc = ~crc;
    }
    return crc;
}
