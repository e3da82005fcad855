#!/usr/bin/env bash
# Serve the demo city on http://127.0.0.1:8000: built on the first run, kept across restarts.
#   scripts/demo.sh --rebuild   delete the demo database first and build it afresh
# The database is the CLI's default (sqlite:///./liangshi.db, or LIANGSHI_DATABASE_URL when set), so every
# `liangshi ...` command of the README, run from this directory, works on the demo as written.
set -euo pipefail

cd "$(dirname "$(dirname "$(readlink -f "$0")")")"

if [[ "${1:-}" == "--rebuild" ]]; then
    if [[ -n "${LIANGSHI_DATABASE_URL:-}" && "${LIANGSHI_DATABASE_URL}" != "sqlite:///./liangshi.db" ]]; then
        echo "--rebuild deletes only the default ./liangshi.db; drop ${LIANGSHI_DATABASE_URL} yourself" >&2
        exit 2
    fi
    rm -f liangshi.db liangshi.db-wal liangshi.db-shm
fi
.venv/bin/liangshi db upgrade
# Idempotent: builds the city only when it is not there yet, then (re)prints the demo logins.
.venv/bin/liangshi demo build
exec .venv/bin/liangshi serve --host 127.0.0.1 --port 8000
