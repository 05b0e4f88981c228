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
#   BENCH_ROUNDS     rounds; each measures every selected server and route
#                    once, in the same order, so that the ratios compare
#                    measurements taken a minute or two apart   (3)
#   BENCH_MAX_BUSY   before each measurement, wait while the machine is busier
#                    than this, in % of one core, over 2 s      (20)
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
ROUNDS="${BENCH_ROUNDS:-3}"
MAX_BUSY="${BENCH_MAX_BUSY:-20}"
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

busy_pct() { # % of one core the whole machine used over the next 2 s
    local m0 m1
    m0=$(machine_busy_ticks)
    sleep 2
    m1=$(machine_busy_ticks)
    echo $(((m1 - m0) * 100 / (2 * TICK)))
}

# Waits until the machine is idle apart from this script (the servers wait
# for requests, so they use nothing between measurements).
wait_for_quiet() {
    local waited=0 busy
    busy=$(busy_pct)
    while [ "$busy" -gt "$MAX_BUSY" ]; do
        if [ "$waited" -ge "$LOAD_WAIT" ]; then
            log "machine still ${busy}% busy after ${waited}s; measuring anyway (flagged in 'other')"
            return 0
        fi
        log "machine ${busy}% busy (> ${MAX_BUSY}%); waiting 10s"
        sleep 10
        waited=$((waited + 10))
        busy=$(busy_pct)
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
printf 'round\tserver\troute\treq_s\tp50_ms\tp99_ms\trequests\tnon2xx\tsock_err\tnon200\trotated\tsrv_cpu_us\tredis_cpu_us\twrk_cpu_us\tother_pct\trss_start_mib\tpeak_rss_mib\n' >"$RESULTS"

# measure LABEL ROUTE_LABEL PID WRK_ARGS... (last arg: URL)
# Waits for a quiet machine, runs wrk for DURATION, records one row.
REDIS_PID=""
measure() {
    local label=$1 route=$2 pid=$3
    shift 3
    wait_for_quiet
    local tag; tag=$(echo "r$ROUND-$label-$route" | tr -c 'A-Za-z0-9\n' '_')
    local rssf="$OUT/$tag.rss"; echo 0 >"$rssf"
    local rss0; rss0=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
    rss_sampler "$pid" "$rssf" &
    local sampler=$!
    local s0 m0 r0=0 s1 m1 r1=0
    s0=$(proc_ticks "$pid"); m0=$(machine_busy_ticks)
    [ -n "$REDIS_PID" ] && r0=$(proc_ticks "$REDIS_PID")
    log "round $ROUND, $label $route: wrk -d${DURATION}s ${*//Bearer [^ ]*/Bearer …}"
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
        -v wrkt="$wrkt" -v tick="$TICK" -v ncpu="$NCPU" -v rss0="$rss0" -v rss="$(cat "$rssf")" -v round="$ROUND" '
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
            printf "%d\t%s\t%s\t%.0f\t%.3f\t%.3f\t%d\t%d\t%d\t%s\t%s\t%.1f\t%s\t%.1f\t%.0f\t%.1f\t%.1f\n",
                round, label, route, req / secs, v["p50_us"] / 1000, v["p99_us"] / 1000, req,
                v["non2xx"], sock, (v["non200"] < 0 ? "-" : v["non200"]),
                (v["rotated"] < 0 ? "-" : v["rotated"]),
                srv_us, redis_us, wrk_us, other, rss0 / 1024, rss / 1024
        }' >>"$RESULTS"
    tail -1 "$RESULTS" >&2
}

warmup() { # wrk args...; unmeasured
    [ "$WARMUP" -gt 0 ] && wrk -d"${WARMUP}s" "$@" >/dev/null 2>&1 || true
}

# refresh_run LABEL BASE PID N: /refresh with N sessions in flight (a
# server that waits on a store may need more sessions in flight than one
# that does not to reach its throughput).
refresh_run() {
    local label=$1 base=$2 pid=$3 n=$4 t
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

# get_run LABEL BASE PID ACCESS PATH: wrk GET of PATH with ACCESS as the
# Bearer token.
get_run() {
    local label=$1 base=$2 pid=$3 access=$4 path=$5
    warmup -t"$THREADS" -c"$CONNS" -H "Authorization: Bearer $access" "$base$path"
    measure "$label" "GET $path" "$pid" \
        -t"$THREADS" -c"$CONNS" -H "Authorization: Bearer $access" -s "$BENCH_DIR/report.lua" "$base$path"
}

# ---------------------------------------------------------------- servers
# Every selected server is started first and stays up for all the rounds;
# a server that is not being measured waits for requests and uses no CPU.
A_LABEL="A authx-server (SQLite)"
B_LABEL="B authx-server (Redis)"
C_LABEL="C seed FastAPI (uvicorn)"
if [[ " $ONLY " == *" A "* ]]; then
    start_authx A "$OUT/authx-a.db"
    A_PID=$SRV_PID A_BASE=$SRV_BASE
    log "A: authx-server, SQLite store, pid $A_PID at $A_BASE"
    read -r A_ACCESS _ < <(login "$A_BASE")
    [ -n "$A_ACCESS" ] || { echo "login at $A_BASE failed" >&2; exit 1; }
fi
if [[ " $ONLY " == *" B "* ]]; then
    REDIS_PREFIX="authx-bench-$(date +%s)-$$:"
    start_authx B "$OUT/authx-b.db" REDIS_URL="$REDIS_URL" AUTHX_REDIS_PREFIX="$REDIS_PREFIX"
    B_PID=$SRV_PID B_BASE=$SRV_BASE
    log "B: authx-server, Redis store ($REDIS_URL, prefix $REDIS_PREFIX), pid $B_PID at $B_BASE"
    # redis-server's CPU is reported beside the server's when it is local
    B_REDIS_PID=""
    if command -v redis-cli >/dev/null 2>&1; then
        rp=$(redis-cli -u "$REDIS_URL" info server 2>/dev/null | tr -d '\r' | sed -n 's/^process_id://p')
        [ -n "$rp" ] && [ -r "/proc/$rp/stat" ] && B_REDIS_PID=$rp
    fi
fi
if [[ " $ONLY " == *" C "* ]]; then
    port=$(free_port)
    "$VENV/bin/python" -m uvicorn seed_app:app --app-dir "$OUT" \
        --host 127.0.0.1 --port "$port" --log-level warning \
        >"$OUT/server-C.log" 2>&1 &
    C_PID=$!
    PIDS+=("$C_PID")
    C_BASE="http://127.0.0.1:$port"
    wait_http "$C_BASE/"
    log "C: seed FastAPI + AuthX under uvicorn, pid $C_PID at $C_BASE"
    read -r C_ACCESS _ < <(login "$C_BASE")
    [ -n "$C_ACCESS" ] || { echo "login at $C_BASE failed" >&2; exit 1; }
fi
on() { [[ " $ONLY " == *" $1 "* ]]; }

# ---------------------------------------------------------------- rounds
# In each round the routes that are compared are measured one after the
# other: A /protected, A /healthz, C /protected, then for each number of
# sessions A, B and C /refresh. Absolute speeds on a shared VM drift over
# minutes; measurements seconds apart drift much less.
for ROUND in $(seq 1 "$ROUNDS"); do
    if want protected; then
        on A && get_run "$A_LABEL" "$A_BASE" "$A_PID" "$A_ACCESS" /protected
        # The same Authorization header as /protected, ignored here: the
        # two runs then differ only by what authx does with it.
        on A && want healthz && get_run "$A_LABEL" "$A_BASE" "$A_PID" "$A_ACCESS" /healthz
        on C && get_run "$C_LABEL" "$C_BASE" "$C_PID" "$C_ACCESS" /protected
    elif want healthz && on A; then
        get_run "$A_LABEL" "$A_BASE" "$A_PID" "$A_ACCESS" /healthz
    fi
    if want refresh; then
        for n in $SESSION_COUNTS; do
            on A && refresh_run "$A_LABEL" "$A_BASE" "$A_PID" "$n"
            if on B; then
                REDIS_PID=$B_REDIS_PID
                refresh_run "$B_LABEL" "$B_BASE" "$B_PID" "$n"
                REDIS_PID=""
            fi
            on C && refresh_run "$C_LABEL" "$C_BASE" "$C_PID" "$n"
        done
    fi
done

for p in "${PIDS[@]}"; do stop "$p"; done
PIDS=()
if on B && command -v redis-cli >/dev/null 2>&1; then
    redis-cli -u "$REDIS_URL" --scan --pattern "${REDIS_PREFIX}*" 2>/dev/null |
        xargs -r -n 500 redis-cli -u "$REDIS_URL" del >/dev/null 2>&1 || true
fi

# ---------------------------------------------------------------- report
python3 - "$RESULTS" "$OUT/results.md" "$GIT_REV" "$GIT_DIRTY" "$BIN_SHA" "$BIN_TIME" "$DURATION" "$THREADS" "$CONNS" "$SESSION_COUNTS" "$SERVER_ARGS" "$ROUNDS" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
rev, dirty, sha, built, dur, thr, conns, counts, server_args, rounds = sys.argv[3:13]
counts = counts.split()
rounds = [str(r) for r in range(1, int(rounds) + 1)]
out = []
out.append(f"Source: `{rev}`" + (f" plus uncommitted changes to {dirty}" if dirty else " (crates clean)") +
           f"; authx-server binary sha256 `{sha}…`, built {built}. {len(rounds)} rounds; wrk -d{dur}s: "
           f"`-t{thr} -c{conns}` for the GET routes, "
           f"`-t{thr} -cN` with N sessions (one per connection) for /refresh, N = " + ", ".join(counts) + "." +
           (f" authx-server flags: `{server_args}`." if server_args else ""))
out.append("")
out.append("| round | server | route | req/s | p50 ms | p99 ms | requests | non-2xx | socket errors | non-200 (Lua) | rotations | server CPU µs/req | redis CPU µs/req | wrk CPU µs/req | other CPU % | RSS at start MiB | peak RSS MiB |")
out.append("|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in rows:
    out.append("| {round} | {server} | {route} | {req_s} | {p50_ms} | {p99_ms} | {requests} | {non2xx} | {sock_err} | {non200} | {rotated} | {srv_cpu_us} | {redis_cpu_us} | {wrk_cpu_us} | {other_pct} | {rss_start_mib} | {peak_rss_mib} |".format(**r))

def get(rnd, server_prefix, route):
    for r in rows:
        if r["round"] == rnd and r["server"].startswith(server_prefix) and r["route"] == route:
            return r

def cpu_of(r):  # the server's CPU plus redis-server's for the Redis run
    return float(r["srv_cpu_us"]) + (float(r["redis_cpu_us"]) if r["redis_cpu_us"] != "-" else 0.0)

ratios = []
def ratio(name, a, b, route_a, route_b, target):
    """req/s of (a, route_a) over (b, route_b), round by round; the
    verdict is on the median of the rounds."""
    per_round, cpu = [], []
    for rnd in rounds:
        x, y = get(rnd, a, route_a), get(rnd, b, route_b)
        if x and y:
            per_round.append(float(x["req_s"]) / float(y["req_s"]))
            cpu.append(cpu_of(y) / cpu_of(x))
    if not per_round:
        return
    med = statistics.median(per_round)
    ratios.append(f"| {name} | " + ", ".join(f"{v:.2f}" for v in per_round) +
                  f" | **{med:.2f}** | ≥ {target:g} | {'met' if med >= target else '**NOT met**'} | "
                  f"{statistics.median(cpu):.2f} |")
ratio("/protected A ÷ seed /protected", "A", "C", "GET /protected", "GET /protected", 30)
ratio("/protected A ÷ /healthz A", "A", "A", "GET /protected", "GET /healthz", 0.85)
for n in counts:
    route = f"POST /refresh, {n} sessions"
    ratio(f"/refresh A (SQLite) ÷ seed /refresh, {n} sessions", "A", "C", route, route, 10)
    ratio(f"/refresh B (Redis) ÷ seed /refresh, {n} sessions", "B", "C", route, route, 10)
if ratios:
    out.append("")
    out.append("| ratio | req/s ratio, round by round | median | target | result (median) | server-CPU-per-request ratio, median (denominator's µs ÷ numerator's µs; Redis run: authx-server + redis-server) |")
    out.append("|---|---|---:|---|---|---:|")
    out.extend(ratios)
text = "\n".join(out) + "\n"
open(sys.argv[2], "w").write(text)
print(text)
PY
log "raw output in $OUT (results.tsv, results.md, *.wrk, server-*.log)"
