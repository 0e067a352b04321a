import Foundation
import Layers
import Models
import Randomness
import Tensors
import Testing
import TestSupport
import Tokenization

private struct Expected: Decodable {
  var texts: [String]
  var logits: [[Float]]
}

/// Bundles written by Tests/Fixtures/bundles/make_bundle_fixtures.py (numpy, PyTorch's layouts); the lab
/// must give the logits of that independent forward pass, here on one padded batch of all the texts.
@Test(arguments: ["gru", "gru_bidirectional", "attention", "lstm", "lstm_bidirectional", "cnn", "transformer"])
func bundleExportedFromPyTorchLayoutsReproducesIndependentLogits(name: String) throws {
  let folder = Fixtures.path("Tests/Fixtures/bundles/" + name)
  let bundle = try ModelBundle.load(from: folder)
  let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: URL(fileURLWithPath: folder + "/expected.json")))
  guard case .classifier(let classifier) = bundle.model else {
    Issue.record("expected a classifier")
    return
  }
  let encoder = try bundle.makeEncoder()
  let batch = Batch(expected.texts.map { EncodedExample(ids: encoder.encode($0), label: 0) })
  var context = ForwardContext.inference
  let logits = classifier.logits(batch, context: &context)
  for (row, values) in expected.logits.enumerated() {
    for (column, value) in values.enumerated() {
      let actual = logits.scalars[row * values.count + column]
      #expect(abs(actual - value) <= 1e-4, "\(name) text \(row) class \(column): \(actual) vs \(value)")
    }
  }
}

@Test func bundleRoundTripKeepsEveryParameter() throws {
  var generator = SplitMix64(seed: 9)
  let config = ModelConfig(architecture: .attention, vocabularySize: 6, embeddingDimension: 4, labels: ["a", "b", "c"], maximumLength: 5, headCount: 2, feedForwardSize: 8)
  let model = TextClassifier(config: config, using: &generator)
  let vocabulary = try Vocabulary(tokenList: ["<pad>", "<unk>", "x", "y", "z", "w"], source: "test")
  let folder = try Fixtures.temporaryDirectory() + "/bundle"
  try ModelBundle(model: .classifier(model), vocabulary: vocabulary).save(to: folder)
  let loaded = try ModelBundle.load(from: folder)
  guard case .classifier(let again) = loaded.model else {
    Issue.record("not a classifier")
    return
  }
  #expect(again.flattenedParameters == model.flattenedParameters)
  #expect(loaded.config == config)
  #expect(loaded.vocabulary == vocabulary)
}

/// Copies the GRU fixture to a temporary folder and lets `damage` break it.
private func damagedBundle(_ damage: (String) throws -> Void) throws -> String {
  let folder = try Fixtures.temporaryDirectory() + "/bundle"
  try FileManager.default.copyItem(atPath: Fixtures.path("Tests/Fixtures/bundles/gru"), toPath: folder)
  try damage(folder)
  return folder
}

private func rewriteWeights(_ folder: String, _ change: (inout [(name: String, tensor: Tensor)]) -> Void) throws {
  var tensors = try Safetensors.read(from: folder + "/model.safetensors").tensors
  change(&tensors)
  try Safetensors.write(tensors, to: folder + "/model.safetensors")
}

@Test(arguments: [
  ("missing tensor", "model.safetensors", "missing tensor 'gru.weight_hh_l0'"),
  ("mis-shaped tensor", "model.safetensors", "tensor 'classifier.weight' has shape [3, 5]"),
  ("unexpected tensor", "model.safetensors", "unexpected tensor 'gru.weight_ih_l1'"),
  ("NaN weight", "model.safetensors", "NaN"),
  ("vocabulary size", "vocab.txt", "has 15 tokens but config.json says vocab_size 16"),
  ("unknown config key", "config.json", "unknown key 'hidden'"),
  ("inconsistent labels", "config.json", "num_classes is 3 but labels has 2 names"),
  ("truncated weights", "model.safetensors", "past the end"),
  ("missing file", "config.json", "cannot read"),
])
func badBundlesNameTheFileAndWhatIsWrong(problem: String, file: String, message: String) throws {
  let folder = try damagedBundle { folder in
    switch problem {
    case "missing tensor": try rewriteWeights(folder) { $0.removeAll { $0.name == "gru.weight_hh_l0" } }
    case "mis-shaped tensor": try rewriteWeights(folder) { t in t[t.firstIndex { $0.name == "classifier.weight" }!].tensor = .zeros([3, 5]) }
    case "unexpected tensor": try rewriteWeights(folder) { $0.append(("gru.weight_ih_l1", .zeros([15, 5]))) }
    case "NaN weight": try rewriteWeights(folder) { t in t[0].tensor.scalars[3] = .nan }
    case "vocabulary size":
      let lines = try String(contentsOfFile: folder + "/vocab.txt", encoding: .utf8).split(separator: "\n").dropLast()
      try (lines.joined(separator: "\n") + "\n").write(toFile: folder + "/vocab.txt", atomically: true, encoding: .utf8)
    case "unknown config key", "inconsistent labels":
      var config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/config.json"))) as! [String: Any]
      if problem == "unknown config key" { config["hidden"] = 5 } else { config["num_classes"] = 3 }
      try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: folder + "/config.json"))
    case "truncated weights":
      let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/model.safetensors"))
      try Data([UInt8](data).prefix(200)).write(to: URL(fileURLWithPath: folder + "/model.safetensors"))
    default: try FileManager.default.removeItem(atPath: folder + "/config.json")
    }
  }
  do {
    _ = try ModelBundle.load(from: folder)
    Issue.record("\(problem): loaded a broken bundle")
  } catch {
    #expect(error.file.hasSuffix(file), "\(problem): \(error)")
    #expect(error.problem.contains(message), "\(problem): \(error)")
  }
}

@Test(arguments: [0, -4])
func anAttentionBundleWithoutAFeedForwardLayerIsRefusedNotACrash(size: Int) throws {
  let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ffn-\(UUID().uuidString)").path
  try FileManager.default.copyItem(atPath: Fixtures.path("Tests/Fixtures/bundles/attention"), toPath: folder)
  defer { try? FileManager.default.removeItem(atPath: folder) }
  var config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/config.json"))) as! [String: Any]
  config["ffn_dim"] = size
  try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: folder + "/config.json"))
  do {
    _ = try ModelBundle.load(from: folder)
    Issue.record("ffn_dim \(size) was loaded")
  } catch {
    #expect(error.file == folder + "/config.json" && error.problem == "ffn_dim must be positive", "\(error)")
  }
}

private struct WordPieceExpected: Decodable {
  var texts: [String]
  var ids: [[Int]]
  var logits: [[Float]]
}

/// A GRU trained in PyTorch on BERT WordPiece ids (`make_wordpiece_bundle_fixture.py`: the `tokenizers` package, `[PAD]`
/// at id 2 and `[UNK]` at id 4): the lab tokenises each text to the same ids and gives PyTorch's logits.
@Test func wordPieceBundleTokenisesAndScoresAsPyTorchDid() throws {
  let folder = Fixtures.path("Tests/Fixtures/bundles/gru_wordpiece_cromulent")
  let bundle = try ModelBundle.load(from: folder)
  let expected = try JSONDecoder().decode(WordPieceExpected.self, from: Data(contentsOf: URL(fileURLWithPath: folder + "/expected.json")))
  guard case .classifier(let classifier) = bundle.model else {
    Issue.record("expected a classifier")
    return
  }
  #expect(bundle.vocabulary.paddingID == 2 && bundle.vocabulary.unknownID == 4)
  #expect(classifier.embedding.paddingIndex == 2, "the padding row, not row 0, is kept out of training")
  let unreachable = bundle.vocabulary.unreachableIDs.sorted().map { bundle.vocabulary.tokens[$0] }
  #expect(unreachable == ["[CLS]", "[SEP]", "[PAD]", "[MASK]", "[UNK]", "[unused0]", "The"], "no lowercased text becomes these tokens")
  let encoder = try bundle.makeEncoder()
  #expect(expected.texts.map(encoder.encode) == expected.ids)
  let batch = Batch(expected.ids.map { EncodedExample(ids: $0, label: 0) })
  var context = ForwardContext.inference
  let logits = classifier.logits(batch, context: &context)
  for (row, values) in expected.logits.enumerated() {
    for (column, value) in values.enumerated() {
      #expect(abs(logits.scalars[row * values.count + column] - value) <= 1e-4, "text \(row) class \(column)")
    }
  }
}

@Test func aBundleWhosePaddingOrUnknownTokenOrTokenizerIsWrongNamesTheKey() throws {
  let problem = try configProblems(of: "gru_wordpiece_cromulent")
  #expect(try problem { _ in } == "loaded")
  #expect(try problem { $0["unk_token"] = "<unk>" }.contains(#"vocab.txt: line 47: no unknown token "<unk>" (config.json's unk_token)"#))
  #expect(try problem { $0["pad_token"] = nil }.contains(#"no padding token "<pad>""#))
  #expect(try problem { $0["tokenizer"] = ["kind": "regex", "lowercase": true] }.contains("tokenizer option 'lowercase' belongs to kind \"wordpiece\""))
  #expect(try problem { $0["tokenizer"] = ["kind": "regex", "pattern": "(\\w+"] }.contains("config.json: tokenizer: pattern \"(\\\\w+\" does not compile"))
  #expect(try problem { $0["tokenizer"] = ["kind": "bpe"] }.contains("bpe"))
}

@Test func aCNNBundleWhoseFiltersDisagreeWithItsConfigNamesTheTensorOrKey() throws {
  let problem = try configProblems(of: "cnn")
  #expect(try problem { _ in } == "loaded")
  #expect(try problem { $0["filter_sizes"] = [2, 4] }.contains("tensor 'convs.1.weight' has shape [4, 6, 3]; config.json implies [4, 6, 4]"))
  #expect(try problem { $0["filter_sizes"] = [2] }.contains("tensor 'classifier.weight' has shape [2, 8]; config.json implies [2, 4]"))
  #expect(try problem { $0["num_filters"] = 5 }.contains("tensor 'convs.0.weight' has shape [4, 6, 2]; config.json implies [5, 6, 2]"))
  #expect(try problem { $0["activation"] = "tanh" }.contains("activation 'tanh' is not supported for cnn"))
  #expect(try problem { $0["filter_sizes"] = [2, 9] }.contains("filter_sizes must be 1 to max_length (8)"))
  #expect(try problem { $0["filter_sizes"] = nil }.contains("filter_sizes is required for cnn"))
}

/// Loads a copy of fixture bundle `name` with its config.json changed by each call's `change`: "loaded", or the error.
private func configProblems(of name: String) throws -> ((inout [String: Any]) -> Void) throws -> String {
  let folder = try Fixtures.temporaryDirectory() + "/bundle"
  try FileManager.default.copyItem(atPath: Fixtures.path("Tests/Fixtures/bundles/" + name), toPath: folder)
  let configPath = folder + "/config.json"
  let original = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: configPath))) as? [String: Any])
  return { change in
    var config = original
    change(&config)
    try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: configPath))
    do {
      _ = try ModelBundle.load(from: folder)
      return "loaded"
    } catch { return "\(error)" }
  }
}
