#!/usr/bin/env python3
"""Side-by-side benchmark: zagent against supervisord, in one run, alternating.

Both agents run in the foreground (-n) on the SAME generated supervisord-format config.
Every scenario runs in its own temp dir under /tmp (short socket path) and cleans up after
itself: only processes this script started are signalled, always by pid.

  python3 bench/run.py            full mode: writes docs/benchmarks.md
  python3 bench/run.py --quick    a few seconds; checks the harness, prints the table only

bench/README.md describes what each number means.
"""

import argparse
import datetime
import glob
import hashlib
import os
import platform
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STOP_DEADLINE = 120.0  # seconds an agent gets to exit after SIGTERM
START_DEADLINE = 120.0  # seconds for all programs to be spawned/RUNNING

# The supervised program: a tiny static C program that waits in pause() forever (default
# SIGTERM/SIGKILL disposition), so that the cost of exec'ing it is as small as possible and
# the numbers are about the agents. /bin/sleep is the fallback when no C compiler works.
IDLE_C = "#include <unistd.h>\nint main(void){for(;;)pause();}\n"

# Times one run of a command (fork, exec, wait) with clock_gettime, without the Python
# interpreter's own overhead: `runner CMD ARGS...` prints the wall time in microseconds and
# the command's exit status; the command's output goes to /dev/null.
RUNNER_C = r"""
#include <fcntl.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
int main(int argc, char** argv) {
  struct timespec a, b;
  int st = 0;
  if (argc < 2) return 2;
  clock_gettime(CLOCK_MONOTONIC, &a);
  pid_t p = fork();
  if (p == 0) {
    int fd = open("/dev/null", O_RDWR);
    dup2(fd, 0); dup2(fd, 1); dup2(fd, 2);
    execv(argv[1], argv + 1);
    _exit(127);
  }
  waitpid(p, &st, 0);
  clock_gettime(CLOCK_MONOTONIC, &b);
  printf("%ld %d\n", (b.tv_sec - a.tv_sec) * 1000000L + (b.tv_nsec - a.tv_nsec) / 1000,
         WIFEXITED(st) ? WEXITSTATUS(st) : -1);
  return 0;
}
"""

# The log writer: `writer N STAMPFILE` writes N bytes (0: forever) of 100-byte text lines
# `line %09d xxx...x\n` (the counter starts at 0; the last line is cut to fit N and still
# ends with '\n') to stdout in 64 KiB write() calls, as fast as it can, then exits 0. Before
# its first byte it writes its CLOCK_MONOTONIC start time (`SEC.NSEC`) to STAMPFILE, so the
# harness can time from the writer's start to the last byte on disk. writer_chunks() below
# regenerates the same bytes in Python.
WRITER_C = r"""
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#define LINE 100
#define CHUNK 65536
static char buf[CHUNK + LINE];
static void put_all(const char* p, size_t n) {
  while (n) {
    ssize_t w = write(1, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      _exit(1);
    }
    p += w;
    n -= (size_t)w;
  }
}
int main(int argc, char** argv) {
  if (argc < 3) return 2;
  long long total = atoll(argv[1]);
  char line[LINE];
  memset(line, 'x', LINE);
  memcpy(line, "line 000000000 ", 15);
  line[LINE - 1] = '\n';
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  FILE* f = fopen(argv[2], "w");
  if (!f) return 3;
  fprintf(f, "%lld.%09ld\n", (long long)t.tv_sec, (long)t.tv_nsec);
  if (fclose(f) != 0) return 3;
  long long produced = 0;
  size_t used = 0;
  while (total == 0 || produced < total) {
    size_t len = LINE;
    if (total && total - produced < LINE) len = (size_t)(total - produced);
    memcpy(buf + used, line, len);
    buf[used + len - 1] = '\n';
    used += len;
    produced += (long long)len;
    for (int k = 13; k >= 5; --k) {
      if (line[k] == '9') {
        line[k] = '0';
      } else {
        line[k]++;
        break;
      }
    }
    if (used >= CHUNK) {
      put_all(buf, CHUNK);
      memmove(buf, buf + CHUNK, used - CHUNK);
      used -= CHUNK;
    }
  }
  put_all(buf, used);
  return 0;
}
"""
WRITER_LINE = 100  # bytes per line of WRITER_C
LOG_MAXBYTES = 10 * 1024 * 1024  # `stdout_logfile_maxbytes = 10MB` (supervisord: MB = 2^20)
MB = 1e6  # throughput unit: MB/s = 10^6 bytes per second


def die(msg, code=1):
    print(msg, file=sys.stderr)
    sys.exit(code)


# --------------------------------------------------------------------------------------
# /proc helpers


def children_of(pid):
    """Direct children of pid (all its threads), from /proc/PID/task/*/children."""
    out = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out.extend(int(x) for x in f.read().split())
        except OSError:
            pass
    return out


def exe_of(pid):
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return None


def smaps_rollup(pid):
    vals = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3 and parts[2] == "kB":
                vals[parts[0].rstrip(":")] = int(parts[1])
    return vals  # kB


def cpu_ticks(pid):
    """utime+stime of the whole process (all threads), in clock ticks."""
    with open(f"/proc/{pid}/stat") as f:
        data = f.read()
    fields = data[data.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])  # fields 14 and 15 of proc(5)


def sched_ns(pid):
    """Sum of sum_exec_runtime (ns) of every thread: finer than the 10 ms tick."""
    total = 0
    for path in glob.glob(f"/proc/{pid}/task/*/schedstat"):
        try:
            with open(path) as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total


def pid_alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except OSError:
        return False
    state = data[data.rindex(")") + 2:].split()[0]
    return state != "Z"


# --------------------------------------------------------------------------------------
# One agent session: temp dir, config, process, conditions, shutdown, cleanup


class Session:
    def __init__(self, kind, binary, prog, n, startsecs, scenario, extra=None):
        """extra: optional (config text appended, realpaths of the programs it runs): those
        programs' pids are checked for leftovers too."""
        self.kind = kind
        self.binary = binary
        self.prog, self.prog_real = prog  # (command line, realpath of the exec'd file)
        self.n = n
        self.dir = tempfile.mkdtemp(prefix=f"zb-{kind[0]}-", dir="/tmp")
        self.logfile = os.path.join(self.dir, "main.log")
        self.conf = os.path.join(self.dir, "bench.conf")
        self.names = [f"p{i:04d}" for i in range(n)]
        self.seen = set()  # every program pid seen as a child: cleanup candidates
        self.exec_ok = set()  # children already seen running the program
        self.log_pos = 0
        self.log_tail = ""
        self.success = 0
        self.spawned_lines = 0
        self.proc = None
        self.leftovers = 0
        self.scenario = scenario
        self.extra_conf, self.extra_reals = extra if extra else ("", ())
        self.extra_seen = set()  # pids of the extra programs: cleanup candidates
        self._write_config(startsecs)

    def _write_config(self, startsecs):
        d = self.dir
        lines = [
            "[unix_http_server]",
            f"file = {d}/s.sock",
            "",
            "[supervisord]",
            f"logfile = {d}/main.log",
            "logfile_maxbytes = 0",
            f"pidfile = {d}/agent.pid",
            f"childlogdir = {d}/logs",
            "nodaemon = true",
            "loglevel = info",
            "minfds = 8192",
            "minprocs = 4096",
            "",
            "[rpcinterface:supervisor]",
            "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
            "",
            "[supervisorctl]",
            f"serverurl = unix://{d}/s.sock",
            "",
        ]
        os.makedirs(f"{d}/logs")
        for name in self.names:
            lines += [
                f"[program:{name}]",
                f"command = {self.prog}",
                "autostart = true",
                "autorestart = true",
                f"startsecs = {startsecs}",
                f"stdout_logfile = {d}/logs/{name}.out",
                f"stderr_logfile = {d}/logs/{name}.err",
                "",
            ]
        with open(self.conf, "w") as f:
            f.write("\n".join(lines))
            if self.extra_conf:
                f.write("\n" + self.extra_conf.replace("{dir}", d))

    def start(self):
        self.t_start = time.monotonic()
        self.out = open(os.path.join(self.dir, "agent.out"), "wb")
        self.proc = subprocess.Popen(
            [self.binary, "-n", "-c", self.conf],
            stdin=subprocess.DEVNULL, stdout=self.out, stderr=subprocess.STDOUT,
            cwd=self.dir, start_new_session=True)
        self.pid = self.proc.pid

    # -- observation ---------------------------------------------------------------

    def running_children(self):
        """Children of the agent that have exec'd the program (not a pre-exec fork)."""
        kids = children_of(self.pid)
        out = []
        for k in kids:
            if k in self.exec_ok:
                out.append(k)
                continue
            if exe_of(k) == self.prog_real:
                self.exec_ok.add(k)
                self.seen.add(k)
                out.append(k)
        return out

    def read_log(self):
        try:
            with open(self.logfile, "rb") as f:
                f.seek(self.log_pos)
                data = f.read()
        except OSError:
            return
        if not data:
            return
        self.log_pos += len(data)
        text = self.log_tail + data.decode("utf-8", "replace")
        lines = text.split("\n")
        self.log_tail = lines.pop()
        for line in lines:
            if " success: " in line:
                self.success += 1
            elif " spawned: " in line:
                self.spawned_lines += 1

    def note_extra(self):
        """Records the agent's children that run one of the extra programs."""
        if self.extra_reals:
            for k in children_of(self.pid):
                if k not in self.extra_seen and exe_of(k) in self.extra_reals:
                    self.extra_seen.add(k)

    def wait_socket(self, deadline=30.0):
        """Waits until the agent's control socket accepts a connection."""
        path = os.path.join(self.dir, "s.sock")
        end = time.monotonic() + deadline
        while True:
            self.check_alive()
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
                try:
                    c.connect(path)
                    return
                except OSError:
                    pass
            if time.monotonic() > end:
                raise RuntimeError(f"{self.kind}: {path} not accepting within {deadline}s")
            time.sleep(0.01)

    def check_alive(self):
        if self.proc.poll() is not None:
            raise RuntimeError(f"{self.kind} exited early (rc {self.proc.returncode}); "
                               f"see {self.dir}/agent.out:\n{self.agent_output()}")

    def agent_output(self):
        try:
            with open(os.path.join(self.dir, "agent.out"), errors="replace") as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def wait_all(self, deadline=START_DEADLINE, poll=0.002):
        """Waits until all N programs run the program and N `success:` lines are logged.

        Returns (t_spawned, t_running), seconds since start()."""
        t_spawned = t_running = None
        self.t_first = None
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            self.check_alive()
            now = time.monotonic()
            if t_spawned is None:
                up = len(self.running_children())
                if up and self.t_first is None:
                    self.t_first = now - self.t_start
                if up >= self.n:
                    t_spawned = now - self.t_start
            if t_running is None:
                self.read_log()
                if self.success >= self.n:
                    t_running = now - self.t_start
            if t_spawned is not None and t_running is not None:
                return t_spawned, t_running
            time.sleep(poll)
        raise RuntimeError(f"{self.kind}: not all {self.n} programs up within {deadline}s "
                           f"(children {len(self.running_children())}, "
                           f"success lines {self.success})")

    # -- shutdown ------------------------------------------------------------------

    def stop(self):
        """SIGTERM, wait for exit; returns seconds to exit. Kills leftovers by pid."""
        if self.proc is None:
            return None
        self.running_children()  # record the current pids for the leftover check
        self.note_extra()
        t0 = time.monotonic()
        took = None
        if self.proc.poll() is None:
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.proc.wait(STOP_DEADLINE)
                took = time.monotonic() - t0
            except subprocess.TimeoutExpired:
                print(f"  ! {self.kind} did not exit {STOP_DEADLINE}s after SIGTERM; "
                      f"SIGKILL pid {self.pid}", file=sys.stderr)
                os.kill(self.pid, signal.SIGKILL)
                self.proc.wait()
        self.out.close()
        for pid in sorted(self.seen):
            if pid_alive(pid) and exe_of(pid) == self.prog_real:
                self.leftovers += 1
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        for pid in sorted(self.extra_seen):
            if pid_alive(pid) and exe_of(pid) in self.extra_reals:
                self.leftovers += 1
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        if self.leftovers:
            print(f"  ! {self.kind}: {self.leftovers} program(s) still alive after the agent "
                  f"exited; killed them by pid", file=sys.stderr)
        self.proc = None
        return took

    def cleanup(self):
        try:
            self.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


# --------------------------------------------------------------------------------------
# Scenarios


def alternate(agents, r):
    """Round r's order: zagent first on even rounds, supervisord first on odd ones."""
    return agents if r % 2 == 0 else list(reversed(agents))


def scenario_crash(agents, prog, rounds, kills, res):
    """Crash recovery: SIGKILL the RUNNING program, time until a new pid runs it."""
    for r in range(rounds):
        for kind, binary in alternate(agents, r):
            s = Session(kind, binary, prog, 1, 0, "crash")
            try:
                s.start()
                s.wait_all()
                time.sleep(0.5)
                m = smaps_rollup(s.pid)  # memory with 1 program RUNNING, before any kill
                res.setdefault(("rss", 1, kind), []).append(m["Rss"])
                res.setdefault(("pss", 1, kind), []).append(m["Pss"])
                for _ in range(kills):
                    time.sleep(0.2)  # settle: the agent is idle, the program RUNNING
                    old = s.running_children()
                    if len(old) != 1:
                        raise RuntimeError(f"{kind}: expected one program, got {old}")
                    old = old[0]
                    deadline = time.monotonic() + 10
                    t0 = time.monotonic()
                    os.kill(old, signal.SIGKILL)
                    new = None
                    while new is None:  # busy poll: one core polls, the other runs the agent
                        for k in children_of(s.pid):
                            if k != old and exe_of(k) == s.prog_real:
                                new = k
                                break
                        if time.monotonic() > deadline:
                            s.check_alive()
                            raise RuntimeError(f"{kind}: no new pid 10 s after SIGKILL")
                    dt = time.monotonic() - t0
                    s.seen.add(new)
                    s.exec_ok.add(new)
                    res.setdefault(("crash", kind), []).append(dt)
            finally:
                s.cleanup()
                res.setdefault(("leftovers", kind), []).append(s.leftovers)


def scenario_mass(agents, prog, ns, trials, res):
    """Mass start: N programs, startsecs=1; time to all exec'd and to N `success:` lines.

    Also records the agent's memory with N RUNNING and the time to stop all of them."""
    for n in ns:
        for r in range(trials):
            for kind, binary in alternate(agents, r):
                s = Session(kind, binary, prog, n, 1, "mass")
                try:
                    s.start()
                    t_sp, t_run = s.wait_all()
                    res.setdefault(("first", n, kind), []).append(s.t_first)
                    res.setdefault(("spawned", n, kind), []).append(t_sp)
                    res.setdefault(("running", n, kind), []).append(t_run)
                    time.sleep(0.5)
                    m = smaps_rollup(s.pid)
                    res.setdefault(("rss", n, kind), []).append(m["Rss"])
                    res.setdefault(("pss", n, kind), []).append(m["Pss"])
                    res.setdefault(("stop", n, kind), []).append(s.stop())
                finally:
                    s.cleanup()
                    res.setdefault(("leftovers", kind), []).append(s.leftovers)
                print(f"  mass N={n} {kind}: spawned {t_sp:.3f}s running {t_run:.3f}s",
                      file=sys.stderr)


def scenario_memory(agents, prog, ns, trials, res):
    for n in ns:
        for r in range(trials):
            for kind, binary in alternate(agents, r):
                s = Session(kind, binary, prog, n, 1, "memory")
                try:
                    s.start()
                    s.wait_all()
                    time.sleep(0.5)
                    m = smaps_rollup(s.pid)
                    res.setdefault(("rss", n, kind), []).append(m["Rss"])
                    res.setdefault(("pss", n, kind), []).append(m["Pss"])
                finally:
                    s.cleanup()
                    res.setdefault(("leftovers", kind), []).append(s.leftovers)


def build_c(tmp, name, source):
    """Compiles source into tmp/name; the path, or None without a working C compiler."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        return None
    src = os.path.join(tmp, f"{name}.c")
    exe = os.path.join(tmp, name)
    with open(src, "w") as f:
        f.write(source)
    r = subprocess.run([cc, "-O2", "-o", exe, src], capture_output=True)
    return exe if r.returncode == 0 else None


def build_runner(tmp):
    return build_c(tmp, "runner", RUNNER_C)


def timed_run(runner, argv):
    """Wall time of one run of argv, in seconds, and its exit status."""
    if runner:
        out = subprocess.run([runner] + argv, capture_output=True, text=True).stdout.split()
        return int(out[0]) / 1e6, int(out[1])
    t0 = time.perf_counter()
    rc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    return time.perf_counter() - t0, rc


def scenario_control(agents, ctls, prog, ns, runs, all_runs, runner, res):
    """Control latency: `CTL -c conf status NAME` (and `status` for all programs) against
    both agents, loaded with N programs, one run each in alternation."""
    for n in ns:
        sessions = []
        try:
            for kind, binary in agents:
                s = Session(kind, binary, prog, n, 1, "control")
                sessions.append(s)
                s.start()
            for s in sessions:
                s.wait_all()
            for r in range(runs):
                for s in alternate(sessions, r):
                    t, rc = timed_run(runner, ctls[s.kind] + ["-c", s.conf, "status", "p0000"])
                    if rc != 0:
                        raise RuntimeError(f"{s.kind}: status p0000 exited {rc}")
                    res.setdefault(("status1", n, s.kind), []).append(t)
            for r in range(all_runs):
                for s in alternate(sessions, r):
                    t, rc = timed_run(runner, ctls[s.kind] + ["-c", s.conf, "status"])
                    if rc != 0:
                        raise RuntimeError(f"{s.kind}: status exited {rc}")
                    res.setdefault(("status_all", n, s.kind), []).append(t)
            for s in sessions:
                print(f"  control N={n} {s.kind}: status NAME "
                      f"{med(res[('status1', n, s.kind)]) * 1000:.2f} ms, status "
                      f"{med(res[('status_all', n, s.kind)]) * 1000:.1f} ms", file=sys.stderr)
        finally:
            for s in sessions:
                s.cleanup()
                res.setdefault(("leftovers", s.kind), []).append(s.leftovers)


LOGS_DEADLINE = 120.0  # seconds for all N bytes of the writer to reach the log files
LOAD_CAP = 256 * 1024 * 1024  # `load`: a log bigger than this means the agent did not rotate
LOG_NAME = "writer.log"


def writer_conf(writer, n, backups):
    """The `[program:writer]` section ({dir} is the session's directory)."""
    return "\n".join([
        "[program:writer]",
        f"command = {writer[0]} {n} {{dir}}/writer.stamp",
        "autostart = false",
        "autorestart = false",
        "startsecs = 0",
        f"stdout_logfile = {{dir}}/{LOG_NAME}",
        "stdout_logfile_maxbytes = 10MB",
        f"stdout_logfile_backups = {backups}",
        "stderr_logfile = {dir}/writer.err",
        "",
    ])


def writer_chunks(n):
    """The bytes `writer n` writes (n > 0), in pieces, regenerated from WRITER_C's rules."""
    pad = "x" * (WRITER_LINE - 16)  # `line ` + 9 digits + ` ` + pad + `\n` = WRITER_LINE
    full, rem = divmod(n, WRITER_LINE)
    step = 100000
    for a in range(0, full, step):
        yield "".join(f"line {j % 10**9:09d} {pad}\n"
                      for j in range(a, min(full, a + step))).encode()
    if rem:
        yield (f"line {full % 10**9:09d} {pad}\n"[:rem - 1] + "\n").encode()


def expected_sha(n):
    h = hashlib.sha256()
    for chunk in writer_chunks(n):
        h.update(chunk)
    return h.hexdigest()


def log_sizes(d, base=LOG_NAME):
    """{name: size} of `base` and its `.N` backups in d (a file renamed meanwhile is skipped)."""
    out = {}
    with os.scandir(d) as it:
        for e in it:
            name = e.name
            if name == base or (name.startswith(base + ".") and name[len(base) + 1:].isdigit()):
                try:
                    out[name] = e.stat().st_size
                except OSError:
                    pass
    return out


def log_files(d, base=LOG_NAME):
    """`base.K` ... `base.1`, `base`: the log's files in d, oldest first."""
    names = log_sizes(d, base)
    backups = sorted((int(n[len(base) + 1:]) for n in names if n != base), reverse=True)
    out = [os.path.join(d, f"{base}.{i}") for i in backups]
    if base in names:
        out.append(os.path.join(d, base))
    return out


def verify_log(paths, n, sha):
    """(bytes identical to the writer's output, files not ending in a newline, files): the
    concatenation of paths (oldest first) against n bytes with sha256 `sha`."""
    h = hashlib.sha256()
    total = split = 0
    for path in paths:
        last = b""
        with open(path, "rb") as f:
            while True:
                b = f.read(1 << 22)
                if not b:
                    break
                h.update(b)
                total += len(b)
                last = b[-1:]
        if last and last != b"\n":
            split += 1
    return total == n and h.hexdigest() == sha, split, len(paths)


def wchar(pid):
    """Bytes pid has passed to write() so far (/proc/PID/io), or None."""
    try:
        with open(f"/proc/{pid}/io") as f:
            for line in f:
                if line.startswith("wchar:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def read_stamp(path):
    with open(path) as f:
        return float(f.read().strip())


def ctl_run(ctl, conf, *words, timeout=60):
    r = subprocess.run(ctl + ["-c", conf, *words], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=timeout)
    return r.returncode, (r.stdout + r.stderr).strip()


def logs_agent_trial(kind, binary, ctl, prog, writer, n, backups, sha, res):
    """One agent session: `CTL start writer`, poll the log files' sizes until they hold n
    bytes; returns (seconds from the writer's start stamp, identical, split, files)."""
    s = Session(kind, binary, prog, 0, 1, "logs",
                (writer_conf(writer, n, backups), (writer[1],)))
    try:
        s.start()
        s.wait_socket()
        # `start` may report an error if the writer is already done when the agent checks
        # (startsecs=0): the bytes decide, the output is shown only if they do not come.
        rc, out = ctl_run(ctl, s.conf, "start", "writer")
        s.note_extra()
        deadline = time.monotonic() + LOGS_DEADLINE
        while True:
            sizes = log_sizes(s.dir)
            now = time.monotonic()
            # Confirmed by a second scan: a scan during a rotation could count a file twice.
            if sum(sizes.values()) >= n and log_sizes(s.dir) == sizes:
                t_end = now
                break
            if now > deadline:
                s.check_alive()
                raise RuntimeError(f"{kind}: {sum(sizes.values())} of {n} bytes in the log "
                                   f"after {LOGS_DEADLINE}s; `start writer` rc {rc}: {out}")
            time.sleep(0.003)
        dt = t_end - read_stamp(os.path.join(s.dir, "writer.stamp"))
        ok, split, files = verify_log(log_files(s.dir), n, sha)
        return dt, ok, split, files
    finally:
        s.cleanup()  # removes the log files too
        res.setdefault(("leftovers", kind), []).append(s.leftovers)


def logs_baseline_trial(kind, writer, n, sha):
    """`writer | cat > file` (cat) or `writer > file` (direct), through sh -c; returns
    (seconds from the writer's start stamp to the end of the pipeline, identical, 0, 1)."""
    d = tempfile.mkdtemp(prefix="zb-b-", dir="/tmp")
    try:
        out = os.path.join(d, "out")
        stamp = os.path.join(d, "writer.stamp")
        w = f"{shlex.quote(writer[0])} {n} {shlex.quote(stamp)}"
        cmd = f"{w} | cat > {shlex.quote(out)}" if kind == "cat" else f"{w} > {shlex.quote(out)}"
        r = subprocess.run(["sh", "-c", cmd], stdin=subprocess.DEVNULL)
        t_end = time.monotonic()
        if r.returncode != 0:
            raise RuntimeError(f"`{cmd}` exited {r.returncode}")
        dt = t_end - read_stamp(stamp)
        return (dt,) + verify_log([out], n, sha)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def scenario_logs(agents, ctls, prog, writer, n, trials, res):
    """Log capture throughput: the writer's n bytes through each agent into a rotated
    `stdout_logfile` (10MB, enough backups to keep everything), and the two baselines."""
    free = shutil.disk_usage("/tmp").free
    if free < 3 * n:
        small = max(1 << 20, (free // 3) >> 20 << 20)
        print(f"  ! /tmp has {free / 2**30:.1f} GiB free, under 3 x {n / 2**20:g} MiB: "
              f"logs scenario scaled down to {small / 2**20:g} MiB", file=sys.stderr)
        n = small
    backups = 2 * (-(-n // LOG_MAXBYTES)) + 10  # twice the files needed: nothing is dropped
    res["logs_n"] = n
    t0 = time.monotonic()
    sha = expected_sha(n)
    print(f"  expected sha256 of {n} bytes: {sha[:16]}... ({time.monotonic() - t0:.1f} s)",
          file=sys.stderr)
    variants = [("zagent", None), ("cat", None), ("supervisord", None), ("direct", None)]
    binaries = dict(agents)
    for r in range(trials):
        for kind, _ in alternate(variants, r):
            if kind in binaries:
                dt, ok, split, files = logs_agent_trial(kind, binaries[kind], ctls[kind], prog,
                                                        writer, n, backups, sha, res)
            else:
                dt, ok, split, files = logs_baseline_trial(kind, writer, n, sha)
            mbps = n / dt / MB
            res.setdefault(("logs_mbps", kind), []).append(mbps)
            res.setdefault(("logs_ok", kind), []).append(ok)
            res.setdefault(("logs_split", kind), []).append(split)
            res.setdefault(("logs_files", kind), []).append(files)
            print(f"  logs {kind}: {n} bytes in {dt:.3f} s = {mbps:.0f} MB/s, identical "
                  f"{'yes' if ok else 'NO'}, {split} of {files} files not ending in '\\n'",
                  file=sys.stderr)
    return n


def scenario_load(agents, ctls, prog, writer, runs, runner, res):
    """`CTL status p0000` latency with the writer stopped, then while it writes forever
    (rotation at 10MB, 1 backup); one agent at a time."""
    for kind, binary in agents:
        s = Session(kind, binary, prog, 1, 1, "load", (writer_conf(writer, 0, 1), (writer[1],)))
        truncated = 0
        try:
            s.start()
            s.wait_all()
            s.wait_socket()
            time.sleep(0.5)
            argv = ctls[kind] + ["-c", s.conf, "status", "p0000"]

            def sample(key):
                t, rc = timed_run(runner, argv)
                if rc != 0:
                    raise RuntimeError(f"{kind}: status p0000 exited {rc}")
                res.setdefault((key, kind), []).append(t)

            for _ in range(runs):
                sample("load_idle")
            rc, out = ctl_run(ctls[kind], s.conf, "start", "writer")
            if rc != 0:
                raise RuntimeError(f"{kind}: `start writer` exited {rc}: {out}")
            s.note_extra()

            def guard():
                """An agent that does not rotate would fill the disk: cut its log to 0."""
                nonlocal truncated
                if sum(log_sizes(s.dir).values()) > LOAD_CAP:
                    os.truncate(os.path.join(s.dir, LOG_NAME), 0)
                    truncated += 1

            deadline = time.monotonic() + 30
            while True:  # until the writer has written 1 MiB (or the log rotated)
                sizes = log_sizes(s.dir)
                if sum(sizes.values()) >= 1 << 20 or len(sizes) > 1:
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{kind}: the writer's log did not grow in 30 s")
                time.sleep(0.01)
            time.sleep(0.2)
            wpids = [p for p in s.extra_seen if pid_alive(p)]
            w0, t0 = (wchar(wpids[0]) if len(wpids) == 1 else None), time.monotonic()
            for _ in range(runs):
                guard()
                sample("load_busy")
            w1, t1 = (wchar(wpids[0]) if len(wpids) == 1 else None), time.monotonic()
            if not any(pid_alive(p) and exe_of(p) == writer[1] for p in wpids):
                raise RuntimeError(f"{kind}: the writer was not running at the end")
            if w0 is not None and w1 is not None:
                # how fast the writer got its bytes out while `status` ran: the agent's pace
                res.setdefault(("load_wrate", kind), []).append((w1 - w0) / (t1 - t0) / MB)
            rc, out = ctl_run(ctls[kind], s.conf, "stop", "writer")
            if rc != 0:
                print(f"  ! {kind}: `stop writer` exited {rc}: {out}", file=sys.stderr)
            guard()
        finally:
            s.cleanup()
            res.setdefault(("leftovers", kind), []).append(s.leftovers)
        if truncated:
            print(f"  ! {kind}: the writer's log passed {LOAD_CAP >> 20} MiB (no rotation); "
                  f"the harness truncated it {truncated} time(s)", file=sys.stderr)
        res.setdefault(("load_truncated", kind), []).append(truncated)
        i, b = med(res[("load_idle", kind)]), med(res[("load_busy", kind)])
        rate = res.get(("load_wrate", kind), [None])[-1]
        print(f"  load {kind}: status p0000 idle {i * 1000:.2f} ms, writer spewing "
              f"{b * 1000:.2f} ms ({b / i:.2f}x); the writer wrote "
              f"{fmt(rate, 'MBps')} meanwhile", file=sys.stderr)


def parse_strace_c(path):
    """(total calls, {syscall: calls}) from an `strace -c` summary."""
    total, per = 0, {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) < 5 or not parts[0].replace(".", "").isdigit():
                continue
            calls = int(parts[3])
            if parts[-1] == "total":
                total = calls
            else:
                per[parts[-1]] = calls
    return total, per


def scenario_idle(agents, prog, n, secs, rounds, res, strace):
    """Idle cost with N RUNNING: CPU over `secs` untraced, then syscalls over `secs` traced."""
    for r in range(rounds):
        for kind, binary in alternate(agents, r):
            s = Session(kind, binary, prog, n, 1, "idle")
            try:
                s.start()
                s.wait_all()
                time.sleep(1.0)  # past every startsecs deadline: nothing left to happen
                m = smaps_rollup(s.pid)
                res.setdefault(("rss", n, kind), []).append(m["Rss"])
                res.setdefault(("pss", n, kind), []).append(m["Pss"])
                t0, n0 = cpu_ticks(s.pid), sched_ns(s.pid)
                time.sleep(secs)
                t1, n1 = cpu_ticks(s.pid), sched_ns(s.pid)
                hz = os.sysconf("SC_CLK_TCK")
                res.setdefault(("idle_ticks", kind), []).append((t1 - t0) * 1000.0 / hz)
                res.setdefault(("idle_sched", kind), []).append((n1 - n0) / 1e6)
                if strace:
                    out = os.path.join(s.dir, "strace.txt")
                    tr = subprocess.Popen(
                        [strace, "-f", "-c", "-o", out, "-p", str(s.pid)],
                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                        stderr=subprocess.PIPE)
                    time.sleep(secs)
                    tr.send_signal(signal.SIGINT)
                    try:
                        _, err = tr.communicate(timeout=20)
                    except subprocess.TimeoutExpired:
                        tr.kill()
                        _, err = tr.communicate()
                    if not os.path.exists(out):
                        raise RuntimeError(f"strace wrote no summary: {err.decode(errors='replace')}")
                    total, per = parse_strace_c(out)
                    res.setdefault(("idle_sys", kind), []).append(total)
                    res.setdefault(("idle_sys_per", kind), []).append(per)
            finally:
                s.cleanup()
                res.setdefault(("leftovers", kind), []).append(s.leftovers)


# --------------------------------------------------------------------------------------
# Report


def med(v):
    return statistics.median(v) if v else None


def p90(v):
    if not v:
        return None
    s = sorted(v)
    return s[max(0, -(-9 * len(s) // 10) - 1)]  # nearest rank


def fmt(v, unit):
    if v is None:
        return "n/a"
    if unit == "ms":
        return f"{v * 1000:.2f} ms" if v < 1 else f"{v * 1000:.0f} ms"
    if unit == "s":
        return f"{v:.3f} s"
    if unit == "MiB":
        return f"{v / 1024:.1f} MiB"
    if unit == "cpu_ms":
        return f"{v:.1f} ms"
    if unit == "n":
        return f"{v:g}"
    if unit == "MBps":
        return f"{v:.0f} MB/s" if v >= 100 else f"{v:.1f} MB/s"
    if unit == "x":
        return f"{v:.3f}"
    return str(v)


def div(a, b):
    return None if a is None or not b else a / b


def ratio(z, s):
    if z is None or s is None:
        return "n/a"
    if s == 0:
        return "—" if z == 0 else "∞"
    return f"{z / s:.3f}"


def sh(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"


def machine(args, prog_desc):
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    distro = "?"
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    distro = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    commit = sh(["git", "-C", REPO, "describe", "--always", "--dirty"])
    return [
        ("CPU", f"{cpu}, {os.cpu_count()} cores (online), load avg at start "
                f"{os.getloadavg()[0]:.2f}"),
        ("memory", mem),
        ("kernel", f"{platform.system()} {platform.release()} ({platform.machine()})"),
        ("distribution", distro),
        ("zagent", f"{sh([args.zagent, '--version'])} (`{args.zagent}`, commit {commit}, "
                   f"{build_type(args.zagent)} build)"),
        ("supervisord", f"{sh([args.supervisord, '--version'])} (`{args.supervisord}`, "
                        f"{sh(['/usr/bin/python3', '--version']) or 'Python ?'})"),
        ("strace", sh(["strace", "-V"]).splitlines()[0] if shutil.which("strace") else "missing"),
        ("harness", f"Python {platform.python_version()}, bench/run.py"),
        ("supervised program", prog_desc),
    ]


def build_table(res, cfg):
    rows = []
    Z, S = "zagent", "supervisord"

    def add(label, key_z, key_s, unit, stat=med, extra=""):
        z, s = stat(res.get(key_z, [])), stat(res.get(key_s, []))
        nz, ns = len(res.get(key_z, [])), len(res.get(key_s, []))
        rows.append((label, fmt(z, unit), fmt(s, unit), ratio(z, s), f"{nz}/{ns}{extra}"))

    for n in cfg["ctl_ns"]:
        add(f"`status NAME`, {n} program{'s' if n > 1 else ''} loaded", ("status1", n, Z),
            ("status1", n, S), "ms")
        add(f"`status` (all), {n} program{'s' if n > 1 else ''}", ("status_all", n, Z),
            ("status_all", n, S), "ms")
    add("crash recovery, median", ("crash", Z), ("crash", S), "ms")
    add("crash recovery, p90", ("crash", Z), ("crash", S), "ms", stat=p90)
    for n in cfg["mem_ns"]:
        add(f"agent RSS, {n} RUNNING", ("rss", n, Z), ("rss", n, S), "MiB")
        add(f"agent PSS, {n} RUNNING", ("pss", n, Z), ("pss", n, S), "MiB")
    secs = cfg["idle_secs"]
    n = cfg["idle_n"]
    add(f"idle syscalls in {secs:g} s, {n} RUNNING (strace -f -c)", ("idle_sys", Z),
        ("idle_sys", S), "n")
    add(f"idle CPU in {secs:g} s, {n} RUNNING (schedstat)", ("idle_sched", Z),
        ("idle_sched", S), "cpu_ms")
    add(f"idle CPU in {secs:g} s, {n} RUNNING (utime+stime)", ("idle_ticks", Z),
        ("idle_ticks", S), "cpu_ms")
    for n in cfg["mass_ns"]:
        add(f"mass start N={n}: first spawned", ("first", n, Z), ("first", n, S), "s")
        add(f"mass start N={n}: all spawned", ("spawned", n, Z), ("spawned", n, S), "s")
        add(f"mass start N={n}: all RUNNING", ("running", n, Z), ("running", n, S), "s")
        add(f"stop all N={n} (SIGTERM to exit)", ("stop", n, Z), ("stop", n, S), "s")
    if ("logs_mbps", Z) in res or ("logs_mbps", S) in res:
        size = f"{res['logs_n'] / 2**20:g} MiB"
        add(f"log capture, {size} to `stdout_logfile` (10MB rotation): MB/s, higher is "
            f"faster", ("logs_mbps", Z), ("logs_mbps", S), "MBps")
        z, s = med(res.get(("logs_mbps", Z), [])), med(res.get(("logs_mbps", S), []))
        cat = med(res.get(("logs_mbps", "cat"), []))
        nz, ns = len(res.get(("logs_mbps", Z), [])), len(res.get(("logs_mbps", S), []))
        rows.append(("log capture / `writer \\| cat > file` (MB/s over MB/s)",
                     fmt(div(z, cat), "x"), fmt(div(s, cat), "x"), ratio(z, s), f"{nz}/{ns}"))

        def identical(kind):
            v = res.get(("logs_ok", kind), [])
            return "n/a" if not v else ("yes" if all(v) else f"NO ({v.count(False)} trials)")

        def split(kind):
            v, f = res.get(("logs_split", kind), []), res.get(("logs_files", kind), [])
            return "n/a" if not v else f"{med(v):g} of {med(f):g}"

        rows.append(("log capture: bytes identical to the writer's, every trial",
                     identical(Z), identical(S), "", f"{nz}/{ns}"))
        rows.append(("log capture: files not ending in `\\n` (a line split), of all files",
                     split(Z), split(S), "", f"{nz}/{ns}"))
    if ("load_idle", Z) in res or ("load_idle", S) in res:
        add("`status p0000`, writer stopped", ("load_idle", Z), ("load_idle", S), "ms")
        add("`status p0000`, writer spewing (10MB rotation)", ("load_busy", Z),
            ("load_busy", S), "ms")
        zr = div(med(res.get(("load_busy", Z), [])), med(res.get(("load_idle", Z), [])))
        sr = div(med(res.get(("load_busy", S), [])), med(res.get(("load_idle", S), [])))
        rows.append(("`status p0000`: spewing / stopped", fmt(zr, "x"), fmt(sr, "x"),
                     ratio(zr, sr), f"{len(res.get(('load_busy', Z), []))}/"
                                    f"{len(res.get(('load_busy', S), []))}"))
        add("writer's pace while `status` ran (write() bytes, /proc/PID/io), MB/s",
            ("load_wrate", Z), ("load_wrate", S), "MBps")
    out = ["| measure | zagent | supervisord | ratio z/s | samples z/s |",
           "| --- | ---: | ---: | ---: | ---: |"]
    for r in rows:
        out.append("| " + " | ".join(r) + " |")
    return "\n".join(out)


def logs_baselines(res):
    """The two no-agent baselines of the logs scenario, one line."""
    if ("logs_mbps", "cat") not in res:
        return "n/a"
    parts = []
    for kind, label in (("cat", "`writer | cat > file`"), ("direct", "`writer > file`")):
        v = res.get(("logs_mbps", kind), [])
        ok = res.get(("logs_ok", kind), [])
        parts.append(f"{label} {fmt(med(v), 'MBps')} (bytes identical: "
                     f"{'yes' if ok and all(ok) else 'NO'}, {len(v)} trials)")
    return ", ".join(parts)


def top_syscalls(res, kind, k=6):
    pers = res.get(("idle_sys_per", kind), [])
    if not pers:
        return "n/a"
    per = pers[len(pers) // 2] if len(pers) % 2 else pers[0]
    items = sorted(per.items(), key=lambda kv: -kv[1])[:k]
    return ", ".join(f"{name} {calls}" for name, calls in items) or "none"


# --------------------------------------------------------------------------------------


def build_type(binary):
    """CMAKE_BUILD_TYPE of the build tree `binary` comes from ('unknown' if not found)."""
    d = os.path.dirname(os.path.abspath(binary))
    for _ in range(3):
        d = os.path.dirname(d)
        cache = os.path.join(d, "CMakeCache.txt")
        if os.path.isfile(cache):
            with open(cache) as f:
                for line in f:
                    if line.startswith("CMAKE_BUILD_TYPE:"):
                        return line.split("=", 1)[1].strip() or "unknown"
    return "unknown"


def build_prog(tmp):
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc:
        src = os.path.join(tmp, "idle.c")
        exe = os.path.join(tmp, "idle")
        with open(src, "w") as f:
            f.write(IDLE_C)
        for flags in (["-static"], []):
            r = subprocess.run([cc, "-O2", *flags, "-o", exe, src], capture_output=True)
            if r.returncode == 0:
                kind = "static" if flags else "dynamic"
                return ((exe, os.path.realpath(exe)),
                        f"a {kind} C program that loops on pause(), built by the harness")
    sleep = shutil.which("sleep") or "/bin/sleep"
    return ((f"{sleep} 1000000", os.path.realpath(sleep)),
            f"`{sleep} 1000000` (no C compiler found)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="tiny N, 3 trials, 2 s idle; prints the table, writes nothing")
    ap.add_argument("--zagent", default=os.path.join(REPO, "build/agent/zagent"))
    ap.add_argument("--zctl", default=os.path.join(REPO, "build/ctl/zctl"))
    ap.add_argument("--supervisord", default="/usr/bin/supervisord")
    ap.add_argument("--supervisorctl", default="/usr/bin/supervisorctl")
    ap.add_argument("--only", help="run only these scenarios (comma list: control, crash, "
                    "idle, mass, memory, logs, load); prints the table, writes nothing")
    ap.add_argument("--output", default=os.path.join(REPO, "docs/benchmarks.md"))
    args = ap.parse_args()

    if not (os.path.isfile(args.supervisord) and os.access(args.supervisord, os.X_OK)):
        die(f"supervisord not found at {args.supervisord}.\n"
            f"Install the peers with:  scripts/install-deps.sh --bench\n"
            f"(Debian package `supervisor`, 4.2.5 on Debian 12), or pass --supervisord PATH.")
    if not (os.path.isfile(args.zagent) and os.access(args.zagent, os.X_OK)):
        die(f"zagent not found at {args.zagent}; build it with `make build` "
            f"(or cmake --build build --target zagent), or pass --zagent PATH.")
    args.zagent = os.path.abspath(args.zagent)
    if build_type(args.zagent) not in ("Release", "RelWithDebInfo", "MinSizeRel"):
        print(f"! {args.zagent} is a {build_type(args.zagent)} build: its numbers are not "
              f"zagent's (make bench builds RelWithDebInfo)", file=sys.stderr)
    strace = shutil.which("strace")
    if not strace:
        print("! strace missing (scripts/install-deps.sh --bench): idle syscalls not counted",
              file=sys.stderr)

    if args.quick:
        cfg = dict(crash_rounds=1, crash_kills=3, mem_ns=[1, 20], mem_trials=1, idle_n=20,
                   idle_secs=2.0, idle_rounds=1, mass_ns=[20], mass_trials=1, ctl_ns=[1],
                   ctl_runs=5, ctl_all_runs=2, logs_n=32 << 20, logs_trials=1, load_runs=5)
    else:
        cfg = dict(crash_rounds=5, crash_kills=5, mem_ns=[1, 100, 1000], mem_trials=3,
                   idle_n=100, idle_secs=10.0, idle_rounds=2, mass_ns=[200, 1000],
                   mass_trials=3, ctl_ns=[1, 1000], ctl_runs=40, ctl_all_runs=5,
                   logs_n=1 << 30, logs_trials=5, load_runs=30)

    agents = [("zagent", args.zagent), ("supervisord", args.supervisord)]
    res = {}
    tmp = tempfile.mkdtemp(prefix="zb-bin-", dir="/tmp")
    t_begin = time.monotonic()
    try:
        prog, prog_desc = build_prog(tmp)
        runner = build_runner(tmp)
        wexe = build_c(tmp, "writer", WRITER_C)
        writer = (wexe, os.path.realpath(wexe)) if wexe else None
        info = machine(args, prog_desc)
        only = set(args.only.split(",")) if args.only else None
        known = {"control", "crash", "idle", "mass", "memory", "logs", "load"}
        if only and only - known:
            die(f"unknown scenario(s) for --only: {', '.join(sorted(only - known))} "
                f"(known: {', '.join(sorted(known))})")
        wanted = lambda name: only is None or name in only  # noqa: E731
        ctls = {"zagent": [os.path.abspath(args.zctl)],
                "supervisord": [args.supervisorctl]}
        if (wanted("logs") or wanted("load")) and not writer:
            print("! no C compiler: the logs and load scenarios are skipped", file=sys.stderr)
        if wanted("control"):
            print("control latency ...", file=sys.stderr)
            scenario_control(agents, ctls, prog, cfg["ctl_ns"], cfg["ctl_runs"],
                             cfg["ctl_all_runs"], runner, res)
        if wanted("crash"):
            print("crash recovery ...", file=sys.stderr)
            scenario_crash(agents, prog, cfg["crash_rounds"], cfg["crash_kills"], res)
        if wanted("idle"):
            print("idle cost ...", file=sys.stderr)
            scenario_idle(agents, prog, cfg["idle_n"], cfg["idle_secs"], cfg["idle_rounds"],
                          res, strace)
        if wanted("mass"):
            print("mass start ...", file=sys.stderr)
            scenario_mass(agents, prog, cfg["mass_ns"], cfg["mass_trials"], res)
        # Memory: N=1 comes from the crash sessions (before the first kill), N=idle_n from
        # the idle sessions, the mass-start N from mass start; any other N gets its own.
        missing = [n for n in cfg["mem_ns"] if ("rss", n, "zagent") not in res]
        if missing and wanted("memory"):
            print("memory ...", file=sys.stderr)
            scenario_memory(agents, prog, missing, cfg["mem_trials"], res)
        if wanted("logs") and writer:
            print("log capture throughput ...", file=sys.stderr)
            cfg["logs_n"] = scenario_logs(agents, ctls, prog, writer, cfg["logs_n"],
                                          cfg["logs_trials"], res)
        if wanted("load") and writer:
            print("control latency under log load ...", file=sys.stderr)
            scenario_load(agents, ctls, prog, writer, cfg["load_runs"], runner, res)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    elapsed = time.monotonic() - t_begin

    table = build_table(res, cfg)
    left_z = sum(res.get(("leftovers", "zagent"), []))
    left_s = sum(res.get(("leftovers", "supervisord"), []))
    crash_z = ", ".join(f"{v * 1000:.2f}" for v in res.get(("crash", "zagent"), []))
    crash_s = ", ".join(f"{v * 1000:.2f}" for v in res.get(("crash", "supervisord"), []))
    print(table)
    print(f"\nidle syscalls, zagent: {top_syscalls(res, 'zagent')}")
    print(f"idle syscalls, supervisord: {top_syscalls(res, 'supervisord')}")
    print(f"crash recovery samples (ms), zagent: {crash_z}")
    print(f"crash recovery samples (ms), supervisord: {crash_s}")
    print(f"log capture baselines (MB/s = 10^6 bytes/s): {logs_baselines(res)}")
    print(f"leftover programs after agent exit: zagent {left_z}, supervisord {left_s}")
    print(f"total {elapsed:.0f} s")
    if args.quick or args.only:
        return 0

    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    md = [
        "# Benchmarks: zagent and supervisord side by side",
        "",
        f"Generated by `python3 bench/run.py` (`make bench`) on {when}, in {elapsed:.0f} s. "
        "Both agents ran in the same run, alternating (zagent first on even rounds, "
        "supervisord first on odd ones), on the same generated config. The machine is "
        "shared, so absolute times are noisy: read the ratio (zagent / supervisord medians; "
        "below 1 means zagent is smaller or faster). bench/README.md explains each measure.",
        "",
        "## Machine",
        "",
        "| | |",
        "| --- | --- |",
    ]
    md += [f"| {k} | {v} |" for k, v in info]
    md += [
        "",
        "## Results",
        "",
        table,
        "",
        "Medians unless marked p90. `samples z/s`: how many samples each median was taken "
        "from. A ratio of `—` means both are 0. In the log-capture MB/s rows a higher "
        "number is faster, so there a ratio above 1 means zagent is faster.",
        "",
        "## Setup",
        "",
        f"- Config: one `[program:pNNNN]` section per program, `autostart=true`, "
        f"`autorestart=true`, `startsecs=0` (crash recovery) or `startsecs=1` (all else); "
        f"`stdout_logfile` and `stderr_logfile` are explicit files, one pair per program, in "
        f"both agents (each reads the child's pipes and writes the files itself). "
        f"`[supervisord] minfds=8192, minprocs=4096, logfile_maxbytes=0, "
        f"loglevel=info`. minfds is 8192, not 4096: supervisord holds about five descriptors "
        f"per program (three pipes, two log files), over 4096 at 1000 programs.",
        f"- Agents started as `AGENT -n -c bench.conf`, stdout to a file; stopped with SIGTERM.",
        f"- Control latency: `zctl -c bench.conf status p0000` against `supervisorctl -c "
        f"bench.conf status p0000` (and `status` for all), both agents loaded with N programs "
        f"at once, {cfg['ctl_runs']} runs each ({cfg['ctl_all_runs']} for `status`), "
        f"alternating one run at a time; each run is timed by a small C runner (fork, exec, "
        f"wait; output to /dev/null), so Python's own overhead is not counted.",
        f"- Crash recovery: {cfg['crash_rounds']} rounds x {cfg['crash_kills']} kills per agent "
        f"= {cfg['crash_rounds'] * cfg['crash_kills']} trials each.",
        f"- Memory (smaps_rollup, 0.5 s after the last program went RUNNING): at 1 program "
        f"the crash-recovery sessions before the first kill; at {cfg['idle_n']} the idle "
        f"sessions; at {max(cfg['mass_ns'])} the mass-start sessions.",
        f"- Idle: {cfg['idle_rounds']} sessions per agent; CPU over {cfg['idle_secs']:g} s "
        f"untraced, then syscalls over the next {cfg['idle_secs']:g} s under strace.",
        f"- Mass start: {cfg['mass_trials']} sessions per agent and N.",
        f"- Log capture: a C writer built by the harness writes {cfg['logs_n']} bytes "
        f"({cfg['logs_n'] / 2**20:g} MiB) of 100-byte text lines to stdout in 64 KiB "
        f"`write()` calls, as fast as it can, after writing its CLOCK_MONOTONIC start time "
        f"to a side file. Each agent runs it as `[program:writer]` (`autostart=false`, "
        f"`startsecs=0`, `autorestart=false`, `stdout_logfile_maxbytes=10MB`, enough "
        f"`stdout_logfile_backups` that nothing is dropped), started with `CTL start writer`; "
        f"the time runs from the writer's start to the first poll (every 3 ms) at which the "
        f"log file and its `.N` backups hold every byte. Then `writer.log.K ... writer.log.1, "
        f"writer.log` (oldest first) is compared by sha256 with the expected bytes "
        f"(regenerated in Python), and files not ending in `\\n` are counted (a line split "
        f"between two files). Baselines, no agent: `sh -c 'writer | cat > file'` and "
        f"`sh -c 'writer > file'`, timed from the writer's start to the end of the pipeline: "
        f"{logs_baselines(res)}. MB/s = 10^6 bytes per second (median over the trials of "
        f"bytes / seconds); {cfg['logs_trials']} trials per agent and baseline, alternating; "
        f"the files are removed after each trial.",
        f"- Control latency under log load: one agent at a time, with `p0000` (the pause() "
        f"program, RUNNING) and a `[program:writer]` that writes forever "
        f"(`stdout_logfile_maxbytes=10MB`, `stdout_logfile_backups=1`). "
        f"`CTL -c bench.conf status p0000` runs {cfg['load_runs']} times with the writer "
        f"stopped, then the writer is started with `CTL start writer` and, once its log has "
        f"grown by 1 MiB, {cfg['load_runs']} more runs; each run is timed by the same C "
        f"runner; the writer's pace is its write() bytes (`/proc/PID/io` wchar) over those "
        f"runs, per second (a writer blocked on a full pipe shows the agent's pace). The "
        f"writer is stopped with `CTL stop writer` before the agent. Should an "
        f"agent not rotate, the harness cuts the log to 0 bytes past {LOAD_CAP >> 20} MiB "
        f"(times: zagent {sum(res.get(('load_truncated', 'zagent'), []))}, supervisord "
        f"{sum(res.get(('load_truncated', 'supervisord'), []))}).",
        "",
        "Idle syscalls (one session, by count): ",
        "",
        f"- zagent: {top_syscalls(res, 'zagent')}",
        f"- supervisord: {top_syscalls(res, 'supervisord')}",
        "",
        "Crash recovery samples, ms:",
        "",
        f"- zagent: {crash_z}",
        f"- supervisord: {crash_s}",
        "",
        f"Programs still alive after their agent exited (killed by the harness): zagent "
        f"{left_z}, supervisord {left_s}.",
        "",
    ]
    with open(args.output, "w") as f:
        f.write("\n".join(md))
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
