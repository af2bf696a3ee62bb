// The method registry: each method's name, parameter list, help text and handler, and the
// one path every call takes (parameter binding, the state gate, the exception guard). Knows
// nothing of the agent: the method families (method_families.h) register into it. Pure.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/system/result.hpp>

#include "common/protocol.h"

namespace zagent {

using rpc::Json;
using rpc::RpcError;

/// A method's answer: its result, or the error to send.
using RpcOutcome = boost::system::result<Json, RpcError>;
/// Called exactly once per call, possibly later (a `wait` on start/stop), on the loop thread.
using RpcReply = std::function<void(RpcOutcome)>;

/// One parameter of a method.
struct MethodParam {
  std::string_view name;
  std::string_view type;         ///< XML-RPC type name (string int boolean array struct), or
                                 ///< `signal`: a string or an int, bound as a string
  std::optional<Json> fallback;  ///< the default; nullopt = required
};

/// The bound arguments: every parameter, in the spec's order, defaults filled in, types checked.
using MethodArgs = std::vector<Json>;
/// Runs one call with its bound arguments; `reply` as RpcReply says. May throw (the registry
/// then answers FAILED).
using MethodHandler = std::function<void(const MethodArgs&, RpcReply)>;

struct MethodSpec {
  std::string_view name;
  std::string_view returns;  ///< XML-RPC type name of the result
  std::vector<MethodParam> params;
  std::string_view help;
  MethodHandler handler;
  bool state_checked = true;  ///< SHUTDOWN_STATE when the agent is shutting down
};

/// Method name -> spec. Filled once at start, then only read; loop thread only.
class MethodRegistry {
 public:
  struct Hooks {
    std::function<bool()> accepting;   ///< false: state-checked methods answer SHUTDOWN_STATE
    std::function<void()> after_call;  ///< after every handler that ran (it may have changed
                                       ///< the process table or a deadline)
  };
  explicit MethodRegistry(Hooks hooks);

  /// Adds a method. Two methods of one name are a bug: aborts.
  void add(MethodSpec spec);

  /// Runs one method. `params` is a JSON array (positional), an object (named) or null.
  /// Unknown method: -32601 with UNKNOWN_METHOD as data; bad params: -32602. `reply` is
  /// called exactly once: at once, or later for a waiting call. Never throws.
  void call(std::string_view method, const Json& params, RpcReply reply) const;

  bool has_method(std::string_view method) const { return find(method) != nullptr; }
  /// Every method name, sorted.
  std::vector<std::string> method_names() const;
  /// The spec of `method`; null if there is none.
  const MethodSpec* find(std::string_view method) const;

 private:
  Hooks hooks_;                                             // the agent's gate and change report
  std::map<std::string, MethodSpec, std::less<>> methods_;  // by name
};

}  // namespace zagent
