#!/bin/sh
# POST /api/v1/notices with "submit": true (a durable write: the answer comes
# after the commit is on disk) from CONNS keep-alive connections (see bench/README.md).
# With --draft the body has no "submit": each request files a draft only (one
# version and its ledger leaf; no screening, no submission leaf), for comparison.
#
#   sh bench/notice_post.sh [--threads N] [--draft]
#
# Every response must be 201: any other status, or a socket error, fails the run.
# Environment: DURATION (default 10s), CONNS (default 16), FX_THREADS (same as
# --threads; unset = fxd's default), TARGET (default 5000 req/s),
# BENCH_VERBOSE=1 (print wrk's own output), FXD (default build/fxd).
set -u

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

DURATION=${DURATION:-10s}
CONNS=${CONNS:-16}
TARGET=${TARGET:-5000}
FX_THREADS=${FX_THREADS:-}
DRAFT=0
while [ $# -gt 0 ]; do
    case $1 in
    --draft) DRAFT=1; shift ;;
    --threads) FX_THREADS=$2; shift 2 ;;
    --threads=*) FX_THREADS=${1#--threads=}; shift ;;
    *) die "unknown argument $1 (usage: notice_post.sh [--threads N] [--draft])" ;;
    esac
done

bench_init

# thread_ticks PID NAME : user+system CPU ticks of PID's threads called NAME
thread_ticks() {
    for t in /proc/"$1"/task/*; do
        [ "$(cat "$t/comm" 2>/dev/null)" = "$2" ] && sed 's/.*) //' "$t/stat" 2>/dev/null
    done | awk '{ t += $12 + $13 } END { print t + 0 }'
}

if [ -n "$FX_THREADS" ]; then
    start_fxd --threads "$FX_THREADS"
    threads_desc="--threads $FX_THREADS"
else
    start_fxd
    threads_desc="default --threads ($(sed -n 's/.*"threads":\([0-9]*\).*/\1/p' "$BENCH_TMP/fxd.log" | head -n 1))"
fi
make_developer
if [ "$DRAFT" = 1 ]; then
    NOTICE_BODY=$(printf '%s' "$NOTICE_BODY" | sed 's/,"submit":true}$/}/')
    WANT_STATUS=draft
else
    WANT_STATUS=submitted
fi
printf '%s' "$NOTICE_BODY" >"$BENCH_TMP/body.json"

# one notice by hand first: checks the body and gives the first reference number
code=$(api_post /api/v1/notices "$DEV_TOKEN" "$NOTICE_BODY" "$BENCH_TMP/first.json")
[ "$code" = 201 ] || die "create notice: HTTP $code $(cat "$BENCH_TMP/first.json")"
grep -q "\"status\":\"$WANT_STATUS\"" "$BENCH_TMP/first.json" || die "notice not $WANT_STATUS: $(cat "$BENCH_TMP/first.json")"
ref_seq() { # the NNNN of "ref":"FXN-YYYY-NNNN", as a number
    sed -n 's/.*"ref":"FXN-[0-9]*-\([0-9]*\)".*/\1/p' "$1" | awk '{ print $1 + 0 }'
}
SEQ_BEFORE=$(ref_seq "$BENCH_TMP/first.json")
[ -n "$SEQ_BEFORE" ] || die "no ref in $(cat "$BENCH_TMP/first.json")"

if [ "$DRAFT" = 1 ]; then
    echo "== POST /api/v1/notices (a draft, durable) =="
else
    echo "== POST /api/v1/notices (submit: true, durable) =="
fi
describe_machine
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "fxd:   $FX_URL/api/v1/notices, $threads_desc, --rate-limit 0 --quiet; SQLite store"
echo "body:  $(wc -c <"$BENCH_TMP/body.json" | tr -d ' ') bytes, the same notice each time (each request creates a new notice)"
echo "disk:  one 4 KiB O_DSYNC write (dd) in the data dir's file system: $(disk_sync_rate)"
echo "load:  wrk -t2 -c$CONNS -d$DURATION --latency, keep-alive; every response checked for 201"
echo "fxd RSS before: $(kb_to_mib "$(rss_kb "$FX_PID")")"
echo

OUT=$BENCH_TMP/post.out
T0=$(cpu_ticks "$FX_PID")
W0=$(thread_ticks "$FX_PID" fx-writer)
IO0=$(io_bytes "$FX_PID" wchar)
run_wrk "$OUT" "$CONNS" "$DURATION" "$BENCH_DIR/post.lua" "$FX_URL/api/v1/notices" "$DEV_TOKEN" "$BENCH_TMP/body.json"
T1=$(cpu_ticks "$FX_PID")
W1=$(thread_ticks "$FX_PID" fx-writer)
IO1=$(io_bytes "$FX_PID" wchar)
CORES=$(cores_used "$T0" "$T1" "$OUT")
FX_RSS=$(rss_kb "$FX_PID")
FX_HWM=$(hwm_kb "$FX_PID")

# after the run: one more notice; its reference number tells how many were stored
code=$(api_post /api/v1/notices "$DEV_TOKEN" "$NOTICE_BODY" "$BENCH_TMP/last.json")
[ "$code" = 201 ] || die "create notice after the run: HTTP $code $(cat "$BENCH_TMP/last.json")"
SEQ_AFTER=$(ref_seq "$BENCH_TMP/last.json")
STORED=$((SEQ_AFTER - SEQ_BEFORE - 1))

CREATED=$(fxstat "$OUT" created)
NOT_CREATED=$(fxstat "$OUT" not_created)
SOCK=$(($(fxstat "$OUT" err_connect) + $(fxstat "$OUT" err_read) + $(fxstat "$OUT" err_write) + $(fxstat "$OUT" err_timeout)))
RPS=$(fxstat "$OUT" rps)

awk -v r="$RPS" -v p5="$(fxstat "$OUT" p50_us)" -v p9="$(fxstat "$OUT" p90_us)" -v p99="$(fxstat "$OUT" p99_us)" \
    -v mx="$(fxstat "$OUT" max_us)" -v n="$(fxstat "$OUT" requests)" -v t="$TARGET" -v cores="$CORES" \
    -v all="$((T1 - T0))" -v wr="$((W1 - W0))" -v io="$((IO1 - IO0))" -v hz="$(getconf CLK_TCK)" -v us="$(fxstat "$OUT" duration_us)" 'BEGIN {
    printf "  fxd POST %9.0f req/s   p50 %7.2f ms   p90 %7.2f ms   p99 %7.2f ms   max %7.2f ms   (%d requests)\n",
        r, p5 / 1000, p9 / 1000, p99 / 1000, mx / 1000, n
    printf "  fxd CPU during the run: %s cores of 2\n", cores
    if (n > 0)
        printf "  CPU per request: %.0f us in fxd, %.0f us of it on the writer thread (busy %.0f%% of the run)\n",
            all / hz / n * 1e6, wr / hz / n * 1e6, wr / hz / (us / 1e6) * 100
    if (n > 0)
        printf "  written per request: %.1f KiB (write calls to files and sockets: the WAL, the database, the answers)\n",
            io / n / 1024
    printf "  target >= %d req/s: %s (%.2f of target)\n", t, (r >= t ? "met" : "NOT MET"), r / t
}'
echo "  201 Created: $CREATED   other statuses: $NOT_CREATED   socket errors: $SOCK"
echo "  notices stored during the run (from reference numbers): $STORED (wrk counts only answers it read before stopping; up to $CONNS may be in flight)"
echo "  fxd RSS after the run: $(kb_to_mib "$FX_RSS") (peak VmHWM $(kb_to_mib "$FX_HWM"))"
echo "  load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

if [ "$NOT_CREATED" != 0 ] || [ "$SOCK" != 0 ]; then
    sed -n 's/^FXBAD /  first non-201 response: /p' "$OUT"
    die "$NOT_CREATED responses were not 201 Created and $SOCK socket errors"
fi
[ "$CREATED" -gt 0 ] || die "no notice was created"
if [ "$STORED" -lt "$CREATED" ] || [ "$STORED" -gt $((CREATED + CONNS)) ]; then
    die "wrk saw $CREATED notices created but the server stored $STORED"
fi
