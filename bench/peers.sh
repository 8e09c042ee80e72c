#!/usr/bin/env bash
# Measures insights against ccusage on one generated tree, in one sitting, alternating the tools:
# cold import (SQLite, then PostgreSQL when reachable), re-import of the unchanged tree, one appended line to
# searchable, `usage daily` and `statusline` on the imported database, and ccusage 20.0.24 (native) and
# 18.0.11 (JavaScript) `daily --json --offline` on the same tree. Prints one line per run: what, seconds, peak
# RSS. Usage: bench/peers.sh [SIZE] [ROUNDS]   (defaults: 250MB, 3). Needs GNU time, npm; psql for PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-250MB}
rounds=${2:-3}
work=${BENCH_DIR:-/tmp/insights-bench}
cache=${XDG_CACHE_HOME:-$HOME/.cache}
pg=${INSIGHTS_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432/insights_bench?sslmode=disable}
mkdir -p "$work"

make -s build ccusage >/dev/null
cc20=$(ls "$cache"/insights-ci/ccusage-20.0.24/node_modules/@ccusage/ccusage-*/bin/ccusage | head -1)
cc18="$cache/insights-bench/ccusage-18.0.11/node_modules/.bin/ccusage"
[ -x "$cc18" ] || timeout 300 npm install --silent --no-audit --no-fund --prefix "$cache/insights-bench/ccusage-18.0.11" ccusage@18.0.11 >/dev/null

tree="$work/tree-$size"
[ -f "$tree/expected.json" ] || { rm -rf "$tree"; bin/insights bench gen --size "$size" --seed 1 "$tree"; }
db="$work/insights.db"

# measure NAME COMMAND...: one line "NAME  seconds  peak-RSS-MiB".
measure() {
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>"$work/stderr" || { cat "$work/stderr" >&2; return 1; }
  read -r secs kb <"$work/time"
  printf '%-34s %8.2f s %8.0f MiB\n' "$name" "$secs" "$((kb / 1024))"
}
# quick NAME COMMAND...: the mean of 20 runs in milliseconds, for commands too fast for one reading.
quick() {
  local name=$1; shift
  local start end
  start=$(date +%s%N)
  for _ in $(seq 20); do "$@" >/dev/null 2>&1; done
  end=$(date +%s%N)
  /usr/bin/time -f "%M" -o "$work/time" "$@" >/dev/null 2>&1
  printf '%-34s %8.1f ms %7.0f MiB\n' "$name" "$(echo "($end - $start) / 20000000" | bc -l)" "$(($(cat "$work/time") / 1024))"
}
peer=(env HOME="$work/home" CLAUDE_CONFIG_DIR="$tree" TZ=UTC)

echo "tree: $tree ($(du -sh "$tree" | cut -f1)), $(nproc) cores"
for r in $(seq "$rounds"); do
  rm -f "$db" "$db"-*
  measure "insights import (cold, SQLite)" bin/insights --db "$db" import "$tree"
  measure "ccusage 20.0.24 daily --json" "${peer[@]}" "$cc20" daily --json --offline
  measure "ccusage 18.0.11 daily --json" "${peer[@]}" "$cc18" daily --json --offline
done
quick "insights import (unchanged)" bin/insights --db "$db" import "$tree"
quick "insights usage daily --json" bin/insights --db "$db" usage daily --json
transcripts=("$tree"/projects/*/*.jsonl)
session=${transcripts[0]}
sid=$(basename "$session" .jsonl)
echo "{\"session_id\":\"$sid\",\"model\":{\"id\":\"claude-opus-4-6\",\"display_name\":\"Opus\"}}" >"$work/statusline.json"
quick "insights statusline" sh -c "bin/insights --db '$db' statusline <'$work/statusline.json'"

# One appended line to searchable: the daemon watches the tree; the clock runs from the append until
# `insights search` finds the line's word.
size_before=$(stat -c %s "$session")
bin/insights --db "$db" --claude-dir "$tree" >"$work/daemon.log" 2>&1 &
daemon=$!
trap 'kill $daemon 2>/dev/null || true' EXIT
until grep -q "watching" "$work/daemon.log" 2>/dev/null; do sleep 0.1; done
for r in $(seq "$rounds"); do
  word="appended$RANDOM$r"
  line=$(printf '{"type":"user","uuid":"bench-%s","parentUuid":null,"sessionId":"%s","timestamp":"2026-03-01T10:00:00.000Z","cwd":"/src/app","message":{"role":"user","content":"%s"}}' "$word" "$sid" "$word")
  start=$(date +%s.%N)
  echo "$line" >>"$session"
  until bin/insights --db "$db" search --json --limit 1 "$word" 2>/dev/null | grep -q "bench-$word"; do :; done
  printf '%-34s %8.2f s\n' "one appended line to searchable" "$(echo "$(date +%s.%N) - $start" | bc)"
done
kill $daemon; wait $daemon 2>/dev/null || true
trap - EXIT
truncate -s "$size_before" "$session" # the tree stays as generated for the next sitting

if psql "$pg" -c 'select 1' >/dev/null 2>&1 || psql "${pg%/*}/postgres?sslmode=disable" -c 'create database insights_bench' >/dev/null 2>&1; then
  for r in $(seq "$rounds"); do
    psql "$pg" -q -c 'drop schema public cascade; create schema public' >/dev/null 2>&1
    measure "insights import (cold, PostgreSQL)" bin/insights --db "$pg" import "$tree"
  done
fi
