// Reading a part of a log file from disk, for readLog/tail and the start of a follow. An
// adapter (open/pread/stat); the planning of what to read is in the pure RPC methods.
#pragma once

#include <cstdint>
#include <string>

#include "common/error.h"

namespace zagent {

/// Up to `length` bytes of the file from `offset` (`length` < 0: to the end); fewer at the
/// end of the file. Errors: the failed open or read.
Result<std::string> read_file_range(const std::string& path, std::int64_t offset,
                                    std::int64_t length);

/// Whether a file exists at `path` (stat(2) succeeds; "" never does) and its size in bytes.
struct FileState {
  bool exists = false;
  std::int64_t size = 0;
};
FileState stat_file(const std::string& path);

}  // namespace zagent
