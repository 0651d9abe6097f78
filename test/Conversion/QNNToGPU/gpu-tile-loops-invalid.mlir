// RUN: quant-opt %s --qnn-gpu-tile-loops=threads=2048 -verify-diagnostics

// expected-error @below {{threads=2048 is not a CUDA block size (1 to 1024)}}
module {
}
