#!/bin/sh
# GET /api/v1/notices/{id} on fxd against nginx serving the same bytes as a
# static file, in the same run, on the same machine (see bench/README.md).
#
#   sh bench/notice_get.sh [--threads N]
#
# Environment: DURATION (default 10s), ROUNDS (default 3: nginx, fxd, nginx,
# fxd, ... medians reported), CONNS (default 64), WARMUP (default 2s, each
# server, not counted), NGINX_WORKERS (default auto), FX_THREADS (same as
# --threads; unset = fxd's default), BENCH_VERBOSE=1 (print wrk's own output),
# FXD (default build/fxd).
set -u

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-64}
WARMUP=${WARMUP:-2s}
NGINX_WORKERS=${NGINX_WORKERS:-auto}
FX_THREADS=${FX_THREADS:-}
while [ $# -gt 0 ]; do
    case $1 in
    --threads) FX_THREADS=$2; shift 2 ;;
    --threads=*) FX_THREADS=${1#--threads=}; shift ;;
    *) die "unknown argument $1 (usage: notice_get.sh [--threads N])" ;;
    esac
done

need nginx
bench_init

# ---- fxd, a developer, one submitted notice -----------------------------------
if [ -n "$FX_THREADS" ]; then
    start_fxd --threads "$FX_THREADS"
    threads_desc="--threads $FX_THREADS"
else
    start_fxd
    threads_desc="default --threads ($(sed -n 's/.*"threads":\([0-9]*\).*/\1/p' "$BENCH_TMP/fxd.log" | head -n 1))"
fi
make_developer
code=$(api_post /api/v1/notices "$DEV_TOKEN" "$NOTICE_BODY" "$BENCH_TMP/created.json")
[ "$code" = 201 ] || die "create notice: HTTP $code $(cat "$BENCH_TMP/created.json")"
NOTICE_ID=$(json_str id <"$BENCH_TMP/created.json")
FX_GET=$FX_URL/api/v1/notices/$NOTICE_ID

# the exact bytes fxd answers, kept as nginx's file
mkdir -p "$BENCH_TMP/nginx/html" "$BENCH_TMP/nginx/tmp"
BODY=$BENCH_TMP/nginx/html/notice.json
code=$(curl -s -o "$BODY" -w '%{http_code}' -H "Authorization: Bearer $DEV_TOKEN" "$FX_GET")
[ "$code" = 200 ] || die "GET notice: HTTP $code $(cat "$BODY")"
chmod 644 "$BODY"
chmod -R a+rX "$BENCH_TMP/nginx"
BODY_BYTES=$(wc -c <"$BODY" | tr -d ' ')

# ---- nginx on the same bytes -----------------------------------------------------
NG_PORT=$(free_port)
while [ "$NG_PORT" = "$FX_PORT" ]; do NG_PORT=$(free_port); done
NG=$BENCH_TMP/nginx
cat >"$NG/nginx.conf" <<EOF
worker_processes $NGINX_WORKERS;
daemon off;
pid $NG/nginx.pid;
error_log $NG/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    types { }
    default_type application/json;
    client_body_temp_path $NG/tmp/body;
    proxy_temp_path $NG/tmp/proxy;
    fastcgi_temp_path $NG/tmp/fastcgi;
    uwsgi_temp_path $NG/tmp/uwsgi;
    scgi_temp_path $NG/tmp/scgi;
    server {
        listen 127.0.0.1:$NG_PORT;
        root $NG/html;
        location = /notice.json { }
    }
}
EOF
nginx -p "$NG" -c "$NG/nginx.conf" -e "$NG/error.log" >"$NG/stdout.log" 2>&1 &
NG_PID=$!
track_pid "$NG_PID"
NG_GET=http://127.0.0.1:$NG_PORT/notice.json
wait_http "$NG_GET" "$NG_PID" || { cat "$NG/error.log" "$NG/stdout.log" >&2; die "nginx did not start"; }
curl -s "$NG_GET" | cmp -s - "$BODY" || die "nginx does not serve the same bytes"
NG_PIDS="$NG_PID $(ps --ppid "$NG_PID" -o pid= | tr '\n' ' ')"
NG_NPROC=$(($(ps --ppid "$NG_PID" -o pid= | wc -l)))

echo "== GET /api/v1/notices/{id}: fxd vs nginx, same bytes, same run =="
describe_machine
echo "fxd:   $FX_GET, $threads_desc, --rate-limit 0 --quiet; token of a member of the notice's own developer org"
echo "nginx: $(nginx -v 2>&1 | sed 's/.*: //'), worker_processes $NGINX_WORKERS ($NG_NPROC workers), access_log off, sendfile on, keepalive_requests 1e8"
echo "body:  $BODY_BYTES bytes (the exact fxd response body, served by nginx as a static file)"
echo "load:  wrk -t2 -c$CONNS -d$DURATION --latency, keep-alive; $ROUNDS round(s) of nginx then fxd, $WARMUP warm-up each, medians reported"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews both servers)"
echo "fxd RSS before: $(kb_to_mib "$(rss_kb "$FX_PID")")"
echo

GET_LUA=$BENCH_DIR/get.lua
run_wrk "$BENCH_TMP/warm-ng" "$CONNS" "$WARMUP" "$GET_LUA" "$NG_GET"
run_wrk "$BENCH_TMP/warm-fx" "$CONNS" "$WARMUP" "$GET_LUA" "$FX_GET" "$DEV_TOKEN"

line() {
    # name file cores
    printf '  %-6s %9.0f req/s   p50 %7.2f ms   p90 %7.2f ms   p99 %7.2f ms   max %7.2f ms   CPU %s cores   non-2xx %s   socket errors %s\n' \
        "$1" "$(fxstat "$2" rps)" \
        "$(awk -v v="$(fxstat "$2" p50_us)" 'BEGIN{print v/1000}')" \
        "$(awk -v v="$(fxstat "$2" p90_us)" 'BEGIN{print v/1000}')" \
        "$(awk -v v="$(fxstat "$2" p99_us)" 'BEGIN{print v/1000}')" \
        "$(awk -v v="$(fxstat "$2" max_us)" 'BEGIN{print v/1000}')" \
        "$3" "$(fxstat "$2" bad_status)" \
        "$(($(fxstat "$2" err_connect) + $(fxstat "$2" err_read) + $(fxstat "$2" err_write) + $(fxstat "$2" err_timeout)))"
}

r=1
while [ $r -le "$ROUNDS" ]; do
    echo "round $r:"
    # shellcheck disable=SC2086 # NG_PIDS is a list of pids
    t0=$(cpu_ticks $NG_PIDS)
    run_wrk "$BENCH_TMP/ng.$r" "$CONNS" "$DURATION" "$GET_LUA" "$NG_GET"
    # shellcheck disable=SC2086
    line nginx "$BENCH_TMP/ng.$r" "$(cores_used "$t0" "$(cpu_ticks $NG_PIDS)" "$BENCH_TMP/ng.$r")"
    t0=$(cpu_ticks "$FX_PID")
    run_wrk "$BENCH_TMP/fx.$r" "$CONNS" "$DURATION" "$GET_LUA" "$FX_GET" "$DEV_TOKEN"
    line fxd "$BENCH_TMP/fx.$r" "$(cores_used "$t0" "$(cpu_ticks "$FX_PID")" "$BENCH_TMP/fx.$r")"
    awk -v a="$(fxstat "$BENCH_TMP/fx.$r" rps)" -v b="$(fxstat "$BENCH_TMP/ng.$r" rps)" \
        -v c="$(fxstat "$BENCH_TMP/fx.$r" p99_us)" -v d="$(fxstat "$BENCH_TMP/ng.$r" p99_us)" \
        'BEGIN { printf "  ratio  fxd/nginx req/s %.2f, fxd/nginx p99 %.2f\n", a / b, c / d }'
    r=$((r + 1))
done
FX_RSS=$(rss_kb "$FX_PID")
FX_HWM=$(hwm_kb "$FX_PID")

bad=0
for f in "$BENCH_TMP"/ng.* "$BENCH_TMP"/fx.*; do
    [ "$(fxstat "$f" bad_status)" = 0 ] || bad=1
done

med() { # server key
    for f in "$BENCH_TMP/$1".*; do fxstat "$f" "$2"; done | median
}
NG_RPS=$(med ng rps) FX_RPS=$(med fx rps)
NG_P50=$(med ng p50_us) FX_P50=$(med fx p50_us)
NG_P99=$(med ng p99_us) FX_P99=$(med fx p99_us)

echo
echo "summary (median of $ROUNDS):"
awk -v nr="$NG_RPS" -v fr="$FX_RPS" -v n5="$NG_P50" -v f5="$FX_P50" -v n9="$NG_P99" -v f9="$FX_P99" 'BEGIN {
    printf "  nginx  %9.0f req/s   p50 %7.2f ms   p99 %7.2f ms\n", nr, n5 / 1000, n9 / 1000
    printf "  fxd    %9.0f req/s   p50 %7.2f ms   p99 %7.2f ms\n", fr, f5 / 1000, f9 / 1000
    rr = fr / nr; pr = f9 / n9
    printf "  ratio  fxd/nginx req/s %.2f (target >= 0.50: %s)\n", rr, (rr >= 0.5 ? "met" : "NOT MET")
    printf "  ratio  fxd/nginx p99   %.2f (target <= 2.00: %s)\n", pr, (pr <= 2.0 ? "met" : "NOT MET")
}'
echo "  fxd RSS after the run: $(kb_to_mib "$FX_RSS") (peak VmHWM $(kb_to_mib "$FX_HWM"))"
echo "  load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
[ $bad = 0 ] || die "some responses were not 2xx (see non-2xx above)"
