#!/bin/sh
# POST /api/v1/notices with "submit": true (a durable write: the answer comes
# after the commit is on disk) from CONNS keep-alive connections (see bench/README.md).
# With --draft the body has no "submit": each request files a draft only (one
# version and its ledger leaf; no screening, no submission leaf), for comparison.
#
#   sh bench/notice_post.sh [--threads N] [--draft]
#
# Every response must be 201: any other status, or a socket error, fails the run.
# Environment: DURATION (default 10s), ROUNDS (default 3, medians reported),
# CONNS (default 16), FX_THREADS (same as --threads; unset = fxd's default),
# TARGET (default 5000 req/s),
# BENCH_VERBOSE=1 (print wrk's own output), FXD (default build/fxd).
set -u

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-3}
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

# one notice by hand first: checks the body and that the answer carries a reference number
code=$(api_post /api/v1/notices "$DEV_TOKEN" "$NOTICE_BODY" "$BENCH_TMP/first.json")
[ "$code" = 201 ] || die "create notice: HTTP $code $(cat "$BENCH_TMP/first.json")"
grep -q "\"status\":\"$WANT_STATUS\"" "$BENCH_TMP/first.json" || die "notice not $WANT_STATUS: $(cat "$BENCH_TMP/first.json")"
ref_seq() { # the NNNN of "ref":"FXN-YYYY-NNNN", as a number
    sed -n 's/.*"ref":"FXN-[0-9]*-\([0-9]*\)".*/\1/p' "$1" | awk '{ print $1 + 0 }'
}
[ -n "$(ref_seq "$BENCH_TMP/first.json")" ] || die "no ref in $(cat "$BENCH_TMP/first.json")"

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
echo "load:  wrk -t2 -c$CONNS -d$DURATION --latency, keep-alive, $ROUNDS round(s) on the same fxd; every response checked for 201"
echo "fxd RSS before: $(kb_to_mib "$(rss_kb "$FX_PID")")"
echo

# one_round N : runs wrk once and prints that round's line; the figures go to
# $BENCH_TMP/round.N (key=value lines) for the medians below
one_round() {
    out=$BENCH_TMP/post.$1
    t0=$(cpu_ticks "$FX_PID") w0=$(thread_ticks "$FX_PID" fx-writer) io0=$(io_bytes "$FX_PID" wchar)
    seq0=$(next_seq)
    run_wrk "$out" "$CONNS" "$DURATION" "$BENCH_DIR/post.lua" "$FX_URL/api/v1/notices" "$DEV_TOKEN" "$BENCH_TMP/body.json"
    t1=$(cpu_ticks "$FX_PID") w1=$(thread_ticks "$FX_PID" fx-writer) io1=$(io_bytes "$FX_PID" wchar)
    stored=$(($(next_seq) - seq0 - 1))
    created=$(fxstat "$out" created)
    [ "$(fxstat "$out" not_created)" = 0 ] || die "round $1: answers other than 201: $(sed -n 's/^FXBAD //p' "$out")"
    sock=$(($(fxstat "$out" err_connect) + $(fxstat "$out" err_read) + $(fxstat "$out" err_write) + $(fxstat "$out" err_timeout)))
    [ "$sock" = 0 ] || die "round $1: $sock socket errors"
    [ "$stored" -ge "$created" ] && [ "$stored" -le $((created + CONNS)) ] ||
        die "round $1: $created answered 201 but $stored stored"
    awk -v r="$(fxstat "$out" rps)" -v p99="$(fxstat "$out" p99_us)" -v n="$(fxstat "$out" requests)" \
        -v cores="$(cores_used "$t0" "$t1" "$out")" -v all="$((t1 - t0))" -v wr="$((w1 - w0))" \
        -v io="$((io1 - io0))" -v hz="$(getconf CLK_TCK)" -v us="$(fxstat "$out" duration_us)" \
        -v round="$1" -v stored="$stored" -v file="$BENCH_TMP/round.$1" 'BEGIN {
        cpu = all / hz / n * 1e6; wcpu = wr / hz / n * 1e6; busy = wr / hz / (us / 1e6) * 100
        printf "  round %d: %6.0f req/s  p99 %6.2f ms  %s cores  %4.0f us CPU/request (writer %3.0f us, busy %2.0f%%)  %4.1f KiB written/request  %d stored\n",
            round, r, p99 / 1000, cores, cpu, wcpu, busy, io / n / 1024, stored
        printf "rps=%s\np99_us=%s\ncpu_us=%.0f\nwriter_us=%.0f\nwriter_busy=%.0f\nkib=%.1f\n", r, p99, cpu, wcpu, busy, io / n / 1024 > file
    }'
}

# next_seq : files one notice by hand and prints the NNNN of its FXN-YYYY-NNNN:
# the difference between two, less one, is how many notices were stored in between
next_seq() {
    code=$(api_post /api/v1/notices "$DEV_TOKEN" "$NOTICE_BODY" "$BENCH_TMP/one.json")
    [ "$code" = 201 ] || die "create notice: HTTP $code $(cat "$BENCH_TMP/one.json")"
    ref_seq "$BENCH_TMP/one.json"
}

r=1
while [ $r -le "$ROUNDS" ]; do
    one_round $r
    r=$((r + 1))
done
FX_RSS=$(rss_kb "$FX_PID")
FX_HWM=$(hwm_kb "$FX_PID")

med() { # key: the median over the rounds
    for f in "$BENCH_TMP"/round.*; do sed -n "s/^$1=//p" "$f"; done | median
}
echo
echo "summary (median of $ROUNDS; every answer was a 201, and the reference numbers confirm the notices stored):"
awk -v r="$(med rps)" -v p99="$(med p99_us)" -v cpu="$(med cpu_us)" -v wcpu="$(med writer_us)" \
    -v busy="$(med writer_busy)" -v kib="$(med kib)" -v t="$TARGET" 'BEGIN {
    printf "  fxd POST %9.0f req/s   p99 %7.2f ms\n", r, p99 / 1000
    printf "  CPU per request: %.0f us in fxd, %.0f us of it on the writer thread (busy %.0f%% of the run)\n", cpu, wcpu, busy
    printf "  written per request: %.1f KiB (write calls to files and sockets: the WAL, the database, the answers)\n", kib
    printf "  target >= %d req/s: %s (%.2f of target)\n", t, (r >= t ? "met" : "NOT MET"), r / t
}'
echo "  fxd RSS after the runs: $(kb_to_mib "$FX_RSS") (peak VmHWM $(kb_to_mib "$FX_HWM"))"
echo "  load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
