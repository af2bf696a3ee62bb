// A fresh directory under /tmp with a short path (Unix socket paths hold 108 bytes),
// removed with everything in it when the object goes away.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace zagent::test {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  /// path() / name as a string.
  std::string file(std::string_view name) const;
  /// Writes `content` to path()/name (creating parent directories) and returns the full path.
  std::string write(std::string_view name, std::string_view content) const;

 private:
  std::filesystem::path path_;  // the directory, absolute
};

/// Reads a whole file; empty if it cannot be read.
std::string read_file(const std::filesystem::path& path);

}  // namespace zagent::test
