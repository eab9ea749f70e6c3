#!/usr/bin/env python3
"""Reporting benchmark: CSV export of ~1,000,000 Patches rows, and JSON paging depth.

Every figure is printed next to a baseline measured in the same run on the same
database, as a ratio; nothing here passes or fails on absolute times.

  cargo build --release
  python3 scripts/bench_reporting.py            # ~1,000,000 rows
  python3 scripts/bench_reporting.py --rows 50000 --pages 20   # a quick look

Baselines:
- CSV export: Python's sqlite3 + csv modules reading the same view in the same order
  and writing CSV (the cost of the data itself, without HTTP or the service).
- Page depth: the first page of 1000 rows; the 1000th page is compared with it
  (keyset paging should keep the ratio near 1), and with the same page fetched by
  $skip (offset paging, which grows with depth).
"""

import argparse
import csv
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target", "release", "patches")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def timed_get(url, sink=None):
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=600) as resp:
        if sink is None:
            body = resp.read()
        else:
            body = None
            while True:
                chunk = resp.read(1 << 16)
                if not chunk:
                    break
                sink(chunk)
    return time.perf_counter() - started, body


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000, help="approximate Patches rows")
    ap.add_argument("--pages", type=int, default=1000, help="page depth to measure")
    ap.add_argument("--keep", help="reuse/keep the database in this folder")
    args = ap.parse_args()
    if not os.path.exists(BINARY):
        sys.exit("build first: cargo build --release")

    work = args.keep or tempfile.mkdtemp(prefix="patches-bench-")
    os.makedirs(work, exist_ok=True)
    db = os.path.join(work, "bench.db")
    env = dict(os.environ, DATABASE_URL=f"sqlite://{db}", PATCHES_DEMO_DATA="false", PATCHES_LOG="warn")

    # Patches rows = patches + one area per 40 + the root.
    patches = max(1, (args.rows - 1) * 40 // 41)
    if not os.path.exists(db):
        started = time.perf_counter()
        subprocess.run([BINARY, "seed", "--patches", str(patches), "--properties", "0"], env=env, check=True)
        print(f"seed: {patches} patches in {time.perf_counter() - started:.1f} s")

    port = free_port()
    server = subprocess.Popen([BINARY, "serve", "--listen", f"127.0.0.1:{port}"], env=env)
    base = f"http://127.0.0.1:{port}/api/v1/odata"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=2)
                break
            except Exception:
                time.sleep(0.2)
        total = int(urllib.request.urlopen(f"{base}/Patches/$count").read())
        print(f"Patches rows: {total}")

        # Baseline: the same view, same order, to CSV, in-process.
        started = time.perf_counter()
        con = sqlite3.connect(db)
        with open(os.devnull, "w", newline="") as out:
            w = csv.writer(out)
            cur = con.execute('SELECT * FROM "Patches" ORDER BY "patchId"')
            w.writerow([d[0] for d in cur.description])
            for row in cur:
                w.writerow(row)
        con.close()
        baseline = time.perf_counter() - started

        # CSV through the API, sampling the server's memory as it streams.
        rss_before = rss_kib(server.pid, "VmRSS")
        peak = [rss_before]
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                peak[0] = max(peak[0], rss_kib(server.pid, "VmRSS"))
                time.sleep(0.05)

        sampler = threading.Thread(target=sample)
        sampler.start()
        counted = [0, 0]

        def sink(chunk):
            counted[0] += len(chunk)
            counted[1] += chunk.count(b"\n")

        export, _ = timed_get(f"{base}/Patches?$format=csv", sink)
        stop.set()
        sampler.join()
        print(f"CSV export: {counted[1] - 1} rows, {counted[0] / 1e6:.0f} MB in {export:.2f} s "
              f"({(counted[1] - 1) / export:,.0f} rows/s); baseline (sqlite3+csv in Python) {baseline:.2f} s; "
              f"ratio {export / baseline:.2f}")
        print(f"server memory: {rss_before / 1024:.0f} MiB before, peak {peak[0] / 1024:.0f} MiB during "
              f"(+{(peak[0] - rss_before) / 1024:.0f} MiB for {counted[0] / 1e6:.0f} MB streamed)")

        # JSON paging: first page, then follow next links to page N.
        first, body = timed_get(f"{base}/Patches")
        url = json.loads(body).get("@odata.nextLink")
        page = 1
        last = first
        while url and page < args.pages:
            last, body = timed_get(url)
            page += 1
            url = json.loads(body).get("@odata.nextLink")
        offset, _ = timed_get(f"{base}/Patches?$skip={(page - 1) * 1000}&$top=1000")
        print(f"page 1 of 1000 rows: {first * 1000:.1f} ms; page {page} by next link: {last * 1000:.1f} ms "
              f"(ratio {last / first:.2f}); same page by $skip: {offset * 1000:.1f} ms (ratio {offset / first:.2f})")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
