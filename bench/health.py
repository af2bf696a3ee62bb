#!/usr/bin/env python3
"""Health checks' cost and speed (docs/health.md), with the test helper
tests/helpers/health_server as the checked server.

(a) CPU: zagent with N programs that each have `healthcheck=http://127.0.0.1:PORT/` at
    `healthcheck_interval=--interval`, all against one health_server the bench runs, over
    `--window` s; against the same config without checks, and supervisord with that config
    (it has no checks). CPU is the agent's time on a CPU, all threads
    (/proc/PID/task/*/schedstat), per 10 s; the per-check figure is the difference divided by
    the checks made. Each session samples resources at the default interval (10 s).
(b) Bind -> RUNNING: L programs, each a health_server that binds its port after a random
    delay (1.2-4 s) and prints the wall-clock time of the bind; the latency is the agent's
    `success: pN entered RUNNING state` line's time (ms resolution) less that. The goal with
    the 1 s startup cadence is under 1.1 s.

Usage: bench/health.py --zagent build/agent/zagent --zctl build/ctl/zctl
       [--helpers build/tests/helpers] [--supervisord /usr/bin/supervisord]
       [--programs 100] [--window 30] [--interval 1] [--latency-programs 10] [--rounds 3]
"""
import argparse
import datetime
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

from agent_session import Agent, cpu_seconds


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log_time(stamp):
    """Epoch seconds of a main-log stamp `2026-12-03 11:46:47,487` (local time)."""
    return datetime.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").timestamp()


def cost(args, binary, ctl, checks):
    """(CPU seconds, window seconds, checks passing at the end) of one session."""
    tmp = tempfile.mkdtemp(prefix="zhb", dir="/tmp")
    server = None
    try:
        port = free_port()
        server = subprocess.Popen([os.path.join(args.helpers, "health_server"), str(port)],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        server.stdout.readline()  # "listening at ..."
        sleeper = os.path.join(args.helpers, "sleep_forever")
        extra = (f"healthcheck=http://127.0.0.1:{port}/\n"
                 f"healthcheck_interval={args.interval}\n" if checks else "")
        programs = "".join(f"[program:p{i}]\ncommand={sleeper}\nstartsecs=1\n{extra}"
                           for i in range(args.programs))
        a = Agent(binary, ctl, tmp, programs)
        try:
            a.wait_log("entered RUNNING state", args.programs)
            time.sleep(2)
            t0, c0 = time.monotonic(), cpu_seconds(a.proc.pid)
            time.sleep(args.window)
            t1, c1 = time.monotonic(), cpu_seconds(a.proc.pid)
            passing = None
            if checks:
                rows = a.ctl("--json", "health").stdout
                passing = rows.count('"status":"passing"') + rows.count('"status": "passing"')
            return c1 - c0, t1 - t0, passing
        finally:
            a.stop()
    finally:
        if server:
            server.send_signal(signal.SIGTERM)
            server.wait()
        shutil.rmtree(tmp, ignore_errors=True)


def latency(args):
    """Bind -> RUNNING latencies (seconds) of L late-binding servers, one session a round."""
    lats = []
    server = os.path.join(args.helpers, "health_server")
    for r in range(args.rounds):
        tmp = tempfile.mkdtemp(prefix="zhb", dir="/tmp")
        try:
            rng = random.Random(r)
            programs = ""
            for i in range(args.latency_programs):
                delay = rng.randint(1200, 4000)
                port = free_port()
                programs += (f"[program:p{i}]\ncommand={server} {port} --bind-after-ms {delay}\n"
                             f"startsecs=1\nhealthcheck=http://127.0.0.1:{port}/\n"
                             f"stdout_logfile={tmp}/p{i}.out\n")
            a = Agent(args.zagent, args.zctl, tmp, programs)
            try:
                a.wait_log("entered RUNNING state", args.latency_programs)
                log = a.log_text()
                for i in range(args.latency_programs):
                    m = re.search(r"^(\S+ \S+) INFO success: p%d entered RUNNING" % i, log, re.M)
                    with open(f"{tmp}/p{i}.out") as f:
                        bound = float(f.read().split()[2])
                    lats.append(log_time(m.group(1)) - bound)
            finally:
                a.stop()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return lats


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--zagent", required=True)
    ap.add_argument("--zctl", required=True)
    ap.add_argument("--helpers")
    ap.add_argument("--supervisord", default="/usr/bin/supervisord")
    ap.add_argument("--supervisorctl", default="/usr/bin/supervisorctl")
    ap.add_argument("--programs", type=int, default=100)
    ap.add_argument("--window", type=float, default=30)
    ap.add_argument("--interval", type=float, default=1)
    ap.add_argument("--latency-programs", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    build = os.path.dirname(os.path.dirname(os.path.abspath(args.zagent)))
    args.helpers = os.path.abspath(args.helpers or os.path.join(build, "tests/helpers"))
    args.zagent, args.zctl = os.path.abspath(args.zagent), os.path.abspath(args.zctl)
    if not os.path.exists(os.path.join(args.helpers, "health_server")):
        sys.exit(f"no health_server in {args.helpers} (build the target zagent_test_helpers)")

    per10 = lambda cpu, secs: cpu / secs * 10 * 1000  # ms per 10 s
    on, secs_on, passing = cost(args, args.zagent, args.zctl, True)
    off, secs_off, _ = cost(args, args.zagent, args.zctl, False)
    checks = args.programs * secs_on / args.interval
    per_check = (on - off / secs_off * secs_on) / checks
    print(f"{args.programs} programs, {secs_on:.0f} s: zagent with HTTP checks every "
          f"{args.interval:g} s {per10(on, secs_on):.1f} ms CPU per 10 s ({passing} passing at "
          f"the end), without checks {per10(off, secs_off):.1f} ms; "
          f"{per_check * 1e6:.0f} us per check ({checks:.0f} checks)", flush=True)
    if os.path.exists(args.supervisord):
        sup, secs_sup, _ = cost(args, args.supervisord, args.supervisorctl, False)
        print(f"supervisord, same programs, no checks: {per10(sup, secs_sup):.1f} ms CPU per 10 s",
              flush=True)
    lats = latency(args)
    print(f"bind -> RUNNING over {len(lats)} starts (goal < 1.1 s): median "
          f"{statistics.median(lats) * 1000:.0f} ms, max {max(lats) * 1000:.0f} ms; all: "
          + ", ".join(f"{v * 1000:.0f}" for v in sorted(lats)) + " ms")


if __name__ == "__main__":
    main()
