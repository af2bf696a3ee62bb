#!/usr/bin/python3
"""Parses /metrics with the real Prometheus text parser (python3-prometheus-client) and checks
the families, their types and their labels (docs/http.md, "Metrics").

  parse_metrics.py --fixture PROGRAM   run PROGRAM (tests/http/metrics_fixture) and check its
                                       output against the fixture it renders
  parse_metrics.py --agent FILE        check a scrape of a real agent saved in FILE

Exits 77 (a skip for CTest) when prometheus_client is not installed.
"""
import subprocess
import sys

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    print("SKIP: python3-prometheus-client is not installed (scripts/install-deps.sh)")
    sys.exit(77)

PROGRAM_LABELS = {"name", "group"}
GPU_LABELS = {"gpu", "UUID", "modelName"}
# family name as the parser reports it (counters lose _total) -> (type, labels)
EXPECTED = {
    "zagent_ready": ("gauge", set()),
    "zagent_state": ("gauge", set()),
    "zagent_program_up": ("gauge", PROGRAM_LABELS),
    "zagent_program_state": ("gauge", PROGRAM_LABELS),
    "zagent_program_restarts": ("counter", PROGRAM_LABELS | {"cause"}),
    "zagent_program_respawns": ("counter", PROGRAM_LABELS),
    "zagent_program_cpu_seconds": ("counter", PROGRAM_LABELS),
    "zagent_program_resident_memory_bytes": ("gauge", PROGRAM_LABELS),
    "zagent_program_gpu_memory_bytes": ("gauge", PROGRAM_LABELS),
    "zagent_program_last_exit_code": ("gauge", PROGRAM_LABELS),
    "zagent_program_health": ("gauge", PROGRAM_LABELS | {"status"}),
    "zagent_gpu_memory_free_bytes": ("gauge", GPU_LABELS),
    "zagent_gpu_memory_used_bytes": ("gauge", GPU_LABELS),
    "zagent_gpu_memory_total_bytes": ("gauge", GPU_LABELS),
}

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


def parse(text):
    families = {}
    for family in text_string_to_metric_families(text):
        check(family.name not in families, f"family {family.name} appears twice")
        families[family.name] = family
    for name, family in families.items():
        check(name in EXPECTED, f"unexpected family {name}")
        if name not in EXPECTED:
            continue
        kind, labels = EXPECTED[name]
        check(family.type == kind, f"{name}: type {family.type}, expected {kind}")
        check(family.documentation != "", f"{name}: no HELP text")
        for sample in family.samples:
            check(set(sample.labels) == labels,
                  f"{name}: labels {sorted(sample.labels)}, expected {sorted(labels)}")
            if kind == "counter":
                check(sample.name == name + "_total", f"{sample.name}: a counter ends in _total")
            check(sample.value == sample.value, f"{sample.name}: NaN")
    return families


def value(families, family, sample_name=None, **labels):
    for s in families[family].samples:
        if (sample_name is None or s.name == sample_name) and s.labels == labels:
            return s.value
    failures.append(f"no sample {family}{labels}")
    return None


def check_fixture(program):
    text = subprocess.run([program], check=True, capture_output=True, text=True).stdout
    families = parse(text)
    check(set(families) == set(EXPECTED), f"families {sorted(set(EXPECTED) ^ set(families))} differ")
    web = {"name": "web", "group": "web"}
    odd = {"name": 'we"ird\\name', "group": "multi\nline"}
    check(value(families, "zagent_program_up", **web) == 1, "web up")
    check(value(families, "zagent_program_up", **odd) == 0, "odd up (escaped labels read back)")
    check(value(families, "zagent_program_state", **odd) == 200, "odd state")
    check(value(families, "zagent_program_restarts", cause="oom_killed", **web) == 1, "oom restarts")
    check(value(families, "zagent_program_cpu_seconds", **web) == 12.5, "cpu seconds")
    check(value(families, "zagent_program_last_exit_code", **odd) == -1, "exit code -1")
    check(value(families, "zagent_program_health", status="failing", **odd) == 1, "health")
    check(value(families, "zagent_gpu_memory_free_bytes", gpu="1", UUID="GPU-00000001",
                modelName="NVIDIA H100 80GB HBM3") == 85899345920 - 2 * 1073741824, "gpu free")
    idle = [s for s in families["zagent_program_resident_memory_bytes"].samples
            if s.labels.get("name") == "idle"]
    check(idle == [], "a missing figure is left out")
    check(value(families, "zagent_ready") == 0, "ready")


def check_agent(path):
    with open(path, encoding="utf-8") as f:
        families = parse(f.read())
    for name in ("zagent_ready", "zagent_state", "zagent_program_up", "zagent_program_state"):
        check(name in families, f"{name} missing from the agent's scrape")


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("--fixture", "--agent"):
        print(__doc__)
        return 2
    try:
        if sys.argv[1] == "--fixture":
            check_fixture(sys.argv[2])
        else:
            check_agent(sys.argv[2])
    except ValueError as e:  # the parser refuses the text
        failures.append(f"the Prometheus parser refused the text: {e}")
    for f in failures:
        print("FAIL:", f)
    if not failures:
        print("ok: parsed with prometheus_client")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
