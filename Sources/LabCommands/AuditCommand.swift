import ArgumentParser
import Attacks
import Audit
import Datasets
import Experiments
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
        backdoor-lab audit --scorer "python3 scripts/examples/sklearn-scorer.py model.pkl" --probe sentiment
      A model the lab cannot read (--scorer COMMAND, run through /bin/sh -c): the command prints one JSON line
      {"labels": [...]}, then answers each request line {"texts": [...]} on its standard input with one line
      {"probabilities": [[...], ...]}, a row per text. Everything runs by queries, the words inserted as plain text
      at word boundaries. Token scan: every candidate word (--candidates FILE, one a line; by default every
      two-letter lowercase string, the probes' words and the shipped corpora's vocabularies) in the middle of 8
      probes, the 100 best for each label at the start, middle and end of every probe. Phrase search, toward every
      label: the 12 words that raised its log-probability most and its 4 best flippers, each paired with 300
      partners (the probes' 100 commonest words and the 200 that raised it most) before and after it in 16 probes;
      the 8 pairs that flip most grow by a partner on either side, up to --max-trigger-length words; the kept phrases
      and their parts are measured like words, and a phrase joins the candidates when it flips 0.1 more than the
      best of its parts and its excess (the label's log-odds it adds beyond the two parts that make it up) is
      positive. The verdict is the larger of the token score and the phrase score (the largest excess less 0.3
      nats) against --threshold; --max-queries bounds the texts scored.
      """))

  @Argument(help: "Classifier bundle folder (none with --scorer).")
  var bundle: String?
  @OptionGroup var options: AuditOptions
  @OptionGroup var blackBox: BlackBoxOptions
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
    guard (bundle == nil) != (blackBox.scorer == nil) else { throw ValidationError("give a bundle folder or --scorer COMMAND, one of the two") }
    if blackBox.scorer != nil {
      guard options.probe != nil else { throw ValidationError("--scorer needs --probe (a shipped corpus or a TSV with a text column)") }
      guard tokenTable == nil else { throw ValidationError("--token-table is for bundles; a black-box report lists its candidates") }
    }
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

  func run() throws {
    if let scorer = blackBox.scorer { return try runBlackBox(scorer) }
    guard let bundle else { return }
    var audit = options.bundleAudit
    audit.settings.tokenTable = tokenTable != nil
    let report = try orFail { try audit.run(bundle, plantedTrigger: trigger, plantedTarget: target) }
    if let tokenTable, let table = report.tokenTable { try writeAtomically(Data(table.utf8), to: tokenTable) }
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
