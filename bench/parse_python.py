#!/usr/bin/env python3
"""Baseline for benches/parse.rs: Python's stdlib `email` parses every corpus message
and extracts its text body (text/plain, else text/html), like `parse::view` does.
Prints messages per second. Usage: python3 bench/parse_python.py [tests/corpus]"""

import email
import glob
import os
import sys
import time
from email import policy


def text_body(msg):
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        return part.get_content()
    except Exception:  # undecodable charset or payload: count it, as Rust does
        return ""


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(__file__), "..", "tests", "corpus")
    mails = [open(p, "rb").read() for p in sorted(glob.glob(os.path.join(root, "*.eml")))]
    rounds, best = 30, float("inf")
    for _ in range(rounds):
        t = time.perf_counter()
        for raw in mails:
            msg = email.message_from_bytes(raw, policy=policy.default)
            text_body(msg)
        best = min(best, time.perf_counter() - t)
    print(f"{len(mails)} messages, best of {rounds}: {best * 1000:.2f} ms/pass, "
          f"{len(mails) / best:,.0f} messages/s")


if __name__ == "__main__":
    main()
