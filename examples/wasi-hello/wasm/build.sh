#!/bin/sh
# Rebuilds wasm/hello.wasm (a WASI 0.2 command component) from wasm/hello.c:
#   clang-16 + Debian wasi-libc -> a preview-1 core module, then the componentize tool of
#   tests/fixtures/wasi (wit-component + the Wasmtime 48 preview-1 command adapter).
# Needs: apt-get install clang-16 lld-16 wasi-libc libclang-rt-16-dev-wasm32
# The built hello.wasm is committed; the example never needs these tools.
set -eu
cd "$(dirname "$0")"
root=$(cd ../../.. && pwd)
: "${CARGO_TARGET_DIR:=$root/tests/fixtures/wasi/componentize/target}"
export CARGO_TARGET_DIR
cargo build --quiet --release --locked --manifest-path "$root/tests/fixtures/wasi/componentize/Cargo.toml"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
clang-16 --target=wasm32-wasi -mexec-model=command -O2 -Wall -Wextra -Werror -Wl,--strip-debug \
  -o "$tmp/hello-core.wasm" hello.c
"$CARGO_TARGET_DIR/release/wasi-componentize" "$tmp/hello-core.wasm" hello.wasm
chmod 644 hello.wasm
