#include "common/error.h"

#include <cstring>
#include <stdexcept>

namespace zagent {

Error errno_error(std::string what, int err) {
  return Error{ErrorCode::Io, std::move(what) + ": " + std::strerror(err)};
}

void throw_exception_from_error(const Error& e, const boost::source_location& /*loc*/) {
  throw std::runtime_error(e.message);
}

}  // namespace zagent
