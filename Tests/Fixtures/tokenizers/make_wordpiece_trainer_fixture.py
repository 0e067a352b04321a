#!/usr/bin/env python3
"""Writes the vocabulary the `tokenizers` package's WordPieceTrainer learns from the first 3,000 labelled (pos/neg)
movie snippets (BertNormalizer lowercasing and stripping accents, BertPreTokenizer; 1,500 entries, pairs seen twice
or more, the lab's four special tokens first), for the lab's WordPieceTrainer to be compared with.
Run once from the repository root (needs: pip install tokenizers==0.23.3):
    python3 Tests/Fixtures/tokenizers/make_wordpiece_trainer_fixture.py
"""
import csv
import os

from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))

texts = []
with open(os.path.join(ROOT, "Corpora/sentiment/vader_movieReviewSnippets.tsv"), encoding="utf-8", newline="") as f:
    rows = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
    header = next(rows)
    for row in rows:
        if row[header.index("label")] in ("pos", "neg"):
            texts.append(row[header.index("text")])
texts = texts[:3000]

tokenizer = Tokenizer(models.WordPiece(unk_token="<unk>"))
tokenizer.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=True, lowercase=True)
tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
trainer = trainers.WordPieceTrainer(vocab_size=1500, min_frequency=2, special_tokens=["<pad>", "<unk>", "<bos>", "<eos>"], show_progress=False)
tokenizer.train_from_iterator(texts, trainer=trainer)
vocabulary = sorted(tokenizer.get_vocab().items(), key=lambda item: item[1])
with open(os.path.join(HERE, "wordpiece_trainer_vocab.txt"), "w", encoding="utf-8") as out:
    out.write("".join(token + "\n" for token, _ in vocabulary))
