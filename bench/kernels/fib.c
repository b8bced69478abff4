/*
 * fib: naive doubly recursive Fibonacci, fib(25) `n` times. Dominated by direct calls and returns
 * (prologues, epilogues, stack checks).
 */
#include "kernel.h"

__attribute__((noinline)) static uint32_t fib(uint32_t k) {
    return k < 2 ? k : fib(k - 1) + fib(k - 2);
}

uint32_t run(uint32_t n) {
    uint32_t sum = 0;
    for (uint32_t i = 0; i < n; i++) {
        sum += fib(25 - (i & 1));
    }
    return sum;
}
