// [unix_http_server], [inet_http_server] and [rpcinterface:x].
#include "agent/config/loader.h"
#include "agent/config/value_parsers.h"
#include "common/pystr.h"

namespace zagent::loading {
namespace {

constexpr std::string_view kMainRpcFactory = "supervisor.rpcinterface:make_main_rpcinterface";

}  // namespace

void Loader::load_servers() {
  const FormatNames names = base_names();
  for (const auto& s : doc_.sections) {
    const bool is_unix = s.name == "unix_http_server";
    const bool is_inet = s.name == "inet_http_server";
    if (!is_unix && !is_inet) {
      continue;
    }
    // supervisord compat: every value of these sections is %-expanded (here, ENV_*).
    const auto username_value = expanded(s, "username", names, false);
    const auto password_value = expanded(s, "password", names, false);
    const std::string username = username_value.value_or("");
    const std::string password = password_value.value_or("");
    if ((s.find("username") == nullptr) != (s.find("password") == nullptr)) {
      add_error("Section [" + s.name +
                    "] contains incomplete authentication: If a username or a password is "
                    "specified, both the username and password must be specified",
                &s, nullptr, false);
    }
    if (is_inet) {
      load_inet_http_server(s, names, username, password);
    } else {
      load_unix_http_server(s, names, username, password);
    }
  }
}

void Loader::load_inet_http_server(const IniSection& s, const FormatNames& names,
                                   const std::string& username, const std::string& password) {
  const IniOption* port = s.find("port");
  if (port == nullptr) {
    add_error("section [inet_http_server] has no port value", &s, nullptr, false);
    return;
  }
  auto address = expanded(s, "port", names, false);
  if (!address) {
    return;
  }
  auto parsed = parse_inet_address(*address);
  if (!parsed) {
    add_error(parsed.error().message, &s, port, false);
    return;
  }
  config_.inet_http_server = InetHttpServerConfig{*parsed, username, password};
}

void Loader::load_unix_http_server(const IniSection& s, const FormatNames& names,
                                   const std::string& username, const std::string& password) {
  UnixHttpServerConfig server;
  server.username = username;
  server.password = password;
  const IniOption* file = s.find("file");
  if (file == nullptr) {
    add_error("section [unix_http_server] has no file value", &s, nullptr, false);
    return;
  }
  auto path = expanded(s, "file", names, false);
  if (!path) {
    return;
  }
  auto user_expanded = expand_user(py_strip(*path));
  server.file = absolute_normal(cwd_, *user_expanded);
  if (auto chmod = expanded(s, "chmod", names, false)) {
    if (auto mode = parse_octal(*chmod)) {
      server.chmod = *mode;
    } else {
      add_error("Invalid chmod value " + *chmod, &s, s.find("chmod"), false);
    }
  }
  if (auto chown = expanded(s, "chown", names, false)) {
    load_socket_chown(s, *chown, server);
  }
  config_.unix_http_server = server;
}

// supervisord compat: `user` or `user:group`, names or ids, all of which must exist.
void Loader::load_socket_chown(const IniSection& s, const std::string& v,
                               UnixHttpServerConfig& server) {
  const auto colon = v.find(':');
  const std::string user = v.substr(0, colon);
  bool ok = false;
  if (auto spec = resolve_user(user)) {
    // supervisord compat: `user` alone leaves the socket's group as created.
    server.chown_uid = spec->uid;
    ok = true;
    if (colon != std::string::npos) {
      const std::string group = v.substr(colon + 1);
      if (auto gid = py_int(group);
          gid && *gid >= 0 && host_.group_exists(static_cast<gid_t>(*gid))) {
        server.chown_gid = static_cast<gid_t>(*gid);
      } else if (auto named = host_.group_by_name(group)) {
        server.chown_gid = *named;
      } else {
        ok = false;
      }
    }
  }
  if (!ok) {
    add_error("Invalid sockchown value " + v, &s, s.find("chown"), false);
  }
}

void Loader::load_rpcinterfaces() {
  for (const auto& s : doc_.sections) {
    if (!s.name.starts_with("rpcinterface:")) {
      continue;
    }
    const IniOption* factory = s.find("supervisor.rpcinterface_factory");
    if (factory == nullptr) {
      add_error("section [" + s.name + "] does not specify a supervisor.rpcinterface_factory",
                &s, nullptr, false);
      continue;
    }
    if (py_strip(factory->value) == kMainRpcFactory) {
      config_.rpcinterfaces.emplace_back(after_colon(s.name));
    } else {
      note(LogLevel::Warn, "[" + s.name + "] names the RPC interface factory " +
                               std::string(py_strip(factory->value)) +
                               ", which is not supported; the section is ignored");
    }
  }
}

}  // namespace zagent::loading
