#!/usr/bin/env bash
# The two quick-start commands: `./dev.sh run` and `./dev.sh test`.
# Each installs what is missing first, so both work on a fresh Debian machine.
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
VENV=.venv
E2E=tests/e2e

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        echo "Need root for: $*" >&2; return 1
    fi
}

apt_updated=0
apt_install() {
    if [ "$apt_updated" = 0 ]; then
        as_root apt-get update -qq
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

ensure_python() {
    if [ ! -x "$VENV/bin/python" ]; then
        say "Creating $VENV"
        "$PYTHON" -m venv "$VENV" || { apt_install python3-venv && "$PYTHON" -m venv "$VENV"; }
    fi
    # Reinstall only when pyproject.toml changed since the last install.
    local stamp="$VENV/.installed"
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
        say "Installing Python packages"
        "$VENV/bin/python" -m pip install -q --upgrade pip
        "$VENV/bin/python" -m pip install -q -e ".[dev]"
        touch "$stamp"
    fi
}

ensure_node() {
    if ! command -v npm >/dev/null; then
        say "Installing Node.js and npm (Debian)"
        apt_install nodejs npm
    fi
    if [ ! -d "$E2E/node_modules/@microsoft/m365agentsplayground" ] \
        || [ "$E2E/package-lock.json" -nt "$E2E/node_modules/.package-lock.json" ]; then
        say "Installing the Agents Playground (npm ci)"
        (cd "$E2E" && npm ci --no-audit --no-fund --loglevel=error)
    fi
}

ensure_chromium() {
    if [ ! -x /usr/bin/chromium ]; then
        say "Installing Debian's chromium"
        apt_install chromium
    fi
}

ensure_nginx() {
    # The scale test (tests/scale/) starts nginx itself, with its own configuration in a
    # temporary directory: installed here, never started (or enabled) as a service.
    if [ -x /usr/sbin/nginx ]; then return 0; fi
    say "Installing Debian's nginx (for the scale test; not run as a service)"
    local denied=0 status=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | as_root tee /usr/sbin/policy-rc.d >/dev/null
        as_root chmod +x /usr/sbin/policy-rc.d
        denied=1
    fi
    apt_install nginx || status=$?
    if [ "$denied" = 1 ]; then as_root rm -f /usr/sbin/policy-rc.d; fi
    if [ -d /run/systemd/system ]; then
        as_root systemctl disable --now nginx >/dev/null 2>&1 || true
    fi
    return "$status"
}

ensure_postgres() {
    if "$VENV/bin/python" - <<'PY' 2>/dev/null; then return 0; fi
import asyncio, asyncpg
async def main():
    conn = await asyncpg.connect(host="127.0.0.1", port=5432, user="postgres", database="test", timeout=3)
    await conn.close()
asyncio.run(main())
PY
    say "Starting PostgreSQL"
    if ! ls /etc/postgresql >/dev/null 2>&1; then
        apt_install postgresql
    fi
    local version
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    for _ in $(seq 1 30); do
        if pg_isready -h 127.0.0.1 -p 5432 -q; then break; fi
        sleep 1
    done
    # trust auth on loopback and a `test` database, as the test suite expects
    as_root su postgres -c "psql -tAc \"SELECT 1 FROM pg_database WHERE datname='test'\" | grep -q 1 || createdb test" || true
}

cmd_run() {
    ensure_python
    ensure_node
    export DATABASE_URL=${DATABASE_URL:-sqlite+aiosqlite:///var/marac.sqlite3}
    local port=${PORT:-3978}
    say "Migrating the database ($DATABASE_URL)"
    "$VENV/bin/python" -m bot migrate
    if [ -z "${APP_ID:-}" ] && [ "${SEED_DEMO:-1}" = 1 ]; then
        "$VENV/bin/python" -m bot seed-demo
    fi
    mkdir -p var
    say "Starting the Agents Playground"
    (
        cd "$E2E"
        TEAMSAPPTESTER_BROWSER=none APPLICATION_INSIGHTS_NO_STATSBEAT=1 \
        M365_AGENTS_PLAYGROUND_LOGFILE=../../var/playground.log \
        exec node node_modules/@microsoft/m365agentsplayground/cli.js start \
            --app-endpoint "http://127.0.0.1:${port}/api/messages" --channel-id msteams \
            --port 56150 --disable-telemetry
    ) > var/playground.out 2>&1 &
    PLAYGROUND_PID=$!
    trap 'kill "${PLAYGROUND_PID:-}" 2>/dev/null || true' EXIT
    trap 'exit 130' INT TERM
    # The Playground takes another port when 56150 is busy: show the one it says it took.
    local playground_port=56150
    for _ in $(seq 1 60); do
        if grep -q "Listening on" var/playground.out 2>/dev/null; then
            playground_port=$(grep -o "Listening on [0-9]*" var/playground.out | head -n 1 | grep -o "[0-9]*$")
            break
        fi
        sleep 0.5
    done
    cat <<MSG

  Community MARAC bot: http://127.0.0.1:${port}/api/messages (local mode)
  Open the Agents Playground:  http://127.0.0.1:${playground_port}
  You are Priya Raman, the demo panel's coordinator. Type "help". Ctrl-C stops both.

MSG
    "$VENV/bin/python" -m bot serve --host 127.0.0.1 --port "$port"
}

cmd_test() {
    ensure_python
    ensure_node
    ensure_chromium
    ensure_nginx
    ensure_postgres
    say "ruff"
    "$VENV/bin/ruff" check .
    "$VENV/bin/ruff" format --check .
    say "mypy (strict)"
    "$VENV/bin/mypy"
    say "import layers"
    "$VENV/bin/lint-imports"
    say "pytest"
    "$VENV/bin/python" -m pytest "$@"
}

case "${1:-}" in
    run) shift; cmd_run "$@" ;;
    test) shift; cmd_test "$@" ;;
    *) echo "usage: ./dev.sh run | ./dev.sh test [pytest args]" >&2; exit 2 ;;
esac
