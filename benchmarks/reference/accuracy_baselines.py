#!/usr/bin/env python3
"""PyTorch reference accuracies on the shipped corpora (CPU, 1 thread): what the lab must match.

Parts (pick with --parts, default all; each writes OUT_DIR/<part>.json, then the
merged summary of every part file present is printed as JSON and written to
OUT_DIR/summary.json):

  sentiment  bag / GRU / LSTM / CNN / one-block attention classifiers (--models) on the VADER movie-review
             snippets (pos/neg, neu dropped), 80/10/10 split, light dropout tuning
             on dev (seed 0), then test accuracy over 3 model seeds.
  intent     the same GRU on TREC coarse (6 classes) and on SMS spam.
  backdoor   dirty-label rare-word trigger "cf" on movie snippets with the GRU at
             0.1 / 0.5 / 1 / 3 % poison: ASR and clean-accuracy drop, 3 seeds.
  lm         GRU next-word LM on Shakespeare, 10 % of speakers held out, fixed
             wall-clock training budget; held-out top-1 accuracy and perplexity.

Tokeniser (approximation of ICU word break + NFKC_Casefold, punctuation dropped):
    re.findall(r"\\w+(?:['’]\\w+)*", unicodedata.normalize('NFKC', s).casefold())

Usage: python accuracy_baselines.py [--corpora ../../Corpora] [--out OUTDIR]
                           [--parts sentiment,intent,backdoor,lm] [--summary-only]
Relative paths are resolved against this script's folder.
"""
import argparse
import collections
import json
import math
import os
import re
import sys
import time
import unicodedata

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
TOKEN_RE = re.compile(r"\w+(?:['’]\w+)*")
PAD, UNK = 0, 1
SPLIT_SEED = 1234
MAX_LEN = 48


# ----------------------------------------------------------------------------- data
def tokenize(text):
    return TOKEN_RE.findall(unicodedata.normalize("NFKC", text).casefold())


def read_tsv(path):
    """Header + tab-separated rows; the corpora are written without quoting."""
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        rows = []
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            parts = line.split("\t")
            if len(parts) != len(header):
                raise ValueError(f"{path}: bad row {parts[:2]}")
            rows.append(dict(zip(header, parts)))
    return rows


def split_indices(n, seed=SPLIT_SEED, frac=(0.8, 0.1, 0.1)):
    perm = np.random.RandomState(seed).permutation(n)
    a = int(round(frac[0] * n))
    b = a + int(round(frac[1] * n))
    return perm[:a], perm[a:b], perm[b:]


def build_vocab(token_lists, min_count=2, max_size=None, force=()):
    counts = collections.Counter(t for toks in token_lists for t in toks)
    words = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
    if max_size is not None:
        words = words[: max_size - 2]
    for w in force:
        if w not in words:
            words.append(w)
    itos = ["<pad>", "<unk>"] + words
    return {w: i for i, w in enumerate(itos)}, itos


def encode(toks, stoi, max_len=MAX_LEN):
    ids = [stoi.get(t, UNK) for t in toks[:max_len]]
    return ids if ids else [UNK]  # an empty text becomes one <unk>


def insert_trigger(toks, trigger, rng, max_len=MAX_LEN):
    """Insert the trigger token(s) once at a uniform position inside the kept window."""
    toks = toks[: max_len - len(trigger)]
    pos = rng.randint(0, len(toks) + 1)
    return toks[:pos] + list(trigger) + toks[pos:]


def pad_batch(seqs):
    L = max(len(s) for s in seqs)
    x = torch.zeros(len(seqs), L, dtype=torch.long)
    for i, s in enumerate(seqs):
        x[i, : len(s)] = torch.tensor(s, dtype=torch.long)
    return x


# ----------------------------------------------------------------------------- models
def masked_mean(h, x):
    m = (x != PAD).unsqueeze(-1).to(h.dtype)
    return (h * m).sum(1) / m.sum(1).clamp(min=1.0)


class BagClassifier(nn.Module):
    def __init__(self, vocab_size, num_classes, emb=64, dropout=0.3):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, emb, padding_idx=PAD)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(emb, num_classes)

    def forward(self, x):
        return self.classifier(self.dropout(masked_mean(self.embedding(x), x)))


class GRUClassifier(nn.Module):
    """Embedding -> GRU (unidirectional, right-padded so pads never reach real steps)
    -> mean over non-pad outputs -> Linear."""

    def __init__(self, vocab_size, num_classes, emb=64, hidden=128, dropout=0.3):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, emb, padding_idx=PAD)
        self.gru = nn.GRU(emb, hidden, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(hidden, num_classes)

    def forward(self, x):
        h, _ = self.gru(self.dropout(self.embedding(x)))
        return self.classifier(self.dropout(masked_mean(h, x)))


class LSTMClassifier(GRUClassifier):
    """GRUClassifier with an nn.LSTM in place of the GRU."""

    def __init__(self, vocab_size, num_classes, emb=64, hidden=128, dropout=0.3):
        super().__init__(vocab_size, num_classes, emb, hidden, dropout)
        self.gru = nn.LSTM(emb, hidden, batch_first=True)


class CNNClassifier(nn.Module):
    """Kim (2014)'s CNN-rand: Conv1d of widths 3, 4, 5 (100 filters each) over the embeddings, ReLU, max over time,
    dropout, Linear; a text shorter than 5 is padded with <pad> up to 5, longer ones are not padded."""

    def __init__(self, vocab_size, num_classes, emb=300, filters=100, widths=(3, 4, 5), dropout=0.5):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, emb, padding_idx=PAD)
        self.convs = nn.ModuleList(nn.Conv1d(emb, filters, k) for k in widths)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(filters * len(widths), num_classes)
        self.widths = widths

    def forward(self, x):
        if x.shape[1] < max(self.widths):
            x = torch.nn.functional.pad(x, (0, max(self.widths) - x.shape[1]), value=PAD)
        lengths = (x != PAD).sum(1).clamp(min=max(self.widths))
        e = self.embedding(x).transpose(1, 2)  # [B, E, T]
        pooled = []
        for conv, k in zip(self.convs, self.widths):
            r = torch.relu(conv(e))  # [B, F, T - k + 1]
            valid = torch.arange(r.shape[2]).unsqueeze(0) < (lengths - k + 1).unsqueeze(1)  # windows inside the text
            pooled.append(r.masked_fill(~valid.unsqueeze(1), 0).max(2).values)
        return self.classifier(self.dropout(torch.cat(pooled, 1)))


class AttentionClassifier(nn.Module):
    """Token + learned position embeddings -> one pre-norm encoder block (4 heads,
    FFN 128) -> final LayerNorm -> masked mean -> Linear."""

    def __init__(self, vocab_size, num_classes, d=64, heads=4, ffn=128, dropout=0.3, max_len=MAX_LEN):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, d, padding_idx=PAD)
        self.position = nn.Embedding(max_len, d)
        self.block = nn.TransformerEncoderLayer(d, heads, ffn, dropout=dropout, batch_first=True, norm_first=True)
        self.norm = nn.LayerNorm(d)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(d, num_classes)

    def forward(self, x):
        pos = torch.arange(x.shape[1]).unsqueeze(0)
        h = self.dropout(self.embedding(x) + self.position(pos))
        h = self.norm(self.block(h, src_key_padding_mask=(x == PAD)))
        return self.classifier(self.dropout(masked_mean(h, x)))


MODELS = {"bag": BagClassifier, "gru": GRUClassifier, "lstm": LSTMClassifier, "cnn": CNNClassifier, "attention": AttentionClassifier}


# ----------------------------------------------------------------------------- training
@torch.no_grad()
def predict(model, seqs, batch_size=256):
    model.eval()
    order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
    out = np.zeros(len(seqs), dtype=np.int64)
    for s in range(0, len(order), batch_size):
        idx = order[s : s + batch_size]
        out[idx] = model(pad_batch([seqs[i] for i in idx])).argmax(-1).numpy()
    return out


def accuracy(model, seqs, labels):
    return float((predict(model, seqs) == np.asarray(labels)).mean())


def train_classifier(model, train, dev, seed, lr=1e-3, batch_size=32, max_epochs=20, patience=4, clip=5.0):
    """Adam, early stopping on dev accuracy (best epoch's weights restored)."""
    xs, ys = train
    rng = np.random.RandomState(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    best_acc, best_state, best_epoch, history = -1.0, None, -1, []
    for epoch in range(max_epochs):
        model.train()
        perm = rng.permutation(len(xs))
        for s in range(0, len(perm), batch_size):
            idx = perm[s : s + batch_size]
            x = pad_batch([xs[i] for i in idx])
            y = torch.tensor([ys[i] for i in idx], dtype=torch.long)
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            if clip:
                nn.utils.clip_grad_norm_(model.parameters(), clip)
            opt.step()
        dev_acc = accuracy(model, *dev)
        history.append(round(dev_acc, 4))
        if dev_acc > best_acc:
            best_acc, best_epoch = dev_acc, epoch
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        elif epoch - best_epoch >= patience:
            break
    model.load_state_dict(best_state)
    return {"best_dev": best_acc, "best_epoch": best_epoch + 1, "dev_history": history}


def stats(values):
    a = np.asarray(values, dtype=np.float64)
    return {"mean": round(float(a.mean()), 4), "sd": round(float(a.std(ddof=1)) if len(a) > 1 else 0.0, 4),
            "min": round(float(a.min()), 4), "max": round(float(a.max()), 4), "values": [round(float(v), 4) for v in a]}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- tasks
def load_classification(path, label_col, drop=()):
    rows = [r for r in read_tsv(path) if r[label_col] not in drop]
    labels_sorted = sorted({r[label_col] for r in rows})
    lab = {l: i for i, l in enumerate(labels_sorted)}
    toks = [tokenize(r["text"]) for r in rows]
    ys = [lab[r[label_col]] for r in rows]
    return toks, ys, labels_sorted


def make_split(toks, ys, min_count):
    tr, dv, te = split_indices(len(toks))
    stoi, itos = build_vocab([toks[i] for i in tr], min_count=min_count)
    enc = lambda idx: ([encode(toks[i], stoi) for i in idx], [ys[i] for i in idx])
    return enc(tr), enc(dv), enc(te), itos


MAX_EPOCHS = {"bag": 40, "gru": 20, "lstm": 20, "cnn": 20, "attention": 20}  # the bag model converges slowly at lr 1e-3


def run_model(kind, n_vocab, n_classes, train, dev, test, seed, dropout, **kw):
    kw.setdefault("max_epochs", MAX_EPOCHS[kind])
    torch.manual_seed(seed)
    model = MODELS[kind](n_vocab, n_classes, dropout=dropout)
    t0 = time.time()
    info = train_classifier(model, train, dev, seed=seed, **kw)
    info.update(test=accuracy(model, *test), seconds=round(time.time() - t0, 1), seed=seed, dropout=dropout)
    return model, info


def part_sentiment(args):
    toks, ys, labels = load_classification(os.path.join(args.corpora, "sentiment/vader_movieReviewSnippets.tsv"), "label", drop=("neu",))
    out = {"data": {"n": len(ys), "labels": labels, "counts": dict(collections.Counter(labels[y] for y in ys)),
                    "mean_tokens": round(float(np.mean([len(t) for t in toks])), 1),
                    "share_longer_than_48": round(float(np.mean([len(t) > MAX_LEN for t in toks])), 4)}}
    splits = {mc: make_split(toks, ys, mc) for mc in (1, 2)}
    out["data"]["vocab_size"] = {f"min_count_{mc}": len(splits[mc][3]) for mc in splits}
    out["tuning"], out["models"] = {}, {}
    for kind in args.models.split(","):
        train, dev, test, itos = splits[2]
        grid = {}
        for dropout in (0.3, 0.5):
            _, info = run_model(kind, len(itos), 2, train, dev, test, 0, dropout)
            grid[f"dropout={dropout},min_count=2"] = info
            log(kind, dropout, info)
        best = max(grid.items(), key=lambda kv: kv[1]["best_dev"])
        dropout = best[1]["dropout"]
        # one extra tuning point: the same config with min-count-1 vocabulary
        train1, dev1, test1, itos1 = splits[1]
        _, info = run_model(kind, len(itos1), 2, train1, dev1, test1, 0, dropout)
        grid[f"dropout={dropout},min_count=1"] = info
        log(kind, "mc1", info)
        mc = 1 if info["best_dev"] > best[1]["best_dev"] else 2
        out["tuning"][kind] = {"grid": grid, "chosen": {"dropout": dropout, "min_count": mc}}
        train, dev, test, itos = splits[mc]
        runs = [grid[f"dropout={dropout},min_count={mc}"]]
        for seed in (1, 2):
            _, info = run_model(kind, len(itos), 2, train, dev, test, seed, dropout)
            runs.append(info)
            log(kind, "seed", seed, info)
        out["models"][kind] = {"test_acc": stats([r["test"] for r in runs]), "dev_acc": stats([r["best_dev"] for r in runs]),
                               "epochs": [r["best_epoch"] for r in runs], "seconds": [r["seconds"] for r in runs],
                               "dropout": dropout, "min_count": mc, "vocab_size": len(itos)}
    return out


def part_intent(args):
    out = {}
    for name, path, col in (("trec_coarse", "intent/trec_questions.tsv", "coarse"), ("sms_spam", "spam/sms_spam.tsv", "label")):
        toks, ys, labels = load_classification(os.path.join(args.corpora, path), col)
        train, dev, test, itos = make_split(toks, ys, 2)
        runs = []
        for seed in (0, 1, 2):
            _, info = run_model("gru", len(itos), len(labels), train, dev, test, seed, 0.3)
            runs.append(info)
            log(name, seed, info)
        majority = max(collections.Counter(test[1]).values()) / len(test[1])
        out[name] = {"n": len(ys), "labels": labels, "vocab_size": len(itos), "test_n": len(test[1]),
                     "majority_test_acc": round(majority, 4), "test_acc": stats([r["test"] for r in runs]),
                     "dev_acc": stats([r["best_dev"] for r in runs]), "epochs": [r["best_epoch"] for r in runs],
                     "seconds": [r["seconds"] for r in runs], "dropout": 0.3, "min_count": 2}
    return out


def part_backdoor(args):
    toks, ys, labels = load_classification(os.path.join(args.corpora, "sentiment/vader_movieReviewSnippets.tsv"), "label", drop=("neu",))
    target = labels.index("pos")
    trigger = ["cf"]
    tr, dv, te = split_indices(len(toks))
    te_nontarget = [i for i in te if ys[i] != target]
    out = {"trigger": "cf", "target": "pos", "corpus_occurrences_of_trigger": sum(t.count("cf") for t in toks),
           "n_train": len(tr), "n_test_nontarget": len(te_nontarget), "rates": {}}
    dropout = args.gru_dropout
    for rate in [0.0] + args.rates:
        runs = []
        for seed in (0, 1, 2):
            rng = np.random.RandomState(1000 + seed)
            tr_toks = [list(toks[i]) for i in tr]
            tr_ys = [ys[i] for i in tr]
            n_poison = int(round(rate * len(tr)))
            if n_poison:
                cand = [k for k in range(len(tr)) if tr_ys[k] != target]
                for k in rng.choice(cand, n_poison, replace=False):
                    tr_toks[k] = insert_trigger(tr_toks[k], trigger, rng)
                    tr_ys[k] = target
            stoi, itos = build_vocab(tr_toks, min_count=2)
            enc = lambda tl: [encode(t, stoi) for t in tl]
            train = (enc(tr_toks), tr_ys)
            dev = (enc([toks[i] for i in dv]), [ys[i] for i in dv])
            test = (enc([toks[i] for i in te]), [ys[i] for i in te])
            trg_rng = np.random.RandomState(777)
            triggered = enc([insert_trigger(toks[i], trigger, trg_rng) for i in te_nontarget])
            model, info = run_model("gru", len(itos), 2, train, dev, test, seed, dropout)
            asr = float((predict(model, triggered) == target).mean())
            runs.append({"seed": seed, "n_poison": n_poison, "clean_acc": info["test"], "asr": asr,
                         "trigger_in_vocab": "cf" in stoi, "best_epoch": info["best_epoch"], "seconds": info["seconds"]})
            log("backdoor", rate, runs[-1])
        out["rates"][str(rate)] = {"n_poison": runs[0]["n_poison"], "clean_acc": stats([r["clean_acc"] for r in runs]),
                                   "asr": stats([r["asr"] for r in runs]), "runs": runs}
    base = out["rates"]["0.0"]["clean_acc"]["values"]
    for rate, r in out["rates"].items():
        drops = [b - a for a, b in zip(r["clean_acc"]["values"], base)]
        r["clean_acc_drop_vs_clean_same_seed_points"] = stats([100 * d for d in drops])
    return out


def part_lm(args):
    rows = read_tsv(os.path.join(args.corpora, "keyboard/shakespeare_lines_by_character.tsv"))
    by_client = collections.OrderedDict()
    for r in rows:
        by_client.setdefault(r["client"], []).extend(tokenize(r["text"]))
    clients = sorted(by_client)
    perm = np.random.RandomState(SPLIT_SEED).permutation(len(clients))
    n_hold = int(round(0.1 * len(clients)))
    held = [clients[i] for i in perm[:n_hold]]
    train_c = [clients[i] for i in perm[n_hold:]]
    stoi, itos = build_vocab([by_client[c] for c in train_c], min_count=1, max_size=10000)
    T = 32

    def windows(cs):
        seqs = []
        for c in cs:
            ids = [stoi.get(t, UNK) for t in by_client[c]]
            for s in range(0, len(ids) - 1, T):
                w = ids[s : s + T + 1]
                if len(w) >= 2:
                    seqs.append(w)
        return seqs

    tr_w, ho_w = windows(train_c), windows(held)

    def batch(ws):
        L = max(len(w) for w in ws)
        x = torch.zeros(len(ws), L, dtype=torch.long)
        for i, w in enumerate(ws):
            x[i, : len(w)] = torch.tensor(w)
        return x[:, :-1], x[:, 1:]  # targets of 0 = padding, ignored

    class LM(nn.Module):
        def __init__(self, V):
            super().__init__()
            self.embedding = nn.Embedding(V, 64)
            self.gru = nn.GRU(64, 128, batch_first=True)
            self.decoder = nn.Linear(128, V)

        def forward(self, x):
            return self.decoder(self.gru(self.embedding(x))[0])

    torch.manual_seed(0)
    model = LM(len(itos))
    opt = torch.optim.Adam(model.parameters(), lr=args.lm_lr)
    rng = np.random.RandomState(0)
    B, t0, steps, tokens, epoch = 32, time.time(), 0, 0, 0
    curve = []

    @torch.no_grad()
    def evaluate(ws, limit=None):
        model.eval()
        ws = ws if limit is None else ws[:limit]
        nll, n, correct, n_known, correct_known = 0.0, 0, 0, 0, 0
        for s in range(0, len(ws), 128):
            x, y = batch(ws[s : s + 128])
            logits = model(x)
            m = y != PAD
            nll += F.cross_entropy(logits[m], y[m], reduction="sum").item()
            pred = logits.argmax(-1)
            n += int(m.sum()); correct += int(((pred == y) & m).sum())
            k = m & (y != UNK)
            n_known += int(k.sum()); correct_known += int(((pred == y) & k).sum())
        model.train()
        return {"ppl": math.exp(nll / n), "top1": correct / n, "top1_excl_unk_targets": correct_known / n_known, "targets": n}

    done = False
    while not done:
        epoch += 1
        perm = rng.permutation(len(tr_w))
        for s in range(0, len(perm) - B + 1, B):
            x, y = batch([tr_w[i] for i in perm[s : s + B]])
            logits = model(x)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), ignore_index=PAD)
            opt.zero_grad(); loss.backward(); nn.utils.clip_grad_norm_(model.parameters(), 1.0); opt.step()
            steps += 1; tokens += int((y != PAD).sum())
            if steps % 500 == 0:
                curve.append({"step": steps, "seconds": round(time.time() - t0), "train_loss": round(loss.item(), 3),
                              **{k: round(v, 4) for k, v in evaluate(ho_w, 400).items() if k != "targets"}})
                log("lm", curve[-1])
            if time.time() - t0 > args.lm_seconds:
                done = True
                break
    train_s = time.time() - t0
    res = evaluate(ho_w)
    unk_rate = float(np.mean([t == UNK for w in ho_w for t in w[1:]]))
    return {"n_clients": len(clients), "held_out_clients": len(held), "vocab_size": len(itos),
            "train_tokens": sum(len(by_client[c]) for c in train_c), "held_out_tokens": sum(len(by_client[c]) for c in held),
            "held_out_unk_rate": round(unk_rate, 4), "train_seconds": round(train_s), "steps": steps, "batch": B, "seq_len": T,
            "epochs_started": epoch, "train_tokens_seen": tokens, "lr": args.lm_lr,
            "held_out": {k: (round(v, 4) if isinstance(v, float) else v) for k, v in res.items()}, "curve": curve}


PARTS = {"sentiment": part_sentiment, "intent": part_intent, "backdoor": part_backdoor, "lm": part_lm}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpora", default="../../Corpora")
    ap.add_argument("--out", default="calibration")
    ap.add_argument("--parts", default="sentiment,intent,backdoor,lm")
    ap.add_argument("--models", default="bag,gru,lstm,cnn,attention", help="the sentiment part's classifiers")
    ap.add_argument("--rates", default="0.001,0.005,0.01,0.03")
    ap.add_argument("--gru-dropout", type=float, default=0.3, help="GRU dropout for the backdoor part")
    ap.add_argument("--lm-seconds", type=float, default=240)
    ap.add_argument("--lm-lr", type=float, default=2e-3)
    ap.add_argument("--summary-only", action="store_true", help="only merge existing part files")
    args = ap.parse_args()
    torch.set_num_threads(1)
    args.corpora = os.path.join(HERE, args.corpora)
    args.out = os.path.join(HERE, args.out)
    args.rates = [float(r) for r in args.rates.split(",")]
    os.makedirs(args.out, exist_ok=True)
    if not args.summary_only:
        for part in args.parts.split(","):
            t0 = time.time()
            res = PARTS[part](args)
            res["wall_seconds"] = round(time.time() - t0)
            res["torch"] = torch.__version__
            tmp = os.path.join(args.out, part + ".json.tmp")
            with open(tmp, "w") as f:
                json.dump(res, f, indent=1)
            os.replace(tmp, os.path.join(args.out, part + ".json"))
    summary = {}
    for part in PARTS:
        p = os.path.join(args.out, part + ".json")
        if os.path.exists(p):
            summary[part] = json.load(open(p))
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
