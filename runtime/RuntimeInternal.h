//===- RuntimeInternal.h - shared by the runtime's sources -------*- C++ -*-===//

#ifndef QUANT_RUNTIME_RUNTIMEINTERNAL_H
#define QUANT_RUNTIME_RUNTIMEINTERNAL_H

#include <string>

namespace quant::runtime {
/// Sets the message qr_last_error() returns on this thread (Runtime.cpp).
void setLastError(std::string message);
} // namespace quant::runtime

#endif // QUANT_RUNTIME_RUNTIMEINTERNAL_H
