#!/usr/bin/env bash
# The whole job in one command, with no credentials and no server of your own:
# start the bundled sandbox LMS API, extract all eleven streams with tap-lms through
# Meltano into JSON Lines files (output/), stop the sandbox, print what arrived.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
if [ ! -x "$VENV/bin/meltano" ]; then
  echo "demo: installing tap-lms and Meltano into $VENV (once)..." >&2
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet -e '.[dev]'
fi
export PATH="$PWD/$VENV/bin:$PATH"

echo "demo: installing the Meltano plugins (tap-lms, target-jsonl)..." >&2
meltano install tap-lms target-jsonl >/dev/null 2>&1 || meltano install tap-lms target-jsonl

workdir=$(mktemp -d)
sandbox_pid=""
cleanup() {
  if [ -n "$sandbox_pid" ]; then kill "$sandbox_pid" 2>/dev/null || true; wait "$sandbox_pid" 2>/dev/null || true; fi
  rm -rf "$workdir"
}
trap cleanup EXIT

# --port 0: a free port; the sandbox prints its URL as its first line.
python -m tap_lms.sandbox --port 0 >"$workdir/url" 2>"$workdir/sandbox.log" &
sandbox_pid=$!
for _ in $(seq 100); do [ -s "$workdir/url" ] && break; sleep 0.1; done
base_url=$(head -n 1 "$workdir/url")
[ -n "$base_url" ] || { echo "demo: the sandbox did not start:" >&2; cat "$workdir/sandbox.log" >&2; exit 1; }
echo "demo: sandbox API at $base_url" >&2

rm -rf output && mkdir -p output
echo "demo: meltano run tap-lms target-jsonl ..." >&2
started=$(date +%s)
if ! TAP_LMS_BASE_URL="$base_url" MELTANO_ENVIRONMENT=dev \
    meltano run --full-refresh tap-lms target-jsonl >"$workdir/run.log" 2>&1; then
  tail -n 30 "$workdir/run.log" >&2
  echo "demo: the run failed (full log above)" >&2
  exit 1
fi
elapsed=$(( $(date +%s) - started ))

python - "$elapsed" <<'PY'
import pathlib, sys
rows = {p.stem: sum(1 for _ in p.open()) for p in sorted(pathlib.Path("output").glob("*.jsonl"))}
width = max(map(len, rows)) if rows else 6
print(f"\ntap-lms demo: {sum(rows.values()):,} records in {len(rows)} streams, extracted in {sys.argv[1]} s\n")
print(f"  {'stream':<{width}}  {'rows':>7}")
for name, count in rows.items():
    print(f"  {name:<{width}}  {count:>7,}")
print(f"""
Where:  {pathlib.Path('output').resolve()}/<stream>.jsonl, one JSON record per line.
Query:  head -n 3 output/orders.jsonl
        python -c "import pandas as pd; print(pd.read_json('output/orders.jsonl', lines=True).describe())"
        duckdb -c "select status, count(*), sum(amount_cents)/100 as revenue from 'output/orders.jsonl' group by 1"
Next:   meltano run tap-lms target-postgres   (see README: Use it with Meltano)
""")
PY
