#!/usr/bin/env bash
# Three fika nodes federating on this machine: hq, sales and engineering, each on its own
# loopback port with its own data directory, allowlists set to each other, and one member of
# staff on each. For seeing federation work before touching a real network.
#
#   deploy/local-federation.sh [start] [BASE_DIR]   start (or restart) the three nodes
#   deploy/local-federation.sh status   [BASE_DIR]   which nodes run, and whether they are ready
#   deploy/local-federation.sh stop     [BASE_DIR]   SIGTERM all, wait, report their exit codes
#
# BASE_DIR defaults to ${TMPDIR:-/tmp}/fika-demo. Running `start` again reuses the data
# directories (accounts, posts and keys survive) and creates no second user; nodes that
# already run are left alone.
#
# Environment:
#   FIKA_BIN                   the fika binary (default: target/release/fika, then the shared
#                              build directory ~/.cache/fika/target, release before debug;
#                              built with `cargo build --release` if none exists)
#   FIKA_DEMO_PORTS            three ports for hq, sales and engineering (default "8101 8102
#                              8103"); only read on the first start, then kept in BASE_DIR
#   FIKA_DEMO_PASSWORD_GRANT=1 allow the OAuth password grant (scripts and tests log in with it)
#   FIKA_DEMO_LOG_LEVEL        the nodes' log filter (default "info,sqlx=warn")
#
# Any other FIKA_* variable of the caller is NOT passed to the nodes: a stray FIKA_DATABASE_URL
# would put all three on one database.
set -euo pipefail

NODES=(hq sales engineering)
USERS=(ada bob cy)
STOP_TIMEOUT=30   # seconds; a node finishes in-flight deliveries within about 15
START_TIMEOUT=60

die() { echo "local-federation: $*" >&2; exit 1; }

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
}

cmd=start
case "${1:-}" in
    start|stop|status) cmd=$1; shift ;;
    -h|--help|help) usage; exit 0 ;;
esac
[ $# -le 1 ] || { usage >&2; exit 2; }
base="${1:-${TMPDIR:-/tmp}/fika-demo}"
case "$base" in /*) ;; *) base="$PWD/$base" ;; esac

repo="$(cd "$(dirname "$0")/.." && pwd)"

# --- helpers ------------------------------------------------------------------------------

find_binary() {
    if [ -n "${FIKA_BIN:-}" ]; then
        [ -x "$FIKA_BIN" ] || die "FIKA_BIN=$FIKA_BIN is not an executable"
        echo "$FIKA_BIN"
        return
    fi
    local candidates=("$repo/target/release/fika")
    [ -n "${CARGO_TARGET_DIR:-}" ] && candidates+=("$CARGO_TARGET_DIR/release/fika")
    candidates+=("$HOME/.cache/fika/target/release/fika" "$repo/target/debug/fika")
    [ -n "${CARGO_TARGET_DIR:-}" ] && candidates+=("$CARGO_TARGET_DIR/debug/fika")
    candidates+=("$HOME/.cache/fika/target/debug/fika")
    local c
    for c in "${candidates[@]}"; do
        if [ -x "$c" ]; then echo "$c"; return; fi
    done
    command -v cargo >/dev/null || die "no fika binary found and no cargo to build one (set FIKA_BIN)"
    echo "local-federation: no fika binary found; building one with cargo build --release" >&2
    (cd "$repo" && cargo build --release >&2) || die "cargo build --release failed"
    local built="${CARGO_TARGET_DIR:-$repo/target}/release/fika"
    [ -x "$built" ] || die "cargo build succeeded but $built is missing"
    echo "$built"
}

# The pid in a node's pid file, if that process still runs and is a fika node.
running_pid() {
    local pidfile="$base/$1.pid" pid
    [ -f "$pidfile" ] || return 1
    pid="$(cat "$pidfile")"
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
    if [ -r "/proc/$pid/cmdline" ] && ! tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'serve'; then
        return 1   # the pid was reused by something else
    fi
    echo "$pid"
}

port_of() {
    local i
    for i in "${!NODES[@]}"; do
        [ "${NODES[$i]}" = "$1" ] && { echo "${PORTS[$i]}"; return; }
    done
}

read_kv() {   # read_kv FILE KEY
    sed -n "s/^$2=//p" "$1" 2>/dev/null | head -n 1
}

load_ports() {
    if [ -f "$base/ports" ]; then
        read -r -a PORTS <"$base/ports"
        if [ -n "${FIKA_DEMO_PORTS:-}" ] && [ "$FIKA_DEMO_PORTS" != "${PORTS[*]}" ]; then
            echo "local-federation: $base was set up with ports ${PORTS[*]}; keeping them" \
                "(a node's address is part of its accounts' identity)" >&2
        fi
    else
        read -r -a PORTS <<<"${FIKA_DEMO_PORTS:-8101 8102 8103}"
    fi
    [ "${#PORTS[@]}" -eq 3 ] || die "FIKA_DEMO_PORTS needs three ports, got '${PORTS[*]}'"
    local p
    for p in "${PORTS[@]}"; do
        if ! [[ "$p" =~ ^[0-9]+$ ]] || [ "$p" -eq 0 ] || [ "$p" -gt 65535 ]; then
            die "not a port: $p"
        fi
    done
}

# --- start --------------------------------------------------------------------------------

start_node() {   # start_node NAME PORT ALLOWED
    local name=$1 port=$2 allowed=$3 dir="$base/$1"
    mkdir -p "$dir"
    chmod 700 "$dir"
    if pid="$(running_pid "$name")"; then
        echo "  $name is already running (pid $pid)"
        return 0
    fi
    rm -f "$base/$name.pid" "$base/$name.exit"

    # Start with a clean environment as far as fika is concerned: drop the caller's FIKA_*.
    local unset_args=() v
    for v in $(compgen -e); do
        case "$v" in FIKA_*|RUST_LOG) unset_args+=(-u "$v") ;; esac
    done
    local env_args=(
        FIKA_DATA_DIR="$dir"
        FIKA_SERVER_LISTEN="127.0.0.1:$port"
        FIKA_SERVER_NODE_NAME="$name"
        FIKA_FEDERATION_MODE=allowlist
        FIKA_FEDERATION_ALLOWED_DOMAINS="$allowed"
        FIKA_FEDERATION_ALLOW_HTTP=true
        FIKA_LOG_LEVEL="${FIKA_DEMO_LOG_LEVEL:-info,sqlx=warn}"
    )
    if [ "${FIKA_DEMO_PASSWORD_GRANT:-0}" = 1 ]; then
        env_args+=(FIKA_OAUTH_PASSWORD_GRANT=true)
    fi
    printf '%s\n' "${env_args[@]}" >"$dir/node.env"

    # A small supervisor shell per node: it records fika's pid, waits for it and writes its
    # exit status, so `stop` can report it although this script is not the node's parent.
    # setsid (where there is one) keeps the nodes out of the terminal's signals.
    local detach=()
    command -v setsid >/dev/null && detach=(setsid)
    # shellcheck disable=SC2016  # expanded by the supervisor shell, not here
    nohup ${detach[@]+"${detach[@]}"} bash -c '
        pidfile=$1 exitfile=$2; shift 2
        "$@" &
        echo $! >"$pidfile"
        status=0
        wait $! || status=$?
        echo "$status" >"$exitfile"
    ' local-federation-"$name" "$base/$name.pid" "$base/$name.exit" \
        env ${unset_args[@]+"${unset_args[@]}"} "${env_args[@]}" "$BIN" serve \
        </dev/null >"$dir/stdout.log" 2>"$dir/fika.log" &

    # Wait for "fika listening on" (stdout), or for the node to die.
    local deadline=$((SECONDS + START_TIMEOUT))
    until grep -q '^fika listening on' "$dir/stdout.log" 2>/dev/null; do
        if [ -f "$base/$name.exit" ]; then
            echo "  $name exited with status $(cat "$base/$name.exit") while starting; its log:" >&2
            tail -n 20 "$dir/fika.log" "$dir/stdout.log" >&2 || true
            return 1
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "  $name did not start within ${START_TIMEOUT}s; its log ($dir/fika.log):" >&2
            tail -n 20 "$dir/fika.log" >&2 || true
            return 1
        fi
        sleep 0.2
    done
    echo "  $name started (pid $(cat "$base/$name.pid")) on http://127.0.0.1:$port/"

    # The first start of an empty node prints the admin's generated password once: keep it.
    local admin_user admin_pw
    admin_user="$(sed -n 's/^ *username: //p' "$dir/stdout.log" | head -n 1)"
    admin_pw="$(sed -n 's/^ *password: //p' "$dir/stdout.log" | head -n 1)"
    if [ -n "$admin_pw" ]; then
        (umask 077 && printf 'username=%s\npassword=%s\n' "$admin_user" "$admin_pw" >"$dir/admin")
    fi
}

fika_cli() {   # fika_cli NODE ARGS...: fika against NODE's data directory
    local name=$1; shift
    local unset_args=() v
    for v in $(compgen -e); do
        case "$v" in FIKA_*|RUST_LOG) unset_args+=(-u "$v") ;; esac
    done
    local env_args=() line
    while IFS= read -r line; do env_args+=("$line"); done <"$base/$name/node.env"
    env ${unset_args[@]+"${unset_args[@]}"} "${env_args[@]}" FIKA_LOG_LEVEL=warn "$BIN" "$@"
}

ensure_user() {   # ensure_user NODE USER
    local name=$1 user=$2 dir="$base/$1" email out pw
    [ -f "$dir/user" ] && return 0
    email="$user@$name.example.org"
    if ! out="$(fika_cli "$name" admin create-user "$user" --email "$email" 2>&1)"; then
        if [[ "$out" == *"already exists"* || "$out" == *"taken"* ]]; then
            # Created by an earlier, interrupted run whose password was lost: set a new one.
            out="$(fika_cli "$name" admin set-password "$user" 2>&1)" \
                || die "could not set a password for $user on $name: $out"
        else
            die "could not create $user on $name: $out"
        fi
    fi
    pw="$(sed -n 's/^password: //p' <<<"$out" | head -n 1)"
    [ -n "$pw" ] || die "fika printed no password for $user on $name: $out"
    (umask 077 && printf 'username=%s\nemail=%s\npassword=%s\n' "$user" "$email" "$pw" >"$dir/user")
    echo "  created $user on $name"
}

summary() {
    local i name port url others peer
    echo
    echo "Three fika nodes federating on loopback (data in $base):"
    for i in "${!NODES[@]}"; do
        name=${NODES[$i]} port=${PORTS[$i]}
        url="http://127.0.0.1:$port/"
        echo
        echo "  $name  $url"
        echo "    In a Mastodon app, log in to: $url"
        if [ -f "$base/$name/user" ]; then
            echo "    staff:  $(read_kv "$base/$name/user" username)" \
                "(email $(read_kv "$base/$name/user" email))" \
                "password $(read_kv "$base/$name/user" password)"
        fi
        if [ -f "$base/$name/admin" ]; then
            echo "    admin:  $(read_kv "$base/$name/admin" username)" \
                "password $(read_kv "$base/$name/admin" password)"
        else
            echo "    admin:  (no generated password recorded for this data directory)"
        fi
        others=()
        for peer in "${!NODES[@]}"; do
            [ "$peer" = "$i" ] || others+=("${USERS[$peer]}@127.0.0.1:${PORTS[$peer]}")
        done
        echo "    search for colleagues on the other nodes: ${others[*]}"
    done
    echo
    echo "Logs: $base/NODE/fika.log   Status: $0 status $base   Stop: $0 stop $base"
}

do_start() {
    BIN="$(find_binary)"
    mkdir -p "$base"
    load_ports
    echo "${PORTS[*]}" >"$base/ports"
    echo "Starting hq, sales and engineering with $BIN"
    local i j allowed failed=0
    for i in "${!NODES[@]}"; do
        allowed=""
        for j in "${!NODES[@]}"; do
            [ "$i" = "$j" ] && continue
            allowed+="${allowed:+, }127.0.0.1:${PORTS[$j]}"
        done
        start_node "${NODES[$i]}" "${PORTS[$i]}" "[$allowed]" || { failed=1; break; }
    done
    if [ "$failed" = 1 ]; then
        echo "local-federation: a node failed to start; stopping the others" >&2
        do_stop >&2 || true
        exit 1
    fi
    for i in "${!NODES[@]}"; do
        ensure_user "${NODES[$i]}" "${USERS[$i]}"
    done
    summary
}

# --- stop and status ----------------------------------------------------------------------

do_stop() {
    local name pid pids=() names=() i status=0 code
    for name in "${NODES[@]}"; do
        if pid="$(running_pid "$name")"; then
            kill -TERM "$pid" 2>/dev/null || true
            pids+=("$pid"); names+=("$name")
        else
            echo "$name: not running"
        fi
    done
    local deadline=$((SECONDS + STOP_TIMEOUT))
    for i in "${!pids[@]}"; do
        name=${names[$i]} pid=${pids[$i]}
        while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
        if kill -0 "$pid" 2>/dev/null; then
            echo "$name: still running ${STOP_TIMEOUT}s after SIGTERM; sending SIGKILL" >&2
            kill -KILL "$pid" 2>/dev/null || true
            status=1
        fi
        # The supervisor writes the exit status right after the node is gone.
        for _ in $(seq 1 50); do [ -f "$base/$name.exit" ] && break; sleep 0.1; done
        code="$(cat "$base/$name.exit" 2>/dev/null || echo unknown)"
        echo "$name: stopped, exit status $code"
        [ "$code" = 0 ] || status=1
        rm -f "$base/$name.pid"
    done
    return "$status"
}

do_status() {
    local i name port pid ready all=0
    [ -d "$base" ] || { echo "no demo in $base"; return 3; }
    load_ports
    for i in "${!NODES[@]}"; do
        name=${NODES[$i]} port=${PORTS[$i]}
        if pid="$(running_pid "$name")"; then
            ready=""
            if command -v curl >/dev/null; then
                if curl -fsS -m 3 -o /dev/null "http://127.0.0.1:$port/ready"; then
                    ready=", ready"
                else
                    ready=", NOT ready"
                fi
            fi
            echo "$name: running (pid $pid) on http://127.0.0.1:$port/$ready"
        else
            all=3
            if [ -f "$base/$name.exit" ]; then
                echo "$name: stopped (last exit status $(cat "$base/$name.exit"))"
            else
                echo "$name: stopped"
            fi
        fi
    done
    return "$all"
}

case "$cmd" in
    start) do_start ;;
    stop)
        [ -d "$base" ] || { echo "no demo in $base"; exit 0; }
        do_stop ;;
    status) do_status ;;
esac
