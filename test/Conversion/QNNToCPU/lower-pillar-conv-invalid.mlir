// RUN: quant-opt %s --split-input-file --qnn-lower-to-ukernels -verify-diagnostics

func.func @f16_features(%f: tensor<?x8xf16>, %c: tensor<?x3xi32>) -> tensor<?x16xf32> {
  %w = arith.constant dense<0.5> : tensor<3x3x8x16xf32>
  // expected-error @below {{the CPU lowering takes f32 features or per-tensor signed 8-bit !quant.uniform features, not 'f16'}}
  %o, %oc = qnn.pillar_conv %f, %c, %w kind submanifold grid [8, 8]
      : tensor<?x8xf16>, tensor<?x3xi32>, tensor<3x3x8x16xf32> -> tensor<?x16xf32>, tensor<?x3xi32>
  return %o : tensor<?x16xf32>
}

// -----

func.func @f16_result(%f: tensor<?x8xf32>, %c: tensor<?x3xi32>) -> tensor<?x16xf16> {
  %w = arith.constant dense<0.5> : tensor<3x3x8x16xf32>
  // expected-error @below {{the CPU lowering produces f32 output features, not 'f16'}}
  %o, %oc = qnn.pillar_conv %f, %c, %w kind submanifold grid [8, 8]
      : tensor<?x8xf32>, tensor<?x3xi32>, tensor<3x3x8x16xf32> -> tensor<?x16xf16>, tensor<?x3xi32>
  return %o : tensor<?x16xf16>
}

// -----

func.func @runtime_weights(%f: tensor<?x8xf32>, %c: tensor<?x3xi32>, %w: tensor<3x3x8x16xf32>) -> tensor<?x16xf32> {
  // expected-error @below {{the CPU lowering needs constant weights}}
  %o, %oc = qnn.pillar_conv %f, %c, %w kind submanifold grid [8, 8]
      : tensor<?x8xf32>, tensor<?x3xi32>, tensor<3x3x8x16xf32> -> tensor<?x16xf32>, tensor<?x3xi32>
  return %o : tensor<?x16xf32>
}

// -----

func.func @unsigned_features(%f: tensor<?x8x!quant.uniform<u8:f32, 0.1:128>>, %c: tensor<?x3xi32>) -> tensor<?x16xf32> {
  %w = arith.constant dense<5> : tensor<3x3x8x16xi8>
  %s = arith.constant dense<0.01> : tensor<1x16xf32>
  // expected-error @below {{the CPU lowering takes f32 features or per-tensor signed 8-bit !quant.uniform features}}
  %o, %oc = qnn.pillar_conv %f, %c, %w scales(%s : tensor<1x16xf32>) kind submanifold grid [8, 8]
      : tensor<?x8x!quant.uniform<u8:f32, 0.1:128>>, tensor<?x3xi32>, tensor<3x3x8x16xi8> -> tensor<?x16xf32>, tensor<?x3xi32>
  return %o : tensor<?x16xf32>
}
