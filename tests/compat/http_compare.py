#!/usr/bin/env python3
"""Runs the stock supervisorctl and Python's xmlrpc.client against zagent and against
supervisord with one config, and compares every line.

    python3 tests/compat/http_compare.py --build build [-v]

Needs Debian's `supervisor` package (scripts/install-deps.sh --bench). Both sides run in their
own temp dirs with the same config (only the [inet_http_server] port differs); only processes
started here are stopped. Part 1: supervisorctl commands over the unix socket and over
http://127.0.0.1:PORT, `tail -f` and `maintail -f` for a bounded time (with output written
meanwhile), ended with Ctrl-C as a user would. Part 2: every supervisor.* and system.* method
through xmlrpc.client, faults and system.multicall included. Text that must differ (pids, times,
dates, the temp dir, ports) is normalised first. Exit status: 0 when everything matched or
differs only as KNOWN_DIFFERENCES lists (docs/compat.md), 1 otherwise.
"""

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import xmlrpc.client

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ctl_compare  # noqa: E402  (the Side and the normalising of the zctl comparison)

CONFIG = """\
[unix_http_server]
file=%(here)s/s.sock

[inet_http_server]
port=127.0.0.1:{port}

[supervisord]
logfile=%(here)s/d.log
pidfile=%(here)s/d.pid
childlogdir=%(here)s
identifier=supervisor
loglevel=info
; zagent's crash lines would shift what maintail shows (supervisord ignores the key)
crash_attribution=false

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://%(here)s/s.sock

[program:hello]
command=sh -c 'i=0; while [ $i -lt 60 ]; do echo "hello line $i"; i=$((i+1)); done; echo oops >&2; exec sleep 1000'
startsecs=1
stopwaitsecs=5

[program:echo]
command=cat
startsecs=1

[program:manual]
command=sleep 1000
autostart=false
startsecs=0

[program:quick]
command=/bin/false
startretries=0
startsecs=1

[group:grp]
programs=g1,g2

[program:g1]
command=sleep 1000
startsecs=1

[program:g2]
command=sleep 1000
startsecs=1
autostart=false
"""

# Keys every program gets: zagent's own default for the log sizes is 10MB (docs/compat.md
# "Deliberate differences"); the comparison sets supervisord's.
PROGRAM_KEYS = "stdout_logfile_maxbytes=50MB\nstderr_logfile_maxbytes=50MB\n"

# Process info fields that zagent adds (DESIGN.md: extended with new fields, never renamed).
EXTENSION_FIELDS = {"health", "last_cause", "stdout_log_error", "stderr_log_error"}

# Main log lines that only one side writes: zagent's own (the GPU probe's start line, crash
# records), and supervisord's "waiting for NAME to stop", which it writes or not depending on
# whether the child was reaped in the same pass of its loop.
MAIN_LOG_ONLY = re.compile(r"^.*(GPU monitoring off|WARN crash: |INFO waiting for \S+ to stop).*\n",
                           re.M)

# Calls whose results come in completion order (spec/rpc.md): compared as sets.
COMPLETION_ORDER = {"supervisor.stopAllProcesses", "supervisor.startAllProcesses",
                    "supervisor.signalAllProcesses", "supervisor.stopProcessGroup",
                    "supervisor.startProcessGroup", "supervisor.signalProcessGroup"}

# supervisorctl command lines, run on both sides at the same time.
CTL = [
    "status", "status hello", "status nosuch", "pid", "pid hello", "pid nosuch", "avail",
    "start manual", "start manual", "start nosuch", "stop manual", "stop manual",
    "restart hello", "start grp:*", "stop grp:g2", "signal HUP hello", "signal HUP manual",
    "signal BOGUS hello", "tail hello", "tail -100 hello", "tail hello stderr", "tail nosuch",
    "tail -5 manual", "maintail -300", "version", "status all",
]
# The same through [inet_http_server] (`-s http://...`).
CTL_HTTP = ["status", "pid hello", "tail hello stderr", "stop manual", "start manual", "avail"]

# Differences kept on purpose (docs/compat.md): key -> reason.
KNOWN_DIFFERENCES = {
    "xmlrpc system.listMethods": "zagent lists its zagent.* extensions too",
    "xmlrpc system.methodHelp('supervisor.getState',)":
        "zagent's help texts are its own, not supervisord's docstrings",
    "xmlrpc supervisor.getState(1, 2)":
        "INCORRECT_PARAMETERS says what is wrong (supervisord: the bare name)",
    "xmlrpc supervisor.getProcessInfo": "INCORRECT_PARAMETERS says what is wrong",
    "xmlrpc supervisor.sendProcessStdin('echo', 5)": "INCORRECT_PARAMETERS says what is wrong",
    "xmlrpc system.multicall('notalist',)":
        "a fault INCORRECT_PARAMETERS (supervisord fails with HTTP 500)",
}


def normalise(text, workdir, port):
    text = ctl_compare.normalise(text, workdir)
    text = text.replace(str(port), "<PORT>")
    text = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}", "<TS>", text)
    text = re.sub(r"(with pid|started with pid|pid) \d+", r"\1 N", text)
    text = re.sub(r"(-(?:stdout|stderr)---supervisor-)[a-z0-9_]+\.log", r"\1X.log", text)
    return MAIN_LOG_ONLY.sub("", text)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Side(ctl_compare.Side):
    def __init__(self, name, agent_cmd, root):
        super().__init__(name, agent_cmd, ["supervisorctl"], root)
        self.port = free_port()

    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def proxy(self):
        return xmlrpc.client.ServerProxy(self.url() + "/RPC2")

    def ctl_http(self, words):
        p = subprocess.run(["supervisorctl", "-s", self.url()] + words.split(), cwd=self.dir,
                           capture_output=True, text=True, timeout=30)
        return p.returncode, p.stdout, p.stderr

    def follow(self, words, seconds, during):
        """`supervisorctl WORDS` (tail -f ...) for `seconds`, `during` run halfway, then
        Ctrl-C."""
        p = subprocess.Popen(["supervisorctl", "-c", self.conf] + words.split(), cwd=self.dir,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(seconds / 2)
        during(self)
        time.sleep(seconds / 2)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=20)
        return p.returncode, out, err

    def wait_settled(self):
        deadline = time.time() + 20
        while time.time() < deadline:
            rc, out, _ = self.ctl("status")
            if all(re.search(p, out, re.M) for p in (
                    r"^hello\s+RUNNING", r"^echo\s+RUNNING", r"^quick\s+FATAL",
                    r"^grp:g1\s+RUNNING")):
                return True
            time.sleep(0.1)
        return False


def both(sides, fn):
    """fn(side) on every side at once; the results in side order."""
    out = [None] * len(sides)

    def one(i):
        try:
            out[i] = fn(sides[i])
        except Exception as e:  # the comparison shows it
            out[i] = ("EXCEPTION", type(e).__name__, str(e))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(sides))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def norm_value(v, side):
    """An XML-RPC value with what may differ replaced."""
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            if k in ("pid", "start", "stop", "now") and isinstance(x, int) and x:
                out[k] = f"<{k}>"
            elif k in EXTENSION_FIELDS:
                continue
            else:
                out[k] = norm_value(x, side)
        return out
    if isinstance(v, list):
        return [norm_value(x, side) for x in v]
    if isinstance(v, str):
        return normalise(v, side.dir, side.port)
    return v


def xml_call(side, method, *params):
    try:
        value = norm_value(getattr(side.proxy(), method)(*params), side)
        if method == "supervisor.getPID":
            value = "<pid>"
        if method in COMPLETION_ORDER and isinstance(value, list):
            value = sorted(value, key=repr)
        return ("OK", value)
    except xmlrpc.client.Fault as f:
        return ("FAULT", f.faultCode, normalise(f.faultString, side.dir, side.port))
    except xmlrpc.client.ProtocolError as e:
        return ("HTTP", e.errcode)


# (method, params) in order; run on both sides at the same time.
XMLRPC = [
    ("supervisor.getAPIVersion", ()), ("supervisor.getVersion", ()),
    ("supervisor.getSupervisorVersion", ()), ("supervisor.getIdentification", ()),
    ("supervisor.getState", ()), ("supervisor.getPID", ()),
    ("supervisor.getProcessInfo", ("hello",)), ("supervisor.getProcessInfo", ("nosuch",)),
    ("supervisor.getProcessInfo", ("grp:g1",)), ("supervisor.getAllProcessInfo", ()),
    ("supervisor.getAllConfigInfo", ()),
    ("supervisor.readProcessStdoutLog", ("hello", 0, 50)),
    ("supervisor.readProcessStdoutLog", ("hello", -30, 0)),
    ("supervisor.readProcessStdoutLog", ("hello", 100000, 10)),
    ("supervisor.readProcessStderrLog", ("hello", 0, 0)),
    ("supervisor.readProcessLog", ("hello", 0, 20)),
    ("supervisor.readProcessStdoutLog", ("nosuch", 0, 10)),
    ("supervisor.tailProcessStdoutLog", ("hello", 0, 40)),
    ("supervisor.tailProcessStdoutLog", ("hello", 10, 5000)),
    ("supervisor.tailProcessStderrLog", ("hello", 0, 100)),
    ("supervisor.tailProcessLog", ("hello", 0, 100)),
    ("supervisor.tailProcessStdoutLog", ("manual", 0, 100)),
    ("supervisor.readLog", (0, 0)), ("supervisor.readLog", (-1, 0)),
    ("supervisor.readLog", (10 ** 9, 5)), ("supervisor.readMainLog", (0, 0)),
    ("supervisor.startProcess", ("manual",)), ("supervisor.startProcess", ("manual",)),
    ("supervisor.startProcess", ("nosuch",)), ("supervisor.startProcess", ("quick", False)),
    ("supervisor.stopProcess", ("manual",)), ("supervisor.stopProcess", ("manual",)),
    ("supervisor.startProcess", ("manual", False)),
    ("supervisor.signalProcess", ("manual", "HUP")),
    ("supervisor.signalProcess", ("manual", "BOGUS")),
    ("supervisor.signalProcess", ("manual", 99)),
    ("supervisor.signalProcessGroup", ("grp", "USR1")),
    ("supervisor.signalProcessGroup", ("nosuch", "USR1")),
    ("supervisor.stopProcessGroup", ("grp",)), ("supervisor.startProcessGroup", ("grp",)),
    ("supervisor.startProcessGroup", ("nosuch",)),
    ("supervisor.sendProcessStdin", ("echo", "hi there\n")),
    ("supervisor.sendProcessStdin", ("manual", "x")),
    ("supervisor.sendProcessStdin", ("nosuch", "x")),
    ("supervisor.sendProcessStdin", ("echo", 5)),
    ("supervisor.sendRemoteCommEvent", ("type", "data")),
    ("supervisor.clearProcessLogs", ("quick",)), ("supervisor.clearProcessLogs", ("nosuch",)),
    ("supervisor.clearProcessLog", ("quick",)),
    ("supervisor.reloadConfig", ()), ("supervisor.addProcessGroup", ("grp",)),
    ("supervisor.addProcessGroup", ("nosuch",)), ("supervisor.removeProcessGroup", ("grp",)),
    ("supervisor.removeProcessGroup", ("nosuch",)), ("supervisor.addProcessGroup", ("grp",)),
    ("supervisor.nosuchMethod", ()), ("nosuch.method", ()), ("supervisor._private", ()),
    ("supervisor.getState", (1, 2)), ("supervisor.getProcessInfo", ()),
    ("system.listMethods", ()), ("system.methodHelp", ("supervisor.getState",)),
    ("system.methodHelp", ("nosuch",)), ("system.methodSignature", ("supervisor.getState",)),
    ("system.methodSignature", ("supervisor.startProcess",)),
    ("system.methodSignature", ("nosuch",)),
    ("system.multicall", ([{"methodName": "supervisor.getAPIVersion", "params": []},
                           {"methodName": "supervisor.getProcessInfo", "params": ["nosuch"]},
                           {"methodName": "nosuch", "params": []},
                           {"methodName": "supervisor.stopProcess", "params": ["manual"]},
                           {"methodName": "system.multicall", "params": []},
                           {"bogus": 1}],)),
    ("system.multicall", ("notalist",)),
    # quick goes first: whether a start without wait sees its /bin/false die is a race.
    ("supervisor.removeProcessGroup", ("quick",)),
    ("supervisor.stopAllProcesses", ()), ("supervisor.startAllProcesses", (False,)),
    ("supervisor.signalAllProcesses", ("HUP",)), ("supervisor.clearAllProcessLogs", ()),
    ("supervisor.clearLog", ()),
]


def write_echo(side):
    side.proxy().supervisor.sendProcessStdin("echo", "written while following\n")


def stop_manual(side):
    side.ctl("stop manual")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    zagent = os.path.join(os.path.abspath(args.build), "agent", "zagent")
    if not shutil.which("supervisord") or not shutil.which("supervisorctl"):
        print("supervisord not installed: scripts/install-deps.sh --bench", file=sys.stderr)
        return 2
    root = tempfile.mkdtemp(prefix="hc", dir="/tmp")
    sides = [Side("zagent", [zagent], root), Side("supervisord", ["supervisord"], root)]
    results = []  # (key, [normalised result per side])
    try:
        for s in sides:
            s.write_config(CONFIG.format(port=s.port).replace(
                "startsecs=", PROGRAM_KEYS + "startsecs="))
            s.start()
        for s in sides:
            if not s.wait_settled():
                print(f"{s.name} did not settle", file=sys.stderr)
                return 1

        def ctl_result(r, s):
            rc, out, err = r
            return (rc, normalise(out, s.dir, s.port), normalise(err, s.dir, s.port))

        for cmd in CTL:
            row = both(sides, lambda s: s.ctl(cmd))
            results.append((f"supervisorctl {cmd}",
                            [ctl_result(r, s) for r, s in zip(row, sides)]))
        for cmd in CTL_HTTP:
            row = both(sides, lambda s: s.ctl_http(cmd))
            results.append((f"supervisorctl -s http://... {cmd}",
                            [ctl_result(r, s) for r, s in zip(row, sides)]))
        for cmd, during in (("tail -f hello", lambda s: None), ("tail -f echo", write_echo),
                            ("tail -f hello stderr", lambda s: None),
                            ("maintail -f", stop_manual), ("tail -f nosuch", lambda s: None)):
            row = both(sides, lambda s: s.follow(cmd, 3.0, during))
            if cmd == "maintail -f":
                # The main logs began differently (zagent's own start lines), so the 1024
                # bytes the follow starts with differ: compare from the last spawn of
                # `manual` (its stop is what the follow sees happen) on.
                def from_manual(out):
                    at = out.rfind("spawned: 'manual'")
                    if at < 0:
                        return out[:out.find("\n") + 1]
                    return out[:out.find("\n") + 1] + out[out.rfind("\n", 0, at) + 1:]
                row = [(rc, from_manual(out), err) for rc, out, err in row]
            results.append((f"supervisorctl {cmd}",
                            [ctl_result(r, s) for r, s in zip(row, sides)]))
        for method, params in XMLRPC:
            row = both(sides, lambda s: xml_call(s, method, *params))
            results.append((f"xmlrpc {method}{params!r}" if params else f"xmlrpc {method}", row))
    finally:
        for s in sides:
            s.stop()
        shutil.rmtree(root, ignore_errors=True)

    same = differ = known = 0
    for key, (z, s) in results:
        if z == s:
            same += 1
            if args.verbose:
                print(f"same: {key}")
            continue
        if key in KNOWN_DIFFERENCES:
            known += 1
            print(f"known difference: {key}: {KNOWN_DIFFERENCES[key]}")
            continue
        differ += 1
        print(f"DIFFERENT: {key}")
        for label, value in (("zagent", z), ("supervisord", s)):
            text = value if isinstance(value, tuple) and len(value) == 3 and isinstance(
                value[1], str) and isinstance(value[0], int) else None
            if text is not None:
                print(f"  {label}: exit {value[0]}")
                for line in value[1].splitlines():
                    print(f"    out| {line}")
                for line in value[2].splitlines():
                    print(f"    err| {line}")
            else:
                print(f"  {label}: {value!r}")
    print(f"{same} same, {known} known differences, {differ} different, of {len(results)}")
    return 0 if differ == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
