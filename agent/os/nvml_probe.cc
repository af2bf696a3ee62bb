#include "agent/os/nvml_probe.h"

#include <dlfcn.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/post.hpp>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <mutex>
#include <span>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "agent/monitor/nvml_records.h"
#include "agent/os/nvml_abi.h"

namespace zagent {

using namespace nvml;

namespace {

// The symbols, resolved once in open(); read-only afterwards (the worker reads them).
struct Api {
  nvmlInit_fn init = nullptr;
  const char* init_name = "nvmlInit_v2";
  nvmlShutdown_fn shutdown = nullptr;
  nvmlErrorString_fn error_string = nullptr;
  nvmlSystemGetDriverVersion_fn driver_version = nullptr;
  nvmlDeviceGetCount_fn count = nullptr;
  const char* count_name = "nvmlDeviceGetCount_v2";
  nvmlDeviceGetHandleByIndex_fn handle = nullptr;
  const char* handle_name = "nvmlDeviceGetHandleByIndex_v2";
  nvmlDeviceGetUUID_fn uuid = nullptr;
  nvmlDeviceGetName_fn name = nullptr;
  nvmlDeviceGetMemoryInfo_v2_fn memory_v2 = nullptr;
  nvmlDeviceGetMemoryInfo_fn memory_v1 = nullptr;
  nvmlDeviceGetUtilizationRates_fn utilization = nullptr;
  nvmlDeviceGetComputeRunningProcesses_fn processes = nullptr;
  const char* processes_name = "nvmlDeviceGetComputeRunningProcesses_v3";
  nvmlDeviceGetMigMode_fn mig_mode = nullptr;  // optional: pre-Ampere drivers lack it
  std::string missing;  // the features off for want of a symbol, for every device's note
};

template <class Fn>
bool resolve(void* lib, Fn& fn, const char*& chosen, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    if (void* sym = ::dlsym(lib, name)) {
      fn = reinterpret_cast<Fn>(sym);
      chosen = name;
      return true;
    }
  }
  return false;
}

template <class Fn>
bool resolve(void* lib, Fn& fn, const char* name) {
  const char* chosen = nullptr;
  return resolve(lib, fn, chosen, {name});
}

std::string format_duration(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) {
    return fmt::format("{} s", d.count() / 1000);
  }
  if (d.count() >= 1000) {
    return fmt::format("{:.1f} s", static_cast<double>(d.count()) / 1000.0);
  }
  return fmt::format("{} ms", d.count());
}

std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// A return value of our own: the reading was given up by the loop, the call was not made.
constexpr auto kAbandoned = static_cast<nvmlReturn_t>(-1);

}  // namespace

struct NvmlProbe::Shared {
  explicit Shared(boost::asio::io_context& loop) : io(loop) {}

  Api api;                      // read-only once the worker runs
  boost::asio::io_context& io;  // results are posted here (under `mu`, while !stopping)
  /// The probe's finish(); called on the loop only, while `alive`.
  std::function<void(std::uint64_t job, GpuReading)> on_result;

  std::mutex mu;               // guards `stopping` and `pending`
  std::condition_variable cv;  // the worker waits here for a job or the stop
  bool stopping = false;       // the probe is gone: no more jobs, no more posts
  std::uint64_t pending = 0;   // a job handed over and not yet taken; 0 = none

  std::atomic<bool> alive{true};           // the probe exists (checked by posted handlers)
  std::atomic<std::uint64_t> wanted{0};    // the job the loop still waits for; 0 = none
  std::atomic<const char*> call{nullptr};  // the NVML call in progress (a literal); null = none
  std::atomic<std::int64_t> call_started_ns{0};  // steady clock, when `call` began

  bool initialized = false;  // worker only: nvmlInit succeeded
};

namespace {

// One reading, on the worker thread.
class Reader {
 public:
  Reader(NvmlProbe::Shared& shared, std::uint64_t job) : s_(shared), api_(shared.api), job_(job) {}

  GpuReading read() {
    GpuReading out;
    if (!s_.initialized) {
      const nvmlReturn_t rc = call(api_.init_name, api_.init);
      if (rc != NVML_SUCCESS) {
        out.error = failure(api_.init_name, rc);
        return out;
      }
      s_.initialized = true;
    }
    if (api_.driver_version != nullptr) {
      char buf[NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE] = {};
      if (call("nvmlSystemGetDriverVersion", api_.driver_version, buf, sizeof buf) ==
          NVML_SUCCESS) {
        out.driver_version = terminated(buf, sizeof buf);
      }
    }
    unsigned int count = 0;
    const nvmlReturn_t rc = call(api_.count_name, api_.count, &count);
    if (rc != NVML_SUCCESS) {
      if (rc == NVML_ERROR_UNINITIALIZED) {
        s_.initialized = false;  // someone shut it down: init again next time
      }
      out.error = failure(api_.count_name, rc);
      return out;
    }
    for (unsigned int i = 0; i < count; ++i) {
      out.devices.push_back(device(i));
    }
    out.ok = true;
    return out;
  }

 private:
  // Every NVML call goes through here: the loop's watch sees which call runs since when.
  template <class Fn, class... Args>
  nvmlReturn_t call(const char* name, Fn fn, Args... args) {
    if (s_.wanted.load() != job_) {
      return kAbandoned;  // the loop gave this reading up (a call hung): skip the rest
    }
    s_.call_started_ns.store(steady_ns());
    s_.call.store(name);
    const nvmlReturn_t rc = fn(args...);
    s_.call.store(nullptr);
    return rc;
  }

  std::string describe(nvmlReturn_t rc) const {
    const char* text = nullptr;
    if (api_.error_string != nullptr && rc != kAbandoned) {
      text = api_.error_string(rc);  // a table lookup in the library; it does not block
    }
    return describe_return(rc, text);
  }

  std::string failure(const char* name, nvmlReturn_t rc) const {
    return fmt::format("{}: {}", name, describe(rc));
  }

  static std::string terminated(const char* buf, std::size_t size) {
    return std::string(buf, ::strnlen(buf, size));
  }

  GpuDeviceReading device(unsigned int index) {
    GpuDeviceReading d;
    d.index = index;
    std::vector<std::string> notes;
    if (!api_.missing.empty()) {
      notes.push_back(api_.missing);
    }
    auto note = [&](std::string text) { notes.push_back(std::move(text)); };
    auto join = [&] {
      for (std::size_t i = 0; i < notes.size(); ++i) {
        d.note += (i == 0 ? "" : "; ") + notes[i];
      }
    };
    nvmlDevice_t handle = nullptr;
    nvmlReturn_t rc = call(api_.handle_name, api_.handle, index, &handle);
    if (rc != NVML_SUCCESS) {
      note(failure(api_.handle_name, rc));
      join();
      return d;
    }
    bool lost = false;
    auto failed = [&](const char* name, nvmlReturn_t code) {
      lost = lost || code == NVML_ERROR_GPU_IS_LOST;
      note(failure(name, code));
    };
    if (api_.uuid != nullptr) {
      char buf[NVML_DEVICE_UUID_V2_BUFFER_SIZE] = {};
      rc = call("nvmlDeviceGetUUID", api_.uuid, handle, buf, sizeof buf);
      if (rc == NVML_SUCCESS) {
        d.uuid = terminated(buf, sizeof buf);
      } else {
        failed("nvmlDeviceGetUUID", rc);
      }
    }
    if (!lost && api_.name != nullptr) {
      char buf[NVML_DEVICE_NAME_V2_BUFFER_SIZE] = {};
      rc = call("nvmlDeviceGetName", api_.name, handle, buf, sizeof buf);
      if (rc == NVML_SUCCESS) {
        d.name = terminated(buf, sizeof buf);
      } else {
        failed("nvmlDeviceGetName", rc);
      }
    }
    if (!lost) {
      memory(handle, d, failed);
    }
    if (!lost && api_.utilization != nullptr) {
      nvmlUtilization_t u{};
      rc = call("nvmlDeviceGetUtilizationRates", api_.utilization, handle, &u);
      if (rc == NVML_SUCCESS) {
        d.utilization_percent = u.gpu;
      } else if (rc != NVML_ERROR_NOT_SUPPORTED) {
        failed("nvmlDeviceGetUtilizationRates", rc);
      }
    }
    if (!lost) {
      processes(handle, d, failed, note);
    }
    join();
    return d;
  }

  template <class Failed>
  void memory(nvmlDevice_t handle, GpuDeviceReading& d, Failed& failed) {
    if (api_.memory_v2 != nullptr) {
      nvmlMemory_v2_t m{};
      m.version = nvmlMemory_v2;
      const nvmlReturn_t rc = call("nvmlDeviceGetMemoryInfo_v2", api_.memory_v2, handle, &m);
      if (rc == NVML_SUCCESS) {
        d.total_bytes = m.total;
        d.used_bytes = m.used;
        d.free_bytes = m.free;
        return;
      }
      // An older driver behind a newer library knows no v2 struct: the v1 call still works.
      const bool try_v1 = rc == NVML_ERROR_ARGUMENT_VERSION_MISMATCH ||
                          rc == NVML_ERROR_NOT_SUPPORTED || rc == NVML_ERROR_FUNCTION_NOT_FOUND;
      if (!try_v1 || api_.memory_v1 == nullptr) {
        failed("nvmlDeviceGetMemoryInfo_v2", rc);
        return;
      }
    }
    if (api_.memory_v1 != nullptr) {
      nvmlMemory_t m{};
      const nvmlReturn_t rc = call("nvmlDeviceGetMemoryInfo", api_.memory_v1, handle, &m);
      if (rc == NVML_SUCCESS) {
        d.total_bytes = m.total;
        d.used_bytes = m.used;
        d.free_bytes = m.free;
      } else {
        failed("nvmlDeviceGetMemoryInfo", rc);
      }
    }
  }

  template <class Failed, class Note>
  void processes(nvmlDevice_t handle, GpuDeviceReading& d, Failed& failed, Note& note) {
    if (api_.processes == nullptr) {
      return;  // the missing symbol is in api_.missing already
    }
    bool mig = false;
    if (api_.mig_mode != nullptr) {
      unsigned int current = 0;
      unsigned int pending = 0;
      if (call("nvmlDeviceGetMigMode", api_.mig_mode, handle, &current, &pending) == NVML_SUCCESS) {
        mig = current == NVML_DEVICE_MIG_ENABLE;
      }
    }
    // The two-call protocol: the count first (INSUFFICIENT_SIZE, or SUCCESS when there are
    // none), then the records into room for the largest layout, with slack for processes that
    // start between the calls.
    unsigned int count = 0;
    nvmlReturn_t rc = call(api_.processes_name, api_.processes, handle, &count, nullptr);
    std::vector<unsigned char> buffer;
    for (int attempt = 0; attempt < 4 && rc == NVML_ERROR_INSUFFICIENT_SIZE; ++attempt) {
      const unsigned int room = count + 8;
      buffer.assign(static_cast<std::size_t>(room) * kLargestRecordBytes, kSentinelByte);
      count = room;
      rc = call(api_.processes_name, api_.processes, handle, &count,
                static_cast<void*>(buffer.data()));
    }
    if (rc != NVML_SUCCESS) {
      if (rc == NVML_ERROR_GPU_IS_LOST || rc == kAbandoned) {
        failed(api_.processes_name, rc);
      } else {
        note(fmt::format("processes: {}", describe(rc)));
      }
      return;
    }
    if (buffer.empty()) {
      if (count == 0) {
        d.processes_known = true;  // SUCCESS with a count of 0: no compute process
      } else {
        note(fmt::format("processes: {} said {} records without a buffer", api_.processes_name,
                         count));
      }
      return;
    }
    RecordChoice choice = choose_records(buffer, count, d.total_bytes);
    if (choice.stride == 0) {
      note(std::move(choice.error));
      return;
    }
    d.processes_known = true;
    d.processes = std::move(choice.processes);
    if (mig) {
      // Under MIG the driver's per-process figure is not the process's use of the device.
      for (GpuProcessUse& p : d.processes) {
        p.used_bytes.reset();
      }
      note("processes: memory per process unknown (MIG mode)");
    }
  }

  NvmlProbe::Shared& s_;  // the probe's shared state (atomics, `initialized`)
  const Api& api_;        // the symbols
  std::uint64_t job_;     // this reading's id, compared with s_.wanted before each call
};

void worker_main(const std::shared_ptr<NvmlProbe::Shared>& s) {
  for (;;) {
    std::uint64_t job = 0;
    {
      std::unique_lock<std::mutex> lock(s->mu);
      s->cv.wait(lock, [&] { return s->stopping || s->pending != 0; });
      if (s->stopping) {
        break;
      }
      job = std::exchange(s->pending, 0);
    }
    GpuReading reading = Reader(*s, job).read();
    std::lock_guard<std::mutex> lock(s->mu);
    // Under the lock: the destructor sets `stopping` under it before the loop (and with it the
    // io_context) may go away, so the post never reaches a destroyed io_context.
    if (!s->stopping && s->wanted.load() == job) {
      boost::asio::post(s->io, [s, job, r = std::move(reading)]() mutable {
        if (s->alive.load()) {
          s->on_result(job, std::move(r));
        }
      });
    }
  }
  if (s->initialized && s->api.shutdown != nullptr) {
    s->api.shutdown();
  }
}

}  // namespace

std::unique_ptr<NvmlProbe> NvmlProbe::open(boost::asio::io_context& io, const std::string& library,
                                           std::chrono::milliseconds call_deadline,
                                           std::string& error) {
  void* lib = nullptr;
  std::string name = library;
  if (library.empty()) {
    name = "libnvidia-ml.so.1";
    lib = ::dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
      const char* why = ::dlerror();
      error = fmt::format("cannot load {}: {}", name, why != nullptr ? why : "unknown error");
      lib = ::dlopen("libnvidia-ml.so", RTLD_NOW | RTLD_LOCAL);
      if (lib != nullptr) {
        name = "libnvidia-ml.so";
      }
    }
  } else {
    lib = ::dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
      const char* why = ::dlerror();
      error = fmt::format("cannot load {}: {}", name, why != nullptr ? why : "unknown error");
    }
  }
  if (lib == nullptr) {
    return nullptr;
  }
  // Never dlclose'd from here on: a hung worker may be inside the library for good.
  auto shared = std::make_shared<Shared>(io);
  Api& api = shared->api;
  if (!resolve(lib, api.init, api.init_name, {"nvmlInit_v2", "nvmlInit"})) {
    error = fmt::format("{} has no nvmlInit_v2 or nvmlInit: not an NVML library", name);
    return nullptr;
  }
  if (!resolve(lib, api.count, api.count_name, {"nvmlDeviceGetCount_v2", "nvmlDeviceGetCount"}) ||
      !resolve(lib, api.handle, api.handle_name,
               {"nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex"})) {
    error = fmt::format("{} has no nvmlDeviceGetCount or nvmlDeviceGetHandleByIndex", name);
    return nullptr;
  }
  std::vector<std::string> missing;
  resolve(lib, api.shutdown, "nvmlShutdown");
  resolve(lib, api.error_string, "nvmlErrorString");
  resolve(lib, api.driver_version, "nvmlSystemGetDriverVersion");
  resolve(lib, api.mig_mode, "nvmlDeviceGetMigMode");
  if (!resolve(lib, api.uuid, "nvmlDeviceGetUUID")) {
    missing.emplace_back("nvmlDeviceGetUUID");
  }
  if (!resolve(lib, api.name, "nvmlDeviceGetName")) {
    missing.emplace_back("nvmlDeviceGetName");
  }
  const bool v2 = resolve(lib, api.memory_v2, "nvmlDeviceGetMemoryInfo_v2");
  if (!resolve(lib, api.memory_v1, "nvmlDeviceGetMemoryInfo") && !v2) {
    missing.emplace_back("nvmlDeviceGetMemoryInfo");
  }
  if (!resolve(lib, api.utilization, "nvmlDeviceGetUtilizationRates")) {
    missing.emplace_back("nvmlDeviceGetUtilizationRates");
  }
  if (!resolve(
          lib, api.processes, api.processes_name,
          {"nvmlDeviceGetComputeRunningProcesses_v3", "nvmlDeviceGetComputeRunningProcesses_v2",
           "nvmlDeviceGetComputeRunningProcesses"})) {
    missing.emplace_back("nvmlDeviceGetComputeRunningProcesses");
  }
  if (!missing.empty()) {
    api.missing = fmt::format("not in the library: {}", fmt::join(missing, ", "));
  }
  try {
    std::thread(worker_main, shared).detach();
  } catch (const std::system_error& e) {
    error = fmt::format("cannot start the NVML worker thread: {}", e.what());
    return nullptr;
  }
  error.clear();
  return std::unique_ptr<NvmlProbe>(new NvmlProbe(io, call_deadline, std::move(shared)));
}

NvmlProbe::NvmlProbe(boost::asio::io_context& io, std::chrono::milliseconds call_deadline,
                     std::shared_ptr<Shared> shared)
    : io_(io), call_deadline_(call_deadline), shared_(std::move(shared)), watch_(io) {
  shared_->on_result = [this](std::uint64_t job, GpuReading r) { finish(job, std::move(r)); };
}

NvmlProbe::~NvmlProbe() {
  shared_->alive.store(false);
  shared_->wanted.store(0);
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    shared_->stopping = true;
  }
  shared_->cv.notify_all();
  // The worker is never joined: it may be stuck inside the driver for good.
}

void NvmlProbe::read(std::function<void(GpuReading)> done) {
  auto answer_now = [&](std::string error) {
    GpuReading r;
    r.error = std::move(error);
    boost::asio::post(io_, [s = shared_, done = std::move(done), r = std::move(r)]() mutable {
      if (s->alive.load()) {
        done(std::move(r));
      }
    });
  };
  if (in_flight_ != 0) {
    answer_now("a GPU reading is already in progress");
    return;
  }
  if (const char* stuck = shared_->call.load()) {
    // Only an abandoned reading can be inside a call now: the worker is stuck there.
    const auto since = std::chrono::nanoseconds(steady_ns() - shared_->call_started_ns.load());
    answer_now(fmt::format("NVML still inside {} since {:.1f} s", stuck,
                           std::chrono::duration<double>(since).count()));
    return;
  }
  in_flight_ = next_job_++;
  done_ = std::move(done);
  shared_->wanted.store(in_flight_);
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    shared_->pending = in_flight_;
  }
  shared_->cv.notify_one();
  arm_watch();
}

void NvmlProbe::arm_watch() {
  // Often enough to catch an overrun within a quarter of the deadline, at most every 250 ms.
  const auto tick =
      std::clamp(call_deadline_ / 4, std::chrono::milliseconds(5), std::chrono::milliseconds(250));
  watch_.expires_after(tick);
  watch_.async_wait([this, s = shared_](const boost::system::error_code& ec) {
    if (ec || !s->alive.load()) {
      return;
    }
    on_watch();
  });
}

void NvmlProbe::on_watch() {
  if (in_flight_ == 0) {
    return;
  }
  const char* name = shared_->call.load();
  const auto since = std::chrono::nanoseconds(steady_ns() - shared_->call_started_ns.load());
  if (name != nullptr && since > call_deadline_) {
    shared_->wanted.store(0);  // the worker skips the rest and its result is dropped
    GpuReading r;
    r.error =
        fmt::format("NVML call {} did not return within {}", name, format_duration(call_deadline_));
    finish(in_flight_, std::move(r));
    return;
  }
  arm_watch();
}

void NvmlProbe::finish(std::uint64_t job, GpuReading reading) {
  if (job != in_flight_) {
    return;  // a reading given up on its deadline: its late result is dropped
  }
  in_flight_ = 0;
  watch_.cancel();
  auto done = std::move(done_);
  done_ = nullptr;
  done(std::move(reading));  // last: `done` may destroy the probe
}

}  // namespace zagent
