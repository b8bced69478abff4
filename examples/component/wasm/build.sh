#!/bin/sh
# Rebuilds inventory.wasm (committed) from inventory.c and inventory.wit:
#   wit-bindgen (C bindings) -> clang-16 (wasm32-wasi reactor, Debian wasi-libc) -> wasm-tools component new.
# Tools: apt-get install clang-16 lld-16 wasi-libc libclang-rt-16-dev-wasm32
#        cargo install --locked wasm-tools@1.263.0 wit-bindgen-cli@0.63.0
set -eu
cd "$(dirname "$0")"
rm -rf gen && mkdir gen
wit-bindgen c --out-dir gen inventory.wit
clang-16 --target=wasm32-wasi -mexec-model=reactor -O2 -Wall -Werror -Wl,--strip-debug \
  -o gen/inventory.core.wasm inventory.c gen/inventory.c gen/inventory_component_type.o
wasm-tools component new gen/inventory.core.wasm -o inventory.wasm
wasm-tools validate inventory.wasm
rm -rf gen
