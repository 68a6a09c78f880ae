// Listening sockets: opened here, or inherited from systemd socket
// activation (LISTEN_FDS) or from the process we replace (hot upgrade), then
// matched to the configured listeners.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "switchyard/core/settings.hpp"

namespace switchyard::app {

// Opens, binds and listens on `address` (close-on-exec, non-blocking);
// returns the descriptor or throws std::runtime_error with the reason.
int open_listen_socket(const Endpoint& address, int backlog);

// Is the listening socket `fd` bound to `address` (any of its resolved
// addresses, same port)?
bool socket_bound_to(int fd, const Endpoint& address);

// A listening socket received from elsewhere. `name` is the configured
// address it served in the process that passed it (hot upgrade), empty for
// systemd's sockets.
struct InheritedSocket {
    int fd = -1;
    std::string name;
};

// The sockets systemd passed (LISTEN_PID/LISTEN_FDS), made close-on-exec,
// and the variables unset. Empty when there are none.
std::vector<InheritedSocket> take_systemd_sockets();

// Removes and returns the inherited socket for `listener`: the one that
// served the same configured address, else one bound to that address.
std::optional<int> take_inherited(std::vector<InheritedSocket>& inherited,
                                  const ListenerSettings& listener);

}  // namespace switchyard::app
