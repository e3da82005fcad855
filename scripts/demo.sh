#!/usr/bin/env bash
# Build a fresh demo city and serve it on http://127.0.0.1:8000.
set -euo pipefail

cd "$(dirname "$(dirname "$(readlink -f "$0")")")"

export LIANGSHI_DATABASE_URL=${LIANGSHI_DATABASE_URL:-sqlite:///./demo.db}

rm -f demo.db*
.venv/bin/liangshi db upgrade
.venv/bin/liangshi demo build
exec .venv/bin/liangshi serve --host 127.0.0.1 --port 8000
