#!/usr/bin/env bash
# The test command: installs dependencies, fetches the test model, then builds
# and runs the whole suite twice (Release, then ASan+UBSan), then a short fuzz
# smoke of every libFuzzer target.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
jobs="$(nproc)"
"$root/scripts/deps.sh"
export RF_TEST_MODEL="$("$root/scripts/fetch-model.sh")"

run_suite() {  # dir, cmake args...
  local dir="$1"; shift
  cmake -S . -B "$dir" "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
  ctest --test-dir "$dir" --output-on-failure -j "$jobs" --no-tests=error
}

echo "== Release =="
run_suite build -DCMAKE_BUILD_TYPE=Release
echo "== ASan + UBSan =="
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  run_suite build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRF_SANITIZE=ON
echo "== AArch64 NEON kernels (cross-compiled, run under qemu) =="
"$root/scripts/check-arm.sh" --run
echo "== fuzz smoke =="
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRF_SANITIZE=ON -DRF_FUZZ=ON >/dev/null
cmake --build build-fuzz -j "$jobs"
n=0
for f in build-fuzz/fuzz/fuzz_*; do
  [ -x "$f" ] || continue
  name="$(basename "$f")"
  seeds="$root/fuzz/corpus/${name#fuzz_}"
  mkdir -p "build-fuzz/corpus-$name"
  "$f" -max_total_time="${RF_FUZZ_SECONDS:-30}" -rss_limit_mb=2048 "build-fuzz/corpus-$name" \
    $( [ -d "$seeds" ] && echo "$seeds" ) 2>&1 | tail -n 2
  n=$((n + 1))
done
echo "fuzz smoke: $n targets"
echo "all tests passed"
