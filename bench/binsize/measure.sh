#!/bin/sh
# Measures the stripped size of a compiler-free release binary: our `examples/hello` against the
# same program on a runtime-only Wasmtime 48 (`binsize/wasmtime-hello`), both built here with the
# same (default) release profile, stripped with `strip`, and run once to show they work.
# Writes bench/binary_size.json, which the benchmark program folds into results.json.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$here/../target}"
cargo build --release --manifest-path "$root/Cargo.toml" -p hello
cargo build --release --manifest-path "$here/wasmtime-hello/Cargo.toml"
out="$CARGO_TARGET_DIR/binsize"
mkdir -p "$out"
cp "$CARGO_TARGET_DIR/release/hello" "$out/ours-hello"
cp "$CARGO_TARGET_DIR/release/wasmtime-hello" "$out/wasmtime-hello"
strip "$out/ours-hello" "$out/wasmtime-hello"
"$out/ours-hello" >/dev/null
"$out/wasmtime-hello" >/dev/null
ours=$(wc -c <"$out/ours-hello")
theirs=$(wc -c <"$out/wasmtime-hello")
cat >"$here/../binary_size.json" <<JSON
{
  "ours": $ours,
  "wasmtime": $theirs,
  "ours_program": "examples/hello (aot-runtime, features std + runtime)",
  "wasmtime_program": "bench/binsize/wasmtime-hello (wasmtime 48, default-features = false, features = [\"runtime\", \"std\"])",
  "profile": "release (Cargo defaults), then strip",
  "measured_at": "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
}
JSON
echo "stripped release binaries: ours $ours bytes, wasmtime runtime-only $theirs bytes"
