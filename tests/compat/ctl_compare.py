#!/usr/bin/env python3
"""Runs the same zctl scenarios against zagent+zctl and supervisord+supervisorctl and compares
every command's output and exit code.

    python3 tests/compat/ctl_compare.py --build build [-v]

Needs Debian's `supervisor` package (scripts/install-deps.sh --bench installs it). Each side
runs in its own temp dir with the same config; only processes started here are stopped. Text
that must differ (pids, uptimes, dates, the temp dir, Python exception details) is normalised
before the comparison. Exit status: 0 when every command matched or differs only in a way
listed in KNOWN_DIFFERENCES (docs/compat.md), 1 otherwise.
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

CONFIG = """\
[unix_http_server]
file=%(here)s/s.sock

[supervisord]
logfile=%(here)s/d.log
pidfile=%(here)s/d.pid
childlogdir=%(here)s
identifier=supervisor

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://%(here)s/s.sock

[program:ok]
command=sleep 1000
priority=10
startsecs=1
stopwaitsecs=5

[program:exit0]
command=/bin/true
autorestart=false
startsecs=0

[program:quick]
command=/bin/false
startretries=0

[program:missing]
command=/nonexistent/cmd
autostart=false

[program:noexec]
command=%(here)s/noexec.sh
autostart=false

[program:hello]
command=sh -c 'echo hello; echo world; echo oops >&2; exec sleep 1000'
startsecs=1
stopwaitsecs=5

[program:nolog]
command=sleep 1000
stdout_logfile=NONE
redirect_stderr=true
startsecs=1

[program:manual]
command=sleep 1000
autostart=false
startsecs=1

[group:grp]
programs=g1,g2
priority=50

[program:g1]
command=sleep 1000
startsecs=1

[program:g2]
command=sleep 1000
startsecs=1
autostart=false

[program:multi]
command=sleep 1000
numprocs=2
process_name=%(program_name)s_%(process_num)02d
autostart=false
startsecs=0
"""

# The second config for reread/update: hello changed, manual removed, newprog added,
# g2 of grp changed (g1 unchanged).
CONFIG2_EDITS = [
    # startsecs 10: both sides still show STARTING right after the (slower) supervisorctl
    # update has returned.
    ("echo hello; echo world; echo oops >&2; exec sleep 1000'\nstartsecs=1",
     "echo hello; echo there; echo oops >&2; exec sleep 1000'\nstartsecs=10"),
    ("[program:manual]\ncommand=sleep 1000\nautostart=false\nstartsecs=1\n", ""),
    ("[program:g2]\ncommand=sleep 1000\n", "[program:g2]\ncommand=sleep 999\n"),
]
CONFIG2_APPEND = "\n[program:newprog]\ncommand=sleep 1000\nstartsecs=0\n"

# Commands run once the agent has settled, in order. Each entry: command words.
SCENARIO = [
    "status", "status ok", "status nosuch", "status grp:*", "status grp:", "status nosuch:*",
    "status ok nosuch", "status grp", "status quick nosuch", "status all", "status ok all",
    "start", "start nosuch", "start nosuch:*", "start grp:nosuch", "start missing",
    "start noexec", "start ok", "start manual", "start grp:*", "start grp",
    "stop", "stop nosuch", "stop nosuch:*", "stop manual", "stop manual", "stop quick",
    "restart", "restart nosuch", "restart manual", "restart quick",
    "signal", "signal HUP", "signal HUP nosuch", "signal BOGUS ok", "signal 99 ok",
    "signal HUP missing", "signal HUP ok", "signal usr1 grp:*", "signal HUP nosuch:*",
    "pid ok", "pid missing", "pid nosuch", "pid grp:*", "pid all",
    "clear", "clear nosuch", "clear grp:*", "clear exit0",
    "tail hello", "tail hello stderr", "tail -5 hello", "tail nolog", "tail nolog stderr",
    "tail nosuch", "tail hello bogus", "tail -x hello", "tail", "tail a b c d", "tail -5",
    "maintail x y", "maintail -x", "maintail x",
    "avail", "avail x", "reread x", "version x", "reload x", "shutdown x",
    "add", "add nosuch", "add ok", "remove", "remove nosuch", "remove ok",
    "stop manual", "remove manual", "add manual", "status manual",
    "fg", "fg a b", "fg nosuch", "fg missing", "fg grp:*",
    "help", "help start", "help tail", "help bogus", "bogus arg",
    "start multi:*", "status multi:*", "stop multi:*", "status multi:multi_01",
    "start all", "stop all", "start all", "status",
    "version",
]

# After the config change.
SCENARIO2 = ["reread", "avail", "update nosuch", "update", "status", "reread", "update"]

# After shutdown.
SCENARIO3 = ["status", "start ok", "stop ok", "pid", "shutdown", "avail", "reread"]

# Differences kept on purpose (docs/compat.md): command -> reason.
KNOWN_DIFFERENCES = {}


def normalise(text, workdir):
    text = text.replace(workdir, "<DIR>")
    text = re.sub(r"pid \d+, uptime \d+:\d\d:\d\d", "pid N, uptime H:MM:SS", text)
    text = re.sub(r"[A-Z][a-z][a-z] \d\d \d\d:\d\d [AP]M", "<DATE>", text)
    text = re.sub(r"^\d+$", "<PID>", text, flags=re.M)
    # Python's exception details are not reproducible (spec/ctl.md §1.3).
    text = re.sub(r"(error: <class '[^']*'>, ).*", r"\1...", text)
    text = re.sub(r"^error: (?!<class).*", "error: ...", text, flags=re.M)
    return text


class Side:
    def __init__(self, name, agent_cmd, ctl_cmd, root):
        self.name = name
        self.agent_cmd = agent_cmd
        self.ctl_cmd = ctl_cmd
        self.dir = tempfile.mkdtemp(prefix=name[:1], dir=root)
        self.conf = os.path.join(self.dir, "c.conf")
        self.agent = None

    def write_config(self, text):
        with open(self.conf, "w") as f:
            f.write(text)
        noexec = os.path.join(self.dir, "noexec.sh")
        with open(noexec, "w") as f:
            f.write("#!/bin/sh\n")
        os.chmod(noexec, 0o644)

    def start(self):
        self.agent = subprocess.Popen(self.agent_cmd + ["-c", self.conf, "-n"], cwd=self.dir,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def ctl(self, words, stdin=None):
        p = subprocess.run(self.ctl_cmd + ["-c", self.conf] + words.split(), cwd=self.dir,
                           capture_output=True, text=True, timeout=30, input=stdin or "")
        return p.returncode, p.stdout, p.stderr

    def wait_settled(self):
        """Until quick is FATAL, ok and hello RUNNING, exit0 EXITED."""
        deadline = time.time() + 20
        while time.time() < deadline:
            rc, out, _ = self.ctl("status")
            if (re.search(r"^ok\s+RUNNING", out, re.M) and re.search(r"^quick\s+FATAL", out, re.M)
                    and re.search(r"^hello\s+RUNNING", out, re.M)
                    and re.search(r"^exit0\s+EXITED", out, re.M)
                    and re.search(r"^grp:g1\s+RUNNING", out, re.M)
                    and re.search(r"^nolog\s+RUNNING", out, re.M)):
                return True
            time.sleep(0.1)
        return False

    def wait_gone(self):
        if self.agent is None:
            return
        try:
            self.agent.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.agent.send_signal(signal.SIGKILL)
            self.agent.wait()

    def stop(self):
        if self.agent is not None and self.agent.poll() is None:
            self.agent.send_signal(signal.SIGTERM)
        self.wait_gone()


def run_steps(sides, commands, results):
    """Runs each command on both sides at the same time, so that states that depend on time
    (STARTING for startsecs) are seen at the same moment on both."""
    for cmd in commands:
        row = [None] * len(sides)

        def one(i):
            side = sides[i]
            rc, out, err = side.ctl(cmd)
            row[i] = (rc, normalise(out, side.dir), normalise(err, side.dir))

        threads = [threading.Thread(target=one, args=(i,)) for i in range(len(sides))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        results.append((cmd, row))


def completion_ordered(cmd):
    """Group and `all` commands print results in completion order (spec/rpc.md §4.3), which
    depends on when each child happened to be reaped: compare their lines as a set."""
    words = cmd.split()
    return (words[0] in ("start", "stop", "restart", "signal", "update")
            and any(w == "all" or w.endswith(":*") for w in words[1:]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    zagent = os.path.join(build, "agent", "zagent")
    zctl = os.path.join(build, "ctl", "zctl")
    if not shutil.which("supervisord"):
        print("supervisord not installed: scripts/install-deps.sh --bench", file=sys.stderr)
        return 2
    root = tempfile.mkdtemp(prefix="cc", dir="/tmp")
    sides = [Side("zagent", [zagent], [zctl], root),
             Side("supervisord", ["supervisord"], ["supervisorctl"], root)]
    results = []
    try:
        for s in sides:
            s.write_config(CONFIG)
            s.start()
        for s in sides:
            if not s.wait_settled():
                print(f"{s.name} did not settle", file=sys.stderr)
                return 1
        run_steps(sides, SCENARIO, results)
        for s in sides:
            text = CONFIG
            for a, b in CONFIG2_EDITS:
                text = text.replace(a, b)
            s.write_config(text + CONFIG2_APPEND)
        run_steps(sides, SCENARIO2, results)
        for s in sides:
            s.ctl("shutdown")
            s.wait_gone()
        run_steps(sides, SCENARIO3, results)
    finally:
        for s in sides:
            s.stop()
        shutil.rmtree(root, ignore_errors=True)

    same = differ = known = 0
    for cmd, (z, s) in results:
        if z != s and completion_ordered(cmd):
            z = (z[0], "\n".join(sorted(z[1].splitlines())), z[2])
            s = (s[0], "\n".join(sorted(s[1].splitlines())), s[2])
        if z == s:
            same += 1
            if args.verbose:
                print(f"same: {cmd}")
            continue
        if cmd in KNOWN_DIFFERENCES:
            known += 1
            print(f"known difference: {cmd}: {KNOWN_DIFFERENCES[cmd]}")
            continue
        differ += 1
        print(f"DIFFERENT: zctl {cmd}")
        for label, (rc, out, err) in (("zctl", z), ("supervisorctl", s)):
            print(f"  {label}: exit {rc}")
            for line in out.splitlines():
                print(f"    out| {line}")
            for line in err.splitlines():
                print(f"    err| {line}")
    print(f"{same} same, {known} known differences, {differ} different, of {len(results)}")
    return 0 if differ == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
