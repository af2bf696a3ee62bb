#!/usr/bin/env python3
"""The HTTP front side by side (docs/http.md): `supervisor.getAllProcessInfo` over XML-RPC
with N programs, zagent against supervisord in one run, from one C client over the unix
socket (connect, POST /RPC2, read the whole answer; the time of each call), and the cost of
a /metrics scrape on zagent (supervisord has no /metrics).

The C client is compiled here (cc -O2); it times `--calls` calls in turn, a fresh connection
each (as supervisorctl makes), and prints each in microseconds. The answer is checked: an
HTTP 200 with N `<name>` members of the right names, so a fault or a short answer fails.

Usage: bench/xmlrpc.py --zagent build/agent/zagent [--supervisord /usr/bin/supervisord]
       [--programs 1000] [--calls 20] [--scrapes 20]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from agent_session import Agent, cpu_seconds

CLIENT_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static long long now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000LL + t.tv_nsec / 1000;
}

/* client SOCKET CALLS PATH BODYFILE OUTFILE: POSTs BODYFILE (empty: a GET) to PATH CALLS
   times, a connection each; prints each call's microseconds; the last answer to OUTFILE. */
int main(int argc, char **argv) {
  if (argc != 6) return 2;
  static char body[1 << 16], req[1 << 17];
  FILE *bf = fopen(argv[4], "rb");
  size_t blen = bf ? fread(body, 1, sizeof body, bf) : 0;
  if (bf) fclose(bf);
  int n = blen
      ? snprintf(req, sizeof req, "POST %s HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\n"
                 "Content-Length: %zu\r\nConnection: close\r\n\r\n%.*s", argv[3], blen, (int)blen, body)
      : snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
                 argv[3]);
  size_t cap = 1 << 20, len = 0;
  char *answer = malloc(cap);
  for (int i = 0; i < atoi(argv[2]); i++) {
    long long t0 = now_us();
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    strncpy(a.sun_path, argv[1], sizeof a.sun_path - 1);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) { perror("connect"); return 1; }
    if (write(fd, req, n) != n) { perror("write"); return 1; }
    len = 0;
    for (;;) {
      if (len == cap) answer = realloc(answer, cap *= 2);
      ssize_t r = read(fd, answer + len, cap - len);
      if (r <= 0) break;
      len += r;
    }
    close(fd);
    printf("%lld\n", now_us() - t0);
  }
  FILE *out = fopen(argv[5], "wb");
  fwrite(answer, 1, len, out);
  fclose(out);
  return 0;
}
"""

CALL = ("<?xml version='1.0'?>\n<methodCall>\n<methodName>supervisor.getAllProcessInfo"
        "</methodName>\n<params>\n</params>\n</methodCall>\n")


def build_client(tmp):
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        sys.exit("no C compiler (cc) for the client")
    src, exe = os.path.join(tmp, "client.c"), os.path.join(tmp, "client")
    with open(src, "w") as f:
        f.write(CLIENT_C)
    subprocess.run([cc, "-O2", "-o", exe, src], check=True)
    return exe


def timed_calls(client, tmp, sock, path, body, calls):
    """Microsecond times of `calls` calls, and the last answer."""
    body_file, out = os.path.join(tmp, "body"), os.path.join(tmp, "answer")
    with open(body_file, "w") as f:
        f.write(body)
    r = subprocess.run([client, sock, str(calls), path, body_file, out], capture_output=True,
                       text=True, check=True)
    with open(out, "rb") as f:
        return [int(v) / 1e6 for v in r.stdout.split()], f.read().decode(errors="replace")


def session(args, binary, client, calls, scrapes):
    tmp = tempfile.mkdtemp(prefix="zxb", dir="/tmp")
    try:
        programs = "".join(f"[program:p{i:04d}]\ncommand={args.sleeper}\nstartsecs=0\n"
                           for i in range(args.programs))
        a = Agent(binary, None, tmp, programs, "minfds=8192\nminprocs=4096\n")
        try:
            a.wait_log("entered RUNNING state", args.programs, deadline=120)
            times, answer = timed_calls(client, tmp, a.sock, "/RPC2", CALL, calls)
            if not answer.startswith("HTTP/1.") or " 200 " not in answer.split("\r\n", 1)[0]:
                raise RuntimeError(f"{binary}: {answer[:300]}")
            names = answer.count("<name>name</name>")
            if names != args.programs or "p0999" not in answer and args.programs >= 1000:
                raise RuntimeError(f"{binary}: {names} process names in the answer")
            scrape = None
            if scrapes:
                c0 = cpu_seconds(a.proc.pid)
                stimes, text = timed_calls(client, tmp, a.sock, "/metrics", "", scrapes)
                cpu = (cpu_seconds(a.proc.pid) - c0) / scrapes
                if "zagent_program_up" not in text:
                    raise RuntimeError(f"{binary}: no metrics in {text[:300]}")
                scrape = (stimes, cpu, len(text.split("\r\n\r\n", 1)[-1]))
            return times, scrape
        finally:
            a.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--zagent", required=True)
    ap.add_argument("--supervisord", default="/usr/bin/supervisord")
    ap.add_argument("--programs", type=int, default=1000)
    ap.add_argument("--calls", type=int, default=20)
    ap.add_argument("--scrapes", type=int, default=20)
    args = ap.parse_args()
    args.zagent = os.path.abspath(args.zagent)
    tmp = tempfile.mkdtemp(prefix="zxc", dir="/tmp")
    try:
        client = build_client(tmp)
        with open(os.path.join(tmp, "idle.c"), "w") as f:
            f.write("#include <unistd.h>\nint main(void){for(;;)pause();}\n")
        args.sleeper = os.path.join(tmp, "idle")
        subprocess.run(["cc", "-O2", "-o", args.sleeper, os.path.join(tmp, "idle.c")], check=True)
        z, scrape = session(args, args.zagent, client, args.calls, args.scrapes)
        s = None
        if os.path.exists(args.supervisord):
            s, _ = session(args, args.supervisord, client, args.calls, 0)
        med = statistics.median
        print(f"supervisor.getAllProcessInfo over XML-RPC, {args.programs} programs, "
              f"{args.calls} calls each (median, max):")
        print(f"  zagent      {med(z) * 1000:.2f} ms, {max(z) * 1000:.2f} ms")
        if s:
            print(f"  supervisord {med(s) * 1000:.2f} ms, {max(s) * 1000:.2f} ms "
                  f"({med(s) / med(z):.0f}x zagent's median)")
        if scrape:
            stimes, cpu, size = scrape
            print(f"/metrics, {args.programs} programs, {args.scrapes} scrapes: median "
                  f"{med(stimes) * 1000:.2f} ms, agent CPU {cpu * 1000:.2f} ms a scrape, "
                  f"{size / 1024:.0f} KiB")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
