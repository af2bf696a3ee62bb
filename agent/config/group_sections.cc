// Turning sections into process groups: [group:g], [program:x], and the sections read only
// for their errors ([eventlistener:x], [fcgi-program:x]).
#include <algorithm>
#include <cctype>

#include "agent/config/dependencies.h"
#include "agent/config/loader.h"
#include "agent/config/value_parsers.h"

namespace zagent::loading {
namespace {

// supervisord compat: keys these sections read on top of the [program:x] ones.
const KeySet kEventListenerExtraKeys = {"events", "buffer_size", "result_handler"};
const KeySet kFcgiExtraKeys = {"socket", "socket_owner", "socket_mode", "socket_backlog"};

const KeySet kEventTypes = {
    "EVENT", "PROCESS_COMMUNICATION", "PROCESS_COMMUNICATION_STDERR",
    "PROCESS_COMMUNICATION_STDOUT", "PROCESS_GROUP", "PROCESS_GROUP_ADDED",
    "PROCESS_GROUP_REMOVED", "PROCESS_LOG", "PROCESS_LOG_STDERR", "PROCESS_LOG_STDOUT",
    "PROCESS_STATE", "PROCESS_STATE_BACKOFF", "PROCESS_STATE_EXITED", "PROCESS_STATE_FATAL",
    "PROCESS_STATE_RUNNING", "PROCESS_STATE_STARTING", "PROCESS_STATE_STOPPED",
    "PROCESS_STATE_STOPPING", "PROCESS_STATE_UNKNOWN", "REMOTE_COMMUNICATION",
    "SUPERVISOR_STATE_CHANGE", "SUPERVISOR_STATE_CHANGE_RUNNING",
    "SUPERVISOR_STATE_CHANGE_STOPPING", "TICK", "TICK_3600", "TICK_5", "TICK_60"};

}  // namespace

void Loader::load_groups() {
  KeySet in_group_section;
  // Heterogeneous groups first, as supervisord does.
  load_group_sections(in_group_section);
  load_program_sections(in_group_section);

  // supervisord compat: groups are ordered by (priority, name).
  std::stable_sort(config_.groups.begin(), config_.groups.end(),
                   [](const GroupConfig& a, const GroupConfig& b) {
                     return a.priority != b.priority ? a.priority < b.priority
                                                     : a.name < b.name;
                   });
  // zagent: depends_on names programs or groups of the whole config, so it is checked once
  // every group is known; the error points at the depends_on line.
  for (const auto& problem : check_dependencies(config_.groups)) {
    const IniSection* section = doc_.find("program:" + problem.program_name);
    add_error(problem.message, section, section != nullptr ? section->find("depends_on") : nullptr,
              true);
  }
}

void Loader::load_group_sections(KeySet& in_group_section) {
  const FormatNames names = base_names();
  auto has_section = [this](const std::string& n) { return doc_.find(n) != nullptr; };
  for (const auto& s : doc_.sections) {
    if (!s.name.starts_with("group:")) {
      continue;
    }
    auto group_name = parse_process_name(after_colon(s.name));
    if (!group_name) {
      add_error(group_name.error().message, &s, nullptr, false);
      continue;
    }
    GroupConfig group;
    group.name = *group_name;
    group.from_group_section = true;
    std::vector<std::string> programs;
    if (auto list = expanded(s, "programs", names, false)) {
      programs = split_comma_list(*list);
    }
    group.priority = value_of(s, "priority", names, false, std::int64_t{999}, parse_integer);
    // supervisord compat: its error names the previous member's section (the group's own
    // for the first member).
    std::string reported = s.name;
    bool group_ok = true;
    for (const auto& program : programs) {
      const std::string program_section = "program:" + program;
      const std::string fcgi_section = "fcgi-program:" + program;
      const bool is_program = has_section(program_section);
      const bool is_fcgi = has_section(fcgi_section);
      if (!is_program && !is_fcgi) {
        add_error("[" + reported + "] names unknown program or fcgi-program " + program, &s,
                  s.find("programs"), false);
        group_ok = false;
        break;
      }
      if (is_program && is_fcgi) {
        add_error("[" + reported + "] name " + program +
                      " is ambiguous (exists as program and fcgi-program)",
                  &s, s.find("programs"), false);
        group_ok = false;
        break;
      }
      reported = is_program ? program_section : fcgi_section;
      in_group_section.insert(reported);
      if (is_fcgi) {
        continue;  // reported as unsupported with the section itself
      }
      auto processes = processes_from_section(*doc_.find(reported), group.name);
      group.processes.insert(group.processes.end(), processes.begin(), processes.end());
    }
    if (group_ok) {
      config_.groups.push_back(std::move(group));
    }
  }
}

void Loader::load_program_sections(const KeySet& in_group_section) {
  const FormatNames names = base_names();
  for (const auto& s : doc_.sections) {
    const bool is_program = s.name.starts_with("program:");
    const bool is_listener = s.name.starts_with("eventlistener:");
    const bool is_fcgi = s.name.starts_with("fcgi-program:");
    if (!is_program && !is_listener && !is_fcgi) {
      continue;
    }
    auto program_name = parse_process_name(after_colon(s.name));
    if (!program_name) {
      // supervisord compat: reported without the section suffix.
      add_error(program_name.error().message, &s, nullptr, false);
      continue;
    }
    const IniOption* priority_option = s.find("priority");
    if (priority_option != nullptr) {
      if (auto text = expanded(s, "priority", names, false)) {
        if (auto value = parse_integer(*text); !value) {
          add_error(value.error().message, &s, priority_option, false);  // no suffix
        }
      }
    }
    if (is_listener || is_fcgi) {
      load_unsupported_section(s, *program_name, names);
      continue;
    }
    warn_unknown_keys(s, {});
    if (in_group_section.count(s.name) != 0) {
      continue;
    }
    GroupConfig group;
    group.name = *program_name;
    auto processes = processes_from_section(s, group.name);
    group.priority = processes.empty() ? 999 : processes.front().priority;
    if (processes.empty()) {
      // numprocs <= 0 still forms a (empty) group with the section's priority.
      if (priority_option != nullptr) {
        group.priority = value_or(parse_integer(priority_option->value), 999);
      }
    }
    group.processes = std::move(processes);
    config_.groups.push_back(std::move(group));
  }
}

// Parsed so that its errors are found, then left out: not supported yet.
void Loader::load_unsupported_section(const IniSection& s, const std::string& program_name,
                                      const FormatNames& names) {
  const bool is_listener = s.name.starts_with("eventlistener:");
  warn_unknown_keys(s, is_listener ? kEventListenerExtraKeys : kFcgiExtraKeys);
  if (!is_listener) {
    const auto socket = expanded(s, "socket", names, false);
    if (!socket || socket->empty()) {
      add_error("[" + s.name + "] section requires a \"socket\" line", &s, nullptr, false);
    }
  } else {
    check_event_listener(s, names);
  }
  processes_from_section(s, program_name);
  note(LogLevel::Warn, "[" + s.name + "] (" + s.file + ":" + std::to_string(s.line) +
                           ") is not supported yet; its processes will not be started");
}

void Loader::check_event_listener(const IniSection& s, const FormatNames& names) {
  const auto buffer_size =
      value_of(s, "buffer_size", names, false, std::int64_t{10}, parse_integer);
  if (buffer_size < 1) {
    add_error("[" + s.name + "] section sets invalid buffer_size (" +
                  std::to_string(buffer_size) + ")",
              &s, s.find("buffer_size"), false);
  }
  std::vector<std::string> events;
  if (auto list = expanded(s, "events", names, false)) {
    for (std::string event : split_comma_list(*list)) {
      for (char& ch : event) {
        ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      }
      events.push_back(std::move(event));
    }
  }
  if (events.empty()) {
    add_error("[" + s.name + "] section requires an \"events\" line", &s, nullptr, false);
  }
  for (const auto& e : events) {
    if (kEventTypes.count(e) == 0) {
      add_error("Unknown event type " + e + " in [" + s.name + "] events", &s, s.find("events"),
                false);
    }
  }
  if (value_of(s, "redirect_stderr", names, false, false, parse_boolean)) {
    add_error("[" + s.name +
                  "] section sets redirect_stderr=true but this is not allowed because it will "
                  "interfere with the eventlistener protocol",
              &s, s.find("redirect_stderr"), false);
  }
}

}  // namespace zagent::loading
