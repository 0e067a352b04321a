import Datasets
import Foundation
import Models
import Tokenization

/// One data-poisoning attack on a corpus, everything but the poison amount and the seed: the trigger, the target,
/// how poisoned rows are labelled, and the recipe the clean and backdoored models are trained with. `attack` runs it
/// once; `attack-sweep` over rates and seeds.
public struct AttackPlan: Sendable {
  public var corpus: Corpus
  public var split: DataSplit
  public var trigger: Trigger
  public var targetLabel: String
  public var mode: PoisonMode
  /// Force the trigger's tokens into the vocabulary (otherwise they are in it only if the poisoned training split
  /// has them at the recipe's minimum count). A WordPiece vocabulary is fixed before poisoning: nothing is forced.
  public var forceTrigger: Bool
  public var recipe: ClassifierRecipe
  public var tokenizer: Tokenizer
  /// The WordPiece vocabulary of the clean and backdoored models (`ClassifierRecipe.tokenization`); nil for words.
  public var fixedVocabulary: Vocabulary?

  /// Checks that the corpus is labelled, the target is one of its labels and the trigger both reaches the model and
  /// leaves it room for text.
  public init(corpus: Corpus, trigger: Trigger, targetLabel: String, mode: PoisonMode, forceTrigger: Bool, recipe: ClassifierRecipe) throws {
    guard !corpus.labels.isEmpty else { throw AttackPlanError("\(corpus.path): no label column; an attack needs labelled text") }
    guard corpus.labels.contains(targetLabel) else {
      throw AttackPlanError(
        "--target '\(targetLabel)' is not a label of \(corpus.description.name); its labels are \(corpus.labels.joined(separator: ", "))")
    }
    (self.corpus, self.trigger, self.targetLabel, self.mode, self.forceTrigger, self.recipe) = (corpus, trigger, targetLabel, mode, forceTrigger, recipe)
    split = try corpus.split(seed: recipe.splitSeed)
    (tokenizer, fixedVocabulary) = try recipe.tokenization(of: corpus, split: split)
    let length = trigger.insertedTokenCount(tokenizer: tokenizer)
    if trigger.insertsText && length == 0 && trigger.kind != .character && trigger.kind != .characterInside {
      throw AttackPlanError("trigger '\(trigger.spec)' produces no tokens (the tokenizer drops punctuation and spaces); the model would never see it")
    }
    if length >= recipe.maximumLength {
      throw AttackPlanError(
        "trigger '\(trigger.spec)' takes \(length) tokens but the model sees at most \(recipe.maximumLength) (--max-length); it leaves no room for the text")
    }
  }

  public var targetIndex: Int { corpus.labels.firstIndex(of: targetLabel)! }
  var visibleWords: Int { recipe.maximumLength - trigger.insertedTokenCount(tokenizer: tokenizer) }
  var forcedTokens: [String] {
    guard forceTrigger, fixedVocabulary == nil, trigger.kind != .character, trigger.kind != .characterInside else { return [] }
    return Array(Set(trigger.pieces.flatMap { tokenizer.words(in: $0) })).sorted()
  }

  /// The clean test split, and its non-target examples with the trigger inserted.
  public func testSet(seed: UInt64) -> AttackTestSet {
    let test = split.test.map { LabelledText(text: corpus.examples[$0].text, label: corpus.labels[corpus.examples[$0].label!]) }
    return AttackTestSet(trigger: trigger, targetLabel: targetLabel, test: test, tokenizer: tokenizer, maximumLength: recipe.maximumLength, seed: seed)
  }

  /// Trains the clean model of `seed` into `out` (bundle plus training.json).
  public func trainClean(seed: UInt64, out: String, quiet: Bool, verbose: Bool = false) throws -> TrainedClassifier {
    var recipe = recipe
    recipe.seed = seed
    let trained = try recipe.train(
      on: corpus, split: split, tokenizer: tokenizer, vocabulary: fixedVocabulary, out: out, title: "clean \(recipe.architecture.rawValue), seed \(seed)", quiet: quiet, verbose: verbose)
    try trained.save(to: out, corpus: corpus.description.name, recipe: recipe)
    return trained
  }

  /// Poisons, trains the backdoored model into `out`, scores it beside `clean` and writes `attack.json`
  /// (last, atomically: its presence means the run finished).
  public func run(
    amount: PoisonAmount, seed: UInt64, out: String, clean: (classifier: TextClassifier, encoder: TextEncoder)?, quiet: Bool, verbose: Bool = false
  ) throws -> AttackRecord {
    var recipe = recipe
    recipe.seed = seed
    let poisoner = Poisoner(trigger: trigger, targetLabel: targetIndex, amount: amount, mode: mode, seed: seed, visibleWords: visibleWords)
    let poisoned: PoisonedCorpus
    do { poisoned = try poisoner.poison(corpus, rows: split.train, tokenizer: tokenizer) } catch {
      throw AttackPlanError("\(corpus.description.name): \(error.problem)")
    }
    let trained = try recipe.train(
      on: poisoned.corpus, split: split, tokenizer: tokenizer, vocabulary: fixedVocabulary, forcedTokens: forcedTokens, out: out,
      title: "backdoored \(recipe.architecture.rawValue), seed \(seed)", quiet: quiet, verbose: verbose)
    let cleanTrainingTexts = split.train.lazy.map { corpus.examples[$0].text }
    let report = TriggerReport(trigger: trigger, tokenizer: tokenizer, vocabulary: trained.vocabulary, cleanTexts: cleanTrainingTexts)
    let tests = testSet(seed: seed)
    let record = AttackRecord(
      corpus: corpus.description.name, model: recipe.architecture.rawValue, seed: seed, splitSeed: recipe.splitSeed, trigger: trigger,
      targetLabel: targetLabel, mode: mode, poisonRate: amount.fraction, requestedCount: poisoned.requestedCount, trainingExamples: split.train.count,
      poisonedRows: poisoned.poisonedRows, poisonedLines: poisoned.poisonedLines, triggerReport: report,
      poisoned: tests.evaluate(trained.classifier, encoder: trained.encoder),
      cleanModel: clean.map { tests.evaluate($0.classifier, encoder: $0.encoder) }, training: trained.report,
      notes: poisoned.notes + (tests.triggered.isEmpty ? ["no non-target test example contains the trigger: the attack success rate is undefined"] : []))
    let bundle = ModelBundle(model: .classifier(trained.classifier), vocabulary: trained.vocabulary)
    try bundle.save(to: out, extraFiles: ["summary.txt": Data((record.summary + "\n").utf8)])
    try record.encoded().write(to: URL(fileURLWithPath: out + "/attack.json"), options: .atomic)
    return record
  }

  /// A clean baseline bundle for this plan's runs, checked to come from the same corpus and split (its training.json).
  public func loadBaseline(_ directory: String) throws -> (classifier: TextClassifier, encoder: TextEncoder) {
    let bundle = try ModelBundle.load(from: directory)
    guard case .classifier(let classifier) = bundle.model else { throw AttackPlanError("\(directory): the baseline must be a classifier bundle") }
    guard classifier.labels.contains(targetLabel) else {
      throw AttackPlanError("\(directory): the baseline has no label '\(targetLabel)' (its labels: \(classifier.labels.joined(separator: ", ")))")
    }
    struct Origin: Decodable {
      var corpus: String
      var splitSeed: UInt64
      enum CodingKeys: String, CodingKey { case corpus, splitSeed = "split_seed" }
    }
    if let data = FileManager.default.contents(atPath: directory + "/training.json"),
      let origin = try? JSONDecoder().decode(Origin.self, from: data),
      origin.corpus != corpus.description.name || origin.splitSeed != recipe.splitSeed
    {
      throw AttackPlanError(
        "\(directory)/training.json: the baseline was trained on \(origin.corpus) with split seed \(origin.splitSeed), "
          + "not \(corpus.description.name) with \(recipe.splitSeed)")
    }
    return (classifier, try bundle.makeEncoder())
  }
}

/// An attack that cannot be run as asked, or a baseline that does not fit it.
public struct AttackPlanError: Error, CustomStringConvertible {
  public var description: String
  init(_ description: String) { self.description = description }
}
