#!/bin/sh
# Runs the whole benchmark and refreshes README.md's results section:
#   bench/run.sh            # full mode: also rebuilds and measures the stripped binaries
#   bench/run.sh --quick    # quick mode: well under ten minutes on 2 cores, first build included
# Extra arguments go to the benchmark program (see `--help`). Needs Rust 1.95, a C compiler (cc)
# and python3; clang-16 only to rebuild the committed kernels (kernels/build.sh).
set -eu
cd "$(dirname "$0")"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
case " $* " in
    *" --quick "*) ;;
    # Building the two hello programs takes minutes the first time: full mode only. Quick mode
    # reports the last measurement (binary_size.json, with its date).
    *) ./binsize/measure.sh ;;
esac
cargo run --release -- "$@"
python3 report.py results.json README.md
