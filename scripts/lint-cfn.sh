#!/usr/bin/env bash
# Synthesizes every deployable environment and runs cfn-lint over each template.
# Fails on any cfn-lint error (and on a missing cfn-lint); lists warnings without failing.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cfn-lint >/dev/null 2>&1; then
  echo "lint:cfn: cfn-lint is not installed. It is a Python tool (pip install cfn-lint, version 1.x);" >&2
  echo "lint:cfn: this check needs it on the PATH. npm test does not." >&2
  exit 1
fi

out="$(mktemp -d "${TMPDIR:-/tmp}/hookgate-cfn-XXXXXX")"
trap 'rm -rf "$out"' EXIT

npx cdk synth --quiet --output "$out" >/dev/null
# Destinations of every type, with and without NAT egress (the reference configs have none).
npx tsx scripts/synth-destinations.ts "$out"
shopt -s nullglob
templates=("$out"/*.template.json)
if [ "${#templates[@]}" -eq 0 ]; then
  echo "lint:cfn: cdk synth wrote no template" >&2
  exit 1
fi

echo "lint:cfn: $(cfn-lint --version) over ${#templates[@]} template(s): $(for t in "${templates[@]}"; do basename "$t"; done | tr '\n' ' ')"
# cfn-lint's exit code is a bit field: 1 fatal, 2 error, 4 warning, 8 informational.
set +e
cfn-lint --format parseable -- "${templates[@]}"
rc=$?
set -e
if (( rc & 3 )); then
  echo "lint:cfn: cfn-lint reported errors (exit $rc)" >&2
  exit 1
fi
if (( rc & 4 )); then echo "lint:cfn: warnings listed above (not failing)"; fi
echo "lint:cfn: no errors"
