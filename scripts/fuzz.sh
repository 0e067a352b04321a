#!/usr/bin/env bash
# A longer run of the parsers' fuzz tests (safetensors, bundle config.json, experiment configs, TSV corpora,
# vocabularies, Flower objects, .npy arrays and node keys): the same seeded mutation tests `swift test` runs,
# with more inputs.
# usage: scripts/fuzz.sh [INPUTS_PER_PARSER=100000] [SEED=0]      (a new SEED tries other inputs)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
FUZZ_ITERATIONS="${1:-100000}" FUZZ_SEED="${2:-0}" swift test --filter mutated
