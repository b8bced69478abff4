/*
 * sort: quicksort (median of three, insertion sort below 16 elements) of 32768 pseudo-random
 * 32-bit integers, `n` times with different seeds. Unpredictable branches, loads and stores.
 */
#include "kernel.h"

#define LEN 32768

static uint32_t data[LEN];

static void insertion_sort(uint32_t *v, int32_t len) {
    for (int32_t i = 1; i < len; i++) {
        uint32_t x = v[i];
        int32_t j = i - 1;
        while (j >= 0 && v[j] > x) {
            v[j + 1] = v[j];
            j--;
        }
        v[j + 1] = x;
    }
}

static void swap(uint32_t *a, uint32_t *b) {
    uint32_t t = *a;
    *a = *b;
    *b = t;
}

static void quicksort(uint32_t *v, int32_t len) {
    while (len > 16) {
        int32_t mid = len / 2;
        if (v[mid] < v[0]) swap(&v[mid], &v[0]);
        if (v[len - 1] < v[0]) swap(&v[len - 1], &v[0]);
        if (v[len - 1] < v[mid]) swap(&v[len - 1], &v[mid]);
        uint32_t pivot = v[mid];
        int32_t i = 0, j = len - 1;
        for (;;) {
            while (v[i] < pivot) i++;
            while (v[j] > pivot) j--;
            if (i >= j) break;
            swap(&v[i], &v[j]);
            i++;
            j--;
        }
        /* Recurse into the smaller half, loop on the larger one. */
        int32_t left = j + 1;
        if (left < len - left) {
            quicksort(v, left);
            v += left;
            len -= left;
        } else {
            quicksort(v + left, len - left);
            len = left;
        }
    }
    insertion_sort(v, len);
}

uint32_t run(uint32_t n) {
    uint32_t h = 0x811c9dc5u;
    uint32_t x = 0x2545f491u;
    for (uint32_t round = 0; round < n; round++) {
        for (int32_t i = 0; i < LEN; i++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            data[i] = x;
        }
        quicksort(data, LEN);
        for (int32_t i = 0; i < LEN; i += 97) {
            h = (h ^ data[i]) * 0x01000193u;
        }
        h ^= (uint32_t)(data[0] <= data[LEN - 1]);
    }
    return h;
}
