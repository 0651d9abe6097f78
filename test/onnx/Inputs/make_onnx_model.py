#!/usr/bin/env python3
"""Writes one ONNX test model for quant's importer, random inputs for it and
the float64 numpy reference of its outputs (onnx_numpy_ref.py).

usage: make_onnx_model.py CASE OUTDIR [--seed N]
       make_onnx_model.py --all OUTDIR [--seed N]
       make_onnx_model.py --list
Writes OUTDIR/model.onnx, OUTDIR/x0.npy (x1.npy, ...: one per graph input
that is not an initializer, in graph order) and OUTDIR/ref.npy (ref1.npy,
...: one per further graph output, in order). Weights and inputs are fresh
random values every run unless --seed is given; the seed is printed to
stderr so that a failure can be replayed. --all writes every case to
OUTDIR/CASE (one process instead of one per case, which is what makes the
lit tests fast) and prints each case's own seed. Cases that exist only for
the error tests (an unsupported op) get no inputs and no reference.
"""
import argparse
import os
import random
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from onnx_numpy_ref import run_model  # noqa: E402

INT64_MAX = 2**63 - 1


# --- Operands of a node, as written in the case tables -----------------------


class In:
    """A runtime graph input. kind: normal (N(0, 1) * scale), positive
    (U(0.5, 2) * scale) or nonzero (+-U(0.5, 2) * scale)."""

    def __init__(self, *shape, kind="normal", scale=1.0):
        self.shape, self.kind, self.scale = shape, kind, scale


class W(In):
    """A random float32 initializer (a weight); kinds as for In, plus fan_in:
    N(0, 1 / prod(shape[1:])), the usual initialisation of conv and linear
    weights, which keeps activations near unit scale."""


class C:
    """An initializer with fixed values (shapes, axes, scales, indices)."""

    def __init__(self, values, dtype=np.int64):
        self.array = np.array(values, dtype=dtype)


def random_values(rng, operand):
    shape = operand.shape
    if operand.kind == "normal":
        values = rng.standard_normal(shape)
    elif operand.kind == "positive":
        values = rng.uniform(0.5, 2.0, shape)
    elif operand.kind == "nonzero":
        values = rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    elif operand.kind == "fan_in":
        values = rng.standard_normal(shape) / np.sqrt(np.prod(shape[1:]))
    else:
        raise ValueError("unknown operand kind %s" % operand.kind)
    return (values * operand.scale).astype(np.float32)


class ModelBuilder:
    """Collects nodes, initializers and inputs of one graph. Names follow
    what exporters produce: node 'conv_0', its weights 'conv_0.w1'."""

    def __init__(self, rng, opset):
        self.rng, self.opset = rng, opset
        self.nodes, self.initializers, self.inputs, self.feeds = [], [], [], []
        self.op_counts = {}

    def input(self, operand, name=None, dim_params=None):
        """Adds a runtime input; dim_params {axis: 'batch'} makes dims symbolic."""
        name = name or "x%d" % len(self.inputs)
        dims = list(operand.shape)
        for axis, param in (dim_params or {}).items():
            dims[axis] = param
        self.inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, dims))
        self.feeds.append((name, random_values(self.rng, operand)))
        return name

    def constant(self, array, name):
        self.initializers.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def operand(self, operand, name):
        if operand is None:
            return ""  # an omitted optional input
        if isinstance(operand, str):
            return operand  # a value the graph already has
        if isinstance(operand, C):
            return self.constant(operand.array, name)
        if isinstance(operand, W):
            return self.constant(random_values(self.rng, operand), name)
        return self.input(operand)

    def node(self, op_type, operands, **attrs):
        """Adds a node with one output; operands are In/W/C/None or names of
        existing values. Returns the output's name."""
        index = self.op_counts.get(op_type, 0)
        self.op_counts[op_type] = index + 1
        name = "%s_%d" % (op_type.lower(), index)
        inputs = [self.operand(o, "%s.w%d" % (name, i)) for i, o in enumerate(operands)]
        output = "%s.y0" % name
        self.nodes.append(helper.make_node(op_type, inputs, [output], name=name, **attrs))
        return output

    def weight(self, *shape, kind="fan_in", scale=1.0):
        """A named random initializer, for values shared by several nodes."""
        name = "weight_%d" % len(self.initializers)
        return self.constant(random_values(self.rng, W(*shape, kind=kind, scale=scale)), name)

    def build(self, outputs, output_shapes, ir_version=None, initializers_as_inputs=False,
              output_dim_params=None):
        graph_outputs = []
        for name, shape in zip(outputs, output_shapes):
            dims = None if shape is None else list(shape)
            for axis, param in (output_dim_params or {}).items() if dims else ():
                dims[axis] = param
            graph_outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, dims))
        inputs = list(self.inputs)
        if initializers_as_inputs:
            # IR version 3 exporters list every initializer as a graph input too.
            inputs += [helper.make_tensor_value_info(t.name, t.data_type, list(t.dims))
                       for t in self.initializers]
        graph = helper.make_graph(self.nodes, "quant_onnx_test", inputs, graph_outputs,
                                  initializer=self.initializers)
        model = helper.make_model(graph, producer_name="quant-test",
                                  opset_imports=[helper.make_opsetid("", self.opset)])
        if ir_version is not None:
            model.ir_version = ir_version
        return model


class Case:
    """What one case builder returns: the graph's outputs and how to build it."""

    def __init__(self, builder, outputs, reference=True, output_shapes=None, **build_options):
        self.builder, self.outputs, self.reference = builder, outputs, reference
        self.output_shapes, self.build_options = output_shapes, build_options

    def model(self):
        """The finished, checked model. Output shapes come from the numpy
        reference (as an exporter's shape inference would give them)."""
        shapes = self.output_shapes
        if shapes is None:
            draft = self.builder.build(self.outputs, [None] * len(self.outputs), **self.build_options)
            shapes = [r.shape for r in run_model(draft, dict(self.builder.feeds))]
        model = self.builder.build(self.outputs, shapes, **self.build_options)
        onnx.checker.check_model(model)
        return model


# --- Single-node cases: (opset, op type, operands, attributes) ----------------


def resize_operands(opset, scales=None, sizes=None):
    """roi, scales, sizes of Resize. Opset 11 requires roi and scales inputs
    (an empty scales tensor when sizes are given); opset 13 may omit them."""
    empty = C([], np.float32)
    if opset < 13:
        roi, scale_operand = empty, C(scales, np.float32) if scales else empty
    else:
        roi, scale_operand = None, C(scales, np.float32) if scales else None
    return [roi, scale_operand] + ([C(sizes)] if sizes else [])


def resize_case(opset, x, attrs, scales=None, sizes=None):
    return (opset, "Resize", [In(*x)] + resize_operands(opset, scales, sizes), attrs)


def nearest(transform, rounding):
    return dict(mode="nearest", coordinate_transformation_mode=transform, nearest_mode=rounding)


def linear(transform):
    return dict(mode="linear", coordinate_transformation_mode=transform)


SINGLE_OP_CASES = {
    # Conv: group 1, depthwise, general groups; pads, strides, dilations, auto_pad.
    "conv_basic": (11, "Conv", [In(1, 3, 8, 8), W(4, 3, 3, 3, kind="fan_in"), W(4, scale=0.1)],
                   dict(pads=[1, 1, 1, 1])),
    "conv_strided_dilated": (11, "Conv", [In(1, 3, 11, 10), W(5, 3, 3, 2, kind="fan_in")],
                             dict(strides=[2, 2], dilations=[2, 1], pads=[1, 0, 2, 1],
                                  kernel_shape=[3, 2])),
    "conv_depthwise": (11, "Conv", [In(2, 4, 7, 7), W(4, 1, 3, 3, kind="fan_in"), W(4, scale=0.1)],
                       dict(group=4, pads=[1, 1, 1, 1])),
    "conv_depthwise_multiplier": (13, "Conv", [In(1, 4, 8, 8), W(8, 1, 3, 3, kind="fan_in")],
                                  dict(group=4, strides=[2, 2], pads=[1, 1, 1, 1])),
    "conv_groups": (13, "Conv", [In(1, 6, 6, 6), W(9, 2, 3, 3, kind="fan_in"), W(9, scale=0.1)],
                    dict(group=3, pads=[0, 1, 1, 0])),
    "conv_same_upper": (11, "Conv", [In(1, 2, 8, 7), W(3, 2, 3, 3, kind="fan_in")],
                        dict(strides=[2, 2], auto_pad="SAME_UPPER")),
    "conv_valid": (9, "Conv", [In(1, 3, 9, 9), W(4, 3, 3, 3, kind="fan_in"), W(4, scale=0.1)],
                   dict(strides=[2, 2], auto_pad="VALID")),
    # ConvTranspose: strides, pads, output_padding.
    "convtranspose_basic": (11, "ConvTranspose",
                            [In(1, 4, 5, 5), W(4, 3, 3, 3, kind="fan_in"), W(3, scale=0.1)], {}),
    "convtranspose_stride2": (11, "ConvTranspose",
                              [In(1, 4, 4, 5), W(4, 2, 3, 3, kind="fan_in"), W(2, scale=0.1)],
                              dict(strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1])),
    "convtranspose_k4s2": (13, "ConvTranspose", [In(2, 3, 4, 4), W(3, 2, 4, 4, kind="fan_in")],
                           dict(strides=[2, 2], pads=[1, 1, 1, 1])),
    "convtranspose_asym_pads": (13, "ConvTranspose", [In(1, 2, 5, 4), W(2, 3, 3, 2, kind="fan_in")],
                                dict(strides=[2, 1], pads=[0, 1, 1, 0], output_padding=[1, 0])),
    # Pooling.
    "maxpool": (11, "MaxPool", [In(1, 3, 9, 9)],
                dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])),
    "maxpool_dilated": (12, "MaxPool", [In(1, 2, 7, 7)],
                        dict(kernel_shape=[2, 2], dilations=[2, 2])),
    "maxpool_asym_pads": (9, "MaxPool", [In(2, 2, 6, 7)],
                          dict(kernel_shape=[2, 3], strides=[2, 1], pads=[0, 1, 1, 1])),
    "avgpool_include_pad": (11, "AveragePool", [In(1, 3, 9, 9)],
                            dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
                                 count_include_pad=1)),
    "avgpool_exclude_pad": (11, "AveragePool", [In(1, 2, 6, 7)],
                            dict(kernel_shape=[3, 2], strides=[1, 2], pads=[1, 0, 1, 1],
                                 count_include_pad=0)),
    "avgpool_no_pad": (9, "AveragePool", [In(2, 3, 8, 8)], dict(kernel_shape=[2, 2], strides=[2, 2])),
    # ceil_mode=1: a last, partial window; its divisor counts the input and
    # the explicit pads only (PyTorch's and onnxruntime's rule).
    "maxpool_ceil_mode": (12, "MaxPool", [In(1, 2, 6, 6)],
                          dict(kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)),
    "avgpool_ceil_mode": (11, "AveragePool", [In(1, 2, 6, 6)],
                          dict(kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)),
    "avgpool_ceil_mode_include_pad": (11, "AveragePool", [In(1, 2, 6, 7)],
                                      dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
                                           count_include_pad=1, ceil_mode=1)),
    "globalavgpool": (13, "GlobalAveragePool", [In(2, 5, 6, 7)], {}),
    # Normalization.
    "batchnorm": (15, "BatchNormalization",
                  [In(2, 3, 5, 5), W(3, kind="positive"), W(3, scale=0.5), W(3, scale=0.5),
                   W(3, kind="positive")], dict(epsilon=1e-3)),
    "batchnorm_opset9": (9, "BatchNormalization",
                         [In(2, 4, 3, 3), W(4, kind="positive"), W(4, scale=0.5), W(4, scale=0.5),
                          W(4, kind="positive")], dict(epsilon=1e-5, momentum=0.9)),
    "layernorm": (17, "LayerNormalization", [In(2, 4, 16), W(16, kind="positive"), W(16, scale=0.5)],
                  {}),
    "layernorm_axis1_no_bias": (17, "LayerNormalization", [In(2, 4, 8), W(4, 8, kind="positive")],
                                dict(axis=1, epsilon=1e-3)),
    # Matrix products.
    "gemm_bias": (11, "Gemm", [In(4, 8), W(8, 6, kind="fan_in"), W(6, scale=0.1)], {}),
    "gemm_trans_alpha_beta": (11, "Gemm", [In(8, 4), In(6, 8), W(4, 1)],
                              dict(transA=1, transB=1, alpha=0.5, beta=2.0)),
    "gemm_no_c": (13, "Gemm", [In(3, 5), W(7, 5, kind="fan_in")], dict(transB=1)),
    "matmul_2d": (13, "MatMul", [In(5, 8), W(8, 6, kind="fan_in")], {}),
    "matmul_batched_broadcast": (13, "MatMul", [In(2, 1, 4, 8), In(3, 8, 5)], {}),
    "matmul_3d_2d": (13, "MatMul", [In(2, 5, 8), W(8, 6, kind="fan_in")], {}),
    # Elementwise with numpy broadcasting; constants on either side.
    "add_broadcast": (13, "Add", [In(2, 3, 4, 5), In(3, 1, 5)], {}),
    "add_rank0_constant": (13, "Add", [In(3, 4), W()], {}),
    "sub_constant_lhs": (13, "Sub", [W(1, 4), In(3, 4)], {}),
    "mul_per_channel": (13, "Mul", [In(2, 3, 4, 4), W(1, 3, 1, 1)], {}),
    "div_broadcast": (13, "Div", [In(2, 3, 4), In(3, 1, kind="nonzero")], {}),
    "pow_constant_exponent": (13, "Pow", [In(3, 4, kind="positive"),
                                          C([-1.0, 0.5, 2.0, 1.5], np.float32)], {}),
    # x ** 2.0 is defined for negative x (PyTorch exports x.pow(2) like this).
    "pow_square_negative_base": (13, "Pow", [In(3, 5), C(2.0, np.float32)], {}),
    "sqrt": (13, "Sqrt", [In(3, 7, kind="positive")], {}),
    "relu": (13, "Relu", [In(2, 3, 5)], {}),
    "sigmoid": (13, "Sigmoid", [In(2, 9, scale=3.0)], {}),
    "hardsigmoid": (9, "HardSigmoid", [In(4, 6, scale=3.0)], dict(alpha=0.3, beta=0.4)),
    "hardswish": (14, "HardSwish", [In(4, 6, scale=4.0)], {}),
    "identity": (13, "Identity", [In(3, 4)], {}),
    "clip_opset9": (9, "Clip", [In(3, 6)], dict(min=-0.5, max=0.8)),
    "clip_opset11": (11, "Clip", [In(3, 6), C(-0.3, np.float32), C(0.6, np.float32)], {}),
    "clip_opset13_max_only": (13, "Clip", [In(3, 6), None, C(0.4, np.float32)], {}),
    # Softmax: opset < 13 normalizes the flattened [prod(:axis), prod(axis:)] rows.
    "softmax_opset9_default": (9, "Softmax", [In(2, 3, 4, scale=2.0)], {}),
    "softmax_opset11_axis1": (11, "Softmax", [In(2, 3, 4, scale=2.0)], dict(axis=1)),
    "softmax_opset13_axis1": (13, "Softmax", [In(2, 3, 4, scale=2.0)], dict(axis=1)),
    "softmax_opset13_default": (13, "Softmax", [In(2, 3, 5, scale=2.0)], {}),
    "reducemean_keepdims": (13, "ReduceMean", [In(2, 3, 4, 5)], dict(axes=[2, 3])),
    "reducemean_negative_axes": (13, "ReduceMean", [In(2, 3, 4)], dict(axes=[-1, 0], keepdims=0)),
    "reducemean_all_axes": (11, "ReduceMean", [In(2, 3, 4)], {}),
    # Resize: nearest, every nearest_mode, with ties (x.5 coordinates) where
    # the scales are powers of two, which keeps every coordinate exact in
    # float32; and linear, every coordinate_transformation_mode.
    "resize_nearest_asymmetric_floor": resize_case(
        11, (1, 2, 3, 4), nearest("asymmetric", "floor"), scales=[1, 1, 2, 2]),
    "resize_nearest_asymmetric_prefer_floor": resize_case(
        13, (1, 2, 3, 4), nearest("asymmetric", "round_prefer_floor"), scales=[1, 1, 2, 4]),
    "resize_nearest_half_pixel_prefer_ceil": resize_case(
        13, (1, 2, 8, 6), nearest("half_pixel", "round_prefer_ceil"), scales=[1, 1, 0.5, 0.5]),
    "resize_nearest_align_corners_ceil": resize_case(
        11, (1, 2, 4, 5), nearest("align_corners", "ceil"), sizes=[1, 2, 7, 9]),
    "resize_nearest_pytorch_half_pixel_sizes": resize_case(
        13, (1, 1, 5, 5), nearest("pytorch_half_pixel", "round_prefer_floor"), sizes=[1, 1, 15, 10]),
    "resize_linear_half_pixel": resize_case(
        11, (1, 2, 4, 5), linear("half_pixel"), scales=[1, 1, 2, 2]),
    "resize_linear_align_corners_sizes": resize_case(
        13, (1, 2, 5, 6), linear("align_corners"), sizes=[1, 2, 9, 11]),
    "resize_linear_asymmetric": resize_case(
        11, (1, 1, 4, 4), linear("asymmetric"), scales=[1, 1, 1.5, 2.5]),
    # 5 * 1.5 = 7.5 gives 7 output pixels, but coordinates use the scale 1.5.
    "resize_linear_pytorch_half_pixel_fractional": resize_case(
        13, (1, 2, 5, 5), linear("pytorch_half_pixel"), scales=[1, 1, 1.5, 1.5]),
    "resize_linear_half_pixel_downsample": resize_case(
        13, (1, 2, 8, 8), linear("half_pixel"), sizes=[1, 2, 3, 5]),
    # Data movement.
    "reshape_zero_minus_one": (13, "Reshape", [In(2, 3, 4, 2), C([0, -1, 4])], {}),
    "transpose_perm": (13, "Transpose", [In(2, 3, 4, 5)], dict(perm=[0, 2, 3, 1])),
    "transpose_default": (13, "Transpose", [In(3, 4, 5)], {}),
    "concat_mixed": (13, "Concat", [In(2, 3, 4), W(2, 2, 4), In(2, 1, 4)], dict(axis=-2)),
    "slice_steps": (13, "Slice", [In(3, 8, 10), C([1, -8]), C([INT64_MAX, -1]), C([1, -1]), C([2, 3])],
                    {}),
    "slice_clamp_default_axes": (11, "Slice", [In(4, 6), C([-100, 2]), C([100, 5])], {}),
    "slice_opset9": (9, "Slice", [In(3, 4, 5)], dict(starts=[0, 1], ends=[2, 1000], axes=[0, 2])),
    "squeeze_opset11": (11, "Squeeze", [In(1, 3, 1, 4)], dict(axes=[0, 2])),
    "squeeze_opset13": (13, "Squeeze", [In(2, 1, 3, 1), C([-1])], {}),
    "squeeze_no_axes": (13, "Squeeze", [In(1, 3, 1, 4)], {}),
    "unsqueeze_opset11": (11, "Unsqueeze", [In(3, 4)], dict(axes=[0, 3])),
    "unsqueeze_opset13": (13, "Unsqueeze", [In(3, 4), C([1, -1])], {}),
    "gather_axis0_negative": (13, "Gather", [In(5, 4), C([3, 0, -1])], {}),
    "gather_scalar_axis1": (13, "Gather", [In(2, 4, 3), C(2)], dict(axis=1)),
    "gather_2d_indices": (13, "Gather", [In(3, 5), C([[0, 4], [-2, 1]])], dict(axis=-1)),
    "flatten_axis2": (13, "Flatten", [In(2, 3, 4, 5)], dict(axis=2)),
    "flatten_axis0": (11, "Flatten", [In(2, 3, 4)], dict(axis=0)),
}


def single_op_case(rng, opset, op_type, operands, attrs):
    b = ModelBuilder(rng, opset)
    return Case(b, [b.node(op_type, operands, **attrs)])


# --- Multi-node cases ----------------------------------------------------------


def unsqueeze0(b, value):
    """Unsqueeze(value, axes=[0]) in the form of b's opset."""
    if b.opset < 13:
        return b.node("Unsqueeze", [value], axes=[0])
    return b.node("Unsqueeze", [value, C([0])])


def shape_chain_reshape(rng, opset):
    """x.view(x.size(0), -1) as PyTorch exports it:
    Shape -> Gather -> Unsqueeze -> Concat -> Reshape."""
    b = ModelBuilder(rng, opset)
    x = b.input(In(2, 3, 4, 5))
    batch = b.node("Gather", [b.node("Shape", [x]), C(0)], axis=0)
    shape = b.node("Concat", [unsqueeze0(b, batch), C([-1])], axis=0)
    return Case(b, [b.node("Reshape", [x, shape])])


def shape_arithmetic(rng):
    """Integer arithmetic on a constant shape, as PyTorch exports
    x.view(n, c * h * w // 2, -1) / sqrt(x.size(-1)): Gather (negative
    index too), int64 Mul and Div, Cast of a shape value to float."""
    b = ModelBuilder(rng, 13)
    x = b.input(In(2, 3, 4, 5))
    shape = b.node("Shape", [x])
    dims = [b.node("Gather", [shape, C(axis)], axis=0) for axis in (0, 1, 2, -1)]
    volume = b.node("Mul", [b.node("Mul", [dims[1], dims[2]]), dims[3]])
    half = b.node("Div", [volume, C(2)])
    target = b.node("Concat", [unsqueeze0(b, dims[0]), unsqueeze0(b, half), C([-1])], axis=0)
    scale = b.node("Sqrt", [b.node("Cast", [dims[3]], to=TensorProto.FLOAT)])
    return Case(b, [b.node("Div", [b.node("Reshape", [x, target]), scale])])


def constant_nodes(rng):
    """Constant nodes (tensor, value_float, int64 shape) feeding compute ops."""
    b = ModelBuilder(rng, 13)
    x = b.input(In(3, 4))
    offsets = b.node("Constant", [], value=numpy_helper.from_array(
        rng.standard_normal(4).astype(np.float32), "offsets"))
    half = b.node("Constant", [], value_float=0.5)
    shape = b.node("Constant", [], value=numpy_helper.from_array(np.array([4, 3], np.int64), "shape"))
    scaled = b.node("Mul", [b.node("Add", [x, offsets]), half])
    return Case(b, [b.node("Reshape", [scaled, shape])])


def cast_roundtrip(rng):
    """float -> int32 (truncation toward zero) -> float."""
    b = ModelBuilder(rng, 13)
    x = b.input(In(3, 5, scale=10.0))
    as_int = b.node("Cast", [x], to=TensorProto.INT32)
    return Case(b, [b.node("Cast", [as_int], to=TensorProto.FLOAT)])


def shared_weight(rng):
    """One initializer feeding two MatMuls (tied weights)."""
    b = ModelBuilder(rng, 13)
    w = b.weight(8, 8, kind="normal", scale=8 ** -0.5)
    hidden = b.node("Relu", [b.node("MatMul", [b.input(In(3, 8)), w])])
    return Case(b, [b.node("MatMul", [hidden, w])])


def two_outputs(rng):
    """Graph outputs in an order other than the nodes': the function results
    follow the graph outputs."""
    b = ModelBuilder(rng, 13)
    x = b.input(In(2, 5))
    first_computed = b.node("Relu", [x])
    second_computed = b.node("Sigmoid", [b.node("Mul", [first_computed, W(5)])])
    return Case(b, [second_computed, first_computed])


def resize_nearest_pytorch_export(rng):
    """F.interpolate(x, scale_factor=2) as PyTorch exports it: the scales
    come from a Constant node."""
    b = ModelBuilder(rng, 13)
    x = b.input(In(1, 3, 4, 5))
    scales = b.node("Constant", [], value=numpy_helper.from_array(
        np.array([1, 1, 2, 2], np.float32), "scales"))
    return Case(b, [b.node("Resize", [x, "", scales], **nearest("asymmetric", "floor"))])


def resize_sizes_from_shape_chain(rng):
    """F.interpolate(x, size=(7, 9), mode='bilinear') as PyTorch exports it:
    sizes = Concat(Slice(Shape(x), 0, 2), [7, 9])."""
    b = ModelBuilder(rng, 13)
    x = b.input(In(1, 2, 4, 5))
    batch_and_channels = b.node("Slice", [b.node("Shape", [x]), C([0]), C([2]), C([0])])
    sizes = b.node("Concat", [batch_and_channels, C([7, 9])], axis=0)
    return Case(b, [b.node("Resize", [x, "", "", sizes], **linear("pytorch_half_pixel"))])


def conv_bn_relu(b, x, channels_in, channels_out, **conv_attrs):
    y = b.node("Conv", [x, W(channels_out, channels_in, 3, 3, kind="fan_in")], **conv_attrs)
    y = b.node("BatchNormalization", [y, W(channels_out, kind="positive"), W(channels_out, scale=0.2),
                                      W(channels_out, scale=0.2), W(channels_out, kind="positive")])
    return b.node("Relu", [y])


def initializers_as_inputs(rng):
    """An IR-version-3 style model listing its initializers as graph inputs:
    they are weights, not function arguments."""
    b = ModelBuilder(rng, 9)
    y = conv_bn_relu(b, b.input(In(1, 3, 8, 8)), 3, 4, pads=[1, 1, 1, 1])
    return Case(b, [y], ir_version=3, initializers_as_inputs=True)


def dynamic_batch(rng):
    """A symbolic batch dim ('batch'): importable only with --input-shape."""
    b = ModelBuilder(rng, 13)
    x = b.input(In(2, 3, 8, 8), name="input.1", dim_params={0: "batch"})
    y = b.node("Relu", [b.node("Conv", [x, W(4, 3, 3, 3, kind="fan_in")], pads=[1, 1, 1, 1])])
    y = b.node("Flatten", [b.node("GlobalAveragePool", [y])])
    return Case(b, [y], output_dim_params={0: "batch"})


def unsupported_lstm(rng):
    """An op the importer does not support, for the error test."""
    b = ModelBuilder(rng, 13)
    x = b.input(In(5, 2, 4))
    y = b.node("LSTM", [x, W(1, 12, 4, kind="fan_in"), W(1, 12, 3, kind="fan_in")], hidden_size=3)
    return Case(b, [y], reference=False, output_shapes=[(5, 1, 2, 3)])


def cnn(rng):
    """A small classifier: Conv+BN+Relu, MaxPool, depthwise Conv, HardSwish,
    pointwise Conv, GlobalAveragePool, Flatten, Gemm, Softmax."""
    b = ModelBuilder(rng, 14)
    x = b.input(In(2, 3, 32, 32))
    y = conv_bn_relu(b, x, 3, 8, strides=[2, 2], pads=[1, 1, 1, 1])
    y = b.node("MaxPool", [y], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    y = b.node("Conv", [y, W(8, 1, 3, 3, kind="fan_in"), W(8, scale=0.1)], group=8, pads=[1, 1, 1, 1])
    y = b.node("HardSwish", [y])
    y = b.node("Relu", [b.node("Conv", [y, W(16, 8, 1, 1, kind="fan_in"), W(16, scale=0.1)])])
    y = b.node("Flatten", [b.node("GlobalAveragePool", [y])])
    y = b.node("Gemm", [y, W(10, 16, kind="fan_in", scale=4.0), W(10, scale=0.1)], transB=1)
    return Case(b, [b.node("Softmax", [y])])


def mlp_transformer(rng, tokens=6, width=16, heads=2):
    """A pre-norm transformer block: LayerNormalization, attention through
    MatMul/Transpose/Softmax with the head split and merge written as the
    Shape -> Gather -> Unsqueeze -> Concat -> Reshape chains PyTorch exports,
    and a SiLU MLP."""
    b = ModelBuilder(rng, 17)
    x = b.input(In(2, tokens, width))
    head_width = width // heads

    def linear(value, width_in, width_out):
        return b.node("Add", [b.node("MatMul", [value, W(width_in, width_out, kind="normal",
                                                         scale=width_in ** -0.5)]),
                              W(width_out, scale=0.1)])

    def layer_norm(value):
        return b.node("LayerNormalization", [value, W(width, kind="positive"), W(width, scale=0.1)])

    def leading_dims(value):
        """[batch, tokens] of value, as 1-D int64 tensors for Concat."""
        shape = b.node("Shape", [value])
        return [unsqueeze0(b, b.node("Gather", [shape, C(axis)], axis=0)) for axis in (0, 1)]

    def split_heads(value, perm):
        shape = b.node("Concat", leading_dims(value) + [C([heads, head_width])], axis=0)
        return b.node("Transpose", [b.node("Reshape", [value, shape])], perm=perm)

    h = layer_norm(x)
    q = split_heads(linear(h, width, width), [0, 2, 1, 3])
    k = split_heads(linear(h, width, width), [0, 2, 3, 1])
    v = split_heads(linear(h, width, width), [0, 2, 1, 3])
    scores = b.node("Div", [b.node("MatMul", [q, k]), C(np.sqrt(head_width), np.float32)])
    context = b.node("MatMul", [b.node("Softmax", [scores], axis=-1), v])
    context = b.node("Transpose", [context], perm=[0, 2, 1, 3])
    merged = b.node("Reshape", [context, b.node("Concat", leading_dims(x) + [C([-1])], axis=0)])
    x = b.node("Add", [x, linear(merged, width, width)])
    hidden = linear(layer_norm(x), width, 2 * width)
    hidden = b.node("Mul", [hidden, b.node("Sigmoid", [hidden])])
    return Case(b, [b.node("Add", [x, linear(hidden, 2 * width, width)])])


def resize_unet(rng):
    """An encoder-decoder: strided Conv down, bilinear Resize up, skip Concat,
    ConvTranspose up to twice the input size."""
    b = ModelBuilder(rng, 13)
    x = b.input(In(1, 3, 16, 16))
    skip = b.node("Relu", [b.node("Conv", [x, W(8, 3, 3, 3, kind="fan_in")], pads=[1, 1, 1, 1])])
    down = b.node("Relu", [b.node("Conv", [skip, W(16, 8, 3, 3, kind="fan_in"), W(16, scale=0.1)],
                                  strides=[2, 2], pads=[1, 1, 1, 1])])
    up = b.node("Resize", [down] + resize_operands(13, scales=[1, 1, 2, 2]),
                **linear("pytorch_half_pixel"))
    y = b.node("Concat", [up, skip], axis=1)
    y = b.node("Relu", [b.node("Conv", [y, W(8, 24, 3, 3, kind="fan_in")], pads=[1, 1, 1, 1])])
    y = b.node("ConvTranspose", [y, W(8, 4, 4, 4, kind="fan_in"), W(4, scale=0.1)],
               strides=[2, 2], pads=[1, 1, 1, 1])
    return Case(b, [b.node("Sigmoid", [y])])


MULTI_NODE_CASES = {
    "shape_chain_reshape_opset11": lambda rng: shape_chain_reshape(rng, 11),
    "shape_chain_reshape_opset13": lambda rng: shape_chain_reshape(rng, 13),
    "shape_arithmetic": shape_arithmetic,
    "constant_nodes": constant_nodes,
    "cast_roundtrip": cast_roundtrip,
    "shared_weight": shared_weight,
    "two_outputs": two_outputs,
    "resize_nearest_pytorch_export": resize_nearest_pytorch_export,
    "resize_sizes_from_shape_chain": resize_sizes_from_shape_chain,
    "initializers_as_inputs": initializers_as_inputs,
    "dynamic_batch": dynamic_batch,
    "unsupported_lstm": unsupported_lstm,
    "cnn": cnn,
    "mlp_transformer": mlp_transformer,
    "resize_unet": resize_unet,
}


def build_case(name, rng):
    if name in SINGLE_OP_CASES:
        return single_op_case(rng, *SINGLE_OP_CASES[name])
    return MULTI_NODE_CASES[name](rng)


def case_names():
    return list(SINGLE_OP_CASES) + list(MULTI_NODE_CASES)


def write_case(name, outdir, seed):
    case = build_case(name, np.random.default_rng(seed))
    os.makedirs(outdir, exist_ok=True)
    model = case.model()
    onnx.save(model, os.path.join(outdir, "model.onnx"))
    if not case.reference:
        return
    feeds = case.builder.feeds
    for index, (_, array) in enumerate(feeds):
        np.save(os.path.join(outdir, "x%d.npy" % index), array)
    # ref.npy is output 0 (the one quant-eval writes); ref1.npy... the rest.
    for index, output in enumerate(run_model(model, dict(feeds))):
        name = "ref.npy" if index == 0 else "ref%d.npy" % index
        np.save(os.path.join(outdir, name), output.astype(np.float64))


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("case", nargs="?", choices=case_names(), metavar="CASE")
    parser.add_argument("outdir", nargs="?")
    parser.add_argument("--all", metavar="OUTDIR", help="write every case to OUTDIR/CASE")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--list", action="store_true", help="print the case names")
    args = parser.parse_args()
    if args.list:
        print("\n".join(case_names()))
        return
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**31)
    if args.all:
        print("make_onnx_model.py --all seed %d" % seed, file=sys.stderr)
        case_seeds = np.random.default_rng(seed).integers(2**31, size=len(case_names()))
        for name, case_seed in zip(case_names(), case_seeds):
            print("make_onnx_model.py %s seed %d" % (name, case_seed), file=sys.stderr)
            write_case(name, os.path.join(args.all, name), int(case_seed))
        return
    if not args.case or not args.outdir:
        parser.error("CASE and OUTDIR (or --all OUTDIR, or --list) are required")
    print("make_onnx_model.py %s seed %d" % (args.case, seed), file=sys.stderr)
    write_case(args.case, args.outdir, seed)


if __name__ == "__main__":
    main()
