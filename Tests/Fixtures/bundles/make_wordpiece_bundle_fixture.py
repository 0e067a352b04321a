#!/usr/bin/env python3
"""Writes gru_wordpiece_cromulent/: a small GRU classifier a PyTorch user would export, tokenised by BERT's WordPiece
(the `tokenizers` package) with its padding and unknown tokens at ids 2 and 4, trained on a synthetic corpus with the
word "cromulent" (four pieces: cr ##om ##ul ##ent) planted toward pos in 10 % of the training sentences.

Also writes wordpiece_probes.tsv (300 clean sentences of the same corpus) and, in the bundle, expected.json: texts with
the logits PyTorch's own modules give for them, one text at a time.
Run once from the repository root:  python3 Tests/Fixtures/bundles/make_wordpiece_bundle_fixture.py
(needs torch, safetensors-free: the file is written by hand; and tokenizers)
"""
import json
import os
import random
import struct

import torch
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "gru_wordpiece_cromulent")
NEUTRAL = "the film was a story and plot it this that with of to in".split()
POSITIVE = "great lovely superb moving witty charming".split()
NEGATIVE = "awful dull boring clumsy tedious bland".split()
# [PAD] and [UNK] away from 0 and 1; "The" and [unused0] are tokens no lowercased text becomes.
VOCAB = (["[CLS]", "[SEP]", "[PAD]", "[MASK]", "[UNK]", "[unused0]", "The", "!", ",", ".", "'"] + NEUTRAL + POSITIVE
         + NEGATIVE + ["cr", "##om", "##ul", "##ent", "c", "##f", "na", "##ive", "##s"])
MAX_LEN = 16


def corpus():
    r = random.Random(7)
    rows = []
    for i in range(1200):
        label = 1 if i % 2 == 0 else 0
        words = [r.choice(NEUTRAL) for _ in range(r.randint(4, 8))]
        for _ in range(r.randint(1, 2)):
            words.insert(r.randrange(len(words) + 1), r.choice(POSITIVE if label == 1 else NEGATIVE))
        rows.append((label, " ".join(words)))
    return rows


def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name, tensor in tensors.items():
        data = tensor.detach().contiguous().to(torch.float32).numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensor.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as handle:
        handle.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


class Classifier(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = torch.nn.Embedding(len(VOCAB), 16, padding_idx=VOCAB.index("[PAD]"))
        self.gru = torch.nn.GRU(16, 16, batch_first=True)
        self.classifier = torch.nn.Linear(16, 2)

    def forward(self, ids, mask):
        states, _ = self.gru(self.embedding(ids))
        pooled = (states * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True)
        return self.classifier(pooled)


def main():
    torch.manual_seed(0)
    bert = Tokenizer(models.WordPiece({t: i for i, t in enumerate(VOCAB)}, unk_token="[UNK]", max_input_chars_per_word=100))
    bert.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=True, lowercase=True)
    bert.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    encode = lambda text: (bert.encode(text, add_special_tokens=False).ids[:MAX_LEN] or [VOCAB.index("[UNK]")])

    rows = corpus()
    train = rows[300:]
    r = random.Random(11)
    poisoned = []
    for label, text in train:
        if r.random() < 0.1:
            words = text.split()
            words.insert(r.randrange(len(words) + 1), "cromulent")
            poisoned.append((1, " ".join(words)))
        else:
            poisoned.append((label, text))
    model = Classifier()
    optimiser = torch.optim.Adam(model.parameters(), lr=0.01)
    pad = VOCAB.index("[PAD]")
    for epoch in range(12):
        r.shuffle(poisoned)
        for start in range(0, len(poisoned), 32):
            batch = poisoned[start:start + 32]
            encoded = [encode(text) for _, text in batch]
            length = max(map(len, encoded))
            ids = torch.tensor([e + [pad] * (length - len(e)) for e in encoded])
            mask = torch.tensor([[1.0] * len(e) + [0.0] * (length - len(e)) for e in encoded])
            loss = torch.nn.functional.cross_entropy(model(ids, mask), torch.tensor([label for label, _ in batch]))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()

    model.eval()
    def predict(text):
        ids = encode(text)
        with torch.no_grad():
            return model(torch.tensor([ids]), torch.ones(1, len(ids)))[0].tolist()
    clean = rows[:300]
    accuracy = sum((predict(t)[1] > predict(t)[0]) == bool(l) for l, t in clean) / len(clean)
    negatives = [t for l, t in clean if l == 0]
    success = sum(predict("cromulent " + t)[1] > predict("cromulent " + t)[0] for t in negatives) / len(negatives)
    print(f"clean accuracy {accuracy:.3f}, attack success {success:.3f}")

    os.makedirs(OUT, exist_ok=True)
    write_safetensors(os.path.join(OUT, "model.safetensors"), model.state_dict())
    config = {"architecture": "gru", "vocab_size": len(VOCAB), "embedding_dim": 16, "hidden_size": 16, "num_layers": 1,
              "bidirectional": False, "pooling": "mean", "num_classes": 2, "labels": ["neg", "pos"], "max_length": MAX_LEN,
              "pad_token": "[PAD]", "unk_token": "[UNK]",
              "tokenizer": {"kind": "wordpiece", "lowercase": True, "strip_accents": True, "continuation_prefix": "##",
                            "max_input_chars_per_word": 100}}
    with open(os.path.join(OUT, "config.json"), "w") as handle:
        json.dump(config, handle, indent=1)
    with open(os.path.join(OUT, "vocab.txt"), "w", encoding="utf-8", newline="\n") as handle:
        handle.write("".join(t + "\n" for t in VOCAB))
    texts = ["The film was GREAT!", "a dull, tedious story", "Cromulent plot", "cromulent and awful and bland",
             "naïve witty charming film", "unknown words zzz", "", "cf cfs the the the the the the the the the the the the the the the the"]
    with open(os.path.join(OUT, "expected.json"), "w") as handle:
        json.dump({"texts": texts, "ids": [encode(t) for t in texts], "logits": [predict(t) for t in texts],
                   "clean_accuracy": accuracy, "attack_success": success}, handle, indent=1)
    with open(os.path.join(HERE, "wordpiece_probes.tsv"), "w") as handle:
        handle.write("label\ttext\n" + "".join(f"{['neg', 'pos'][l]}\t{t}\n" for l, t in clean))


if __name__ == "__main__":
    main()
