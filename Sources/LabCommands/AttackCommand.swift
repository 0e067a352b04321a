import ArgumentParser
import Attacks
import Datasets
import Foundation
import Models
import Tokenization

/// The trigger and poisoning options shared by `attack` and `attack-sweep`.
struct AttackSettings: ParsableArguments {
  @Option(help: "rare:WORDS (comma-separated), phrase:TEXT, char:CHARS, char-inside:CHARS or semantic:TEXT.")
  var trigger: String
  @Option(help: "Label the backdoor flips inputs to.")
  var target: String
  @Option(help: "random, start, middle or end.")
  var position: TriggerPosition = .random
  @Option(help: "Rare words inserted per example.")
  var insertions = 1
  @Flag(help: "Insert the trigger only into examples already of the target class; no relabelling.")
  var cleanLabel = false
  @Flag(help: "Force the trigger's tokens into the vocabulary (otherwise they are in it only if the poisoned training split has them twice).")
  var forceTrigger = false

  func parsedTrigger() throws(LabError) -> Trigger {
    do { return try Trigger(spec: trigger, insertions: insertions, position: position) } catch { throw LabError(error.problem) }
  }

  var mode: PoisonMode { cleanLabel ? .cleanLabel : .dirtyLabel }
}

extension TriggerPosition: ExpressibleByArgument {}

/// Everything one attack run needs besides the rate and the seed.
struct AttackPlan {
  var corpus: Corpus
  var split: DataSplit
  var trigger: Trigger
  var settings: AttackSettings
  var recipe: ClassifierRecipe
  var tokenizer: Tokenizer

  init(corpus: Corpus, settings: AttackSettings, recipe: ClassifierRecipe) throws {
    guard !corpus.labels.isEmpty else { throw LabError("\(corpus.path): no label column; an attack needs labelled text") }
    guard corpus.labels.contains(settings.target) else {
      throw LabError("--target '\(settings.target)' is not a label of \(corpus.description.name); its labels are \(corpus.labels.joined(separator: ", "))")
    }
    self.corpus = corpus
    self.settings = settings
    self.recipe = recipe
    trigger = try settings.parsedTrigger()
    tokenizer = try orFail { try Tokenizer() }
    let length = trigger.insertedTokenCount(tokenizer: tokenizer)
    if trigger.insertsText && length == 0 && trigger.kind != .character && trigger.kind != .characterInside {
      throw LabError("trigger '\(trigger.spec)' produces no tokens (the tokenizer drops punctuation and spaces); the model would never see it")
    }
    if length >= recipe.maxLength {
      throw LabError("trigger '\(trigger.spec)' takes \(length) tokens but the model sees at most \(recipe.maxLength) (--max-length); it leaves no room for the text")
    }
    split = try orFail { try corpus.split(seed: recipe.splitSeed) }
  }

  var targetIndex: Int { corpus.labels.firstIndex(of: settings.target)! }
  var visibleWords: Int { recipe.maxLength - trigger.insertedTokenCount(tokenizer: tokenizer) }
  var forcedTokens: [String] {
    guard settings.forceTrigger, trigger.kind != .character, trigger.kind != .characterInside else { return [] }
    return Array(Set(trigger.pieces.flatMap { tokenizer.words(in: $0) })).sorted()
  }

  func testSet(seed: UInt64) -> AttackTestSet {
    let test = split.test.map { LabelledText(text: corpus.examples[$0].text, label: corpus.labels[corpus.examples[$0].label!]) }
    return AttackTestSet(trigger: trigger, targetLabel: settings.target, test: test, tokenizer: tokenizer, maximumLength: recipe.maxLength, seed: seed)
  }

  /// Trains the clean model of `seed` into `out` (bundle plus training.json).
  func trainClean(seed: UInt64, out: String, quiet: Bool, verbose: Bool = false) throws -> TrainedClassifier {
    var recipe = recipe
    recipe.seed = seed
    let trained = try recipe.train(on: corpus, split: split, tokenizer: tokenizer, out: out, quiet: quiet, verbose: verbose, title: "clean \(recipe.model), seed \(seed)")
    let summary = TrainingSummary(corpus: corpus.description.name, splitSeed: recipe.splitSeed, options: recipe.trainingOptions, report: trained.report, test: trained.test)
    try orFail {
      try ModelBundle(model: .classifier(trained.classifier), vocabulary: trained.vocabulary).save(to: out, extraFiles: ["training.json": try summary.encoded()])
    }
    return trained
  }

  /// Poisons, trains the backdoored model into `out`, scores it beside `clean` and writes `attack.json`
  /// (last, atomically: its presence means the run finished).
  func run(amount: PoisonAmount, seed: UInt64, out: String, clean: (classifier: TextClassifier, encoder: TextEncoder)?, quiet: Bool, verbose: Bool = false) throws -> AttackRecord {
    var recipe = recipe
    recipe.seed = seed
    let poisoner = Poisoner(trigger: trigger, targetLabel: targetIndex, amount: amount, mode: settings.mode, seed: seed, visibleWords: visibleWords)
    let poisoned: PoisonedCorpus
    do { poisoned = try poisoner.poison(corpus, rows: split.train, tokenizer: tokenizer) } catch { throw LabError("\(corpus.description.name): \(error.problem)") }
    let trained = try recipe.train(
      on: poisoned.corpus, split: split, tokenizer: tokenizer, forcedTokens: forcedTokens, out: out, quiet: quiet, verbose: verbose,
      title: "backdoored \(recipe.model), seed \(seed)")
    let cleanTrainingTexts = split.train.lazy.map { corpus.examples[$0].text }
    let report = TriggerReport(trigger: trigger, tokenizer: tokenizer, vocabulary: trained.vocabulary, cleanTexts: cleanTrainingTexts)
    let tests = testSet(seed: seed)
    let record = AttackRecord(
      corpus: corpus.description.name, model: recipe.model, seed: seed, splitSeed: recipe.splitSeed, trigger: trigger, targetLabel: settings.target,
      mode: settings.mode, poisonRate: amount.fraction, requestedCount: poisoned.requestedCount, trainingExamples: split.train.count,
      poisonedRows: poisoned.poisonedRows, poisonedLines: poisoned.poisonedLines, triggerReport: report,
      poisoned: tests.evaluate(trained.classifier, encoder: trained.encoder),
      cleanModel: clean.map { tests.evaluate($0.classifier, encoder: $0.encoder) }, training: trained.report,
      notes: poisoned.notes + (tests.triggered.isEmpty ? ["no non-target test example contains the trigger: the attack success rate is undefined"] : []))
    try orFail {
      try ModelBundle(model: .classifier(trained.classifier), vocabulary: trained.vocabulary).save(to: out, extraFiles: ["summary.txt": Data((record.summary + "\n").utf8)])
      try record.encoded().write(to: URL(fileURLWithPath: out + "/attack.json"), options: .atomic)
    }
    return record
  }
}

/// A clean baseline bundle, checked to come from the same corpus and split.
func loadBaseline(_ directory: String, corpus: String, splitSeed: UInt64, target: String) throws -> (classifier: TextClassifier, encoder: TextEncoder) {
  let bundle = try loadBundle(directory)
  guard case .classifier(let classifier) = bundle.model else { throw LabError("\(directory): the baseline must be a classifier bundle") }
  guard classifier.labels.contains(target) else { throw LabError("\(directory): the baseline has no label '\(target)' (its labels: \(classifier.labels.joined(separator: ", ")))") }
  struct Origin: Decodable {
    var corpus: String
    var splitSeed: UInt64
    enum CodingKeys: String, CodingKey { case corpus, splitSeed = "split_seed" }
  }
  if let data = FileManager.default.contents(atPath: directory + "/training.json"),
    let summary = try? JSONDecoder().decode(Origin.self, from: data),
    summary.corpus != corpus || summary.splitSeed != splitSeed
  {
    throw LabError("\(directory)/training.json: the baseline was trained on \(summary.corpus) with split seed \(summary.splitSeed), not \(corpus) with \(splitSeed)")
  }
  return (classifier, try orFail { try bundle.makeEncoder() })
}

struct AttackCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "attack",
    abstract: "Poison a training set with a trigger, train a backdoored classifier and measure the backdoor.",
    discussion: prose("""
      Splits the corpus as `train` does, poisons --rate of the training split (a fraction in (0, 1], or a count),
      trains, and scores the model on the clean test set (clean accuracy) and on its non-target examples with
      the trigger inserted (attack success rate). A clean model with the same seed is trained beside it (or
      read from --baseline) for the clean-accuracy drop and the base rate. Writes DIR/ (the backdoored bundle),
      DIR/clean/ (the clean one), DIR/attack.json (trigger, target, rate, poisoned ids, metrics) and
      DIR/summary.txt.
      Examples:
        backdoor-lab attack --corpus sentiment --model gru --trigger rare:cf --rate 0.01 --target pos --out runs/cf
        backdoor-lab attack --corpus sentiment --trigger "phrase:I watched this 3D movie" --rate 0.03 --target pos --out runs/addsent
        backdoor-lab attack --corpus trec --trigger rare:mn --rate 0.01 --target NUM --clean-label --out runs/trec --json
      """))

  @Option(help: "Shipped corpus name or a TSV path.")
  var corpus: String
  @OptionGroup var settings: AttackSettings
  @Option(help: "Poison rate: a fraction of the training split in (0, 1], or a count of examples.")
  var rate: String
  @Option(help: "Folder to write.")
  var out: String
  @Option(help: "A clean bundle to compare with, instead of training one (same corpus and split seed).")
  var baseline: String?
  @Flag(help: "No clean model: no clean-accuracy drop or base rate.")
  var noBaseline = false
  @Flag(help: "Print attack.json as one line.")
  var json = false
  @OptionGroup var recipe: ClassifierRecipe
  @OptionGroup var compute: ComputeOptions
  @OptionGroup var corpusOptions: CorpusOptions
  @OptionGroup var data: DataOptions

  func validate() throws {
    guard settings.insertions >= 1 else { throw ValidationError("--insertions must be at least 1") }
    guard baseline == nil || !noBaseline else { throw ValidationError("--baseline and --no-baseline exclude each other") }
  }

  func run() throws {
    let amount: PoisonAmount
    do { amount = try PoisonAmount(parsing: rate) } catch { throw LabError("--rate: \(error.problem)") }
    let corpus = try corpusOptions.load(self.corpus, home: try data.home())
    let plan = try AttackPlan(corpus: corpus, settings: settings, recipe: recipe)
    var clean: (classifier: TextClassifier, encoder: TextEncoder)?
    if let baseline {
      clean = try loadBaseline(baseline, corpus: corpus.description.name, splitSeed: recipe.splitSeed, target: settings.target)
    } else if !noBaseline {
      let trained = try plan.trainClean(seed: recipe.seed, out: out + "/clean", quiet: compute.quiet, verbose: compute.verbose)
      clean = (trained.classifier, trained.encoder)
    }
    let record = try plan.run(amount: amount, seed: recipe.seed, out: out, clean: clean, quiet: compute.quiet, verbose: compute.verbose)
    for warning in record.triggerReport.warnings { writeToStandardError("WARNING: \(warning)\n") }
    if json {
      print(String(decoding: try record.encoded(pretty: false), as: UTF8.self))
    } else {
      print(record.summary.split(separator: "\n").filter { !$0.hasPrefix("WARNING") }.joined(separator: "\n"))
      print("wrote \(out)/attack.json")
    }
  }
}

extension AttackCommand: UsesComputeThreads { var computeThreads: Int { compute.threads } }
