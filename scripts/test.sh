#!/usr/bin/env bash
# The project's test command (see README): every unit, integration and doc
# test of the workspace, with all features.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --all-features "$@"
