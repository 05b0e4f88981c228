#!/usr/bin/env bash
# Load benchmarks: authx-server (SQLite, Redis) against the seed's FastAPI +
# AuthX app, with wrk on loopback. Re-runnable from anywhere:
#
#     scripts/bench/run.sh
#
# Prints a markdown table (also written to target/bench/results.md) and keeps
# the raw wrk output and server logs in target/bench/.
#
# Knobs (environment):
#   BENCH_DURATION   seconds per measured run             (15)
#   BENCH_WARMUP     seconds of unmeasured warm-up        (3)
#   BENCH_THREADS    wrk threads (2)
#   BENCH_CONNS      wrk connections for those            (32)
#   BENCH_SESSIONS_N sessions = connections for /refresh; one run per
#                    number in the list                     (4 16)
#   BENCH_MAX_LOAD   wait while the 1-minute load average is above this (1.0)
#   BENCH_LOAD_WAIT  give up waiting after this many seconds, run anyway (300)
#   BENCH_ONLY       space-separated subset of: A B C     (all)
#   BENCH_ROUTES     space-separated subset of: protected healthz refresh (all)
#   BENCH_SERVER_ARGS extra authx-server flags for A and B, e.g. "--http-workers 2" ()
#   REDIS_URL        Redis for run B                      (redis://127.0.0.1:6379)
#   SEED_FILE        the seed page holding the FastAPI app
#                    (/work/shared/seed/000_7d5807d1cce8bb7e.txt)
#
# Measurement method (see /work/shared/PERF-NOTES.md): wrk and the server
# share the machine's cores, so besides req/s the script reports the server's
# own CPU time per request (utime+stime delta of /proc/PID/stat, in
# CLK_TCK ticks, over the requests wrk completed), wrk's CPU per request, and
# the CPU used by everything else on the machine during the run ("other", in
# % of one core) so a polluted measurement is visible. For the Redis run the
# redis-server's CPU per request is reported separately.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BENCH_DIR="$ROOT/scripts/bench"
OUT="$ROOT/target/bench"
VENV="$ROOT/target/authx-py-venv"
REQS="$ROOT/crates/authx/tests/fixtures/authx_py/requirements.txt"
SEED_FILE="${SEED_FILE:-/work/shared/seed/000_7d5807d1cce8bb7e.txt}"
DURATION="${BENCH_DURATION:-15}"
WARMUP="${BENCH_WARMUP:-3}"
THREADS="${BENCH_THREADS:-2}"
CONNS="${BENCH_CONNS:-32}"
SESSION_COUNTS="${BENCH_SESSIONS_N:-4 16}"
MAX_LOAD="${BENCH_MAX_LOAD:-1.0}"
LOAD_WAIT="${BENCH_LOAD_WAIT:-300}"
ONLY="${BENCH_ONLY:-A B C}"
ROUTES="${BENCH_ROUTES:-protected healthz refresh}"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
SERVER_ARGS="${BENCH_SERVER_ARGS:-}"
TICK=$(getconf CLK_TCK)
NCPU=$(nproc)

mkdir -p "$OUT"
log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# ---------------------------------------------------------------- tools
if ! command -v wrk >/dev/null 2>&1; then
    log "installing wrk"
    apt-get update && apt-get install -y wrk
fi
for tool in curl python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "missing $tool" >&2; exit 1; }
done

if ! "$VENV/bin/python" -c 'import authx, fastapi, uvicorn' >/dev/null 2>&1; then
    log "creating the Python venv $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q -r "$REQS"
fi

# The seed app: extracted at run time, never committed.
SEED_APP="$OUT/seed_app.py"
awk '/^"""Dual Token Location Example/ { p = 1 }
     p { print }
     p && /uvicorn\.run\(app, host="0\.0\.0\.0", port=port\)/ { exit }' \
    "$SEED_FILE" >"$SEED_APP"
grep -q 'app = FastAPI' "$SEED_APP" || { echo "could not extract the seed app from $SEED_FILE" >&2; exit 1; }

log "building authx-server (release)"
(cd "$ROOT" && cargo build --release -p authx-server)
# A private copy: a concurrent build replacing target/release/authx-server
# mid-run must not change the binary between runs A and B.
SERVER_BIN="$OUT/authx-server"
cp "$ROOT/target/release/authx-server" "$SERVER_BIN.tmp" && mv -f "$SERVER_BIN.tmp" "$SERVER_BIN"
# What was measured: commit, uncommitted changes to the Rust sources, binary.
GIT_REV=$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
GIT_DIRTY=$(cd "$ROOT" && git status --porcelain -- crates Cargo.toml Cargo.lock 2>/dev/null | awk '{ print $2 }' | paste -sd' ' -)
BIN_SHA=$(sha256sum "$SERVER_BIN" | cut -c1-16)
BIN_TIME=$(date -u -r "$ROOT/target/release/authx-server" '+%Y-%m-%d %H:%M:%S UTC')
log "source: $GIT_REV${GIT_DIRTY:+ + uncommitted changes to $GIT_DIRTY}; binary sha256 $BIN_SHA built $BIN_TIME"

# ---------------------------------------------------------------- helpers
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]:-}"; do
        [ -n "$p" ] && kill "$p" 2>/dev/null || true
    done
    for p in "${PIDS[@]:-}"; do
        [ -n "$p" ] && wait "$p" 2>/dev/null || true
    done
}
trap cleanup EXIT

proc_ticks() { # utime + stime of a whole process (all threads), in ticks
    sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}
machine_busy_ticks() { # all CPUs, everything but idle and iowait
    awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat
}
load1() { cut -d' ' -f1 /proc/loadavg; }

wait_for_quiet() {
    local waited=0
    while awk -v l="$(load1)" -v m="$MAX_LOAD" 'BEGIN { exit !(l > m) }'; do
        if [ "$waited" -ge "$LOAD_WAIT" ]; then
            log "load average still $(load1) after ${waited}s; measuring anyway (flagged)"
            return 0
        fi
        log "load average $(load1) > $MAX_LOAD; waiting 30s"
        sleep 30
        waited=$((waited + 30))
    done
}

rss_sampler() { # peak VmRSS (kB) of $1, every 0.5 s, into $2
    local pid=$1 out=$2 peak=0 v
    while [ -e "/proc/$pid/status" ]; do
        v=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0)
        [ -n "$v" ] && [ "$v" -gt "$peak" ] && peak=$v && echo "$peak" >"$out"
        sleep 0.5
    done
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_http() { # url
    local i
    for i in $(seq 1 100); do
        curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "server at $1 did not come up" >&2
    return 1
}

# login BASE -> prints "ACCESS REFRESH" (refresh = refresh_token_cookie value)
login() {
    local hdr body
    hdr=$(mktemp)
    body=$(curl -fsS -D "$hdr" -H 'Content-Type: application/json' \
        -d '{"username":"user1","password":"password1"}' "$1/login")
    local access refresh
    access=$(printf '%s' "$body" | python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
    refresh=$(tr -d '\r' <"$hdr" | sed -n 's/^[Ss]et-[Cc]ookie: refresh_token_cookie=\([^;]*\).*/\1/p' | head -1)
    rm -f "$hdr"
    [ -n "$access" ] && [ -n "$refresh" ] || { echo "login at $1 failed" >&2; return 1; }
    printf '%s %s\n' "$access" "$refresh"
}

# make_sessions BASE FILE N: N fresh logins, one refresh token per line
make_sessions() {
    : >"$2"
    local i
    for i in $(seq 1 "$3"); do
        login "$1" | cut -d' ' -f2 >>"$2"
    done
}

RESULTS="$OUT/results.tsv"
printf 'server\troute\treq_s\tp50_ms\tp99_ms\trequests\tnon2xx\tsock_err\tnon200\trotated\tsrv_cpu_us\tredis_cpu_us\twrk_cpu_us\tother_pct\trss_start_mib\tpeak_rss_mib\tload1\n' >"$RESULTS"

# measure LABEL ROUTE_LABEL PID WRK_ARGS... (last arg: URL)
# Waits for a quiet machine, runs wrk for DURATION, records one row.
REDIS_PID=""
measure() {
    local label=$1 route=$2 pid=$3
    shift 3
    wait_for_quiet
    local load; load=$(load1)
    local tag; tag=$(echo "$label-$route" | tr -c 'A-Za-z0-9\n' '_')
    local rssf="$OUT/$tag.rss"; echo 0 >"$rssf"
    local rss0; rss0=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
    rss_sampler "$pid" "$rssf" &
    local sampler=$!
    local s0 m0 r0=0 s1 m1 r1=0
    s0=$(proc_ticks "$pid"); m0=$(machine_busy_ticks)
    [ -n "$REDIS_PID" ] && r0=$(proc_ticks "$REDIS_PID")
    log "$label $route: wrk -d${DURATION}s ${*//Bearer [^ ]*/Bearer …} (load1 $load)"
    # /usr/bin/time: wrk's own CPU (user, system seconds)
    /usr/bin/time -f 'WRKTIME %U %S' -o "$OUT/$tag.time" \
        wrk -d"${DURATION}s" --latency "$@" >"$OUT/$tag.wrk" 2>&1
    s1=$(proc_ticks "$pid"); m1=$(machine_busy_ticks)
    [ -n "$REDIS_PID" ] && r1=$(proc_ticks "$REDIS_PID")
    kill "$sampler" 2>/dev/null || true
    wait "$sampler" 2>/dev/null || true
    local line; line=$(grep '^BENCH ' "$OUT/$tag.wrk") || { cat "$OUT/$tag.wrk" >&2; exit 1; }
    local wrkt; wrkt=$(grep '^WRKTIME' "$OUT/$tag.time" | awk '{ print $2 + $3 }')
    awk -v line="$line" -v label="$label" -v route="$route" \
        -v ds=$((s1 - s0)) -v dr=$((r1 - r0)) -v dm=$((m1 - m0)) -v redis="$REDIS_PID" \
        -v wrkt="$wrkt" -v tick="$TICK" -v ncpu="$NCPU" -v rss0="$rss0" -v rss="$(cat "$rssf")" -v load1="$load" '
        BEGIN {
            n = split(line, kv, " ")
            for (i = 2; i <= n; i++) { split(kv[i], p, "="); v[p[1]] = p[2] }
            req = v["requests"]; secs = v["duration_us"] / 1e6
            srv_us = ds / tick * 1e6 / req
            redis_us = redis != "" ? sprintf("%.1f", dr / tick * 1e6 / req) : "-"
            wrk_us = wrkt * 1e6 / req
            other = (dm / tick - ds / tick - dr / tick - wrkt) / secs * 100
            if (other < 0) other = 0
            sock = v["sock_connect"] + v["sock_read"] + v["sock_write"] + v["sock_timeout"]
            printf "%s\t%s\t%.0f\t%.3f\t%.3f\t%d\t%d\t%d\t%s\t%s\t%.1f\t%s\t%.1f\t%.0f\t%.1f\t%.1f\t%s\n",
                label, route, req / secs, v["p50_us"] / 1000, v["p99_us"] / 1000, req,
                v["non2xx"], sock, (v["non200"] < 0 ? "-" : v["non200"]),
                (v["rotated"] < 0 ? "-" : v["rotated"]),
                srv_us, redis_us, wrk_us, other, rss0 / 1024, rss / 1024, load1
        }' >>"$RESULTS"
    tail -1 "$RESULTS" >&2
}

warmup() { # wrk args...; unmeasured
    [ "$WARMUP" -gt 0 ] && wrk -d"${WARMUP}s" "$@" >/dev/null 2>&1 || true
}

# refresh_run LABEL BASE PID: one measurement per number of sessions in
# SESSION_COUNTS (a server that waits on a store may need more sessions in
# flight than one that does not to reach its throughput).
refresh_run() {
    local label=$1 base=$2 pid=$3 n t
    for n in $SESSION_COUNTS; do
        # THREADS wrk threads (fewer when there are fewer sessions), each
        # with a pool of sessions, one connection per session
        t=$((n < THREADS ? n : THREADS))
        # warm-up on its own sessions: a rotated token must never be replayed
        make_sessions "$base" "$OUT/sessions-$label-warm.txt" "$n"
        BENCH_SESSIONS="$OUT/sessions-$label-warm.txt" BENCH_REFRESH_THREADS=$t \
            warmup -t"$t" -c"$n" -s "$BENCH_DIR/refresh.lua" "$base/refresh"
        make_sessions "$base" "$OUT/sessions-$label.txt" "$n"
        BENCH_SESSIONS="$OUT/sessions-$label.txt" BENCH_REFRESH_THREADS=$t \
            measure "$label" "POST /refresh, $n sessions" "$pid" \
            -t"$t" -c"$n" -s "$BENCH_DIR/refresh.lua" "$base/refresh"
    done
}

# start_authx LABEL DB [extra env...] -> sets SRV_PID, SRV_BASE
start_authx() {
    local label=$1 db=$2
    shift 2
    rm -f "$db" "$db"-wal "$db"-shm "$db".secret
    local secret; secret=$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))') # 64 chars
    # SERVER_ARGS is split into words on purpose (several flags).
    # shellcheck disable=SC2086
    env "$@" JWT_SECRET_KEY="$secret" "$SERVER_BIN" \
        --bind 127.0.0.1:0 --database "$db" \
        --login-rate-per-ip 0 --login-rate-per-user 0 $SERVER_ARGS \
        >"$OUT/server-$label.out" 2>"$OUT/server-$label.log" &
    SRV_PID=$!
    PIDS+=("$SRV_PID")
    local i
    for i in $(seq 1 100); do
        SRV_BASE=$(sed -n 's|^listening on \(http://[^ ]*\).*|\1|p' "$OUT/server-$label.out" | head -1)
        [ -n "$SRV_BASE" ] && break
        kill -0 "$SRV_PID" 2>/dev/null || { cat "$OUT/server-$label.log" >&2; exit 1; }
        sleep 0.1
    done
    [ -n "$SRV_BASE" ] || { echo "authx-server ($label) did not start" >&2; exit 1; }
    wait_http "$SRV_BASE/healthz"
}

want() { [[ " $ROUTES " == *" $1 "* ]]; }

stop() { # pid
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# get_run LABEL PATH: wrk GET of PATH on the current server (SRV_BASE,
# SRV_PID) with the Bearer header of one login, made on first use (ACCESS
# is emptied for each server).
get_run() {
    if [ -z "$ACCESS" ]; then
        read -r ACCESS _ < <(login "$SRV_BASE")
        [ -n "$ACCESS" ] || { echo "login at $SRV_BASE failed" >&2; exit 1; }
    fi
    warmup -t"$THREADS" -c"$CONNS" -H "Authorization: Bearer $ACCESS" "$SRV_BASE$2"
    measure "$1" "GET $2" "$SRV_PID" \
        -t"$THREADS" -c"$CONNS" -H "Authorization: Bearer $ACCESS" -s "$BENCH_DIR/report.lua" "$SRV_BASE$2"
}

# ---------------------------------------------------------------- runs
SERVERS=""
if [[ " $ONLY " == *" A "* ]]; then
    start_authx A "$OUT/authx-a.db"
    log "A: authx-server, SQLite store, pid $SRV_PID at $SRV_BASE"
    ACCESS=""
    want protected && get_run "A authx-server (SQLite)" /protected
    # The same Authorization header as /protected, ignored here: the two
    # runs then differ only by what authx does with it.
    want healthz && get_run "A authx-server (SQLite)" /healthz
    want refresh && refresh_run "A authx-server (SQLite)" "$SRV_BASE" "$SRV_PID"
    stop "$SRV_PID"
    SERVERS="$SERVERS A"
fi

if [[ " $ONLY " == *" B "* ]]; then
    REDIS_PREFIX="authx-bench-$(date +%s)-$$:"
    start_authx B "$OUT/authx-b.db" REDIS_URL="$REDIS_URL" AUTHX_REDIS_PREFIX="$REDIS_PREFIX"
    log "B: authx-server, Redis store ($REDIS_URL, prefix $REDIS_PREFIX), pid $SRV_PID at $SRV_BASE"
    # redis-server's CPU is reported beside the server's when it is local
    if command -v redis-cli >/dev/null 2>&1; then
        rp=$(redis-cli -u "$REDIS_URL" info server 2>/dev/null | tr -d '\r' | sed -n 's/^process_id://p')
        [ -n "$rp" ] && [ -r "/proc/$rp/stat" ] && REDIS_PID=$rp
    fi
    want refresh && refresh_run "B authx-server (Redis)" "$SRV_BASE" "$SRV_PID"
    REDIS_PID=""
    stop "$SRV_PID"
    if command -v redis-cli >/dev/null 2>&1; then
        redis-cli -u "$REDIS_URL" --scan --pattern "${REDIS_PREFIX}*" 2>/dev/null |
            xargs -r -n 500 redis-cli -u "$REDIS_URL" del >/dev/null 2>&1 || true
    fi
    SERVERS="$SERVERS B"
fi

if [[ " $ONLY " == *" C "* ]]; then
    port=$(free_port)
    "$VENV/bin/python" -m uvicorn seed_app:app --app-dir "$OUT" \
        --host 127.0.0.1 --port "$port" --log-level warning \
        >"$OUT/server-C.log" 2>&1 &
    SRV_PID=$!
    PIDS+=("$SRV_PID")
    SRV_BASE="http://127.0.0.1:$port"
    wait_http "$SRV_BASE/"
    log "C: seed FastAPI + AuthX under uvicorn, pid $SRV_PID at $SRV_BASE"
    ACCESS=""
    want protected && get_run "C seed FastAPI (uvicorn)" /protected
    want refresh && refresh_run "C seed FastAPI (uvicorn)" "$SRV_BASE" "$SRV_PID"
    stop "$SRV_PID"
    SERVERS="$SERVERS C"
fi

# ---------------------------------------------------------------- report
python3 - "$RESULTS" "$OUT/results.md" "$GIT_REV" "$GIT_DIRTY" "$BIN_SHA" "$BIN_TIME" "$DURATION" "$THREADS" "$CONNS" "$SESSION_COUNTS" "$SERVER_ARGS" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
rev, dirty, sha, built, dur, thr, conns, counts, server_args = sys.argv[3:12]
counts = counts.split()
out = []
out.append(f"Source: `{rev}`" + (f" plus uncommitted changes to {dirty}" if dirty else " (crates clean)") +
           f"; authx-server binary sha256 `{sha}…`, built {built}. wrk -d{dur}s: `-t{thr} -c{conns}` for the GET routes, "
           f"`-t{thr} -cN` with N sessions (one per connection) for /refresh, N = " + ", ".join(counts) + "." +
           (f" authx-server flags: `{server_args}`." if server_args else ""))
out.append("")
out.append("| server | route | req/s | p50 ms | p99 ms | requests | non-2xx | socket errors | non-200 (Lua) | rotations | server CPU µs/req | redis CPU µs/req | wrk CPU µs/req | other CPU % | RSS at start MiB | peak RSS MiB | load1 at start |")
out.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in rows:
    out.append("| {server} | {route} | {req_s} | {p50_ms} | {p99_ms} | {requests} | {non2xx} | {sock_err} | {non200} | {rotated} | {srv_cpu_us} | {redis_cpu_us} | {wrk_cpu_us} | {other_pct} | {rss_start_mib} | {peak_rss_mib} | {load1} |".format(**r))

def get(server_prefix, route):
    for r in rows:
        if r["server"].startswith(server_prefix) and r["route"] == route:
            return r
ratios = []
def ratio(name, a, b, target, kind):
    if not (a and b):
        return
    if kind == "rps":
        x = float(a["req_s"]) / float(b["req_s"])
        def cpu_of(r):  # the server's CPU plus redis-server's for the Redis run
            return float(r["srv_cpu_us"]) + (float(r["redis_cpu_us"]) if r["redis_cpu_us"] != "-" else 0.0)
        cpu = cpu_of(b) / cpu_of(a)
        ok = x >= target
        ratios.append(f"| {name} | {x:.2f} | ≥ {target:g} | {'met' if ok else '**NOT met**'} | {cpu:.2f} |")
pa, ha = get("A", "GET /protected"), get("A", "GET /healthz")
pc = get("C", "GET /protected")
ratio("/protected A ÷ seed /protected", pa, pc, 30, "rps")
ratio("/protected A ÷ /healthz A", pa, ha, 0.85, "rps")
for n in counts:
    route = f"POST /refresh, {n} sessions"
    rc = get("C", route)
    ratio(f"/refresh A (SQLite) ÷ seed /refresh, {n} sessions", get("A", route), rc, 10, "rps")
    ratio(f"/refresh B (Redis) ÷ seed /refresh, {n} sessions", get("B", route), rc, 10, "rps")
if ratios:
    out.append("")
    out.append("| ratio | req/s ratio | target | result | server-CPU-per-request ratio (denominator's µs ÷ numerator's µs; Redis run: authx-server + redis-server) |")
    out.append("|---|---:|---|---|---:|")
    out.extend(ratios)
text = "\n".join(out) + "\n"
open(sys.argv[2], "w").write(text)
print(text)
PY
log "raw output in $OUT (results.tsv, results.md, *.wrk, server-*.log)"
