#!/usr/bin/python3
"""Load a config with the real supervisord and print it in zagent's --dump-config shape.

A developer tool, run by hand; the test suite never runs it (tests use no python). It writes
the golden files that tests/e2e/docs_examples_test.cc compares `zagent --dump-config` with:

    tests/compat/supervisord_dump.py tests/fixtures/docs-examples/program-cat-every-key.conf
    tests/compat/supervisord_dump.py --write tests/fixtures/docs-examples/*.conf

--write puts each result in <config without .conf>.expected.json next to the config.

Needs supervisor 4.2.5 (Debian's package `supervisor`; its module lives under
/usr/lib/python3/dist-packages, hence /usr/bin/python3 above).

The config is loaded the way supervisord loads it at startup (ServerOptions.realize with
-c FILE), with the current directory set to the config's directory; the e2e test starts
zagent from the same directory, so defaults such as logfile=supervisord.log resolve alike.

What is written (all of it is compared by the test):
- "supervisord": the [supervisord] values supervisord runs with.
- "unix_http_server" / "inet_http_server": the server sections, or null.
- "included_files": the files [include] read, in reading order.
- "groups": every process group supervisord builds from [program:x] and [group:x] sections,
  in supervisord's order, each with every per-process value of its process configs.
  [eventlistener:x] and [fcgi-program:x] groups are left out: zagent does not run them yet.
- "unsupported_sections": those left-out sections; zagent must name each in its notes.
- "warnings": supervisord's parse warnings; zagent must note each with the same text.

Normalisation, undone by the test before it compares:
- "@HERE@" stands for the absolute directory of the config (the test copies the fixture
  directory to a temp dir and runs zagent there).
- "@HOST@" stands for the host name (%(host_node_name)s); supervisord is handed that token
  as the host name, so no other text can be mistaken for it.
- "@TMP@" stands for the temp directory that childlogdir defaults to when [supervisord]
  does not set it (Python's tempfile.gettempdir(); the test sets TMPDIR).
Fixtures must not expand %(ENV_x)s names that come from the caller's environment.
"""

import argparse
import json
import os
import pwd
import signal
import sys
import tempfile

try:
    import supervisor.options as sup_options
    from supervisor import datatypes, loggers
    from supervisor.options import ServerOptions
except ImportError:
    sys.exit("supervisord_dump.py: the supervisor module is missing; run it with the python "
             "that has supervisor 4.2.5 (Debian: /usr/bin/python3)")

HERE_TOKEN = "@HERE@"
HOST_TOKEN = "@HOST@"
TMP_TOKEN = "@TMP@"

# Documented difference (zagent DESIGN.md, agent/config.h kDefaultChildLogMaxBytes):
# zagent's default for stdout_logfile_maxbytes / stderr_logfile_maxbytes is 10MB where
# supervisord's is 50MB. Where a program leaves the key unset, the golden file holds the
# value zagent must show (10MB); where the program sets it, supervisord's value is kept.
SUPERVISORD_CHILD_LOG_MAXBYTES = 50 * 1024 * 1024
ZAGENT_CHILD_LOG_MAXBYTES = 10 * 1024 * 1024

UNSUPPORTED_PREFIXES = ("eventlistener:", "fcgi-program:")


def octal(value):
    """zagent's octal text: at least four digits, e.g. 0022."""
    if value is None:
        return None
    return "%04o" % value


def autorestart_word(value):
    if value is False:
        return "false"
    if value is datatypes.RestartUnconditionally:
        return "true"
    if value is datatypes.RestartWhenExitUnexpected:
        return "unexpected"
    raise ValueError("unknown autorestart value %r" % (value,))


def log_target(value):
    if value is datatypes.Automatic:
        return "AUTO"
    if value is None:
        return "NONE"
    return value


def level_word(number):
    """The word loglevel= takes for this level (supervisor's LevelsByDescription)."""
    for word, value in vars(loggers.LevelsByDescription).items():
        if not word.startswith("_") and value == number:
            return word
    raise ValueError("unknown log level %r" % (number,))


def signal_word(number):
    return signal.Signals(number).name


def user_json(uid):
    if uid is None:
        return None
    record = pwd.getpwuid(uid)
    return {"name": record.pw_name, "uid": record.pw_uid, "gid": record.pw_gid}


def process_json(config, group_name, parser, section):
    out = {
        "name": config.name,
        "group": group_name,
        "command": config.command,
        "directory": config.directory,
        "umask": octal(config.umask),
        "priority": config.priority,
        "autostart": bool(config.autostart),
        "autorestart": autorestart_word(config.autorestart),
        "startsecs": config.startsecs,
        "startretries": config.startretries,
        "exitcodes": list(config.exitcodes),
        "stopsignal": signal_word(config.stopsignal),
        "stopwaitsecs": config.stopwaitsecs,
        "stopasgroup": bool(config.stopasgroup),
        "killasgroup": bool(config.killasgroup),
        "user": user_json(config.uid),
        "redirect_stderr": bool(config.redirect_stderr),
    }
    for channel in ("stdout", "stderr"):
        maxbytes_key = channel + "_logfile_maxbytes"
        maxbytes = getattr(config, maxbytes_key)
        if not parser.has_option(section, maxbytes_key):
            # The documented default difference; see ZAGENT_CHILD_LOG_MAXBYTES.
            assert maxbytes == SUPERVISORD_CHILD_LOG_MAXBYTES
            maxbytes = ZAGENT_CHILD_LOG_MAXBYTES
        out[channel + "_logfile"] = log_target(getattr(config, channel + "_logfile"))
        out[maxbytes_key] = maxbytes
        out[channel + "_logfile_backups"] = getattr(config, channel + "_logfile_backups")
        out[channel + "_capture_maxbytes"] = getattr(config, channel + "_capture_maxbytes")
        out[channel + "_events_enabled"] = bool(getattr(config, channel + "_events_enabled"))
        out[channel + "_syslog"] = bool(getattr(config, channel + "_syslog"))
    # supervisord stores each process's environment already merged with [supervisord]
    # environment= (the program's pairs win); the test merges zagent's the same way.
    out["environment"] = dict(config.environment or {})
    out["serverurl"] = "AUTO" if config.serverurl is None else config.serverurl
    return out


def load(config_path):
    """ServerOptions after supervisord's own startup processing, and the parser it used."""
    options = ServerOptions()
    seen = {"parser": None, "sections": {}}

    # Two small wrappers around methods supervisord calls on itself, to learn which parser it
    # built and which section each process config came from (it keeps neither).
    groups_from_parser = options.process_groups_from_parser

    def capture_parser(parser):
        seen["parser"] = parser
        return groups_from_parser(parser)

    processes_from_section = options.processes_from_section

    def capture_section(parser, section, group_name, klass=None):
        configs = processes_from_section(parser, section, group_name, klass)
        for config in configs:
            seen["sections"][id(config)] = section
        return configs

    options.process_groups_from_parser = capture_parser
    options.processes_from_section = capture_section
    options.realize(args=["-c", config_path], doc="", progname="supervisord")
    return options, seen["parser"], seen["sections"]


def dump(config_path):
    options, parser, sections = load(config_path)
    section = options.configroot.supervisord

    supervisord = {
        "logfile": options.logfile,
        "logfile_maxbytes": options.logfile_maxbytes,
        "logfile_backups": options.logfile_backups,
        "loglevel": level_word(options.loglevel),
        "pidfile": options.pidfile,
        "umask": octal(options.umask),
        "nodaemon": bool(options.nodaemon),
        "silent": bool(options.silent),
        "minfds": options.minfds,
        "minprocs": options.minprocs,
        "nocleanup": bool(options.nocleanup),
        "childlogdir": options.childlogdir,
        "user": options.user,
        "directory": options.directory,
        "strip_ansi": bool(options.strip_ansi),
        "environment": dict(section.environment),
        "identifier": options.identifier,
    }
    if not parser.has_option("supervisord", "childlogdir"):
        assert options.childlogdir == tempfile.gettempdir()
        supervisord["childlogdir"] = TMP_TOKEN

    unix_http_server = None
    inet_http_server = None
    for server in options.server_configs:
        if server["section"] == "unix_http_server":
            uid, gid = server["chown"]
            unix_http_server = {
                "file": server["file"],
                "chmod": octal(server["chmod"]),
                "chown": None if (uid, gid) == (-1, -1) else {"uid": uid, "gid": gid},
                "username": server["username"],
                "password_set": server["password"] is not None,
            }
        elif server["section"] == "inet_http_server":
            inet_http_server = {
                "host": server["host"],
                "port": server["port"],
                "username": server["username"],
                "password_set": server["password"] is not None,
            }

    prefix = 'Included extra file "'
    included_files = [info[len(prefix):info.index('" during parsing')]
                      for info in options.parse_infos if info.startswith(prefix)]

    groups = []
    for group in options.process_group_configs:
        member_sections = [sections[id(p)] for p in group.process_configs]
        if any(s.startswith(UNSUPPORTED_PREFIXES) for s in member_sections):
            continue
        groups.append({
            "name": group.name,
            "priority": group.priority,
            "kind": "group" if parser.has_section("group:" + group.name) else "program",
            "processes": [process_json(p, group.name, parser, sections[id(p)])
                          for p in group.process_configs],
        })

    return {
        "supervisord": supervisord,
        "unix_http_server": unix_http_server,
        "inet_http_server": inet_http_server,
        "included_files": included_files,
        "groups": groups,
        "unsupported_sections": [s for s in parser.sections()
                                 if s.startswith(UNSUPPORTED_PREFIXES)],
        "warnings": list(options.parse_warnings),
    }


def normalise(value, here):
    if isinstance(value, str):
        return value.replace(here, HERE_TOKEN)
    if isinstance(value, list):
        return [normalise(v, here) for v in value]
    if isinstance(value, dict):
        return {k: normalise(v, here) for k, v in value.items()}
    return value


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true",
                        help="write <name>.expected.json next to each config")
    parser.add_argument("configs", nargs="+")
    args = parser.parse_args()

    # %(host_node_name)s comes from platform.node(); hand supervisord the token itself.
    sup_options.platform.node = lambda: HOST_TOKEN
    if sup_options.VERSION != "4.2.5":
        print("supervisord_dump.py: warning: supervisor %s, golden files come from 4.2.5"
              % sup_options.VERSION, file=sys.stderr)

    start_dir = os.getcwd()
    for config in args.configs:
        config_path = os.path.abspath(os.path.join(start_dir, config))
        here = os.path.dirname(config_path)
        os.chdir(here)
        try:
            result = normalise(dump(config_path), here)
        finally:
            os.chdir(start_dir)
        text = json.dumps(result, indent=2) + "\n"
        if args.write:
            base = config_path[:-len(".conf")] if config_path.endswith(".conf") else config_path
            with open(base + ".expected.json", "w") as out:
                out.write(text)
            print("wrote %s.expected.json" % base)
        else:
            sys.stdout.write(text)


if __name__ == "__main__":
    main()
