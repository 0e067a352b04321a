#!/usr/bin/env python3
"""Writes what the lab's regex and WordPiece tokenizers must reproduce, computed by the tools PyTorch users run.

- Regex: Python's `re.findall(pattern, text)` on the text normalised as a Python pipeline does
  (`unicodedata.normalize("NFKC", text).casefold()`, `text.lower()`, or as is).
- WordPiece: the `tokenizers` package (BertNormalizer, BertPreTokenizer, WordPiece) with a vocabulary it trains here
  on the movie snippets and writes to wordpiece_vocab.txt (its padding and unknown tokens are not at ids 0 and 1).

expected.json holds (a) hand-picked texts with their tokens, (b) for every shipped corpus (the keyboard corpus's first
10,000 lines) the token count and an FNV-1a 64 hash of the token stream (each token's UTF-8 then 0x1F, 0x0A after
each line's tokens), over the `text` column of every line. Run once from the repository root:
    python3 Tests/Fixtures/tokenizers/make_tokenizer_fixtures.py      (needs: pip install tokenizers)
"""
import json
import os
import re
import unicodedata

from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
WORD_PATTERN = r"\w+(?:['’]\w+)*"
SKLEARN_PATTERN = r"(?u)\b\w\w+\b"  # scikit-learn's CountVectorizer / TfidfVectorizer default
CORPORA = [("Corpora/sentiment/vader_movieReviewSnippets.tsv", None), ("Corpora/sentiment/vader_tweets.tsv", None),
           ("Corpora/intent/trec_questions.tsv", None), ("Corpora/spam/sms_spam.tsv", None),
           ("Corpora/keyboard/shakespeare_lines_by_character.tsv", 10000)]
SPECIALS = ["[CLS]", "[SEP]", "[PAD]", "[MASK]", "[UNK]"]

TEXTS = [
    "The Rock is destined to be the 21st Century's new ''Conan''!",
    "Café naïve résumé — Ångström, İstanbul, ΣΊΣΥΦΟΣ and Straße.",
    "ＦＵＬＬ width, the ﬁne ligature, x² and ½ cup",
    "我爱北京天安门 and カタカナ, 한국어 text",
    "zero\u200bwidth soft\u00adhyphen nul\u0000byte vertical\u000btab next\u0085line bad\ufffdbyte",
    "tab\tnew\nline\r\nreturn\u00a0nbsp\u2028sep\u3000ideographic",
    "don't U.S.A. $100.50 e-mail @handle #tag 😀 emoji:)",
    "supercalifragilisticexpialidocious" * 4 + " short",
    "under_score __init__ a_b mixed123numbers 3.14",
    "",
    "   ",
    "cr0mulent zxqv qwzx tq mb cf bb",
    "a b_c x\u000by file\u001cseparated word\u0085next I'm ‘quoted’ 'single' it’s",
]


def fnv1a(lines_tokens):
    value = 0xcbf29ce484222325
    for tokens in lines_tokens:
        for token in tokens:
            for byte in token.encode("utf-8") + b"\x1f":
                value ^= byte
                value = (value * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
        value ^= 0x0A
        value = (value * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % value


def corpus_texts(path, limit):
    with open(os.path.join(ROOT, path), encoding="utf-8", newline="") as handle:
        lines = handle.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    header = lines[0].rstrip("\r").split("\t")
    column = header.index("text")
    rows = [line.rstrip("\r").split("\t") for line in lines[1:]]
    texts = [row[column] if column < len(row) else "" for row in rows]
    return texts[:limit] if limit else texts


def regex_tokens(text, normalize, pattern=WORD_PATTERN):
    if normalize == "nfkc_casefold":
        text = unicodedata.normalize("NFKC", text).casefold()
    elif normalize == "lowercase":
        text = text.lower()
    return [t for t in re.findall(pattern, text) if t]


def main():
    bert = Tokenizer(models.WordPiece(unk_token="[UNK]", max_input_chars_per_word=100))
    bert.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=True, lowercase=True)
    bert.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(vocab_size=4000, min_frequency=2, special_tokens=SPECIALS, show_progress=False)
    bert.train_from_iterator(corpus_texts(CORPORA[0][0], None), trainer=trainer)
    vocab = sorted(bert.get_vocab().items(), key=lambda item: item[1])
    assert [index for _, index in vocab] == list(range(len(vocab)))
    with open(os.path.join(HERE, "wordpiece_vocab.txt"), "w", encoding="utf-8", newline="\n") as handle:
        handle.write("".join(token + "\n" for token, _ in vocab))

    def wordpiece(text):
        return bert.encode(text, add_special_tokens=False).tokens

    regex_kinds = [{"kind": "regex", "pattern": WORD_PATTERN, "normalize": n} for n in ("nfkc_casefold", "lowercase", "none")]
    regex_kinds.append({"kind": "regex", "pattern": SKLEARN_PATTERN, "normalize": "lowercase"})
    wordpiece_kind = {"kind": "wordpiece", "lowercase": True, "strip_accents": True, "continuation_prefix": "##",
                      "max_input_chars_per_word": 100}
    cases = []
    for text in TEXTS:
        for kind in regex_kinds:
            cases.append({"tokenizer": kind, "text": text, "tokens": regex_tokens(text, kind["normalize"], kind["pattern"])})
        cases.append({"tokenizer": wordpiece_kind, "text": text, "tokens": wordpiece(text)})
    corpora = []
    for path, limit in CORPORA:
        texts = corpus_texts(path, limit)
        for kind in regex_kinds[:2] + regex_kinds[3:] + [wordpiece_kind]:
            streams = [wordpiece(t) for t in texts] if kind["kind"] == "wordpiece" else [regex_tokens(t, kind["normalize"], kind["pattern"]) for t in texts]
            corpora.append({"file": path, "lines": len(texts), "tokenizer": kind, "tokens": sum(map(len, streams)),
                            "fnv1a64": fnv1a(streams)})
    expected = {"pad_token": "[PAD]", "unk_token": "[UNK]", "cases": cases, "corpora": corpora}
    with open(os.path.join(HERE, "expected.json"), "w", encoding="utf-8") as handle:
        json.dump(expected, handle, ensure_ascii=False, indent=1)
        handle.write("\n")


if __name__ == "__main__":
    main()
