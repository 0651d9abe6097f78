"""A float64 numpy interpreter for the ONNX ops quant's importer supports.

The importer's tests compare its output with this reference, so every op is
written here from the ONNX operator specification (opsets 9-17), without
looking at the importer. Floating tensors are held in float64: initializers
and inputs are float32 in the model, so the reference sees the same
float32-rounded values the importer does and then computes exactly.

usage (as a module): outputs = run_model(model_proto, {"x0": array, ...})
"""
import math

import numpy as np
from onnx import helper, mapping, numpy_helper


class UnsupportedOp(Exception):
    pass


def as_reference_array(array):
    """Floats computed in float64; integers (shapes, indices) kept as int64."""
    array = np.asarray(array)
    if array.dtype.kind == "f":
        return array.astype(np.float64)
    if array.dtype.kind in "iub":
        return array.astype(np.int64)
    raise UnsupportedOp("tensor of dtype %s" % array.dtype)


# --- Convolution and pooling -------------------------------------------------


def spatial_pads(attrs, in_sizes, kernel, strides, dilations):
    """[begin_0, begin_1, ..., end_0, end_1, ...] from pads or auto_pad."""
    auto_pad = attrs.get("auto_pad", "NOTSET")
    rank = len(in_sizes)
    if auto_pad == "VALID":
        return [0] * (2 * rank)
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        begins, ends = [], []
        for size, k, s, d in zip(in_sizes, kernel, strides, dilations):
            out = -(-size // s)
            total = max(0, (out - 1) * s + (k - 1) * d + 1 - size)
            small, large = total // 2, total - total // 2
            # SAME_UPPER puts the odd pixel at the end.
            begins.append(small if auto_pad == "SAME_UPPER" else large)
            ends.append(large if auto_pad == "SAME_UPPER" else small)
        return begins + ends
    return list(attrs.get("pads", [0] * (2 * rank)))


def window_views(x, kernel, strides, dilations, pads, pad_value):
    """Pads the spatial dims of x [N, C, H, W] with pad_value and yields, for
    each kernel offset (i, j), the strided view x_pad[:, :, i*d0 + s0*oh,
    j*d1 + s1*ow] of shape [N, C, OH, OW]."""
    padded = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])),
                    constant_values=pad_value)
    out = [(padded.shape[2 + a] - ((kernel[a] - 1) * dilations[a] + 1)) // strides[a] + 1
           for a in range(2)]
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            r0, c0 = i * dilations[0], j * dilations[1]
            yield (i, j), padded[:, :, r0:r0 + strides[0] * (out[0] - 1) + 1:strides[0],
                                 c0:c0 + strides[1] * (out[1] - 1) + 1:strides[1]]


def conv2d(x, w, bias, strides, dilations, pads, group):
    """ONNX Conv: x [N, C, H, W], w [M, C/group, kH, kW]."""
    m, c_per_group = w.shape[0], w.shape[1]
    m_per_group = m // group
    result = None
    for (i, j), view in window_views(x, w.shape[2:], strides, dilations, pads, 0.0):
        parts = [np.einsum("nchw,mc->nmhw",
                           view[:, g * c_per_group:(g + 1) * c_per_group],
                           w[g * m_per_group:(g + 1) * m_per_group, :, i, j])
                 for g in range(group)]
        term = np.concatenate(parts, axis=1)
        result = term if result is None else result + term
    if bias is not None:
        result = result + bias.reshape(1, -1, 1, 1)
    return result


def conv_transpose2d(x, w, bias, strides, dilations, pads, output_padding, group):
    """ONNX ConvTranspose: x [N, C, H, W], w [C, M/group, kH, kW]. Each input
    pixel scatters its kernel-weighted copy into the full output, whose size
    is s*(in-1) + (k-1)*d + 1 + output_padding; pads then crop both ends."""
    n, c, h, wd = x.shape
    c_per_group, m_per_group = c // group, w.shape[1]
    kernel = w.shape[2:]
    full = [strides[a] * ((h, wd)[a] - 1) + (kernel[a] - 1) * dilations[a] + 1
            + output_padding[a] for a in range(2)]
    y = np.zeros((n, m_per_group * group, full[0], full[1]))
    for g in range(group):
        xg = x[:, g * c_per_group:(g + 1) * c_per_group]
        yg = y[:, g * m_per_group:(g + 1) * m_per_group]
        for i in range(kernel[0]):
            for j in range(kernel[1]):
                r0, c0 = i * dilations[0], j * dilations[1]
                yg[:, :, r0:r0 + strides[0] * (h - 1) + 1:strides[0],
                   c0:c0 + strides[1] * (wd - 1) + 1:strides[1]] += np.einsum(
                       "nchw,cm->nmhw", xg, w[g * c_per_group:(g + 1) * c_per_group, :, i, j])
    y = y[:, :, pads[0]:full[0] - pads[2], pads[1]:full[1] - pads[3]]
    if bias is not None:
        y = y + bias.reshape(1, -1, 1, 1)
    return y


def conv_geometry(attrs, x_shape, kernel):
    strides = list(attrs.get("strides", [1, 1]))
    dilations = list(attrs.get("dilations", [1, 1]))
    pads = spatial_pads(attrs, x_shape[2:], kernel, strides, dilations)
    return strides, dilations, pads


def op_conv(node, attrs, inputs, opset):
    x, w = inputs[0], inputs[1]
    bias = inputs[2] if len(inputs) > 2 else None
    strides, dilations, pads = conv_geometry(attrs, x.shape, w.shape[2:])
    return conv2d(x, w, bias, strides, dilations, pads, attrs.get("group", 1))


def op_conv_transpose(node, attrs, inputs, opset):
    x, w = inputs[0], inputs[1]
    bias = inputs[2] if len(inputs) > 2 else None
    if "output_shape" in attrs or attrs.get("auto_pad", "NOTSET") != "NOTSET":
        raise UnsupportedOp("ConvTranspose output_shape/auto_pad")
    strides = list(attrs.get("strides", [1, 1]))
    dilations = list(attrs.get("dilations", [1, 1]))
    pads = list(attrs.get("pads", [0, 0, 0, 0]))
    output_padding = list(attrs.get("output_padding", [0, 0]))
    return conv_transpose2d(x, w, bias, strides, dilations, pads, output_padding,
                            attrs.get("group", 1))


def pool_geometry(attrs, x):
    """kernel, strides, dilations, the explicit pads, and those pads with the
    end padding that ceil_mode adds so that the last partial window exists."""
    kernel = list(attrs["kernel_shape"])
    strides = list(attrs.get("strides", [1] * len(kernel)))
    dilations = list(attrs.get("dilations", [1] * len(kernel)))
    pads = spatial_pads(attrs, x.shape[2:], kernel, strides, dilations)
    ceil_pads = list(pads)
    if attrs.get("ceil_mode", 0):
        for axis, size in enumerate(x.shape[2:]):
            span = (kernel[axis] - 1) * dilations[axis] + 1
            extent = size + pads[axis] + pads[axis + 2]
            out = -(-(extent - span) // strides[axis]) + 1
            # A last window that would start in the end padding is dropped
            # (PyTorch's rule, which the ONNX text states from opset 19).
            if (out - 1) * strides[axis] >= size + pads[axis]:
                out -= 1
            ceil_pads[axis + 2] += max(0, (out - 1) * strides[axis] + span - extent)
    return kernel, strides, dilations, pads, ceil_pads


def op_max_pool(node, attrs, inputs, opset):
    x = inputs[0]
    kernel, strides, dilations, _, ceil_pads = pool_geometry(attrs, x)
    views = [v for _, v in window_views(x, kernel, strides, dilations, ceil_pads, -np.inf)]
    return np.max(np.stack(views), axis=0)


def op_average_pool(node, attrs, inputs, opset):
    x = inputs[0]
    kernel, strides, dilations, pads, ceil_pads = pool_geometry(attrs, x)
    total = sum(v for _, v in window_views(x, kernel, strides, dilations, ceil_pads, 0.0))
    # Each window is divided by the number of its pixels inside the input,
    # with count_include_pad also those in the explicit pads, never those in
    # the end padding of ceil_mode: sum the same windows over a mask.
    counted, counted_pads = np.ones((1, 1) + x.shape[2:]), ceil_pads
    if attrs.get("count_include_pad", 0):
        counted = np.pad(counted, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])),
                         constant_values=1.0)
        counted_pads = [0, 0, ceil_pads[2] - pads[2], ceil_pads[3] - pads[3]]
    counts = sum(v for _, v in window_views(counted, kernel, strides, dilations, counted_pads, 0.0))
    return total / counts


def op_global_average_pool(node, attrs, inputs, opset):
    x = inputs[0]
    return np.mean(x, axis=tuple(range(2, x.ndim)), keepdims=True)


# --- Resize ------------------------------------------------------------------


def source_coordinate(mode, out_index, scale, in_size, out_size):
    """The input coordinate an output index maps to (ONNX Resize,
    coordinate_transformation_mode)."""
    if mode == "half_pixel":
        return (out_index + 0.5) / scale - 0.5
    if mode == "pytorch_half_pixel":
        return (out_index + 0.5) / scale - 0.5 if out_size > 1 else 0.0
    if mode == "asymmetric":
        return out_index / scale
    if mode == "align_corners":
        return out_index * (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
    raise UnsupportedOp("coordinate_transformation_mode=%s" % mode)


NEAREST_ROUNDING = {
    "round_prefer_floor": lambda v: math.ceil(v - 0.5),
    "round_prefer_ceil": lambda v: math.floor(v + 0.5),
    "floor": math.floor,
    "ceil": math.ceil,
}


def resize_axis(x, axis, out_size, scale, attrs):
    """Resizes one axis; ONNX Resize is separable for nearest and linear."""
    in_size = x.shape[axis]
    mode = attrs.get("mode", "nearest")
    transform = attrs.get("coordinate_transformation_mode", "half_pixel")
    coords = [source_coordinate(transform, i, scale, in_size, out_size) for i in range(out_size)]
    if mode == "nearest":
        rounding = NEAREST_ROUNDING[attrs.get("nearest_mode", "round_prefer_floor")]
        indices = [min(max(rounding(c), 0), in_size - 1) for c in coords]
        return np.take(x, indices, axis=axis)
    if mode == "linear":
        # Coordinates outside the input take the edge value.
        coords = np.clip(np.array(coords), 0.0, in_size - 1)
        low = np.floor(coords).astype(np.int64)
        high = np.minimum(low + 1, in_size - 1)
        weight_shape = [1] * x.ndim
        weight_shape[axis] = out_size
        frac = (coords - low).reshape(weight_shape)
        return np.take(x, low, axis=axis) * (1 - frac) + np.take(x, high, axis=axis) * frac
    raise UnsupportedOp("Resize mode=%s" % mode)


def op_resize(node, attrs, inputs, opset):
    x = inputs[0]
    scales = inputs[2] if len(inputs) > 2 and inputs[2] is not None and inputs[2].size else None
    sizes = inputs[3] if len(inputs) > 3 and inputs[3] is not None else None
    if sizes is not None:
        out_sizes = [int(s) for s in sizes]
        scales = [o / i for o, i in zip(out_sizes, x.shape)]
    else:
        out_sizes = [int(math.floor(i * s)) for i, s in zip(x.shape, scales)]
    for axis in range(x.ndim):
        if out_sizes[axis] != x.shape[axis] or scales[axis] != 1.0:
            x = resize_axis(x, axis, out_sizes[axis], float(scales[axis]), attrs)
    return x


# --- Normalization, activations, reductions ----------------------------------


def op_batch_normalization(node, attrs, inputs, opset):
    x, scale, bias, mean, var = inputs[:5]
    if attrs.get("training_mode", 0):
        raise UnsupportedOp("BatchNormalization training_mode=1")
    shape = (1, -1) + (1,) * (x.ndim - 2)
    eps = attrs.get("epsilon", 1e-5)
    return ((x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
            * scale.reshape(shape) + bias.reshape(shape))


def op_layer_normalization(node, attrs, inputs, opset):
    x, scale = inputs[0], inputs[1]
    bias = inputs[2] if len(inputs) > 2 else None
    axis = attrs.get("axis", -1) % x.ndim
    axes = tuple(range(axis, x.ndim))
    mean = np.mean(x, axis=axes, keepdims=True)
    var = np.mean((x - mean) ** 2, axis=axes, keepdims=True)
    y = (x - mean) / np.sqrt(var + attrs.get("epsilon", 1e-5)) * scale
    return y + bias if bias is not None else y


def softmax_along(x, axis):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def op_softmax(node, attrs, inputs, opset):
    x = inputs[0]
    if opset >= 13:
        return softmax_along(x, attrs.get("axis", -1))
    # Before opset 13 the input is seen as a 2-D matrix [prod(dims[:axis]),
    # prod(dims[axis:])] and each row is normalized.
    axis = attrs.get("axis", 1) % x.ndim
    rows = int(np.prod(x.shape[:axis]))
    return softmax_along(x.reshape(rows, -1), 1).reshape(x.shape)


def op_reduce_mean(node, attrs, inputs, opset):
    x = inputs[0]
    axes = tuple(a % x.ndim for a in attrs["axes"]) if "axes" in attrs else None
    return np.mean(x, axis=axes, keepdims=bool(attrs.get("keepdims", 1)))


def op_clip(node, attrs, inputs, opset):
    x = inputs[0]
    if opset < 11:
        low, high = attrs.get("min", -np.inf), attrs.get("max", np.inf)
    else:
        low = inputs[1] if len(inputs) > 1 and inputs[1] is not None else -np.inf
        high = inputs[2] if len(inputs) > 2 and inputs[2] is not None else np.inf
    return np.minimum(np.maximum(x, low), high)


def op_hard_sigmoid(node, attrs, inputs, opset):
    alpha, beta = attrs.get("alpha", 0.2), attrs.get("beta", 0.5)
    return np.clip(alpha * inputs[0] + beta, 0.0, 1.0)


def op_hard_swish(node, attrs, inputs, opset):
    x = inputs[0]
    return x * np.clip(x / 6.0 + 0.5, 0.0, 1.0)


def op_gemm(node, attrs, inputs, opset):
    a, b = inputs[0], inputs[1]
    a = a.T if attrs.get("transA", 0) else a
    b = b.T if attrs.get("transB", 0) else b
    y = attrs.get("alpha", 1.0) * (a @ b)
    if len(inputs) > 2 and inputs[2] is not None:
        y = y + attrs.get("beta", 1.0) * inputs[2]
    return y


# --- Shapes and data movement ------------------------------------------------


def op_reshape(node, attrs, inputs, opset):
    x, shape = inputs[0], [int(s) for s in inputs[1]]
    if attrs.get("allowzero", 0):
        raise UnsupportedOp("Reshape allowzero=1")
    # 0 copies the input's size at that position; -1 is inferred by numpy.
    target = [x.shape[i] if s == 0 else s for i, s in enumerate(shape)]
    return x.reshape(target)


def op_flatten(node, attrs, inputs, opset):
    x = inputs[0]
    axis = attrs.get("axis", 1)
    axis = axis + x.ndim if axis < 0 else axis
    return x.reshape(int(np.prod(x.shape[:axis])), -1)


def axes_operand(attrs, inputs, opset, first_input_opset):
    """Axes given as an attribute before `first_input_opset`, as input 1 from it."""
    if opset < first_input_opset:
        return list(attrs["axes"]) if "axes" in attrs else None
    if len(inputs) > 1 and inputs[1] is not None:
        return [int(a) for a in inputs[1]]
    return None


def op_squeeze(node, attrs, inputs, opset):
    x = inputs[0]
    axes = axes_operand(attrs, inputs, opset, 13)
    if axes is None:
        return np.squeeze(x)
    return np.squeeze(x, axis=tuple(a % x.ndim for a in axes))


def op_unsqueeze(node, attrs, inputs, opset):
    x = inputs[0]
    axes = axes_operand(attrs, inputs, opset, 13)
    out_rank = x.ndim + len(axes)
    return np.expand_dims(x, axis=tuple(sorted(a % out_rank for a in axes)))


def slice_bounds(start, end, step, size):
    """ONNX Slice index normalisation: negative values count from the end,
    then start/end are clamped to the dimension."""
    start = start + size if start < 0 else start
    end = end + size if end < 0 else end
    if step > 0:
        return min(max(start, 0), size), min(max(end, 0), size)
    return min(max(start, 0), size - 1), min(max(end, -1), size - 1)


def op_slice(node, attrs, inputs, opset):
    x = inputs[0]
    if opset < 10:
        starts, ends = list(attrs["starts"]), list(attrs["ends"])
        axes = list(attrs.get("axes", range(len(starts))))
        steps = [1] * len(starts)
    else:
        starts, ends = [int(v) for v in inputs[1]], [int(v) for v in inputs[2]]
        axes = ([int(v) for v in inputs[3]] if len(inputs) > 3 and inputs[3] is not None
                else list(range(len(starts))))
        steps = ([int(v) for v in inputs[4]] if len(inputs) > 4 and inputs[4] is not None
                 else [1] * len(starts))
    index = [slice(None)] * x.ndim
    for start, end, axis, step in zip(starts, ends, axes, steps):
        axis %= x.ndim
        begin, stop = slice_bounds(start, end, step, x.shape[axis])
        # A negative-step end of -1 means "through index 0", which Python's
        # slice would read as the last element.
        index[axis] = slice(begin, None if stop < 0 else stop, step)
    return x[tuple(index)]


def op_gather(node, attrs, inputs, opset):
    data, indices = inputs
    axis = attrs.get("axis", 0) % data.ndim
    # np.take wraps negative indices the way ONNX defines them.
    return np.take(data, indices.astype(np.int64), axis=axis)


def op_cast(node, attrs, inputs, opset):
    x = inputs[0]
    target = np.dtype(mapping.TENSOR_TYPE_TO_NP_TYPE[attrs["to"]])
    if target.kind in "iu" and x.dtype.kind == "f":
        # Float to integer conversion truncates toward zero.
        return np.trunc(x).astype(np.int64)
    if target.kind == "f":
        # Floats are float64 here: rounding them to a narrower float would
        # only model the precision of the runtime, not the graph's meaning.
        return x.astype(np.float64)
    return as_reference_array(x.astype(target))


def op_constant(node, attrs, inputs, opset):
    for name in ("value", "value_float", "value_floats", "value_int", "value_ints"):
        if name in attrs:
            value = attrs[name]
            return as_reference_array(numpy_helper.to_array(value) if name == "value" else value)
    raise UnsupportedOp("Constant without a value")


def divide(a, b):
    """ONNX Div; on integers (shape arithmetic) it truncates toward zero."""
    if a.dtype.kind == "i" and b.dtype.kind == "i":
        return np.trunc(a / b).astype(np.int64)
    return a / b


def elementwise(fn):
    return lambda node, attrs, inputs, opset: fn(*inputs)


OPS = {
    "Conv": op_conv,
    "ConvTranspose": op_conv_transpose,
    "BatchNormalization": op_batch_normalization,
    "Gemm": op_gemm,
    "MatMul": elementwise(np.matmul),
    "Add": elementwise(np.add),
    "Sub": elementwise(np.subtract),
    "Mul": elementwise(np.multiply),
    "Div": elementwise(divide),
    "Pow": elementwise(np.power),
    "Sqrt": elementwise(np.sqrt),
    "Relu": elementwise(lambda x: np.maximum(x, 0.0)),
    "Sigmoid": elementwise(lambda x: 1.0 / (1.0 + np.exp(-x))),
    "Clip": op_clip,
    "HardSigmoid": op_hard_sigmoid,
    "HardSwish": op_hard_swish,
    "Softmax": op_softmax,
    "ReduceMean": op_reduce_mean,
    "LayerNormalization": op_layer_normalization,
    "GlobalAveragePool": op_global_average_pool,
    "AveragePool": op_average_pool,
    "MaxPool": op_max_pool,
    "Resize": op_resize,
    "Reshape": op_reshape,
    "Transpose": lambda node, attrs, inputs, opset: np.transpose(inputs[0], attrs.get("perm")),
    "Concat": lambda node, attrs, inputs, opset: np.concatenate(inputs, axis=attrs["axis"]),
    "Slice": op_slice,
    "Squeeze": op_squeeze,
    "Unsqueeze": op_unsqueeze,
    "Shape": lambda node, attrs, inputs, opset: np.array(inputs[0].shape, dtype=np.int64),
    "Gather": op_gather,
    "Cast": op_cast,
    "Constant": op_constant,
    "Identity": elementwise(lambda x: x),
    "Flatten": op_flatten,
}


def default_opset(model):
    for entry in model.opset_import:
        if entry.domain in ("", "ai.onnx"):
            return entry.version
    raise UnsupportedOp("model without a default-domain opset")


def node_attributes(node):
    attrs = {}
    for attribute in node.attribute:
        value = helper.get_attribute_value(attribute)
        attrs[attribute.name] = value.decode() if isinstance(value, bytes) else value
    return attrs


def run_model(model, feeds):
    """Runs the graph on feeds {input name: array}; returns the graph outputs
    in order, as float64 (or int64) arrays."""
    opset = default_opset(model)
    values = {init.name: as_reference_array(numpy_helper.to_array(init))
              for init in model.graph.initializer}
    values.update({name: as_reference_array(array) for name, array in feeds.items()})
    for node in model.graph.node:
        if node.domain not in ("", "ai.onnx") or node.op_type not in OPS:
            raise UnsupportedOp("%s (node '%s')" % (node.op_type, node.name))
        # An empty name marks an omitted optional input.
        inputs = [values[name] if name else None for name in node.input]
        while inputs and inputs[-1] is None:
            inputs.pop()
        result = OPS[node.op_type](node, node_attributes(node), inputs, opset)
        # Only the first output of any supported op is ever consumed.
        values[node.output[0]] = result
    return [values[output.name] for output in model.graph.output]
