// --to-ptx / --to-cubin read the one gpu.binary of a module lowered with
// --qnn-lower-to-gpu="format=isa"; anything else is one clear error.
// RUN: quant-translate --to-ptx %s --split-input-file --verify-diagnostics
// RUN: quant-translate --to-cubin --cuda-path=%t.nonexistent %s --split-input-file --verify-diagnostics

// expected-error @below {{no GPU module in the input; lower the model with --qnn-lower-to-gpu="format=isa"}}
module {
}

// -----

// expected-error @below {{the GPU modules are not compiled yet; lower the model with --qnn-lower-to-gpu="format=isa" (or run gpu-module-to-binary{format=isa})}}
module attributes {gpu.container_module} {
  gpu.module @kernels [#nvvm.target<chip = "sm_90", features = "+ptx80">] {
  }
}

// -----

// expected-error @below {{the GPU binary holds a fatbin (format=fatbin), not PTX; lower the model with --qnn-lower-to-gpu="format=isa"}}
module attributes {gpu.container_module} {
  gpu.binary @kernels [#gpu.object<#nvvm.target<chip = "sm_90">, fatbin = "\00">]
}

// -----

module attributes {gpu.container_module} {
  gpu.binary @a [#gpu.object<#nvvm.target<chip = "sm_90">, assembly = ".version 8.0">]
  // expected-error @below {{the input holds 2 GPU binaries and this writes one; --qnn-lower-to-gpu gathers a model's kernels into one}}
  gpu.binary @b [#gpu.object<#nvvm.target<chip = "sm_90">, assembly = ".version 8.0">]
}

// -----

module attributes {gpu.container_module} {
  // expected-error @below {{the GPU binary has no NVVM (CUDA) object}}
  gpu.binary @kernels [#gpu.object<#rocdl.target<chip = "gfx90a">, assembly = "">]
}
