#include "agent/os/smi_probe.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <utility>

#include "agent/monitor/gpu_smi_parse.h"

namespace zagent {

namespace asio = boost::asio;

namespace {

// After the runner's timeout the group is SIGKILLed and the shell's reap ends the run. A
// process stuck in the driver (uninterruptible sleep) outlives SIGKILL: this long after the
// timeout the reading is answered without waiting for it.
constexpr std::chrono::milliseconds kReapGrace{1000};

// PosixSnapshotRunner's own note at the end of a run it killed at its timeout.
constexpr std::string_view kRunnerTimeoutNote = "[snapshot_command timed out after ";

bool timed_out(std::string_view output) {
  return output.starts_with(kRunnerTimeoutNote) ||
         output.find(fmt::format("\n{}", kRunnerTimeoutNote)) != std::string_view::npos;
}

GpuReading failed(std::string error) {
  GpuReading r;
  r.error = std::move(error);
  return r;
}

}  // namespace

SmiProbe::SmiProbe(asio::io_context& io, std::string nvidia_smi_path,
                   std::chrono::milliseconds timeout)
    : io_(io),
      command_(smi_command(nvidia_smi_path)),
      timeout_(timeout),
      deadline_(io),
      runner_(io) {}

SmiProbe::~SmiProbe() { *alive_ = false; }

void SmiProbe::read(std::function<void(GpuReading)> done) {
  if (running_) {
    // done_ empty: the deadline already answered for a run that was never reaped.
    post_done(std::move(done),
              failed(done_ ? std::string("nvidia-smi: a reading is already running")
                           : fmt::format("{} (still running)", timeout_error())));
    return;
  }
  running_ = true;
  done_ = std::move(done);
  const std::uint64_t generation = ++generation_;
  runner_.run(command_, timeout_,
              [this, generation](std::string output) { finish(generation, std::move(output)); });
  deadline_.expires_after(timeout_ + kReapGrace);
  deadline_.async_wait([this, generation, alive = alive_](const boost::system::error_code& ec) {
    // A destroyed timer calls back with operation_aborted: `this` may be gone then.
    if (ec || !*alive) {
      return;
    }
    on_deadline(generation);
  });
}

bool SmiProbe::on_child_exit(pid_t pid, int status) { return runner_.on_child_exit(pid, status); }

void SmiProbe::finish(std::uint64_t generation, std::string output) {
  if (generation != generation_) {
    return;
  }
  running_ = false;
  deadline_.cancel();
  if (!done_) {
    return;  // answered at the deadline; the late result of a hung run means nothing now
  }
  auto done = std::move(done_);
  done_ = nullptr;
  // The runner posted this: calling `done` here is already outside read().
  done(timed_out(output) ? failed(timeout_error()) : parse_smi_output(output));
}

void SmiProbe::on_deadline(std::uint64_t generation) {
  // A cancel() that came after the timer expired still delivers success: check the run.
  if (generation != generation_ || !running_ || !done_) {
    return;
  }
  auto done = std::move(done_);
  done_ = nullptr;
  done(failed(timeout_error()));
}

std::string SmiProbe::timeout_error() const {
  return fmt::format("nvidia-smi did not answer within {} s",
                     static_cast<double>(timeout_.count()) / 1000.0);
}

void SmiProbe::post_done(std::function<void(GpuReading)> done, GpuReading reading) {
  asio::post(io_, [alive = alive_, done = std::move(done), reading = std::move(reading)] {
    if (*alive) {
      done(reading);
    }
  });
}

std::optional<std::string> SmiProbe::find_on_path(const std::string& path_env) {
  std::string_view rest = path_env;
  while (true) {
    const std::size_t colon = rest.find(':');
    const std::string_view dir = rest.substr(0, colon);
    if (!dir.empty() && dir.front() == '/') {
      std::string candidate(dir);
      if (candidate.back() != '/') {
        candidate += '/';
      }
      candidate += "nvidia-smi";
      struct stat st {};
      if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
          ::access(candidate.c_str(), X_OK) == 0) {
        return candidate;
      }
    }
    if (colon == std::string_view::npos) {
      return std::nullopt;
    }
    rest.remove_prefix(colon + 1);
  }
}

}  // namespace zagent
