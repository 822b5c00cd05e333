#!/usr/bin/env bash
# Times `leadgate sweep` over N leads. The database is seeded directly with SQL (python3's
# sqlite3, or one generate_series INSERT through psql), after leadgate has created it and
# run its migrations.
#
#   bench/sweep.sh [N ...]            default: 10000 100000 1000000
#   DB=postgres bench/sweep.sh ...    on PostgreSQL (LEADGATE_TEST_PG_URL from
#                                     /tmp/leadgate-test.env, written by scripts/test-env)
#   MIX=heavy bench/sweep.sh 1000000  every lead open, half of them drifting
#   LEADGATE=target/release/leadgate  the binary (default; build with cargo build --release)
#   DESKS=50 bench/sweep.sh 100000    the leads spread over 50 desks (desk files, the same
#                                     four people on each): one sweep of every desk
#
# Mix "typical" (default): 70% closed (won, lost, archived), 30% open; of the open ones
# 10% drift (spread over orphaned, unaccepted, no first reply, no next action, overdue,
# idle), the rest owned, accepted and timed. Prints, per N: the dry run, the first real
# sweep (opens every episode, queues every reminder into the file sink) and a second
# real sweep at the same time (the steady state: nothing new), in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${LEADGATE:-target/release/leadgate}
MIX=${MIX:-typical}
DB=${DB:-sqlite}
DESKS=${DESKS:-0}
[ "$DESKS" = 0 ] || [ "$DB" = sqlite ] || { echo "DESKS: SQLite only" >&2; exit 1; }
NOW=2026-12-01T10:00:00Z
[ -x "$BIN" ] || { echo "build first: cargo build --release" >&2; exit 1; }
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(10000 100000 1000000)

secs() { python3 -c 'import sys,time; print(f"{time.time():.3f}")'; }

seed_sqlite() {
  python3 - "$DIR/bench.db" "$N" "$MIX" "$NOW" "$DESKS" <<'PY'
import sqlite3, sys, random, datetime
db, n, mix, now, desks = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
names = [f"d{d:02}" for d in range(desks)] or ["default"]
now = int(datetime.datetime.fromisoformat(now.replace("Z", "+00:00")).timestamp() * 1000)
H = 3_600_000
rnd = random.Random(42)
c = sqlite3.connect(db)
c.execute("PRAGMA journal_mode=WAL"); c.execute("PRAGMA synchronous=OFF")
c.executemany("INSERT OR REPLACE INTO people (desk, id, name, email, active, synced_at) VALUES (?, ?, ?, ?, 1, 0)",
              [(d, p, p, f"{p}@team.test") for d in names for p in ("alice", "bob", "carol", "manager")])
owners = ["alice", "bob", "carol"]
open_share, drift_share = (0.3, 0.1) if mix == "typical" else (1.0, 0.5)
kinds = ["orphaned", "unaccepted", "no_first_reply", "no_next_action", "overdue", "idle"]
def row(i):
    created = now - rnd.randint(1, 24 * 90) * H
    if rnd.random() >= open_share:
        status = rnd.choice(["won", "lost", "archived"])
        return (status, rnd.choice(owners), 1, created, "done", None, created, created + H, created + H, created + H)
    owner, accepted, status = rnd.choice(owners), 1, "contacted"
    first, nxt, due, last = created + H, "follow up", now + rnd.randint(1, 240) * H, now - rnd.randint(1, 48) * H
    if rnd.random() < drift_share:
        k = rnd.choice(kinds)
        if k == "orphaned": owner, accepted = None, 0
        elif k == "unaccepted": accepted = 0
        elif k == "no_first_reply": status, first, nxt, due = "new", None, "first reply", None
        elif k == "no_next_action": nxt, due = None, None
        elif k == "overdue": due = now - rnd.randint(1, 240) * H
        elif k == "idle": nxt, due, last = None, None, now - 10 * 24 * H
    return (status, owner, accepted, created, nxt, due, last, first, first, None)
batch = []
for i in range(n):
    status, owner, accepted, created, nxt, due, last, first, out, _ = row(i)
    batch.append((status, owner, accepted, created, "bench", "Contact", f"Lead {i}", f"lead{i}@example.net",
                  f"lead{i}@example.net", "example.net", "Hello, please call me back about the roof.",
                  nxt, due, created, last, first, out, names[i % len(names)]))
    if len(batch) == 50_000:
        c.executemany("""INSERT INTO leads (status, owner, accepted, assigned_at, source, form, name, email,
            email_norm, email_domain, message, next_action, next_action_due, created_at, last_activity_at,
            first_reply_at, last_outbound_at, desk) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""", batch)
        batch = []
if batch:
    c.executemany("""INSERT INTO leads (status, owner, accepted, assigned_at, source, form, name, email,
        email_norm, email_domain, message, next_action, next_action_due, created_at, last_activity_at,
        first_reply_at, last_outbound_at, desk) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""", batch)
c.commit()
c.execute("ANALYZE")
c.close()
PY
}

# The same mix as seed_sqlite, in one INSERT ... SELECT on the server.
seed_postgres() {
  local open drift
  if [ "$MIX" = typical ]; then open=0.3; drift=0.1; else open=1.0; drift=0.5; fi
  psql "$URL" -q -v ON_ERROR_STOP=1 > /dev/null <<SQL
INSERT INTO people (id, name, email, active, synced_at)
  SELECT p, p, p || '@team.test', 1, 0 FROM unnest(ARRAY['alice', 'bob', 'carol', 'manager']) p
  ON CONFLICT (desk, id) DO UPDATE SET active = 1;
SELECT setseed(0.42);
INSERT INTO leads (status, owner, accepted, assigned_at, source, form, name, email, email_norm,
    email_domain, message, next_action, next_action_due, created_at, last_activity_at,
    first_reply_at, last_outbound_at)
SELECT status, owner, accepted, created, 'bench', 'Contact', 'Lead ' || i, 'lead' || i || '@example.net',
    'lead' || i || '@example.net', 'example.net', 'Hello, please call me back about the roof.',
    nxt, due, created, last, first, first
FROM (
  SELECT i, created,
    CASE WHEN closed THEN (ARRAY['won', 'lost', 'archived'])[1 + (r3 * 3)::int % 3]
         WHEN k = 'no_first_reply' THEN 'new' ELSE 'contacted' END AS status,
    CASE WHEN k = 'orphaned' THEN NULL ELSE (ARRAY['alice', 'bob', 'carol'])[1 + (r4 * 3)::int % 3] END AS owner,
    CASE WHEN k IN ('orphaned', 'unaccepted') THEN 0 ELSE 1 END AS accepted,
    CASE WHEN closed THEN 'done' WHEN k = 'no_first_reply' THEN 'first reply'
         WHEN k IN ('no_next_action', 'idle') THEN NULL ELSE 'follow up' END AS nxt,
    CASE WHEN closed OR k IN ('no_first_reply', 'no_next_action', 'idle') THEN NULL
         WHEN k = 'overdue' THEN $NOW_MS - (1 + (r5 * 240)::bigint) * 3600000
         ELSE $NOW_MS + (1 + (r5 * 240)::bigint) * 3600000 END AS due,
    CASE WHEN closed THEN created WHEN k = 'idle' THEN $NOW_MS - 240 * 3600000
         ELSE $NOW_MS - (1 + (r6 * 48)::bigint) * 3600000 END AS last,
    CASE WHEN k = 'no_first_reply' AND NOT closed THEN NULL ELSE created + 3600000 END AS first
  FROM (
    SELECT i, closed, r3, r4, r5, r6,
      $NOW_MS - (1 + (r1 * 2160)::bigint) * 3600000 AS created,
      CASE WHEN NOT closed AND r2 < $drift
           THEN (ARRAY['orphaned', 'unaccepted', 'no_first_reply', 'no_next_action', 'overdue', 'idle'])[1 + (r7 * 6)::int % 6]
      END AS k
    FROM (
      SELECT i, random() >= $open AS closed, random() r1, random() r2, random() r3, random() r4,
             random() r5, random() r6, random() r7
      FROM generate_series(1, $N) i
    ) a
  ) b
) c;
ANALYZE;
SQL
}

NOW_MS=$(python3 -c "import datetime; print(int(datetime.datetime.fromisoformat('$NOW'.replace('Z', '+00:00')).timestamp() * 1000))")

for N in "${SIZES[@]}"; do
  DIR=$(mktemp -d)
  trap 'rm -rf "$DIR"' EXIT
  mkdir -p "$DIR/sent"
  if [ "$DB" = postgres ]; then
    . /tmp/leadgate-test.env
    PGDB="lg_sweep_$$_$N"
    psql "$LEADGATE_TEST_PG_URL" -qc "CREATE DATABASE $PGDB" > /dev/null
    URL="${LEADGATE_TEST_PG_URL%/*}/$PGDB"
  else
    URL="sqlite://$DIR/bench.db"
  fi
  cat > "$DIR/leadgate.toml" <<TOML
[database]
url = "$URL"
[smtp]
from = "leadgate@bench.test"
[outbox]
file_sink = "$DIR/sent"
[relay]
domain = "bench.test"
secret = "bench-secret-0123456789abcdef"
[team]
name = "Bench"
timezone = "Europe/Berlin"
hours = "Mon-Fri 09:00-17:00"
manager = "manager"
[[people]]
id = "alice"
email = "alice@team.test"
[[people]]
id = "bob"
email = "bob@team.test"
[[people]]
id = "carol"
email = "carol@team.test"
[[people]]
id = "manager"
email = "manager@team.test"
[digest]
to = "manager@team.test"
TOML
  if [ "$DESKS" -gt 0 ]; then
    # The same team on every desk: the leadgate.toml team above is not a desk then.
    mkdir -p "$DIR/desks"
    python3 - "$DIR" "$DESKS" <<'PY'
import re, sys
d, n = sys.argv[1], int(sys.argv[2])
main = open(f"{d}/leadgate.toml").read()
team = main[main.index("[team]"):]
open(f"{d}/leadgate.toml", "w").write(main[:main.index("[team]")] + '[desks]\ndir = "desks"\n')
for i in range(n):
    open(f"{d}/desks/d{i:02}.toml", "w").write(f'[inbox]\naddresses = "d{i:02}@bench.test"\n' + team)
PY
  fi
  # Creates the database and runs the migrations.
  "$BIN" --config "$DIR/leadgate.toml" sweep --now "$NOW" --dry-run > /dev/null
  if [ "$DB" = postgres ]; then
    seed_postgres
  else
    seed_sqlite
  fi
  run() {
    local t0 t1
    t0=$(secs)
    "$BIN" --config "$DIR/leadgate.toml" sweep --now "$NOW" "$@" --json > "$DIR/report.json"
    t1=$(secs)
    python3 - "$DIR/report.json" "$t0" "$t1" <<'PY'
import json, sys
# One JSON document per desk (one without desks): summed.
text, docs, at, dec = open(sys.argv[1]).read(), [], 0, json.JSONDecoder()
while text[at:].strip():
    at += len(text[at:]) - len(text[at:].lstrip())
    doc, at = dec.raw_decode(text, at)
    docs.append(doc)
t = float(sys.argv[3]) - float(sys.argv[2])
s = lambda k: sum(d[k] if isinstance(d[k], int) else len(d[k]) for d in docs)
print(f"{t:7.2f} s  desks {len(docs):>3}  scanned {s('scanned'):>8}  drifting {s('drifting'):>7}  opened {s('opened'):>7}  reminders {s('reminders'):>7}")
PY
  }
  echo "N=$N mix=$MIX db=$DB desks=$DESKS"
  printf '  dry run        '; run --dry-run
  printf '  first sweep    '; run
  printf '  second sweep   '; run
  rm -rf "$DIR"
  [ "$DB" = postgres ] && psql "$LEADGATE_TEST_PG_URL" -qc "DROP DATABASE $PGDB" > /dev/null
  trap - EXIT
done
