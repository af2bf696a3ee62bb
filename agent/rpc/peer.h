// The peer of a control-socket connection, read from the kernel: SO_PEERCRED and the
// supplementary groups in /proc/PID/status. An adapter (system calls); the decision made with
// them is the pure agent/rpc/access.h.
#pragma once

#include <sys/types.h>

#include <optional>

#include "agent/rpc/access.h"

namespace zagent {

/// The credentials of the process at the other end of the connected Unix socket `fd`, as of
/// its connect(); std::nullopt if getsockopt(SO_PEERCRED) fails.
std::optional<PeerCredentials> read_peer_credentials(int fd);

/// True if `peer`'s process has `gid` among its supplementary groups (/proc/PID/status);
/// false if that cannot be read (the process is gone, or /proc is not mounted).
bool in_supplementary_group(const PeerCredentials& peer, gid_t gid);

}  // namespace zagent
