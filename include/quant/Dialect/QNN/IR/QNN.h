//===- QNN.h - qnn dialect, attributes and operations ------------*- C++ -*-===//

#ifndef QUANT_DIALECT_QNN_IR_QNN_H
#define QUANT_DIALECT_QNN_IR_QNN_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "quant/Dialect/QNN/IR/QNNOpsDialect.h.inc"
#include "quant/Dialect/QNN/IR/QNNEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "quant/Dialect/QNN/IR/QNNAttrs.h.inc"

#define GET_OP_CLASSES
#include "quant/Dialect/QNN/IR/QNNOps.h.inc"

#endif // QUANT_DIALECT_QNN_IR_QNN_H
