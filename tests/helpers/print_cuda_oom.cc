// print_cuda_oom [--delay-ms MS] [--stream stdout|stderr] [--kind cuda_oom|gpu_fault|none]:
// prints "ready" on stdout, waits MS milliseconds (default 0), then writes a Python
// traceback of a PyTorch training step to the stream (default stderr) and stays alive,
// useless, until a signal ends it. The traceback's last line is, by kind (default cuda_oom):
//   cuda_oom:  torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB
//              (GPU 0; 23.65 GiB total capacity; 21.10 GiB already allocated; 1.19 GiB free;
//              22.00 GiB reserved in total by PyTorch)          [one line]
//   gpu_fault: RuntimeError: CUDA error: an illegal memory access was encountered
//   none:      ValueError: bad input   (a traceback that mentions neither CUDA nor memory)
// Exit status 2 on a usage error.
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

constexpr const char* kTrainingStack =
    "Traceback (most recent call last):\n"
    "  File \"/opt/app/train.py\", line 212, in <module>\n"
    "    main()\n"
    "  File \"/opt/app/train.py\", line 198, in main\n"
    "    loss = train_step(model, batch, optimizer)\n"
    "           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n"
    "  File \"/opt/app/train.py\", line 141, in train_step\n"
    "    logits = model(batch[\"input_ids\"].to(device))\n"
    "             ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n"
    "  File \"/usr/local/lib/python3.11/site-packages/torch/nn/modules/module.py\", "
    "line 1518, in _wrapped_call_impl\n"
    "    return self._call_impl(*args, **kwargs)\n"
    "           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n"
    "  File \"/usr/local/lib/python3.11/site-packages/torch/nn/modules/module.py\", "
    "line 1527, in _call_impl\n"
    "    return forward_call(*args, **kwargs)\n"
    "           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n"
    "  File \"/opt/app/model.py\", line 88, in forward\n"
    "    h = self.mlp(self.norm(x))\n"
    "        ^^^^^^^^^^^^^^^^^^^^^^\n";

constexpr const char* kOomLine =
    "torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; "
    "23.65 GiB total capacity; 21.10 GiB already allocated; 1.19 GiB free; 22.00 GiB "
    "reserved in total by PyTorch)\n";

constexpr const char* kFaultLine =
    "RuntimeError: CUDA error: an illegal memory access was encountered\n";

constexpr const char* kHarmless =
    "Traceback (most recent call last):\n"
    "  File \"/opt/app/prepare.py\", line 57, in <module>\n"
    "    main()\n"
    "  File \"/opt/app/prepare.py\", line 49, in main\n"
    "    rows = [parse_row(line) for line in source]\n"
    "            ^^^^^^^^^^^^^^^\n"
    "  File \"/opt/app/prepare.py\", line 31, in parse_row\n"
    "    raise ValueError(\"bad input\")\n"
    "ValueError: bad input\n";

int usage() {
  std::fputs(
      "usage: print_cuda_oom [--delay-ms MS] [--stream stdout|stderr] "
      "[--kind cuda_oom|gpu_fault|none]\n",
      stderr);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  long delay_ms = 0;
  FILE* stream = stderr;
  const char* kind = "cuda_oom";
  for (int i = 1; i < argc; ++i) {
    if (i + 1 >= argc) {
      return usage();
    }
    const char* value = argv[++i];
    if (std::strcmp(argv[i - 1], "--delay-ms") == 0) {
      char* end = nullptr;
      delay_ms = std::strtol(value, &end, 10);
      if (end == value || *end != '\0' || delay_ms < 0) {
        return usage();
      }
    } else if (std::strcmp(argv[i - 1], "--stream") == 0) {
      if (std::strcmp(value, "stdout") == 0) {
        stream = stdout;
      } else if (std::strcmp(value, "stderr") == 0) {
        stream = stderr;
      } else {
        return usage();
      }
    } else if (std::strcmp(argv[i - 1], "--kind") == 0) {
      if (std::strcmp(value, "cuda_oom") != 0 && std::strcmp(value, "gpu_fault") != 0 &&
          std::strcmp(value, "none") != 0) {
        return usage();
      }
      kind = value;
    } else {
      return usage();
    }
  }
  std::fputs("ready\n", stdout);
  std::fflush(stdout);
  timespec wait{delay_ms / 1000, (delay_ms % 1000) * 1'000'000};
  while (nanosleep(&wait, &wait) != 0) {
  }
  if (std::strcmp(kind, "none") == 0) {
    std::fputs(kHarmless, stream);
  } else {
    std::fputs(kTrainingStack, stream);
    std::fputs(std::strcmp(kind, "cuda_oom") == 0 ? kOomLine : kFaultLine, stream);
  }
  std::fflush(stream);
  while (true) {
    pause();
  }
}
