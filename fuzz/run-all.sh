#!/bin/sh
# Runs every libFuzzer target for a bounded time (STYLE §7, `make fuzz`).
#
#   sh fuzz/run-all.sh BUILD_DIR SECONDS
#
# Each fuzz_<name> in BUILD_DIR/fuzz runs for SECONDS on a temporary corpus
# seeded from fuzz/corpus/<name> (the committed seeds are never written to),
# with fuzz/<name>.dict when there is one. Crash, leak and timeout files go to
# a temporary directory that is kept, and named, when a target fails.
# Prints one line per target; exits non-zero when any target failed.
set -u

if [ $# -ne 2 ]; then
    echo "usage: $0 BUILD_DIR SECONDS" >&2
    exit 2
fi
build=$1
seconds=$2
here=$(cd "$(dirname "$0")" && pwd)

case $seconds in
'' | *[!0-9]*)
    echo "run-all: SECONDS must be a whole number" >&2
    exit 2
    ;;
esac

targets=$(ls "$here"/fuzz_*.c 2>/dev/null)
if [ -z "$targets" ]; then
    echo "run-all: no fuzz targets in $here" >&2
    exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/fx-fuzz.XXXXXX") || exit 2
failed=0
keep=0
summary=""

for src in $targets; do
    target=$(basename "$src" .c)
    name=${target#fuzz_}
    bin="$build/fuzz/$target"
    if [ ! -x "$bin" ]; then
        summary="$summary$target: MISSING ($bin not built)
"
        failed=1
        continue
    fi
    corpus="$work/$name/corpus"
    artifacts="$work/$name/artifacts"
    log="$work/$name/log"
    mkdir -p "$corpus" "$artifacts"
    if [ -d "$here/corpus/$name" ]; then
        cp "$here/corpus/$name"/* "$corpus"/ 2>/dev/null
    fi
    seeds=$(find "$corpus" -type f | wc -l)
    dict=""
    if [ -f "$here/$name.dict" ]; then
        dict="-dict=$here/$name.dict"
    fi
    # New inputs go to the temporary corpus (first directory); the committed
    # seeds are read from that copy only.
    # shellcheck disable=SC2086
    "$bin" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" $dict "$corpus" >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | sed 's/cov: //')
    after=$(find "$corpus" -type f | wc -l)
    if [ $rc -eq 0 ]; then
        summary="${summary}$target: ok, ${runs:-?} runs in ${seconds}s, cov ${cov:-?}, corpus $seeds -> $after
"
    else
        crash=$(find "$artifacts" -type f -exec basename {} \; | head -n 1)
        why=$(grep -m 1 -E 'ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer)|runtime error|invariant failed' "$log" |
            sed 's/^==[0-9]*==//')
        summary="${summary}$target: FAILED (exit $rc) ${why:-see log}; input $artifacts/${crash:-?}; log $log
"
        failed=1
        keep=1
    fi
done

printf '%s' "$summary"
if [ $keep -eq 0 ]; then
    rm -rf "$work"
fi
if [ $failed -ne 0 ]; then
    if [ $keep -ne 0 ]; then
        echo "run-all: some fuzz targets failed (inputs and logs kept in $work)" >&2
    else
        echo "run-all: some fuzz targets failed" >&2
    fi
    exit 1
fi
exit 0
