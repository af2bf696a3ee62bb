// echo_stdin: prints `ready`, then `got: LINE` for each line read from stdin, and `eof` when
// stdin ends (then exits 0). Exits 3 at once if stdin is not readable.
#include <iostream>
#include <string>

int main() {
  std::cout << "ready" << std::endl;
  std::string line;
  while (std::getline(std::cin, line)) {
    std::cout << "got: " << line << std::endl;
  }
  if (std::cin.bad()) {
    return 3;
  }
  std::cout << "eof" << std::endl;
  return 0;
}
