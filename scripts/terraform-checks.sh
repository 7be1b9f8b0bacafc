#!/usr/bin/env bash
# Static security scan of the Terraform module and every example: tfsec must report no HIGH or
# CRITICAL finding (each tfsec:ignore in the code carries its reason). Formatting, validation,
# terraform test, the README tables and the apply against moto_server are Go tests
# (go test ./internal/harness/tfmodule). Prints the findings by severity, ignored ones included.
set -euo pipefail
cd "$(dirname "$0")/.."

tfsec=$(command -v tfsec || echo "$(go env GOPATH)/bin/tfsec")
[ -x "$tfsec" ] || { echo "terraform-checks: tfsec missing: run scripts/check-tools.sh" >&2; exit 1; }

out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
for dir in terraform examples/*/; do
	dir=${dir%/}
	if ! "$tfsec" "$dir" --no-color --concise-output --minimum-severity HIGH >"$out" 2>&1; then
		echo "terraform-checks: tfsec found HIGH or CRITICAL problems in $dir:" >&2
		cat "$out" >&2
		status=1
	fi
done
# Counts by severity over the module as the default example uses it.
"$tfsec" examples/default --no-color --format json --include-ignored 2>/dev/null |
	python3 -c '
import collections, json, sys
results = json.load(sys.stdin)["results"] or []
count = collections.Counter((r["severity"], "ignored" if r["status"] == 2 else "failed") for r in results)
print("tfsec (examples/default):", ", ".join(f"{s} {k}: {n}" for (s, k), n in sorted(count.items())) or "no findings")
'
exit $status
