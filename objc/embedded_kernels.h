// The metal/*.metal sources, embedded at build time by cmake/EmbedMetal.cmake (with params.h and
// common.h inlined) and compiled at run time: building needs no Metal toolchain.
#pragma once

namespace tensorlogic::metal {

// The source of metal/<file>.metal, or nullptr when the build has no such file.
const char* embedded_kernel_source(const char* file);

}  // namespace tensorlogic::metal
