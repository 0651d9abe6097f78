# -*- Python -*-
import os

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "QUANT"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.quant_obj_root, "test")

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%quant_src_root", config.quant_src_root))
# Stand-ins for compiled models, built with the runtime's unit tests.
config.substitutions.append(
    ("%quant_test_models",
     os.path.join(config.quant_obj_root, "unittests", "Runtime")))

# The runtime's GPU kernels as PTX (runtime/cuda/kernels, built with CUDA).
config.substitutions.append(
    ("%quant_cuda_kernels_ptx",
     os.path.join(config.quant_obj_root, "lib", "quant", "cuda",
                  "kernels.sm_90.ptx")))

# A usable NVIDIA GPU (its driver answers): the tests that run compiled GPU
# models need one; elsewhere lit reports them UNSUPPORTED ('cuda-device').
import shutil
import subprocess
if shutil.which("nvidia-smi"):
    if subprocess.run(["nvidia-smi", "-L"], capture_output=True).returncode == 0:
        config.available_features.add("cuda-device")

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

tool_dirs = [config.quant_tools_dir, config.llvm_tools_dir]
tools = ["quant-eval", "quant-opt", "quant-run", "quant-translate"]
llvm_config.add_tool_substitutions(tools, tool_dirs)
