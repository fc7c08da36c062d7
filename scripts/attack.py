#!/usr/bin/env python3
"""The hostile-traffic attacks of issue 11, replayed against the release
binary on loopback. Driven by scripts/attack.sh, which builds the binary and
passes BIN. Every loop is bounded; the whole run stops by itself.

For each attack it prints one Markdown table row: what was sent, what came
back, the server's peak RSS (VmHWM, reset between attacks through
/proc/PID/clear_refs) and its log growth. Linux only.
"""

import asyncio
import hashlib
import hmac
import os
import re
import subprocess
import sys
import time

BIN = os.environ["BIN"]
PORT = int(os.environ.get("ATTACK_PORT", "19995"))
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECRET = "attack-secret"
LOG = os.environ.get("ATTACK_LOG", "/tmp/hotfix-guard-attack.log")
OPENED = open(os.path.join(ROOT, "tests/fixtures/webhooks/pull_request.opened.4.json"), "rb").read()
PING = open(os.path.join(ROOT, "tests/fixtures/webhooks/ping.json"), "rb").read()
MIB = 1024 * 1024
rows = []


def sign(body):
    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


def status_of(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024  # MB
    return 0.0


def reset_peak(pid):
    with open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")


def log_bytes():
    return os.path.getsize(LOG)


def start_server(extra_env=None):
    env = dict(os.environ)
    env.update({
        "GITHUB_APP_ID": "1",
        "GITHUB_PRIVATE_KEY_PATH": os.path.join(ROOT, "tests/fixtures/test-app-key.pem"),
        "GITHUB_WEBHOOK_SECRET": SECRET,
        # Nothing listens there: evaluations fail fast, no call leaves the host.
        "GITHUB_API_URL": "http://127.0.0.1:9",
        "PORT": str(PORT),
        "RECOVERY_INTERVAL": "0s",
        "SWEEP_INTERVAL": "0s",
        "RUST_LOG": "info",
    })
    env.update(extra_env or {})
    log = open(LOG, "wb")
    proc = subprocess.Popen([BIN, "serve"], env=env, stdout=log, stderr=log)
    for _ in range(100):
        try:
            import socket
            socket.create_connection(("127.0.0.1", PORT), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    sys.exit("hotfix-guard did not start; see " + LOG)


async def request(raw, body=b"", body_chunk=None, delay=0.0, read_timeout=60.0):
    """Sends the head, then the body (all at once, or `body_chunk` bytes every
    `delay` seconds), and reads until the server closes. Returns
    (status, seconds until closed)."""
    started = time.monotonic()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", PORT)
    except OSError:
        return ("connect-failed", 0.0)
    answer = b""

    async def send():
        try:
            writer.write(raw)
            await writer.drain()
            if body_chunk is None:
                writer.write(body)
                await writer.drain()
            else:
                for i in range(0, len(body), body_chunk):
                    writer.write(body[i:i + body_chunk])
                    await writer.drain()
                    await asyncio.sleep(delay)
        except (ConnectionError, OSError):
            pass

    sender = asyncio.ensure_future(send())
    try:
        while True:
            chunk = await asyncio.wait_for(reader.read(65536), read_timeout)
            if not chunk:
                break
            answer += chunk
    except (asyncio.TimeoutError, ConnectionError, OSError):
        pass
    sender.cancel()
    writer.close()
    took = time.monotonic() - started
    m = re.match(rb"HTTP/1.1 (\d+)", answer)
    return (m.group(1).decode() if m else "closed", took)


def head(event="ping", delivery="72d3162e-cc78-11e3-81ab-4c9367dc0958", length=0, signature=None, close=True):
    lines = [
        "POST /webhook HTTP/1.1", "host: 127.0.0.1", "content-type: application/json",
        f"x-github-event: {event}", f"x-github-delivery: {delivery}", f"content-length: {length}",
    ]
    if signature:
        lines.append(f"x-hub-signature-256: {signature}")
    if close:
        lines.append("connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def guid(n):
    return f"{n:08x}-0000-4000-8000-{os.getpid():012x}"


async def real_delivery(n):
    body = OPENED
    return await request(head("pull_request", guid(n), len(body), sign(body)), body, read_timeout=5)


def tally(results):
    counts = {}
    for status, _ in results:
        counts[status] = counts.get(status, 0) + 1
    return ", ".join(f"{n}× {s}" for s, n in sorted(counts.items()))


def row(attack, outcome, proc, log0, requests, extra=""):
    hwm = status_of(proc.pid, "VmHWM")
    rss = status_of(proc.pid, "VmRSS")
    grown = log_bytes() - log0
    per = grown / requests if requests else 0
    rows.append(f"| {attack} | {outcome} | {hwm:.0f} | {rss:.0f} | {per:.0f} | {extra} |")
    print(rows[-1], flush=True)


async def main():
    proc = start_server()
    base = status_of(proc.pid, "VmRSS")
    print(f"baseline RSS {base:.1f} MB", flush=True)
    print("| attack | answers | peak RSS MB | RSS after MB | log bytes per request | notes |")
    print("| --- | --- | ---: | ---: | ---: | --- |")
    try:
        # 1. Id flood, first, on the fresh process: 17,000 signed pings with
        #    8 KiB ids, then 17,000 with
        #    fresh GUIDs (the dedup memory's worst case), 200 at a time.
        reset_peak(proc.pid); log0 = log_bytes()
        before = status_of(proc.pid, "VmRSS")
        sig = sign(PING)
        res = []
        for batch in range(85):
            res += await asyncio.gather(*[
                request(head("ping", "b" * 8192, len(PING), sig), PING) for _ in range(200)])
        row("17,000 signed pings, 8 KiB ids", tally(res), proc, log0, 17000,
            f"RSS before {before:.0f} MB")
        reset_peak(proc.pid); log0 = log_bytes()
        before = status_of(proc.pid, "VmRSS")
        res = []
        for batch in range(85):
            res += await asyncio.gather(*[
                request(head("ping", guid(10_000 + batch * 200 + i), len(PING), sig), PING) for i in range(200)])
        row("17,000 signed pings, fresh GUIDs", tally(res), proc, log0, 17000,
            f"RSS before {before:.0f} MB")

        # 2. 40 unsigned 25 MiB bodies at once.
        reset_peak(proc.pid); log0 = log_bytes()
        big = b" " * (25 * MIB)
        res = await asyncio.gather(*[
            request(head("pull_request", guid(i), len(big)), big) for i in range(40)])
        row("40 concurrent unsigned 25 MiB bodies", tally(res), proc, log0, 40)

        # 3. 40 claiming 25 MiB, sending 1 KiB, then nothing: held 1 KiB each
        #    (not 25 MiB), cut at BODY_READ_TIMEOUT; a real delivery meanwhile.
        reset_peak(proc.pid); log0 = log_bytes()
        stalled = [asyncio.ensure_future(request(head("ping", guid(100 + i), 25 * MIB), b"x" * 1024,
                                                 body_chunk=1024, delay=120)) for i in range(40)]
        await asyncio.sleep(1)
        real = await real_delivery(1)
        res = await asyncio.gather(*stalled)
        worst = max(t for _, t in res)
        row("40 claiming 25 MiB, sending 1 KiB", tally(res), proc, log0, 40,
            f"closed after ≤ {worst:.1f} s; a real delivery meanwhile: {real[0]} in {real[1]*1000:.0f} ms")

        # 4. Slow senders: silent, header trickle, body trickle; a real
        #    delivery meanwhile.
        reset_peak(proc.pid); log0 = log_bytes()
        silent = [asyncio.ensure_future(request(b"", read_timeout=120)) for _ in range(150)]
        trickle_head = [asyncio.ensure_future(request(b"", head("ping", guid(300 + i), 0), body_chunk=1, delay=1.0))
                        for i in range(100)]
        body = PING
        trickle_body = [asyncio.ensure_future(request(head("ping", guid(500 + i), len(body), sign(body)), body,
                                                      body_chunk=1, delay=1.0)) for i in range(100)]
        await asyncio.sleep(2)
        real = await real_delivery(2)
        res_s = await asyncio.gather(*silent)
        res_h = await asyncio.gather(*trickle_head)
        res_b = await asyncio.gather(*trickle_body)
        # `request` with an empty head and a body: the trickled head arrives as "body".
        row("150 silent connections", tally(res_s), proc, log0, 350,
            f"closed after ≤ {max(t for _, t in res_s):.1f} s")
        rows.append(f"| 100 trickling their head, 1 byte/s | {tally(res_h)} | | | | closed after ≤ {max(t for _, t in res_h):.1f} s |")
        print(rows[-1])
        rows.append(f"| 100 trickling a body, 1 byte/s | {tally(res_b)} | | | | closed after ≤ {max(t for _, t in res_b):.1f} s; a real delivery meanwhile: {real[0]} in {real[1]*1000:.0f} ms |")
        print(rows[-1], flush=True)

        # 5. Long delivery ids, unsigned: 300 KB (over the head cap) and 8 KiB.
        reset_peak(proc.pid); log0 = log_bytes()
        res = await asyncio.gather(*[request(head("ping", "a" * 300_000, 2), b"{}") for _ in range(200)])
        row("200 unsigned, 300 KB X-GitHub-Delivery", tally(res), proc, log0, 200)
        log0 = log_bytes()
        res = await asyncio.gather(*[request(head("ping", "a" * 8192, 2), b"{}") for _ in range(200)])
        row("200 unsigned, 8 KiB X-GitHub-Delivery", tally(res), proc, log0, 200)

        # 6. More connections than MAX_CONNECTIONS (1024): 1,200 idle at once.
        reset_peak(proc.pid); log0 = log_bytes()
        idle = [asyncio.ensure_future(request(b"", read_timeout=30)) for _ in range(1200)]
        await asyncio.sleep(1)
        real = await real_delivery(3)
        res = await asyncio.gather(*idle)
        row("1,200 idle connections at once", tally(res), proc, log0, 1200,
            f"a real delivery meanwhile: {real[0]} in {real[1]*1000:.0f} ms")
        print(f"final RSS {status_of(proc.pid, 'VmRSS'):.1f} MB (baseline {base:.1f} MB)")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()

    # 7. Setup mode: 1,100 anonymous page views, then the first state's callback.
    import urllib.request
    import urllib.error
    env = {"SETUP_MODE": "1", "PUBLIC_URL": "https://guard.example.org", "GITHUB_APP_ID": "",
           "GITHUB_PRIVATE_KEY_PATH": "", "GITHUB_WEBHOOK_SECRET": ""}
    setup_env = {k: v for k, v in env.items()}
    proc = start_server_setup(setup_env)
    try:
        first = urllib.request.urlopen(f"http://127.0.0.1:{PORT}/setup", timeout=5)
        cookie = first.headers["set-cookie"].split(";")[0]
        state = cookie.split("=", 1)[1]
        for _ in range(1100):
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/setup", timeout=5).read()
        req = urllib.request.Request(f"http://127.0.0.1:{PORT}/setup/callback?code=c&state={state}",
                                     headers={"cookie": cookie})
        try:
            page = urllib.request.urlopen(req, timeout=10).read().decode()
        except urllib.error.HTTPError as e:
            page = e.read().decode()
        accepted = "Unknown or expired request" not in page
        rows.append(f"| 1,100 anonymous GET /setup, then the first page's callback | state {'accepted' if accepted else 'REFUSED'} | {status_of(proc.pid, 'VmHWM'):.0f} | {status_of(proc.pid, 'VmRSS'):.0f} | | the code exchange then fails: nothing listens at GITHUB_API_URL |")
        print(rows[-1], flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def start_server_setup(env_over):
    env = dict(os.environ)
    for k in ["GITHUB_APP_ID", "GITHUB_PRIVATE_KEY", "GITHUB_PRIVATE_KEY_PATH", "GITHUB_WEBHOOK_SECRET"]:
        env.pop(k, None)
    env.update({k: v for k, v in env_over.items() if v})
    env.update({"PORT": str(PORT), "GITHUB_API_URL": "http://127.0.0.1:9", "RUST_LOG": "info"})
    log = open(LOG + ".setup", "wb")
    proc = subprocess.Popen([BIN, "serve"], env=env, stdout=log, stderr=log)
    import socket
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", PORT), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    sys.exit("setup mode did not start")


if __name__ == "__main__":
    asyncio.run(asyncio.wait_for(main(), timeout=600))
