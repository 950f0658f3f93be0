#!/bin/sh
# Runs the notice benchmarks one after the other (make bench).
# Each script starts and stops its own servers; the environment variables they
# read (DURATION, ROUNDS, FX_THREADS, ...) pass through. Exits non-zero if any
# benchmark failed to run (missed targets are reported, not failures).
set -u
dir=$(dirname "$0")
status=0
for b in notice_get notice_post deployments ledger rescreen taxii; do
    # each by the shell its first line names (ledger.sh and rescreen.sh need bash)
    shell=sh
    head -n 1 "$dir/$b.sh" | grep -q bash && shell=bash
    "$shell" "$dir/$b.sh" "$@" || { echo "bench: $b failed" >&2; status=1; }
    echo
done
exit $status
