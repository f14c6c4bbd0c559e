#!/usr/bin/env bash
# Source checks run as a test: unbounded or unchecked C calls are banned in
# the library and the command, and the library never exits or aborts.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
status=0
banned='\b(sprintf|vsprintf|strcpy|strcat|gets|atoi|atol|atof|alloca)[[:space:]]*\('
if grep -nE "$banned" src/*/*.c src/*/*/*.c src/*/*.h tools/*.c include/*.h 2>/dev/null; then
  echo "checksrc: banned call above (use snprintf, memcpy with sizes, strtol)" >&2
  status=1
fi
if grep -nE '\b(exit|abort|_exit)[[:space:]]*\(' src/*/*.c src/*/*/*.c 2>/dev/null; then
  echo "checksrc: the library must return a status, never exit or abort" >&2
  status=1
fi
# iq_grids.c is generated (the i-quant lattice tables) and exempt.
big=$(wc -l src/*/*.c src/*/*/*.c src/*/*.h tools/*.c 2>/dev/null | awk '$2 != "total" && $1 > 1500 {print $2 " (" $1 " lines)"}' \
      | grep -v 'src/quant/iq_grids.c' || true)
if [ -n "$big" ]; then
  echo "checksrc: files over 1500 lines (split them, or list them here with a reason):" >&2
  echo "$big" >&2
  status=1
fi
[ $status -eq 0 ] && echo "checksrc: ok"
exit $status
