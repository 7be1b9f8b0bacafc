#!/usr/bin/env bash
# Runs every `Fuzz*` target in the module for a short time each (CI) or longer (by argument).
set -euo pipefail
fuzztime=${1:-5s}
cd "$(dirname "$0")/.."
grep -rl --include='*_test.go' -E '^func Fuzz' . | sort | while IFS= read -r file; do
	pkg="./$(dirname "$file")"
	grep -oE '^func Fuzz[A-Za-z0-9_]+' "$file" | awk '{print $2}' | while IFS= read -r target; do
		echo "fuzz $pkg $target ($fuzztime)"
		go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" </dev/null
	done
done
