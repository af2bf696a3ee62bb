"""What bench/gpu.py and bench/health.py share: an agent (zagent or supervisord) in the
foreground on its own config in a temp dir, its main log, and the CPU time of a process."""
import os
import signal
import subprocess
import time


def cpu_seconds(pid):
    """Time on a CPU, all threads (an NVML worker too): /proc/PID/task/*/schedstat's first
    field, ns."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except OSError:
            pass  # a thread that ended meanwhile
    return total / 1e9


class Agent:
    """`binary -c tmp/z.conf -n`: socket, main log, pidfile and child logs in tmp;
    `supervisord_lines` go into [supervisord], then `programs`."""

    def __init__(self, binary, ctl, tmp, programs, supervisord_lines="", env=None):
        self.dir = tmp
        self.ctl_bin = ctl
        self.sock = os.path.join(tmp, "s.sock")
        self.conf = os.path.join(tmp, "z.conf")
        self.log = os.path.join(tmp, "z.log")
        with open(self.conf, "w") as f:
            f.write(f"[unix_http_server]\nfile={self.sock}\n[supervisord]\nlogfile={self.log}\n"
                    f"pidfile={tmp}/z.pid\nchildlogdir={tmp}\nlogfile_maxbytes=0\n" +
                    supervisord_lines +
                    "[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = "
                    "supervisor.rpcinterface:make_main_rpcinterface\n"
                    f"[supervisorctl]\nserverurl=unix://{self.sock}\n" + programs)
        self.proc = subprocess.Popen([binary, "-c", self.conf, "-n"], cwd=tmp, env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        self.wait_log("supervisord started with pid")

    def ctl(self, *words):
        return subprocess.run([self.ctl_bin, "-c", self.conf, *words], capture_output=True,
                              text=True, timeout=60)

    def log_text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def wait_log(self, text, count=1, deadline=60):
        end = time.monotonic() + deadline
        while self.log_text().count(text) < count:
            if time.monotonic() > end:
                raise RuntimeError(f"no {text!r} in the main log:\n{self.log_text()[-2000:]}")
            time.sleep(0.02)

    def wait_running(self, names, deadline=30):
        end = time.monotonic() + deadline
        while True:
            out = self.ctl("status").stdout
            if all(any(line.split()[:2] == [n, "RUNNING"] for line in out.splitlines())
                   for n in names):
                return
            if time.monotonic() > end:
                raise RuntimeError("not RUNNING:\n" + out)
            time.sleep(0.05)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
