#include "agent/os/system_file_probe.h"

#include <sys/stat.h>
#include <unistd.h>

namespace zagent {

FileStatus SystemFileProbe::stat(const std::string& path) const {
  struct ::stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return {};
  }
  return FileStatus{true, S_ISDIR(st.st_mode), (st.st_mode & 0111) != 0};
}

bool SystemFileProbe::can_execute(const std::string& path) const {
  return ::access(path.c_str(), X_OK) == 0;
}

}  // namespace zagent
