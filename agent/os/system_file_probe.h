// FileProbe over the real file system (stat(2), access(2)), for command resolution.
#pragma once

#include "agent/process/command.h"

namespace zagent {

/// stat(2) and access(2).
class SystemFileProbe final : public FileProbe {
 public:
  FileStatus stat(const std::string& path) const override;
  bool can_execute(const std::string& path) const override;
};

}  // namespace zagent
