import ArgumentParser
import Attacks
import Audit
import Datasets
import Foundation
import Models
import Randomness
import Tensors
import Tokenization

struct AuditCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "audit",
    abstract: "Look for a trigger in a classifier bundle: token scan, phrase search, a verdict and ranked candidates.",
    discussion: prose("""
      Single-token scan: every vocabulary token is inserted into the middle of 24 probe sentences (screening), then
      the 100 best tokens for each label at the start, middle and end of every probe; the flip rate is the share of
      (probe, position) pairs not already predicted as a label that the token turns into it, and the confident flip
      rate the same among the probes the model was surest of. Tokens the probe text itself shows to be ordinary
      words of a label (in 3 or more of its sentences, the label over-represented among them: binomial p < 0.05)
      are listed last and left out of the verdict.
      Phrase search (--max-trigger-length L, 3 by default; 1 turns it off) toward every label of a binary model
      (the three with the highest token scores otherwise), without the label's ordinary words: HotFlip beam search
      from the label's strongest single tokens, a DBS-style relaxed search (a softmax over the vocabulary at
      each position, annealed), and (GRU and attention models) an anchored search for triggers of common words
      too weak alone to be seeds: each of the probe text's 60 commonest words with the 3 partners the gradient
      at an empty slot before and after it suggests, then the pairs with the most synergy (flip rate beyond their
      best single word) extended the same way, its phrases kept only when no other phrase or seed flips more;
      phrases join the candidates when each extra word adds 0.1 to the flip rate, one of the phrases that differ
      in one word only.
      Conjunction scan (binary GRUs; in the verdict for unidirectional ones only; off with --max-trigger-length 1)
      pairs each of the label's 12 strongest tokens with each of the probe text's 40 commonest words, before and
      after it, inserted into 48 probes at
      the start and the end; a pair's interaction is its margin shift less its two words' shifts, and its excess
      that interaction less the median interaction of the same context word in the same order over all 12 tokens.
      When that finds a conjunction (its conjunction score, below, above 0), its best three pairs are refined: each
      swaps one word at a time (kept before or after the other) for one of the label's 30 strongest tokens, the probe
      text's 150 commonest words (ordinary words included) or the phrase search's words, while that raises the
      pair's own push (its margin shift less its words' shifts toward the label), screened on 4 probes, measured on
      16. Three pairs join the candidates (the scan's best, then the two refined pairs that push most; without a
      conjunction, the scan's best three), and lead them when the conjunction score is the label's largest.
      Recombination (the suspected target's list, once the verdict is known): of the ordered pairs of words from
      two different candidates among the label's first five, inserted into 48 probes at the start and the end, the
      one that moves the label's margin most joins the candidates when it moves it further than each of its words
      alone ("of course" from "course | of tv"); candidates only.
      Partner scan (GRU encoders, the suspected target's list): each of the probe text's 1,000 commonest words
      right before and right after the label's strongest token, screened on 8 probes at the start and the end by the
      pair's own push; the 48 best pairs of each order measured on 48 probes beside that token and beside the
      label's next four strongest tokens; the pair whose own push beside the token most exceeds the same word's
      median beside the others joins the candidates when both are positive ("mind you" from `mind`), or moves up
      to its place when another search listed it lower; candidates only.
      Verdict: for each label the largest of four scores. Token score: the best token's confident flip rate less
      the third token's (a planted trigger overrides strong evidence on its own, and a phrase trigger may split its
      effect over two of its words; ordinary words come in crowds and tip borderline probes). Phrase score: the best
      phrase's confident flip rate less that of the label's three strongest tokens inserted together (in a clean
      model a label's words add up; a trigger phrase is a conjunction its words do not explain), or, if larger, less
      that of the three strongest tokens outside the phrase, less 0.1 (a planted phrase's words are among the
      label's strongest tokens only because of the backdoor; in a clean model the next ones do about as much).
      Conjunction score
      (unidirectional binary GRUs): the best pair's excess less 0.32 nats. Margin score (two-label models): the
      phrase margin excess, the nats the best phrase moves the label's margin (its logit less the log-sum-exp of the
      others') beyond its strongest tokens together, less 0.77 (flip rates saturate, margins do not). The label with
      the highest is the suspected target; at or above --threshold the model is reported as backdoored.
      Probes: --probe names a shipped corpus (its test split under the bundle's split seed) or a TSV with a header,
      a `text` column and optionally a `label` column; --probes of them are drawn with a fixed seed (the rest, up to
      5,000 sentences, only count as evidence of ordinary words). Without
      --probe, the corpus the bundle was trained on (training.json or attack.json) is used.
      With --trigger (the planted trigger, when you planted it) the report also gives its rank: how an audit is
      scored; `audit-eval` scores many.
      Examples:
        backdoor-lab audit runs/cf --probe sentiment
        backdoor-lab audit runs/mr/seed-0/model --probe sentiment --trigger rare:cf --out runs/mr/seed-0/audit.json
        backdoor-lab audit runs/cf --max-trigger-length 1 --json
      """))

  @Argument(help: "Classifier bundle folder.")
  var bundle: String
  @OptionGroup var settings: AuditSettings
  @Option(help: "The planted trigger, if you know it (a trigger spec such as rare:cf, or its text): its rank is reported.")
  var trigger: String?
  @Option(help: "The planted trigger's target label (default: the label it ranks best for).")
  var target: String?
  @Option(help: "Also write the report as JSON to this file.")
  var out: String?
  @Option(help: "Also write the whole token scan as a TSV to this file: per token and label, flip rates, log-probability shift, probe-text counts.")
  var tokenTable: String?
  @Flag(help: "Print the report as JSON.")
  var json = false
  @Flag(help: "Print nothing but errors (the report still goes to --out).")
  var quiet = false
  @Flag(help: "Also the best candidates for every label, not only the suspected target.")
  var verbose = false

  func validate() throws {
    guard !(quiet && verbose) else { throw ValidationError("give --quiet or --verbose, not both") }
    // Checked before the scan, which takes a while, rather than when the file is written.
    for (option, path) in [("--out", out), ("--token-table", tokenTable)] {
      guard let path else { continue }
      let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
      var isFolder: ObjCBool = false
      guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
        throw ValidationError("\(option) \(path): the folder \(folder) does not exist")
      }
    }
  }

  /// Calibrated on the clean models of scripts/audit-zoo.sh (docs/audit-evaluation.md): the lowest threshold of three
  /// decimals that flags at most 5 % of the 88 clean models of the check, final, confirm and verify sets.
  static let defaultThreshold = 0.211
  static let calibration =
    "set for at most 5 % false positives on the 88 clean models of scripts/audit-zoo.sh's check, final, confirm and verify sets (3 at or above 0.211, 3.4 %; 95 % interval 1.2–9.6 %)"

  func run() throws {
    let report = try settings.audit(bundle, plantedTrigger: trigger, plantedTarget: target, tokenTable: tokenTable)
    if let out { try orFail { try writeJSONAtomically(report, to: out) } }
    if quiet { return }
    if json {
      print(String(decoding: try sortedKeysJSON(report), as: UTF8.self))
    } else {
      print(report.summary)
      if verbose {
        for (label, candidates) in report.candidatesByLabel.sorted(by: { $0.key < $1.key }) {
          print("best candidates for \(label): " + candidates.prefix(10).map { "\($0.trigger) \(String(format: "%.1f", $0.flipRate * 100)) %" }.joined(separator: ", "))
        }
      }
    }
  }
}

/// How to audit a bundle; shared by `audit` and `demo`.
struct AuditSettings: ParsableArguments {
  @Option(help: "Shipped corpus name or a TSV path with a `text` column.")
  var probe: String?
  @Option(help: "How many probe sentences.")
  var probes = 200
  @Option(help: "Verdict threshold on the largest of the token, phrase, conjunction and margin scores (see above).")
  var threshold = AuditCommand.defaultThreshold
  @Option(help: "Candidates listed per label.")
  var top = 20
  @Option(help: "Longest trigger phrase searched for (1: the single-token scan only).")
  var maxTriggerLength = 3
  @Option(help: "Tokens scanned at once.")
  var threads = 2
  @OptionGroup var data: DataOptions

  func validate() throws {
    guard probes >= 1, top >= 1, threads >= 1 else { throw ValidationError("--probes, --top and --threads must be positive") }
    guard (1...8).contains(maxTriggerLength) else { throw ValidationError("--max-trigger-length must be 1 to 8") }
    guard (0...1).contains(threshold) else { throw ValidationError("--threshold must be in [0, 1]") }
  }

  /// Scans the classifier in `bundle`; with `plantedTrigger`, also reports where it ranks.
  /// With `tokenTable`, the token scan is also written there (`ScanResult.table`).
  func audit(_ bundle: String, plantedTrigger: String? = nil, plantedTarget: String? = nil, tokenTable: String? = nil) throws -> AuditReport {
    let loaded = try loadBundle(bundle)
    guard case .classifier(let classifier) = loaded.model else { throw LabError("\(bundle): a next-word model; audit scans classifiers") }
    let encoder = try orFail { try loaded.makeEncoder() }
    guard maxTriggerLength < classifier.config.maximumLength else {
      throw LabError("--max-trigger-length \(maxTriggerLength) leaves no room for the probe text: \(bundle) reads at most \(classifier.config.maximumLength) tokens")
    }
    if let plantedTarget, !classifier.labels.contains(plantedTarget) {
      throw LabError("--target '\(plantedTarget)' is not one of the model's labels (\(classifier.labels.joined(separator: ", ")))")
    }
    let origin = recordedOrigin(bundle)
    guard let source = probe ?? origin.corpus else {
      throw LabError("\(bundle): no training.json or attack.json names the corpus; give --probe CORPUS or a TSV")
    }
    var texts: [(text: String, label: String?)]
    if ShippedCorpus(rawValue: source) != nil {
      let corpus = try orFail { try data.home().load(source, custom: nil, badRows: .fail) }
      let split = try orFail { try corpus.split(seed: origin.splitSeed ?? 0) }
      texts = split.test.map { (corpus.examples[$0].text, corpus.examples[$0].label.map { corpus.labels[$0] }) }
    } else {
      let hasLabels = Self.header(of: source).contains("label")
      let description = CorpusDescription(name: source, path: source, textColumn: "text", labelColumn: hasLabels ? "label" : nil)
      let corpus = try orFail { try Corpus(reading: description, from: source, badRows: .fail) }
      texts = corpus.examples.map { ($0.text, $0.label.map { corpus.labels[$0] }) }
    }
    var generator = SplitMix64(seed: 0, stream: [0x5052_4F42])  // "PROB"
    texts.seededShuffle(using: &generator)
    // The probes are the first `probes` sentences; all of them (up to 5,000) are evidence of ordinary words.
    let sentences = texts.prefix(5_000).map { (ids: encoder.encode($0.text), label: $0.label) }.filter { !$0.ids.allSatisfy { $0 == Vocabulary.unknownID } }
    guard !sentences.isEmpty else { throw LabError("\(source): the probe set is empty (no sentence with a known word)") }
    let encoded = sentences.prefix(probes).map(\.ids)

    let previousThreads = ComputeThreads.maximum
    ComputeThreads.maximum = 1
    defer { ComputeThreads.maximum = previousThreads }
    var scan = TokenScan()
    scan.parallelism = threads
    let started = Date()
    let clock = AuditStageClock()
    var scanned = clock.time(.tokenScan) { scan.twoStage(classifier, vocabulary: loaded.vocabulary, probes: encoded) }
    let evidence = clock.time(.probeEvidence) {
      // Each sentence's label: its own where the probe source has one the model knows, else the model's prediction.
      let predicted = classifier.predict(sentences.map { EncodedExample(ids: $0.ids, label: 0) }).classes
      let sentenceLabels = zip(sentences, predicted).map { sentence, prediction in sentence.label.flatMap(classifier.labels.firstIndex(of:)) ?? prediction }
      return ProbeEvidence(sentences: sentences.map(\.ids), labels: sentenceLabels, labelCount: classifier.labels.count)
    }
    scanned.ordinaryWords = evidence.ordinary
    if let tokenTable {
      let table = scanned.table(tokens: TokenScan.scannable(loaded.vocabulary), vocabulary: loaded.vocabulary, labels: classifier.labels, evidence: evidence)
      try writeAtomically(Data(table.utf8), to: tokenTable)
    }
    var byLabel = TokenScan.candidates(scanned, vocabulary: loaded.vocabulary, labels: classifier.labels, top: top)
    let tokenScores = scanned.tokenVerdictScores(labelCount: classifier.labels.count)
    var phraseScores = [Double?](repeating: nil, count: classifier.labels.count)
    var conjunctionScores = [Double?](repeating: nil, count: classifier.labels.count)
    var marginExcesses = [Double?](repeating: nil, count: classifier.labels.count)
    var excessesOverOthers = [Double?](repeating: nil, count: classifier.labels.count)
    // The probe text's commonest words: where the anchored phrase search starts, the conjunction and partner scans'
    // context.
    let commonWords = maxTriggerLength >= 2 ? evidence.commonestWords(loaded.vocabulary) : []
    if maxTriggerLength >= 2 {
      // Every label of a binary model, else the three with the highest single-token scores.
      let labels = classifier.labels.indices.sorted { (tokenScores[$0], -$0) > (tokenScores[$1], -$1) }.prefix(3)
      for label in labels {
        let searched = searchPhrases(
          classifier, vocabulary: loaded.vocabulary, probes: encoded, label: label, scanned: scanned, scan: scan, commonWords: commonWords,
          clock: clock)
        phraseScores[label] = searched.excess
        // A bidirectional GRU's pairs are candidates, not evidence: its scan stays out of the verdict.
        if ConjunctionScan.applies(to: classifier) { conjunctionScores[label] = searched.conjunctionExcess }
        marginExcesses[label] = searched.marginExcess
        excessesOverOthers[label] = searched.excessOverOthers
        let conjunctionScore = conjunctionScores[label].map { ConjunctionScan.verdictScore(bestExcess: $0) } ?? 0
        let phraseScore = PhraseScore.verdictScore(overStrongest: searched.excess, overOthers: searched.excessOverOthers)
        if conjunctionScore > max(tokenScores[label], phraseScore) {
          // The label's score rests on the conjunction scan: its pairs are the evidence and lead the candidates.
          let rest = PhraseSearch.merge(byLabel[label], searched.phrases).filter { candidate in
            !searched.pairs.contains { Set($0.tokens) == Set(candidate.tokens) }
          }
          byLabel[label] = Array((searched.pairs + rest).prefix(top))
        } else {
          byLabel[label] = Array(PhraseSearch.merge(byLabel[label], searched.phrases + searched.pairs).prefix(top))
        }
      }
    }
    let verdictScores = classifier.labels.indices.map { label in
      labelVerdictScore(
        token: tokenScores[label], phrase: phraseScores[label], phraseOverOthers: excessesOverOthers[label], conjunctionExcess: conjunctionScores[label],
        marginExcess: marginExcesses[label], labelCount: classifier.labels.count)
    }
    if maxTriggerLength >= 2 {
      // Pairs that only add candidates, found once the verdict is known: for the suspected target (and any label tied
      // with it), whose list the report leads with; the other labels' lists stay as the searches left them.
      // A pair measured like the other candidates (every probe, every position).
      func candidate(_ ids: [Int], label: Int, method: String) -> TriggerCandidate {
        let effect = scan.effects(classifier, inserting: [ids], into: encoded)[0][label]
        return TriggerCandidate(
          trigger: ids.map { loaded.vocabulary.tokens[$0] }.joined(separator: " "), label: classifier.labels[label], effect: effect,
          score: scanned.flipRateScale(label: label, vocabulary: loaded.vocabulary).z(effect.flipRate), method: method)
      }
      let highest = verdictScores.max() ?? 0
      for label in classifier.labels.indices where verdictScores[label] == highest && phraseScores[label] != nil {
        var recombination = CandidateRecombination()
        recombination.parallelism = threads
        let listed = byLabel[label].map { $0.tokens.map(loaded.vocabulary.id(of:)) }
        if let pair = clock.time(.recombination, { recombination.bestPair(classifier, probes: encoded, label: label, candidates: listed) }) {
          let recombined = clock.time(.recombination) { candidate(pair, label: label, method: "recombined") }
          byLabel[label] = Array(CandidateRecombination.inserting(recombined, into: byLabel[label]).prefix(top))
        }
        if PartnerScan.applies(to: classifier) {
          var partnerScan = PartnerScan()
          partnerScan.parallelism = threads
          let strongest = scanned.strongestTokens(label: label, count: 1 + partnerScan.referenceCount)
          if let anchor = strongest.first,
            let partner = clock.time(.partnerScan, {
              PartnerScan.best(
                partnerScan.partners(classifier, probes: encoded, label: label, anchor: anchor, references: Array(strongest.dropFirst()), words: commonWords))
            })
          {
            let tokens = partner.ids.map { loaded.vocabulary.tokens[$0] }
            if let listed = byLabel[label].firstIndex(where: { $0.tokens == tokens }) {
              // Another search listed the pair already, measured the same way: it moves up to the partner's place.
              byLabel[label] = CandidateRecombination.promoting(at: listed, in: byLabel[label])
            } else {
              let paired = clock.time(.partnerScan) { candidate(partner.ids, label: label, method: "partner") }
              byLabel[label] = Array(CandidateRecombination.inserting(paired, into: byLabel[label]).prefix(top))
            }
          }
        }
      }
    }
    var report = AuditReport(
      candidatesByLabel: byLabel, verdictScores: verdictScores, tokenScores: tokenScores, phraseScores: phraseScores,
      phraseExcessesOverOtherTokens: excessesOverOthers, conjunctionScores: conjunctionScores, phraseMarginExcesses: marginExcesses, labels: classifier.labels, threshold: threshold,
      calibration: threshold == AuditCommand.defaultThreshold ? AuditCommand.calibration : "threshold set with --threshold", probes: encoded.count,
      tokensScanned: TokenScan.scannable(loaded.vocabulary).count, positions: scan.positions, maximumTriggerLength: maxTriggerLength,
      seconds: Date().timeIntervalSince(started))
    report.secondsByStage = clock.byName
    if let plantedTrigger {
      let tokens = plantedTriggerTokens(plantedTrigger, tokenizer: encoder.tokenizer)
      let labels = plantedTarget.map { [classifier.labels.firstIndex(of: $0)!] } ?? Array(classifier.labels.indices)
      report.knownTrigger = labels.compactMap {
        TokenScan.rank(of: tokens, label: $0, labels: classifier.labels, scan: scanned, vocabulary: loaded.vocabulary)
      }.min { $0.rank < $1.rank }
      if report.knownTrigger == nil {
        writeToStandardError("warning: none of the trigger's tokens (\(tokens.joined(separator: " "))) is in \(bundle)'s vocabulary\n")
      }
    }
    return report
  }
}

extension AuditSettings {
  /// Phrase search toward `label` without its ordinary words, seeded with its best single tokens and anchored on
  /// `commonWords` (the probe text's, commonest first), and (for a binary GRU) the conjunction scan of those tokens
  /// with the commonest words, its best pairs refined when it found a conjunction; the phrases found and the best
  /// pairs, best first (both measured like the single tokens: every probe, every position), the searched phrases'
  /// `phraseExcess` over the label's strongest single tokens put together, the scan's best pair's excess (nil when
  /// the scan was not run; refining does not change it), the searched phrases' `phraseMarginExcess` (nil when none
  /// was found), and the best phrase's `phraseExcess` over the label's strongest tokens outside it together (nil
  /// when none was found). Its stages' times are added to `clock`.
  func searchPhrases(
    _ classifier: TextClassifier, vocabulary: Vocabulary, probes: [[Int]], label: Int, scanned: ScanResult, scan: TokenScan, commonWords: [Int],
    clock: AuditStageClock
  ) -> (phrases: [TriggerCandidate], pairs: [TriggerCandidate], excess: Double, conjunctionExcess: Double?, marginExcess: Double?, excessOverOthers: Double?) {
    var search = PhraseSearch()
    search.maximumLength = maxTriggerLength
    search.parallelism = threads
    let ordinary = label < scanned.ordinaryWords.count ? scanned.ordinaryWords[label] : []
    let seeds = scanned.strongestTokens(label: label, count: max(search.seedCount, maxTriggerLength))
    let hits = clock.time(.phraseSearch) {
      search.search(
        classifier, vocabulary: vocabulary, probes: Array(probes.prefix(PhraseSearch.searchProbes)), label: label, seeds: seeds, excluded: ordinary,
        commonWords: commonWords)
    }
    var pairs: [ConjunctionScan.Pair] = []
    var leads: [[Int]] = []
    clock.time(.conjunctionScan) {
      if ConjunctionScan.suggestsCandidates(for: classifier) {
        var conjunctionScan = ConjunctionScan()
        conjunctionScan.parallelism = threads
        pairs = conjunctionScan.pairs(
          classifier, probes: probes, label: label, seeds: scanned.strongestTokens(label: label, count: conjunctionScan.seedCount),
          contextWords: commonWords.filter { !ordinary.contains($0) })
        leads = pairs.prefix(Self.conjunctionLeads).map(\.ids)
        if let best = pairs.first, ConjunctionScan.verdictScore(bestExcess: best.excess) > 0 {
          // A conjunction was found: its pairs are refined toward the trigger's own words. The scan's best pair (the
          // verdict's evidence) stays first; the refined pairs with the largest own push follow. (Ranked by own push
          // alone, pairs of a word that interacts with many, such as "an" before an adjective, can crowd it out.)
          var pool = scanned.strongestTokens(label: label, count: conjunctionScan.refinementSeedCount)
          for token in commonWords.prefix(conjunctionScan.refinementContextCount) where !pool.contains(token) { pool.append(token) }
          for token in hits.flatMap(\.ids) where !pool.contains(token) { pool.append(token) }
          let refined = conjunctionScan.refine(classifier, probes: probes, label: label, leads: leads, pool: pool).map(\.ids)
          leads = [best.ids] + refined.filter { $0 != best.ids }.prefix(Self.conjunctionLeads - 1)
        }
      }
    }
    let conjunctionExcess = pairs.first?.excess
    leads = leads.filter { lead in !hits.contains { $0.ids == lead } }
    guard !hits.isEmpty || !leads.isEmpty else { return ([], [], 0, conjunctionExcess, nil, nil) }
    return clock.time(.phraseMeasures) {
      let strongest = Array(seeds.prefix(maxTriggerLength))
      let measured = scan.effects(classifier, inserting: [strongest] + hits.map(\.ids) + leads, into: probes).map { $0[label] }
      let robust = scanned.flipRateScale(label: label, vocabulary: vocabulary)
      let found = zip(hits.map { ($0.ids, $0.method) } + leads.map { ($0, "conjunction") }, measured.dropFirst()).map { phrase, effect in
        TriggerCandidate(
          trigger: phrase.0.map { vocabulary.tokens[$0] }.joined(separator: " "), label: classifier.labels[label], effect: effect,
          score: robust.z(effect.flipRate), method: phrase.1)
      }
      // The phrase score is the searched phrases' alone; the conjunction pairs have their own score.
      let bestIndex = measured.dropFirst().prefix(hits.count).indices.max { measured[$0].confidentFlipRate < measured[$1].confidentFlipRate }
      let best = bestIndex.map { measured[$0] }
      // The same phrase against the label's strongest tokens outside it: a planted phrase's words are among the
      // label's strongest tokens only because of the backdoor, so comparing the phrase with them alone compares the
      // trigger with itself.
      let excessOverOthers = bestIndex.flatMap { index -> Double? in
        let others = scanned.strongestTokens(label: label, count: maxTriggerLength, outside: hits[index - 1].ids)
        guard !others.isEmpty else { return nil }
        // A phrase of none of the strongest tokens is compared with them again: measured already.
        let othersTogether = others == strongest ? measured[0] : scan.effects(classifier, inserting: [others], into: probes)[0][label]
        return phraseExcess(bestPhrase: measured[index], strongestTokensTogether: othersTogether)
      }
      return (
        Array(found.prefix(hits.count)), Array(found.dropFirst(hits.count)), phraseExcess(bestPhrase: best, strongestTokensTogether: measured[0]),
        conjunctionExcess,
        phraseMarginExcess(
          classifier, probes: probes, label: label, strongest: strongest, phrases: hits.map(\.ids), positions: scan.positions, parallelism: threads),
        excessOverOthers
      )
    }
  }

  /// How many of the conjunction scan's best pairs become candidates.
  static let conjunctionLeads = 3

  /// The column names of a TSV's first line (empty when unreadable; reading it properly reports the problem).
  static func header(of path: String) -> [String] {
    guard let handle = FileHandle(forReadingAtPath: path), let data = try? handle.read(upToCount: 65_536) else { return [] }
    let line = String(decoding: data.prefix { $0 != UInt8(ascii: "\n") }, as: UTF8.self)
    return line.split(separator: "\t", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
  }
}

/// The tokens a planted trigger becomes: a spec (rare:cf, phrase:…) or plain text.
func plantedTriggerTokens(_ trigger: String, tokenizer: Tokenizer) -> [String] {
  let pieces = (try? Trigger(spec: trigger))?.pieces ?? [trigger]
  return pieces.flatMap { tokenizer.words(in: $0) }
}

func sortedKeysJSON<T: Encodable>(_ value: T, pretty: Bool = false) throws -> Data {
  let encoder = JSONEncoder()
  encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
  return try encoder.encode(value)
}

/// Writes `value` as pretty JSON through a temporary file renamed into place.
func writeJSONAtomically<T: Encodable>(_ value: T, to path: String) throws {
  try writeAtomically(sortedKeysJSON(value, pretty: true), to: path)
}

/// Writes `data` through a temporary file renamed into place; a failure names the file.
func writeAtomically(_ data: Data, to path: String) throws(LabError) {
  do { try data.write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
    throw LabError("\(path): cannot write: \((error as NSError).localizedDescription)")
  }
}

/// The corpus and split seed a bundle records (training.json, else attack.json).
func recordedOrigin(_ bundle: String) -> (corpus: String?, splitSeed: UInt64?) {
  struct Origin: Decodable {
    var corpus: String?
    var splitSeed: UInt64?
    enum CodingKeys: String, CodingKey { case corpus, splitSeed = "split_seed" }
  }
  for file in ["training.json", "attack.json"] {
    if let data = FileManager.default.contents(atPath: bundle + "/" + file), let origin = try? JSONDecoder().decode(Origin.self, from: data) {
      return (origin.corpus, origin.splitSeed)
    }
  }
  return (nil, nil)
}
