# shellcheck shell=sh
# Shared helpers for the benchmarks in bench/ (POSIX sh; sourced, not run).
#
# Provides: a temp dir and an EXIT trap that stops every process started here,
# a free-port picker, fxd start/stop, the developer org/user/token set-up, JSON
# field extraction without jq, and the wrk result parser.

BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
FXD=${FXD:-$ROOT/build/fxd}

die() {
    echo "bench: FAIL: $*" >&2
    exit 1
}

need() {
    command -v "$1" >/dev/null 2>&1 || die "'$1' is not installed (make deps installs it)"
}

# ---- temp dir and clean-up -------------------------------------------------
BENCH_PIDS=""
BENCH_TMP=""

bench_cleanup() {
    for p in $BENCH_PIDS; do
        kill -TERM "$p" 2>/dev/null
    done
    for p in $BENCH_PIDS; do
        # give each process up to 5 s to stop, then force it
        i=0
        while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do
            sleep 0.1
            i=$((i + 1))
        done
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    BENCH_PIDS=""
    [ -n "$BENCH_TMP" ] && rm -rf "$BENCH_TMP"
    BENCH_TMP=""
}

bench_init() {
    need curl
    need wrk
    [ -x "$FXD" ] || die "$FXD not built (run: make build)"
    BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/fx-bench.XXXXXX") || die "mktemp"
    # nginx workers may run as another user: let them read the served file
    chmod 755 "$BENCH_TMP"
    trap 'bench_cleanup' EXIT
    trap 'bench_cleanup; trap - EXIT; exit 130' INT
    trap 'bench_cleanup; trap - EXIT; exit 143' TERM HUP
}

track_pid() {
    BENCH_PIDS="$BENCH_PIDS $1"
}

# ---- small utilities ---------------------------------------------------------
# A loopback TCP port nobody listens on.
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

# json_str FIELD < json : the first string value of a top-level "FIELD" key
json_str() {
    sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" | head -n 1
}

rss_kb() {
    awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null
}

hwm_kb() {
    awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null
}

# cpu_ticks PID... : user+system CPU time of the processes, in clock ticks
# io_bytes PID FIELD : a counter of /proc/PID/io (wchar: bytes handed to write
# calls; write_bytes: bytes the kernel sent, or will send, to storage)
io_bytes() {
    awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/io" 2>/dev/null
}

cpu_ticks() {
    for p in "$@"; do
        # fields after the ")" of the command name: utime is the 12th, stime the 13th
        sed 's/.*) //' "/proc/$p/stat" 2>/dev/null
    done | awk '{ t += $12 + $13 } END { print t + 0 }'
}

# cores_used TICKS_BEFORE TICKS_AFTER WRK_OUTFILE : average cores busy during the run
cores_used() {
    awk -v a="$1" -v b="$2" -v hz="$(getconf CLK_TCK)" -v us="$(fxstat "$3" duration_us)" \
        'BEGIN { printf "%.2f", (b - a) / hz / (us / 1e6) }'
}

kb_to_mib() {
    awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'
}

# wait_http URL PID : until URL answers 200 (PID must stay alive), at most 15 s
wait_http() {
    i=0
    while [ $i -lt 150 ]; do
        kill -0 "$2" 2>/dev/null || return 1
        code=$(curl -s -o /dev/null -w '%{http_code}' "$1" 2>/dev/null)
        [ "$code" = 200 ] && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

# ---- fxd ---------------------------------------------------------------------
# start_fxd [--threads N] : sets FX_PID, FX_PORT, FX_URL, ADMIN_TOKEN
start_fxd() {
    FX_DATA=$BENCH_TMP/data
    "$FXD" init --data "$FX_DATA" --json >"$BENCH_TMP/init.json" 2>"$BENCH_TMP/init.log" ||
        { cat "$BENCH_TMP/init.log" >&2; die "fxd init"; }
    ADMIN_TOKEN=$(json_str token <"$BENCH_TMP/init.json")
    [ -n "$ADMIN_TOKEN" ] || die "fxd init printed no token"
    FX_PORT=$(free_port)
    FX_URL=http://127.0.0.1:$FX_PORT
    "$FXD" serve --data "$FX_DATA" --listen "127.0.0.1:$FX_PORT" --rate-limit 0 --quiet "$@" \
        >"$BENCH_TMP/fxd.log" 2>&1 &
    FX_PID=$!
    track_pid "$FX_PID"
    wait_http "$FX_URL/healthz" "$FX_PID" || { cat "$BENCH_TMP/fxd.log" >&2; die "fxd did not start"; }
}

# api_post PATH TOKEN BODY OUTFILE : prints the HTTP status
api_post() {
    curl -s -o "$4" -w '%{http_code}' -X POST -H "Authorization: Bearer $2" \
        -H 'Content-Type: application/json' --data-binary "$3" "$FX_URL$1"
}

# A developer org, one member and that member's token: sets DEV_TOKEN.
make_developer() {
    code=$(api_post /api/v1/orgs "$ADMIN_TOKEN" '{"name":"Bench Labs","kind":"developer"}' "$BENCH_TMP/org.json")
    [ "$code" = 201 ] || die "create org: HTTP $code $(cat "$BENCH_TMP/org.json")"
    org=$(json_str id <"$BENCH_TMP/org.json")
    code=$(api_post "/api/v1/orgs/$org/users" "$ADMIN_TOKEN" \
        '{"email":"bench@bench-labs.example","name":"Bench Member","role":"member"}' "$BENCH_TMP/user.json")
    [ "$code" = 201 ] || die "create user: HTTP $code $(cat "$BENCH_TMP/user.json")"
    user=$(json_str id <"$BENCH_TMP/user.json")
    code=$(api_post "/api/v1/users/$user/tokens" "$ADMIN_TOKEN" '{"name":"bench"}' "$BENCH_TMP/token.json")
    [ "$code" = 201 ] || die "create token: HTTP $code $(cat "$BENCH_TMP/token.json")"
    DEV_TOKEN=$(json_str token <"$BENCH_TMP/token.json")
    [ -n "$DEV_TOKEN" ] || die "no token in $(cat "$BENCH_TMP/token.json")"
}

# The notice every benchmark submits: realistic field sizes (response about 1.3 KB).
# shellcheck disable=SC2034 # used by the scripts that source this file
NOTICE_BODY='{"model_name":"Bench-7B","model_version":"2027.06","planned_release_date":"2027-06-01","description":"A seven-billion-parameter general-purpose language model trained on licensed and public web text, tuned for instruction following, code completion and summarisation. Released through the hosted API first and to enterprise customers a month later; no open weights are planned for this version.","training_compute_flop":8.4e23,"parameter_count":7000000000,"modalities":["text","code"],"release_channels":["api","enterprise"],"contact":{"name":"Bench Safety Desk","email":"safety@bench-labs.example"},"submit":true}'

# ---- wrk -------------------------------------------------------------------
# run_wrk OUTFILE CONNS DURATION LUA URL [ARGS...] : wrk's full output goes to
# OUTFILE; the Lua done() callback prints one "FXSTAT k=v ..." line.
run_wrk() {
    out=$1 conns=$2 dur=$3 lua=$4 url=$5
    shift 5
    wrk -t2 -c"$conns" -d"$dur" --latency -s "$lua" "$url" -- "$@" >"$out" 2>&1 ||
        { cat "$out" >&2; die "wrk failed against $url"; }
    [ "${BENCH_VERBOSE:-0}" = 1 ] && sed 's/^/    | /' "$out"
    grep -q '^FXSTAT ' "$out" || { cat "$out" >&2; die "no FXSTAT line from wrk"; }
}

# fxstat OUTFILE KEY : one value from the FXSTAT line
fxstat() {
    sed -n 's/^FXSTAT //p' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# median of the numbers on stdin (one per line)
median() {
    sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# disk_sync_rate : O_DSYNC 4 KiB writes per second in the temp dir, appending
# to a new file and overwriting it in place (what one fsync costs here)
disk_sync_rate() {
    f=$BENCH_TMP/dsync.probe
    rate() {
        dd if=/dev/zero of="$f" bs=4k count=500 oflag=dsync "$@" 2>&1 |
            awk '/copied/ { for (i = 1; i <= NF; i++) if ($i == "s,") print int(500 / $(i - 1)) }'
    }
    a=$(rate)
    o=$(rate conv=notrunc)
    rm -f "$f"
    echo "appending $a/s, overwriting $o/s"
}

describe_machine() {
    echo "machine: $(nproc) cores ($(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)), $(uname -sr); wrk shares the cores with the servers"
    rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
    dirty=$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo " (+ uncommitted changes)")
    echo "fxd: $FXD at commit $rev$dirty"
}
