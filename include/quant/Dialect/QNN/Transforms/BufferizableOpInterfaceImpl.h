//===- BufferizableOpInterfaceImpl.h - qnn bufferization ----------*- C++ -*-===//

#ifndef QUANT_DIALECT_QNN_TRANSFORMS_BUFFERIZABLEOPINTERFACEIMPL_H
#define QUANT_DIALECT_QNN_TRANSFORMS_BUFFERIZABLEOPINTERFACEIMPL_H

namespace mlir {
class DialectRegistry;

namespace qnn {
/// Makes qnn.ukernel bufferizable by one-shot bufferization.
void registerBufferizableOpInterfaceExternalModels(DialectRegistry &registry);
} // namespace qnn
} // namespace mlir

#endif // QUANT_DIALECT_QNN_TRANSFORMS_BUFFERIZABLEOPINTERFACEIMPL_H
