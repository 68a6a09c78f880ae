// The process object is Instance (instance.hpp); this name stays only until
// the command line's code (cli.cpp) names it so.
#pragma once

#include "switchyard/app/instance.hpp"

namespace switchyard::app {

using Server = Instance;

}  // namespace switchyard::app
