#!/usr/bin/env python3
"""Self-check of onnx_numpy_ref.py, the reference the importer is tested
against: its vectorised Conv, ConvTranspose, pooling (ceil_mode included)
and Resize are compared with plain per-pixel loops written from the ONNX
operator text, with the adjoint identity <ConvTranspose(x), y> =
<x, Conv(y)>, and with the worked examples in the ONNX and PyTorch
documentation.

usage: check_numpy_ref.py [--seed N]    (prints its seed; exits 1 on a mismatch)
"""
import argparse
import itertools
import math
import os
import random
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import onnx_numpy_ref as ref  # noqa: E402

failures = []


def expect_close(what, got, want, tol=1e-12):
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    if got.shape != want.shape:
        failures.append("%s: shape %s, expected %s" % (what, got.shape, want.shape))
    elif not np.allclose(got, want, rtol=tol, atol=tol):
        failures.append("%s: max abs error %.3e" % (what, np.max(np.abs(got - want))))


# --- Plain loops, one output pixel at a time ----------------------------------


def loop_conv(x, w, bias, strides, dilations, pads, group):
    n, c, h, wd = x.shape
    m, c_per_group, kh, kw = w.shape
    oh = (h + pads[0] + pads[2] - (kh - 1) * dilations[0] - 1) // strides[0] + 1
    ow = (wd + pads[1] + pads[3] - (kw - 1) * dilations[1] - 1) // strides[1] + 1
    y = np.zeros((n, m, oh, ow))
    for b, o, i, j in itertools.product(range(n), range(m), range(oh), range(ow)):
        g = o // (m // group)
        total = 0.0 if bias is None else bias[o]
        for ci, ki, kj in itertools.product(range(c_per_group), range(kh), range(kw)):
            row = i * strides[0] - pads[0] + ki * dilations[0]
            col = j * strides[1] - pads[1] + kj * dilations[1]
            if 0 <= row < h and 0 <= col < wd:
                total += x[b, g * c_per_group + ci, row, col] * w[o, ci, ki, kj]
        y[b, o, i, j] = total
    return y


def loop_conv_transpose(x, w, strides, dilations, pads, output_padding, group):
    """Gathers, for each output pixel, the input pixels whose scattered kernel
    covers it: out = in * stride + k * dilation - pad_begin."""
    n, c, h, wd = x.shape
    _, m_per_group, kh, kw = w.shape
    c_per_group = c // group
    oh = strides[0] * (h - 1) + output_padding[0] + (kh - 1) * dilations[0] + 1 - pads[0] - pads[2]
    ow = strides[1] * (wd - 1) + output_padding[1] + (kw - 1) * dilations[1] + 1 - pads[1] - pads[3]
    y = np.zeros((n, m_per_group * group, oh, ow))
    for b, o, i, j in itertools.product(range(n), range(m_per_group * group), range(oh), range(ow)):
        g, mo = divmod(o, m_per_group)
        for ci, ki, kj in itertools.product(range(c_per_group), range(kh), range(kw)):
            row = i + pads[0] - ki * dilations[0]
            col = j + pads[1] - kj * dilations[1]
            if row % strides[0] or col % strides[1]:
                continue
            row, col = row // strides[0], col // strides[1]
            if 0 <= row < h and 0 <= col < wd:
                y[b, o, i, j] += x[b, g * c_per_group + ci, row, col] * w[g * c_per_group + ci, mo, ki, kj]
    return y


def loop_pool(x, kind, kernel, strides, dilations, pads, count_include_pad, ceil_mode):
    n, c, h, wd = x.shape
    out = []
    for axis, size in enumerate((h, wd)):
        extent = size + pads[axis] + pads[axis + 2] - (kernel[axis] - 1) * dilations[axis] - 1
        count = (-(-extent // strides[axis]) if ceil_mode else extent // strides[axis]) + 1
        # With ceil_mode, no window may start in the end padding.
        while (count - 1) * strides[axis] >= size + pads[axis]:
            count -= 1
        out.append(count)
    y = np.zeros((n, c, out[0], out[1]))
    for b, ch, i, j in itertools.product(range(n), range(c), range(out[0]), range(out[1])):
        values, in_padded_extent = [], 0
        for ki, kj in itertools.product(range(kernel[0]), range(kernel[1])):
            row = i * strides[0] - pads[0] + ki * dilations[0]
            col = j * strides[1] - pads[1] + kj * dilations[1]
            if 0 <= row < h and 0 <= col < wd:
                values.append(x[b, ch, row, col])
            if -pads[0] <= row < h + pads[2] and -pads[1] <= col < wd + pads[3]:
                in_padded_extent += 1
        if kind == "max":
            y[b, ch, i, j] = max(values)
        else:
            y[b, ch, i, j] = sum(values) / (in_padded_extent if count_include_pad else len(values))
    return y


def onnx_style_resize_1d(data, scale, out_size, x, mode, transform, nearest_mode):
    """The ONNX reference implementation's per-coordinate algorithm: pad
    the row with its edge values, take the 2 nearest samples (preferring the
    left one), and weight them by the fractional coordinate."""
    in_size = len(data)
    x_ori = ref.source_coordinate(transform, x, scale, in_size, out_size)
    ratio = 1.0 if float(x_ori).is_integer() else x_ori - math.floor(x_ori)
    if mode == "linear":
        coeffs = [1 - ratio, ratio]
    elif ratio == 1.0:
        coeffs = [0, 1]
    else:
        coeffs = {"round_prefer_floor": [ratio <= 0.5, ratio > 0.5],
                  "round_prefer_ceil": [ratio < 0.5, ratio >= 0.5],
                  "floor": [1, 0], "ceil": [0, 1]}[nearest_mode]
    padded = np.concatenate([[data[0]], data, [data[-1]]])
    nearest = sorted(sorted(range(len(padded)), key=lambda i: (abs(x_ori + 1 - i), i))[:2])
    return float(np.dot(coeffs, padded[nearest]))


def loop_resize(x, out_sizes, scales, mode, transform, nearest_mode):
    """Resizes x [N, C, H, W] along H and W, one axis at a time, per pixel."""
    y = x
    for axis in (2, 3):
        shape = list(y.shape)
        shape[axis] = out_sizes[axis]
        out = np.zeros(shape)
        for index in itertools.product(*[range(s) for s in shape]):
            line = y[index[:axis] + (slice(None),) + index[axis + 1:]]
            out[index] = onnx_style_resize_1d(line, scales[axis], out_sizes[axis], index[axis],
                                              mode, transform, nearest_mode)
        y = out
    return y


# --- The checks ------------------------------------------------------------------


def random_pads(rng, kernel):
    return [int(rng.integers(0, k)) for k in (kernel[0], kernel[1], kernel[0], kernel[1])]


def check_conv(rng):
    for trial in range(12):
        group = int(rng.choice([1, 2, 3]))
        c_per_group, m_per_group = int(rng.integers(1, 3)), int(rng.integers(1, 3))
        kernel = [int(rng.integers(1, 4)), int(rng.integers(1, 4))]
        strides = [int(rng.integers(1, 3)), int(rng.integers(1, 3))]
        dilations = [int(rng.integers(1, 3)), int(rng.integers(1, 3))]
        pads = random_pads(rng, kernel)
        x = rng.standard_normal((2, c_per_group * group, int(rng.integers(5, 9)), int(rng.integers(5, 9))))
        w = rng.standard_normal((m_per_group * group, c_per_group) + tuple(kernel))
        bias = rng.standard_normal(m_per_group * group)
        expect_close("Conv trial %d" % trial,
                     ref.conv2d(x, w, bias, strides, dilations, pads, group),
                     loop_conv(x, w, bias, strides, dilations, pads, group))


def check_conv_same_padding():
    """SAME_UPPER keeps ceil(in / stride) outputs, the odd pad at the end."""
    for size, kernel, stride, want in ((8, 3, 2, [0, 1]), (7, 3, 2, [1, 1]), (5, 4, 1, [1, 2])):
        pads = ref.spatial_pads({"auto_pad": "SAME_UPPER"}, [size, size], [kernel] * 2, [stride] * 2, [1, 1])
        if pads != [want[0], want[0], want[1], want[1]]:
            failures.append("SAME_UPPER size %d kernel %d stride %d: pads %s" % (size, kernel, stride, pads))


def check_conv_transpose(rng):
    for trial in range(12):
        group = int(rng.choice([1, 2]))
        c_per_group, m_per_group = int(rng.integers(1, 3)), int(rng.integers(1, 3))
        kernel = [int(rng.integers(1, 5)), int(rng.integers(1, 5))]
        strides = [int(rng.integers(1, 4)), int(rng.integers(1, 4))]
        dilations = [int(rng.integers(1, 3)), int(rng.integers(1, 3))]
        pads = random_pads(rng, kernel)
        output_padding = [int(rng.integers(0, max(strides[a], dilations[a]))) for a in range(2)]
        x = rng.standard_normal((2, c_per_group * group, int(rng.integers(4, 7)), int(rng.integers(4, 7))))
        w = rng.standard_normal((c_per_group * group, m_per_group) + tuple(kernel))
        y = ref.conv_transpose2d(x, w, None, strides, dilations, pads, output_padding, group)
        expect_close("ConvTranspose trial %d" % trial, y,
                     loop_conv_transpose(x, w, strides, dilations, pads, output_padding, group))
        # ConvTranspose is the adjoint of Conv with the same weights and
        # geometry, where that conv maps back to x's shape (it drops the
        # output_padding rows by flooring when they are below the stride).
        probe = rng.standard_normal(y.shape)
        conv_of_probe = ref.conv2d(probe, w, None, strides, dilations, pads, group)
        if conv_of_probe.shape == x.shape:
            expect_close("ConvTranspose adjoint trial %d" % trial,
                         np.vdot(y, probe), np.vdot(x, conv_of_probe), tol=1e-9)


def check_pools(rng):
    for trial in range(16):
        kernel = [int(rng.integers(1, 4)), int(rng.integers(1, 4))]
        strides = [int(rng.integers(1, 3)), int(rng.integers(1, 3))]
        dilations = [int(rng.integers(1, 3)), int(rng.integers(1, 3))]
        pads = random_pads(rng, kernel)
        ceil_mode = int(rng.integers(0, 2))
        x = rng.standard_normal((2, 3, int(rng.integers(5, 9)), int(rng.integers(5, 9))))
        attrs = dict(kernel_shape=kernel, strides=strides, dilations=dilations, pads=pads,
                     ceil_mode=ceil_mode)
        expect_close("MaxPool(ceil_mode=%d) trial %d" % (ceil_mode, trial),
                     ref.op_max_pool(None, attrs, [x], 12),
                     loop_pool(x, "max", kernel, strides, dilations, pads, False, ceil_mode))
        attrs.pop("dilations")
        for include in (0, 1):
            attrs["count_include_pad"] = include
            expect_close("AveragePool(count_include_pad=%d, ceil_mode=%d) trial %d"
                         % (include, ceil_mode, trial),
                         ref.op_average_pool(None, attrs, [x], 11),
                         loop_pool(x, "avg", kernel, strides, [1, 1], pads, include, ceil_mode))


RESIZE_MODES = [("nearest", t, r) for t in ("half_pixel", "pytorch_half_pixel", "asymmetric", "align_corners")
                for r in ref.NEAREST_ROUNDING] + \
               [("linear", t, None) for t in ("half_pixel", "pytorch_half_pixel", "asymmetric", "align_corners")]


def check_resize_against_loops(rng):
    geometries = [((1, 2, 3, 4), [1, 1, 2, 2], None), ((1, 1, 8, 6), [1, 1, 0.5, 0.5], None),
                  ((1, 1, 5, 5), [1, 1, 1.5, 1.5], None), ((1, 1, 4, 5), None, [1, 1, 7, 9]),
                  ((1, 1, 8, 8), None, [1, 1, 3, 5]), ((1, 1, 5, 5), None, [1, 1, 15, 10])]
    for (shape, scales, sizes), (mode, transform, rounding) in itertools.product(geometries, RESIZE_MODES):
        x = rng.standard_normal(shape)
        attrs = dict(mode=mode, coordinate_transformation_mode=transform)
        if rounding:
            attrs["nearest_mode"] = rounding
        inputs = [x, None, np.array(scales, np.float64) if scales else None,
                  np.array(sizes) if sizes else None]
        got = ref.op_resize(None, attrs, inputs, 13)
        out_sizes = sizes or [int(math.floor(i * s)) for i, s in zip(shape, scales)]
        used_scales = scales or [o / i for o, i in zip(sizes, shape)]
        expect_close("Resize %s %s %s %s" % (mode, transform, rounding, shape), got,
                     loop_resize(x, out_sizes, used_scales, mode, transform, rounding))


def check_resize_documented_examples():
    """Outputs printed in the ONNX Resize test cases and the PyTorch docs."""
    def resize(data, mode, transform, rounding="round_prefer_floor", scales=None, sizes=None):
        data = np.array(data, np.float64).reshape((1, 1) + np.shape(data))
        attrs = dict(mode=mode, coordinate_transformation_mode=transform, nearest_mode=rounding)
        inputs = [data, None, None if scales is None else np.array([1, 1] + scales, np.float64),
                  None if sizes is None else np.array([1, 1] + sizes)]
        return ref.op_resize(None, attrs, inputs, 13)[0, 0]

    two_by_two = [[1, 2], [3, 4]]
    four_by_four = np.arange(1, 17).reshape(4, 4)
    expect_close("Resize linear half_pixel x2 (PyTorch align_corners=False)",
                 resize(two_by_two, "linear", "half_pixel", scales=[2.0, 2.0]),
                 [[1.0, 1.25, 1.75, 2.0], [1.5, 1.75, 2.25, 2.5],
                  [2.5, 2.75, 3.25, 3.5], [3.0, 3.25, 3.75, 4.0]])
    expect_close("Resize linear align_corners x2 (PyTorch align_corners=True)",
                 resize(two_by_two, "linear", "align_corners", scales=[2.0, 2.0]),
                 np.array([[3, 4, 5, 6], [5, 6, 7, 8], [7, 8, 9, 10], [9, 10, 11, 12]]) / 3.0)
    expect_close("Resize nearest half_pixel scales 2x3 (ONNX upsample_scales_nearest)",
                 resize(two_by_two, "nearest", "half_pixel", scales=[2.0, 3.0]),
                 [[1, 1, 1, 2, 2, 2], [1, 1, 1, 2, 2, 2], [3, 3, 3, 4, 4, 4], [3, 3, 3, 4, 4, 4]])
    expect_close("Resize linear half_pixel 0.6 (ONNX downsample_scales_linear)",
                 resize([[1, 2, 3, 4], [5, 6, 7, 8]], "linear", "half_pixel", scales=[0.6, 0.6]),
                 [[8.0 / 3.0, 13.0 / 3.0]])
    expect_close("Resize nearest half_pixel 0.6 (ONNX downsample_scales_nearest)",
                 resize([[1, 2, 3, 4], [5, 6, 7, 8]], "nearest", "half_pixel", scales=[0.6, 0.6]),
                 [[1, 3]])
    expect_close("Resize nearest ceil half_pixel 4->8 (ONNX upsample_sizes_nearest_ceil_half_pixel)",
                 resize(four_by_four, "nearest", "half_pixel", "ceil", sizes=[8, 8]),
                 four_by_four[np.ix_([0, 1, 1, 2, 2, 3, 3, 3], [0, 1, 1, 2, 2, 3, 3, 3])])
    expect_close("Resize nearest floor align_corners 4->8 (ONNX upsample_sizes_nearest_floor_align_corners)",
                 resize(four_by_four, "nearest", "align_corners", "floor", sizes=[8, 8]),
                 four_by_four[np.ix_([0, 0, 0, 1, 1, 2, 2, 3], [0, 0, 0, 1, 1, 2, 2, 3])])
    expect_close("Resize nearest round_prefer_ceil asymmetric 4->8 "
                 "(ONNX upsample_sizes_nearest_round_prefer_ceil_asymmetric)",
                 resize(four_by_four, "nearest", "asymmetric", "round_prefer_ceil", sizes=[8, 8]),
                 four_by_four[np.ix_([0, 1, 1, 2, 2, 3, 3, 3], [0, 1, 1, 2, 2, 3, 3, 3])])


def check_softmax_and_normalization(rng):
    x = rng.standard_normal((2, 3, 4))
    flat = ref.op_softmax(None, {"axis": 1}, [x], 11)
    expect_close("Softmax opset 11 axis 1 sums over dims 1 and 2", flat.sum(axis=(1, 2)), np.ones(2))
    expect_close("Softmax opset 11 on 2-D equals opset 13", ref.op_softmax(None, {}, [x[0]], 11),
                 ref.op_softmax(None, {}, [x[0]], 13))
    per_axis = ref.op_softmax(None, {"axis": 1}, [x], 13)
    expect_close("Softmax opset 13 axis 1 sums over dim 1", per_axis.sum(axis=1), np.ones((2, 4)))
    normalized = ref.op_layer_normalization(None, {"axis": 1, "epsilon": 0.0}, [x, np.ones((3, 4))], 17)
    expect_close("LayerNormalization axis 1 mean", normalized.mean(axis=(1, 2)), np.zeros(2))
    expect_close("LayerNormalization axis 1 variance", normalized.var(axis=(1, 2)), np.ones(2))
    bn = ref.op_batch_normalization(None, {"epsilon": 0.0},
                                    [x[:, :, :, None], np.ones(3), np.zeros(3), x.mean(axis=(0, 2)),
                                     x.var(axis=(0, 2))], 15)
    expect_close("BatchNormalization with batch statistics", bn.var(axis=(0, 2, 3)), np.ones(3))


def check_slices():
    x = np.arange(3 * 8 * 10, dtype=np.float64).reshape(3, 8, 10)
    cases = [  # (starts, ends, axes, steps, the same slice written by hand)
        ([1, -8], [2**63 - 1, -1], [1, -1], [2, 3], x[:, 1::2, 2:9:3]),
        ([-100, 2], [100, 5], None, None, x[:, 2:5]),
        ([5], [2], [2], [-1], x[:, :, 5:2:-1]),
        ([-1], [-100], [1], [-2], x[:, 7::-2]),
    ]
    for starts, ends, axes, steps, want in cases:
        inputs = [x, np.array(starts), np.array(ends), None if axes is None else np.array(axes),
                  None if steps is None else np.array(steps)]
        expect_close("Slice %s:%s axes %s steps %s" % (starts, ends, axes, steps),
                     ref.op_slice(None, {}, inputs, 13), want)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int)
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**31)
    print("check_numpy_ref.py seed", seed)
    rng = np.random.default_rng(seed)
    check_conv(rng)
    check_conv_same_padding()
    check_conv_transpose(rng)
    check_pools(rng)
    check_resize_against_loops(rng)
    check_resize_documented_examples()
    check_softmax_and_normalization(rng)
    check_slices()
    for failure in failures:
        print("MISMATCH", failure)
    print("%d mismatches" % len(failures))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
