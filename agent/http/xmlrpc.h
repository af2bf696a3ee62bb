// The XML-RPC codec of POST /RPC2 (DESIGN.md "The HTTP front"): supervisord's wire format
// over the same method table the JSON-RPC side uses. Decodes with expat (no DTD, no entity
// expansion); encodes results and faults as supervisord does. Pure.
#pragma once

#include <string>
#include <string_view>

#include <boost/system/result.hpp>

#include "agent/http/http_types.h"
#include "common/protocol.h"

namespace zagent {
class RpcMethods;
}

namespace zagent::xmlrpc {

/// One decoded <methodCall>.
struct Call {
  std::string method;
  rpc::Json params;  ///< a JSON array, one element per <param>
};

/// Decodes a <methodCall> document; the error says what is wrong with it (and where:
/// `line L, column C: ...`, expat's position, columns from 1). A DOCTYPE, elements nested
/// deeper than 64, an unknown type or a malformed value are errors. Never throws.
boost::system::result<Call, std::string> decode_call(std::string_view body);
/// A <methodResponse> with one <param>: the result, byte for byte as supervisord writes the
/// same value (docs/rpc.md "XML-RPC"). Bytes that are not UTF-8 become U+FFFD.
std::string encode_result(const rpc::Json& result);
/// A <methodResponse> with a <fault>: faultCode and faultString as rpc::fault_struct gives them.
std::string encode_fault(const rpc::RpcError& error);
/// A <methodCall> of `method` with one <param> per element of `params` (an array), as
/// xmlrpc.client.dumps writes it: what a client sends (tests, and the fuzzer's round trip).
std::string encode_call(std::string_view method, const rpc::Json& params);

/// POST /RPC2: decodes `body`, runs the call through `methods` and answers the XML (or an
/// HTTP error for a body that is no methodCall), through `respond`, exactly once: 200
/// text/xml with the result or the fault; 400 with supervisord's (Medusa's) error page, plus
/// the decode error, for a body that does not decode; 500 for a result that is not UTF-8.
/// `respond` runs later for a waiting call (startProcess with wait).
void serve(RpcMethods& methods, std::string_view body, http::Respond respond);

}  // namespace zagent::xmlrpc
