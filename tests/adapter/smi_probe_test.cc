// SmiProbe against the real OS over tests/helpers/fake-nvidia-smi (canned CSV from the
// directory in $ZAGENT_FAKE_SMI): the test plays the agent's reaper (waitpid(-1) forwarded to
// on_child_exit) while it runs the loop, and waits on `done` with a deadline. The test process
// is a child subreaper meanwhile and kills and reaps whatever is left at the end.
#include "agent/os/smi_probe.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/temp_dir.h"

namespace zagent {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

constexpr std::uint64_t kMiB = 1048576;

class SmiProbeTest : public ::testing::Test {
 protected:
  SmiProbeTest() {
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    ::setenv("ZAGENT_FAKE_SMI", dir_.path().c_str(), 1);
  }
  ~SmiProbeTest() override {
    probe_.reset();  // SIGKILLs what is still running
    const auto until = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < until && ::waitpid(-1, nullptr, WNOHANG) >= 0) {
      io_.restart();
      io_.run_for(2ms);
    }
    ::unsetenv("ZAGENT_FAKE_SMI");
    ::prctl(PR_SET_CHILD_SUBREAPER, 0);
  }

  void make_probe(std::chrono::milliseconds timeout, std::string path = ZAGENT_FAKE_NVIDIA_SMI) {
    probe_.emplace(io_, std::move(path), timeout);
  }

  void read() {
    reading_.reset();
    probe_->read([this](GpuReading r) {
      ++calls_;
      reading_ = std::move(r);
    });
  }

  /// Reaps children (forwarding them to the probe unless `forward` is false, as if the reap
  /// never came) and runs the loop until `pred` holds or the deadline passes.
  template <typename Pred>
  bool wait_for(Pred pred, std::chrono::milliseconds deadline = 10s, bool forward = true) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    while (!pred()) {
      if (std::chrono::steady_clock::now() > until) {
        return false;
      }
      for (;;) {
        int status = 0;
        const pid_t pid = forward ? ::waitpid(-1, &status, WNOHANG) : 0;
        if (pid <= 0) {
          break;
        }
        if (probe_->on_child_exit(pid, status)) {
          shells_.push_back(pid);
        }
      }
      io_.restart();
      io_.run_for(2ms);
    }
    return true;
  }

  std::optional<GpuReading> wait_reading(std::chrono::milliseconds deadline = 10s) {
    if (!wait_for([this] { return reading_.has_value(); }, deadline)) {
      return std::nullopt;
    }
    return reading_;
  }

  test::TempDir dir_;  // $ZAGENT_FAKE_SMI
  boost::asio::io_context io_;
  std::optional<SmiProbe> probe_;
  std::optional<GpuReading> reading_;
  int calls_ = 0;
  std::vector<pid_t> shells_;  // reaped pids the probe claimed
};

constexpr std::string_view kGpus =
    "0, GPU-1111, NVIDIA H200, 143771, 20480, 123291, 40, 550.54.15\n"
    "1, GPU-2222, NVIDIA H200, 143771, [N/A], 143771, 0, 550.54.15\n";

TEST_F(SmiProbeTest, ReadingMatchesTheFiles) {
  dir_.write("gpus.csv", kGpus);
  dir_.write("apps.csv", "GPU-1111, 4242, 12288\nGPU-2222, 999, [N/A]\n");
  make_probe(10s);
  EXPECT_EQ(probe_->backend(), "nvidia-smi");
  read();
  EXPECT_EQ(calls_, 0) << "never from inside read()";
  const auto r = wait_reading();
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->ok) << r->error;
  EXPECT_EQ(r->driver_version, "550.54.15");
  ASSERT_EQ(r->devices.size(), 2U);
  EXPECT_EQ(r->devices[0].uuid, "GPU-1111");
  EXPECT_EQ(r->devices[0].used_bytes, 20480 * kMiB);
  EXPECT_EQ(r->devices[0].utilization_percent, 40U);
  EXPECT_TRUE(r->devices[0].processes_known);
  EXPECT_EQ(r->devices[0].processes, (std::vector<GpuProcessUse>{{4242, 12288 * kMiB}}));
  EXPECT_EQ(r->devices[1].used_bytes, std::nullopt);
  EXPECT_EQ(r->devices[1].processes, (std::vector<GpuProcessUse>{{999, std::nullopt}}));
  EXPECT_EQ(shells_.size(), 1U);
  // Exactly once; a second reading works the same.
  io_.restart();
  io_.run_for(20ms);
  EXPECT_EQ(calls_, 1);
  read();
  const auto again = wait_reading();
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *r);
}

TEST_F(SmiProbeTest, HangEndsAtTheTimeoutAndLeavesNoProcess) {
  dir_.write("gpus.csv", kGpus);
  dir_.write("hang", "");
  make_probe(300ms);
  const auto start = std::chrono::steady_clock::now();
  read();
  const auto r = wait_reading();
  ASSERT_TRUE(r);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->error, "nvidia-smi did not answer within 0.3 s");
  EXPECT_TRUE(r->devices.empty());
  ASSERT_EQ(shells_.size(), 1U);
  // The shell led its own group: nothing of it (the fake's sleep) is left once reaped.
  const pid_t group = shells_[0];
  EXPECT_TRUE(wait_for([group] { return ::kill(-group, 0) != 0 && errno == ESRCH; }))
      << "process group " << group << " still has members";
}

TEST_F(SmiProbeTest, KilledButNeverReapedIsAnsweredAfterTheGraceAndLaterReadsFailAtOnce) {
  dir_.write("hang", "");
  make_probe(200ms);
  read();
  // Withhold the reaps, as for a process stuck in the driver.
  ASSERT_TRUE(wait_for([this] { return reading_.has_value(); }, 10s, /*forward=*/false));
  EXPECT_FALSE(reading_->ok);
  EXPECT_EQ(reading_->error, "nvidia-smi did not answer within 0.2 s");
  read();
  ASSERT_TRUE(wait_for([this] { return reading_.has_value(); }, 10s, /*forward=*/false));
  EXPECT_EQ(reading_->error, "nvidia-smi did not answer within 0.2 s (still running)");
  // The reap comes at last: the next reading runs again.
  std::filesystem::remove(dir_.file("hang"));
  dir_.write("gpus.csv", kGpus);
  ASSERT_TRUE(wait_for([this] { return !shells_.empty(); }));
  read();
  const auto r = wait_reading();
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ok) << r->error;
  EXPECT_EQ(calls_, 3);
}

TEST_F(SmiProbeTest, FailingSmiIsNotOkWithItsStderr) {
  dir_.write("gpus.csv", kGpus);
  dir_.write("fail", "Failed to initialize NVML: Driver/library version mismatch\n");
  make_probe(10s);
  read();
  const auto r = wait_reading();
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->error,
            "nvidia-smi failed (exit status 9): Failed to initialize NVML: Driver/library version "
            "mismatch");
}

TEST_F(SmiProbeTest, MissingExecutableIsNotOk) {
  make_probe(10s, dir_.file("no-such-nvidia-smi"));
  read();
  const auto r = wait_reading();
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ok);
  EXPECT_THAT(r->error, HasSubstr("nvidia-smi failed (exit status 127)"));
  EXPECT_THAT(r->error, HasSubstr("no-such-nvidia-smi"));
}

TEST_F(SmiProbeTest, ASecondReadWhileOneIsGoingIsAnsweredAtOnce) {
  dir_.write("gpus.csv", kGpus);
  make_probe(10s);
  std::optional<GpuReading> second;
  read();
  probe_->read([&second](GpuReading r) { second = std::move(r); });
  ASSERT_TRUE(wait_for([&] { return reading_ && second; }));
  EXPECT_TRUE(reading_->ok) << reading_->error;
  EXPECT_FALSE(second->ok);
  EXPECT_EQ(second->error, "nvidia-smi: a reading is already running");
}

TEST_F(SmiProbeTest, FindOnPath) {
  const std::filesystem::path bin = dir_.path() / "bin";
  const std::filesystem::path other = dir_.path() / "other";
  std::filesystem::create_directories(bin);
  std::filesystem::create_directories(other);
  const std::string plain = dir_.write("other/nvidia-smi", "not executable\n");
  ::chmod(plain.c_str(), 0644);
  std::filesystem::create_directories(dir_.path() / "dir/nvidia-smi");  // a directory
  std::filesystem::create_symlink(ZAGENT_FAKE_NVIDIA_SMI, bin / "nvidia-smi");
  const std::string path_env =
      ":relative:" + other.string() + ":" + dir_.file("dir") + ":" + bin.string() + "/";
  EXPECT_EQ(SmiProbe::find_on_path(path_env), bin.string() + "/nvidia-smi");
  EXPECT_EQ(SmiProbe::find_on_path(other.string()), std::nullopt) << "not executable";
  EXPECT_EQ(SmiProbe::find_on_path(""), std::nullopt);
  EXPECT_EQ(SmiProbe::find_on_path(dir_.file("nothing")), std::nullopt);
}

TEST_F(SmiProbeTest, FoundOnPathItRuns) {
  const std::filesystem::path bin = dir_.path() / "bin";
  std::filesystem::create_directories(bin);
  std::filesystem::create_symlink(ZAGENT_FAKE_NVIDIA_SMI, bin / "nvidia-smi");
  dir_.write("gpus.csv", kGpus);
  const auto found = SmiProbe::find_on_path(bin.string());
  ASSERT_TRUE(found);
  make_probe(10s, *found);
  read();
  const auto r = wait_reading();
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ok) << r->error;
  EXPECT_EQ(r->devices.size(), 2U);
  // No apps.csv: the query ran and listed nothing.
  EXPECT_TRUE(r->devices[0].processes_known);
  EXPECT_TRUE(r->devices[0].processes.empty());
}

}  // namespace
}  // namespace zagent
