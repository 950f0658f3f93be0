#!/usr/bin/env bash
# The ledger's figures (SPEC §9, issue 4). Prints; never fails on a missed target.
#
#   bash bench/ledger.sh
#
# 1. build/bench/ledger_bench: appends LEAVES leaves (default 1,000,000) to a
#    fresh SQLite store in transactions of BATCH (10,000), each batch prepared
#    on a second thread while the one before commits (fx_tlog_prepare(),
#    fx_tlog_append_ready()), then times PROOFS (2,000) inclusion and as many
#    consistency proofs at that size (median, p90, p99), each checked against
#    the signed root, and in-process receipt verification.
# 2. fx verify, whole process (exec, read the files, verify, exit), on a
#    receipt of that million-leaf tree: hyperfine when installed, otherwise
#    VERIFY_RUNS (300) runs timed with bash's clock, median. /bin/true is
#    timed the same way: what starting any process costs here. (fx opens
#    libcurl only for commands that use the network; verify does not.)
# 3. Durable writes through the API: a fresh fxd (--rate-limit 0 --quiet),
#    POST /api/v1/notices (a draft: one version, one leaf; the answer comes
#    after the commit is on disk, with its receipt) from one connection, one
#    request at a time (the durable single-request rate), then from CONNS (16)
#    connections (group commit), DURATION (10s) each, with wrk; a loop of
#    curl POSTs when wrk is missing. Leaves appended are counted from the
#    checkpoints before and after.
#
# Environment: LEAVES, BATCH, PROOFS, VERIFY_RUNS, DURATION, CONNS, FXD, FX,
# LEDGER_BENCH (the binaries; default build/...). Everything it makes goes in
# one temporary directory, removed on exit with every process it started.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
FXD=${FXD:-$ROOT/build/fxd}
FX=${FX:-$ROOT/build/fx}
LEDGER_BENCH=${LEDGER_BENCH:-$ROOT/build/bench/ledger_bench}
LEAVES=${LEAVES:-1000000}
BATCH=${BATCH:-10000}
PROOFS=${PROOFS:-2000}
VERIFY_RUNS=${VERIFY_RUNS:-300}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-16}

die() {
    echo "bench/ledger: FAIL: $*" >&2
    exit 1
}

for b in "$FXD" "$FX" "$LEDGER_BENCH"; do
    [ -x "$b" ] || die "$b is not built (cmake --build build)"
done
command -v curl >/dev/null || die "curl is not installed"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/fx-ledger-bench.XXXXXX") || die mktemp
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

echo "machine: $(nproc) cores ($(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)), $(uname -sr)"
echo "commit:  $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

# ---- 1. append and proofs -------------------------------------------------
mkdir "$TMP/store"
"$LEDGER_BENCH" --leaves "$LEAVES" --batch "$BATCH" --proofs "$PROOFS" --dir "$TMP/store" \
    --receipt-out "$TMP/receipt.json" --key-out "$TMP/key" 2>"$TMP/ledger_bench.log" ||
    { cat "$TMP/ledger_bench.log" >&2; die "ledger_bench"; }
rm -rf "$TMP/store"
echo

# ---- 2. fx verify, whole process ------------------------------------------
echo "== fx verify RECEIPT --key KEY, whole process (receipt of leaf $LEAVES) =="
"$FX" verify "$TMP/receipt.json" --key "$TMP/key" >"$TMP/verify.out" 2>&1 ||
    { cat "$TMP/verify.out" >&2; die "fx verify refused the receipt"; }
# median of N runs of a command, in milliseconds, timed with bash's clock (no fork to read it)
time_runs() {
    local n=$1
    shift
    for ((i = 0; i < n; i++)); do
        local t0=$EPOCHREALTIME
        "$@" >/dev/null 2>&1
        local t1=$EPOCHREALTIME
        echo "$t0 $t1"
    done | awk '{ print ($2 - $1) * 1000 }' | sort -g |
        awk '{ v[NR] = $1 } END { printf "median %.2f ms  p90 %.2f ms  min %.2f ms  (%d runs)", v[int((NR + 1) / 2)], v[int(NR * 0.9)], v[1], NR }'
}
if command -v hyperfine >/dev/null; then
    hyperfine -N --warmup 20 --runs "$VERIFY_RUNS" "$FX verify $TMP/receipt.json --key $TMP/key" \
        "/bin/true" 2>&1 | sed 's/^/  /'
else
    time_runs 20 "$FX" verify "$TMP/receipt.json" --key "$TMP/key" >/dev/null
    echo "fx verify:      $(time_runs "$VERIFY_RUNS" "$FX" verify "$TMP/receipt.json" --key "$TMP/key")   (target < 5 ms)"
    echo "/bin/true:      $(time_runs "$VERIFY_RUNS" /bin/true)   (starting a process)"
    echo "(hyperfine is not installed: bash loop, EPOCHREALTIME around each run)"
fi
echo "shared objects loaded before main(): fx $(ldd "$FX" | wc -l) (libcurl is opened only by network commands)"
echo

# ---- 3. durable writes through the API ------------------------------------
echo "== POST /api/v1/notices through fxd: durable writes, each answered with its receipt =="
"$FXD" init --data "$TMP/data" --json >"$TMP/init.json" 2>"$TMP/init.log" ||
    { cat "$TMP/init.log" >&2; die "fxd init"; }
json() { # json FIELD < file: the first string value of "FIELD"
    sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" | head -n 1
}
ADMIN=$(json token <"$TMP/init.json")
PORT=$((20000 + RANDOM % 30000))
URL=http://127.0.0.1:$PORT
"$FXD" serve --data "$TMP/data" --listen "127.0.0.1:$PORT" --rate-limit 0 --quiet \
    >"$TMP/fxd.log" 2>&1 &
FXD_PID=$!
for ((i = 0; i < 150; i++)); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/healthz")" = 200 ] && break
    kill -0 "$FXD_PID" 2>/dev/null || { cat "$TMP/fxd.log" >&2; die "fxd did not start"; }
    sleep 0.1
done
post() { # post PATH TOKEN BODY OUT: prints the status
    curl -s -o "$4" -w '%{http_code}' -X POST -H "Authorization: Bearer $2" \
        -H 'Content-Type: application/json' --data-binary "$3" "$URL$1"
}
[ "$(post /api/v1/orgs "$ADMIN" '{"name":"Bench Labs","kind":"developer"}' "$TMP/org.json")" = 201 ] || die "org"
ORG=$(json id <"$TMP/org.json")
[ "$(post "/api/v1/orgs/$ORG/users" "$ADMIN" '{"email":"b@bench.example","name":"B","role":"member"}' "$TMP/user.json")" = 201 ] || die "user"
USER_ID=$(json id <"$TMP/user.json")
[ "$(post "/api/v1/users/$USER_ID/tokens" "$ADMIN" '{"name":"bench"}' "$TMP/token.json")" = 201 ] || die "token"
DEV=$(json token <"$TMP/token.json")
BODY='{"model_name":"Bench-7B","model_version":"2027.06","planned_release_date":"2027-06-01","description":"A seven-billion-parameter general-purpose language model, tuned for instruction following and code.","training_compute_flop":8.4e23,"parameter_count":7000000000,"modalities":["text","code"],"release_channels":["api"],"contact":{"name":"Bench Safety Desk","email":"safety@bench.example"}}'
printf '%s' "$BODY" >"$TMP/body.json"
[ "$(post /api/v1/notices "$DEV" "$BODY" "$TMP/first.json")" = 201 ] || die "notice: $(cat "$TMP/first.json")"
grep -q '"receipt"' "$TMP/first.json" || die "a write answered without a receipt"
# the receipt of a real write verifies too
"$FX" verify "$TMP/first.json" --key <(curl -s "$URL/api/v1/ledger/key") >/dev/null ||
    die "the receipt of a real write does not verify"
tree_size() {
    curl -s "$URL/api/v1/ledger/checkpoint" | sed -n 2p
}
echo "disk: 4 KiB O_DSYNC writes in the data dir's file system: $(dd if=/dev/zero of="$TMP/probe" bs=4k count=300 oflag=dsync 2>&1 |
    awk '/copied/ { for (i = 1; i <= NF; i++) if ($i == "s,") print int(300 / $(i - 1)) }')/s"

cat >"$TMP/post.lua" <<'EOF'
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
   local f = assert(io.open(args[2], "rb"))
   wrk.method = "POST"
   wrk.body = f:read("*a")
   f:close()
   wrk.headers["Authorization"] = "Bearer " .. args[1]
   wrk.headers["Content-Type"] = "application/json"
   created = 0
   other = 0
end
function response(status, headers, body)
   if status == 201 then created = created + 1 else other = other + 1 end
end
function done(summary, latency, requests)
   local c, o = 0, 0
   for _, t in ipairs(threads) do c = c + t:get("created"); o = o + t:get("other") end
   io.write(string.format("FXSTAT rps=%.1f p50_ms=%.2f p99_ms=%.2f created=%d other=%d errors=%d\n",
      c / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
      c, o, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
EOF
stat_of() { sed -n 's/^FXSTAT //p' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

run_load() { # run_load CONNS LABEL
    local c=$1 label=$2 before after t
    before=$(tree_size)
    if command -v wrk >/dev/null; then
        wrk -t1 -c"$c" -d"$DURATION" --latency -s "$TMP/post.lua" "$URL/api/v1/notices" -- \
            "$DEV" "$TMP/body.json" >"$TMP/wrk.out" 2>&1 || { cat "$TMP/wrk.out" >&2; die wrk; }
        after=$(tree_size)
        [ "$(stat_of "$TMP/wrk.out" other)" = 0 ] || die "answers other than 201: $(cat "$TMP/wrk.out")"
        printf '%-34s %8.0f writes/s   p50 %6s ms   p99 %6s ms   (%s notices, %s leaves appended, wrk -c%s -d%s)\n' \
            "$label" "$(stat_of "$TMP/wrk.out" rps)" "$(stat_of "$TMP/wrk.out" p50_ms)" \
            "$(stat_of "$TMP/wrk.out" p99_ms)" "$(stat_of "$TMP/wrk.out" created)" \
            "$((after - before))" "$c" "$DURATION"
    else
        [ "$c" = 1 ] || return 0
        local n=0 t0=$EPOCHREALTIME secs=${DURATION%s}
        while awk -v a="$t0" -v b="$EPOCHREALTIME" -v s="$secs" 'BEGIN { exit !(b - a < s) }'; do
            [ "$(post /api/v1/notices "$DEV" "$BODY" /dev/null)" = 201 ] || die "POST failed"
            n=$((n + 1))
        done
        t=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }')
        after=$(tree_size)
        printf '%-34s %8.0f writes/s   (%d notices, %s leaves; a curl process per request: a lower bound)\n' \
            "$label" "$(awk -v n=$n -v t="$t" 'BEGIN { print n / t }')" "$n" "$((after - before))"
    fi
}
run_load 1 "one request at a time:"
run_load "$CONNS" "$CONNS concurrent connections:"
echo "(each 201 comes after its transaction, the notice and its leaf, is on disk;"
echo " for scale, Tessera's published POSIX figure is about 2,900 durable writes/s)"
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
