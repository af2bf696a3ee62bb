// libFuzzer target for what an HTTP client controls on POST /RPC2: the body. It runs it through
// decode_call and checks invariants that must hold for any input: a decoded call has a method
// and an array of params, and what the encoders write for it (a call, a result, a fault)
// decodes back to the same values. Build: `make fuzz-xmlrpc` (tests/fuzz/CMakeLists.txt).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "agent/http/xmlrpc.h"
#include "agent/rpc/methods.h"

namespace zagent {

// The fuzzer drives the codec only; serve(), which reaches the method table, is not run here
// (tests/unit/agent/http/xmlrpc_test.cc covers it), so the table is not linked in.
void RpcMethods::call(std::string_view, const Json&, RpcReply) { std::abort(); }

namespace xmlrpc {
namespace {

void check(bool ok, const char* what, std::string_view context = {}) {
  if (!ok) {
    std::fprintf(stderr, "invariant broken: %s\ncontext: %.*s\n", what,
                 static_cast<int>(context.size()), context.data());
    std::abort();
  }
}

/// `v` as it reads back once encoded: line ends normalised as an XML parser reads them (CR LF
/// and CR become LF; the encoders, like xmlrpc.client, write a CR as it is), and what XML
/// cannot carry (C0 controls but tab and LF, U+FFFE, U+FFFF) as U+FFFD, which the encoders
/// write for it. Such strings come from <base64>.
rpc::Json read_back(const rpc::Json& v) {
  const auto fix = [](const std::string& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
      const auto c = static_cast<unsigned char>(s[i]);
      if (c == '\r') {
        if (i + 1 == s.size() || s[i + 1] != '\n') {
          out.push_back('\n');
        }
      } else if (c < 0x20 && c != '\t' && c != '\n') {
        out.append("\xEF\xBF\xBD");
      } else if (s.compare(i, 3, "\xEF\xBF\xBE") == 0 || s.compare(i, 3, "\xEF\xBF\xBF") == 0) {
        out.append("\xEF\xBF\xBD");
        i += 2;
      } else {
        out.push_back(s[i]);
      }
    }
    return out;
  };
  if (v.is_string()) {
    return fix(v.get<std::string>());
  }
  if (v.is_array()) {
    rpc::Json out = rpc::Json::array();
    for (const rpc::Json& item : v) {
      out.push_back(read_back(item));
    }
    return out;
  }
  if (v.is_object()) {
    rpc::Json out = rpc::Json::object();
    for (const auto& [key, item] : v.items()) {
      out[fix(key)] = read_back(item);
    }
    return out;
  }
  return v;
}

/// The values the <param> of a methodResponse holds, read back through decode_call.
rpc::Json result_value(const std::string& response) {
  constexpr std::string_view kOpen = "<methodResponse>";
  constexpr std::string_view kClose = "</methodResponse>";
  std::string as_call = response;
  const std::size_t open = as_call.find(kOpen);
  const std::size_t close = as_call.rfind(kClose);
  check(open != std::string::npos && close != std::string::npos, "response has its root", response);
  as_call.replace(close, kClose.size(), "</methodCall>");
  as_call.replace(open, kOpen.size(), "<methodCall><methodName>r</methodName>");
  const auto back = decode_call(as_call);
  check(back.has_value(), "encoded response reads back", as_call);
  check(back->params.size() == 1, "a response has one param", as_call);
  return back->params[0];
}

void check_call(const Call& call) {
  check(!call.method.empty(), "a decoded call has a method");
  check(call.params.is_array(), "params are an array");
  const rpc::Json expected = read_back(call.params);
  const std::string again = encode_call(call.method, call.params);
  const auto back = decode_call(again);
  check(back.has_value(), "encoded call decodes", again);
  check(back->method == read_back(rpc::Json(call.method)).get<std::string>(), "method round-trips",
        again);
  check(back->params == expected, "params round-trip", again);
  check(result_value(encode_result(call.params)) == expected, "result round-trips");
  const rpc::Json fault =
      result_value(encode_result(rpc::fault_struct(rpc::fault_error(Fault::BadName, call.method))));
  check(fault.is_object() && fault.size() == 2, "fault struct round-trips");
  (void)encode_fault(rpc::fault_error(Fault::Failed, call.method));
}

}  // namespace
}  // namespace xmlrpc
}  // namespace zagent

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const auto call = zagent::xmlrpc::decode_call(body);
  if (call) {
    zagent::xmlrpc::check_call(*call);
  } else {
    zagent::xmlrpc::check(!call.error().empty(), "an error says what is wrong");
  }
  return 0;
}
