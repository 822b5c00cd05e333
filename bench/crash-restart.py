#!/usr/bin/python3
"""Crash recovery of the outbox on the real mail lab: how long after the last kill -9 and
restart until the last owner email is in the owner's mailbox.

A burst of N notifications is appended over IMAP to the folder Bench/crash of
inbox@<domain> (the daemon watches that folder, so its owner emails, to
bench-owner@<domain>, land in the same account's INBOX and are not read back). While the
burst arrives the daemon is killed with SIGKILL KILLS times, evenly spread, the last at
the end of the burst, and restarted at once each time. Then it waits until every lead has
its owner email (read on disk from the Maildir: run as root) and prints one JSON line:
leads, owner emails, duplicates, and seconds from the last restart to the last owner
email (target: under 10 s; before leases were reclaimed at start, a killed step's emails
waited for `[outbox] lease`, 2 minutes by default).

Usage: bench/crash-restart.py --binary target/release/leadgate [--backend sqlite|postgres]
       [--n 300] [--kills 5] [--burst-seconds 15] [--domain s15.test]
(scripts/test-env must be running; PostgreSQL from LEADGATE_TEST_PG_URL.)
"""
import argparse, glob, imaplib, json, os, re, subprocess, sys, tempfile, threading, time

p = argparse.ArgumentParser()
p.add_argument("--binary", required=True)
p.add_argument("--backend", default="sqlite", choices=["sqlite", "postgres"])
p.add_argument("--n", type=int, default=300)
p.add_argument("--kills", type=int, default=5)
p.add_argument("--burst-seconds", type=float, default=15.0)
p.add_argument("--domain", default="s15.test")
p.add_argument("--lab", default="/tmp/mail-lab")
p.add_argument("--timeout", type=float, default=300.0)
a = p.parse_args()

env = {}
for line in open("/tmp/leadgate-test.env"):
    if "=" in line and not line.startswith("#"):
        k, v = line.strip().split("=", 1)
        env[k] = v

inbox = f"inbox@{a.domain}"
folder = "Bench/crash"
run = f"crash{os.getpid()}x{int(time.time())}"
maildir = f"{a.lab}/mail/{a.domain}/inbox/Maildir"

c = imaplib.IMAP4("127.0.0.1", 1143)
c.login(inbox, "secret")
c.delete(f'"{folder}"')
c.create('"Bench"')
c.create(f'"{folder}"')
c.logout()

tmp = tempfile.mkdtemp(prefix="lg-crash.")
if a.backend == "postgres":
    db = f"lg_crash_{os.getpid()}"
    base = env["LEADGATE_TEST_PG_URL"]
    subprocess.run(["psql", base, "-qc", f"CREATE DATABASE {db}"], check=True)
    url = base.rsplit("/", 1)[0] + "/" + db
else:
    url = f"sqlite://{tmp}/leadgate.db"
config = f"""
[database]
url = "{url}"
[imap]
host = "127.0.0.1"
port = 1143
tls = "none"
username = "{inbox}"
password = "secret"
mailbox = "{folder}"
start_from = "all"
[smtp]
host = "127.0.0.1"
port = 2525
tls = "none"
from = "leadgate+{run}@{a.domain}"
[relay]
domain = "{a.domain}"
secret = "bench-secret-0123456789abcdef-{run}"
[team]
timezone = "UTC"
hours = "always"
[[people]]
id = "owner"
name = "Bench Owner"
email = "bench-owner@{a.domain}"
[[routes]]
name = "all"
owner = "owner"
"""
cfg = f"{tmp}/leadgate.toml"
open(cfg, "w").write(config)
# Migrations before the first daemon, so that a kill during them is not what is measured.
subprocess.run([a.binary, "--config", cfg, "leads", "--json"], check=True, stdout=subprocess.DEVNULL)

logs = []


def start():
    log = open(f"{tmp}/daemon-{len(logs)}.log", "w")
    logs.append(log.name)
    return subprocess.Popen([a.binary, "--config", cfg, "run"], stdout=log, stderr=log,
                            env={**os.environ, "RUST_LOG": "leadgate=info"})


def notification(i):
    return (
        f"From: Site <wordpress@acme.example.com>\r\nTo: {inbox}\r\n"
        f"Reply-To: crash{i}.{run}@example.net\r\nSubject: Site \"Crash {i}\"\r\n"
        f"Message-ID: <{run}-{i}@acme.example.com>\r\n"
        f"Date: Wed, 02 Dec 2026 05:00:00 +0000\r\n\r\n"
        f"From: Crash Person {i} <crash{i}.{run}@example.net>\r\nSubject: Crash {i}\r\n\r\n"
        f"Message Body:\r\nRecovery probe {run} {i}\r\n\r\n-- \r\n"
        f"This e-mail was sent from a contact form on Site (https://acme.example.com)\r\n"
    ).encode()


def append_burst():
    c = imaplib.IMAP4("127.0.0.1", 1143)
    c.login(inbox, "secret")
    gap = a.burst_seconds / a.n
    t0 = time.monotonic()
    for i in range(a.n):
        c.append(f'"{folder}"', None, None, notification(i))
        delay = t0 + (i + 1) * gap - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    c.logout()


seen = {}  # lead (by submitter) -> first time its owner email was seen
copies = {}
checked = set()
who = re.compile(rb"crash(\d+)\." + run.encode())


def poll():
    for path in glob.glob(f"{maildir}/new/*") + glob.glob(f"{maildir}/cur/*"):
        name = os.path.basename(path).split(":")[0]
        if name in checked:
            continue
        try:
            raw = open(path, "rb").read()
        except FileNotFoundError:
            continue  # moved from new/ to cur/: seen again there
        checked.add(name)
        head = raw.split(b"\r\n\r\n", 1)[0] if b"\r\n\r\n" in raw else raw.split(b"\n\n", 1)[0]
        if f"leadgate+{run}".encode() not in head:
            continue
        m = who.search(raw)
        if m:
            i = int(m.group(1))
            copies[i] = copies.get(i, 0) + 1
            seen.setdefault(i, time.monotonic())


daemon = start()
time.sleep(1.0)
burst = threading.Thread(target=append_burst)
burst.start()
last_restart = None
for k in range(a.kills):
    time.sleep(a.burst_seconds / a.kills)
    daemon.kill()
    daemon.wait()
    daemon = start()
    last_restart = time.monotonic()
burst.join()
if last_restart is None:
    last_restart = time.monotonic()
deadline = last_restart + a.timeout
while len(seen) < a.n and time.monotonic() < deadline:
    poll()
    time.sleep(0.05)
time.sleep(2)  # late duplicates
poll()
leads = json.loads(subprocess.run([a.binary, "--config", cfg, "leads", "--json"], check=True,
                                  capture_output=True).stdout)
daemon.terminate()
daemon.wait()
out = {
    "backend": a.backend, "notifications": a.n, "kills": a.kills,
    "leads": len(leads), "owner_emails": len(seen),
    "duplicates": sum(n - 1 for n in copies.values()),
    "last_email_after_last_restart_s": round(max(seen.values()) - last_restart, 2) if seen else None,
    "binary": a.binary,
}
print(json.dumps(out))
if a.backend == "postgres":
    subprocess.run(["psql", env["LEADGATE_TEST_PG_URL"], "-qc", f"DROP DATABASE {db}"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
if len(seen) < a.n:
    print(f"missing owner emails; logs in {tmp}", file=sys.stderr)
    sys.exit(1)
