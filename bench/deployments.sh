#!/bin/sh
# The notice GET and POST benchmarks on three deployments, in one run:
#   1. one fxd on SQLite
#   2. one fxd on PostgreSQL (a throwaway cluster on loopback)
#   3. two fxd nodes on that PostgreSQL database, behind nginx (round robin)
# GET: wrk -c64 on GET /api/v1/notices/{id}; POST: wrk -c16 on POST /api/v1/notices
# (submit, durable). Prints requests/s and p99 for each (see bench/README.md).
#
#   sh bench/deployments.sh        Environment: DURATION (default 8s)
set -u

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

DURATION=${DURATION:-8s}
PG_BIN=/usr/lib/postgresql/15/bin
need nginx
[ -x "$PG_BIN/initdb" ] || die "PostgreSQL 15 is not installed (make deps installs it)"
bench_init

# ---- a throwaway PostgreSQL cluster (as the postgres user when root) ----------
PG=$(mktemp -d "${TMPDIR:-/tmp}/fx-bench-pg.XXXXXX") || die "mktemp"
PG_PORT=$(free_port)
mkdir -p "$PG"
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
[ "$(id -u)" -eq 0 ] && chown postgres:postgres "$PG"
chmod 700 "$PG"
as_pg "$PG_BIN/initdb" -D "$PG/data" -U postgres -A trust -E UTF8 --no-sync >"$PG/initdb.log" 2>&1 ||
    die "initdb: $(cat "$PG/initdb.log")"
as_pg "$PG_BIN/pg_ctl" -D "$PG/data" -l "$PG/server.log" -w -t 60 \
    -o "-k $PG -p $PG_PORT -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null ||
    die "PostgreSQL did not start: $(cat "$PG/server.log")"
pg_stop() {
    as_pg "$PG_BIN/pg_ctl" -D "$PG/data" -m fast -w -t 60 stop >/dev/null 2>&1
}
PG_URL=postgresql://postgres@127.0.0.1:$PG_PORT/postgres
trap 'bench_cleanup; pg_stop; rm -rf "$PG"' EXIT
trap 'bench_cleanup; pg_stop; rm -rf "$PG"; trap - EXIT; exit 130' INT TERM HUP

# ---- one measurement ------------------------------------------------------------
# measure NAME URL : GET and POST against URL with DEV_TOKEN and NOTICE_ID
measure() {
    run_wrk "$BENCH_TMP/get.$1" 64 "$DURATION" "$BENCH_DIR/get.lua" "$2/api/v1/notices/$NOTICE_ID" "$DEV_TOKEN"
    printf '%s' "$NOTICE_BODY" >"$BENCH_TMP/body.json"
    run_wrk "$BENCH_TMP/post.$1" 16 "$DURATION" "$BENCH_DIR/post.lua" "$2/api/v1/notices" "$DEV_TOKEN" "$BENCH_TMP/body.json"
    bad=$(fxstat "$BENCH_TMP/post.$1" not_created)
    [ "${bad:-0}" = 0 ] || die "$1: $bad POST answers were not 201"
    printf '  %-28s GET %8.0f req/s  p99 %7.2f ms    POST %7.0f req/s  p99 %7.2f ms\n' "$1" \
        "$(fxstat "$BENCH_TMP/get.$1" rps)" "$(awk -v v="$(fxstat "$BENCH_TMP/get.$1" p99_us)" 'BEGIN{print v/1000}')" \
        "$(fxstat "$BENCH_TMP/post.$1" rps)" "$(awk -v v="$(fxstat "$BENCH_TMP/post.$1" p99_us)" 'BEGIN{print v/1000}')"
}

# setup : the developer and one submitted notice on the server at FX_URL
setup() {
    make_developer
    code=$(api_post /api/v1/notices "$DEV_TOKEN" "$NOTICE_BODY" "$BENCH_TMP/notice.json")
    [ "$code" = 201 ] || die "create notice: HTTP $code"
    NOTICE_ID=$(json_str id <"$BENCH_TMP/notice.json")
}

stop_pid() {
    kill -TERM "$1" 2>/dev/null
    wait "$1" 2>/dev/null
}

describe_machine
echo "load: GET wrk -t2 -c64 -d$DURATION; POST wrk -t2 -c16 -d$DURATION (submit, durable); fxd --rate-limit 0 --quiet"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

# 1. SQLite
start_fxd
setup
measure "sqlite, 1 node" "$FX_URL"
stop_pid "$FX_PID"

# 2. PostgreSQL, one node
rm -rf "$BENCH_TMP/data"
export FX_DB="$PG_URL"
start_fxd
setup
measure "postgres, 1 node" "$FX_URL"

# 3. the same database, a second node, nginx in front of both
N2_PORT=$(free_port)
"$FXD" serve --data "$FX_DATA" --listen "127.0.0.1:$N2_PORT" --rate-limit 0 --quiet \
    >"$BENCH_TMP/fxd2.log" 2>&1 &
N2_PID=$!
track_pid "$N2_PID"
wait_http "http://127.0.0.1:$N2_PORT/healthz" "$N2_PID" || die "second node did not start"
NG=$BENCH_TMP/nginx
mkdir -p "$NG/tmp"
NG_PORT=$(free_port)
cat >"$NG/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $NG/nginx.pid;
error_log $NG/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 100000000;
    client_body_temp_path $NG/tmp/body;
    proxy_temp_path $NG/tmp/proxy;
    fastcgi_temp_path $NG/tmp/fastcgi;
    uwsgi_temp_path $NG/tmp/uwsgi;
    scgi_temp_path $NG/tmp/scgi;
    upstream fx { server 127.0.0.1:$FX_PORT; server 127.0.0.1:$N2_PORT; keepalive 128; }
    server {
        listen 127.0.0.1:$NG_PORT;
        location / {
            proxy_pass http://fx;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_next_upstream error timeout http_503;
        }
    }
}
CONF
nginx -p "$NG" -c "$NG/nginx.conf" -e "$NG/error.log" >"$NG/stdout.log" 2>&1 &
NG_PID=$!
track_pid "$NG_PID"
wait_http "http://127.0.0.1:$NG_PORT/healthz" "$NG_PID" || die "nginx did not start"
measure "postgres, 2 nodes + nginx" "http://127.0.0.1:$NG_PORT"
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
