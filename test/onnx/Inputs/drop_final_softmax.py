"""drop_final_softmax.py IN.onnx OUT.onnx: the classifier with its logits as
the output. Quantization error is judged on logits: a softmax over large,
close logits turns tiny logit errors into large probability changes."""
import sys

import onnx

model = onnx.load(sys.argv[1])
graph = model.graph
softmax = next(n for n in graph.node if n.output[0] == graph.output[0].name)
assert softmax.op_type == "Softmax", softmax.op_type
graph.output[0].name = softmax.input[0]
graph.node.remove(softmax)
onnx.checker.check_model(model)
onnx.save(model, sys.argv[2])
