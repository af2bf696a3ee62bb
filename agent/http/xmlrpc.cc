// The XML-RPC codec of POST /RPC2. Decoding is an expat push parse into a small stack machine
// (one frame per open element); encoding writes what Python's xmlrpc.client.dumps writes, which
// is what supervisord sends. Pure.
#include "agent/http/xmlrpc.h"

#include <expat.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <exception>
#include <limits>
#include <memory>
#include <optional>
#include <system_error>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "agent/rpc/methods.h"
#include "common/pystr.h"

namespace zagent::xmlrpc {
namespace {

using rpc::Json;

// ---------------------------------------------------------------------------------------------
// Decoding

/// What an open element is. Int stands for <int>, <i4> and <i8>.
// clang-format off
enum class Kind {
  MethodCall, MethodName, Params, Param, Value, Int, Boolean, String, Double, DateTime, Base64,
  Nil, Array, Data, Struct, Member, Name
};
// clang-format on

/// One open element.
struct Frame {
  Kind kind = Kind::MethodCall;
  std::string tag;                  // as written, for messages
  std::string text;                 // character data directly inside it
  std::optional<Json> value;        // Value: its typed child's value; Param/Member: their value
  Json items = Json::array();       // Params, Data: the values so far; Struct: the members
  std::optional<std::string> name;  // Member: its <name>; MethodCall: seen <methodName>
  bool has_child = false;           // Value: a typed child was seen; Array: <data> was seen
  bool has_params = false;          // MethodCall: <params> was seen
};

/// The elements a <value> may hold, and the kind each opens.
std::optional<Kind> type_kind(std::string_view tag) {
  // clang-format off
  static constexpr std::array<std::pair<std::string_view, Kind>, 11> kTypes{
      {{"int", Kind::Int}, {"i4", Kind::Int}, {"i8", Kind::Int}, {"boolean", Kind::Boolean},
       {"string", Kind::String}, {"double", Kind::Double}, {"dateTime.iso8601", Kind::DateTime},
       {"base64", Kind::Base64}, {"nil", Kind::Nil}, {"array", Kind::Array},
       {"struct", Kind::Struct}}};
  // clang-format on
  for (const auto& [name, kind] : kTypes) {
    if (name == tag) {
      return kind;
    }
  }
  return std::nullopt;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

using Decoded = boost::system::result<Call, std::string>;

Decoded failure(std::string message) {
  return Decoded(boost::system::in_place_error, std::move(message));
}

bool all_space(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return is_space(c); });
}

constexpr std::string_view kBase64 =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Decodes base64 text; whitespace (line breaks) is skipped. nullopt when it is not base64.
std::optional<std::string> base64_decode(std::string_view text) {
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  std::size_t symbols = 0;
  std::size_t padding = 0;
  for (const char c : text) {
    const std::size_t v = c == '=' ? 64 : kBase64.find(c);
    if (is_space(c)) {
      continue;
    }
    ++symbols;
    if (c == '=') {
      ++padding;
    } else if (v == std::string_view::npos || padding > 0) {
      return std::nullopt;  // not base64, or data after the padding
    } else {
      acc = (acc << 6) | static_cast<std::uint32_t>(v);
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        out.push_back(static_cast<char>((acc >> bits) & 0xFFu));
      }
    }
  }
  if (symbols % 4 != 0 || padding > 2) {
    return std::nullopt;
  }
  return out;
}

/// The parse: expat's callbacks drive it; the first error stops expat and is kept.
class Decoder {
 public:
  static constexpr std::size_t kMaxDepth = 64;

  Decoder() : parser_(XML_ParserCreate(nullptr)) {}
  ~Decoder() {
    if (parser_ != nullptr) {
      XML_ParserFree(parser_);
    }
  }
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  Decoded run(std::string_view body) {
    if (parser_ == nullptr) {
      return failure("cannot create the XML parser");
    }
    XML_SetUserData(parser_, this);
    XML_SetElementHandler(parser_, &Decoder::on_start, &Decoder::on_end);
    XML_SetCharacterDataHandler(parser_, &Decoder::on_text);
    // No DTD at all: the parse stops at <!DOCTYPE, before any declaration in it, so no entity
    // is ever declared, let alone expanded (internal or external).
    XML_SetStartDoctypeDeclHandler(parser_, &Decoder::on_doctype);
    // expat takes an int length: feed a large body in pieces.
    constexpr std::size_t kChunk = std::size_t{1} << 30;
    do {
      const std::size_t n = std::min(body.size(), kChunk);
      const bool last = n == body.size();
      if (XML_Parse(parser_, body.data(), static_cast<int>(n), last ? XML_TRUE : XML_FALSE) !=
          XML_STATUS_OK) {
        if (!error_) {
          fail(XML_ErrorString(XML_GetErrorCode(parser_)));
        }
        return failure(*error_);
      }
      body.remove_prefix(n);
    } while (!body.empty());
    if (error_) {
      return failure(*error_);
    }
    if (!call_) {
      return failure("no <methodCall> element");
    }
    return std::move(*call_);
  }

 private:
  static void on_start(void* self, const XML_Char* name, const XML_Char** /*attrs*/) {
    static_cast<Decoder*>(self)->start(name);
  }
  static void on_end(void* self, const XML_Char* name) { static_cast<Decoder*>(self)->end(name); }
  static void on_text(void* self, const XML_Char* s, int len) {
    static_cast<Decoder*>(self)->text(std::string_view(s, static_cast<std::size_t>(len)));
  }
  static void on_doctype(void* self, const XML_Char* /*name*/, const XML_Char* /*sysid*/,
                         const XML_Char* /*pubid*/, int /*has_internal_subset*/) {
    static_cast<Decoder*>(self)->fail("a DOCTYPE is not allowed");
  }
  /// Keeps the first error, with expat's position, and stops the parse.
  void fail(std::string_view what) {
    if (error_) {
      return;
    }
    error_ = fmt::format("line {}, column {}: {}", XML_GetCurrentLineNumber(parser_),
                         XML_GetCurrentColumnNumber(parser_) + 1, what);
    XML_StopParser(parser_, XML_FALSE);
  }

  void start(std::string_view tag) {
    if (error_) {
      return;
    }
    if (stack_.size() >= kMaxDepth) {
      fail(fmt::format("elements nested deeper than {}", kMaxDepth));
      return;
    }
    if (stack_.empty()) {
      if (tag != "methodCall") {
        fail(fmt::format("the document is <{}>, not a <methodCall>", tag));
        return;
      }
      push(Kind::MethodCall, tag);
      return;
    }
    Frame& top = stack_.back();
    const auto unexpected = [&] { fail(fmt::format("unexpected <{}> in <{}>", tag, top.tag)); };
    switch (top.kind) {
      case Kind::MethodCall:
        if (tag == "methodName" && !top.name) {
          push(Kind::MethodName, tag);
        } else if (tag == "params" && !top.has_params) {
          top.has_params = true;
          push(Kind::Params, tag);
        } else {
          unexpected();
        }
        return;
      case Kind::Params:
        if (tag == "param") {
          push(Kind::Param, tag);
        } else {
          unexpected();
        }
        return;
      case Kind::Param:
      case Kind::Data:
        if (tag == "value" && (top.kind == Kind::Data || !top.value)) {
          push(Kind::Value, tag);
        } else {
          unexpected();
        }
        return;
      case Kind::Value: {
        const std::optional<Kind> kind = type_kind(tag);
        if (!kind) {
          fail(fmt::format("unknown type <{}> in <value>", tag));
        } else if (top.has_child) {
          fail(fmt::format("a second type <{}> in <value>", tag));
        } else if (!all_space(top.text)) {
          fail(fmt::format("<value> holds both text and <{}>", tag));
        } else {
          top.has_child = true;
          push(*kind, tag);
        }
        return;
      }
      case Kind::Array:
        if (tag == "data" && !top.has_child) {
          top.has_child = true;
          push(Kind::Data, tag);
        } else {
          unexpected();
        }
        return;
      case Kind::Struct:
        if (tag == "member") {
          push(Kind::Member, tag);
        } else {
          unexpected();
        }
        return;
      case Kind::Member:
        if (tag == "name" && !top.name && !top.value) {
          push(Kind::Name, tag);
        } else if (tag == "value" && top.name && !top.value) {
          push(Kind::Value, tag);
        } else {
          unexpected();
        }
        return;
      default:
        unexpected();  // scalars, <nil/>, <name> and <methodName> hold text only
        return;
    }
  }

  void text(std::string_view s) {
    if (error_ || stack_.empty()) {
      return;
    }
    Frame& top = stack_.back();
    switch (top.kind) {
      case Kind::MethodCall:
      case Kind::Params:
      case Kind::Param:
      case Kind::Array:
      case Kind::Data:
      case Kind::Struct:
      case Kind::Member:
      case Kind::Nil:
        if (!all_space(s)) {
          fail(fmt::format("text in <{}>", top.tag));
        }
        return;
      case Kind::Value:
        if (top.has_child && !all_space(s)) {
          fail("<value> holds both a type and text");
          return;
        }
        top.text.append(s);
        return;
      default:
        top.text.append(s);
        return;
    }
  }

  void end(std::string_view /*tag*/) {
    if (error_ || stack_.empty()) {
      return;
    }
    Frame frame = std::move(stack_.back());
    stack_.pop_back();
    std::optional<Json> value = finish(frame);
    if (error_) {
      return;
    }
    if (stack_.empty()) {
      return;  // </methodCall>: finish() has set call_
    }
    Frame& parent = stack_.back();
    switch (frame.kind) {
      case Kind::MethodName:
        parent.name = std::move(frame.text);
        return;
      case Kind::Params:
        params_ = std::move(frame.items);
        return;
      case Kind::Param:
        parent.items.push_back(std::move(*value));
        return;
      case Kind::Value:
        if (parent.kind == Kind::Data) {
          parent.items.push_back(std::move(*value));
        } else {
          parent.value = std::move(value);  // Param, Member
        }
        return;
      case Kind::Data:
        parent.value = std::move(frame.items);
        return;
      case Kind::Member:
        // supervisord compat: a repeated member name keeps the last value (a Python dict).
        parent.items[*frame.name] = std::move(*frame.value);
        return;
      case Kind::Name:
        parent.name = std::move(frame.text);
        return;
      default:
        parent.value = std::move(value);  // a typed element inside its <value>
        return;
    }
  }

  /// The value a closed element stands for; an error for an incomplete or bad one.
  std::optional<Json> finish(Frame& frame) {
    const auto bad = [&](std::string_view why) {
      fail(fmt::format("<{}> {}", frame.tag, why));
      return std::nullopt;
    };
    switch (frame.kind) {
      case Kind::MethodCall:
        if (!frame.name) {
          return bad("has no <methodName>");
        }
        if (frame.name->empty()) {
          return bad("has an empty <methodName>");
        }
        call_ = Call{std::move(*frame.name), std::move(params_)};
        return std::nullopt;
      case Kind::Param:
        if (!frame.value) {
          return bad("has no <value>");
        }
        return std::move(frame.value);
      case Kind::Member:
        if (!frame.name) {
          return bad("has no <name>");
        }
        if (!frame.value) {
          return bad("has no <value>");
        }
        return std::nullopt;
      case Kind::Value:
        if (frame.has_child) {
          return std::move(frame.value);
        }
        return Json(std::move(frame.text));  // untyped: a string, spaces kept
      case Kind::Array:
        if (!frame.value) {
          return bad("has no <data>");
        }
        return std::move(frame.value);
      case Kind::Struct:
        return std::move(frame.items);
      case Kind::Int: {
        // supervisord compat: Python's int() of the text (spaces, a sign, '_' separators).
        const std::optional<std::int64_t> n = py_int(frame.text);
        if (!n) {
          return bad(fmt::format("is not an integer: '{}'", py_strip(frame.text)));
        }
        return Json(*n);
      }
      case Kind::Boolean: {
        const std::string_view t = py_strip(frame.text);
        if (t == "1") {
          return Json(true);
        }
        if (t == "0") {
          return Json(false);
        }
        return bad(fmt::format("is not 0 or 1: '{}'", t));
      }
      case Kind::Double: {
        const std::string_view t = py_strip(frame.text);
        std::string_view digits = t;
        if (!digits.empty() && digits.front() == '+') {
          digits.remove_prefix(1);
        }
        double d = 0;
        const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), d);
        if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
            !std::isfinite(d) || (digits.front() == '-' && t.front() == '+')) {
          return bad(fmt::format("is not a finite number: '{}'", t));
        }
        return Json(d);
      }
      case Kind::String:
      case Kind::DateTime:
        return Json(std::move(frame.text));
      case Kind::Base64: {
        std::optional<std::string> bytes = base64_decode(frame.text);
        if (!bytes) {
          return bad("is not base64");
        }
        // supervisord compat: it decodes the bytes as UTF-8 text and refuses the call if
        // they are not.
        if (!is_utf8(*bytes)) {
          return bad("does not hold UTF-8 text");
        }
        return Json(std::move(*bytes));
      }
      case Kind::Nil:
        return Json(nullptr);
      default:
        return std::nullopt;  // MethodName, Params, Data, Name: taken by end()
    }
  }

  void push(Kind kind, std::string_view tag) {
    Frame& frame = stack_.emplace_back();
    frame.kind = kind;
    frame.tag = tag;
    if (kind == Kind::Struct) {
      frame.items = Json::object();
    }
  }

  XML_Parser parser_;                 // owned
  std::vector<Frame> stack_;          // the open elements, outermost first
  Json params_ = Json::array();       // the <params> once closed
  std::optional<Call> call_;          // set at </methodCall>
  std::optional<std::string> error_;  // the first error
};

// ---------------------------------------------------------------------------------------------
// Encoding

/// The member order supervisord writes for the structs it returns (its dict literals), so
/// that a struct of ours reads byte for byte like its. A struct that has every key of a
/// shape gets them in that order, then its other keys sorted; others are sorted.
using Shape = std::vector<std::string_view>;

const std::vector<Shape>& shapes() {
  static const std::vector<Shape> kShapes = [] {
    std::vector<Shape> out;
    for (std::string_view keys :
         {// rpcinterface.getAllConfigInfo
          "autostart directory uid command exitcodes group group_prio inuse killasgroup name "
          "process_prio redirect_stderr startretries startsecs stdout_capture_maxbytes "
          "stdout_events_enabled stdout_logfile stdout_logfile_backups "
          "stdout_logfile_maxbytes stdout_syslog stopsignal stopwaitsecs "
          "stderr_capture_maxbytes stderr_events_enabled stderr_logfile "
          "stderr_logfile_backups stderr_logfile_maxbytes stderr_syslog serverurl",
          // rpcinterface.getProcessInfo
          "name group start stop now state statename spawnerr exitstatus logfile "
          "stdout_logfile stderr_logfile pid description",
          // the result structs of the group and all-process calls
          "name group status description",
          "statecode statename",     // getState
          "faultCode faultString"})  // faults
    {
      Shape& shape = out.emplace_back();
      for (std::size_t at = 0; at < keys.size();) {
        const std::size_t space = std::min(keys.find(' ', at), keys.size());
        shape.push_back(keys.substr(at, space - at));
        at = space + 1;
      }
    }
    return out;
  }();
  return kShapes;
}

const Shape* shape_of(const Json& object) {
  for (const Shape& shape : shapes()) {
    if (std::all_of(shape.begin(), shape.end(),
                    [&](std::string_view k) { return object.contains(k); })) {
      return &shape;
    }
  }
  return nullptr;
}

/// `s` with what is not UTF-8 replaced by U+FFFD, as the JSON-RPC side writes it (encode_line).
std::string replace_bad_utf8(std::string_view s) {
  const Json j = std::string(s);
  return Json::parse(j.dump(-1, ' ', false, Json::error_handler_t::replace)).get<std::string>();
}

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

/// Python's xmlrpc.client.escape: &, < and > only; quotes, CR and the rest go out as they
/// are. But for the characters XML 1.0 cannot carry at all, raw or as a reference (the C0
/// controls other than tab, LF and CR; U+FFFE, U+FFFF): they become U+FFFD.
/// supervisord compat, deliberately not matched: it writes them raw, and then its own
/// supervisorctl fails to parse the answer (`tail` of a log with ANSI colours, Supervisor
/// issue #85).
void append_escaped(std::string& out, std::string_view s) {
  std::string clean;
  if (!is_utf8(s)) {
    clean = replace_bad_utf8(s);
    s = clean;
  }
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '&') {
      out.append("&amp;");
    } else if (c == '<') {
      out.append("&lt;");
    } else if (c == '>') {
      out.append("&gt;");
    } else if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') {
      out.append(kReplacement);
    } else if (s.substr(i, 3) == "\xEF\xBF\xBE" || s.substr(i, 3) == "\xEF\xBF\xBF") {
      out.append(kReplacement);
      i += 2;
    } else {
      out.push_back(c);
    }
  }
}

/// Python's repr() of a float, which xmlrpc.client writes in <double>: the shortest digits
/// that read back, fixed notation for exponents -4..15, else `1e+16`; `.0` when integral.
/// fmt's default form is the same but for the `.0`.
std::string python_float_repr(double d) {
  std::string out = fmt::format("{}", d);
  if (out.find_first_of(".en") == std::string::npos) {
    out.append(".0");
  }
  return out;
}

/// Python's base64.encodebytes: lines of 76 characters, each ending in a newline.
void append_base64(std::string& out, const std::vector<std::uint8_t>& bytes) {
  std::string line;
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::size_t n = std::min<std::size_t>(3, bytes.size() - i);
    std::uint32_t v = 0;
    for (std::size_t k = 0; k < 3; ++k) {
      v = (v << 8) | (k < n ? bytes[i + k] : 0u);
    }
    for (std::size_t k = 0; k < 4; ++k) {
      line.push_back(k <= n ? kBase64[(v >> (18 - 6 * k)) & 63u] : '=');
    }
    if (line.size() == 76 || i + 3 >= bytes.size()) {
      out.append(line).push_back('\n');
      line.clear();
    }
  }
}

/// One <value>, as xmlrpc.client's Marshaller writes it.
void append_value(std::string& out, const Json& v) {
  switch (v.type()) {
    case Json::value_t::null:
    case Json::value_t::discarded:
      out.append("<value><nil/></value>");  // xmlrpc.client writes no newline here
      return;
    case Json::value_t::boolean:
      out.append(v.get<bool>() ? "<value><boolean>1</boolean></value>\n"
                               : "<value><boolean>0</boolean></value>\n");
      return;
    case Json::value_t::number_integer: {
      const auto n = v.get<std::int64_t>();
      // Beyond 32 bits Python's Marshaller raises (supervisord answers 500); <i8> is what
      // xmlrpc.client reads for a wider integer.
      const bool narrow = n >= std::numeric_limits<std::int32_t>::min() &&
                          n <= std::numeric_limits<std::int32_t>::max();
      out.append(narrow ? fmt::format("<value><int>{}</int></value>\n", n)
                        : fmt::format("<value><i8>{}</i8></value>\n", n));
      return;
    }
    case Json::value_t::number_unsigned: {
      const auto n = v.get<std::uint64_t>();
      out.append(n <= static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max())
                     ? fmt::format("<value><int>{}</int></value>\n", n)
                     : fmt::format("<value><i8>{}</i8></value>\n", n));
      return;
    }
    case Json::value_t::number_float:
      out.append("<value><double>");
      out.append(python_float_repr(v.get<double>()));
      out.append("</double></value>\n");
      return;
    case Json::value_t::string:
      out.append("<value><string>");
      append_escaped(out, v.get_ref<const std::string&>());
      out.append("</string></value>\n");
      return;
    case Json::value_t::binary:
      out.append("<value><base64>\n");
      append_base64(out, v.get_binary());
      out.append("</base64></value>\n");
      return;
    case Json::value_t::array:
      out.append("<value><array><data>\n");
      for (const Json& item : v) {
        append_value(out, item);
      }
      out.append("</data></array></value>\n");
      return;
    case Json::value_t::object: {
      out.append("<value><struct>\n");
      const auto member = [&](std::string_view key, const Json& item) {
        out.append("<member>\n<name>");
        append_escaped(out, key);
        out.append("</name>\n");
        append_value(out, item);
        out.append("</member>\n");
      };
      const Shape* shape = shape_of(v);
      if (shape != nullptr) {
        for (const std::string_view key : *shape) {
          member(key, *v.find(key));
        }
      }
      for (const auto& [key, item] : v.items()) {
        if (shape == nullptr || std::find(shape->begin(), shape->end(), key) == shape->end()) {
          member(key, item);
        }
      }
      out.append("</struct></value>\n");
      return;
    }
  }
}

constexpr std::string_view kHeader = "<?xml version='1.0'?>\n";

/// True when every string in `v` (keys included) is UTF-8.
bool all_utf8(const Json& v) {
  switch (v.type()) {
    case Json::value_t::string:
      return is_utf8(v.get_ref<const std::string&>());
    case Json::value_t::array:
      return std::all_of(v.begin(), v.end(), [](const Json& item) { return all_utf8(item); });
    case Json::value_t::object:
      for (const auto& [key, item] : v.items()) {
        if (!is_utf8(key) || !all_utf8(item)) {
          return false;
        }
      }
      return true;
    default:
      return true;
  }
}

/// Medusa's error page, the body supervisord sends with a 400 or a 500; `detail` (ours) is
/// one more paragraph saying why.
http::Response error_page(unsigned status, std::string_view reason, std::string_view detail) {
  http::Response r;
  r.status = status;
  r.content_type = "text/html";
  r.body = fmt::format(
      "<head>\r\n<title>Error response</title>\r\n</head>\r\n<body>\r\n"
      "<h1>Error response</h1>\r\n<p>Error code {}.\r\n<p>Message: {}.\r\n",
      status, reason);
  if (!detail.empty()) {
    r.body.append("<p>");
    append_escaped(r.body, detail);
    r.body.append(".\r\n");
  }
  r.body.append("</body>\r\n");
  return r;
}

http::Response xml_response(std::string body) {
  http::Response r;
  r.status = 200;
  r.content_type = "text/xml";
  r.body = std::move(body);
  return r;
}

}  // namespace

boost::system::result<Call, std::string> decode_call(std::string_view body) {
  try {
    Decoder decoder;
    return decoder.run(body);
  } catch (const std::exception& e) {  // no memory, or a JSON value that cannot be built
    return failure(std::string("cannot decode the call: ") + e.what());
  }
}

std::string encode_result(const rpc::Json& result) {
  std::string out(kHeader);
  out.append("<methodResponse>\n<params>\n<param>\n");
  append_value(out, result);
  out.append("</param>\n</params>\n</methodResponse>\n");
  return out;
}

std::string encode_fault(const rpc::RpcError& error) {
  std::string out(kHeader);
  out.append("<methodResponse>\n<fault>\n");
  append_value(out, rpc::fault_struct(error));
  out.append("</fault>\n</methodResponse>\n");
  return out;
}

std::string encode_call(std::string_view method, const rpc::Json& params) {
  std::string out(kHeader);
  out.append("<methodCall>\n<methodName>");
  append_escaped(out, method);
  out.append("</methodName>\n<params>\n");
  if (params.is_array()) {
    for (const Json& p : params) {
      out.append("<param>\n");
      append_value(out, p);
      out.append("</param>\n");
    }
  }
  out.append("</params>\n</methodCall>\n");
  return out;
}

void serve(RpcMethods& methods, std::string_view body, http::Respond respond) {
  boost::system::result<Call, std::string> call = decode_call(body);
  if (!call) {
    // supervisord compat: a body it cannot unmarshal, or one without a method name, is a
    // 400 with Medusa's error page (xmlrpc.py continue_request).
    respond(error_page(400, "Bad Request", call.error()));
    return;
  }
  auto shared = std::make_shared<http::Respond>(std::move(respond));
  methods.call(call->method, call->params, [shared](RpcOutcome outcome) {
    http::Response response;
    try {
      if (!outcome) {
        response = xml_response(encode_fault(outcome.error()));
      } else if (!all_utf8(*outcome)) {
        // supervisord compat: a result string that is not UTF-8 (a log read of binary
        // output) fails its decode to text, and the call answers 500.
        response = error_page(500, "Internal Server Error", "the result is not UTF-8 text");
      } else {
        response = xml_response(encode_result(*outcome));
      }
    } catch (const std::exception& e) {  // no memory
      response = error_page(500, "Internal Server Error", e.what());
    }
    (*shared)(std::move(response));
  });
}

}  // namespace zagent::xmlrpc
