/*
 * The shared contract of every benchmark kernel: one entry point `run(n)` that does `n` units of
 * work and returns a 32-bit checksum of everything it computed. Kernels use no library and no
 * host function: the same source is compiled to Wasm (clang, build.sh) and natively (gcc, through
 * the `cc` crate in ../build.rs, which renames `run` to `<kernel>_run` with a -D flag).
 *
 * Every value that reaches the checksum has an explicit width (no `long`, no `size_t`), so the
 * 32-bit Wasm build and the 64-bit native build compute exactly the same result.
 */
#ifndef AOT_BENCH_KERNEL_H
#define AOT_BENCH_KERNEL_H

#include <stdint.h>

/* The entry point, exported as `run` from the Wasm module. */
uint32_t run(uint32_t n);

/* Mixes a 64-bit value into a 32-bit checksum (used for floating-point results, by their bits). */
static inline uint32_t kernel_mix64(uint32_t h, uint64_t v) {
    h ^= (uint32_t)v;
    h *= 0x01000193u;
    h ^= (uint32_t)(v >> 32);
    h *= 0x01000193u;
    return h;
}

/* The bits of a double, without a library call. */
static inline uint64_t kernel_bits(double d) {
    union {
        double d;
        uint64_t u;
    } pun;
    pun.d = d;
    return pun.u;
}

#endif
