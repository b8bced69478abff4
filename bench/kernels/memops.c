/*
 * memops: bulk memory, `n` rounds of filling a 1 MiB buffer, copying it to another, and an
 * overlapping move; Wasm builds use `memory.fill`/`memory.copy` (bulk memory), native builds the
 * C library's memset/memcpy/memmove.
 */
#include "kernel.h"

#define BUF_BYTES (1u << 20)

static uint8_t src[BUF_BYTES];
static uint8_t dst[BUF_BYTES];

uint32_t run(uint32_t n) {
    uint32_t h = 0x811c9dc5u;
    for (uint32_t round = 0; round < n; round++) {
        __builtin_memset(src, (int)(round & 0xff), BUF_BYTES);
        src[round % BUF_BYTES] = (uint8_t)(round * 7);
        __builtin_memcpy(dst, src, BUF_BYTES);
        __builtin_memmove(dst + 4096 + (round & 63), dst, BUF_BYTES / 2);
        for (uint32_t i = round % 4096; i < BUF_BYTES; i += 4096) {
            h = (h ^ dst[i]) * 0x01000193u;
        }
    }
    return h;
}
