#include "agent/crash/crash_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <exception>
#include <string_view>
#include <system_error>
#include <tuple>
#include <utility>
#include <vector>

#include <boost/asio/post.hpp>
#include <fmt/format.h>

namespace zagent {

namespace {

using nlohmann::json;

/// A snapshot file larger than this loses its line arrays first.
constexpr std::size_t kSnapshotMaxBytes = 4 * 1024 * 1024;
/// Names remembered per prefix on the loop thread (only same-second crashes collide).
constexpr std::size_t kReservedPerPrefix = 64;
/// A string kept in a snapshot that is still too big after its line arrays went.
constexpr std::size_t kStringCapBytes = 64 * 1024;

// Program output may not be UTF-8: dump it with U+FFFD instead of throwing.
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// --- Worker-side file helpers: each returns 0 or the errno of the call that failed. ---

int make_dirs(const std::string& path) {
  if (path.empty()) {
    return 0;
  }
  for (std::size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos != path.size() && path[pos] != '/') {
      continue;
    }
    const std::string part = path.substr(0, pos);
    if (::mkdir(part.c_str(), 0755) != 0 && errno != EEXIST) {
      return errno;
    }
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return errno;
  }
  return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
}

int write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return 0;
}

// Writes `data` to `path` through a temporary file and a rename: a reader (or a crash of the
// agent) never sees half a file.
int write_file_atomic(const std::string& path, std::string_view data) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return errno;
  }
  int err = write_all(fd, data);
  if (::close(fd) != 0 && err == 0) {
    err = errno;
  }
  if (err == 0 && ::rename(tmp.c_str(), path.c_str()) != 0) {
    err = errno;
  }
  if (err != 0) {
    ::unlink(tmp.c_str());
  }
  return err;
}

int append_file(const std::string& path, std::string_view data) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    return errno;
  }
  int err = write_all(fd, data);
  if (::close(fd) != 0 && err == 0) {
    err = errno;
  }
  return err;
}

std::optional<std::string> read_whole(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return std::nullopt;
  }
  std::string out;
  char buf[16384];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

// The machine's memory when the snapshot is written: /proc/meminfo's figures in bytes.
json read_memory() {
  const auto text = read_whole("/proc/meminfo");
  if (!text) {
    return nullptr;
  }
  static constexpr std::string_view kKeys[] = {"MemTotal", "MemAvailable", "MemFree",
                                               "SwapTotal", "SwapFree"};
  json out = json::object();
  std::string_view rest(*text);
  while (!rest.empty()) {
    const auto eol = rest.find('\n');
    std::string_view line = rest.substr(0, eol);
    rest.remove_prefix(eol == std::string_view::npos ? rest.size() : eol + 1);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) {
      continue;
    }
    const std::string_view key = line.substr(0, colon);
    if (std::find(std::begin(kKeys), std::end(kKeys), key) == std::end(kKeys)) {
      continue;
    }
    std::string_view value = line.substr(colon + 1);
    const auto digits = value.find_first_of("0123456789");
    if (digits == std::string_view::npos) {
      continue;
    }
    value.remove_prefix(digits);
    std::int64_t n = 0;
    std::size_t i = 0;
    for (; i < value.size() && value[i] >= '0' && value[i] <= '9'; ++i) {
      n = n * 10 + (value[i] - '0');
    }
    const bool kib = value.substr(i).find("kB") != std::string_view::npos;
    out[std::string(key)] = kib ? n * 1024 : n;
  }
  if (out.empty()) {
    return nullptr;
  }
  return out;
}

// Empties every array that holds only strings (the output lines), at any depth.
void drop_line_arrays(json& j) {
  if (j.is_object()) {
    for (auto& [key, value] : j.items()) {
      drop_line_arrays(value);
    }
  } else if (j.is_array()) {
    const bool lines =
        !j.empty() && std::all_of(j.begin(), j.end(), [](const json& e) { return e.is_string(); });
    if (lines) {
      j = json::array();
    } else {
      for (auto& e : j) {
        drop_line_arrays(e);
      }
    }
  }
}

// Keeps the end of every string longer than kStringCapBytes (a command's output).
void cap_strings(json& j) {
  if (j.is_string()) {
    auto& s = j.get_ref<std::string&>();
    if (s.size() > kStringCapBytes) {
      s = "[cut] " + s.substr(s.size() - kStringCapBytes);
    }
  } else if (j.is_structured()) {
    for (auto& e : j) {
      cap_strings(e);
    }
  }
}

// The snapshot file's text, at most about kSnapshotMaxBytes.
std::string snapshot_text(json doc) {
  if (!doc.is_object()) {
    doc = json{{"data", std::move(doc)}};
  }
  doc["memory"] = read_memory();
  std::string text = dump(doc);
  if (text.size() <= kSnapshotMaxBytes) {
    return text + "\n";
  }
  doc["truncated"] = true;
  drop_line_arrays(doc);
  text = dump(doc);
  if (text.size() > kSnapshotMaxBytes) {
    cap_strings(doc);
    text = dump(doc);
  }
  if (text.size() > kSnapshotMaxBytes) {
    json scalars = json::object();
    for (auto& [key, value] : doc.items()) {
      if (!value.is_structured() || key == "memory") {
        scalars[key] = value;
      }
    }
    text = dump(scalars);
  }
  return text + "\n";
}

// A snapshot file of `prefix`: `<prefix>-\d{8}T\d{6}Z(-\d+)?\.json`. Its stamp and counter (1
// without one), or nullopt for any other name.
std::optional<std::pair<std::string, unsigned long>> parse_snapshot_name(std::string_view name,
                                                                         std::string_view prefix) {
  constexpr std::string_view kExt = ".json";
  if (name.size() < prefix.size() + 1 + 16 + kExt.size() || name.substr(0, prefix.size()) != prefix ||
      name[prefix.size()] != '-' || name.substr(name.size() - kExt.size()) != kExt) {
    return std::nullopt;
  }
  std::string_view rest = name.substr(prefix.size() + 1, name.size() - prefix.size() - 1 - kExt.size());
  const auto digits = [](std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  const std::string_view stamp = rest.substr(0, 16);
  if (!digits(stamp.substr(0, 8)) || stamp[8] != 'T' || !digits(stamp.substr(9, 6)) ||
      stamp[15] != 'Z') {
    return std::nullopt;
  }
  rest.remove_prefix(16);
  unsigned long counter = 1;
  if (!rest.empty()) {
    if (rest[0] != '-' || !digits(rest.substr(1)) || rest.size() > 12) {
      return std::nullopt;
    }
    counter = std::stoul(std::string(rest.substr(1)));
  }
  return std::make_pair(std::string(stamp), counter);
}

// Deletes the oldest snapshots of `prefix` in `dir` beyond `keep`.
void apply_retention(const std::string& dir, const std::string& prefix, std::size_t keep) {
  if (keep == 0) {
    return;
  }
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    return;
  }
  struct File {
    std::string stamp;
    unsigned long counter;
    std::string name;
  };
  std::vector<File> files;
  while (const dirent* e = ::readdir(d)) {
    if (auto parsed = parse_snapshot_name(e->d_name, prefix)) {
      files.push_back(File{std::move(parsed->first), parsed->second, e->d_name});
    }
  }
  ::closedir(d);
  if (files.size() <= keep) {
    return;
  }
  std::sort(files.begin(), files.end(), [](const File& a, const File& b) {
    return std::tie(a.stamp, a.counter) < std::tie(b.stamp, b.counter);
  });
  for (std::size_t i = 0; i + keep < files.size(); ++i) {
    ::unlink((dir + "/" + files[i].name).c_str());
  }
}

std::size_t count_lines(std::string_view text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

}  // namespace

std::string CrashStore::file_prefix(const std::string& program) {
  std::string out = program;
  for (char& c : out) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) {
      c = '_';
    }
  }
  return out;
}

std::string CrashStore::snapshot_name(const std::string& program, std::int64_t ended) {
  const std::time_t t = static_cast<std::time_t>(ended);
  std::tm tm{};
  char stamp[32] = "19700101T000000Z";
  if (::gmtime_r(&t, &tm) != nullptr) {
    std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
  }
  return file_prefix(program) + "-" + stamp + ".json";
}

CrashStore::CrashStore(boost::asio::io_context& io, CrashLog& log, LogSink& main_log,
                       Options options)
    : io_(io),
      log_(log),
      main_log_(main_log),
      options_(std::move(options)),
      alive_(std::make_shared<bool>(true)) {}

CrashStore::~CrashStore() {
  *alive_ = false;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (worker_.joinable()) {
    worker_.join();
  }
}

void CrashStore::load() {
  if (options_.dir.empty()) {
    return;
  }
  const std::string records_dir = options_.dir + "/records";
  DIR* d = ::opendir(records_dir.c_str());
  if (d == nullptr) {
    return;  // nothing stored yet
  }
  std::vector<std::string> files;
  while (const dirent* e = ::readdir(d)) {
    const std::string_view name(e->d_name);
    if (name.size() > 6 && name.substr(name.size() - 6) == ".jsonl") {
      files.emplace_back(name);
    }
  }
  ::closedir(d);
  std::sort(files.begin(), files.end());
  std::vector<CrashRecord> records;
  for (const auto& file : files) {
    const auto text = read_whole(records_dir + "/" + file);
    if (!text) {
      continue;
    }
    std::string_view rest(*text);
    while (!rest.empty()) {
      const auto eol = rest.find('\n');
      const std::string_view line = rest.substr(0, eol);
      rest.remove_prefix(eol == std::string_view::npos ? rest.size() : eol + 1);
      const json j = json::parse(line, nullptr, false);
      if (j.is_discarded()) {
        continue;
      }
      if (auto record = crash_record_from_json(j)) {
        records.push_back(std::move(*record));
      }
    }
  }
  log_.load(std::move(records));
}

std::string CrashStore::choose_snapshot_path(const std::string& prefix, std::int64_t ended) {
  const std::string name = snapshot_name(prefix, ended);
  const std::string stem = options_.dir + "/" + name.substr(0, name.size() - 5);
  auto& reserved = reserved_[prefix];
  std::string path = stem + ".json";
  for (unsigned long n = 2;; ++n) {
    const bool taken = std::find(reserved.begin(), reserved.end(), path) != reserved.end();
    struct stat st {};
    // Free unless something is there: an unreachable dir (ENOTDIR, EACCES) fails later, on
    // the worker, and is reported then.
    if (!taken && ::lstat(path.c_str(), &st) != 0) {
      break;
    }
    path = stem + "-" + std::to_string(n) + ".json";
  }
  reserved.push_back(path);
  while (reserved.size() > kReservedPerPrefix) {
    reserved.pop_front();
  }
  return path;
}

CrashRecord CrashStore::add(CrashRecord record, std::optional<nlohmann::json> snapshot) {
  if (options_.dir.empty()) {
    record.snapshot.reset();
    log_.add(record);
    return record;
  }
  Job job;
  job.prefix = file_prefix(record.program);
  job.program = record.program;
  bool worker_ok = worker_.joinable();
  if (!worker_ok) {
    try {
      worker_ = std::thread([this] { worker_loop(); });
      worker_ok = true;
    } catch (const std::system_error& e) {
      main_log_.log(LogLevel::Warn,
                    fmt::format("crash: cannot start the writer thread: {}", e.what()));
    }
  }
  if (snapshot && worker_ok) {
    record.snapshot = choose_snapshot_path(job.prefix, record.ended);
    job.snapshot = std::move(snapshot);
  } else {
    record.snapshot.reset();
    if (snapshot) {
      record.snapshot_error = "cannot start the writer thread";
    }
  }
  log_.add(record);
  if (worker_ok) {
    job.record = record;
    enqueue(std::move(job));
  }
  return record;
}

void CrashStore::enqueue(Job job) {
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(job));
  }
  wake_.notify_one();
}

void CrashStore::worker_loop() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) {
        return;  // stopping, and everything queued is written
      }
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    try {
      run_job(job);
    } catch (const std::exception& e) {
      report(fmt::format("crash: cannot write records {}/records/{}.jsonl: {}", options_.dir,
                         job.prefix, e.what()),
             {}, {}, {});
    }
  }
}

void CrashStore::run_job(Job& job) {
  // The snapshot first: when it fails, the record line written next already says why.
  if (job.snapshot && job.record.snapshot) {
    const std::string path = *job.record.snapshot;
    int err = make_dirs(options_.dir);
    if (err == 0) {
      err = write_file_atomic(path, snapshot_text(std::move(*job.snapshot)));
    }
    job.snapshot.reset();
    if (err != 0) {
      const std::string why = std::strerror(err);
      job.record.snapshot.reset();
      job.record.snapshot_error = why;
      report(fmt::format("crash: cannot write snapshot {}: {}", path, why), job.program, path,
             why);
    } else {
      apply_retention(options_.dir, job.prefix, options_.keep);
    }
  }

  const std::string records_dir = options_.dir + "/records";
  const std::string path = records_dir + "/" + job.prefix + ".jsonl";
  int err = make_dirs(records_dir);
  std::string line = dump(crash_record_json(job.record)) + "\n";
  auto count = record_lines_.find(job.prefix);
  if (err == 0 && count == record_lines_.end()) {
    const auto text = read_whole(path);
    std::size_t lines = text ? count_lines(*text) : 0;
    if (text && !text->empty() && text->back() != '\n') {
      line.insert(0, "\n");  // a line cut short (the agent died mid-write) stays on its own
      ++lines;
    }
    count = record_lines_.emplace(job.prefix, lines).first;
  }
  if (err == 0) {
    err = append_file(path, line);
  }
  if (err == 0) {
    count->second += count_lines(line);
    if (count->second > 2 * kRecordsPerProgram) {
      // Rewrite with the newest lines only: appends stay O(1) and the file stays bounded.
      const auto text = read_whole(path);
      if (text) {
        std::vector<std::string_view> lines;
        std::string_view rest(*text);
        while (!rest.empty()) {
          const auto eol = rest.find('\n');
          const auto one = rest.substr(0, eol);
          rest.remove_prefix(eol == std::string_view::npos ? rest.size() : eol + 1);
          if (!one.empty()) {
            lines.push_back(one);
          }
        }
        const std::size_t from =
            lines.size() > kRecordsPerProgram ? lines.size() - kRecordsPerProgram : 0;
        std::string kept;
        for (std::size_t i = from; i < lines.size(); ++i) {
          kept.append(lines[i]);
          kept.push_back('\n');
        }
        err = write_file_atomic(path, kept);
        if (err == 0) {
          count->second = lines.size() - from;
        }
      }
    }
  }
  if (err != 0) {
    record_lines_.erase(job.prefix);  // count again once the file can be written
    report(fmt::format("crash: cannot write records {}: {}", path, std::strerror(err)), {}, {},
           {});
  }
}

void CrashStore::report(std::string line, std::string program, std::string path,
                        std::string error) {
  boost::asio::post(io_, [alive = alive_, &log = log_, &main_log = main_log_,
                          line = std::move(line), program = std::move(program),
                          path = std::move(path), error = std::move(error)] {
    if (!*alive) {
      return;
    }
    main_log.log(LogLevel::Warn, line);
    if (!path.empty()) {
      log.snapshot_failed(program, path, error);
    }
  });
}

}  // namespace zagent
