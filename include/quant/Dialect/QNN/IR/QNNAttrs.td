//===- QNNAttrs.td - qnn attributes and enums --------------*- tablegen -*-===//

#ifndef QUANT_DIALECT_QNN_IR_QNNATTRS_TD
#define QUANT_DIALECT_QNN_IR_QNNATTRS_TD

include "quant/Dialect/QNN/IR/QNNBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"
include "mlir/IR/EnumAttr.td"

class QNN_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<QNN_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

//===----------------------------------------------------------------------===//
// Enums (specialized attributes print as bare keywords in op assembly)
//===----------------------------------------------------------------------===//

def QNN_Activation : I32EnumAttr<"Activation", "fused epilogue activation", [
    I32EnumAttrCase<"none", 0>,
    I32EnumAttrCase<"relu", 1>,
    I32EnumAttrCase<"relu6", 2>,
    I32EnumAttrCase<"gelu", 3>,
    I32EnumAttrCase<"silu", 4>,
  ]> {
  let cppNamespace = "::mlir::qnn";
}

def QNN_ConvLayout : I32EnumAttr<"ConvLayout", "convolution data layout", [
    // input NCHW, weight FCHW (OIHW), output NCHW.
    I32EnumAttrCase<"nchw", 0>,
    // input NHWC, weight HWCF, output NHWC.
    I32EnumAttrCase<"nhwc", 1>,
  ]> {
  let cppNamespace = "::mlir::qnn";
}

def QNN_PillarConvKind : I32EnumAttr<"PillarConvKind",
    "active-set rule of a sparse pillar convolution", [
    // Outputs only at the input's active sites (SubM-Conv).
    I32EnumAttrCase<"submanifold", 0>,
    // Outputs also at kernel-neighbourhood sites of important pillars (SD-Conv).
    I32EnumAttrCase<"selective_dilation", 1>,
  ]> {
  let cppNamespace = "::mlir::qnn";
}

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

def QNN_PrecisionSplitAttr : QNN_Attr<"PrecisionSplit", "precision_split"> {
  let summary = "per-output-feature precision split of a weight matrix";
  let description = [{
    MixLLM-style split: the output columns listed in `high_columns` keep the
    full precision of the weight's storage type; every other column holds
    values representable in `low_bits` bits and is packed at that width.

    ```mlir
    #qnn.precision_split<low_bits = 4, high_columns = [3, 17, 250]>
    ```
  }];
  let parameters = (ins "unsigned":$lowBits,
                        ArrayRefParameter<"int64_t">:$highColumns);
  let assemblyFormat =
      "`<` `low_bits` `=` $lowBits `,` `high_columns` `=` `[` $highColumns `]` `>`";
  let genVerifyDecl = 1;
}

// A double printed bare (`99.9`).
def QNN_DoubleParameter : APFloatParameter<"a double"> {
  let parser = [{ [&]() -> ::mlir::FailureOr<::llvm::APFloat> {
    double value;
    if ($_parser.parseFloat(value))
      return ::mlir::failure();
    return ::llvm::APFloat(value);
  }() }];
  let printer = "$_printer << $_self.convertToDouble()";
}

// Per-channel doubles printed as a bare list (`[1.0, 2.5]`).
def QNN_DoubleArrayParameter
    : AttrOrTypeParameter<"::mlir::DenseF64ArrayAttr", "per-channel values"> {
  let parser = [{ [&]() -> ::mlir::FailureOr<::mlir::DenseF64ArrayAttr> {
    auto attr = ::llvm::dyn_cast_or_null<::mlir::DenseF64ArrayAttr>(
        ::mlir::DenseF64ArrayAttr::parse($_parser, ::mlir::Type()));
    if (!attr)
      return ::mlir::failure();
    return attr;
  }() }];
  let printer = "$_self.print($_printer)";
}

def QNN_CalibStatsAttr : QNN_Attr<"CalibStats", "calib_stats"> {
  let summary = "per-channel calibration statistics of an activation";
  let description = [{
    Attached by `--qnn-calibrate` under the name `qnn.calib_stats` to an op
    whose first operand is the observed activation. Channels run along
    `axis` of that operand; the other dimensions are reduced over all
    `samples` calibration inputs. `percentile` is the quantile of |x|
    (e.g. 99.99) recorded per channel in `percentile_absmax`.

    ```mlir
    #qnn.calib_stats<axis = 1, samples = 16, absmax = [4.0, 2.5],
                     min = [-4.0, -1.0], max = [3.5, 2.5],
                     percentile = 99.9, percentile_absmax = [3.9, 2.4]>
    ```
  }];
  let parameters = (ins "int64_t":$axis, "int64_t":$samples,
                        QNN_DoubleArrayParameter:$absmax,
                        QNN_DoubleArrayParameter:$min,
                        QNN_DoubleArrayParameter:$max,
                        QNN_DoubleParameter:$percentile,
                        QNN_DoubleArrayParameter:$percentileAbsmax);
  let assemblyFormat = [{
    `<` `axis` `=` $axis `,` `samples` `=` $samples `,`
        `absmax` `=` $absmax `,` `min` `=` $min `,` `max` `=` $max `,`
        `percentile` `=` $percentile `,`
        `percentile_absmax` `=` $percentileAbsmax `>`
  }];
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    int64_t getNumChannels() const { return getAbsmax().size(); }
  }];
}

#endif // QUANT_DIALECT_QNN_IR_QNNATTRS_TD
