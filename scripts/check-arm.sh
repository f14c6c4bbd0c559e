#!/usr/bin/env bash
# Cross-compiles the AArch64 code of the CPU backend: the NEON kernels
# (src/cpu/arm/*.c) and the portable CPU sources they are dispatched from,
# with and without the dot-product extension, warnings as errors.
#   scripts/check-arm.sh          compile only (needs gcc-aarch64-linux-gnu)
#   scripts/check-arm.sh --run    also build tests/test_cpu_dot for AArch64 and
#                                 run it under qemu-aarch64-static (needs
#                                 qemu-user-static; fails if it is missing)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
cc="${CC_AARCH64:-aarch64-linux-gnu-gcc}"
if ! command -v "$cc" >/dev/null; then
  echo "check-arm: $cc not found (apt-get install gcc-aarch64-linux-gnu)" >&2
  exit 1
fi
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
flags=(-std=c17 -O2 -Wall -Wextra -Wshadow -Wno-unused-parameter -Werror -D_GNU_SOURCE -Iinclude -Isrc)
# The dot-product kernels and their dispatcher (warnings are errors), then the
# rest of the CPU backend (must compile).
dot_srcs=(src/cpu/arm/*.c src/cpu/dot*.c src/cpu/cpu_features.c)
n=0
for march in armv8.2-a+dotprod armv8-a; do
  for f in src/cpu/arm/*.c src/cpu/*.c; do
    extra=()
    case " ${dot_srcs[*]} " in *" $f "*) ;; *) extra=(-Wno-error) ;; esac
    "$cc" "${flags[@]}" "${extra[@]}" -march="$march" -c "$f" -o "$out/$(basename "$f" .c).o"
    n=$((n + 1))
  done
done
echo "check-arm: $n compilations clean ($cc, armv8.2-a+dotprod and armv8-a)"

if [ "${1:-}" = "--run" ]; then
  qemu="$(command -v qemu-aarch64-static || command -v qemu-aarch64 || true)"
  if [ -z "$qemu" ]; then
    echo "check-arm: --run needs qemu-aarch64-static (apt-get install qemu-user-static)" >&2
    exit 1
  fi
  for march in armv8.2-a+dotprod armv8-a; do
    "$cc" "${flags[@]}" -march="$march" -static -Itests -o "$out/test_cpu_dot" \
      -ffunction-sections -Wl,--gc-sections \
      src/core/*.c src/quant/*.c "${dot_srcs[@]}" tests/test_cpu_dot.c -lm -lpthread
    echo "check-arm: running test_cpu_dot ($march) under $(basename "$qemu")"
    "$qemu" "$out/test_cpu_dot"
  done
fi
