#!/usr/bin/env python3
"""Writes one malformed single-node ONNX model for the importer's error tests:
nodes whose input count or input names break the op's signature, and sizes
far beyond any real model, as fuzzed or hand-edited files have them.

usage: make_malformed_model.py CASE OUT.onnx
       make_malformed_model.py --list
"""
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

# CASE: (op type, node inputs, initializers, attributes). Graph input 'x' is
# a float tensor of shape INPUT_SHAPES.get(CASE, [1, 3, 8, 8]); '' is an
# omitted input.
CASES = {
    "conv_one_input": ("Conv", ["x"], {}, {}),
    "conv_empty_weight": ("Conv", ["x", ""], {}, {}),
    "maxpool_empty_input": ("MaxPool", ["", "x"], {}, {"kernel_shape": [3, 3]}),
    "batchnorm_three_inputs": ("BatchNormalization", ["x", "s", "s"],
                               {"s": np.ones(3, np.float32)}, {}),
    "relu_two_inputs": ("Relu", ["x", "x"], {}, {}),
    "add_one_input": ("Add", ["x"], {}, {}),
    "concat_empty_input": ("Concat", ["x", "", "x"], {}, {"axis": 1}),
    "concat_no_inputs": ("Concat", [], {}, {"axis": 1}),
    "gather_one_input": ("Gather", ["x"], {}, {}),
    "resize_huge_scale": ("Resize", ["x", "", "scales"],
                          {"scales": np.array([1, 1, 1e30, 1], np.float32)}, {}),
    "resize_negative_scale": ("Resize", ["x", "", "scales"],
                              {"scales": np.array([1, 1, -4e25, 1], np.float32)}, {}),
    "reshape_overflow": ("Reshape", ["x", "shape"],
                         {"shape": np.array([2**62, 2**62, -1], np.int64)}, {}),
    "huge_graph_input": ("Relu", ["x"], {}, {}),
    # 2^33 floats declared, none stored.
    "initializer_huge_dims": ("Add", ["x", "w"],
                              {"w": TensorProto(name="w", data_type=TensorProto.FLOAT,
                                                dims=[2**33])}, {}),
}

INPUT_SHAPES = {"huge_graph_input": [2**40, 2**40]}


def main():
    if sys.argv[1:] == ["--list"]:
        print("\n".join(CASES))
        return
    if len(sys.argv) != 3 or sys.argv[1] not in CASES:
        sys.exit(__doc__)
    op_type, inputs, initializers, attrs = CASES[sys.argv[1]]
    node = helper.make_node(op_type, inputs, ["y"], name="bad", **attrs)
    graph = helper.make_graph(
        [node], "malformed",
        [helper.make_tensor_value_info(
            "x", TensorProto.FLOAT, INPUT_SHAPES.get(sys.argv[1], [1, 3, 8, 8]))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [v if isinstance(v, TensorProto) else numpy_helper.from_array(v, k)
         for k, v in initializers.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    with open(sys.argv[2], "wb") as f:
        f.write(model.SerializeToString())


if __name__ == "__main__":
    main()
