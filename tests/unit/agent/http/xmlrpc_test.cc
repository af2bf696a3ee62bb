// The XML-RPC codec: decode_call over every type and every reject, the encoders against the
// bytes Python's xmlrpc.client (and so supervisord 4.2.5) writes, and serve() over a real
// RpcMethods with the fakes of the method tests.
#include "agent/http/xmlrpc.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/unit/agent/rpc/methods_fixture.h"

namespace zagent::xmlrpc {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr std::string_view kHead = "<?xml version='1.0'?>\n";

/// A methodCall of `method` whose <params> hold `params_xml` as written.
std::string call_xml(std::string_view method, std::string_view params_xml) {
  return fmt::format(
      "<?xml version='1.0'?><methodCall><methodName>{}</methodName><params>{}"
      "</params></methodCall>",
      method, params_xml);
}

/// The one param `value_xml` (a whole <value>...</value>) decodes to.
Json param(std::string_view value_xml) {
  const auto call = decode_call(call_xml("m.x", fmt::format("<param>{}</param>", value_xml)));
  if (!call) {
    ADD_FAILURE() << value_xml << ": " << call.error();
    return Json("decode failed");
  }
  EXPECT_EQ(call->params.size(), 1u) << value_xml;
  return call->params.empty() ? Json() : call->params[0];
}

/// The error of a body that must not decode.
std::string reject(std::string_view body) {
  const auto call = decode_call(body);
  if (call) {
    ADD_FAILURE() << body << " decoded to " << call->method << " " << call->params;
    return "";
  }
  return call.error();
}

/// encode_result's body between the <param> lines: the one <value>.
std::string value_xml(const Json& v) {
  const std::string r = encode_result(v);
  const std::string head = std::string(kHead) + "<methodResponse>\n<params>\n<param>\n";
  const std::string tail = "</param>\n</params>\n</methodResponse>\n";
  EXPECT_THAT(r, StartsWith(head));
  EXPECT_EQ(r.substr(r.size() - tail.size()), tail);
  return r.substr(head.size(), r.size() - head.size() - tail.size());
}

// ---- decoding -----------------------------------------------------------------------------------

TEST(XmlRpcDecode, WhatSupervisorctlSends) {
  // spec/rpc.md §1.1, byte for byte.
  const auto call = decode_call(
      "<?xml version='1.0'?>\n<methodCall>\n<methodName>supervisor.getVersion</methodName>\n"
      "<params>\n</params>\n</methodCall>\n");
  ASSERT_TRUE(call) << call.error();
  EXPECT_EQ(call->method, "supervisor.getVersion");
  EXPECT_EQ(call->params, Json::array());
}

TEST(XmlRpcDecode, NoParamsElementIsNoParams) {
  const auto call = decode_call(
      "<methodCall><methodName>supervisor.getPID</methodName>"
      "</methodCall>");
  ASSERT_TRUE(call) << call.error();
  EXPECT_EQ(call->method, "supervisor.getPID");
  EXPECT_EQ(call->params, Json::array());
}

TEST(XmlRpcDecode, Integers) {
  EXPECT_EQ(param("<value><int>42</int></value>"), 42);
  EXPECT_EQ(param("<value><i4>-7</i4></value>"), -7);
  EXPECT_EQ(param("<value><i8>9007199254740993</i8></value>"), 9007199254740993LL);
  // Python's int(): spaces around, a plus sign, '_' between digits.
  EXPECT_EQ(param("<value><int> +5 </int></value>"), 5);
  EXPECT_EQ(param("<value><int>1_000</int></value>"), 1000);
}

TEST(XmlRpcDecode, Scalars) {
  EXPECT_EQ(param("<value><boolean>1</boolean></value>"), true);
  EXPECT_EQ(param("<value><boolean>0</boolean></value>"), false);
  EXPECT_EQ(param("<value><string>web</string></value>"), "web");
  EXPECT_EQ(param("<value><string></string></value>"), "");
  EXPECT_EQ(param("<value><string/></value>"), "");
  EXPECT_EQ(param("<value><string>  spaced\n</string></value>"), "  spaced\n");
  EXPECT_EQ(param("<value><double>2.5</double></value>"), 2.5);
  EXPECT_EQ(param("<value><double>-1e-5</double></value>"), -1e-5);
  EXPECT_EQ(param("<value><dateTime.iso8601>20261124T14:19:41</dateTime.iso8601></value>"),
            "20261124T14:19:41");
  EXPECT_EQ(param("<value><base64>aGVsbG8g\nd29ybGQ=</base64></value>"), "hello world");
  EXPECT_EQ(param("<value><base64></base64></value>"), "");
  EXPECT_EQ(param("<value><nil/></value>"), nullptr);
}

TEST(XmlRpcDecode, UntypedValueIsAString) {
  EXPECT_EQ(param("<value>web</value>"), "web");
  EXPECT_EQ(param("<value> web </value>"), " web ");
  EXPECT_EQ(param("<value></value>"), "");
  EXPECT_EQ(param("<value/>"), "");
  // Whitespace around a typed value is layout, not text.
  EXPECT_EQ(param("<value>\n  <int>3</int>\n</value>"), 3);
}

TEST(XmlRpcDecode, TextEscapesAndEncodings) {
  EXPECT_EQ(param("<value><string>&lt;a&amp;b&gt; &quot;&apos; &#233;&#x41;</string></value>"),
            "<a&b> \"' \xC3\xA9"
            "A");
  EXPECT_EQ(param("<value><![CDATA[<raw> & ]]></value>"), "<raw> & ");
  EXPECT_EQ(param("<value><string>\xC3\xA9\xE2\x82\xAC</string></value>"), "\xC3\xA9\xE2\x82\xAC");
  // A declared encoding is honoured; the text comes out as UTF-8.
  const auto latin = decode_call(
      "<?xml version='1.0' encoding='iso-8859-1'?><methodCall><methodName>m.x</methodName>"
      "<params><param><value>\xE9</value></param></params></methodCall>");
  ASSERT_TRUE(latin) << latin.error();
  EXPECT_EQ(latin->params, Json::array({"\xC3\xA9"}));
}

TEST(XmlRpcDecode, ArraysAndStructs) {
  EXPECT_EQ(param("<value><array><data></data></array></value>"), Json::array());
  EXPECT_EQ(param("<value><array><data/></array></value>"), Json::array());
  EXPECT_EQ(param("<value><struct></struct></value>"), Json::object());
  EXPECT_EQ(param("<value><array><data><value><int>1</int></value><value>two</value>"
                  "<value><array><data><value><boolean>1</boolean></value></data></array>"
                  "</value></data></array></value>"),
            Json::parse(R"([1, "two", [true]])"));
  EXPECT_EQ(param("<value><struct><member><name>a</name><value><int>1</int></value></member>"
                  "<member><name>b</name><value><struct><member><name></name><value/>"
                  "</member></struct></value></member></struct></value>"),
            Json::parse(R"({"a": 1, "b": {"": ""}})"));
  // A repeated member keeps the last value, as a Python dict does.
  EXPECT_EQ(param("<value><struct><member><name>k</name><value>1</value></member>"
                  "<member><name>k</name><value>2</value></member></struct></value>"),
            Json::parse(R"({"k": "2"})"));
}

TEST(XmlRpcDecode, SeveralParamsInOrder) {
  const auto call = decode_call(call_xml(
      "supervisor.tailProcessStdoutLog",
      "<param><value><string>web</string></value></param><param><value><int>0</int></value>"
      "</param><param><value><int>100</int></value></param>"));
  ASSERT_TRUE(call) << call.error();
  EXPECT_EQ(call->params, Json::parse(R"(["web", 0, 100])"));
}

TEST(XmlRpcDecode, PrettyPrintedDocument) {
  const auto call = decode_call(R"(<?xml version="1.0"?>
<methodCall>
  <methodName>supervisor.startProcess</methodName>
  <params>
    <param>
      <value>
        <string>web</string>
      </value>
    </param>
    <param><value><boolean>0</boolean></value></param>
  </params>
</methodCall>
)");
  ASSERT_TRUE(call) << call.error();
  EXPECT_EQ(call->method, "supervisor.startProcess");
  EXPECT_EQ(call->params, Json::parse(R"(["web", false])"));
}

TEST(XmlRpcDecode, MulticallDecodesToWhatTheRegistryTakes) {
  // As xmlrpc.client.MultiCall sends it: one array of {methodName, params} structs.
  const auto call = decode_call(call_xml(
      "system.multicall",
      "<param><value><array><data>"
      "<value><struct><member><name>methodName</name><value><string>supervisor.getPID</string>"
      "</value></member><member><name>params</name><value><array><data></data></array></value>"
      "</member></struct></value>"
      "<value><struct><member><name>methodName</name><value><string>supervisor.getProcessInfo"
      "</string></value></member><member><name>params</name><value><array><data><value>"
      "<string>web</string></value></data></array></value></member></struct></value>"
      "</data></array></value></param>"));
  ASSERT_TRUE(call) << call.error();
  EXPECT_EQ(call->params, Json::parse(R"([[
    {"methodName": "supervisor.getPID", "params": []},
    {"methodName": "supervisor.getProcessInfo", "params": ["web"]}]])"));
}

TEST(XmlRpcDecode, NestingUpToTheLimit) {
  // methodCall, params, param, value: 4 levels; each array adds array, data, value.
  std::string open;
  std::string close;
  for (int i = 0; i < 20; ++i) {
    open += "<array><data><value>";
    close = "</value></data></array>" + close;
  }
  const Json v = param("<value>" + open + "x" + close + "</value>");
  Json expected = "x";
  for (int i = 0; i < 20; ++i) {
    expected = Json::array({expected});
  }
  EXPECT_EQ(v, expected);  // 4 + 20 * 3 = 64 levels
  // One more array is 67.
  EXPECT_THAT(reject(call_xml("m.x", "<param><value>" + open + "<array><data><value>x" +
                                         "</value></data></array>" + close + "</value></param>")),
              HasSubstr("elements nested deeper than 64"));
}

TEST(XmlRpcDecode, DeepDocumentIsRejectedNotRecursed) {
  std::string body = "<methodCall><methodName>m.x</methodName><params><param>";
  for (int i = 0; i < 100000; ++i) {
    body += "<value><array><data>";
  }
  EXPECT_THAT(reject(body), HasSubstr("nested deeper than 64"));
}

TEST(XmlRpcDecode, RejectsDoctypeAndEntities) {
  EXPECT_EQ(reject("<?xml version='1.0'?>\n<!DOCTYPE methodCall [<!ENTITY e 'supervisor.getPID'>]>"
                   "<methodCall><methodName>&e;</methodName></methodCall>"),
            "line 2, column 22: a DOCTYPE is not allowed");
  EXPECT_THAT(reject("<!DOCTYPE methodCall SYSTEM 'file:///etc/passwd'><methodCall/>"),
              HasSubstr("a DOCTYPE is not allowed"));
  // The billion laughs never gets to expand.
  EXPECT_THAT(reject("<!DOCTYPE l [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;&a;&a;&a;'>]>"
                     "<methodCall><methodName>&b;</methodName></methodCall>"),
              HasSubstr("a DOCTYPE is not allowed"));
  // Without a DTD an entity reference is simply undefined.
  EXPECT_EQ(reject("<methodCall><methodName>&x;</methodName></methodCall>"),
            "line 1, column 25: undefined entity");
}

TEST(XmlRpcDecode, RejectsBadXml) {
  EXPECT_EQ(reject(""), "line 1, column 1: no element found");
  EXPECT_EQ(reject("hello"), "line 1, column 1: syntax error");
  EXPECT_EQ(reject("<methodCall><methodName>m.x</params></methodCall>"),
            "line 1, column 30: mismatched tag");
  EXPECT_THAT(reject("<?xml version='1.0'?>\n<methodCall>\n<methodName>m.x</methodName>\n<params>"),
              StartsWith("line 4, column 9: "));
  EXPECT_THAT(reject("<methodCall><methodName>m.x</methodName></methodCall><methodCall/>"),
              HasSubstr("junk after document element"));
  EXPECT_THAT(reject(std::string("<methodCall><methodName>m\0x</methodName></methodCall>", 49)),
              HasSubstr("not well-formed"));
}

TEST(XmlRpcDecode, RejectsWrongStructure) {
  EXPECT_EQ(reject("<methodResponse><params/></methodResponse>"),
            "line 1, column 1: the document is <methodResponse>, not a <methodCall>");
  EXPECT_EQ(reject("<methodCall><params/></methodCall>"),
            "line 1, column 22: <methodCall> has no <methodName>");
  EXPECT_THAT(reject("<methodCall><methodName></methodName></methodCall>"),
              HasSubstr("<methodCall> has an empty <methodName>"));
  EXPECT_THAT(reject("<methodCall><methodName>a</methodName><methodName>b</methodName>"
                     "</methodCall>"),
              HasSubstr("unexpected <methodName> in <methodCall>"));
  EXPECT_THAT(reject("<methodCall><methodName>a</methodName><params/><params/></methodCall>"),
              HasSubstr("unexpected <params> in <methodCall>"));
  EXPECT_THAT(reject(call_xml("m.x", "<value>1</value>")),
              HasSubstr("unexpected <value> in <params>"));
  EXPECT_THAT(reject(call_xml("m.x", "<param></param>")), HasSubstr("<param> has no <value>"));
  EXPECT_THAT(reject(call_xml("m.x", "<param><value>1</value><value>2</value></param>")),
              HasSubstr("unexpected <value> in <param>"));
  EXPECT_THAT(reject(call_xml("m.x", "stray<param><value/></param>")),
              HasSubstr("text in <params>"));
  EXPECT_THAT(reject("<methodCall><methodName>m.<b/>x</methodName></methodCall>"),
              HasSubstr("unexpected <b> in <methodName>"));
}

TEST(XmlRpcDecode, RejectsBadValues) {
  const auto bad = [](std::string_view value) {
    return reject(call_xml("m.x", fmt::format("<param>{}</param>", value)));
  };
  EXPECT_THAT(bad("<value><int>x</int></value>"), HasSubstr("<int> is not an integer: 'x'"));
  EXPECT_THAT(bad("<value><int></int></value>"), HasSubstr("<int> is not an integer"));
  EXPECT_THAT(bad("<value><i4>99999999999999999999</i4></value>"), HasSubstr("not an integer"));
  EXPECT_THAT(bad("<value><int>1.5</int></value>"), HasSubstr("not an integer"));
  EXPECT_THAT(bad("<value><boolean>true</boolean></value>"),
              HasSubstr("<boolean> is not 0 or 1: 'true'"));
  EXPECT_THAT(bad("<value><double>abc</double></value>"), HasSubstr("<double> is not a finite"));
  EXPECT_THAT(bad("<value><double>nan</double></value>"), HasSubstr("not a finite number"));
  EXPECT_THAT(bad("<value><double>1e999</double></value>"), HasSubstr("not a finite number"));
  EXPECT_THAT(bad("<value><base64>a*==</base64></value>"), HasSubstr("<base64> is not base64"));
  EXPECT_THAT(bad("<value><base64>aGVsbG8</base64></value>"), HasSubstr("is not base64"));
  EXPECT_THAT(bad("<value><base64>//79</base64></value>"),
              HasSubstr("<base64> does not hold UTF-8 text"));
  EXPECT_THAT(bad("<value><nil>x</nil></value>"), HasSubstr("text in <nil>"));
  EXPECT_THAT(bad("<value><float>1</float></value>"), HasSubstr("unknown type <float> in <value>"));
  EXPECT_THAT(bad("<value><int>1</int><int>2</int></value>"), HasSubstr("a second type <int>"));
  EXPECT_THAT(bad("<value>x<int>1</int></value>"), HasSubstr("<value> holds both text and <int>"));
  EXPECT_THAT(bad("<value><int>1</int>x</value>"), HasSubstr("<value> holds both a type and text"));
  EXPECT_THAT(bad("<value><int><i4>1</i4></int></value>"), HasSubstr("unexpected <i4> in <int>"));
  EXPECT_THAT(bad("<value><array></array></value>"), HasSubstr("<array> has no <data>"));
  EXPECT_THAT(bad("<value><array><value/></array></value>"),
              HasSubstr("unexpected <value> in <array>"));
  EXPECT_THAT(bad("<value><struct><value/></struct></value>"),
              HasSubstr("unexpected <value> in <struct>"));
  EXPECT_THAT(bad("<value><struct><member><value/></member></struct></value>"),
              HasSubstr("unexpected <value> in <member>"));
  EXPECT_THAT(bad("<value><struct><member><name>k</name></member></struct></value>"),
              HasSubstr("<member> has no <value>"));
  EXPECT_THAT(bad("<value><struct><member></member></struct></value>"),
              HasSubstr("<member> has no <name>"));
}

// ---- encoding -----------------------------------------------------------------------------------

TEST(XmlRpcEncode, GetStateAsSupervisordSendsIt) {
  // Captured from supervisord 4.2.5 (supervisor.getState).
  EXPECT_EQ(encode_result(Json{{"statecode", 1}, {"statename", "RUNNING"}}),
            "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><struct>\n"
            "<member>\n<name>statecode</name>\n<value><int>1</int></value>\n</member>\n"
            "<member>\n<name>statename</name>\n<value><string>RUNNING</string></value>\n"
            "</member>\n</struct></value>\n</param>\n</params>\n</methodResponse>\n");
}

TEST(XmlRpcEncode, FaultAsSupervisordSendsIt) {
  // Captured from supervisord 4.2.5 (getProcessInfo of an unknown name).
  EXPECT_EQ(encode_fault(rpc::fault_error(Fault::BadName, "nosuch")),
            "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n<value><struct>\n<member>\n"
            "<name>faultCode</name>\n<value><int>10</int></value>\n</member>\n<member>\n"
            "<name>faultString</name>\n<value><string>BAD_NAME: nosuch</string></value>\n"
            "</member>\n</struct></value>\n</fault>\n</methodResponse>\n");
  // A standard error carries its fault in `data`.
  EXPECT_THAT(encode_fault(rpc::standard_error(rpc::StdError::InvalidParams, "too many")),
              HasSubstr("<value><int>2</int></value>\n</member>\n<member>\n<name>faultString"
                        "</name>\n<value><string>INCORRECT_PARAMETERS: too many</string>"));
}

TEST(XmlRpcEncode, MulticallResultAsSupervisordSendsIt) {
  // Captured from supervisord 4.2.5: [getPID, getProcessInfo('zz')].
  EXPECT_EQ(
      encode_result(Json::array({25497, Json{{"faultCode", 10}, {"faultString", "BAD_NAME: zz"}}})),
      "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><array><data>\n"
      "<value><int>25497</int></value>\n<value><struct>\n<member>\n<name>faultCode</name>\n"
      "<value><int>10</int></value>\n</member>\n<member>\n<name>faultString</name>\n"
      "<value><string>BAD_NAME: zz</string></value>\n</member>\n</struct></value>\n"
      "</data></array></value>\n</param>\n</params>\n</methodResponse>\n");
}

TEST(XmlRpcEncode, ScalarsAsXmlrpcClientWritesThem) {
  // Each line as xmlrpc.client.dumps((v,), methodresponse=True) writes it (Python 3.11).
  EXPECT_EQ(value_xml(1), "<value><int>1</int></value>\n");
  EXPECT_EQ(value_xml(-2147483648LL), "<value><int>-2147483648</int></value>\n");
  EXPECT_EQ(value_xml(2147483647u), "<value><int>2147483647</int></value>\n");
  EXPECT_EQ(value_xml(true), "<value><boolean>1</boolean></value>\n");
  EXPECT_EQ(value_xml(false), "<value><boolean>0</boolean></value>\n");
  EXPECT_EQ(value_xml(""), "<value><string></string></value>\n");
  EXPECT_EQ(value_xml(nullptr), "<value><nil/></value>");  // sic: no newline
  EXPECT_EQ(value_xml(Json::array()), "<value><array><data>\n</data></array></value>\n");
  EXPECT_EQ(value_xml(Json::object()), "<value><struct>\n</struct></value>\n");
}

TEST(XmlRpcEncode, WideIntegersAreI8) {
  // Python's Marshaller refuses them (supervisord answers 500); xmlrpc.client reads <i8>.
  EXPECT_EQ(value_xml(2147483648LL), "<value><i8>2147483648</i8></value>\n");
  EXPECT_EQ(value_xml(-2147483649LL), "<value><i8>-2147483649</i8></value>\n");
  EXPECT_EQ(value_xml(18446744073709551615u), "<value><i8>18446744073709551615</i8></value>\n");
}

TEST(XmlRpcEncode, DoublesAsPythonRepr) {
  const auto d = [](double v) { return value_xml(v); };
  EXPECT_EQ(d(2.5), "<value><double>2.5</double></value>\n");
  EXPECT_EQ(d(1.0), "<value><double>1.0</double></value>\n");
  EXPECT_EQ(d(0.1), "<value><double>0.1</double></value>\n");
  EXPECT_EQ(d(-0.0), "<value><double>-0.0</double></value>\n");
  EXPECT_EQ(d(1e16), "<value><double>1e+16</double></value>\n");
  EXPECT_EQ(d(1e15), "<value><double>1000000000000000.0</double></value>\n");
  EXPECT_EQ(d(1e-05), "<value><double>1e-05</double></value>\n");
  EXPECT_EQ(d(0.0001), "<value><double>0.0001</double></value>\n");
  EXPECT_EQ(d(1.5e300), "<value><double>1.5e+300</double></value>\n");
  EXPECT_EQ(d(0.30000000000000004), "<value><double>0.30000000000000004</double></value>\n");
}

TEST(XmlRpcEncode, StringsEscapeOnlyAmpersandAndAngles) {
  // As xmlrpc.client.escape: quotes, tab, CR and LF go out as they are.
  EXPECT_EQ(value_xml("a<b>&c \"q\" 's'\t\r\n\xC3\xA9"),
            "<value><string>a&lt;b&gt;&amp;c \"q\" 's'\t\r\n\xC3\xA9</string></value>\n");
  EXPECT_EQ(value_xml(Json{{"<k&>", 1}}),
            "<value><struct>\n<member>\n<name>&lt;k&amp;&gt;</name>\n<value><int>1</int></value>"
            "\n</member>\n</struct></value>\n");
}

TEST(XmlRpcEncode, CharactersXmlCannotCarryBecomeReplacementCharacters) {
  // supervisord writes them raw and its supervisorctl then fails to parse the answer
  // (ANSI colours in a log); any XML parser reads ours.
  EXPECT_EQ(value_xml("\x1b[31mred\x1b[0m \x01\x7f \xEF\xBF\xBE\xEF\xBF\xBF\xEF\xBF\xBD"),
            "<value><string>\xEF\xBF\xBD[31mred\xEF\xBF\xBD[0m \xEF\xBF\xBD\x7f "
            "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD</string></value>\n");
  const auto back = decode_call(encode_call("m.x", Json::array({"\x1b[1mbold\x1b[0m"})));
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(back->params, Json::array({"\xEF\xBF\xBD[1mbold\xEF\xBF\xBD[0m"}));
}

TEST(XmlRpcEncode, BytesThatAreNotUtf8BecomeReplacementCharacters) {
  EXPECT_EQ(value_xml("ok\xFF\xFE!\xC3"),
            "<value><string>ok\xEF\xBF\xBD\xEF\xBF\xBD!\xEF\xBF\xBD</string></value>\n");
}

TEST(XmlRpcEncode, NestedArraysAndStructs) {
  EXPECT_EQ(value_xml(Json::parse(R"([1, ["x"], {"b": [], "a": null}])")),
            "<value><array><data>\n<value><int>1</int></value>\n<value><array><data>\n"
            "<value><string>x</string></value>\n</data></array></value>\n<value><struct>\n"
            "<member>\n<name>a</name>\n<value><nil/></value></member>\n<member>\n<name>b</name>\n"
            "<value><array><data>\n</data></array></value>\n</member>\n</struct></value>\n"
            "</data></array></value>\n");
}

TEST(XmlRpcEncode, BinaryIsBase64InLinesOf76) {
  EXPECT_EQ(value_xml(Json::binary({'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd'})),
            "<value><base64>\naGVsbG8gd29ybGQ=\n</base64></value>\n");
  std::vector<std::uint8_t> bytes;
  for (std::uint8_t i = 0; i < 60; ++i) {
    bytes.push_back(i);
  }
  EXPECT_EQ(value_xml(Json::binary(bytes)),
            "<value><base64>\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEy"
            "MzQ1Njc4\nOTo7\n</base64></value>\n");
}

/// The member names of the (first) struct in `xml`, in order.
std::vector<std::string> member_names(const std::string& xml) {
  std::vector<std::string> names;
  for (std::size_t at = xml.find("<name>"); at != std::string::npos;
       at = xml.find("<name>", at + 1)) {
    const std::size_t end = xml.find("</name>", at);
    names.push_back(xml.substr(at + 6, end - at - 6));
  }
  return names;
}

TEST(XmlRpcEncode, StructsKeepSupervisordsMemberOrder) {
  // getProcessInfo's order (rpcinterface.py), then zagent's extra keys sorted.
  Json info = Json::object();
  for (const char* k : {"description", "pid", "stderr_logfile", "stdout_logfile", "logfile",
                        "exitstatus", "spawnerr", "statename", "state", "now", "stop", "start",
                        "group", "name", "stdout_log_error", "last_cause"}) {
    info[k] = 0;
  }
  EXPECT_THAT(member_names(value_xml(info)),
              ::testing::ElementsAre("name", "group", "start", "stop", "now", "state", "statename",
                                     "spawnerr", "exitstatus", "logfile", "stdout_logfile",
                                     "stderr_logfile", "pid", "description", "last_cause",
                                     "stdout_log_error"));
  // The result struct of the group calls, captured from supervisord 4.2.5.
  EXPECT_EQ(value_xml(rpc_test::RS("web", "web")),
            "<value><struct>\n<member>\n<name>name</name>\n<value><string>web</string></value>\n"
            "</member>\n<member>\n<name>group</name>\n<value><string>web</string></value>\n"
            "</member>\n<member>\n<name>status</name>\n<value><int>80</int></value>\n</member>\n"
            "<member>\n<name>description</name>\n<value><string>OK</string></value>\n</member>\n"
            "</struct></value>\n");
  // The two-key shapes too, with more keys after them.
  EXPECT_THAT(member_names(value_xml(Json{{"statename", "RUNNING"}, {"statecode", 1}, {"a", 0}})),
              ::testing::ElementsAre("statecode", "statename", "a"));
  EXPECT_THAT(member_names(value_xml(Json{{"faultString", ""}, {"faultCode", 1}, {"a", 0}})),
              ::testing::ElementsAre("faultCode", "faultString", "a"));
  // Anything else: sorted.
  EXPECT_THAT(member_names(value_xml(Json{{"b", 1}, {"name", 2}, {"a", 3}})),
              ::testing::ElementsAre("a", "b", "name"));
}

TEST(XmlRpcEncode, CallAsXmlrpcClientWritesIt) {
  EXPECT_EQ(encode_call("supervisor.getVersion", Json::array()),
            "<?xml version='1.0'?>\n<methodCall>\n<methodName>supervisor.getVersion</methodName>"
            "\n<params>\n</params>\n</methodCall>\n");
  EXPECT_EQ(encode_call("supervisor.tailProcessStdoutLog", Json::parse(R"(["web", 0, 100])")),
            "<?xml version='1.0'?>\n<methodCall>\n<methodName>supervisor.tailProcessStdoutLog"
            "</methodName>\n<params>\n<param>\n<value><string>web</string></value>\n</param>\n"
            "<param>\n<value><int>0</int></value>\n</param>\n<param>\n<value><int>100</int>"
            "</value>\n</param>\n</params>\n</methodCall>\n");
}

TEST(XmlRpcEncode, EveryTypeRoundTrips) {
  const Json params = Json::parse(R"([
    "text <&> \"'", "", 0, -1, 2147483647, 4294967296, -9007199254740993, true, false, 2.5,
    -1e-300, 1e300, null, [], {}, [1, [2, [3, {"k": [null, "v"]}]]],
    {"name": "web", "group": "web", "status": 80, "description": "OK", "extra": [1.5]}])");
  const auto back = decode_call(encode_call("m.x", params));
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(back->method, "m.x");
  EXPECT_EQ(back->params, params);
}

// ---- serve --------------------------------------------------------------------------------------

class XmlRpcServeTest : public rpc_test::RpcMethodsTest {
 protected:
  /// serve() once; it must answer at once.
  http::Response post(std::string_view body) {
    std::optional<http::Response> got = post_async(body);
    if (!got) {
      ADD_FAILURE() << body << ": no answer";
      return {};
    }
    return *got;
  }
  std::optional<http::Response> post_async(std::string_view body) {
    answers_ = std::make_shared<std::vector<http::Response>>();
    serve(*methods_, body, [answers = answers_](http::Response r) { answers->push_back(r); });
    EXPECT_LE(answers_->size(), 1u) << "answered twice";
    return answers_->empty() ? std::nullopt : std::optional(answers_->front());
  }
  std::shared_ptr<std::vector<http::Response>> answers_;
};

TEST_F(XmlRpcServeTest, GetState) {
  make(rpc_test::kWeb);
  const http::Response r = post(encode_call("supervisor.getState", Json::array()));
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.content_type, "text/xml");
  EXPECT_EQ(r.body, encode_result(Json{{"statecode", 1}, {"statename", "RUNNING"}}));
}

TEST_F(XmlRpcServeTest, FaultsAreHttp200) {
  make(rpc_test::kWeb);
  http::Response r = post(encode_call("supervisor.getProcessInfo", Json::array({"nosuch"})));
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.content_type, "text/xml");
  EXPECT_EQ(r.body, encode_fault(rpc::fault_error(Fault::BadName, "nosuch")));
  // Unknown method and wrong params: supervisord's faults 1 and 2 (captured from it for the
  // unknown method, byte for byte).
  r = post(encode_call("supervisor.nosuch", Json::array()));
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body,
            "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n<value><struct>\n<member>\n"
            "<name>faultCode</name>\n<value><int>1</int></value>\n</member>\n<member>\n"
            "<name>faultString</name>\n<value><string>UNKNOWN_METHOD</string></value>\n"
            "</member>\n</struct></value>\n</fault>\n</methodResponse>\n");
  r = post(encode_call("supervisor.getState", Json::array({"x"})));
  EXPECT_EQ(r.status, 200u);
  EXPECT_THAT(r.body, HasSubstr("<int>2</int>"));
  EXPECT_THAT(r.body, HasSubstr("<string>INCORRECT_PARAMETERS"));
  r = post(encode_call("supervisor.getProcessInfo", Json::array({5})));
  EXPECT_THAT(r.body, HasSubstr("<string>INCORRECT_PARAMETERS"));
}

TEST_F(XmlRpcServeTest, UndecodableBodyIs400WithMedusasPage) {
  make(rpc_test::kWeb);
  const http::Response r = post("hello");
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(r.content_type, "text/html");
  EXPECT_EQ(r.body,
            "<head>\r\n<title>Error response</title>\r\n</head>\r\n<body>\r\n"
            "<h1>Error response</h1>\r\n<p>Error code 400.\r\n<p>Message: Bad Request.\r\n"
            "<p>line 1, column 1: syntax error.\r\n</body>\r\n");
  EXPECT_EQ(post("<methodCall><params/></methodCall>").status, 400u);
  EXPECT_THAT(post("<methodCall><methodName>&lt;x</methodName><params><param/></params>"
                   "</methodCall>")
                  .body,
              HasSubstr("<p>line 1, column 59: &lt;param&gt; has no &lt;value&gt;.\r\n"));
}

TEST_F(XmlRpcServeTest, LogTextIsEscaped) {
  make(rpc_test::kWeb);
  control_.files["/var/log/web.out"] = "hello <a&b> ]]> \"q\" 's' \xC3\xA9\n";
  const http::Response r =
      post(encode_call("supervisor.readProcessStdoutLog", Json::parse(R"(["web", 0, 0])")));
  EXPECT_EQ(r.status, 200u);
  // Captured from supervisord 4.2.5 for the same log.
  EXPECT_EQ(r.body,
            "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><string>hello "
            "&lt;a&amp;b&gt; ]]&gt; \"q\" 's' \xC3\xA9\n</string></value>\n</param>\n</params>\n"
            "</methodResponse>\n");
}

TEST_F(XmlRpcServeTest, ResultThatIsNotUtf8Is500) {
  // supervisord: readProcessStdoutLog of binary output fails to decode and answers 500.
  make(rpc_test::kWeb);
  control_.files["/var/log/web.out"] = "ok\xFF\xFE\n";
  for (const char* method :
       {"supervisor.readProcessStdoutLog", "supervisor.tailProcessStdoutLog"}) {
    const http::Response r = post(encode_call(method, Json::parse(R"(["web", 0, 100])")));
    EXPECT_EQ(r.status, 500u) << method;
    EXPECT_EQ(r.content_type, "text/html");
    EXPECT_THAT(r.body, HasSubstr("<p>Error code 500.\r\n<p>Message: Internal Server Error.\r\n"));
  }
}

TEST_F(XmlRpcServeTest, Multicall) {
  make(rpc_test::kWeb);
  const Json calls = Json::parse(R"([[
    {"methodName": "supervisor.getPID", "params": []},
    {"methodName": "supervisor.getProcessInfo", "params": ["zz"]},
    {"methodName": "system.multicall", "params": [[]]},
    {"params": []},
    {"methodName": "supervisor.getState"}]])");
  const http::Response r = post(encode_call("system.multicall", calls));
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, encode_result(Json::parse(R"([4242,
      {"faultCode": 10, "faultString": "BAD_NAME: zz"},
      {"faultCode": 2, "faultString": "INCORRECT_PARAMETERS: Recursive system.multicall forbidden"},
      {"faultCode": 2, "faultString": "INCORRECT_PARAMETERS: No methodName"},
      {"statecode": 1, "statename": "RUNNING"}])")));
}

TEST_F(XmlRpcServeTest, WaitingCallAnswersLater) {
  make("[program:web]\ncommand=/bin/web\nautostart=false\nstartsecs=1\n");
  const std::optional<http::Response> now =
      post_async(encode_call("supervisor.startProcess", Json::parse(R"(["web", true])")));
  EXPECT_FALSE(now.has_value());
  advance(std::chrono::milliseconds(1100));
  ASSERT_EQ(answers_->size(), 1u);
  EXPECT_EQ(answers_->front().status, 200u);
  EXPECT_EQ(answers_->front().body, encode_result(true));
}

TEST_F(XmlRpcServeTest, ConfigInfoKeepsSupervisordsOrder) {
  make(rpc_test::kWeb);
  const http::Response r = post(encode_call("supervisor.getAllConfigInfo", Json::array()));
  ASSERT_EQ(r.status, 200u);
  const std::vector<std::string> names = member_names(r.body);
  // Captured from supervisord 4.2.5's getAllConfigInfo.
  const std::vector<std::string> supervisord{"autostart",
                                             "directory",
                                             "uid",
                                             "command",
                                             "exitcodes",
                                             "group",
                                             "group_prio",
                                             "inuse",
                                             "killasgroup",
                                             "name",
                                             "process_prio",
                                             "redirect_stderr",
                                             "startretries",
                                             "startsecs",
                                             "stdout_capture_maxbytes",
                                             "stdout_events_enabled",
                                             "stdout_logfile",
                                             "stdout_logfile_backups",
                                             "stdout_logfile_maxbytes",
                                             "stdout_syslog",
                                             "stopsignal",
                                             "stopwaitsecs",
                                             "stderr_capture_maxbytes",
                                             "stderr_events_enabled",
                                             "stderr_logfile",
                                             "stderr_logfile_backups",
                                             "stderr_logfile_maxbytes",
                                             "stderr_syslog",
                                             "serverurl"};
  ASSERT_GE(names.size(), supervisord.size());
  EXPECT_EQ(std::vector<std::string>(names.begin(), names.begin() + supervisord.size()),
            supervisord);
}

}  // namespace
}  // namespace zagent::xmlrpc
