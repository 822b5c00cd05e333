#!/usr/bin/env bash
# Times the board over N live leads: the daemon (`leadgate run`, SQLite) serves /board,
# one owner's page, the JSON and a drift filter; curl measures each request on loopback
# (server time = time to first byte - time the request was sent). The database is seeded
# with SQL (python3's sqlite3): N live leads over alice, bob and carol, 10% of them
# drifting, plus 200 of dave's, each lead with three history rows (captured, assigned,
# message in or out). Login is `proxy` from 127.0.0.1, so curl needs no cookie.
#
#   bench/board.sh [N]                 default 10000
#   LEADGATE=target/release/leadgate   the binary (default; cargo build --release, or
#                                      --profile bench and LEADGATE=target/bench/leadgate)
#   RUNS=20                            requests per URL (after one warm-up)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${LEADGATE:-target/release/leadgate}
N=${1:-10000}
RUNS=${RUNS:-20}
[ -x "$BIN" ] || { echo "build first: cargo build --release" >&2; exit 1; }
DIR=$(mktemp -d)
PID=
cleanup() { [ -z "$PID" ] || kill "$PID" 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$DIR"; }
trap cleanup EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$DIR/sent"
cat > "$DIR/leadgate.toml" <<TOML
[database]
url = "sqlite://$DIR/bench.db"
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
name = "Alice Smith"
email = "alice@team.test"
[[people]]
id = "bob"
name = "Bob Jones"
email = "bob@team.test"
[[people]]
id = "carol"
name = "Carol White"
email = "carol@team.test"
[[people]]
id = "dave"
name = "Dave Brown"
email = "dave@team.test"
[[people]]
id = "manager"
name = "Erin Manager"
email = "manager@team.test"
[stale]
# No sweep during the measurement: it would compete for the one SQLite connection.
sweep_every = "1h"
[http]
listen = "127.0.0.1:$PORT"
public_url = "http://127.0.0.1:$PORT"
[board]
login = "proxy"
trusted_proxies = ["127.0.0.1/32"]
TOML
"$BIN" --config "$DIR/leadgate.toml" leads --json > /dev/null   # creates the database
python3 - "$DIR/bench.db" "$N" <<'PY'
import sqlite3, sys, random, time
db, n = sys.argv[1], int(sys.argv[2])
now = int(time.time() * 1000)
H = 3_600_000
rnd = random.Random(42)
c = sqlite3.connect(db)
c.execute("PRAGMA journal_mode=WAL"); c.execute("PRAGMA synchronous=OFF")
c.executemany("INSERT OR REPLACE INTO people (id, name, email, active, synced_at) VALUES (?, ?, ?, 1, 0)",
              [(p, p, f"{p}@team.test") for p in ("alice", "bob", "carol", "dave", "manager")])
kinds = ["orphaned", "unaccepted", "no_first_reply", "no_next_action", "overdue", "idle"]
leads = []
for i in range(n + 200):
    created = now - rnd.randint(1, 24 * 60) * H
    owner = "dave" if i >= n else rnd.choice(["alice", "bob", "carol"])
    accepted, status, first = 1, "contacted", created + H
    nxt, due, last = "follow up by phone", now + rnd.randint(1, 240) * H, now - rnd.randint(1, 48) * H
    if i < n and rnd.random() < 0.1:
        k = rnd.choice(kinds)
        if k == "orphaned": owner, accepted = None, 0
        elif k == "unaccepted": accepted = 0
        elif k == "no_first_reply": status, first, nxt, due = "new", None, "first reply", None
        elif k == "no_next_action": nxt, due = None, None
        elif k == "overdue": due = now - rnd.randint(1, 240) * H
        elif k == "idle": nxt, due, last = None, None, now - 10 * 24 * H
    leads.append((status, owner, accepted, created, "contact-form-7", "Contact", f"Lead Person {i}",
                  f"lead{i}@example.net", f"lead{i}@example.net", "example.net",
                  "Hello, please call me back about the roof.", nxt, due, created, last, first, first,
                  "rule pricing: source=contact-form-7 form=Contact"))
c.executemany("""INSERT INTO leads (status, owner, accepted, assigned_at, source, form, name, email,
    email_norm, email_domain, message, next_action, next_action_due, created_at, last_activity_at,
    first_reply_at, last_outbound_at, route_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""", leads)
ids = [r[0] for r in c.execute("SELECT id, owner, created_at FROM leads ORDER BY id")]
rows = []
for (lid, owner, created) in c.execute("SELECT id, owner, created_at FROM leads ORDER BY id").fetchall():
    rows.append((lid, created, "leadgate", "captured", "from lead@example.net"))
    rows.append((lid, created, "leadgate", "assigned", f"to {owner} by rule pricing"))
    if rnd.random() < 0.5:
        rows.append((lid, created + H, owner or "bob", "message_out", "reply relayed to the lead"))
    else:
        rows.append((lid, created + 2 * H, "lead", "message_in", "the lead wrote"))
c.executemany("INSERT INTO activities (lead_id, at, actor, kind, detail) VALUES (?, ?, ?, ?, ?)", rows)
c.commit(); c.execute("ANALYZE"); c.close()
PY
"$BIN" --config "$DIR/leadgate.toml" run 2> "$DIR/daemon.log" &
PID=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" > /dev/null 2>&1 && break; sleep 0.1; done
echo "N=$N live leads (+200 of dave's), $(nproc) vCPUs, $BIN"
printf '%-28s %8s %8s %8s %10s\n' "url" "median" "min" "max" "bytes"
for path in ${PATHS:-"/board" "/board?owner=dave" "/board?drift=overdue" "/board.json"}; do
  url="http://127.0.0.1:$PORT$path"
  curl -s -o /dev/null -H "X-Forwarded-Email: alice@team.test" "$url"
  times=()
  for _ in $(seq "$RUNS"); do
    times+=("$(curl -s -o "$DIR/page" -w '%{time_pretransfer} %{time_starttransfer}' \
      -H "X-Forwarded-Email: alice@team.test" "$url" | awk '{printf "%.1f", ($2 - $1) * 1000}')")
  done
  bytes=$(wc -c < "$DIR/page")
  printf '%s\n' "${times[@]}" | sort -n | awk -v p="$path" -v b="$bytes" \
    '{a[NR]=$1} END {printf "%-28s %6.1fms %6.1fms %6.1fms %10d\n", p, a[int((NR+1)/2)], a[1], a[NR], b}'
done
