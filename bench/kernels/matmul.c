/*
 * matmul: f64 matrix multiply, C = A x B with 64x64 matrices, `n` times; A is updated from C
 * after each product so the rounds depend on each other. Floating-point loads, multiplies and adds.
 */
#include "kernel.h"

#define N 64

static double a[N][N], b[N][N], c[N][N];

uint32_t run(uint32_t n) {
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < N; j++) {
            a[i][j] = (double)((i * 7 + j * 3) % 17) * 0.125 - 1.0;
            b[i][j] = (double)((i * 5 + j * 11) % 13) * 0.0625 + 0.5;
        }
    }
    for (uint32_t round = 0; round < n; round++) {
        for (int i = 0; i < N; i++) {
            for (int j = 0; j < N; j++) {
                c[i][j] = 0.0;
            }
            for (int k = 0; k < N; k++) {
                double aik = a[i][k];
                for (int j = 0; j < N; j++) {
                    c[i][j] += aik * b[k][j];
                }
            }
        }
        for (int i = 0; i < N; i++) {
            for (int j = 0; j < N; j++) {
                a[i][j] = c[i][j] * (1.0 / 64.0) - a[i][j] * 0.5;
            }
        }
    }
    uint32_t h = 0x811c9dc5u;
    for (int i = 0; i < N; i++) {
        double row = 0.0;
        for (int j = 0; j < N; j++) {
            row += c[i][j];
        }
        h = kernel_mix64(h, kernel_bits(row));
    }
    return h;
}
