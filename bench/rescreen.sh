#!/usr/bin/env bash
# Re-screening under a new policy (SPEC §4, issue 3): the dry run and the
# application, on NOTICES open notices (default 100,000), on SQLite. Prints
# figures; never fails on a missed target (target: both under 5 s).
#
#   bash bench/rescreen.sh
#
# 1. fxd init, then build/bench/rescreen_load fills the store with NOTICES
#    submitted, screened notices (varied compute, cyber scores and notice
#    periods) in transactions of 2,000. Not timed here; it prints its own rate.
# 2. Through the API, on `fxd serve` over a copy of that store: ROUNDS (3)
#    rounds, each POST /api/v1/policy/check with policies/signed-order-2026.json
#    (the dry run: every open notice screened, the changes listed and their
#    reads audited), then PUT /api/v1/policy with it (the application: every
#    open notice re-screened, stamped and given one history event, in one
#    durable transaction; answered once committed), then PUT of
#    policies/draft-order-2026.json to put the first policy back (the same
#    work again, timed too). curl's time_total, median of the rounds.
# 3. The same two through `fxd policy check|apply FILE --data DIR` on a fresh
#    copy, whole process: start, keys, store, the work, and closing the store
#    (which copies the WAL back into the database).
#
# Environment: NOTICES, ROUNDS, FXD, RESCREEN_LOAD. Everything goes in one
# temporary directory, removed on exit with every process started here.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
FXD=${FXD:-$ROOT/build/fxd}
RESCREEN_LOAD=${RESCREEN_LOAD:-$ROOT/build/bench/rescreen_load}
NOTICES=${NOTICES:-100000}
ROUNDS=${ROUNDS:-3}
SIGNED=$ROOT/policies/signed-order-2026.json
DRAFT=$ROOT/policies/draft-order-2026.json

die() {
    echo "bench/rescreen: FAIL: $*" >&2
    exit 1
}

for b in "$FXD" "$RESCREEN_LOAD"; do
    [ -x "$b" ] || die "$b is not built (cmake --build build)"
done
command -v curl >/dev/null || die "curl is not installed"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/fx-rescreen-bench.XXXXXX") || die mktemp
FXD_PID=""
cleanup() {
    if [ -n "$FXD_PID" ]; then
        kill -TERM "$FXD_PID" 2>/dev/null
        wait "$FXD_PID" 2>/dev/null
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

median() {
    sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# field NAME < json: the first integer value of "NAME"
field() {
    sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" | head -n 1
}

free_port() {
    while :; do
        p=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
        p=$((20000 + p % 40000))
        if ! ss -Hltn "sport = :$p" 2>/dev/null | grep -q .; then
            echo "$p"
            return
        fi
    done
}

now_s() {
    date +%s.%N
}

echo "machine: $(nproc) cores ($(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)), load average $(cut -d' ' -f1-3 /proc/loadavg)"
rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
echo "fxd: $FXD at commit $rev"

# ---- 1. the store -----------------------------------------------------------
"$FXD" init --data "$TMP/base" --json >"$TMP/init.json" 2>"$TMP/init.log" ||
    { cat "$TMP/init.log" >&2; die "fxd init"; }
TOKEN=$(sed -n 's/.*"token":"\([^"]*\)".*/\1/p' "$TMP/init.json")
[ -n "$TOKEN" ] || die "fxd init printed no token"
echo "loading $NOTICES notices ..."
"$RESCREEN_LOAD" --data "$TMP/base" --notices "$NOTICES" || die "rescreen_load"
echo "store: $(du -sh "$TMP/base/fx.db" | cut -f1)"

# ---- 2. through the API -------------------------------------------------------
cp -r "$TMP/base" "$TMP/api"
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
"$FXD" serve --data "$TMP/api" --listen "127.0.0.1:$PORT" --rate-limit 0 --quiet \
    >"$TMP/fxd.log" 2>&1 &
FXD_PID=$!
i=0
until [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/healthz")" = 200 ]; do
    kill -0 "$FXD_PID" 2>/dev/null || { cat "$TMP/fxd.log" >&2; die "fxd did not start"; }
    i=$((i + 1))
    [ $i -lt 300 ] || die "fxd did not answer"
    sleep 0.1
done

# call METHOD PATH FILE OUT : prints "status seconds"
call() {
    curl -s -o "$4" -w '%{http_code} %{time_total}' -X "$1" -H "Authorization: Bearer $TOKEN" \
        -H 'Content-Type: application/json' --data-binary "@$3" "$URL$2"
}

: >"$TMP/check.times"
: >"$TMP/apply.times"
: >"$TMP/back.times"
for r in $(seq 1 "$ROUNDS"); do
    set -- $(call POST /api/v1/policy/check "$SIGNED" "$TMP/check.json")
    [ "$1" = 200 ] || die "policy check: HTTP $1 $(head -c 300 "$TMP/check.json")"
    echo "$2" >>"$TMP/check.times"
    checked=$(field examined <"$TMP/check.json")
    would=$(field changed <"$TMP/check.json")
    set -- $(call PUT /api/v1/policy "$SIGNED" "$TMP/apply.json")
    [ "$1" = 200 ] || die "policy apply: HTTP $1 $(head -c 300 "$TMP/apply.json")"
    echo "$2" >>"$TMP/apply.times"
    applied=$(field examined <"$TMP/apply.json")
    changed=$(field changed <"$TMP/apply.json")
    set -- $(call PUT /api/v1/policy "$DRAFT" "$TMP/back.json")
    [ "$1" = 200 ] || die "policy apply back: HTTP $1 $(head -c 300 "$TMP/back.json")"
    echo "$2" >>"$TMP/back.times"
    printf "  round %d: check %.2f s (%s notices, %s would change), apply %.2f s (%s re-screened, %s changed), apply back %.2f s\n" \
        "$r" "$(tail -n1 "$TMP/check.times")" "$checked" "$would" \
        "$(tail -n1 "$TMP/apply.times")" "$applied" "$changed" "$(tail -n1 "$TMP/back.times")"
done
kill -TERM "$FXD_PID" 2>/dev/null
wait "$FXD_PID" 2>/dev/null
FXD_PID=""

# ---- 3. fxd policy check|apply, whole process ----------------------------------
cp -r "$TMP/base" "$TMP/cli"
t0=$(now_s)
"$FXD" policy check "$SIGNED" --data "$TMP/cli" --json >"$TMP/cli-check.json" 2>"$TMP/cli.log" ||
    { cat "$TMP/cli.log" >&2; die "fxd policy check"; }
t1=$(now_s)
"$FXD" policy apply "$SIGNED" --data "$TMP/cli" --json >"$TMP/cli-apply.json" 2>>"$TMP/cli.log" ||
    { cat "$TMP/cli.log" >&2; die "fxd policy apply"; }
t2=$(now_s)

check_s=$(median <"$TMP/check.times")
apply_s=$(median <"$TMP/apply.times")
back_s=$(median <"$TMP/back.times")
echo
echo "re-screening $NOTICES open notices under a new policy (SQLite; target: each under 5 s)"
printf "  POST /api/v1/policy/check (dry run)      median %.2f s   %s\n" "$check_s" \
    "$(awk -v s="$check_s" 'BEGIN { print (s < 5 ? "ok" : "OVER TARGET") }')"
printf "  PUT /api/v1/policy (apply, durable)      median %.2f s   %s\n" "$apply_s" \
    "$(awk -v s="$apply_s" 'BEGIN { print (s < 5 ? "ok" : "OVER TARGET") }')"
printf "  PUT /api/v1/policy (apply back)          median %.2f s\n" "$back_s"
printf "  fxd policy check FILE (whole process)    %.2f s\n" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')"
printf "  fxd policy apply FILE (whole process)    %.2f s\n" "$(awk -v a="$t1" -v b="$t2" 'BEGIN { print b - a }')"
