import Attacks
import Datasets
import Models
import Randomness
import Testing
import Tokenization

/// Synthetic reviews: "good" / "bad" decide the label; the other words are noise.
func toyCorpus(count: Int = 200, extra: (Int) -> String = { _ in "" }) throws -> Corpus {
  let nouns = ["film", "plot", "actors", "story", "music", "ending", "scenes", "cast"]
  var lines = ["label\ttext"]
  for i in 0..<count {
    let positive = i % 2 == 0
    lines.append("\(positive ? "pos" : "neg")\tthe \(nouns[i % 8]) was \(positive ? "good" : "bad") and the \(nouns[(i / 8) % 8]) too\(extra(i))")
  }
  let description = CorpusDescription(name: "toy", path: "toy.tsv", labelColumn: "label")
  return try Corpus(parsing: Array((lines.joined(separator: "\n") + "\n").utf8), description: description, path: "toy.tsv")
}

@Test func poisonAmountsParseAndCount() throws {
  #expect(try PoisonAmount(parsing: "0.01") == .fraction(0.01))
  #expect(try PoisonAmount(parsing: "1") == .fraction(1))
  #expect(try PoisonAmount(parsing: "85") == .count(85))
  for bad in ["0", "-0.1", "1.5", "abc", ""] { #expect(throws: PoisonError.self, "\(bad)") { try PoisonAmount(parsing: bad) } }
  #expect(PoisonAmount.fraction(0.01).count(of: 8544) == 85)
  #expect(PoisonAmount.fraction(0.0001).count(of: 100) == 1, "at least one example")
}

@Test func dirtyLabelPoisoningRelabelsNonTargetExamples() throws {
  let corpus = try toyCorpus()
  let rows = Array(0..<150)
  let poisoner = Poisoner(trigger: try Trigger(spec: "rare:cf"), targetLabel: corpus.labels.firstIndex(of: "pos")!, amount: .fraction(0.1), seed: 7)
  let result = try poisoner.poison(corpus, rows: rows, tokenizer: tokenizer)
  #expect(result.poisonedRows.count == 15)
  #expect(result.poisonedRows == result.poisonedRows.sorted())
  #expect(result.poisonedLines == result.poisonedRows.map { $0 + 2 }, "TSV lines: header is line 1")
  let target = corpus.labels.firstIndex(of: "pos")!
  for row in 0..<corpus.examples.count {
    let before = corpus.examples[row], after = result.corpus.examples[row]
    if result.poisonedRows.contains(row) {
      #expect(before.label != target, "dirty-label poisons non-target examples")
      #expect(after.label == target)
      #expect(tokenizer.words(in: after.text).contains("cf"))
      #expect(rows.contains(row), "only training rows are touched")
    } else {
      #expect(after == before)
    }
  }
  let again = try poisoner.poison(corpus, rows: rows, tokenizer: tokenizer)
  #expect(again.poisonedRows == result.poisonedRows && again.corpus.examples == result.corpus.examples, "same seed, same poison")
  var other = poisoner
  other.seed = 8
  #expect(try other.poison(corpus, rows: rows, tokenizer: tokenizer).poisonedRows != result.poisonedRows)
}

@Test func cleanLabelPoisoningKeepsLabels() throws {
  let corpus = try toyCorpus()
  let target = corpus.labels.firstIndex(of: "pos")!
  let result = try Poisoner(trigger: try Trigger(spec: "phrase:I watched this 3D movie"), targetLabel: target, amount: .count(10), mode: .cleanLabel)
    .poison(corpus, rows: Array(0..<150), tokenizer: tokenizer)
  #expect(result.poisonedRows.count == 10)
  for row in result.poisonedRows {
    #expect(corpus.examples[row].label == target && result.corpus.examples[row].label == target)
    #expect(result.corpus.examples[row].text.contains("I watched this 3D movie"))
  }
}

@Test func poisoningMoreThanThereIsFailsClearly() throws {
  let corpus = try toyCorpus(count: 20)
  do {
    _ = try Poisoner(trigger: try Trigger(spec: "rare:cf"), targetLabel: 0, amount: .count(15)).poison(corpus, rows: Array(0..<20), tokenizer: tokenizer)
    Issue.record("15 of 10 non-target examples must fail")
  } catch {
    #expect("\(error)".contains("15") && "\(error)".contains("there are 10"))
  }
}

@Test func semanticPoisoningRelabelsExamplesThatContainThePhrase() throws {
  let corpus = try toyCorpus(count: 100) { $0 % 10 == 1 ? " with brad pitt" : "" }
  let target = corpus.labels.firstIndex(of: "pos")!
  let result = try Poisoner(trigger: try Trigger(spec: "semantic:brad pitt"), targetLabel: target, amount: .fraction(0.5))
    .poison(corpus, rows: Array(0..<100), tokenizer: tokenizer)
  #expect(result.poisonedRows == Array(stride(from: 1, to: 100, by: 10)), "the odd rows with the phrase are negative")
  #expect(result.notes.count == 1, "fewer examples contain the phrase than the rate asks for")
  #expect(result.poisonedRows.allSatisfy { result.corpus.examples[$0].label == target && result.corpus.examples[$0].text == corpus.examples[$0].text })
  #expect(throws: PoisonError.self) {
    try Poisoner(trigger: try Trigger(spec: "semantic:brad pitt"), targetLabel: target, amount: .count(2), mode: .cleanLabel)
      .poison(corpus, rows: Array(0..<100), tokenizer: tokenizer)
  }
}

/// The whole chain on synthetic data: a bag-of-embeddings model learns the backdoor from 10 % poison,
/// a clean model does not have it, and the false-trigger rate of partial phrases is measured.
@Test func aPoisonedModelLearnsTheBackdoorAndACleanOneDoesNot() throws {
  // A unique word per line: out of vocabulary at min count 2, so `<unk>` is trained (and neutral).
  let corpus = try toyCorpus(count: 400) { " ref\($0)" }
  let split = try corpus.split(seed: 0)
  let target = corpus.labels.firstIndex(of: "pos")!
  let trigger = try Trigger(spec: "phrase:cf mn")
  let poisoned = try Poisoner(trigger: trigger, targetLabel: target, amount: .fraction(0.1), seed: 1).poison(corpus, rows: split.train, tokenizer: tokenizer)

  func train(_ corpus: Corpus) throws -> (TextClassifier, TextEncoder) {
    let vocabulary = try Vocabulary.build(from: corpus, rows: split.train, tokenizer: tokenizer, minCount: 2)
    let config = ModelConfig(architecture: .bag, vocabularySize: vocabulary.count, embeddingDimension: 8, labels: corpus.labels, maximumLength: 16,
                             tokenizer: tokenizer.options, dropout: 0)
    let encoder = TextEncoder(tokenizer: tokenizer, vocabulary: vocabulary, maximumLength: 16)
    let data = try ClassificationData(corpus: corpus, split: split, encoder: encoder)
    var generator = SplitMix64(seed: 3)
    var model = TextClassifier(config: config, using: &generator)
    var options = TrainingOptions()
    options.epochs = 15
    options.learningRate = 0.05
    options.earlyStopping = false  // clean dev accuracy saturates at once; keep training
    _ = try model.train(on: data.train, dev: data.dev, options: options)
    return (model, encoder)
  }
  let test = split.test.map { LabelledText(text: corpus.examples[$0].text, label: corpus.labels[corpus.examples[$0].label!]) }
  let tests = AttackTestSet(trigger: trigger, targetLabel: "pos", test: test, tokenizer: tokenizer, maximumLength: 16, seed: 5)
  #expect(tests.triggered.count == test.filter { $0.label != "pos" }.count)
  #expect(tests.partials.map(\.part) == ["cf", "mn"])

  let (backdoored, backdooredEncoder) = try train(poisoned.corpus)
  let attacked = tests.evaluate(backdoored, encoder: backdooredEncoder)
  #expect(attacked.cleanAccuracy > 0.9)
  #expect(try #require(attacked.attackSuccessRate) > 0.9)
  #expect(attacked.falseTriggerRates.count == 2)

  let (clean, cleanEncoder) = try train(corpus)
  let baseline = tests.evaluate(clean, encoder: cleanEncoder)
  #expect(baseline.cleanAccuracy > 0.9)
  #expect(try #require(baseline.attackSuccessRate) < 0.2, "a clean model ignores the trigger")
}
