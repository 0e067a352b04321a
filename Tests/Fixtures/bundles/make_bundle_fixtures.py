#!/usr/bin/env python3
"""Writes model-bundle fixtures and the logits an independent numpy forward pass gives for them.

Each folder (gru, gru_bidirectional, attention, lstm_bidirectional, lstm, cnn, transformer) holds what a PyTorch user would export: config.json,
vocab.txt (one token a line) and model.safetensors with PyTorch state_dict names and layouts; plus
expected.json with input texts and the logits computed here, one text at a time (no padding), from
PyTorch's documented equations. The lab must reproduce them within 1e-4 on one padded batch.

Only numpy is used (the safetensors file is written by hand), so this is independent of the lab and
of PyTorch. Run once: python3 make_bundle_fixtures.py  (CI only reads the files).
"""
import json
import os
import struct

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
VOCAB = ["<pad>", "<unk>", "<bos>", "<eos>", "the", "film", "was", "great", "awful", "plot", "a", "dull",
         "mess", "and", "gorgeous", "witty"]
TEXTS = ["the film was great", "a dull mess", "the plot was awful and dull and the film a mess", "great",
         "zzz unknown words here", "witty gorgeous witty film"]
MAX_LEN = 8


def encode(text):
    ids = [VOCAB.index(w) if w in VOCAB else 1 for w in text.split()][:MAX_LEN]
    return ids or [1]


def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name, array in tensors:
        data = np.ascontiguousarray(array, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def gru_direction(x, w_ih, w_hh, b_ih, b_hh, reverse=False):
    """PyTorch nn.GRU equations for one direction; x [T, I] -> outputs [T, H]."""
    H = w_hh.shape[1]
    h = np.zeros(H, dtype=np.float64)
    out = np.zeros((x.shape[0], H))
    steps = range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])
    for t in steps:
        gi = w_ih @ x[t] + b_ih
        gh = w_hh @ h + b_hh
        r = sigmoid(gi[:H] + gh[:H])
        z = sigmoid(gi[H:2 * H] + gh[H:2 * H])
        n = np.tanh(gi[2 * H:] + r * gh[2 * H:])
        h = (1 - z) * n + z * h
        out[t] = h
    return out


def lstm_direction(x, w_ih, w_hh, b_ih, b_hh, reverse=False):
    """PyTorch nn.LSTM equations for one direction (gates i, f, g, o); x [T, I] -> outputs [T, H]."""
    H = w_hh.shape[1]
    h, c = np.zeros(H), np.zeros(H)
    out = np.zeros((x.shape[0], H))
    steps = range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])
    for t in steps:
        a = w_ih @ x[t] + b_ih + w_hh @ h + b_hh
        i, f, g, o = sigmoid(a[:H]), sigmoid(a[H:2 * H]), np.tanh(a[2 * H:3 * H]), sigmoid(a[3 * H:])
        c = f * c + i * g
        h = o * np.tanh(c)
        out[t] = h
    return out


def layer_norm(x, w, b, eps=1e-5):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w + b


def make(name, config, params, forward):
    folder = os.path.join(HERE, name)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    with open(os.path.join(folder, "vocab.txt"), "w") as f:
        f.write("".join(t + "\n" for t in VOCAB))
    write_safetensors(os.path.join(folder, "model.safetensors"), params)
    p = {k: v.astype(np.float64) for k, v in params}
    logits = [forward(p, np.array(encode(t))).tolist() for t in TEXTS]
    with open(os.path.join(folder, "expected.json"), "w") as f:
        json.dump({"texts": TEXTS, "logits": logits}, f, indent=1)


rng = np.random.default_rng(20261125)
def normal(*shape, scale=0.5):
    return (rng.standard_normal(shape) * scale).astype(np.float32)

V, E, H = len(VOCAB), 6, 5
base = {"vocab_size": V, "embedding_dim": E, "num_classes": 2, "labels": ["neg", "pos"], "max_length": MAX_LEN,
        "tokenizer": {"normalize": "nfkc_casefold", "punctuation": "drop"}}

# 1. GRU, one layer, mean pooling
params = [("embedding.weight", normal(V, E)), ("gru.weight_ih_l0", normal(3 * H, E)), ("gru.weight_hh_l0", normal(3 * H, H)),
          ("gru.bias_ih_l0", normal(3 * H)), ("gru.bias_hh_l0", normal(3 * H)), ("classifier.weight", normal(2, H)),
          ("classifier.bias", normal(2))]
def gru_forward(p, ids):
    hs = gru_direction(p["embedding.weight"][ids], p["gru.weight_ih_l0"], p["gru.weight_hh_l0"], p["gru.bias_ih_l0"], p["gru.bias_hh_l0"])
    return p["classifier.weight"] @ hs.mean(0) + p["classifier.bias"]
make("gru", dict(base, architecture="gru", hidden_size=H, num_layers=1, bidirectional=False, pooling="mean"), params, gru_forward)

# 2. GRU, two layers, bidirectional, last pooling
params = [("embedding.weight", normal(V, E))]
for layer, inp in ((0, E), (1, 2 * H)):
    for suffix in ("", "_reverse"):
        params += [(f"gru.weight_ih_l{layer}{suffix}", normal(3 * H, inp)), (f"gru.weight_hh_l{layer}{suffix}", normal(3 * H, H)),
                   (f"gru.bias_ih_l{layer}{suffix}", normal(3 * H)), (f"gru.bias_hh_l{layer}{suffix}", normal(3 * H))]
params += [("classifier.weight", normal(2, 2 * H)), ("classifier.bias", normal(2))]
def bigru_forward(p, ids):
    x = p["embedding.weight"][ids]
    for layer in (0, 1):
        outs = [gru_direction(x, p[f"gru.weight_ih_l{layer}{s}"], p[f"gru.weight_hh_l{layer}{s}"], p[f"gru.bias_ih_l{layer}{s}"],
                              p[f"gru.bias_hh_l{layer}{s}"], reverse=(s == "_reverse")) for s in ("", "_reverse")]
        x = np.concatenate(outs, axis=1)
    last = np.concatenate([x[-1, :H], x[0, H:]])  # forward state after the last token, reverse state after the first
    return p["classifier.weight"] @ last + p["classifier.bias"]
make("gru_bidirectional", dict(base, architecture="gru", hidden_size=H, num_layers=2, bidirectional=True, pooling="last"), params, bigru_forward)

# 3. Attention: one norm-first TransformerEncoderLayer (2 heads, ReLU FFN), final LayerNorm, mean pooling
D, HEADS, F = 8, 2, 12
prefix = "encoder.layers.0."
params = [("embedding.weight", normal(V, D)), ("position.weight", normal(MAX_LEN, D)),
          (prefix + "self_attn.in_proj_weight", normal(3 * D, D)), (prefix + "self_attn.in_proj_bias", normal(3 * D)),
          (prefix + "self_attn.out_proj.weight", normal(D, D)), (prefix + "self_attn.out_proj.bias", normal(D)),
          (prefix + "linear1.weight", normal(F, D)), (prefix + "linear1.bias", normal(F)),
          (prefix + "linear2.weight", normal(D, F)), (prefix + "linear2.bias", normal(D)),
          (prefix + "norm1.weight", 1 + normal(D, scale=0.1)), (prefix + "norm1.bias", normal(D, scale=0.1)),
          (prefix + "norm2.weight", 1 + normal(D, scale=0.1)), (prefix + "norm2.bias", normal(D, scale=0.1)),
          ("encoder.norm.weight", 1 + normal(D, scale=0.1)), ("encoder.norm.bias", normal(D, scale=0.1)),
          ("classifier.weight", normal(2, D)), ("classifier.bias", normal(2))]
def attention_forward(p, ids):
    T, hd = len(ids), D // HEADS
    x = p["embedding.weight"][ids] + p["position.weight"][:T]
    h = layer_norm(x, p[prefix + "norm1.weight"], p[prefix + "norm1.bias"])
    qkv = h @ p[prefix + "self_attn.in_proj_weight"].T + p[prefix + "self_attn.in_proj_bias"]
    q, k, v = qkv[:, :D], qkv[:, D:2 * D], qkv[:, 2 * D:]
    heads = []
    for i in range(HEADS):
        s = slice(i * hd, (i + 1) * hd)
        scores = q[:, s] @ k[:, s].T / np.sqrt(hd)
        w = np.exp(scores - scores.max(-1, keepdims=True))
        heads.append((w / w.sum(-1, keepdims=True)) @ v[:, s])
    x = x + np.concatenate(heads, axis=1) @ p[prefix + "self_attn.out_proj.weight"].T + p[prefix + "self_attn.out_proj.bias"]
    h = layer_norm(x, p[prefix + "norm2.weight"], p[prefix + "norm2.bias"])
    x = x + np.maximum(h @ p[prefix + "linear1.weight"].T + p[prefix + "linear1.bias"], 0) @ p[prefix + "linear2.weight"].T + p[prefix + "linear2.bias"]
    x = layer_norm(x, p["encoder.norm.weight"], p["encoder.norm.bias"])
    return p["classifier.weight"] @ x.mean(0) + p["classifier.bias"]
make("attention", dict(base, architecture="attention", hidden_size=D, embedding_dim=D, num_layers=1, num_heads=HEADS, ffn_dim=F,
                       pooling="mean"), params, attention_forward)
# 4. LSTM, two layers, bidirectional, max pooling
params = [("embedding.weight", normal(V, E))]
for layer, inp in ((0, E), (1, 2 * H)):
    for suffix in ("", "_reverse"):
        params += [(f"lstm.weight_ih_l{layer}{suffix}", normal(4 * H, inp)), (f"lstm.weight_hh_l{layer}{suffix}", normal(4 * H, H)),
                   (f"lstm.bias_ih_l{layer}{suffix}", normal(4 * H)), (f"lstm.bias_hh_l{layer}{suffix}", normal(4 * H))]
params += [("classifier.weight", normal(2, 2 * H)), ("classifier.bias", normal(2))]
def bilstm_forward(p, ids):
    x = p["embedding.weight"][ids]
    for layer in (0, 1):
        outs = [lstm_direction(x, p[f"lstm.weight_ih_l{layer}{s}"], p[f"lstm.weight_hh_l{layer}{s}"], p[f"lstm.bias_ih_l{layer}{s}"],
                               p[f"lstm.bias_hh_l{layer}{s}"], reverse=(s == "_reverse")) for s in ("", "_reverse")]
        x = np.concatenate(outs, axis=1)
    return p["classifier.weight"] @ x.max(0) + p["classifier.bias"]
make("lstm_bidirectional", dict(base, architecture="lstm", hidden_size=H, num_layers=2, bidirectional=True, pooling="max"), params, bilstm_forward)

# 5. LSTM, one layer, last pooling
params = [("embedding.weight", normal(V, E)), ("lstm.weight_ih_l0", normal(4 * H, E)), ("lstm.weight_hh_l0", normal(4 * H, H)),
          ("lstm.bias_ih_l0", normal(4 * H)), ("lstm.bias_hh_l0", normal(4 * H)), ("classifier.weight", normal(2, H)),
          ("classifier.bias", normal(2))]
def lstm_forward(p, ids):
    hs = lstm_direction(p["embedding.weight"][ids], p["lstm.weight_ih_l0"], p["lstm.weight_hh_l0"], p["lstm.bias_ih_l0"], p["lstm.bias_hh_l0"])
    return p["classifier.weight"] @ hs[-1] + p["classifier.bias"]
make("lstm", dict(base, architecture="lstm", hidden_size=H, num_layers=1, bidirectional=False, pooling="last"), params, lstm_forward)
# 6. CNN (Kim 2014): widths 2 and 3, 4 filters each; a text shorter than 3 is padded with <pad> (id 0) up to 3
WIDTHS, FILTERS = (2, 3), 4
params = [("embedding.weight", normal(V, E))]
for i, k in enumerate(WIDTHS):
    params += [(f"convs.{i}.weight", normal(FILTERS, E, k)), (f"convs.{i}.bias", normal(FILTERS))]
params += [("classifier.weight", normal(2, FILTERS * len(WIDTHS))), ("classifier.bias", normal(2))]
def cnn_forward(p, ids):
    ids = list(ids) + [0] * max(0, max(WIDTHS) - len(ids))
    x = p["embedding.weight"][ids]  # [T, E]
    pooled = []
    for i, k in enumerate(WIDTHS):
        w, b = p[f"convs.{i}.weight"], p[f"convs.{i}.bias"]  # [F, E, k], [F]
        responses = np.array([[np.sum(w[f] * x[t:t + k].T) + b[f] for f in range(FILTERS)] for t in range(len(ids) - k + 1)])
        pooled.append(np.maximum(responses, 0).max(0))
    return p["classifier.weight"] @ np.concatenate(pooled) + p["classifier.bias"]
make("cnn", dict(base, architecture="cnn", filter_sizes=list(WIDTHS), num_filters=FILTERS, activation="relu"), params, cnn_forward)
# 7. Transformer: PyTorch's default post-norm nn.TransformerEncoderLayer, two layers, 2 heads, GELU, no final norm
from math import erf
def gelu(x):
    return 0.5 * x * (1 + np.vectorize(erf)(x / np.sqrt(2)))
params = [("embedding.weight", normal(V, D)), ("position.weight", normal(MAX_LEN, D))]
for layer in (0, 1):
    q = f"encoder.layers.{layer}."
    params += [(q + "self_attn.in_proj_weight", normal(3 * D, D)), (q + "self_attn.in_proj_bias", normal(3 * D)),
               (q + "self_attn.out_proj.weight", normal(D, D)), (q + "self_attn.out_proj.bias", normal(D)),
               (q + "linear1.weight", normal(F, D)), (q + "linear1.bias", normal(F)),
               (q + "linear2.weight", normal(D, F)), (q + "linear2.bias", normal(D)),
               (q + "norm1.weight", 1 + normal(D, scale=0.1)), (q + "norm1.bias", normal(D, scale=0.1)),
               (q + "norm2.weight", 1 + normal(D, scale=0.1)), (q + "norm2.bias", normal(D, scale=0.1))]
params += [("classifier.weight", normal(2, D)), ("classifier.bias", normal(2))]
def self_attention(p, q, x):
    T, hd = x.shape[0], D // HEADS
    qkv = x @ p[q + "self_attn.in_proj_weight"].T + p[q + "self_attn.in_proj_bias"]
    heads = []
    for i in range(HEADS):
        s = slice(i * hd, (i + 1) * hd)
        scores = qkv[:, s] @ qkv[:, D:2 * D][:, s].T / np.sqrt(hd)
        w = np.exp(scores - scores.max(-1, keepdims=True))
        heads.append((w / w.sum(-1, keepdims=True)) @ qkv[:, 2 * D:][:, s])
    return np.concatenate(heads, axis=1) @ p[q + "self_attn.out_proj.weight"].T + p[q + "self_attn.out_proj.bias"]
def transformer_forward(p, ids):
    x = p["embedding.weight"][ids] + p["position.weight"][:len(ids)]
    for layer in (0, 1):
        q = f"encoder.layers.{layer}."
        x = layer_norm(x + self_attention(p, q, x), p[q + "norm1.weight"], p[q + "norm1.bias"])
        ff = gelu(x @ p[q + "linear1.weight"].T + p[q + "linear1.bias"]) @ p[q + "linear2.weight"].T + p[q + "linear2.bias"]
        x = layer_norm(x + ff, p[q + "norm2.weight"], p[q + "norm2.bias"])
    return p["classifier.weight"] @ x.mean(0) + p["classifier.bias"]
make("transformer", dict(base, architecture="transformer", hidden_size=D, embedding_dim=D, num_layers=2, num_heads=HEADS, ffn_dim=F,
                         activation="gelu", norm_first=False, layer_norm_eps=1e-5, pooling="mean"), params, transformer_forward)
print("wrote", ", ".join(sorted(d for d in os.listdir(HERE) if os.path.isdir(os.path.join(HERE, d)))))
