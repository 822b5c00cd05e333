#!/usr/bin/python3
"""Latency of the whole pipeline on the real mail lab.

For each of N notifications: t0 = SMTP "250" for the notification to inbox@<domain>;
floor = when a bare IMAP client in IDLE on that inbox receives "* N EXISTS" (what
Dovecot itself allows); owner = when leadgate's assignment email lands in the owner's
Maildir (read on disk, so the owner's own IDLE delay is not counted). Prints min,
median, p99 of (floor - t0), (owner - t0) and (owner - floor), the time leadgate and
Postfix add on top of Dovecot's push.

Usage: bench/latency.py --binary target/release/leadgate [--n 60] [--domain s24.test]
(scripts/test-env must be running; run as root to read the Maildir.)

--desks: 50 desks in the one daemon (issue 17's benchmark): 40 on the login of --domain
by alias (desk-NN@<domain>; the probe goes to desk-20's), 10 with IMAP accounts of their
own (--accounts, the lab's inbox@sN.test: do not run beside the tests). --idle-rss: the
daemon's VmRSS 20 s after the last notification.
"""
import argparse, os, smtplib, socket, statistics, subprocess, sys, tempfile, time

p = argparse.ArgumentParser()
p.add_argument("--binary", required=True)
p.add_argument("--n", type=int, default=60)
p.add_argument("--domain", default="s24.test")
p.add_argument("--owner", default="dave@team.test")
p.add_argument("--lab", default="/tmp/mail-lab")
p.add_argument("--desks", action="store_true")
p.add_argument("--accounts", default=",".join(f"s{i}.test" for i in range(15, 25)))
p.add_argument("--idle-rss", action="store_true")
a = p.parse_args()

inbox = f"inbox@{a.domain}"
# Where the probe notifications are addressed: the shared inbox, or desk-20's alias.
probe_to = f"desk-20@{a.domain}" if a.desks else inbox
owner_local, owner_domain = a.owner.split("@")
owner_new = f"{a.lab}/mail/{owner_domain}/{owner_local}/Maildir/new"
run = f"lat{os.getpid()}{int(time.time())}"


def imap(user):
    s = socket.create_connection(("127.0.0.1", 1143))
    f = s.makefile("rb")
    f.readline()
    s.sendall(f'a LOGIN "{user}" "secret"\r\n'.encode())
    while not f.readline().startswith(b"a "):
        pass
    return s, f


def command(s, f, tag, cmd):
    s.sendall(f"{tag} {cmd}\r\n".encode())
    lines = []
    while True:
        line = f.readline()
        lines.append(line)
        if line.startswith(tag.encode() + b" "):
            return lines


# Empty the benchmark inbox.
s, f = imap(inbox)
command(s, f, "b", "SELECT INBOX")
command(s, f, "c", "STORE 1:* +FLAGS.SILENT (\\Deleted)")
command(s, f, "d", "EXPUNGE")
s.close()

tmp = tempfile.mkdtemp()
config = f"""
[database]
url = "sqlite://{tmp}/bench.db"
[imap]
host = "127.0.0.1"
port = 1143
tls = "none"
username = "{inbox}"
password = "secret"
start_from = "now"
[smtp]
host = "127.0.0.1"
port = 2525
tls = "none"
from = "leadgate+{run}@{a.domain}"
[relay]
domain = "{a.domain}"
secret = "bench-secret-0123456789abcdef"
"""
team = f"""
[team]
timezone = "UTC"
hours = "always"
[[people]]
id = "dave"
name = "Dave"
email = "{a.owner}"
[[routes]]
name = "all"
owner = "dave"
"""
if a.desks:
    os.mkdir(f"{tmp}/desks")
    config += '[desks]\ndir = "desks"\n'
    for i in range(40):
        open(f"{tmp}/desks/desk-{i:02}.toml", "w").write(
            f'name = "Desk {i}"\n[inbox]\naddresses = "desk-{i:02}@{a.domain}"\n'
            f'[identity]\nfooter = "Desk {i} Ltd"\n' + team)
    for j, domain in enumerate(a.accounts.split(",")):
        open(f"{tmp}/desks/account-{j:02}.toml", "w").write(
            f'[inbox]\nimap = {{ host = "127.0.0.1", port = 1143, tls = "none", '
            f'username = "inbox@{domain}", password = "secret", start_from = "now" }}\n' + team)
else:
    config += team
open(f"{tmp}/leadgate.toml", "w").write(config)
log = open(f"{tmp}/daemon.log", "w")
daemon = subprocess.Popen(
    [a.binary, "--config", f"{tmp}/leadgate.toml", "--log-format", "json", "run"],
    stderr=log, stdout=log, env={**os.environ, "RUST_LOG": "leadgate=debug"},
)
time.sleep(1.5)

# The bare IDLE client: Dovecot's floor.
bs, bf = imap(inbox)
command(bs, bf, "e", "SELECT INBOX")
bs.sendall(b"i IDLE\r\n")
bf.readline()  # "+ idling"


def wait_exists():
    while True:
        line = bf.readline()
        if b"EXISTS" in line:
            return time.monotonic()


def owner_files():
    try:
        return set(os.listdir(owner_new))
    except FileNotFoundError:
        return set()


def wait_owner(before, needle, deadline):
    while time.monotonic() < deadline:
        for name in owner_files() - before:
            path = os.path.join(owner_new, name)
            try:
                if needle in open(path, "rb").read():
                    return time.monotonic()
            except FileNotFoundError:
                pass  # moved to cur/ by a reader; the name was seen, keep polling
        time.sleep(0.001)
    return None


floors, owners, added = [], [], []
smtp = smtplib.SMTP("127.0.0.1", 2525)
for i in range(a.n):
    marker = f"{run}-{i}"
    msg = (
        f"From: Site <wordpress@acme.example.com>\r\nTo: {probe_to}\r\n"
        f"Reply-To: bench{i}@example.net\r\nSubject: Site \"Bench {i}\"\r\n"
        f"Message-ID: <{marker}@acme.example.com>\r\n\r\n"
        f"From: Bench Person {i} <bench{i}@example.net>\r\nSubject: Bench {i}\r\n\r\n"
        f"Message Body:\r\nLatency probe {marker}\r\n\r\n-- \r\n"
        f"This e-mail was sent from a contact form on Site (https://acme.example.com)\r\n"
    )
    before = owner_files()
    smtp.sendmail("wordpress@acme.example.com", [probe_to], msg.encode())
    t0 = time.monotonic()
    t_floor = wait_exists()
    t_owner = wait_owner(before, f"Bench Person {i}".encode(), t0 + 10)
    if t_owner is None:
        print(f"notification {i}: no owner email within 10 s", file=sys.stderr)
        continue
    floors.append((t_floor - t0) * 1000)
    owners.append((t_owner - t0) * 1000)
    added.append((t_owner - t_floor) * 1000)
    time.sleep(0.2)
smtp.quit()
rss = None
if a.idle_rss:
    time.sleep(20)
    for line in open(f"/proc/{daemon.pid}/status"):
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024
daemon.terminate()
daemon.wait()


def summary(name, xs):
    xs = sorted(xs)
    p99 = xs[min(len(xs) - 1, int(round(0.99 * (len(xs) - 1))))]
    print(f"{name:<42} min {xs[0]:7.1f}  median {statistics.median(xs):7.1f}  p99 {p99:7.1f} ms")


# leadgate's own share, from its log: IDLE push received -> owner's email accepted (SMTP 250).
import json
from datetime import datetime


def when(line):
    return datetime.fromisoformat(line["timestamp"].replace("Z", "+00:00")).timestamp()


woke, sent = [], []
for raw in open(f"{tmp}/daemon.log"):
    try:
        line = json.loads(raw)
    except ValueError:
        continue
    msg = line.get("message", "")
    if msg == "IDLE woke":
        woke.append(when(line))
    elif msg == "sent" and line.get("purpose") == "assignment":
        sent.append(when(line))
internal = []
for t_sent in sent:
    before = [w for w in woke if w <= t_sent]
    if before:
        internal.append((t_sent - before[-1]) * 1000)

print(f"{len(owners)} of {a.n} notifications, binary {a.binary}, desks: {'50' if a.desks else 'none'}")
if rss is not None:
    print(f"idle RSS 20 s after the last notification: {rss:.1f} MB")
summary("SMTP 250 -> bare IDLE client EXISTS (floor)", floors)
summary("SMTP 250 -> owner's email in Maildir", owners)
summary("leadgate + Postfix on top of the floor", added)
if internal:
    summary("leadgate: IDLE push -> owner's SMTP 250 (log)", internal)
