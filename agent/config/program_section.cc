// One [program:x] section (or an unsupported [eventlistener:x] / [fcgi-program:x]) into its
// processes: the rows of program_keys.cc read in supervisord's order, then the checks that
// span keys.
#include <algorithm>

#include "agent/config/loader.h"
#include "agent/config/program_keys.h"
#include "agent/config/value_parsers.h"

namespace zagent::loading {
namespace {

// Reads every row of `stage`; false once a row has stopped the section.
bool read_stage(KeyStage stage, ProgramKeyReader& reader) {
  for (const ProgramKey* row : program_keys_read_in(stage)) {
    reader.set_key(row->key);
    row->read(reader);
    if (reader.draft().stop) {
      return false;
    }
  }
  return true;
}

// The warnings and fix-ups that follow from both channels' keys together.
void settle_channels(Loader& loader, const IniSection& s, ProcessConfig& p) {
  for (const bool is_stdout : {true, false}) {
    const std::string channel = is_stdout ? "stdout" : "stderr";
    const std::string key = channel + "_logfile";
    LogChannelConfig& log = is_stdout ? p.stdout_log : p.stderr_log;
    if (log.logfile.kind == LogTargetKind::Syslog) {
      loader.note(LogLevel::Warn, "For [" + s.name + "], " + key +
                                      "=syslog but this is deprecated and will be removed.  "
                                      "Use " +
                                      channel + "_syslog=true to enable syslog instead.");
      log.logfile = LogTarget{LogTargetKind::None, ""};
      log.syslog = true;
    }
    if (log.logfile.kind == LogTargetKind::Auto && log.maxbytes == 0) {
      loader.note(LogLevel::Warn, "For [" + s.name + "], AUTO logging used for " + key +
                                      " without rollover, set maxbytes > 0 to avoid filling up "
                                      "filesystem unintentionally");
    }
  }
  if (p.redirect_stderr) {
    if (p.stderr_log.logfile.kind == LogTargetKind::Path) {
      loader.note(LogLevel::Warn, "For [" + s.name +
                                      "], redirect_stderr=true but stderr_logfile has also "
                                      "been set to a filename, the filename has been ignored");
    }
    p.stderr_log.logfile = LogTarget{LogTargetKind::None, ""};
  }
}

}  // namespace

std::vector<ProcessConfig> Loader::processes_from_section(const IniSection& s,
                                                          const std::string& group_name) {
  constexpr bool kSuffix = true;
  ProcessConfig proto;
  proto.program_name = std::string(after_colon(s.name));
  proto.group = group_name;
  FormatNames names = base_names();
  names["program_name"] = proto.program_name;
  names["group_name"] = group_name;
  names["host_node_name"] = host_node_name_;

  ProgramDraft draft;
  ProgramKeyReader section_reader(*this, s, draft, proto, names);
  read_stage(KeyStage::Section, section_reader);
  if (proto.restart_delay_max > proto.restart_delay && proto.restart_delay.count() == 0) {
    note(LogLevel::Warn,
         "For [" + s.name + "], restart_delay_max has no effect without restart_delay > 0");
  }
  const IniOption* process_name_option = s.find("process_name");
  if (proto.numprocs > 1 && draft.process_name.find("%(process_num)") == std::string::npos) {
    add_error("%(process_num) must be present within process_name when numprocs > 1", &s,
              process_name_option != nullptr ? process_name_option : s.find("numprocs"),
              kSuffix);
    return {};
  }
  if (proto.stopasgroup && !proto.killasgroup) {
    add_error("Cannot set stopasgroup=true and killasgroup=false", &s, s.find("killasgroup"),
              kSuffix);
  }

  std::vector<ProcessConfig> out;
  const std::int64_t first = draft.numprocs_start;
  for (std::int64_t num = first; num < first + proto.numprocs; ++num) {
    ProcessConfig p = proto;
    p.process_num = num;
    FormatNames pnames = names;
    pnames["process_num"] = num;
    pnames["numprocs"] = proto.numprocs;
    ProgramKeyReader reader(*this, s, draft, p, pnames);
    if (!read_stage(KeyStage::Process, reader)) {
      return {};
    }
    settle_channels(*this, s, p);
    if (auto name = expand(draft.process_name, pnames, "process_name")) {
      p.name = *name;
    } else {
      add_error(name.error().message, &s, process_name_option, kSuffix);
    }
    out.push_back(std::move(p));
  }
  // supervisord compat: processes of one section are ordered by (priority, name); they all
  // share the section's priority, so by name.
  std::stable_sort(out.begin(), out.end(),
                   [](const ProcessConfig& a, const ProcessConfig& b) { return a.name < b.name; });
  return out;
}

}  // namespace zagent::loading
