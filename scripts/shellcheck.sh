#!/usr/bin/env bash
# Runs shellcheck on every shell script in the repository (templates are checked after rendering
# by their own Go tests).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v shellcheck >/dev/null || { echo "shellcheck missing: run scripts/check-tools.sh" >&2; exit 1; }
mapfile -t files < <(git ls-files '*.sh' .ci/run 2>/dev/null || find . -name '*.sh' -not -path './.git/*')
[ "${#files[@]}" -eq 0 ] || shellcheck -x "${files[@]}"
