#!/usr/bin/env bash
# Lint, then run the test suite on SQLite and on PostgreSQL (127.0.0.1:5432).
# Extra arguments are passed to pytest (both runs).
# Without a PostgreSQL server: a warning when run by hand, an error when CI=true.
set -euo pipefail

cd "$(dirname "$(dirname "$(readlink -f "$0")")")"

PG_URL=postgresql://postgres@127.0.0.1:5432/postgres
BIN=.venv/bin

echo "==> lint"
"$BIN/ruff" check src tests scripts
"$BIN/ruff" format --check src tests scripts
"$BIN/mypy"
"$BIN/lint-imports" --no-logo

echo "==> tests on SQLite"
LIANGSHI_TEST_DB=sqlite "$BIN/pytest" -q "$@"

echo "==> is PostgreSQL answering at 127.0.0.1:5432?"
if pg_error=$("$BIN/python" -c '
import sys
import psycopg
try:
    psycopg.connect(sys.argv[1], connect_timeout=3).close()
except Exception as exc:
    print(f"{type(exc).__name__}: {exc}".strip())
    sys.exit(1)
' "$PG_URL" 2>&1); then
    echo "==> tests on PostgreSQL"
    LIANGSHI_TEST_DB=postgresql LIANGSHI_TEST_PG_URL="$PG_URL" "$BIN/pytest" -q "$@"
    exit 0
fi

if [[ "${CI:-}" == "true" ]]; then
    echo "ERROR: CI=true but PostgreSQL is not answering at $PG_URL" >&2
    echo "       $pg_error" >&2
    exit 1
fi

cat >&2 <<BANNER

==========================================================================
==========================================================================
  WARNING: PostgreSQL tests were SKIPPED: no server at 127.0.0.1:5432
  Only the SQLite run above was executed.
  Connection attempt to $PG_URL said:
    $pg_error
  Start a PostgreSQL server that lets user 'postgres' in without a
  password from 127.0.0.1 (it must be allowed to CREATE DATABASE),
  then run 'make test' again.
==========================================================================
==========================================================================

BANNER
exit 0
