#!/usr/bin/env python3
"""Generates one LLaMA-style decoder block in upstream MLIR (func, linalg,
arith, math, tensor; static shapes, f32, tensors) with random weights, plus
calibration and evaluation activations with LLM outlier statistics.

    x -> RMSNorm(g1) -> q/k/v = n1 @ Wq/Wk/Wv         (linalg.matmul, [D, D])
      -> RoPE on q and k (rotate-half, constant cos/sin tables, linalg.generic)
      -> H heads of size dh = D/H (tensor.expand_shape, linalg.transpose)
      -> scores = q k^T (linalg.batch_matmul) * 1/sqrt(dh), causal mask by
         linalg.index comparison (-inf above the diagonal)
      -> softmax: row max, exp(s - max), row sum, divide (linalg.generic)
      -> p @ v (linalg.batch_matmul) -> heads back to [T, D] -> @ Wo
      -> h = x + attention
      -> RMSNorm(g2) -> SwiGLU: (silu(n2 @ Wgate) * (n2 @ Wup)) @ Wdown
      -> out = h + mlp

One function `@block(%x: tensor<TxDxf32>) -> tensor<TxDxf32>`. The seven
projections are linalg.matmul with constant weights (they become qnn.matmul
under --qnn-import-linalg); the two attention batch_matmuls multiply two
activations and stay linalg.

RoPE: HF/LLaMA rotate-half form, out = q*cos + rotate_half(q)*sin with
rotate_half([x1, x2]) = [-x2, x1] per head, theta = 10000. Each head of q is
viewed as [2, dh/2] (tensor.expand_shape to [T, H, 2, dh/2]); the generic reads
q at (t, h, s, i) and its partner at (t, h, 1 - s, i), and the tables are
cos[t, s, i] and sin[t, s, i] with the rotate-half sign folded in
(sin[t, 0, :] = -sin, sin[t, 1, :] = +sin), i.e. the usual [T, dh] tables
reshaped to [T, 2, dh/2].

Weights: N(0, 1/fan_in) in f32. RMSNorm gains are lognormal (exp(0.3 N(0,1)),
~0.4..2.5), eps 1e-6. FFN default is LLaMA's rule,
F = 256 * ceil(int(2 * 4D / 3) / 256): 512 for D=128, 1536 for D=512
(12*128, a Hadamard size qnn.hadamard supports), 11008 for D=4096.

Activations (calib.npy, eval.npy, both [T, D] f32, the function's argument;
with --calib-tokens N > T also calib_batch.npy, [N/T, T, D], calib.npy first):
N(0, 1) with max(4, D/512) outlier channels scaled by U(50, 100), and
massive-activation tokens (token 0, like a BOS token, plus T/64 more at
random) ~1000x on two of those channels.

All constants (weights, gains, RoPE tables) are emitted as
`dense_resource<name>` with the little-endian f32 blobs in the file's
`{-# dialect_resources: { builtin: { name: "0x04000000<hex>" } } #-}` section
(first 4 bytes: the blob alignment, 4), streamed to the file: D=4096
(~200M weights, 1.6 GB of text) takes ~14 s and ~0.9 GB of memory.
`--text-weights` writes them as inline `dense<"0x<hex>">` DenseElementsAttr
instead (for tools that do not read resources).

--check runs a float64 numpy implementation of the same block on eval.npy,
writes OUT_DIR/reference_numpy.npy (float64), and prints how much the output
depends on the attention and MLP branches and how peaked the softmax is.
The residual stream (outlier channels, massive tokens) dominates the block's
output (|out - x| / |out| is ~0.04 at D=512, ~0.15 at D=4096), so errors of a
quantized block are best also scored on the update out - x.

Usage: generate_block.py OUT_DIR [--hidden 512] [--heads 8] [--ffn F]
           [--tokens 16] [--seed 0] [--calib-tokens T] [--check]
           [--text-weights]
Writes OUT_DIR/block.mlir, OUT_DIR/calib.npy, OUT_DIR/eval.npy
(and OUT_DIR/reference_numpy.npy with --check, OUT_DIR/calib_batch.npy with
--calib-tokens > T).
"""
import argparse
import math
import os
import random
import sys
import time

import numpy as np

ROPE_THETA = 10000.0
EPS = 1e-6
WEIGHT_NAMES = ("w_q", "w_k", "w_v", "w_o", "w_gate", "w_up", "w_down")


def llama_ffn(hidden, multiple_of=256):
    """LLaMA's FeedForward sizing: 2/3 of 4*hidden, rounded up to multiple_of."""
    f = int(2 * (4 * hidden) / 3)
    return multiple_of * ((f + multiple_of - 1) // multiple_of)


def activations(rng, tokens, hidden, outlier_channels, massive_tokens):
    x = rng.standard_normal((tokens, hidden))
    x[:, outlier_channels] *= rng.uniform(50, 100, size=len(outlier_channels))
    for t in massive_tokens:
        x[t, outlier_channels[:2]] *= 1000.0 / 75.0
    return x.astype(np.float32)


def rope_tables(tokens, head_dim):
    """cos and sign-folded sin, [T, 2, dh/2] f32 (see the module docstring)."""
    half = head_dim // 2
    inv_freq = 1.0 / ROPE_THETA ** (np.arange(half, dtype=np.float64) * 2.0 / head_dim)
    angles = np.arange(tokens, dtype=np.float64)[:, None] * inv_freq[None, :]
    cos = np.stack([np.cos(angles), np.cos(angles)], axis=1)
    sin = np.stack([-np.sin(angles), np.sin(angles)], axis=1)
    return cos.astype(np.float32), sin.astype(np.float32)


def make_model(args):
    """All constants of the block and the two activation files, seeded."""
    rng = np.random.default_rng(args.seed)
    d, f, t, h = args.hidden, args.ffn, args.tokens, args.heads
    outliers = list(rng.choice(d, size=min(d, max(4, d // 512)), replace=False))
    # Token 0 (a BOS-like sink) plus T/64 random others carry massive activations.
    others = rng.choice(np.arange(1, t), size=min(t // 64, t - 1), replace=False)
    massive = [0] + sorted(int(v) for v in others)
    consts = {}
    consts["gamma1"] = np.exp(0.3 * rng.standard_normal(d)).astype(np.float32)
    consts["gamma2"] = np.exp(0.3 * rng.standard_normal(d)).astype(np.float32)
    for name, (k, n) in (("w_q", (d, d)), ("w_k", (d, d)), ("w_v", (d, d)), ("w_o", (d, d)),
                         ("w_gate", (d, f)), ("w_up", (d, f)), ("w_down", (f, d))):
        w = rng.standard_normal((k, n), dtype=np.float32)
        w *= np.float32(1.0 / math.sqrt(k))
        consts[name] = w
    consts["rope_cos"], consts["rope_sin"] = rope_tables(t, d // h)
    # calib.npy's sequence and eval.npy do not depend on --calib-tokens.
    calib = [activations(rng, t, d, outliers, massive)]
    evaluation = activations(rng, t, d, outliers, massive)
    calib += [activations(rng, t, d, outliers, massive)
              for _ in range(args.calib_tokens // t - 1)]
    return consts, np.stack(calib), evaluation, outliers, massive


# ----------------------------------------------------------------------------
# MLIR text
# ----------------------------------------------------------------------------

def fmt_f32(v):
    """A float literal MLIR parses back to the same f32."""
    return "%.9e" % float(np.float32(v))


def block_mlir(args, const_attr):
    """The function's text; const_attr(name) spells constant `name`."""
    d, f, t, h = args.hidden, args.ffn, args.tokens, args.heads
    dh = d // h
    half = dh // 2
    X = f"tensor<{t}x{d}xf32>"
    R = f"tensor<{t}xf32>"
    G = f"tensor<{d}xf32>"
    W = f"tensor<{d}x{d}xf32>"
    WU = f"tensor<{d}x{f}xf32>"
    WD = f"tensor<{f}x{d}xf32>"
    HF = f"tensor<{t}x{f}xf32>"
    Q4 = f"tensor<{t}x{h}x2x{half}xf32>"
    TAB = f"tensor<{t}x2x{half}xf32>"
    QH = f"tensor<{t}x{h}x{dh}xf32>"
    HT = f"tensor<{h}x{t}x{dh}xf32>"
    KT = f"tensor<{h}x{dh}x{t}xf32>"
    S = f"tensor<{h}x{t}x{t}xf32>"
    SR = f"tensor<{h}x{t}xf32>"
    scale = fmt_f32(1.0 / math.sqrt(dh))

    def c(name, type_):
        return f"arith.constant {const_attr(name)} : {type_}"

    def rmsnorm(out, inp, gamma):
        return f"""
  %{out}_acc = linalg.fill ins(%zero : f32) outs(%rows : {R}) -> {R}
  %{out}_ss = linalg.generic {{indexing_maps = [#map, #row], iterator_types = ["parallel", "reduction"]}}
      ins(%{inp} : {X}) outs(%{out}_acc : {R}) {{
  ^bb0(%a: f32, %s: f32):
    %sq = arith.mulf %a, %a : f32
    %sum = arith.addf %s, %sq : f32
    linalg.yield %sum : f32
  }} -> {R}
  %{gamma} = {c(gamma, G)}
  %{out} = linalg.generic {{indexing_maps = [#map, #row, #chan, #map], iterator_types = ["parallel", "parallel"]}}
      ins(%{inp}, %{out}_ss, %{gamma} : {X}, {R}, {G}) outs(%xe : {X}) {{
  ^bb0(%a: f32, %s: f32, %gm: f32, %o: f32):
    %dim = arith.constant {fmt_f32(d)} : f32
    %eps = arith.constant {fmt_f32(EPS)} : f32
    %mean = arith.divf %s, %dim : f32
    %var = arith.addf %mean, %eps : f32
    %inv = math.rsqrt %var : f32
    %t = arith.mulf %a, %inv : f32
    %y = arith.mulf %t, %gm : f32
    linalg.yield %y : f32
  }} -> {X}"""

    def rope(out, inp):
        return f"""
  %{out}_4 = tensor.expand_shape %{inp} [[0], [1, 2, 3]] output_shape [{t}, {h}, 2, {half}] : {X} into {Q4}
  %{out}_r = linalg.generic {{indexing_maps = [#q4, #q4partner, #tab, #tab, #q4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}}
      ins(%{out}_4, %{out}_4, %rope_cos, %rope_sin : {Q4}, {Q4}, {TAB}, {TAB}) outs(%q4e : {Q4}) {{
  ^bb0(%a: f32, %b: f32, %cs: f32, %sn: f32, %o: f32):
    %ac = arith.mulf %a, %cs : f32
    %bs = arith.mulf %b, %sn : f32
    %y = arith.addf %ac, %bs : f32
    linalg.yield %y : f32
  }} -> {Q4}
  %{out} = tensor.collapse_shape %{out}_r [[0], [1], [2, 3]] : {Q4} into {QH}"""

    mlir = f"""// LLaMA-style decoder block: hidden {d}, {h} heads of {dh}, ffn {f}, {t} tokens
// (examples/llama/generate_block.py, seed {args.seed}).
#map = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>
#chan = affine_map<(d0, d1) -> (d1)>
#q4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#q4partner = affine_map<(d0, d1, d2, d3) -> (d0, d1, 1 - d2, d3)>
#tab = affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>
#s3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#s3row = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @block(%x: {X}) -> {X} {{
  %zero = arith.constant 0.000000e+00 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %rows = tensor.empty() : {R}
  %xe = tensor.empty() : {X}
  %xz = linalg.fill ins(%zero : f32) outs(%xe : {X}) -> {X}
  %q4e = tensor.empty() : {Q4}
  %rope_cos = {c("rope_cos", TAB)}
  %rope_sin = {c("rope_sin", TAB)}
  // ---- attention -------------------------------------------------------
{rmsnorm("n1", "x", "gamma1")}
  %w_q = {c("w_q", W)}
  %q = linalg.matmul ins(%n1, %w_q : {X}, {W}) outs(%xz : {X}) -> {X}
  %w_k = {c("w_k", W)}
  %k = linalg.matmul ins(%n1, %w_k : {X}, {W}) outs(%xz : {X}) -> {X}
  %w_v = {c("w_v", W)}
  %v = linalg.matmul ins(%n1, %w_v : {X}, {W}) outs(%xz : {X}) -> {X}
{rope("q_rope", "q")}
{rope("k_rope", "k")}
  %v3 = tensor.expand_shape %v [[0], [1, 2]] output_shape [{t}, {h}, {dh}] : {X} into {QH}
  %hte = tensor.empty() : {HT}
  %q_heads = linalg.transpose ins(%q_rope : {QH}) outs(%hte : {HT}) permutation = [1, 0, 2]
  %v_heads = linalg.transpose ins(%v3 : {QH}) outs(%hte : {HT}) permutation = [1, 0, 2]
  %kte = tensor.empty() : {KT}
  %k_heads_t = linalg.transpose ins(%k_rope : {QH}) outs(%kte : {KT}) permutation = [1, 2, 0]
  %se = tensor.empty() : {S}
  %sz = linalg.fill ins(%zero : f32) outs(%se : {S}) -> {S}
  %scores = linalg.batch_matmul ins(%q_heads, %k_heads_t : {HT}, {KT}) outs(%sz : {S}) -> {S}
  // scale by 1/sqrt({dh}); keys after the query (j > i) get -inf
  %masked = linalg.generic {{indexing_maps = [#s3, #s3], iterator_types = ["parallel", "parallel", "parallel"]}}
      ins(%scores : {S}) outs(%se : {S}) {{
  ^bb0(%s: f32, %o: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %future = arith.cmpi ugt, %j, %i : index
    %scale = arith.constant {scale} : f32
    %minus_inf = arith.constant 0xFF800000 : f32
    %scaled = arith.mulf %s, %scale : f32
    %m = arith.select %future, %minus_inf, %scaled : f32
    linalg.yield %m : f32
  }} -> {S}
  %sre = tensor.empty() : {SR}
  %max_init = linalg.fill ins(%ninf : f32) outs(%sre : {SR}) -> {SR}
  %row_max = linalg.generic {{indexing_maps = [#s3, #s3row], iterator_types = ["parallel", "parallel", "reduction"]}}
      ins(%masked : {S}) outs(%max_init : {SR}) {{
  ^bb0(%s: f32, %m: f32):
    %y = arith.maximumf %s, %m : f32
    linalg.yield %y : f32
  }} -> {SR}
  %exps = linalg.generic {{indexing_maps = [#s3, #s3row, #s3], iterator_types = ["parallel", "parallel", "parallel"]}}
      ins(%masked, %row_max : {S}, {SR}) outs(%se : {S}) {{
  ^bb0(%s: f32, %m: f32, %o: f32):
    %dif = arith.subf %s, %m : f32
    %y = math.exp %dif : f32
    linalg.yield %y : f32
  }} -> {S}
  %sum_init = linalg.fill ins(%zero : f32) outs(%sre : {SR}) -> {SR}
  %row_sum = linalg.generic {{indexing_maps = [#s3, #s3row], iterator_types = ["parallel", "parallel", "reduction"]}}
      ins(%exps : {S}) outs(%sum_init : {SR}) {{
  ^bb0(%e: f32, %acc: f32):
    %y = arith.addf %e, %acc : f32
    linalg.yield %y : f32
  }} -> {SR}
  %probs = linalg.generic {{indexing_maps = [#s3, #s3row, #s3], iterator_types = ["parallel", "parallel", "parallel"]}}
      ins(%exps, %row_sum : {S}, {SR}) outs(%se : {S}) {{
  ^bb0(%e: f32, %sm: f32, %o: f32):
    %y = arith.divf %e, %sm : f32
    linalg.yield %y : f32
  }} -> {S}
  %hz = linalg.fill ins(%zero : f32) outs(%hte : {HT}) -> {HT}
  %ctx_heads = linalg.batch_matmul ins(%probs, %v_heads : {S}, {HT}) outs(%hz : {HT}) -> {HT}
  %qhe = tensor.empty() : {QH}
  %ctx3 = linalg.transpose ins(%ctx_heads : {HT}) outs(%qhe : {QH}) permutation = [1, 0, 2]
  %ctx = tensor.collapse_shape %ctx3 [[0], [1, 2]] : {QH} into {X}
  %w_o = {c("w_o", W)}
  %attn = linalg.matmul ins(%ctx, %w_o : {X}, {W}) outs(%xz : {X}) -> {X}
  %h1 = linalg.generic {{indexing_maps = [#map, #map, #map], iterator_types = ["parallel", "parallel"]}}
      ins(%x, %attn : {X}, {X}) outs(%xe : {X}) {{
  ^bb0(%a: f32, %b: f32, %o: f32):
    %y = arith.addf %a, %b : f32
    linalg.yield %y : f32
  }} -> {X}
  // ---- SwiGLU MLP ------------------------------------------------------
{rmsnorm("n2", "h1", "gamma2")}
  %he = tensor.empty() : {HF}
  %hfz = linalg.fill ins(%zero : f32) outs(%he : {HF}) -> {HF}
  %w_gate = {c("w_gate", WU)}
  %gate = linalg.matmul ins(%n2, %w_gate : {X}, {WU}) outs(%hfz : {HF}) -> {HF}
  %w_up = {c("w_up", WU)}
  %up = linalg.matmul ins(%n2, %w_up : {X}, {WU}) outs(%hfz : {HF}) -> {HF}
  %act = linalg.generic {{indexing_maps = [#map, #map, #map], iterator_types = ["parallel", "parallel"]}}
      ins(%gate, %up : {HF}, {HF}) outs(%he : {HF}) {{
  ^bb0(%a: f32, %b: f32, %o: f32):
    %one = arith.constant 1.000000e+00 : f32
    %neg = arith.negf %a : f32
    %e = math.exp %neg : f32
    %den = arith.addf %one, %e : f32
    %silu = arith.divf %a, %den : f32
    %y = arith.mulf %silu, %b : f32
    linalg.yield %y : f32
  }} -> {HF}
  %w_down = {c("w_down", WD)}
  %mlp = linalg.matmul ins(%act, %w_down : {HF}, {WD}) outs(%xz : {X}) -> {X}
  %out = linalg.generic {{indexing_maps = [#map, #map, #map], iterator_types = ["parallel", "parallel"]}}
      ins(%h1, %mlp : {X}, {X}) outs(%xe : {X}) {{
  ^bb0(%a: f32, %b: f32, %o: f32):
    %y = arith.addf %a, %b : f32
    linalg.yield %y : f32
  }} -> {X}
  return %out : {X}
}}
"""
    return mlir


CONST_ORDER = ("rope_cos", "rope_sin", "gamma1", "w_q", "w_k", "w_v", "w_o", "gamma2",
               "w_gate", "w_up", "w_down")
CHUNK = 1 << 22  # elements per streamed hex chunk (16 MiB of f32)


def write_hex(out, array):
    flat = np.ascontiguousarray(array, dtype="<f4").reshape(-1)
    for start in range(0, flat.size, CHUNK):
        out.write(flat[start:start + CHUNK].tobytes().hex())


def write_block(path, args, consts):
    if args.text_weights:
        # Inline DenseElementsAttr in hex form, streamed where each constant
        # sits in the function: the text is split at placeholder markers.
        pieces = block_mlir(args, lambda name: "\0%s\0" % name).split("\0")
        with open(path, "w") as out:
            for i, piece in enumerate(pieces):
                if i % 2 == 0:
                    out.write(piece)
                else:
                    out.write('dense<"0x')
                    write_hex(out, consts[piece])
                    out.write('">')
        return
    body = block_mlir(args, lambda name: "dense_resource<%s>" % name)
    with open(path, "w") as out:
        out.write(body)
        out.write("\n{-#\n  dialect_resources: {\n    builtin: {\n")
        for i, name in enumerate(CONST_ORDER):
            # 0x, then the blob's alignment as a little-endian u32, then the data.
            out.write('      %s: "0x04000000' % name)
            write_hex(out, consts[name])
            out.write('"%s\n' % ("," if i + 1 < len(CONST_ORDER) else ""))
        out.write("    }\n  }\n#-}\n")


# ----------------------------------------------------------------------------
# float64 numpy reference of the same block
# ----------------------------------------------------------------------------

def reference(x, consts, args, parts=None):
    """The block in float64 on float32 constants. `parts` (a dict), if given,
    receives intermediate values for the diagnostics."""
    d, t, h = args.hidden, args.tokens, args.heads
    dh = d // h
    half = dh // 2
    c = {k: v.astype(np.float64) for k, v in consts.items()}
    eps = float(np.float32(EPS))
    scale = float(np.float32(1.0 / math.sqrt(dh)))
    x = x.astype(np.float64)

    def rmsnorm(a, gamma):
        ss = np.sum(a * a, axis=1, keepdims=True)
        return a * (1.0 / np.sqrt(ss / d + eps)) * gamma

    def rope(a):
        a4 = a.reshape(t, h, 2, half)
        partner = a4[:, :, ::-1, :]          # (t, h, 1 - s, i)
        cos = c["rope_cos"][:, None, :, :]
        sin = c["rope_sin"][:, None, :, :]
        return (a4 * cos + partner * sin).reshape(t, h, dh)

    n1 = rmsnorm(x, c["gamma1"])
    q = rope(n1 @ c["w_q"]).transpose(1, 0, 2)          # [H, T, dh]
    k = rope(n1 @ c["w_k"]).transpose(1, 0, 2)
    v = (n1 @ c["w_v"]).reshape(t, h, dh).transpose(1, 0, 2)
    scores = np.matmul(q, k.transpose(0, 2, 1)) * scale
    future = np.triu(np.ones((t, t), dtype=bool), k=1)
    scores = np.where(future[None], -np.inf, scores)
    e = np.exp(scores - scores.max(axis=2, keepdims=True))
    p = e / e.sum(axis=2, keepdims=True)
    ctx = np.matmul(p, v).transpose(1, 0, 2).reshape(t, d)
    attn = ctx @ c["w_o"]
    h1 = x + attn
    n2 = rmsnorm(h1, c["gamma2"])
    gate, up = n2 @ c["w_gate"], n2 @ c["w_up"]
    mlp = (gate / (1.0 + np.exp(-gate)) * up) @ c["w_down"]
    out = h1 + mlp
    if parts is not None:
        parts.update(probs=p, attn=attn, mlp=mlp, scores=np.where(future[None], np.nan, scores))
    return out


def textbook(x, consts, args):
    """The same block written the HF/LLaMA way, independently of the MLIR's
    layout tricks: [T, dh] cos/sin recomputed in float64, rotate_half by
    concatenation, a loop over heads, a -inf causal mask. It differs from
    reference() only by the f32 rounding of the RoPE tables (~1e-7)."""
    d, t, h = args.hidden, args.tokens, args.heads
    dh = d // h
    c = {k: v.astype(np.float64) for k, v in consts.items()}
    x = x.astype(np.float64)
    inv_freq = 1.0 / ROPE_THETA ** (np.arange(0, dh, 2) / dh)
    freqs = np.outer(np.arange(t), inv_freq)
    emb = np.concatenate([freqs, freqs], axis=-1)
    cos, sin = np.cos(emb), np.sin(emb)

    def norm(a, g):
        return a / np.sqrt(np.mean(a * a, axis=-1, keepdims=True) + EPS) * g

    def rotate_half(a):
        return np.concatenate([-a[:, dh // 2:], a[:, :dh // 2]], axis=-1)

    n1 = norm(x, c["gamma1"])
    q, k, v = n1 @ c["w_q"], n1 @ c["w_k"], n1 @ c["w_v"]
    ctx = np.zeros((t, d))
    for head in range(h):
        cols = slice(head * dh, (head + 1) * dh)
        qh = q[:, cols] * cos + rotate_half(q[:, cols]) * sin
        kh = k[:, cols] * cos + rotate_half(k[:, cols]) * sin
        s = qh @ kh.T / math.sqrt(dh)
        s[np.triu_indices(t, 1)] = -np.inf
        p = np.exp(s - s.max(axis=-1, keepdims=True))
        ctx[:, cols] = (p / p.sum(axis=-1, keepdims=True)) @ v[:, cols]
    h1 = x + ctx @ c["w_o"]
    n2 = norm(h1, c["gamma2"])
    g = n2 @ c["w_gate"]
    return h1 + (g / (1.0 + np.exp(-g)) * (n2 @ c["w_up"])) @ c["w_down"]


def rel(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def check(args, consts, evaluation, massive):
    parts = {}
    start = time.time()
    out = reference(evaluation, consts, args, parts)
    np.save(os.path.join(args.out_dir, "reference_numpy.npy"), out)
    t = args.tokens
    x = evaluation.astype(np.float64)
    p = parts["probs"]
    rows = p[:, 1:, :]                      # row 0 attends only to itself
    valid = np.arange(1, t)[None, :, None] >= np.arange(t)[None, None, :]
    entropy = -np.sum(np.where(valid & (rows > 0), rows * np.log(np.maximum(rows, 1e-300)), 0.0),
                      axis=2)
    uniform = np.log(np.arange(2, t + 1))[None, :]
    normal = [i for i in range(t) if i not in massive]
    print("check: numpy float64 reference in %.2f s -> %s" % (
        time.time() - start, os.path.join(args.out_dir, "reference_numpy.npy")))
    book = textbook(evaluation, consts, args)
    print("  vs a textbook HF-style implementation (float64 RoPE tables): rel %.2e on out, "
          "%.2e on out - x" % (rel(out, book), rel(out - x, book - x)))
    if not rel(out - x, book - x) < 1e-6:
        sys.exit("error: the numpy reference disagrees with the textbook block")
    print("  |out - x| / |out|        %.4f  (all tokens)   %.4f  (tokens without massive activations)" % (
        np.linalg.norm(out - x) / np.linalg.norm(out),
        np.linalg.norm((out - x)[normal]) / np.linalg.norm(out[normal])))
    print("  |attention| / |out|      %.4f  (all)   %.4f  (normal tokens)" % (
        np.linalg.norm(parts["attn"]) / np.linalg.norm(out),
        np.linalg.norm(parts["attn"][normal]) / np.linalg.norm(out[normal])))
    print("  |mlp| / |out|            %.4f  (all)   %.4f  (normal tokens)" % (
        np.linalg.norm(parts["mlp"]) / np.linalg.norm(out),
        np.linalg.norm(parts["mlp"][normal]) / np.linalg.norm(out[normal])))
    s = parts["scores"]
    print("  scaled scores: std %.3f, max %.3f over unmasked entries" % (
        np.nanstd(s), np.nanmax(np.abs(s))))
    print("  softmax rows 1..T-1: mean max-prob %.3f, mean entropy / log(#keys) %.3f, "
          "rows with max-prob > 0.99: %.1f%%" % (
              rows.max(axis=2).mean(), (entropy / uniform).mean(),
              100.0 * (rows.max(axis=2) > 0.99).mean()))


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir")
    parser.add_argument("--hidden", type=int, default=512, help="model width D (default 512)")
    parser.add_argument("--heads", type=int, default=8, help="attention heads H (default 8)")
    parser.add_argument("--ffn", type=int, default=None,
                        help="MLP width F (default: LLaMA's rule, 256*ceil(int(8D/3)/256))")
    parser.add_argument("--tokens", type=int, default=16, help="sequence length T (default 16)")
    parser.add_argument("--seed", type=int, default=0,
                        help="random seed; -1 draws a fresh one and prints it (tests)")
    parser.add_argument("--calib-tokens", type=int, default=None,
                        help="calibration tokens, a multiple of T (default T). calib.npy holds "
                             "the first sequence, [T, D], the one sample shaped like @block's "
                             "argument that calibration= takes today; with more, "
                             "calib_batch.npy holds all of them as [N/T, T, D]")
    parser.add_argument("--check", action="store_true",
                        help="run the float64 numpy reference on eval.npy and write "
                             "OUT_DIR/reference_numpy.npy")
    parser.add_argument("--text-weights", action="store_true",
                        help='inline weights as dense<"0x..."> instead of dense_resource')
    args = parser.parse_args()
    if args.seed < 0:
        args.seed = random.SystemRandom().randrange(2**31)
        print("generate_block.py seed", args.seed)
    if args.ffn is None:
        args.ffn = llama_ffn(args.hidden)
    if args.calib_tokens is None:
        args.calib_tokens = args.tokens
    d, h = args.hidden, args.heads
    if h <= 0 or d % h or (d // h) % 2:
        parser.error("--hidden must split into --heads heads of even size (got D=%d, H=%d)" % (d, h))
    if min(args.tokens, args.ffn, args.calib_tokens) <= 0:
        parser.error("--tokens, --ffn and --calib-tokens must be positive")
    if args.calib_tokens % args.tokens:
        parser.error("--calib-tokens (%d) must be a multiple of --tokens (%d): @block takes "
                     "sequences of T tokens" % (args.calib_tokens, args.tokens))

    start = time.time()
    consts, calib, evaluation, outliers, massive = make_model(args)
    os.makedirs(args.out_dir, exist_ok=True)
    np.save(os.path.join(args.out_dir, "calib.npy"), calib[0])
    if len(calib) > 1:
        np.save(os.path.join(args.out_dir, "calib_batch.npy"), calib)
    np.save(os.path.join(args.out_dir, "eval.npy"), evaluation)
    path = os.path.join(args.out_dir, "block.mlir")
    write_block(path, args, consts)
    weights = sum(consts[n].size for n in WEIGHT_NAMES)
    print("wrote %s: D=%d H=%d dh=%d F=%d T=%d, %.1fM projection weights, %.1f MiB, %.2f s "
          "(outlier channels %s, massive tokens %s)" % (
              path, d, h, d // h, args.ffn, args.tokens, weights / 1e6,
              os.path.getsize(path) / 2**20, time.time() - start,
              sorted(int(c) for c in outliers), massive), file=sys.stderr)
    if args.check:
        check(args, consts, evaluation, massive)


if __name__ == "__main__":
    main()
