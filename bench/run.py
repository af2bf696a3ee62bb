#!/usr/bin/env python3
"""Side-by-side benchmark: zagent against supervisord and s6, in one run, alternating.

zagent and supervisord run in the foreground (-n) on the SAME generated supervisord-format
config; s6 runs `s6-svscan SCANDIR` in the foreground on a generated scan directory with one
service directory per program. Every scenario runs in its own temp dir under /tmp (short
socket path) and cleans up after itself: only processes this script started are signalled,
always by pid.

  python3 bench/run.py            full mode: writes docs/benchmarks.md
  python3 bench/run.py --quick    a few seconds; checks the harness, prints the tables only

bench/README.md describes what each number means.
"""

import argparse
import concurrent.futures
import datetime
import glob
import hashlib
import os
import platform
import select
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import traceback

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

# The log writer: `writer N STAMPFILE [SIZE]` writes N bytes (0: forever) of 100-byte text
# lines `line %09d xxx...x\n` (the counter starts at 0; the last line is cut to fit N and
# still ends with '\n') to stdout in SIZE-byte write() calls (default 65536; the last write
# is the remainder), as fast as it can, then exits 0. The bytes are the same whatever SIZE:
# it accumulates lines and writes SIZE bytes at a time, so only the write() boundaries move
# (a multiple of 100, e.g. 65500, ends every write at a line end). Before its first byte it
# writes its CLOCK_MONOTONIC start time (`SEC.NSEC`) to STAMPFILE, so the harness can time
# from the writer's start to the last byte on disk. writer_chunks() below regenerates the
# same bytes in Python.
WRITER_C = r"""
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#define LINE 100
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
  long long size = argc > 3 ? atoll(argv[3]) : 65536;
  if (size < 1) return 2;
  char* buf = malloc((size_t)size + LINE);
  if (!buf) return 4;
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
    while (used >= (size_t)size) {
      put_all(buf, (size_t)size);
      memmove(buf, buf + size, used - (size_t)size);
      used -= (size_t)size;
    }
  }
  put_all(buf, used);
  return 0;
}
"""
# The floor: the same work as a supervisor with nothing else around it, so that each zagent
# figure can be read against the machine. `floor N STARTSECS LOGFILE PROG ARGS...` fork()s and
# execv()s PROG N times in a loop (no pipes, no log files, no config), appends one
# ` success: pNNNN` line to LOGFILE STARTSECS after each spawn (what the harness counts as
# RUNNING), then waits in waitpid() and respawns a child that died at once (crash recovery);
# SIGTERM: SIGTERM to every child, wait for all of them, exit 0.
FLOOR_C = r"""
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
static volatile sig_atomic_t term;
static void on_term(int s) { (void)s; term = 1; }
static char** prog;
static pid_t spawn(void) {
  pid_t p = fork();
  if (p == 0) {
    execv(prog[0], prog);
    _exit(127);
  }
  return p;
}
int main(int argc, char** argv) {
  if (argc < 5) return 2;
  int n = atoi(argv[1]);
  double startsecs = atof(argv[2]);
  prog = argv + 4;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_term;  /* no SA_RESTART: waitpid() and nanosleep() return EINTR */
  sigaction(SIGTERM, &sa, 0);
  pid_t* pids = calloc((size_t)n, sizeof *pids);
  struct timespec* at = calloc((size_t)n, sizeof *at);
  if (!pids || !at) return 4;
  for (int i = 0; i < n && !term; ++i) {
    pids[i] = spawn();
    clock_gettime(CLOCK_MONOTONIC, &at[i]);
  }
  int log = open(argv[3], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  for (int i = 0; i < n && !term; ++i) {
    struct timespec t = at[i];
    long long ns = t.tv_nsec + (long long)(startsecs * 1e9);
    t.tv_sec += ns / 1000000000;
    t.tv_nsec = ns % 1000000000;
    while (!term && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, 0) == EINTR) {
    }
    char line[64];
    int len = snprintf(line, sizeof line, "floor success: p%04d\n", i);
    if (log >= 0 && write(log, line, (size_t)len) < 0) return 3;
  }
  while (!term) {
    int st;
    pid_t p = waitpid(-1, &st, 0);
    if (p < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < n; ++i) {
      if (pids[i] == p) {
        pids[i] = term ? 0 : spawn();
        break;
      }
    }
  }
  for (int i = 0; i < n; ++i) {
    if (pids[i] > 0) kill(pids[i], SIGTERM);
  }
  while (waitpid(-1, 0, 0) > 0 || errno == EINTR) {
  }
  return 0;
}
"""
FLOOR = "floor"  # the floor's kind in the results: ("spawned", N, "floor") etc.
FLOOR_CTL = "/bin/true"  # the control rows' floor: one fork+exec+wait of a program that exits
WRITER_LINE = 100  # bytes per line of WRITER_C
WRITE_SIZE = 65536  # WRITER_C's default write() size: the pipe's size, the main table's row
# The logs scenario's write() sizes (--log-write-sizes): a page, just under the 64 KiB pipe
# and line-aligned (655 lines), the pipe's size, just over it, two pipes. --quick: two.
LOG_WRITE_SIZES = (4096, 65500, 65536, 65600, 131072)
LOG_WRITE_SIZES_QUICK = (65536, 65500)
LOG_MAXBYTES = 10 * 1024 * 1024  # `stdout_logfile_maxbytes = 10MB` (supervisord: MB = 2^20)
MB = 1e6  # throughput unit: MB/s = 10^6 bytes per second

# A CPU burner for the `load` scenario's machine baseline: spins until SIGKILL, no syscalls.
BURN_C = "int main(void){volatile unsigned long x = 0; for (;;) x++;}\n"
BURNERS = 2  # as many as this 2-core machine has cores

# The peers, in table order. zagent and supervisord read the same config and are driven by
# their CLIs; s6 is driven by its scan directory and its own tools (S6_TOOLS).
PEERS = ("zagent", "supervisord", "s6")
S6_TOOLS = ("s6-svscan", "s6-supervise", "s6-svstat", "s6-svc", "s6-svok", "s6-log")
S6_DEFAULT_MAX = 500  # s6-svscan 2.11 maintains at most 500 services unless told `-c N`
# Crash recovery: a program has lived at least this long before it is killed, for every peer.
# s6-supervise throttles a respawn to one per second; this keeps the kill outside that window.
CRASH_MIN_AGE = 1.1
INSTALL_HINT = "scripts/install-deps.sh --bench"


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


def proc_age(pid):
    """Seconds since pid started (/proc/PID/stat starttime against /proc/uptime, 10 ms)."""
    with open(f"/proc/{pid}/stat") as f:
        data = f.read()
    start = int(data[data.rindex(")") + 2:].split()[19])  # field 22 of proc(5)
    with open("/proc/uptime") as f:
        up = float(f.read().split()[0])
    return up - start / os.sysconf("SC_CLK_TCK")


def children1(pid):
    """Children of a single-threaded process (s6-svscan, s6-supervise): one read."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def pid_alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except OSError:
        return False
    state = data[data.rindex(")") + 2:].split()[0]
    return state != "Z"


# --------------------------------------------------------------------------------------
# Peers and sessions. A session is one supervisor run in its own temp dir: setup, process,
# conditions, control commands, shutdown, leftover check, cleanup. Session drives zagent and
# supervisord (a supervisord-format config and a CLI), S6Session drives s6 (a scan directory
# and the s6 tools); the scenarios use only the methods both have.


class Peer:
    """One peer: kind (a PEERS name), the supervisor binary, and how to talk to it: ctl (the
    CLI's argv, zagent and supervisord) or tools ({name: path} of S6_TOOLS, s6)."""

    def __init__(self, kind, binary, ctl=None, tools=None, supervisord_lines=(),
                 program_lines=()):
        self.kind = kind
        self.binary = binary
        self.ctl = ctl
        self.tools = tools
        self.supervisord_lines = tuple(supervisord_lines)  # extra [supervisord] keys
        self.program_lines = tuple(program_lines)  # extra keys of every [program:pNNNN]

    def session(self, prog, n, startsecs, scenario, writer=None):
        """writer: optional ((path, realpath) of the log writer, bytes to write (0: forever),
        rotated files to keep, write() size): the session also has the writer, stopped, with
        rotation."""
        if self.kind == "s6":
            return S6Session(self, prog, n, scenario, writer)
        return Session(self, prog, n, startsecs, scenario, writer)


# Where the sessions' directories (config, socket, the programs' empty log files) live: on
# tmpfs where there is one. On this VM's / (ext4 without a journal) creating a file skips
# every inode of its group deleted in the last 60 to 360 s (the kernel's recently_deleted()),
# and the harness itself deletes two log files per program after every session: a log file
# cost about 1 ms to create on /tmp against 15 us on tmpfs, which made mass start a measure
# of that scan for zagent and supervisord (s6's programs and the floor have no log files).
# The logs and load scenarios write GiBs: they stay on /tmp.
SESSION_TMPFS = "/dev/shm"
BIG_SCENARIOS = ("logs", "load")


def session_root(scenario):
    """The parent directory of a session of `scenario`: SESSION_TMPFS if it is a writable
    tmpfs directory and the scenario writes no big files, else /tmp."""
    if scenario in BIG_SCENARIOS or not os.access(SESSION_TMPFS, os.W_OK):
        return "/tmp"
    try:
        with open("/proc/self/mounts") as f:
            tmpfs = any(line.split()[1] == SESSION_TMPFS and line.split()[2] == "tmpfs"
                        for line in f if len(line.split()) > 2)
    except OSError:
        tmpfs = False
    return SESSION_TMPFS if tmpfs else "/tmp"


def write_script(path, line):
    with open(path, "w") as f:
        f.write(f"#!/bin/sh\n{line}\n")
    os.chmod(path, 0o755)


class SupervisorProcess:
    """What every peer's session shares: the supervisor runs in the foreground as a child of
    the harness, its output in OUT_NAME in the session's temp dir; it is stopped with SIGTERM
    (SIGKILL past STOP_DEADLINE) and the dir removed. Subclasses set OUT_NAME and label()."""

    OUT_NAME = "agent.out"

    def label(self):
        return self.kind

    def _spawn(self, argv):
        self.t_start = time.monotonic()
        self.out = open(os.path.join(self.dir, self.OUT_NAME), "wb")
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=self.out, stderr=subprocess.STDOUT,
            cwd=self.dir, start_new_session=True)
        self.pid = self.proc.pid

    def check_alive(self):
        if self.proc.poll() is not None:
            raise RuntimeError(f"{self.label()} exited early (rc {self.proc.returncode}); "
                               f"see {self.dir}/{self.OUT_NAME}:\n{self.agent_output()}")

    def agent_output(self):
        try:
            with open(os.path.join(self.dir, self.OUT_NAME), errors="replace") as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def _terminate(self):
        """SIGTERM, wait for exit (SIGKILL after STOP_DEADLINE); returns seconds to exit, or
        None when it had exited already or had to be killed."""
        t0 = time.monotonic()
        took = None
        if self.proc.poll() is None:
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.proc.wait(STOP_DEADLINE)
                took = time.monotonic() - t0
            except subprocess.TimeoutExpired:
                print(f"  ! {self.label()} did not exit {STOP_DEADLINE}s after SIGTERM; "
                      f"SIGKILL pid {self.pid}", file=sys.stderr)
                os.kill(self.pid, signal.SIGKILL)
                self.proc.wait()
        self.out.close()
        return took

    def cleanup(self):
        try:
            self.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


class Session(SupervisorProcess):
    def __init__(self, peer, prog, n, startsecs, scenario, writer=None):
        self.kind = peer.kind
        self.binary = peer.binary
        self.ctl = peer.ctl
        self.prog, self.prog_real = prog  # (command line, realpath of the exec'd file)
        self.n = n
        self.dir = tempfile.mkdtemp(prefix=f"zb-{self.kind[0]}-", dir=session_root(scenario))
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
        self.supervisord_lines = peer.supervisord_lines
        self.program_lines = peer.program_lines
        if writer:
            wprog, wn, backups, wsize = writer
            self.extra_conf = writer_conf(wprog, wn, backups, wsize)
            self.extra_reals = (wprog[1],)
        else:
            self.extra_conf, self.extra_reals = "", ()
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
            *self.supervisord_lines,
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
                *self.program_lines,
                "",
            ]
        with open(self.conf, "w") as f:
            f.write("\n".join(lines))
            if self.extra_conf:
                f.write("\n" + self.extra_conf.replace("{dir}", d))

    def start(self):
        self._spawn([self.binary, "-n", "-c", self.conf])

    # -- the interface the scenarios use ---------------------------------------------

    def tree_pids(self):
        """The supervisor's own processes (memory, idle): the agent, one process."""
        return [self.pid]

    def prog_parent(self):
        """The pid whose children are p0000's program (crash recovery)."""
        return self.pid

    def ready(self):
        """Ready for control commands: the control socket accepts a connection."""
        self.wait_socket()

    def status_argv(self, name=None):
        """`CTL status NAME`, or `CTL status` (all) when name is None."""
        return self.ctl + ["-c", self.conf, "status"] + ([name] if name else [])

    def writer_start(self):
        return ctl_run(self.ctl, self.conf, "start", "writer")

    def writer_stop(self):
        return ctl_run(self.ctl, self.conf, "stop", "writer")

    def log_sizes(self):
        return log_sizes(self.dir)

    def log_files(self):
        return log_files(self.dir)

    def log_current(self):
        return os.path.join(self.dir, LOG_NAME)

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
        took = self._terminate()
        self.leftovers += kill_left(self.seen, (self.prog_real,))
        self.leftovers += kill_left(self.extra_seen, self.extra_reals)
        if self.leftovers:
            print(f"  ! {self.kind}: {self.leftovers} program(s) still alive after the agent "
                  f"exited; killed them by pid", file=sys.stderr)
        self.proc = None
        return took


class FloorPeer:
    """The floor as a peer-like object for the scenarios that start a supervisor (mass start,
    crash recovery, memory, idle): FLOOR_C built by the harness. Not a peer: its figures are
    the Results table's floor column, never a competitor in the goals."""

    def __init__(self, binary):
        self.kind = FLOOR
        self.binary = binary
        self.ctl = None
        self.tools = None
        self.supervisord_lines = ()
        self.program_lines = ()

    def session(self, prog, n, startsecs, scenario, writer=None):
        return FloorSession(self, prog, n, startsecs, scenario)


class FloorSession(Session):
    """One run of FLOOR_C: the same observation as an agent's session (its children, its
    ` success:` lines in main.log, SIGTERM to exit), nothing to control."""

    def __init__(self, peer, prog, n, startsecs, scenario):
        super().__init__(peer, prog, n, startsecs, scenario)
        self.startsecs = startsecs

    def start(self):
        self._spawn([self.binary, str(self.n), str(self.startsecs), self.logfile,
                     *shlex.split(self.prog)])

    def ready(self):
        pass

    def status_argv(self, name=None):
        return None


def with_floor(peers, floor):
    """The peers and, when FLOOR_C was built, the floor: one more session per round."""
    return list(peers) + ([floor] if floor else [])


def kill_left(pids, reals):
    """SIGKILLs every pid in pids still alive and running one of reals; returns how many."""
    n = 0
    for pid in sorted(pids):
        if pid_alive(pid) and exe_of(pid) in reals:
            n += 1
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    return n


def s6_log_sizes(d):
    """{name: size} of s6-log's `current` and its rotated `@<tai64n>.s` (or `.u`) files."""
    out = {}
    try:
        with os.scandir(d) as it:
            for e in it:
                name = e.name
                if name == "current" or (name.startswith("@") and name[-2:] in (".s", ".u")):
                    try:
                        out[name] = e.stat().st_size
                    except OSError:
                        pass
    except OSError:
        pass
    return out


class S6Session(SupervisorProcess):
    """s6: SCANDIR with one service dir per program (`run` is a symlink to the program, so
    s6-supervise execs it directly, no shell), `s6-svscan SCANDIR` in the foreground.

    The writer (if any) is SCANDIR/writer: a `down` file (not started with the scan), `run`
    = `exec writer N STAMP [SIZE]`, and a `log/` subservice running
    `s6-log nK s10485760 LOGDIR`."""

    OUT_NAME = "s6.out"

    def label(self):
        return "s6-svscan"

    def __init__(self, peer, prog, n, scenario, writer=None):
        self.kind = peer.kind
        self.binary = peer.binary
        self.tools = peer.tools
        self.prog, self.prog_real = prog
        self.n = n
        self.scenario = scenario
        self.dir = tempfile.mkdtemp(prefix="zb-6-", dir=session_root(scenario))
        self.scan = os.path.join(self.dir, "scan")
        self.scan_real = os.path.realpath(self.dir) + "/scan"
        self.logdir = os.path.join(self.dir, "logs")
        self.names = [f"p{i:04d}" for i in range(n)]
        self.seen = set()  # program pids seen: cleanup candidates
        self.exec_ok = set()
        self.sups = set()  # every s6-supervise pid seen (children of s6-svscan)
        self.sup_name = {}  # s6-supervise pid -> its service dir, relative to SCANDIR
        self.prog_of = {}  # s6-supervise pid -> the program pid found under it (wait_all)
        self.loggers = set()  # s6-log pids seen
        self.writer = writer
        self.extra_reals = (writer[0][1],) if writer else ()
        self.extra_seen = set()
        self.proc = None
        self.leftovers = 0
        self._write_scandir()

    def _write_scandir(self):
        os.makedirs(self.scan)
        argv = shlex.split(self.prog)
        for name in self.names:
            d = os.path.join(self.scan, name)
            os.mkdir(d)
            if len(argv) == 1:
                os.symlink(argv[0], os.path.join(d, "run"))
            else:
                write_script(os.path.join(d, "run"), f"exec {self.prog}")
        if self.writer:
            wprog, wn, backups, wsize = self.writer
            d = os.path.join(self.scan, "writer")
            os.makedirs(os.path.join(d, "log"))
            open(os.path.join(d, "down"), "w").close()
            stamp = os.path.join(self.dir, "writer.stamp")
            write_script(os.path.join(d, "run"), "exec " + writer_cmd(wprog, wn, stamp, wsize))
            os.mkdir(self.logdir)
            write_script(os.path.join(d, "log", "run"),
                         f"exec {shlex.quote(self.tools['s6-log'])} n{backups} "
                         f"s{LOG_MAXBYTES} {shlex.quote(self.logdir)}")

    def start(self):
        count = len(self.names) + (1 if self.writer else 0)
        argv = [self.binary] + (["-c", str(count)] if count > S6_DEFAULT_MAX else [])
        self._spawn(argv + [self.scan])

    # -- the interface the scenarios use ---------------------------------------------

    def supervisors(self):
        kids = children1(self.pid)
        self.sups.update(kids)
        return kids

    def tree_pids(self):
        """s6-svscan and every s6-supervise (not the programs, not s6-log)."""
        return [self.pid] + self.supervisors()

    def sup_of(self, name):
        """The s6-supervise pid of service `name` (from its cwd), or None."""
        for k in self.supervisors():
            if k not in self.sup_name:
                try:
                    cwd = os.readlink(f"/proc/{k}/cwd")
                except OSError:
                    continue
                if not cwd.startswith(self.scan_real + "/"):
                    continue  # forked by s6-svscan, not yet in its service dir
                self.sup_name[k] = cwd[len(self.scan_real) + 1:]
            if self.sup_name[k] == name:
                return k
        return None

    def prog_parent(self):
        pid = self.sup_of("p0000")
        if pid is None:
            raise RuntimeError("s6: no s6-supervise process for p0000")
        return pid

    def ready(self, deadline=30.0):
        """Ready for control commands: `s6-svok` says the service's s6-supervise runs."""
        svc = os.path.join(self.scan, "writer" if self.writer else "p0000")
        end = time.monotonic() + deadline
        while True:
            self.check_alive()
            if subprocess.run([self.tools["s6-svok"], svc], stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                              ).returncode == 0:
                return
            if time.monotonic() > end:
                raise RuntimeError(f"s6: no s6-supervise on {svc} within {deadline}s")
            time.sleep(0.01)

    def status_argv(self, name=None):
        """`s6-svstat SCANDIR/NAME`; None for `status` (all): s6 has no such command."""
        return [self.tools["s6-svstat"], os.path.join(self.scan, name)] if name else None

    def _svc(self, flag):
        r = subprocess.run([self.tools["s6-svc"], flag, os.path.join(self.scan, "writer")],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=60)
        return r.returncode, (r.stdout + r.stderr).strip()

    def writer_start(self):
        # -o (once), not -u: -u would respawn the writer each time it exits, as
        # autorestart=true would; `CTL start writer` with autorestart=false runs it once.
        return self._svc("-o")

    def writer_stop(self):
        return self._svc("-d")

    def log_sizes(self):
        return s6_log_sizes(self.logdir)

    def log_files(self):
        """The rotated files (their names sort by TAI64N stamp: oldest first), `current`."""
        names = s6_log_sizes(self.logdir)
        out = [os.path.join(self.logdir, n) for n in sorted(n for n in names if n[0] == "@")]
        if "current" in names:
            out.append(os.path.join(self.logdir, "current"))
        return out

    def log_current(self):
        return os.path.join(self.logdir, "current")

    # -- observation ---------------------------------------------------------------

    def running_children(self):
        out = []
        for sup in self.supervisors():
            for k in children1(sup):
                if k in self.exec_ok:
                    out.append(k)
                elif exe_of(k) == self.prog_real:
                    self.exec_ok.add(k)
                    self.seen.add(k)
                    out.append(k)
        return out

    def note_extra(self):
        """Records the writer's pid and the s6-log pid (children of s6-supervise)."""
        for sup in self.supervisors():
            for k in children1(sup):
                if k in self.exec_ok or k in self.extra_seen or k in self.loggers:
                    continue
                e = exe_of(k)
                if e in self.extra_reals:
                    self.extra_seen.add(k)
                elif e and os.path.basename(e) == "s6-log":
                    self.loggers.add(k)

    def wait_all(self, deadline=START_DEADLINE, poll=0.002):
        """Waits until all N programs run (one child of each s6-supervise has exec'd it).
        s6 has no startsecs: returns (t_spawned, None), seconds since start()."""
        self.t_first = None
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            self.check_alive()
            now = time.monotonic()
            for sup in self.supervisors():
                if sup in self.prog_of:
                    continue
                for k in children1(sup):
                    if exe_of(k) == self.prog_real:
                        self.prog_of[sup] = k
                        self.seen.add(k)
                        self.exec_ok.add(k)
                        break
            up = len(self.prog_of)
            if up and self.t_first is None:
                self.t_first = now - self.t_start
            if up >= self.n:
                return now - self.t_start, None
            time.sleep(poll)
        raise RuntimeError(f"s6: not all {self.n} programs up within {deadline}s "
                           f"({len(self.prog_of)} found)")

    # -- shutdown ------------------------------------------------------------------

    def stop(self):
        """SIGTERM to s6-svscan (it brings every service down, lets the loggers drain, and
        waits for the whole tree), wait for its exit; returns seconds to exit. Kills any
        s6-supervise, s6-log or program still alive afterwards by pid, and counts them."""
        if self.proc is None:
            return None
        self.running_children()
        self.note_extra()
        took = self._terminate()
        strays = []
        for pid in sorted(self.sups | self.loggers):
            if pid_alive(pid) and os.path.basename(exe_of(pid) or "") in ("s6-supervise",
                                                                          "s6-log"):
                for k in children_of(pid):
                    e = exe_of(k)
                    if e == self.prog_real:
                        self.seen.add(k)
                    elif e in self.extra_reals:
                        self.extra_seen.add(k)
                strays.append(pid)
        for pid in strays:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        progs = kill_left(self.seen, (self.prog_real,)) + kill_left(self.extra_seen,
                                                                    self.extra_reals)
        self.leftovers += progs + len(strays)
        if self.leftovers:
            print(f"  ! s6: {progs} program(s) and {len(strays)} s6-supervise/s6-log "
                  f"process(es) still alive after s6-svscan exited; killed them by pid",
                  file=sys.stderr)
        self.proc = None
        return took


# --------------------------------------------------------------------------------------
# Scenarios


def alternate(items, r):
    """Round r's order: the list rotated by r, so each peer goes first in turn (with two
    peers: zagent first on even rounds, the other first on odd ones)."""
    k = r % len(items) if items else 0
    return list(items[k:]) + list(items[:k])


def record_mem(s, n, res):
    """RSS and PSS (kB) of the supervisor's own processes, summed (the programs excluded)."""
    rss = pss = 0
    for pid in s.tree_pids():
        m = smaps_rollup(pid)
        rss += m["Rss"]
        pss += m["Pss"]
    res.setdefault(("rss", n, s.kind), []).append(rss)
    res.setdefault(("pss", n, s.kind), []).append(pss)


def scenario_crash(peers, prog, rounds, kills, settle, res, floor=None):
    """Crash recovery: SIGKILL the RUNNING program, time until a new pid runs it. Every
    program has lived CRASH_MIN_AGE seconds (and the peer has idled 0.2 s) before its kill.
    zagent runs twice per round: as configured (crash attribution, records and snapshots on)
    and with crash_attribution = false, recorded as ("crash_off", "zagent")."""
    variants = []
    for peer in peers:
        variants.append((peer, "crash"))
        if peer.kind == "zagent":
            variants.append((Peer(peer.kind, peer.binary, ctl=peer.ctl,
                                  supervisord_lines=("crash_attribution = false",)),
                             "crash_off"))
    if floor:
        variants.append((floor, "crash"))
    for r in range(rounds):
        for peer, key in alternate(variants, r):
            kind = peer.kind
            s = peer.session(prog, 1, 0, "crash")
            try:
                s.start()
                s.wait_all()
                time.sleep(settle)
                record_mem(s, 1, res)  # memory with 1 program RUNNING, before any kill
                for _ in range(kills):
                    time.sleep(0.2)  # settle: the agent is idle, the program RUNNING
                    old = s.running_children()
                    if len(old) != 1:
                        raise RuntimeError(f"{kind}: expected one program, got {old}")
                    old = old[0]
                    age = proc_age(old)  # and old enough
                    if age < CRASH_MIN_AGE:
                        time.sleep(CRASH_MIN_AGE - age)
                    parent = s.prog_parent()
                    deadline = time.monotonic() + 10
                    t0 = time.monotonic()
                    os.kill(old, signal.SIGKILL)
                    new = None
                    while new is None:  # busy poll: one core polls, the other runs the agent
                        for k in children_of(parent):
                            if k != old and exe_of(k) == s.prog_real:
                                new = k
                                break
                        if time.monotonic() > deadline:
                            s.check_alive()
                            raise RuntimeError(f"{kind}: no new pid 10 s after SIGKILL")
                    dt = time.monotonic() - t0
                    s.seen.add(new)
                    s.exec_ok.add(new)
                    res.setdefault((key, kind), []).append(dt)
            finally:
                s.cleanup()
                res.setdefault(("leftovers", kind), []).append(s.leftovers)


def scenario_mass(peers, prog, ns, trials, startsecs, settle, res, floor=None):
    """Mass start: N programs; time to all exec'd and to N `success:` lines (not s6: it has
    no startsecs). Also records the supervisor's memory with N RUNNING and the time to stop
    all of them."""
    for n in ns:
        for r in range(trials):
            for peer in alternate(with_floor(peers, floor), r):
                kind = peer.kind
                s = peer.session(prog, n, startsecs, "mass")
                try:
                    s.start()
                    t_sp, t_run = s.wait_all()
                    res.setdefault(("first", n, kind), []).append(s.t_first)
                    res.setdefault(("spawned", n, kind), []).append(t_sp)
                    if t_run is not None:
                        res.setdefault(("running", n, kind), []).append(t_run)
                    time.sleep(settle)
                    record_mem(s, n, res)
                    res.setdefault(("stop", n, kind), []).append(s.stop())
                finally:
                    s.cleanup()
                    res.setdefault(("leftovers", kind), []).append(s.leftovers)
                print(f"  mass N={n} {kind}: spawned {t_sp:.3f}s running "
                      f"{fmt(t_run, 's')}", file=sys.stderr)


def scenario_memory(peers, prog, ns, trials, startsecs, settle, res, floor=None):
    for n in ns:
        for r in range(trials):
            for peer in alternate(with_floor(peers, floor), r):
                s = peer.session(prog, n, startsecs, "memory")
                try:
                    s.start()
                    s.wait_all()
                    time.sleep(settle)
                    record_mem(s, n, res)
                finally:
                    s.cleanup()
                    res.setdefault(("leftovers", peer.kind), []).append(s.leftovers)


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


def control_floor(runner, key, res):
    """One run of the control rows' floor (FLOOR_CTL: fork, exec, wait, nothing asked of
    anyone), timed by the same runner in the same round as the peers' commands."""
    t, rc = timed_run(runner, [FLOOR_CTL])
    if rc != 0:
        raise RuntimeError(f"{FLOOR_CTL} exited {rc}")
    res.setdefault(key, []).append(t)


def scenario_control(peers, prog, ns, runs, all_runs, runner, startsecs, res):
    """Control latency: `CTL -c conf status NAME` (and `status` for all programs), and
    `s6-svstat SCANDIR/NAME`, every peer loaded with N programs, one run each in turn."""
    for n in ns:
        sessions = []
        try:
            for peer in peers:
                s = peer.session(prog, n, startsecs, "control")
                sessions.append(s)
                s.start()
            for s in sessions:
                s.wait_all()
            for r in range(runs):
                for s in alternate(sessions, r):
                    t, rc = timed_run(runner, s.status_argv("p0000"))
                    if rc != 0:
                        raise RuntimeError(f"{s.kind}: status p0000 exited {rc}")
                    res.setdefault(("status1", n, s.kind), []).append(t)
                control_floor(runner, ("status1", n, FLOOR), res)
            with_all = [s for s in sessions if s.status_argv() is not None]
            for r in range(all_runs):
                for s in alternate(with_all, r):
                    t, rc = timed_run(runner, s.status_argv())
                    if rc != 0:
                        raise RuntimeError(f"{s.kind}: status exited {rc}")
                    res.setdefault(("status_all", n, s.kind), []).append(t)
                control_floor(runner, ("status_all", n, FLOOR), res)
            for s in sessions:
                print(f"  control N={n} {s.kind}: status NAME "
                      f"{fmt(med(res.get(('status1', n, s.kind), [])), 'ms')}, status "
                      f"{fmt(med(res.get(('status_all', n, s.kind), [])), 'ms')}",
                      file=sys.stderr)
        finally:
            for s in sessions:
                s.cleanup()
                res.setdefault(("leftovers", s.kind), []).append(s.leftovers)


LOGS_DEADLINE = 120.0  # seconds for all N bytes of the writer to reach the log files
LOAD_CAP = 256 * 1024 * 1024  # `load`: a log bigger than this means the agent did not rotate
LOG_NAME = "writer.log"


def size_arg(size):
    """The writer's optional SIZE argument: none for the default, so the 64 KiB command line
    is the one it always was."""
    return f" {size}" if size != WRITE_SIZE else ""


def writer_cmd(writer, n, stamp, size=WRITE_SIZE):
    """`writer N STAMP [SIZE]` for a shell."""
    return f"{shlex.quote(writer[0])} {n} {shlex.quote(stamp)}{size_arg(size)}"


def writer_conf(writer, n, backups, size=WRITE_SIZE):
    """The `[program:writer]` section ({dir} is the session's directory)."""
    return "\n".join([
        "[program:writer]",
        f"command = {writer[0]} {n} {{dir}}/writer.stamp{size_arg(size)}",
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


def wait_writer_exit(s, n, deadline):
    """Finds the writer among the session's processes (polling every ms, for 0.2 s at most:
    it is there when `CTL start` returns, unless it is done already), then blocks until it
    exits or `deadline` passes. A writer already gone (its n bytes logged) is not waited for."""
    find_end = min(deadline, time.monotonic() + 0.2)
    while not s.extra_seen and time.monotonic() < find_end:
        s.note_extra()
        if not s.extra_seen:
            if sum(s.log_sizes().values()) >= n:
                return
            time.sleep(0.001)
    for pid in list(s.extra_seen):
        try:
            fd = os.pidfd_open(pid)
        except OSError:
            continue  # already reaped
        try:
            poller = select.poll()
            poller.register(fd, select.POLLIN)
            poller.poll(max(0.0, deadline - time.monotonic()) * 1000)
        finally:
            os.close(fd)


def logs_agent_trial(peer, prog, writer, n, backups, sha, res, size=WRITE_SIZE):
    """One peer session: start the writer (`CTL start writer`, `s6-svc -o`; `size`-byte
    write() calls), poll the log files' sizes until they hold n bytes; returns (seconds from
    the writer's start stamp, identical, split, files)."""
    s = peer.session(prog, 0, 1, "logs", (writer, n, backups, size))
    try:
        s.start()
        s.ready()
        # `start` may report an error if the writer is already done when the agent checks
        # (startsecs=0): the bytes decide, the output is shown only if they do not come.
        rc, out = s.writer_start()
        deadline = time.monotonic() + LOGS_DEADLINE
        # Sleep on the writer's exit (a pidfd), then poll the sizes: polling all along would
        # take CPU from the writer and the peer on a 2-core machine, which the baselines
        # (timed by waiting for the pipeline) are not charged.
        wait_writer_exit(s, n, deadline)
        while True:
            sizes = s.log_sizes()
            now = time.monotonic()
            # Confirmed by a second scan: a scan during a rotation could count a file twice.
            if sum(sizes.values()) >= n and s.log_sizes() == sizes:
                t_end = now
                break
            if now > deadline:
                s.check_alive()
                raise RuntimeError(f"{peer.kind}: {sum(sizes.values())} of {n} bytes in the "
                                   f"log after {LOGS_DEADLINE}s; starting the writer: rc "
                                   f"{rc}: {out}")
            time.sleep(0.003)
        dt = t_end - read_stamp(os.path.join(s.dir, "writer.stamp"))
        ok, split, files = verify_log(s.log_files(), n, sha)
        return dt, ok, split, files
    finally:
        s.cleanup()  # removes the log files too
        res.setdefault(("leftovers", peer.kind), []).append(s.leftovers)


def logs_baseline_trial(kind, writer, n, sha, size=WRITE_SIZE):
    """`writer | cat > file` (cat) or `writer > file` (direct), through sh -c, the writer
    making `size`-byte write() calls; returns (seconds from the writer's start stamp to the
    end of the pipeline, identical, 0, 1)."""
    d = tempfile.mkdtemp(prefix="zb-b-", dir="/tmp")
    try:
        out = os.path.join(d, "out")
        stamp = os.path.join(d, "writer.stamp")
        w = writer_cmd(writer, n, stamp, size)
        cmd = f"{w} | cat > {shlex.quote(out)}" if kind == "cat" else f"{w} > {shlex.quote(out)}"
        r = subprocess.run(["sh", "-c", cmd], stdin=subprocess.DEVNULL)
        t_end = time.monotonic()
        if r.returncode != 0:
            raise RuntimeError(f"`{cmd}` exited {r.returncode}")
        dt = t_end - read_stamp(stamp)
        return (dt,) + verify_log([out], n, sha)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def logs_key(name, size, kind):
    """The result key of a logs measure (`logs_mbps`, `logs_ok`, `logs_split`,
    `logs_files`) at one write() size: the 64 KiB writes keep the keys they always had (the
    Results table and the goals read them), every other size has its own."""
    return (name, kind) if size == WRITE_SIZE else (name, size, kind)


def scenario_logs(peers, prog, writer, n, trials, sizes, res):
    """Log capture throughput: the writer's n bytes through each peer into rotated files
    (10MB, enough backups to keep everything), and the two baselines, once per write() size
    in `sizes` and trial (the same bytes at every size: one expected sha256)."""
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
    by_kind = {p.kind: p for p in peers}
    variants = [k for k in ("zagent", "cat", "supervisord", "direct", "s6")
                if k in by_kind or k in ("cat", "direct")]
    res["logs_sizes"] = list(sizes)
    for r in range(trials):
        # Each round: every size (their order rotates too), every variant in the round's order.
        for size in alternate(sizes, r):
            for kind in alternate(variants, r):
                if kind in by_kind:
                    dt, ok, split, files = logs_agent_trial(by_kind[kind], prog, writer, n,
                                                            backups, sha, res, size)
                else:
                    dt, ok, split, files = logs_baseline_trial(kind, writer, n, sha, size)
                mbps = n / dt / MB
                res.setdefault(logs_key("logs_mbps", size, kind), []).append(mbps)
                res.setdefault(logs_key("logs_ok", size, kind), []).append(ok)
                res.setdefault(logs_key("logs_split", size, kind), []).append(split)
                res.setdefault(logs_key("logs_files", size, kind), []).append(files)
                print(f"  logs {kind}, {size}-byte writes: {n} bytes in {dt:.3f} s = "
                      f"{mbps:.0f} MB/s, identical {'yes' if ok else 'NO'}, {split} of {files} "
                      f"files not ending in '\\n'", file=sys.stderr)
    return n


def start_burners(burn, k=BURNERS):
    """k CPU burners (children of the harness, their own session); a list of Popen."""
    argv = [burn] if burn else [sys.executable, "-c", "while 1: pass"]
    return [subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
            for _ in range(k)]


def stop_burners(procs):
    for p in procs:
        if p.poll() is None:
            os.kill(p.pid, signal.SIGKILL)
        p.wait()


def scenario_load(peers, prog, writer, burn, runs, runner, startsecs, settle, res):
    """`status p0000` latency (`CTL status p0000`, `s6-svstat SCANDIR/p0000`) with the
    writer stopped, then with BURNERS CPU burners and no writer (the machine's floor, no
    supervisor work), then while the writer writes forever (rotation at 10MB, 1 backup);
    one peer at a time."""
    for peer in peers:
        kind = peer.kind
        s = peer.session(prog, 1, startsecs, "load", (writer, 0, 1, WRITE_SIZE))
        truncated = 0
        burners = []
        try:
            s.start()
            s.wait_all()
            s.ready()
            time.sleep(settle)
            argv = s.status_argv("p0000")

            def sample(key):
                t, rc = timed_run(runner, argv)
                if rc != 0:
                    raise RuntimeError(f"{kind}: status p0000 exited {rc}")
                res.setdefault((key, kind), []).append(t)
                if kind == "zagent":  # the floor under zagent's conditions, interleaved
                    control_floor(runner, (key, FLOOR), res)

            for _ in range(runs):
                sample("load_idle")
            burners = start_burners(burn)
            time.sleep(settle)  # both spinning
            for _ in range(runs):
                sample("load_burn")
            stop_burners(burners)
            burners = []
            time.sleep(0.1)
            rc, out = s.writer_start()
            if rc != 0:
                raise RuntimeError(f"{kind}: starting the writer exited {rc}: {out}")
            s.note_extra()

            def guard():
                """An agent that does not rotate would fill the disk: cut its log to 0."""
                nonlocal truncated
                if sum(s.log_sizes().values()) > LOAD_CAP:
                    os.truncate(s.log_current(), 0)
                    truncated += 1

            deadline = time.monotonic() + 30
            while True:  # until the writer has written 1 MiB (or the log rotated)
                sizes = s.log_sizes()
                if sum(sizes.values()) >= 1 << 20 or len(sizes) > 1:
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{kind}: the writer's log did not grow in 30 s")
                time.sleep(0.01)
            time.sleep(0.2)
            s.note_extra()
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
            rc, out = s.writer_stop()
            if rc != 0:
                print(f"  ! {kind}: stopping the writer exited {rc}: {out}", file=sys.stderr)
            guard()
        finally:
            stop_burners(burners)
            s.cleanup()
            res.setdefault(("leftovers", kind), []).append(s.leftovers)
        if truncated:
            print(f"  ! {kind}: the writer's log passed {LOAD_CAP >> 20} MiB (no rotation); "
                  f"the harness truncated it {truncated} time(s)", file=sys.stderr)
        res.setdefault(("load_truncated", kind), []).append(truncated)
        i, b = med(res[("load_idle", kind)]), med(res[("load_busy", kind)])
        c = med(res[("load_burn", kind)])
        rate = res.get(("load_wrate", kind), [None])[-1]
        print(f"  load {kind}: status p0000 idle {i * 1000:.2f} ms, {BURNERS} CPU burners "
              f"{c * 1000:.2f} ms ({c / i:.2f}x), writer spewing {b * 1000:.2f} ms "
              f"({b / i:.2f}x); the writer wrote {fmt(rate, 'MBps')} meanwhile",
              file=sys.stderr)


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


def measure_quiet(s, secs, strace, strace_secs=None):
    """What the supervisor's own processes (s6: s6-svscan and every s6-supervise) cost while
    nothing happens: (CPU ms by utime+stime, CPU ms by schedstat) over `secs` untraced, then
    (syscalls, {syscall: calls}) over the next `secs` under `strace -f -c` ((None, None)
    without strace). Two windows: ptrace stops inflate the CPU time of a traced process."""
    pids = s.tree_pids()
    t0 = sum(cpu_ticks(p) for p in pids)
    n0 = sum(sched_ns(p) for p in pids)
    time.sleep(secs)
    t1 = sum(cpu_ticks(p) for p in pids)
    n1 = sum(sched_ns(p) for p in pids)
    hz = os.sysconf("SC_CLK_TCK")
    ticks_ms, sched_ms = (t1 - t0) * 1000.0 / hz, (n1 - n0) / 1e6
    if not strace:
        return ticks_ms, sched_ms, None, None
    out = os.path.join(s.dir, "strace.txt")
    attach = [a for p in pids for a in ("-p", str(p))]
    tr = subprocess.Popen(
        [strace, "-f", "-c", "-o", out] + attach,
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE)
    time.sleep(secs if strace_secs is None else strace_secs)
    tr.send_signal(signal.SIGINT)
    try:
        _, err = tr.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        tr.kill()
        _, err = tr.communicate()
    if not os.path.exists(out):
        raise RuntimeError(f"strace wrote no summary: {err.decode(errors='replace')}")
    total, per = parse_strace_c(out)
    return ticks_ms, sched_ms, total, per


def scenario_idle(peers, prog, n, secs, rounds, startsecs, settle, res, strace, floor=None):
    """Idle cost with N RUNNING: CPU over `secs` untraced, then syscalls over `secs` traced,
    summed over the supervisor's own processes (s6: s6-svscan and every s6-supervise)."""
    # zagent without its sampling (sample_interval = 0): the rows below are about an agent
    # that has nothing to do; the guard scenario measures the default, sampling every 10 s.
    quiet = [Peer(p.kind, p.binary, ctl=p.ctl, tools=p.tools,
                  supervisord_lines=p.supervisord_lines + ("sample_interval = 0",),
                  program_lines=p.program_lines) if p.kind == "zagent" else p for p in peers]
    quiet = with_floor(quiet, floor)
    for r in range(rounds):
        for peer in alternate(quiet, r):
            kind = peer.kind
            s = peer.session(prog, n, startsecs, "idle")
            try:
                s.start()
                s.wait_all()
                time.sleep(settle)  # past every startsecs deadline: nothing left to happen
                record_mem(s, n, res)
                ticks, sched, total, per = measure_quiet(s, secs, strace)
                res.setdefault(("idle_ticks", kind), []).append(ticks)
                res.setdefault(("idle_sched", kind), []).append(sched)
                if strace:
                    res.setdefault(("idle_sys", kind), []).append(total)
                    res.setdefault(("idle_sys_per", kind), []).append(per)
            finally:
                s.cleanup()
                res.setdefault(("leftovers", kind), []).append(s.leftovers)


# The guard scenario: the agent samples every program's process tree each sample_interval
# seconds (default 10) and restarts a program whose tree RSS is over its memory_limit.
GUARD_DEFAULT_INTERVAL = 10  # [supervisord] sample_interval when the config says nothing
GUARD_LIMIT_MIB = 64  # `memory_limit = 64MB` (supervisord sizes: MB = 2^20 bytes)
# The leaking program: tests/helpers/leak_memory starts at 8 MiB, grows by 20 MiB/s, prints
# `over NS` when its RSS reaches the limit and `sigterm NS` when SIGTERM comes (both
# CLOCK_MONOTONIC). --max caps it should no guard ever stop it.
GUARD_LEAK_ARGS = f"--rate 20 --start 8 --report-over {GUARD_LIMIT_MIB} --max 256"
GUARD_STARTSECS = 1
GUARD_PER = 10.0  # the guard rows are per 10 s of wall time
GUARD_SLOW = 5  # sample_interval from which fewer trips are timed (guard_rounds_slow)
# The sampler relists /proc and rereads every stat line every 6th pass (SystemTreeSampler::
# kFullEvery): the CPU window covers that cycle, 60 s at the default interval, after the first
# pass (which also reads every PSS) is over; syscalls are counted over GUARD_STRACE_SECS.
GUARD_CYCLE = 6
GUARD_STRACE_SECS = 20.0


def leak_lives(path):
    """(latencies in seconds, trips before `over`) from leak_memory's stdout log: each life
    starts with `ready`; a life with `over A` then `sigterm B` is one latency B - A, one
    with `sigterm` but no `over` was stopped before its own RSS read the limit."""
    try:
        with open(path, errors="replace") as f:
            lines = f.read().split("\n")
    except OSError:
        return [], 0
    lats, early, over = [], 0, None
    for line in lines:
        words = line.split()
        if len(words) == 1 and words[0] == "ready":
            over = None
        elif len(words) == 2 and words[0] == "over" and words[1].isdigit():
            over = int(words[1])
        elif len(words) == 2 and words[0] == "sigterm" and words[1].isdigit():
            if over is None:
                early += 1
            else:
                lats.append((int(words[1]) - over) / 1e9)
            over = None
    return lats, early


def tail_lines(path, k):
    try:
        with open(path, errors="replace") as f:
            return "\n".join(f.read().splitlines()[-k:])
    except OSError as e:
        return f"({e})"


def count_in_file(path, needle):
    """Lines of path that hold needle, less zagent's `unknown key` warnings."""
    try:
        with open(path, errors="replace") as f:
            return sum(needle in line and "unknown key" not in line for line in f)
    except OSError:
        return 0


def require_keys(s, keys):
    """Raises if the agent's main log says it ignored one of `keys` (zagent warns `unknown
    key 'K' in [...] is ignored` and runs on): that build has no resource sampling."""
    try:
        with open(s.logfile, errors="replace") as f:
            text = f.read()
    except OSError:
        return
    ignored = [k for k in keys if f"unknown key '{k}'" in text]
    if ignored:
        raise RuntimeError(f"{s.kind} ignores {', '.join(ignored)} (unknown key, says its "
                           f"main log): this build has no resource sampling")


def guard_trips(peer, leak, interval, rounds, res):
    """One zagent session with one leaking program (`memory_limit = 64MB`, sample_interval
    = `interval`, nothing written for the default): waits for `rounds` trips, each a life
    of the program that reached the limit and got SIGTERM (it is restarted after each)."""
    lines = () if interval == GUARD_DEFAULT_INTERVAL else (f"sample_interval = {interval}",)
    p = Peer(peer.kind, peer.binary, ctl=peer.ctl, supervisord_lines=lines,
             program_lines=(f"memory_limit = {GUARD_LIMIT_MIB}MB",))
    cmd = f"{shlex.quote(leak)} {GUARD_LEAK_ARGS}"
    s = p.session((cmd, os.path.realpath(leak)), 1, GUARD_STARTSECS, "guard")
    out = os.path.join(s.dir, "logs", f"{s.names[0]}.out")
    # Per trip: the climb from 8 to 64 MiB (2.8 s), one interval, a restart; and a margin.
    per_round = (GUARD_LIMIT_MIB - 8) / 20 + interval + 10
    try:
        s.start()
        s.wait_all()
        require_keys(s, ["memory_limit"] + (["sample_interval"] if lines else []))
        end = time.monotonic() + rounds * per_round
        while True:
            s.check_alive()
            s.running_children()  # every pid of the program: cleanup candidates
            lats, early = leak_lives(out)
            if len(lats) + early >= rounds:
                break
            if time.monotonic() > end:
                raise RuntimeError(
                    f"zagent: {len(lats) + early} of {rounds} memory_limit trips within "
                    f"{rounds * per_round:.0f} s (sample_interval {interval}, memory_limit "
                    f"{GUARD_LIMIT_MIB}MB); {out} ends:\n{tail_lines(out, 6)}")
            time.sleep(0.05)
        trips = count_in_file(s.logfile, "memory_limit")
        res.setdefault(("guard_lat", interval, p.kind), []).extend(lats)
        res.setdefault(("guard_early", interval, p.kind), []).append(early)
        res.setdefault(("guard_trips", interval, p.kind), []).append(trips)
        print(f"  guard trips, sample_interval {interval}: "
              f"{', '.join(f'{v * 1000:.0f}' for v in lats)} ms from `over` to SIGTERM"
              + (f", {early} stopped before `over`" if early else "")
              + f"; {trips} `memory_limit` line(s) in the main log", file=sys.stderr)
    finally:
        s.cleanup()
        res.setdefault(("leftovers", p.kind), []).append(s.leftovers)


def scenario_guard(peers, prog, leak, ns, window, off_n, off_secs, intervals, rounds,
                   rounds_slow, startsecs, settle, res, strace):
    """Resource sampling: (a) with N programs RUNNING, zagent sampling at the default
    interval (nothing written) against supervisord idle (it samples nothing): CPU over
    `window` untraced, then syscalls over `window` traced, each per 10 s; (b) zagent with
    sample_interval = 0 and no guard, off_n programs: its idle cost over off_secs; (c) the
    latency of a memory_limit trip (guard_trips) at each of `intervals`, `rounds` each
    (`rounds_slow` at intervals of GUARD_SLOW s and more: each trip waits up to an interval).
    s6 samples nothing either and is not run."""
    pair = [p for p in peers if p.kind in ("zagent", "supervisord")]
    per = GUARD_PER / window
    strace_secs = min(window, GUARD_STRACE_SECS)
    sys_scale = GUARD_PER / strace_secs
    for i, n in enumerate(ns):
        for peer in alternate(pair, i):
            kind = peer.kind
            s = peer.session(prog, n, startsecs, "guard")
            try:
                started = time.monotonic()
                s.start()
                s.wait_all()
                # Past the first sample (the only one that reads everything at once).
                first = GUARD_DEFAULT_INTERVAL + 1 if window >= GUARD_DEFAULT_INTERVAL else 0
                time.sleep(max(settle, first - (time.monotonic() - started)))
                ticks, sched, total, sys_per = measure_quiet(s, window, strace, strace_secs)
                res.setdefault(("guard_ticks", n, kind), []).append(ticks * per)
                res.setdefault(("guard_sched", n, kind), []).append(sched * per)
                if strace:
                    res.setdefault(("guard_sys", n, kind), []).append(total * sys_scale)
                    res.setdefault(("guard_sys_per", n, kind), []).append(sys_per)
            finally:
                s.cleanup()
                res.setdefault(("leftovers", kind), []).append(s.leftovers)
            print(f"  guard N={n} {kind}: CPU {sched * per:.1f} ms per 10 s (schedstat), "
                  f"{fmt(total * sys_scale if strace else None, 'n')} syscalls per 10 s",
                  file=sys.stderr)
    zagent = next(p for p in peers if p.kind == "zagent")
    off = Peer(zagent.kind, zagent.binary, ctl=zagent.ctl,
               supervisord_lines=("sample_interval = 0",))
    s = off.session(prog, off_n, startsecs, "guard")
    try:
        s.start()
        s.wait_all()
        require_keys(s, ["sample_interval"])
        time.sleep(settle)
        ticks, sched, total, _ = measure_quiet(s, off_secs, strace)
        per = GUARD_PER / off_secs
        res.setdefault(("guard_off_ticks", "zagent"), []).append(ticks * per)
        res.setdefault(("guard_off_sched", "zagent"), []).append(sched * per)
        if strace:
            res.setdefault(("guard_off_sys", "zagent"), []).append(total * per)
    finally:
        s.cleanup()
        res.setdefault(("leftovers", "zagent"), []).append(s.leftovers)
    if leak:
        for interval in intervals:
            guard_trips(zagent, leak, interval,
                        rounds_slow if interval >= GUARD_SLOW else rounds, res)


# --------------------------------------------------------------------------------------
# Report


def med(v):
    return statistics.median(v) if v else None


def p90(v):
    if not v:
        return None
    s = sorted(v)
    return s[max(0, -(-9 * len(s) // 10) - 1)]  # nearest rank


def vmax(v):
    return max(v) if v else None


def fmt(v, unit):
    if v is None:
        return "n/a"
    if unit == "ms":
        return f"{v * 1000:.2f} ms" if v < 1 else f"{v * 1000:.0f} ms"
    if unit == "s":
        return f"{v:.3f} s"
    if unit == "MiB":
        return f"{v / 1024:.1f} MiB"
    if unit == "MB":  # v in kB (smaps), shown in 10^6 bytes
        return f"{v * 1024 / 1e6:.2f} MB"
    if unit == "cpu_ms":
        return f"{v:.1f} ms"
    if unit == "n":
        return f"{v:g}"
    if unit == "MBps":
        return f"{v:.0f} MB/s" if v >= 100 else f"{v:.1f} MB/s"
    if unit == "x":
        return f"{v:.3f}"
    if unit == "times":
        return f"{v:.0f}x" if v >= 10 else f"{v:.2f}x"
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


def machine(args, prog_desc, peers):
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
    kinds = {p.kind: p for p in peers}
    if "supervisord" in kinds:
        sup = (f"{sh([args.supervisord, '--version'])} (`{args.supervisord}`, "
               f"{sh(['/usr/bin/python3', '--version']) or 'Python ?'})")
    else:
        sup = f"not installed (`{args.supervisord}`): not measured"
    if "s6" in kinds:
        ver = sh(["dpkg-query", "-W", "-f=${Version}", "s6"]) if shutil.which("dpkg-query") \
            else ""
        s6 = (f"{ver or 'version unknown'} (Debian package `s6`; "
              f"`{kinds['s6'].binary}`)")
    else:
        s6 = f"not installed (`{args.s6_bindir}/s6-svscan`): not measured"
    return [
        ("CPU", f"{cpu}, {os.cpu_count()} cores (online), load avg at start "
                f"{os.getloadavg()[0]:.2f}"),
        ("memory", mem),
        ("kernel", f"{platform.system()} {platform.release()} ({platform.machine()})"),
        ("distribution", distro),
        ("zagent", f"{sh([args.zagent, '--version'])} (`{args.zagent}`, commit {commit}, "
                   f"{build_type(args.zagent)} build)"),
        ("supervisord", sup),
        ("s6", s6),
        ("strace", sh(["strace", "-V"]).splitlines()[0] if shutil.which("strace") else "missing"),
        ("harness", f"Python {platform.python_version()}, bench/run.py"),
        ("supervised program", prog_desc),
    ]


def build_table(res, cfg, floors=None):
    """The Results table. `floors`, when given, receives (label, zagent / floor) for every
    row that has both (the closing note lists those far above their floor)."""
    rows = []

    def add(label, keyf, unit, stat=med, floor=FLOOR):
        """keyf(kind) -> the result key of that peer (n/a where a peer has no samples);
        keyf(floor) -> the key of the row's floor (FLOOR, or "cat" for log capture)."""
        kinds = PEERS + (floor,)
        vals = [stat(res.get(keyf(k), [])) for k in kinds]
        counts = [len(res.get(keyf(k), [])) for k in kinds]
        add_values(label, vals[:3], unit, counts, vals[3])

    def add_values(label, vals, unit, counts, floor=None):
        """vals, counts: zagent, supervisord, s6 (and the floor's count)."""
        counts = list(counts) + [0] * (4 - len(counts))
        rows.append((label, *[fmt(v, unit) for v in vals],
                     fmt(floor, unit) if floor is not None else "—",
                     ratio(vals[0], vals[1]), ratio(vals[0], vals[2]),
                     ratio(vals[0], floor) if floor is not None else "—",
                     "/".join(map(str, counts))))
        if floors is not None and floor and vals[0] is not None:
            floors.append((label, vals[0] / floor, unit))

    for n in cfg["ctl_ns"]:
        pl = f"{n} program{'s' if n > 1 else ''}"
        add(f"`status NAME`, {pl} loaded (s6: `s6-svstat`)", lambda k: ("status1", n, k), "ms")
        add(f"`status` (all), {pl}", lambda k: ("status_all", n, k), "ms")
    add("crash recovery, median", lambda k: ("crash", k), "ms")
    add("crash recovery, p90", lambda k: ("crash", k), "ms", stat=p90)
    add("crash recovery, median, zagent with crash_attribution = false",
        lambda k: ("crash_off", k), "ms")
    for n in cfg["mem_ns"]:
        add(f"agent RSS, {n} RUNNING", lambda k: ("rss", n, k), "MiB")
        add(f"agent PSS, {n} RUNNING", lambda k: ("pss", n, k), "MiB")
    secs = cfg["idle_secs"]
    n = cfg["idle_n"]
    quiet = "zagent sample_interval=0"
    add(f"idle syscalls in {secs:g} s, {n} RUNNING, {quiet} (strace -f -c)",
        lambda k: ("idle_sys", k), "n")
    add(f"idle CPU in {secs:g} s, {n} RUNNING, {quiet} (schedstat)",
        lambda k: ("idle_sched", k), "cpu_ms")
    add(f"idle CPU in {secs:g} s, {n} RUNNING, {quiet} (utime+stime)",
        lambda k: ("idle_ticks", k), "cpu_ms")
    if any(key[0].startswith("guard_") for key in res if isinstance(key, tuple)):
        for n in cfg["guard_ns"]:
            add(f"sampling cost, CPU per 10 s, {n} RUNNING (schedstat; zagent "
                f"sample_interval={GUARD_DEFAULT_INTERVAL}, the default; supervisord idle)",
                lambda k: ("guard_sched", n, k), "cpu_ms")
            add(f"sampling cost, CPU per 10 s, {n} RUNNING (utime+stime)",
                lambda k: ("guard_ticks", n, k), "cpu_ms")
            add(f"sampling cost, syscalls per 10 s, {n} RUNNING (strace -f -c)",
                lambda k: ("guard_sys", n, k), "n")
        n = cfg["guard_off_n"]
        add_values(f"idle syscalls per 10 s, {n} RUNNING, zagent sample_interval=0 "
                   f"(supervisord: the sampling-cost row)",
                   [med(res.get(("guard_off_sys", "zagent"), [])),
                    med(res.get(("guard_sys", n, "supervisord"), [])), None], "n",
                   [len(res.get(("guard_off_sys", "zagent"), [])),
                    len(res.get(("guard_sys", n, "supervisord"), [])), 0])
        for iv in cfg["guard_intervals"]:
            v = res.get(("guard_lat", iv, "zagent"), [])
            for stat, name in ((med, "median"), (vmax, "max")):
                # no peer has a memory guard: `—`, not a missing measure
                rows.append((f"memory_limit trip, `over {GUARD_LIMIT_MIB} MiB` to SIGTERM, "
                             f"sample_interval={iv}: {name}", fmt(stat(v), "ms"), "—", "—",
                             "—", "n/a", "n/a", "—", f"{len(v)}/0/0/0"))
    for n in cfg["mass_ns"]:
        add(f"mass start N={n}: first spawned", lambda k: ("first", n, k), "s")
        add(f"mass start N={n}: all spawned", lambda k: ("spawned", n, k), "s")
        add(f"mass start N={n}: all RUNNING", lambda k: ("running", n, k), "s")
        add(f"stop all N={n} (SIGTERM to exit)", lambda k: ("stop", n, k), "s")
    if any(("logs_mbps", k) in res for k in PEERS):
        size = f"{res['logs_n'] / 2**20:g} MiB"
        add(f"log capture, {size} to `stdout_logfile` (s6: `s6-log`; 10MB rotation): MB/s, "
            f"higher is faster (floor: `writer \\| cat > file`)", lambda k: ("logs_mbps", k),
            "MBps", floor="cat")
        cat = med(res.get(("logs_mbps", "cat"), []))
        counts = [len(res.get(("logs_mbps", k), [])) for k in PEERS]
        add_values("log capture / `writer \\| cat > file` (MB/s over MB/s)",
                   [div(med(res.get(("logs_mbps", k), [])), cat) for k in PEERS], "x", counts)

        def identical(kind):
            v = res.get(("logs_ok", kind), [])
            return "n/a" if not v else ("yes" if all(v) else f"NO ({v.count(False)} trials)")

        def split(kind):
            v, f = res.get(("logs_split", kind), []), res.get(("logs_files", kind), [])
            return "n/a" if not v else f"{med(v):g} of {med(f):g}"

        c = "/".join(map(str, counts + [len(res.get(("logs_mbps", "cat"), []))]))
        rows.append(("log capture: bytes identical to the writer's, every trial",
                     *[identical(k) for k in PEERS], identical("cat"), "", "", "", c))
        rows.append(("log capture: files not ending in `\\n` (a line split), of all files",
                     *[split(k) for k in PEERS], split("cat"), "", "", "", c))
    if any(("load_idle", k) in res for k in PEERS):
        add("`status p0000`, writer stopped", lambda k: ("load_idle", k), "ms")
        add(f"`status p0000`, {BURNERS} CPU burners, no log work", lambda k: ("load_burn", k),
            "ms")
        add("`status p0000`, writer spewing (10MB rotation)", lambda k: ("load_busy", k), "ms")
        add_values("`status p0000`: spewing / stopped",
                   [div(med(res.get(("load_busy", k), [])), med(res.get(("load_idle", k), [])))
                    for k in PEERS], "x",
                   [len(res.get(("load_busy", k), [])) for k in PEERS + (FLOOR,)],
                   div(med(res.get(("load_busy", FLOOR), [])),
                       med(res.get(("load_idle", FLOOR), []))))
        add("writer's pace while `status` ran (write() bytes, /proc/PID/io), MB/s",
            lambda k: ("load_wrate", k), "MBps")
    out = ["| measure | zagent | supervisord | s6 | floor | ratio z/supervisord | ratio z/s6 | "
           "ratio z/floor | samples z/sd/s6/floor |",
           "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        out.append("| " + " | ".join(r) + " |")
    return "\n".join(out)


LOG_VARIANTS = PEERS + ("cat", "direct")  # the columns of the write-size table


def size_label(size):
    """`65500 (line-aligned, under the pipe)`: a write() size and how it sits against the
    100-byte lines and the 64 KiB pipe."""
    notes = []
    if size % 1024 == 0:
        notes.append(f"{size >> 10} KiB")
    if size % WRITER_LINE == 0:
        notes.append("line-aligned")
    notes.append("the pipe's size, the Results row" if size == WRITE_SIZE else
                 "under the pipe" if size < WRITE_SIZE else "over the pipe")
    return f"{size} ({', '.join(notes)})"


def logs_sizes_table(res, cfg):
    """Log capture by write size: one row per write() size, the median MB/s (min-max) of
    every peer and baseline, each one's ratio to supervisord; None when logs did not run."""
    sizes = res.get("logs_sizes", [])
    if not any(logs_key("logs_mbps", z, k) in res for z in sizes for k in LOG_VARIANTS):
        return None
    others = [k for k in LOG_VARIANTS if k != "supervisord"]
    label = {"cat": "`writer \\| cat`", "direct": "`writer > file`"}
    out = ["| write() size, bytes | " + " | ".join(label.get(k, k) for k in LOG_VARIANTS) +
           " | " + " | ".join(f"{k} / supervisord" for k in others) +
           " | bytes identical | trials z/sd/s6/cat/direct |",
           "| --- | " + "---: | " * (len(LOG_VARIANTS) + len(others)) + "--- | ---: |"]
    for size in sorted(sizes):
        v = {k: res.get(logs_key("logs_mbps", size, k), []) for k in LOG_VARIANTS}
        cells = []
        for k in LOG_VARIANTS:
            c = fmt(med(v[k]), "MBps")
            if len(v[k]) > 1:
                c += f" ({min(v[k]):.0f}–{max(v[k]):.0f})"
            cells.append(c)
        sd = med(v["supervisord"])
        cells += [ratio(med(v[k]), sd) for k in others]
        ok = [x for k in LOG_VARIANTS for x in res.get(logs_key("logs_ok", size, k), [])]
        cells.append("n/a" if not ok else "yes" if all(ok) else
                     f"NO ({ok.count(False)} trials)")
        cells.append("/".join(str(len(v[k])) for k in LOG_VARIANTS))
        out.append(f"| {size_label(size)} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def goals_table(res, cfg):
    """One row per goal: zagent's value, the best peer's, met / not met, and zagent against
    every peer measured on the same measure."""
    Z = "zagent"
    others = [k for k in PEERS if k != Z]
    rows = []

    def row(goal, z, vals, met, unit, lower=True, note=""):
        """vals: {peer: value or None}; lower: a lower value is better."""
        have = {k: v for k, v in vals.items() if v is not None}
        if have:
            k = (min if lower else max)(have, key=have.get)
            best = f"{k}: {fmt(have[k], unit)}"
        else:
            best = "n/a"
        parts, verdict = [], "yes"
        for k, v in have.items():
            if z is None:
                break
            if z == v:
                parts.append(f"level with {k} ({fmt(v, unit)})")
                verdict = "level" if verdict == "yes" else verdict
            elif (z < v) == lower:
                parts.append(f"ahead of {k} ({fmt(v, unit)})")
            else:
                parts.append(f"behind {k} ({fmt(v, unit)})")
                verdict = "no"
        vs = "n/a (no peer value)" if not parts else f"{verdict}: " + ", ".join(parts)
        if z is None:
            state = goal_met = "not measured"
        else:
            state = "met" if met else "not met"
            # a tie (0 syscalls each) is not behind; no peer value: the threshold decides
            goal_met = "met" if met and (not parts or verdict != "no") else "not met"
        rows.append((goal, fmt(z, unit) + (note if z is not None else ""), best, state, vs,
                     goal_met))

    def m(key):
        return med(res.get(key, []))

    ns = sorted(cfg["ctl_ns"])
    for n in ns:
        z = m(("status1", n, Z))
        row(f"`status NAME` under 1.5 ms, {n} program{'s' if n > 1 else ''} loaded", z,
            {k: m(("status1", n, k)) for k in others}, z is not None and z < 0.0015, "ms")
    # speed-up over supervisorctl: the smallest over the N measured
    sp = {}
    for k in (Z, "s6"):
        v = [div(m(("status1", n, "supervisord")), m(("status1", n, k))) for n in ns]
        sp[k] = min(v) if v and None not in v else None
    row("`status NAME` over 150x faster than `supervisorctl status NAME` (smallest "
        "speed-up over the N measured)", sp[Z], {"s6": sp["s6"]},
        sp[Z] is not None and sp[Z] > 150, "times", lower=False)
    if len(ns) > 1:
        lo, hi = ns[0], ns[-1]
        g = {k: div(m(("status1", hi, k)), m(("status1", lo, k))) for k in PEERS}
        row(f"`status NAME` no slower with {hi} programs than with {lo}, within 10% (median "
            f"at {hi} / median at {lo})", g[Z], {k: g[k] for k in others},
            g[Z] is not None and g[Z] <= 1.1, "times")
    else:
        row("`status NAME` no slower with 1000 programs than with 1", None, {}, False, "times")
    for n, limit in ((100, 5e6), (1000, 20e6)):
        z = m(("pss", n, Z))
        row(f"PSS at most {limit / 1e6:g} MB at {n} programs (MB = 10^6 bytes)", z,
            {k: m(("pss", n, k)) for k in others},
            z is not None and z * 1024 <= limit, "MB")
    z = vmax(res.get(("idle_sys", Z), []))
    row(f"0 syscalls while idle ({cfg['idle_n']} programs, {cfg['idle_secs']:g} s, "
        f"zagent sample_interval=0, every session)", z, {k: vmax(res.get(("idle_sys", k), [])) for k in others},
        z == 0, "n")
    for n in (100, 1000):
        z, sd = m(("guard_sched", n, Z)), m(("guard_sched", n, "supervisord"))
        # the threshold is half of supervisord's: without its value it is not measured
        row(f"CPU per 10 s sampling every {GUARD_DEFAULT_INTERVAL} s (the default) at most "
            f"half of supervisord's idle CPU, {n} programs (schedstat)",
            z if sd is not None else None, {"supervisord": sd},
            z is not None and sd is not None and z <= 0.5 * sd, "cpu_ms")
    z = vmax(res.get(("guard_off_sys", Z), []))
    row(f"0 syscalls while idle with sample_interval=0 ({cfg['guard_off_n']} programs, "
        f"per 10 s, every session)", z,
        {"supervisord": m(("guard_sys", cfg["guard_off_n"], "supervisord"))}, z == 0, "n")
    for iv in sorted(set(cfg["guard_intervals"]) | {1, GUARD_DEFAULT_INTERVAL}):
        z = vmax(res.get(("guard_lat", iv, Z), []))
        row(f"memory_limit trip to SIGTERM within one interval + 100 ms (sample_interval="
            f"{iv}, every trip; supervisord has no memory guard, pm2's max_memory_restart "
            f"checks every 30 s, not measured)", z, {},
            z is not None and z <= iv + 0.1, "ms")
    z = m(("crash", Z))
    row("restart after SIGKILL under 5 ms (median)", z, {k: m(("crash", k)) for k in others},
        z is not None and z < 0.005, "ms")
    z_off = m(("crash_off", Z))
    if z_off is not None:
        row(f"restart after SIGKILL with crash attribution and snapshots within 10% of "
            f"crash_attribution = false ({fmt(z_off, 'ms')})", z, {},
            z is not None and z <= 1.1 * z_off, "ms")
    z = m(("spawned", 1000, Z))
    row("1000 programs spawned within 0.75 s", z, {k: m(("spawned", 1000, k)) for k in others},
        z is not None and z <= 0.75, "s")
    cat = m(("logs_mbps", "cat"))
    lg = {k: div(m(("logs_mbps", k)), cat) for k in PEERS}
    ok = {k: res.get(("logs_ok", k), []) for k in PEERS}
    same = {k: bool(ok[k]) and all(ok[k]) for k in PEERS}
    row("log capture at or above `writer \\| cat > file` (MB/s over MB/s), bytes identical",
        lg[Z], {k: lg[k] for k in others}, lg[Z] is not None and lg[Z] >= 1.0 and same[Z],
        "times", lower=False,
        note=f", bytes identical: {'yes' if same[Z] else 'NO'}")
    ld = {k: div(m(("load_busy", k)), m(("load_idle", k))) for k in PEERS}
    burn = div(m(("load_burn", Z)), m(("load_idle", Z)))
    row("`status` under log load within 2x of idle (`status p0000`, writer spewing / "
        "stopped)", ld[Z],
        {k: ld[k] for k in others}, ld[Z] is not None and ld[Z] <= 2.0, "times",
        note=(f" ({BURNERS} CPU burners, no log work: {fmt(burn, 'times')})"
              if burn is not None else ""))
    out = ["| goal | zagent | best peer | threshold | ahead of every peer measured | "
           "goal met |",
           "| --- | ---: | ---: | --- | --- | --- |"]
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


def top_syscalls(res, kind, k=6, key=None):
    """The top k syscalls of the median session of `key` (default: the idle sessions')."""
    pers = res.get(key or ("idle_sys_per", kind), [])
    if not pers:
        return "n/a"
    per = pers[len(pers) // 2] if len(pers) % 2 else pers[0]
    items = sorted(per.items(), key=lambda kv: -kv[1])[:k]
    return ", ".join(f"{name} {calls}" for name, calls in items) or "none"


def required_keys(scenario, kind, cfg, strace):
    """The result keys a scenario must have filled for a peer that ran it."""
    s6 = kind == "s6"
    if scenario == "control":
        return [("status1", n, kind) for n in cfg["ctl_ns"]] + \
            ([] if s6 else [("status_all", n, kind) for n in cfg["ctl_ns"]])
    if scenario == "crash":
        return [("crash", kind), ("rss", 1, kind)]
    if scenario == "idle":
        return [("idle_sched", kind), ("idle_ticks", kind), ("pss", cfg["idle_n"], kind)] + \
            ([("idle_sys", kind)] if strace else [])
    if scenario == "mass":
        return [(key, n, kind) for n in cfg["mass_ns"]
                for key in ("first", "spawned", "stop", "pss") + (() if s6 else ("running",))]
    if scenario == "memory":
        return [(key, n, kind) for n in cfg["mem_ns"] for key in ("rss", "pss")]
    if scenario == "logs":
        return [logs_key("logs_mbps", size, kind) for size in cfg["log_sizes"]]
    if scenario == "load":
        return [("load_idle", kind), ("load_burn", kind), ("load_busy", kind)]
    if scenario == "guard":
        if s6:
            return []  # s6 is not run: it samples nothing
        keys = [(key, n, kind) for n in cfg["guard_ns"]
                for key in ("guard_sched", "guard_ticks") + (("guard_sys",) if strace else ())]
        if kind == "zagent":
            keys += [("guard_off_sched", kind), ("guard_off_ticks", kind)] + \
                ([("guard_off_sys", kind)] if strace else []) + \
                [("guard_lat", iv, kind) for iv in cfg["guard_intervals"]]
        return keys
    return []


def check_results(res, cfg, ran, kinds, strace):
    """What went wrong, one line each: a scenario without samples for a peer that ran, a log
    byte check that failed, memory_limit trips without their main-log lines, programs left
    alive after their supervisor exited."""
    problems = []
    for scenario in ran:
        for kind in kinds + (["cat", "direct"] if scenario == "logs" else []):
            for key in required_keys(scenario, kind, cfg, strace) if kind in kinds else \
                    required_keys("logs", kind, cfg, strace):
                v = res.get(key, [])
                if not v or any(x is None for x in v):
                    problems.append(f"{scenario}: no samples for {kind} ({key})")
    for kind in kinds + ["cat", "direct"]:
        for size in cfg["log_sizes"]:
            v = res.get(logs_key("logs_ok", size, kind), [])
            if v and not all(v):
                problems.append(f"logs: {kind}'s log differs from the writer's bytes in "
                                f"{v.count(False)} of {len(v)} trials ({size}-byte writes)")
    for key in sorted(k for k in res if isinstance(k, tuple) and k[0] == "guard_trips"):
        iv, kind = key[1], key[2]
        trips = len(res.get(("guard_lat", iv, kind), [])) + \
            sum(res.get(("guard_early", iv, kind), []))
        if sum(res[key]) < trips:
            problems.append(f"guard: {trips} trip(s) at sample_interval {iv} but "
                            f"{sum(res[key])} `memory_limit` line(s) in {kind}'s main log: "
                            f"not every SIGTERM came from the guard")
    for kind in kinds:
        left = sum(res.get(("leftovers", kind), []))
        if left:
            problems.append(f"{kind}: {left} process(es) still alive after the supervisor "
                            f"exited (killed by the harness)")
    return problems


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


def executable(path):
    return bool(path) and os.path.isfile(path) and os.access(path, os.X_OK)


def find_peers(args):
    """[Peer] for zagent and every installed peer; dies where the mode needs a missing one."""
    if not executable(args.zagent):
        die(f"zagent not found at {args.zagent}; build it with `make build` "
            f"(or cmake --build build --target zagent), or pass --zagent PATH.")
    args.zagent = os.path.abspath(args.zagent)
    peers = [Peer("zagent", args.zagent, ctl=[os.path.abspath(args.zctl)])]
    if executable(args.supervisord) and executable(args.supervisorctl):
        peers.append(Peer("supervisord", args.supervisord, ctl=[args.supervisorctl]))
    elif args.quick:
        print(f"! supervisord not installed ({INSTALL_HINT}): supervisord skipped",
              file=sys.stderr)
    else:
        die(f"supervisord not found at {args.supervisord} (or supervisorctl at "
            f"{args.supervisorctl}).\n"
            f"Install the peers with:  {INSTALL_HINT}\n"
            f"(Debian package `supervisor`, 4.2.5 on Debian 12), or pass --supervisord PATH "
            f"--supervisorctl PATH.")
    tools = {t: os.path.join(args.s6_bindir, t) for t in S6_TOOLS}
    missing = [t for t, p in tools.items() if not executable(p)]
    if not missing:
        peers.append(Peer("s6", tools["s6-svscan"], tools=tools))
    elif args.quick:
        print(f"! s6 not installed ({INSTALL_HINT}): s6 skipped", file=sys.stderr)
    else:
        print(f"! s6 not installed ({INSTALL_HINT}; missing in {args.s6_bindir}: "
              f"{', '.join(missing)}): s6 skipped, its column reads n/a", file=sys.stderr)
    return peers


FLOOR_NOTE_OVER = 1.5  # the closing note lists the rows at more than this many floors

# Why a row sits where it does against its floor, by a piece of its label (the first entry
# that matches): the closing note's text for the rows over FLOOR_NOTE_OVER floors. A row
# not listed here is named without a reason.
FLOOR_WHY = (
    (": first spawned", "the floor starts in a millisecond; zagent first reads and checks "
     "the config, opens its main log and control socket and probes for GPUs."),
    ("`status", "the floor is one fork+exec+wait of /bin/true; zctl's own CPU is about "
     "/bin/true's (perf stat: 0.5-0.6 ms of task clock against 0.64 ms, 52 page faults "
     "against 49), and the rest is the round trip: the agent's CPU, idle since the last "
     "call, is woken, the agent spends 80-110 us on the call (accept, decode, answer, close; "
     "/proc/PID/schedstat over 300 calls) and wakes zctl again. The same call from a C client "
     "in a loop, the agent's CPU still awake, takes 45-60 us. `status` (all) also formats "
     "every program's row."),
    ("crash recovery", "the floor respawns from waitpid() with nothing else to do; zagent "
     "also reaps through its event loop, logs the exit, builds a crash record and opens the "
     "pipes and log files of the new child, and waits for its exec."),
    ("agent RSS", "the floor is a C program without libraries; zagent holds its config, "
     "the process table, its log buffers and the C++ runtime."),
    ("agent PSS", "as RSS: a C program without libraries against the agent's tables and "
     "buffers."),
    ("mass start", "the floor's fork() returns at once and its children exec on the other CPU "
     "meanwhile; zagent waits for each child's exec (a spawn error is reported by the spawn "
     "itself, with the child's reason), and an exec costs 0.4-0.6 ms on this VM (a C loop of "
     "1000 vfork+exec: 0.6-0.9 s); it also creates three pipes and opens two log files per "
     "program."),
    ("stop all", "the floor signals and reaps; zagent also walks each program's process "
     "tree (/proc) before it signals, drains the pipes and logs every exit."),
    ("log capture", "the floor is `cat`, a read/write loop; zagent also cuts lines at "
     "rotation, counts bytes and rotates the files."),
)


def floor_note(floors):
    """The closing note: every Results row whose zagent value is more than FLOOR_NOTE_OVER
    times its floor (for MB/s, fewer than 1 / FLOOR_NOTE_OVER), with the reason."""
    over = []
    for label, r, unit in floors:
        far = r < 1 / FLOOR_NOTE_OVER if unit == "MBps" else r > FLOOR_NOTE_OVER
        if unit != "x" and far:
            why = next((w for key, w in FLOOR_WHY if key in label), "")
            over.append(f"- {label}: {r:.2f}x the floor. {why}".rstrip())
    if not over:
        return [f"No row is more than {FLOOR_NOTE_OVER:g}x its floor."]
    return [f"The rows more than {FLOOR_NOTE_OVER:g}x their floor (MB/s: under "
            f"1/{FLOOR_NOTE_OVER:g} of it), and why:", ""] + over


def markdown(args, cfg, res, info, elapsed, table, goals, peers, by_size=None, floors=None):
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    kinds = [p.kind for p in peers]
    cmd = "python3 bench/run.py" + (" --quick" if args.quick else "") + \
        (f" --only {args.only}" if args.only else "") + \
        (f" --log-write-sizes {','.join(map(str, args.log_write_sizes))}"
         if args.log_write_sizes else "") + \
        (f" --guard-window {args.guard_window:g}" if args.guard_window is not None else "") + \
        (f" --guard-intervals {','.join(map(str, args.guard_intervals))}"
         if args.guard_intervals else "")
    left = {k: sum(res.get(("leftovers", k), [])) for k in PEERS}
    crash = {k: ", ".join(f"{v * 1000:.2f}" for v in res.get(("crash", k), [])) or "n/a"
             for k in PEERS}
    trunc = ", ".join(f"{k} {sum(res.get(('load_truncated', k), []))}" for k in kinds)
    md = [
        "# Benchmarks: zagent, supervisord and s6 side by side",
        "",
        f"Generated by `{cmd}`" + (" (`make bench`)" if cmd == "python3 bench/run.py" else "")
        + f" on {when}, in {elapsed:.0f} s. The peers ran in the same run, one at a time, "
        "in turn (the order rotates each round, so each goes first as often), on the same "
        "programs: zagent and supervisord on the same generated config, s6 on a generated "
        "scan directory. The machine is shared, so absolute times are noisy: read the "
        "ratios (zagent / peer medians; below 1 means zagent is smaller or faster). "
        "bench/README.md explains each measure, and what of s6's is not comparable."
        + (f" **{args.jobs} scenarios ran at once (`--jobs {args.jobs}`): these numbers "
           f"check the harness, they are no measurement.**" if args.jobs > 1 else ""),
        "",
        "## Machine",
        "",
        "| | |",
        "| --- | --- |",
    ]
    md += [f"| {k} | {v} |" for k, v in info]
    md += [
        "",
        "## Goals",
        "",
        "zagent's goals, from the results below: zagent's value, the best peer's value on "
        "the same measure, whether zagent's value meets the goal's threshold, whether "
        "zagent is ahead of every peer measured (`yes`; `level`: tied with one, behind "
        "none; `no`: behind one), and the goal as a whole: met when the threshold is met "
        "and zagent is behind no peer.",
        "",
        goals,
        "",
        "## Results",
        "",
        table,
        "",
        "Medians unless marked p90. `samples z/sd/s6/floor`: how many samples each median "
        "was taken from (zagent / supervisord / s6 / the floor). A ratio of `—` means both are 0. In the "
        "log-capture MB/s rows a higher number is faster, so there a ratio above 1 means "
        "zagent is faster. `n/a` in the s6 column: the measure does not apply to s6 (no "
        "command reports every service; no startsecs, so no RUNNING state) or s6 was not "
        "installed. For s6, \"agent RSS/PSS\" is the sum over s6-svscan and every "
        "s6-supervise process (one per program; a sum of RSS counts the shared pages once "
        "per process, PSS is the comparable number), and the idle rows count the same "
        "processes; s6's programs have no logger, zagent's and supervisord's each have "
        "stdout/stderr log files. s6's crash recovery is s6-supervise 2.11's fixed 1 s wait "
        "before each respawn.",
        "",
        "The floor column is the same work done by the simplest program that can do it, in "
        "the same run and rotation: for the control rows one fork+exec+wait of `/bin/true` "
        "timed by the same C runner (under log load: interleaved with zagent's runs, in "
        "zagent's conditions); for mass start, crash recovery, stop, memory and idle a C "
        "program built by the harness that fork()s and execv()s the N programs in a loop, "
        "writes a `success:` line startsecs after each spawn, respawns a child from "
        "waitpid() at once, and on SIGTERM signals and reaps them all (no pipes, no log "
        "files, no config); for log capture `writer | cat > file`. `ratio z/floor` is "
        "zagent's median over the floor's (MB/s: above 1 is faster than the floor); `—`: "
        "the row has no floor.",
        "",
        "## Against the floor",
        "",
        *floor_note(floors or []),
        "",
    ]
    if by_size:
        md += [
            "## Log capture by write size",
            "",
            f"The log-capture scenario once per size of the writer's `write()` calls: the "
            f"same {res.get('logs_n', 0) / 2**20:g} MiB, the same lines and sha256 at "
            f"every size, only the write boundaries differ (the writer accumulates its "
            f"100-byte lines and writes that many bytes at a time, the last write the "
            f"remainder; a multiple of 100 ends every write at a line end). The pipe between "
            f"the writer and the peer holds {WRITE_SIZE} bytes: a read that returns a full "
            f"pipe is what a reader's pipe-growth rule sees, so the sizes either side of it "
            f"are measured. MB/s: median of {cfg['logs_trials']} trial(s) per size and "
            f"peer (min–max in brackets where there is more than one); the ratios are each "
            f"one's median over supervisord's (above 1: faster than supervisord). The "
            f"{WRITE_SIZE}-byte row is the Results table's log-capture row.",
            "",
            by_size,
            "",
        ]
    md += [
        "## Setup",
        "",
        f"- Config (zagent, supervisord): one `[program:pNNNN]` section per program, "
        f"`autostart=true`, `autorestart=true`, "
        + ("`startsecs=0` (crash recovery) or `startsecs=1` (all else)" if cfg["startsecs"]
           else "`startsecs=0` (all scenarios: `--quick`)") +
        f"; `stdout_logfile` and `stderr_logfile` "
        f"are explicit files, one pair per program, in both agents (each reads the child's "
        f"pipes and writes the files itself). `[supervisord] minfds=8192, minprocs=4096, "
        f"logfile_maxbytes=0, loglevel=info`. minfds is 8192, not 4096: supervisord holds "
        f"about five descriptors per program (three pipes, two log files), over 4096 at 1000 "
        f"programs.",
        "- Scan directory (s6): one service directory per program whose `run` is a symlink "
        "to the program (s6-supervise execs it directly, no shell), no `log/` (the "
        "programs' output goes to s6-svscan's stdout, a file), `s6-svscan SCANDIR` (with "
        "`-c N` above 500 services).",
        f"- Session directories (config, socket, the programs' log files) on "
        f"{session_root('mass')}"
        + (" (tmpfs), except the logs and load sessions (/tmp): on this machine's / (ext4 "
           "without a journal) creating a file skips every inode deleted in the last 60-360 s "
           "(recently_deleted()), and the harness deletes two log files per program after each "
           "session; a log file took about 1 ms to create there against 15 us on tmpfs "
           "(bench/README.md)." if session_root("mass") != "/tmp" else "."),
        "- zagent's side of these numbers (what changed for them): zctl is a static binary "
        "(its code in sections the link drops when unused: 2.2 MB of text) that reads only "
        "the `[supervisorctl]` and `[DEFAULT]` sections' text (a large config is mapped, "
        "populated at once: no page fault per page) and needs no resolver for `unix://`, "
        "numeric and `localhost` URLs (docs/zctl.md); it encodes its calls before it "
        "connects and sends them as one JSON-RPC batch without a poll, and the agent looks "
        "for the first byte as it accepts, so a call costs the agent one wake-up, not two; "
        "a spawn's child "
        "shares the agent's descriptor table and copies only its low numbers "
        "(close_range(CLOSE_RANGE_UNSHARE); the agent keeps its pipes and log files at 64 and "
        "above), where it used to copy and then close every descriptor of every program, and "
        "it is born on the agent's CPU, which waits for its exec.",
        "- Agents started as `AGENT -n -c bench.conf`, s6 as `s6-svscan SCANDIR`, stdout to "
        "a file; stopped with SIGTERM (s6-svscan 2.11: bring every service down, let the "
        "loggers drain, wait for the whole tree, exit 0).",
        f"- Control latency: `zctl -c bench.conf status p0000`, `supervisorctl -c bench.conf "
        f"status p0000` and `s6-svstat SCANDIR/p0000` (and `status` for all programs, "
        f"zagent and supervisord only), every peer loaded with N programs at once, "
        f"{cfg['ctl_runs']} runs each ({cfg['ctl_all_runs']} for `status`), one run of "
        f"each in turn; each run is timed by a small C runner (fork, exec, wait; output to "
        f"/dev/null), so Python's own overhead is not counted. `s6-svstat` reads the "
        f"service's `supervise/status` file and talks to no process.",
        f"- Crash recovery: {cfg['crash_rounds']} rounds x {cfg['crash_kills']} kills per "
        f"peer = {cfg['crash_rounds'] * cfg['crash_kills']} trials each; every program has "
        f"lived at least {CRASH_MIN_AGE:g} s when it is killed (s6-supervise's 1-second "
        f"respawn throttle).",
        f"- Memory (smaps_rollup, {cfg['settle']:g} s after the last program went RUNNING, "
        f"s6: spawned): at 1 program the crash-recovery sessions before the first kill; at "
        f"{cfg['idle_n']} the idle sessions; at {max(cfg['mass_ns'])} the mass-start "
        f"sessions.",
        f"- Idle: {cfg['idle_rounds']} sessions per peer; CPU over {cfg['idle_secs']:g} s "
        f"untraced, then syscalls over the next {cfg['idle_secs']:g} s under "
        f"`strace -f -c -p PID...` (s6: every s6-svscan and s6-supervise pid).",
        f"- Mass start: {cfg['mass_trials']} sessions per peer and N.",
        f"- Log capture: a C writer built by the harness writes {res.get('logs_n', 0)} bytes "
        f"({res.get('logs_n', 0) / 2**20:g} MiB) of 100-byte text lines to stdout in 64 KiB "
        f"`write()` calls (the Results rows; the write-size table: "
        f"{', '.join(map(str, res.get('logs_sizes', [WRITE_SIZE])))} bytes per call, the "
        f"same bytes), as fast as it can, after writing its CLOCK_MONOTONIC start time "
        f"to a side file. zagent and supervisord run it as `[program:writer]` "
        f"(`autostart=false`, `startsecs=0`, `autorestart=false`, "
        f"`stdout_logfile_maxbytes=10MB`, enough `stdout_logfile_backups` that nothing is "
        f"dropped), started with `CTL start writer`; s6 runs it as the service `writer` "
        f"(a `down` file; `log/run` = `s6-log nK s10485760 LOGDIR`, K as many as the "
        f"backups, no timestamps), started with `s6-svc -o` (once: `-u` would respawn it). "
        f"The time runs from the writer's start to the first poll (every 3 ms) at which the "
        f"log files hold every byte; the harness sleeps on the writer's exit (a pidfd) "
        f"before it starts polling, so that it takes no CPU from the writer and the peer "
        f"(the baselines are timed by waiting for the pipeline). Then the files, oldest first (`writer.log.K ... "
        f"writer.log.1, writer.log`; s6: `@<tai64n>.s` by name, then `current`), are "
        f"compared by sha256 with the expected bytes (regenerated in Python), and files not "
        f"ending in `\\n` are counted (a line split between two files). Baselines, no "
        f"supervisor: `sh -c 'writer | cat > file'` and `sh -c 'writer > file'`, timed from "
        f"the writer's start to the end of the pipeline: {logs_baselines(res)}. MB/s = 10^6 "
        f"bytes per second (median over the trials of bytes / seconds); "
        f"{cfg['logs_trials']} trials per peer, baseline and write size, in turn (each "
        f"round runs every size, the sizes' order and the peers' rotating with the round); "
        f"the files are removed after each trial.",
        f"- Control latency under log load: one peer at a time, with `p0000` (the pause() "
        f"program, RUNNING) and a writer that writes forever (zagent, supervisord: "
        f"`stdout_logfile_maxbytes=10MB`, `stdout_logfile_backups=1`; s6: `s6-log n1 "
        f"s10485760`). The status command runs {cfg['load_runs']} times with the writer "
        f"stopped, {cfg['load_runs']} times while {BURNERS} CPU burners (C busy loops "
        f"started by the harness, killed by pid after) spin and no writer runs (the "
        f"machine's floor: no supervisor work), then the writer is started (`CTL start "
        f"writer`, `s6-svc -o`) and, once its log has grown by 1 MiB, {cfg['load_runs']} "
        f"more runs; each run is timed by the same C runner; the writer's pace is its "
        f"write() bytes (`/proc/PID/io` wchar) over those runs, per second (a writer blocked "
        f"on a full pipe shows the agent's pace). The writer is stopped (`CTL stop writer`, "
        f"`s6-svc -d`) before the supervisor. Should a peer not rotate, the harness cuts "
        f"the log to 0 bytes past {LOAD_CAP >> 20} MiB (times: {trunc}).",
        f"- Resource sampling and memory_limit (`guard`): zagent and supervisord, one at "
        f"a time, each with N = {', '.join(map(str, cfg['guard_ns']))} pause() programs "
        f"RUNNING, nothing added to the config (zagent samples every "
        f"{GUARD_DEFAULT_INTERVAL} s, its default `sample_interval`; supervisord samples "
        f"nothing): after zagent's first sample (which reads every process's stat line and "
        f"every PSS), CPU over {cfg['guard_window']:g} s untraced (one cycle of "
        f"{GUARD_CYCLE} samples, whose last relists /proc; the PSS pass every 30th sample is "
        f"not in it), then syscalls over the next "
        f"{min(cfg['guard_window'], GUARD_STRACE_SECS):g} s under `strace -f -c`, both scaled "
        f"to 10 s. "
        f"Then zagent with `sample_interval = 0` and no guard, {cfg['guard_off_n']} "
        f"programs: CPU and syscalls over {cfg['guard_off_secs']:g} s each, per 10 s. Then "
        f"one program, `leak_memory {GUARD_LEAK_ARGS}` (a test helper: 8 MiB, growing by "
        f"20 MiB/s, capped at 256 MiB) with `memory_limit = {GUARD_LIMIT_MIB}MB` and "
        f"`startsecs = {GUARD_STARTSECS}`, at `sample_interval` = "
        f"{', '.join(map(str, cfg['guard_intervals'])) or 'none (no leak_memory)'}: the "
        f"helper prints `over NS` when its own RSS (/proc/self/statm) first reaches "
        f"{GUARD_LIMIT_MIB} MiB and `sigterm NS` from its SIGTERM handler (both "
        f"CLOCK_MONOTONIC), and the trip's latency is the difference, read from its stdout "
        f"log; the agent restarts it after each trip, {cfg['guard_rounds']} trips per "
        f"interval ({cfg['guard_rounds_slow']} from {GUARD_SLOW} s on; "
        f"{guard_trip_lines(res)}). supervisord has no memory guard (`—`); "
        f"pm2's `max_memory_restart` checks every 30 s (pm2 is not installed, not "
        f"measured); s6 samples nothing and is not run.",
        "",
        "Idle syscalls (one session, by count):",
        "",
    ]
    md += [f"- {k}: {top_syscalls(res, k)}" for k in PEERS]
    md += ["", "Crash recovery samples, ms:", ""]
    md += [f"- {k}: {crash[k]}" for k in PEERS]
    md += [
        "",
        "Processes still alive after their supervisor exited (killed by the harness): "
        + ", ".join(f"{k} {left[k]}" for k in kinds) + ".",
        "",
    ]
    return "\n".join(md)


def intervals_arg(text):
    """--guard-intervals: a comma list of whole seconds, at least 1."""
    try:
        v = [int(w) for w in text.split(",") if w.strip()]
    except ValueError:
        v = []
    if not v or min(v) < 1:
        raise argparse.ArgumentTypeError(f"not a comma list of whole seconds >= 1: {text!r}")
    return sorted(set(v))


def helper_path(zagent, name):
    """tests/helpers/NAME in the build tree of the zagent binary (found by its
    CMakeCache.txt, as build_type() finds it), or build/tests/helpers/NAME."""
    d = os.path.dirname(os.path.abspath(zagent))
    for _ in range(3):
        d = os.path.dirname(d)
        if os.path.isfile(os.path.join(d, "CMakeCache.txt")):
            return os.path.join(d, "tests", "helpers", name)
    return os.path.join(REPO, "build", "tests", "helpers", name)


def guard_trip_lines(res):
    """`memory_limit` lines in zagent's main log against the trips timed, per interval."""
    parts = []
    for key in sorted(k for k in res if isinstance(k, tuple) and k[0] == "guard_trips"):
        iv = key[1]
        early = sum(res.get(("guard_early", iv, "zagent"), []))
        parts.append(f"sample_interval {iv}: {sum(res[key])} `memory_limit` line(s) in the "
                     f"main log for {len(res.get(('guard_lat', iv, 'zagent'), [])) + early} "
                     f"trip(s)" + (f", {early} stopped before `over`" if early else ""))
    return "; ".join(parts) or "no trips timed"


def write_sizes(text):
    """--log-write-sizes: a comma list of positive byte counts."""
    try:
        v = [int(w) for w in text.split(",") if w.strip()]
    except ValueError:
        v = []
    if not v or min(v) < 1:
        raise argparse.ArgumentTypeError(f"not a comma list of positive byte counts: {text!r}")
    return v


# The other benches (gpu.py, health.py, xmlrpc.py) append their sections to
# docs/benchmarks.md below this line; a full run rewrites only what is above it.
KEPT_MARKER = "<!-- bench/run.py writes the part above this line"


def kept_sections(path):
    """What follows KEPT_MARKER in the file at path (the marker line included), or ''."""
    try:
        with open(path) as f:
            old = f.read()
    except FileNotFoundError:
        return ""
    at = old.find(KEPT_MARKER)
    return "" if at < 0 else "\n" + old[at:]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="tiny N, one sample of each, 0.25 s idle, 3 scenarios at once; "
                         "skips peers that are not installed; prints the tables, writes "
                         "nothing unless --output")
    ap.add_argument("--zagent", default=os.path.join(REPO, "build/agent/zagent"))
    ap.add_argument("--zctl", default=os.path.join(REPO, "build/ctl/zctl"))
    ap.add_argument("--supervisord", default="/usr/bin/supervisord")
    ap.add_argument("--supervisorctl", default="/usr/bin/supervisorctl")
    ap.add_argument("--s6-bindir", default="/usr/bin",
                    help="directory of s6-svscan, s6-supervise, s6-svstat, s6-svc, s6-svok, "
                         "s6-log (default /usr/bin)")
    ap.add_argument("--only", help="run only these scenarios (comma list: control, crash, "
                    "idle, mass, memory, logs, load, guard); prints the tables, writes "
                    "nothing unless --output")
    ap.add_argument("--jobs", type=int, help="scenarios run at once (default 1; --quick: "
                    "3, which makes its numbers no measurement)")
    ap.add_argument("--output", help="write the markdown there (default: docs/benchmarks.md "
                    "in full mode; --quick and --only write nothing unless given)")
    ap.add_argument("--log-write-sizes", type=write_sizes, metavar="N,N,...",
                    help="the logs scenario's write() sizes in bytes (default "
                    f"{','.join(map(str, LOG_WRITE_SIZES))}; --quick: "
                    f"{','.join(map(str, LOG_WRITE_SIZES_QUICK))}); {WRITE_SIZE} is always "
                    "measured (the Results table's row)")
    ap.add_argument("--guard-window", type=float, metavar="SECS",
                    help="the guard scenario's sampling-cost window: CPU over SECS, then "
                    f"syscalls over SECS, reported per 10 s (default 20, two of the "
                    f"default {GUARD_DEFAULT_INTERVAL} s sampling intervals; --quick: 0.25)")
    ap.add_argument("--guard-intervals", type=intervals_arg, metavar="N,N,...",
                    help="the sample_interval values (whole seconds) at which the guard "
                    "scenario times memory_limit trips (default 1,10; --quick: 1)")
    ap.add_argument("--leak-memory", metavar="PATH",
                    help="the leak_memory test helper (default: tests/helpers/leak_memory "
                    "in zagent's build tree; cmake --build build --target "
                    "zagent_test_helpers)")
    args = ap.parse_args()
    if args.jobs is None:
        args.jobs = 3 if args.quick else 1
    elif args.jobs > 1 and not args.quick:
        print(f"! --jobs {args.jobs}: scenarios run at once, the numbers are no measurement",
              file=sys.stderr)
    if args.output is None and not (args.quick or args.only):
        args.output = os.path.join(REPO, "docs/benchmarks.md")

    peers = find_peers(args)
    kinds = [p.kind for p in peers]
    if build_type(args.zagent) not in ("Release", "RelWithDebInfo", "MinSizeRel"):
        print(f"! {args.zagent} is a {build_type(args.zagent)} build: its numbers are not "
              f"zagent's (make bench builds RelWithDebInfo)", file=sys.stderr)
    strace = shutil.which("strace")
    if not strace:
        print(f"! strace missing ({INSTALL_HINT}): idle syscalls not counted",
              file=sys.stderr)

    if args.quick:
        # Every code path once per peer, not a measurement: startsecs=0 (no 1 s wait for
        # RUNNING), one sample of each, N small; memory at 1 and idle_n comes from the
        # crash and idle sessions, at 3 from its own. 24 MiB of logs still rotates twice.
        cfg = dict(crash_rounds=1, crash_kills=1, mem_ns=[1, 3, 5], mem_trials=1, idle_n=5,
                   idle_secs=0.25, idle_rounds=1, mass_ns=[10], mass_trials=1, ctl_ns=[1],
                   ctl_runs=2, ctl_all_runs=1, logs_n=24 << 20, logs_trials=1, load_runs=2,
                   guard_ns=[5], guard_window=0.25, guard_off_n=5, guard_off_secs=0.25,
                   guard_intervals=[1], guard_rounds=1, guard_rounds_slow=1, startsecs=0,
                   settle=0.1)
    else:
        cfg = dict(crash_rounds=5, crash_kills=5, mem_ns=[1, 100, 1000], mem_trials=3,
                   idle_n=100, idle_secs=10.0, idle_rounds=2, mass_ns=[200, 1000],
                   mass_trials=3, ctl_ns=[1, 1000], ctl_runs=40, ctl_all_runs=5,
                   logs_n=1 << 30, logs_trials=5, load_runs=30, guard_ns=[100, 1000],
                   guard_window=GUARD_CYCLE * float(GUARD_DEFAULT_INTERVAL), guard_off_n=100,
                   guard_off_secs=10.0,
                   guard_intervals=[1, GUARD_DEFAULT_INTERVAL], guard_rounds=5,
                   guard_rounds_slow=3, startsecs=1, settle=0.5)
    if args.guard_window is not None:
        cfg["guard_window"] = args.guard_window
    if args.guard_intervals:
        cfg["guard_intervals"] = args.guard_intervals
    sizes = args.log_write_sizes or (LOG_WRITE_SIZES_QUICK if args.quick else LOG_WRITE_SIZES)
    cfg["log_sizes"] = sorted(set(sizes) | {WRITE_SIZE})
    idle_settle = 1.0 if cfg["startsecs"] else cfg["settle"]

    only = set(args.only.split(",")) if args.only else None
    known = {"control", "crash", "idle", "mass", "memory", "logs", "load", "guard"}
    if only and only - known:
        die(f"unknown scenario(s) for --only: {', '.join(sorted(only - known))} "
            f"(known: {', '.join(sorted(known))})")

    def wanted(name):
        return only is None or name in only

    leak = os.path.abspath(args.leak_memory or helper_path(args.zagent, "leak_memory"))
    if not executable(leak):
        if wanted("guard"):
            print(f"! leak_memory not found at {leak} (cmake --build build --target "
                  f"zagent_test_helpers, or --leak-memory PATH): the guard scenario's "
                  f"memory_limit trips are skipped", file=sys.stderr)
        leak = None
        cfg["guard_intervals"] = []

    res = {}
    ran = []
    problems = []
    tmp = tempfile.mkdtemp(prefix="zb-bin-", dir="/tmp")
    t_begin = time.monotonic()

    def run(name, title, fn, a):
        print(f"{title} ...", file=sys.stderr)
        ran.append(name)
        t0 = time.monotonic()
        try:
            fn(*a)
        except Exception as e:  # noqa: BLE001 - reported, the other scenarios still run
            traceback.print_exc()
            problems.append(f"{name}: {type(e).__name__}: {e}")
        print(f"  {name}: {time.monotonic() - t0:.1f} s", file=sys.stderr)

    try:
        prog, prog_desc = build_prog(tmp)
        runner = build_runner(tmp)
        wexe = build_c(tmp, "writer", WRITER_C)
        writer = (wexe, os.path.realpath(wexe)) if wexe else None
        burn = build_c(tmp, "burn", BURN_C)
        floor_exe = build_c(tmp, "floor", FLOOR_C)
        floor = FloorPeer(floor_exe) if floor_exe else None
        if not floor:
            print("! no C compiler: no floor column", file=sys.stderr)
        info = machine(args, prog_desc, peers)
        if (wanted("logs") or wanted("load")) and not writer:
            print("! no C compiler: the logs and load scenarios are skipped", file=sys.stderr)
        tasks = []  # (name, title, function, arguments), in the order of a sequential run
        if wanted("control"):
            tasks.append(("control", "control latency", scenario_control,
                          (peers, prog, cfg["ctl_ns"], cfg["ctl_runs"], cfg["ctl_all_runs"],
                           runner, cfg["startsecs"], res)))
        if wanted("crash"):
            tasks.append(("crash", "crash recovery", scenario_crash,
                          (peers, prog, cfg["crash_rounds"], cfg["crash_kills"], cfg["settle"],
                           res, floor)))
        if wanted("idle"):
            tasks.append(("idle", "idle cost", scenario_idle,
                          (peers, prog, cfg["idle_n"], cfg["idle_secs"], cfg["idle_rounds"],
                           cfg["startsecs"], idle_settle, res, strace, floor)))
        if wanted("mass"):
            tasks.append(("mass", "mass start", scenario_mass,
                          (peers, prog, cfg["mass_ns"], cfg["mass_trials"], cfg["startsecs"],
                           cfg["settle"], res, floor)))
        # Memory: N=1 comes from the crash sessions (before the first kill), N=idle_n from
        # the idle sessions, the mass-start N from mass start; any other N gets its own.
        covered = ({1} if wanted("crash") else set()) | \
            ({cfg["idle_n"]} if wanted("idle") else set()) | \
            (set(cfg["mass_ns"]) if wanted("mass") else set())
        mem_own = [n for n in cfg["mem_ns"] if n not in covered]
        if wanted("memory"):
            if mem_own:
                tasks.append(("memory", "memory", scenario_memory,
                              (peers, prog, mem_own, cfg["mem_trials"], cfg["startsecs"],
                               cfg["settle"], res, floor)))
            else:
                ran.append("memory")
        if wanted("logs") and writer:
            tasks.append(("logs", "log capture throughput", scenario_logs,
                          (peers, prog, writer, cfg["logs_n"], cfg["logs_trials"],
                           cfg["log_sizes"], res)))
        if wanted("load") and writer:
            tasks.append(("load", "control latency under log load", scenario_load,
                          (peers, prog, writer, burn, cfg["load_runs"], runner,
                           cfg["startsecs"], cfg["settle"], res)))
        if wanted("guard"):
            tasks.append(("guard", "resource sampling and memory_limit", scenario_guard,
                          (peers, prog, leak, cfg["guard_ns"], cfg["guard_window"],
                           cfg["guard_off_n"], cfg["guard_off_secs"], cfg["guard_intervals"],
                           cfg["guard_rounds"], cfg["guard_rounds_slow"], cfg["startsecs"],
                           idle_settle, res, strace)))
        if args.jobs > 1 and len(tasks) > 1:
            # Several scenarios at once (--quick): a check of the harness, not a measurement.
            # supervisord alone needs 3-5 s per session (its 1 s ticks to start, reach
            # RUNNING and stop), so a sequential quick run cannot be short. Longest first.
            order = ("load", "guard", "crash", "idle", "memory", "control", "mass", "logs")
            tasks.sort(key=lambda t: order.index(t[0]))
            with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
                for f in [pool.submit(run, *t) for t in tasks]:
                    f.result()
        else:
            for t in tasks:
                run(*t)
        cfg["logs_n"] = res.get("logs_n", cfg["logs_n"])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    elapsed = time.monotonic() - t_begin

    floors = []
    table = build_table(res, cfg, floors)
    goals = goals_table(res, cfg)
    by_size = logs_sizes_table(res, cfg)
    print(table)
    if by_size:
        print("\nLog capture by write size (MB/s):\n")
        print(by_size)
    print("\nGoals:\n")
    print(goals)
    print()
    for k in kinds:
        print(f"idle syscalls, {k}: {top_syscalls(res, k)}")
    for k in kinds:
        print(f"crash recovery samples (ms), {k}: "
              f"{', '.join(f'{v * 1000:.2f}' for v in res.get(('crash', k), []))}")
    print(f"log capture baselines (MB/s = 10^6 bytes/s): {logs_baselines(res)}")
    for n in cfg["guard_ns"]:
        for k in kinds:
            if ("guard_sys_per", n, k) in res:
                print(f"sampling syscalls in {min(cfg['guard_window'], GUARD_STRACE_SECS):g} s, N={n}, {k}: "
                      f"{top_syscalls(res, k, key=('guard_sys_per', n, k))}")
    for key in sorted(k for k in res if isinstance(k, tuple) and k[0] == "guard_lat"):
        print(f"memory_limit trips (ms, `over` to SIGTERM), sample_interval {key[1]}: "
              f"{', '.join(f'{v * 1000:.0f}' for v in res[key])}")
    if any(isinstance(k, tuple) and k[0] == "guard_trips" for k in res):
        print(f"memory_limit trips: {guard_trip_lines(res)}")
    print("leftover processes after their supervisor exited: " +
          ", ".join(f"{k} {sum(res.get(('leftovers', k), []))}" for k in kinds))
    print(f"peers: {', '.join(kinds)}; total {elapsed:.0f} s")
    print("\n".join(floor_note(floors)))

    problems += check_results(res, cfg, ran, kinds, strace)
    if args.output:
        text = markdown(args, cfg, res, info, elapsed, table, goals, peers, by_size, floors)
        text += kept_sections(args.output)  # read before the open for writing empties it
        with open(args.output, "w") as f:
            f.write(text)
        print(f"wrote {args.output}")
    if problems:
        print("\nFAILED:", file=sys.stderr)
        for p in problems:
            print(f"  {p}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
