// zctl's `gpu` verb, top's GPU column and status --json's `gpu` against a scripted client: the
// exact text per device (sizes, `?` for unknown, estimated programs, notes), the exit codes of
// an off backend and a failed reading, --json, an agent without the method (docs/zctl.md
// "gpu").
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>

#include "ctl/commands.h"
#include "ctl/render.h"
#include "tests/unit/ctl/fake_client.h"

namespace zagent::ctl {
namespace {

using test::fault;
using test::info;
using test::ok;
using test::os_error;
using test::std_error;
using PS = ProcessState;

constexpr std::string_view kMethod = "zagent.getGpuStatus";
constexpr double kGiB = 1024.0 * 1024 * 1024;

/// Two devices: one fully read with a program and another process, one with nothing known.
Json two_devices() {
  return Json::parse(R"j({"backend": "nvidia-smi", "ok": true, "error": null,
    "sampled_at": 1764000000.5, "driver_version": "550.54.15",
    "attribution": "pids", "attribution_note": null,
    "devices": [
      {"index": 0, "uuid": "GPU-11111111-2222-3333-4444-555555555555", "name": "NVIDIA H200",
       "memory_total_bytes": 150000000000, "memory_used_bytes": 21474836480,
       "memory_free_bytes": 128525163520, "utilization_percent": 40,
       "processes_known": true, "note": null,
       "programs": [{"name": "web", "group": "web", "namespec": "web",
                     "memory_bytes": 12884901888, "pids": [4242, 4250], "estimated": false}],
       "other_processes": [{"pid": 999, "memory_bytes": 2147483648}]},
      {"index": 1, "uuid": "GPU-2222", "name": "NVIDIA H200",
       "memory_total_bytes": null, "memory_used_bytes": null, "memory_free_bytes": null,
       "utilization_percent": null, "processes_known": false,
       "note": "memory.total: [N/A]", "programs": [], "other_processes": []}]})j");
}

class GpuTest : public ::testing::Test {
 protected:
  void SetUp() override {
    session_.serverurl = "unix:///tmp/sup.sock";
    session_.client = &fake_;
    session_.output = &unused_;
  }
  void TearDown() override { EXPECT_TRUE(fake_.done()) << "left: " << fake_.remaining(); }

  CommandResult run(std::string_view line) { return run_captured(session_, line); }

  void expect(std::string_view line, std::string_view out, int exit_code) {
    const CommandResult r = run(line);
    EXPECT_EQ(r.out, out) << "for: " << line;
    EXPECT_EQ(r.err, "") << "for: " << line;
    EXPECT_EQ(r.exit_code, exit_code) << "for: " << line;
  }

  /// The connection check and the call, as one round trip.
  void status(CallResult<Json> reply) {
    fake_.version_ok().expect(std::string(kMethod), Json::object(), std::move(reply));
  }

  test::FakeClient fake_;
  CapturingOutput unused_;
  Session session_;
};

TEST(GpuRender, Sizes) {
  EXPECT_EQ(gpu_size(0), "0 B");
  EXPECT_EQ(gpu_size(512), "512 B");
  EXPECT_EQ(gpu_size(1536), "1.5 KiB");
  EXPECT_EQ(gpu_size(1048575), "1.0 MiB") << "not 1024.0 KiB";
  EXPECT_EQ(gpu_size(12 * kGiB), "12.0 GiB");
  EXPECT_EQ(gpu_size(150000000000.0), "139.7 GiB");
  EXPECT_EQ(gpu_size(2048 * kGiB), "2048.0 GiB") << "GiB is the largest unit";
  EXPECT_EQ(gpu_size(-1), "0 B");
}

TEST_F(GpuTest, TwoDevicesOneBlockEach) {
  status(ok(two_devices()));
  expect("gpu",
         "nvidia-smi, driver 550.54.15, sampled 2025-11-24 16:00:00 UTC\n"
         "GPU 0  NVIDIA H200  GPU-11111111-2222-3333-4444-555555555555\n"
         "  memory  20.0 GiB used / 139.7 GiB total, 119.7 GiB free   utilization 40%\n"
         "  web    12.0 GiB  pids 4242,4250\n"
         "  other   2.0 GiB  pid 999\n"
         "GPU 1  NVIDIA H200  GPU-2222\n"
         "  memory  ? used / ? total, ? free   utilization ?\n"
         "  note: memory.total: [N/A]\n"
         "  processes: unknown\n",
         0);
  EXPECT_EQ(fake_.batches, std::vector<std::size_t>{2}) << "one round trip";
}

TEST_F(GpuTest, EstimatedProgramsUnknownMemoryAndNoProcesses) {
  Json s = two_devices();
  s["attribution"] = "estimated";
  s["attribution_note"] = "the driver shows pids of another pid namespace";
  s["driver_version"] = nullptr;
  s["sampled_at"] = nullptr;
  Json& d0 = s["devices"][0];
  d0["programs"] = Json::parse(R"j([
      {"name": "trainer", "group": "ml", "namespec": "ml:trainer", "memory_bytes": null,
       "pids": [], "estimated": true},
      {"name": "web", "group": "web", "namespec": "web", "memory_bytes": 1536,
       "pids": [7], "estimated": true}])j");
  d0["other_processes"] = Json::parse(R"j([{"pid": 31, "memory_bytes": null}])j");
  s["devices"][1]["processes_known"] = true;
  s["devices"][1]["note"] = nullptr;
  status(ok(s));
  expect("gpu",
         "nvidia-smi\n"
         "attribution: estimated (the driver shows pids of another pid namespace)\n"
         "GPU 0  NVIDIA H200  GPU-11111111-2222-3333-4444-555555555555\n"
         "  memory  20.0 GiB used / 139.7 GiB total, 119.7 GiB free   utilization 40%\n"
         "  ml:trainer        ?  (estimated)\n"
         "  web         1.5 KiB  pid 7  (estimated)\n"
         "  other             ?  pid 31\n"
         "GPU 1  NVIDIA H200  GPU-2222\n"
         "  memory  ? used / ? total, ? free   utilization ?\n"
         "  processes: none\n",
         0);
}

TEST_F(GpuTest, OffBackendExitsOne) {
  status(ok(Json::parse(R"j({"backend": "off", "ok": false, "error": null, "sampled_at": null,
      "driver_version": null, "attribution": "none", "attribution_note": null,
      "devices": []})j")));
  expect("gpu", "GPU monitoring is off (gpu=off)\n", 1);
  status(ok(Json::parse(R"j({"backend": "off", "ok": false,
      "error": "gpu=auto: neither libnvidia-ml.so.1 nor nvidia-smi was found",
      "attribution": "none", "devices": []})j")));
  expect("gpu",
         "GPU monitoring is off: gpu=auto: neither libnvidia-ml.so.1 nor nvidia-smi was found\n",
         1);
}

TEST_F(GpuTest, FailedReadingWithoutDevicesExitsOne) {
  status(ok(Json::parse(R"j({"backend": "nvml", "ok": false,
      "error": "nvmlInit: Driver/library version mismatch", "sampled_at": 1764000000,
      "driver_version": null, "attribution": "none", "attribution_note": null,
      "devices": []})j")));
  expect("gpu", "GPU reading failed: nvmlInit: Driver/library version mismatch\n", 1);
}

TEST_F(GpuTest, FailedReadingWithTheLastDevicesExitsZero) {
  Json s = two_devices();
  s["ok"] = false;
  s["error"] = "nvidia-smi did not answer within 5 s";
  s["devices"].erase(1);
  status(ok(s));
  const CommandResult r = run("gpu");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(
      r.out.starts_with("GPU reading failed: nvidia-smi did not answer within 5 s\n"
                        "nvidia-smi, driver 550.54.15, sampled 2025-11-24 16:00:00 UTC\n"
                        "GPU 0  NVIDIA H200  GPU-1111"))
      << r.out;
}

TEST_F(GpuTest, NoDevices) {
  status(ok(Json::parse(R"j({"backend": "nvidia-smi", "ok": true, "error": null,
      "sampled_at": null, "driver_version": null, "attribution": "pids", "devices": []})j")));
  expect("gpu", "nvidia-smi\nno GPU devices found\n", 0);
}

TEST_F(GpuTest, JsonIsTheAgentsObject) {
  status(ok(two_devices()));
  const CommandResult r = run("gpu --json");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.find('\n'), r.out.size() - 1) << "one line";
  EXPECT_EQ(Json::parse(r.out), two_devices());
  // The exit status is the text's.
  status(ok(Json::parse(R"j({"backend": "off", "ok": false, "error": null, "devices": []})j")));
  const CommandResult off = run("gpu --json");
  EXPECT_EQ(off.exit_code, 1);
  EXPECT_EQ(Json::parse(off.out),
            Json::parse(R"j({"backend": "off", "ok": false, "error": null, "devices": []})j"));
}

TEST_F(GpuTest, AgentWithoutTheMethodIsAClearError) {
  const std::string error =
      "Error: the agent does not serve zagent.getGpuStatus (supervisord, or a zagent without GPU "
      "monitoring)";
  status(fault(Fault::UnknownMethod));
  expect("gpu", error + "\n", 1);
  status(std_error(rpc::StdError::MethodNotFound));
  expect("gpu", error + "\n", 1);
  status(fault(Fault::UnknownMethod));
  const CommandResult r = run("gpu --json");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(Json::parse(r.out), Json({{"error", error}}));
}

TEST_F(GpuTest, BadReplyAndConnectionCheck) {
  status(ok(Json::array()));
  expect("gpu",
         "error: <class 'zagent.ProtocolError'>, unexpected reply to zagent.getGpuStatus: file: "
         "zctl line: 0\n",
         1);
  fake_.expect("supervisor.getVersion", Json::array(), os_error(ENOENT));
  expect("gpu", "unix:///tmp/sup.sock no such file\n", 7);
}

TEST_F(GpuTest, NoArgumentsAndAHelpTopic) {
  expect("gpu 0", "Error: gpu accepts no arguments\n" + *help_topic("gpu"), 1);
  expect("help gpu", "gpu\t\t\tShow each GPU: memory, utilization, the programs using it\n", 0);
  EXPECT_THAT(command_names(), ::testing::Not(::testing::Contains("gpu")));
}

// ---------------------------------------------------------------------------------------------
// top's GPU column and status --json

Json process(const std::string& name, int pid, Json gpu) {
  return {{"name", name},           {"group", name},        {"namespec", name},    {"state", 20},
          {"statename", "RUNNING"}, {"pid", pid},           {"uptime_seconds", 5}, {"restarts", 0},
          {"resources", nullptr},   {"gpu", std::move(gpu)}};
}

Json gpu_use(std::optional<double> bytes, bool estimated) {
  return {{"memory_bytes", bytes ? Json(static_cast<std::int64_t>(*bytes)) : Json(nullptr)},
          {"estimated", estimated},
          {"devices", Json::array({{{"index", 0},
                                    {"uuid", "GPU-1111"},
                                    {"memory_bytes", bytes ? Json(*bytes) : Json(nullptr)}}})}};
}

TEST_F(GpuTest, TopShowsTheGpuMemoryAndMarksEstimates) {
  fake_.version_ok().expect(
      "zagent.getProcessStats", Json{{"name", ""}},
      ok(Json::array({process("web", 10, gpu_use(12 * kGiB, false)),
                      process("ml", 11, gpu_use(1536, true)), process("idle", 12, nullptr),
                      process("nomem", 13, gpu_use(std::nullopt, false))})));
  expect("top",
         "NAME   STATE    PID  CPU%  RSS  PSS  GPU    THREADS  TREND/H  UPTIME   RESTARTS\n"
         "web    RUNNING  10   -     -    -    12.0G  -        -        0:00:05  0\n"
         "ml     RUNNING  11   -     -    -    1.5K~  -        -        0:00:05  0\n"
         "idle   RUNNING  12   -     -    -    -      -        -        0:00:05  0\n"
         "nomem  RUNNING  13   -     -    -    -      -        -        0:00:05  0\n",
         0);
}

TEST_F(GpuTest, StatusJsonRowsCarryTheGpuUse) {
  fake_.version_ok()
      .expect("supervisor.getAllProcessInfo", Json::array(),
              ok(Json::array({info("idle", "idle", PS::Running, "pid 12", 12),
                              info("new", "new", PS::Stopped, "Not started"),
                              info("web", "web", PS::Running, "pid 10", 10)})))
      .expect("zagent.getProcessStats", Json{{"name", ""}},
              ok(Json::array(
                  {process("web", 10, gpu_use(12 * kGiB, false)), process("idle", 12, nullptr)})));
  const CommandResult r = run("status --json");
  const Json doc = Json::parse(r.out);
  ASSERT_EQ(doc["processes"].size(), 3U);
  ASSERT_TRUE(doc["processes"][0].contains("gpu"));
  EXPECT_TRUE(doc["processes"][0]["gpu"].is_null()) << "no GPU use known";
  ASSERT_TRUE(doc["processes"][1].contains("gpu"));
  EXPECT_TRUE(doc["processes"][1]["gpu"].is_null()) << "not in the reply";
  EXPECT_EQ(doc["processes"][2]["gpu"], gpu_use(12 * kGiB, false));
}

}  // namespace
}  // namespace zagent::ctl
