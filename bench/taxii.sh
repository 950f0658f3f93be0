#!/bin/sh
# TAXII 2.1 in one run (see bench/README.md): ingest 100,000 STIX indicators
# through envelopes of 1,000 objects into an organization's collection
# (objects/s), then GET /objects/ pages of 100 from that collection over 64
# keep-alive connections (pages/s, p99).
#
#   sh bench/taxii.sh [--threads N]
#
# Every envelope must answer 202 with all 1,000 objects stored; every page 200
# with objects: anything else fails the run.
# Environment: OBJECTS (default 100000), PER_ENVELOPE (default 1000), POSTERS
# (envelopes in flight at once, default 4), DURATION (default 10s), CONNS
# (default 64), PAGE (default 100), INGEST_TARGET (default 50000 objects/s),
# PAGE_TARGET (default 5000 pages/s), RANDOM_IDS=1 (UUIDv4 ids instead of the
# default time-ordered UUIDv7-shaped ones), FX_THREADS, BENCH_VERBOSE=1, FXD.
set -u

. "$(dirname "$0")/lib.sh"

OBJECTS=${OBJECTS:-100000}
PER_ENVELOPE=${PER_ENVELOPE:-1000}
POSTERS=${POSTERS:-4}
RANDOM_IDS=${RANDOM_IDS:-0}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-64}
PAGE=${PAGE:-100}
INGEST_TARGET=${INGEST_TARGET:-50000}
PAGE_TARGET=${PAGE_TARGET:-5000}
FX_THREADS=${FX_THREADS:-}
while [ $# -gt 0 ]; do
    case $1 in
    --threads) FX_THREADS=$2; shift 2 ;;
    --threads=*) FX_THREADS=${1#--threads=}; shift ;;
    *) die "unknown argument $1 (usage: taxii.sh [--threads N])" ;;
    esac
done
need awk

bench_init
if [ -n "$FX_THREADS" ]; then
    start_fxd --threads "$FX_THREADS"
    threads_desc="--threads $FX_THREADS"
else
    start_fxd
    threads_desc="default --threads ($(sed -n 's/.*"threads":\([0-9]*\).*/\1/p' "$BENCH_TMP/fxd.log" | head -n 1))"
fi
make_developer
COLL=$FX_URL/taxii2/fx/collections/$org/objects/
TAXII='application/taxii+json;version=2.1'

# ---- the envelopes: OBJECTS indicators, each with its own id and pattern ----------
ENV=$BENCH_TMP/envelopes
mkdir -p "$ENV"
n_env=$(((OBJECTS + PER_ENVELOPE - 1) / PER_ENVELOPE))
awk -v total="$OBJECTS" -v per="$PER_ENVELOPE" -v dir="$ENV" -v random_ids="$RANDOM_IDS" -v seed="$$" 'BEGIN {
    srand(seed)
    base = 1780000000000 # ms: ids shaped as UUIDv7 (time-ordered, as fxd makes its own)
    for (e = 0; e * per < total; e++) {
        f = sprintf("%s/%05d.json", dir, e)
        printf "{\"objects\":[" > f
        for (i = 0; i < per && e * per + i < total; i++) {
            k = e * per + i
            if (random_ids == 1)
                uuid = sprintf("%08x-%04x-4%03x-%x%03x-%06x%06x", int(rand() * 4294967296), int(rand() * 65536), int(rand() * 4096), 8 + int(rand() * 4), int(rand() * 4096), int(rand() * 16777216), int(rand() * 16777216))
            else
                uuid = sprintf("%08x-%04x-7%03x-%x%03x-%06x%06x", int((base + k) / 65536), (base + k) % 65536, int(rand() * 4096), 8 + int(rand() * 4), int(rand() * 4096), int(rand() * 16777216), int(rand() * 16777216))
            printf "%s{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--%s\",\"created\":\"2026-01-01T00:00:00.000Z\",\"modified\":\"2026-01-01T00:00:00.000Z\",\"name\":\"bench indicator %d\",\"description\":\"A host seen scanning the bench network.\",\"indicator_types\":[\"malicious-activity\"],\"pattern\":\"[ipv4-addr:value = '"'"'10.%d.%d.%d'"'"']\",\"pattern_type\":\"stix\",\"valid_from\":\"2026-01-01T00:00:00Z\",\"labels\":[\"bench\"]}", (i ? "," : ""), uuid, k, int(k / 65536) % 256, int(k / 256) % 256, k % 256 >> f
        }
        printf "]}" >> f
        close(f)
    }
}'
env_bytes=$(cat "$ENV"/*.json | wc -c | tr -d ' ')
# one envelope by hand first: checks the body and the token
code=$(curl -s -o "$BENCH_TMP/probe.json" -w '%{http_code}' -H "Authorization: Bearer $DEV_TOKEN" \
    -H "Content-Type: $TAXII" -H "Accept: $TAXII" --data-binary "@$ENV/00000.json" "$COLL")
[ "$code" = 202 ] || die "POST envelope: HTTP $code $(head -c 600 "$BENCH_TMP/probe.json")"
grep -q "\"success_count\":$PER_ENVELOPE" "$BENCH_TMP/probe.json" ||
    die "envelope not stored whole: $(head -c 600 "$BENCH_TMP/probe.json")"

echo "== TAXII 2.1: ingest $OBJECTS indicators, then GET /objects/ pages of $PAGE =="
describe_machine
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "fxd:   $FX_URL, $threads_desc, --rate-limit 0 --quiet; SQLite store; a developer member's token"
echo "data:  $n_env envelopes of $PER_ENVELOPE indicators, $env_bytes bytes in all (about $((env_bytes / n_env)) per envelope); ids $([ "$RANDOM_IDS" = 1 ] && echo "UUIDv4, random" || echo "UUIDv7-shaped, time-ordered")"
echo "disk:  one 4 KiB O_DSYNC write (dd) in the data dir's file system: $(disk_sync_rate)"
echo "fxd RSS before: $(kb_to_mib "$(rss_kb "$FX_PID")")"
echo

# ---- ingest: the probe's objects were stored once; storing them again is a no-op,
# so the timed run posts every envelope to a fresh collection: a second developer ----
make_developer_named() {
    code=$(api_post /api/v1/orgs "$ADMIN_TOKEN" "{\"name\":\"$1\",\"kind\":\"developer\"}" "$BENCH_TMP/org2.json")
    [ "$code" = 201 ] || die "create org: HTTP $code $(cat "$BENCH_TMP/org2.json")"
    org=$(json_str id <"$BENCH_TMP/org2.json")
    code=$(api_post "/api/v1/orgs/$org/users" "$ADMIN_TOKEN" \
        "{\"email\":\"ingest@$1.example\",\"name\":\"Ingest Member\",\"role\":\"member\"}" "$BENCH_TMP/user2.json")
    [ "$code" = 201 ] || die "create user: HTTP $code $(cat "$BENCH_TMP/user2.json")"
    user=$(json_str id <"$BENCH_TMP/user2.json")
    code=$(api_post "/api/v1/users/$user/tokens" "$ADMIN_TOKEN" '{"name":"bench"}' "$BENCH_TMP/token2.json")
    [ "$code" = 201 ] || die "create token: HTTP $code $(cat "$BENCH_TMP/token2.json")"
    DEV_TOKEN=$(json_str token <"$BENCH_TMP/token2.json")
}
make_developer_named bench-ingest
COLL=$FX_URL/taxii2/fx/collections/$org/objects/
mkdir -p "$BENCH_TMP/status"
# One curl process posts every envelope, POSTERS at a time over keep-alive
# connections, as a TAXII client does: a shell and a curl started per envelope
# cost this 2-core machine about 8 ms of CPU each, taken from fxd.
CFG=$BENCH_TMP/posts.curl
for f in "$ENV"/*.json; do
    [ -s "$CFG" ] && echo next
    printf 'url = "%s"\nheader = "Authorization: Bearer %s"\nheader = "Content-Type: %s"\nheader = "Accept: %s"\ndata-binary = "@%s"\noutput = "%s/status/%s"\nwrite-out = "%%{http_code} %%{url_effective}\\n"\nsilent\n' \
        "$COLL" "$DEV_TOKEN" "$TAXII" "$TAXII" "$f" "$BENCH_TMP" "$(basename "$f")"
done >"$CFG"
T0=$(cpu_ticks "$FX_PID")
start_ns=$(date +%s%N)
curl --parallel --parallel-max "$POSTERS" -K "$CFG" >"$BENCH_TMP/codes" ||
    die "curl: $(tail -n 3 "$BENCH_TMP/codes")"
end_ns=$(date +%s%N)
T1=$(cpu_ticks "$FX_PID")
posted=$(grep -c '^202 ' "$BENCH_TMP/codes")
[ "$posted" = "$n_env" ] || die "$((n_env - posted)) envelopes not answered 202: $(grep -v '^202 ' "$BENCH_TMP/codes" | head -n 3)"
stored=$(cat "$BENCH_TMP"/status/*.json | grep -o '"success_count":[0-9]*' | awk -F: '{ s += $2 } END { print s + 0 }')
refused=$(cat "$BENCH_TMP"/status/*.json | grep -o '"failure_count":[0-9]*' | awk -F: '{ s += $2 } END { print s + 0 }')
[ "$stored" = "$OBJECTS" ] && [ "$refused" = 0 ] || die "stored $stored of $OBJECTS, refused $refused"
ingest_rate=$(awk -v n="$OBJECTS" -v a="$start_ns" -v b="$end_ns" 'BEGIN { printf "%.0f", n / ((b - a) / 1e9) }')
ingest_secs=$(awk -v a="$start_ns" -v b="$end_ns" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
ingest_cores=$(awk -v a="$T0" -v b="$T1" -v hz="$(getconf CLK_TCK)" -v s="$ingest_secs" 'BEGIN { printf "%.2f", (b - a) / hz / s }')
echo "ingest: $OBJECTS objects in $n_env envelopes, $POSTERS in flight (one curl --parallel, keep-alive), each durable before its 202"
printf '  %s objects/s   (%s s; %s envelopes/s; fxd CPU %s cores; every object stored, none refused)\n' \
    "$ingest_rate" "$ingest_secs" "$(awk -v n="$n_env" -v s="$ingest_secs" 'BEGIN { printf "%.1f", n / s }')" "$ingest_cores"
echo

# ---- pages -------------------------------------------------------------------------
LUA=$BENCH_DIR/taxii_pages.lua
run_wrk "$BENCH_TMP/warm" "$CONNS" 2s "$LUA" "$COLL" "$DEV_TOKEN" "$PAGE"
T0=$(cpu_ticks "$FX_PID")
run_wrk "$BENCH_TMP/pages" "$CONNS" "$DURATION" "$LUA" "$COLL" "$DEV_TOKEN" "$PAGE"
T1=$(cpu_ticks "$FX_PID")
OUT=$BENCH_TMP/pages
grep -q '^FXBAD ' "$OUT" && die "a page was not served: $(sed -n 's/^FXBAD //p' "$OUT")"
[ "$(fxstat "$OUT" not_pages)" = 0 ] || die "non-page answers: $(fxstat "$OUT" not_pages)"
body=$(curl -s -H "Authorization: Bearer $DEV_TOKEN" -H "Accept: $TAXII" "$COLL?limit=$PAGE" | wc -c | tr -d ' ')
echo "pages: GET $COLL?limit=$PAGE&next=..., each connection following next through the collection, starting over at its end"
echo "  wrk -t2 -c$CONNS -d$DURATION --latency, keep-alive; a page is about $body bytes"
printf '  %.0f pages/s   p50 %.2f ms   p90 %.2f ms   p99 %.2f ms   max %.2f ms   (%s pages, %s walks to the end, fxd CPU %s cores, socket errors %s)\n' \
    "$(fxstat "$OUT" rps)" \
    "$(awk -v v="$(fxstat "$OUT" p50_us)" 'BEGIN{print v/1000}')" \
    "$(awk -v v="$(fxstat "$OUT" p90_us)" 'BEGIN{print v/1000}')" \
    "$(awk -v v="$(fxstat "$OUT" p99_us)" 'BEGIN{print v/1000}')" \
    "$(awk -v v="$(fxstat "$OUT" max_us)" 'BEGIN{print v/1000}')" \
    "$(fxstat "$OUT" pages)" "$(fxstat "$OUT" restarts)" "$(cores_used "$T0" "$T1" "$OUT")" \
    "$(($(fxstat "$OUT" err_connect) + $(fxstat "$OUT" err_read) + $(fxstat "$OUT" err_write) + $(fxstat "$OUT" err_timeout)))"
echo "fxd RSS after: $(kb_to_mib "$(rss_kb "$FX_PID")"), peak $(kb_to_mib "$(hwm_kb "$FX_PID")")"
echo
page_rate=$(fxstat "$OUT" rps)
verdict() {
    awk -v v="$2" -v t="$3" -v what="$1" -v unit="$4" 'BEGIN {
        printf "target %-8s >= %s %s: %s (%.0f)\n", what, t, unit, (v >= t ? "met" : "MISSED"), v }'
}
verdict ingest "$ingest_rate" "$INGEST_TARGET" objects/s
verdict pages "$page_rate" "$PAGE_TARGET" pages/s
