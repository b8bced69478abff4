#!/bin/sh
# Rebuilds the committed Wasm kernels (kernels/*.wasm) from their C sources with clang-16.
#
# Needs clang-16 and lld-16 (Debian/Ubuntu: apt-get install -y clang-16 lld-16). The flags are the
# contract of the benchmark: wasm32, -O2, no C library and no imports (-nostdlib, --no-entry), only
# `run` (and the memory) exported, and the WebAssembly 2.0 features clang 16 leaves off by default:
# bulk memory (memset/memcpy become memory.fill/memory.copy), SIMD (auto-vectorization),
# non-trapping float-to-int and sign extension.
set -eu
cd "$(dirname "$0")"
CLANG="${CLANG:-clang-16}"
for src in *.c; do
    name="${src%.c}"
    "$CLANG" --target=wasm32-unknown-unknown -O2 -ffreestanding -nostdlib \
        -mbulk-memory -msimd128 -mnontrapping-fptoint -msign-ext \
        -Wl,--no-entry -Wl,--export=run -Wl,--strip-debug \
        -o "$name.wasm" "$src"
    echo "built kernels/$name.wasm ($(wc -c <"$name.wasm") bytes)"
done
