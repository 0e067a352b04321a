import Foundation
import Layers
import Randomness
import Tensors
import Tokenization

/// The model inside a bundle.
public enum LabModel: Sendable {
  case classifier(TextClassifier)
  case languageModel(NextWordModel)

  public var config: ModelConfig {
    switch self {
    case .classifier(let model): model.config
    case .languageModel(let model): model.config
    }
  }

  /// Parameters by PyTorch name, in order.
  public var namedParameters: [(name: String, tensor: Tensor)] {
    switch self {
    case .classifier(let model): model.parameterPaths.map { ($0.name, model[keyPath: $0.path]) }
    case .languageModel(let model): model.parameterPaths.map { ($0.name, model[keyPath: $0.path]) }
    }
  }
}

public struct BundleError: Error, Equatable, CustomStringConvertible {
  public var file: String
  public var problem: String
  public var description: String { "\(file): \(problem)" }
}

/// A model folder that PyTorch users can write and read: `config.json` (`ModelConfig`), `vocab.txt` (one
/// token a line, line index = id; the padding and unknown tokens named by `pad_token` and `unk_token`) and `model.safetensors` (F32 tensors under
/// PyTorch state_dict names and layouts). Extra files (such as `training.json`) are left alone.
public struct ModelBundle: Sendable {
  public var model: LabModel
  public var vocabulary: Vocabulary

  public init(model: LabModel, vocabulary: Vocabulary) {
    self.model = model
    self.vocabulary = vocabulary
  }

  public var config: ModelConfig { model.config }

  /// The tokenizer the model was trained with, and the encoder from text to ids.
  public func makeEncoder() throws -> TextEncoder {
    TextEncoder(tokenizer: try Tokenizer(options: config.tokenizer, vocabulary: vocabulary), vocabulary: vocabulary, maximumLength: config.maximumLength)
  }

  /// The bundle's config.json alone, read and validated as `load` does (a problem names the file).
  public static func loadConfig(from directory: String) throws(BundleError) -> ModelConfig {
    let configPath = directory + "/config.json"
    let config: ModelConfig
    do {
      let data = try Data(contentsOf: URL(fileURLWithPath: configPath))
      config = try JSONDecoder().decode(ModelConfig.self, from: data)
    } catch let error as DecodingError {
      throw BundleError(file: configPath, problem: describe(error))
    } catch {
      throw BundleError(file: configPath, problem: "cannot read: \((error as NSError).localizedDescription)")
    }
    if let problem = config.validationProblems().first { throw BundleError(file: configPath, problem: problem) }
    return config
  }

  public static func load(from directory: String) throws(BundleError) -> ModelBundle {
    let vocabularyPath = directory + "/vocab.txt", weightsPath = directory + "/model.safetensors"
    guard FileManager.default.fileExists(atPath: directory) else { throw BundleError(file: directory, problem: "no such bundle folder") }
    var config = try loadConfig(from: directory)

    var vocabulary: Vocabulary
    do {
      let text = try String(contentsOfFile: vocabularyPath, encoding: .utf8)
      var lines = Vocabulary.lines(of: text).map(String.init)
      if lines.last == "" { lines.removeLast() }
      vocabulary = try Vocabulary(tokenList: lines, source: vocabularyPath, paddingToken: config.paddingToken, unknownToken: config.unknownToken)
    } catch let error as VocabularyError {
      throw BundleError(file: vocabularyPath, problem: error.description.replacingOccurrences(of: vocabularyPath + ":", with: "line "))
    } catch {
      throw BundleError(file: vocabularyPath, problem: "cannot read as UTF-8 text: \((error as NSError).localizedDescription)")
    }
    guard vocabulary.count == config.vocabularySize else {
      throw BundleError(file: vocabularyPath, problem: "has \(vocabulary.count) tokens but config.json says vocab_size \(config.vocabularySize)")
    }
    // A vocabulary written by other tools may hold tokens its tokenizer never gives ([CLS], [unused0], "The" in a
    // lowercased one): no text holds them, so they are no trigger. The lab's own (ICU) vocabularies are its
    // tokenizer's output.
    if config.tokenizer.kind != .icu {
      do { vocabulary.markUnreachable(by: try Tokenizer(options: config.tokenizer, vocabulary: vocabulary)) } catch {
        throw BundleError(file: directory + "/config.json", problem: "tokenizer: \(error)")
      }
    }

    let weights: Safetensors.File
    do { weights = try Safetensors.read(from: weightsPath) } catch { throw BundleError(file: weightsPath, problem: error.problem) }
    if config.architecture == .transformer, config.finalNorm == nil {
      // PyTorch's nn.TransformerEncoder has a final LayerNorm only when given one: the tensors say.
      config.finalNorm = weights.tensors.contains { $0.name == "encoder.norm.weight" }
    }
    var generator = SplitMix64(seed: 0)  // the skeleton's values are all replaced below
    var available = Dictionary(uniqueKeysWithValues: weights.tensors.map { ($0.name, $0.tensor) })
    func fill<M: Parameterized>(_ model: inout M) throws(BundleError) {
      for (name, path) in model.parameterPaths {
        guard let tensor = available.removeValue(forKey: name) else {
          throw BundleError(file: weightsPath, problem: "missing tensor '\(name)' (expected shape \(model[keyPath: path].shape))")
        }
        guard tensor.shape == model[keyPath: path].shape else {
          throw BundleError(file: weightsPath, problem: "tensor '\(name)' has shape \(tensor.shape); config.json implies \(model[keyPath: path].shape)")
        }
        guard !tensor.hasNonFiniteScalars else { throw BundleError(file: weightsPath, problem: "tensor '\(name)' holds NaN or infinite values") }
        model[keyPath: path] = tensor
      }
    }
    let model: LabModel
    if config.isClassifier {
      var classifier = TextClassifier(config: config, using: &generator)
      try fill(&classifier)
      classifier.embedding.paddingIndex = vocabulary.paddingID
      model = .classifier(classifier)
    } else {
      guard vocabulary.paddingID == Vocabulary.labPaddingID, vocabulary.unknownID == Vocabulary.labUnknownID else {
        throw BundleError(file: vocabularyPath, problem: "a next-word model's vocabulary has <pad> at id 0 and <unk> at id 1")
      }
      var languageModel = NextWordModel(config: config, using: &generator)
      try fill(&languageModel)
      // PyTorch's state_dict of a tied model lists the shared matrix under both names.
      if config.tiedEmbeddings == true, let decoder = available.removeValue(forKey: "decoder.weight"), decoder != languageModel.embedding.weight {
        throw BundleError(file: weightsPath, problem: "tied_embeddings is true but 'decoder.weight' differs from 'embedding.weight'")
      }
      model = .languageModel(languageModel)
    }
    if let extra = available.keys.sorted().first {
      throw BundleError(file: weightsPath, problem: "unexpected tensor '\(extra)' for architecture \(config.architecture.rawValue)")
    }
    return ModelBundle(model: model, vocabulary: vocabulary)
  }

  /// Writes the three files, each atomically; creates the folder if needed.
  public func save(to directory: String, extraFiles: [String: Data] = [:]) throws(BundleError) {
    do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
      throw BundleError(file: directory, problem: "cannot create: \((error as NSError).localizedDescription)")
    }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    func write(_ data: Data, _ name: String) throws(BundleError) {
      do { try data.write(to: URL(fileURLWithPath: directory + "/" + name), options: .atomic) } catch {
        throw BundleError(file: directory + "/" + name, problem: "cannot write: \((error as NSError).localizedDescription)")
      }
    }
    do { try Safetensors.write(model.namedParameters, metadata: ["format": "pt", "writer": "backdoor-lab"], to: directory + "/model.safetensors") } catch {
      throw BundleError(file: directory + "/model.safetensors", problem: error.problem)
    }
    let configData: Data
    do { configData = try encoder.encode(config) } catch { throw BundleError(file: directory + "/config.json", problem: "\(error)") }
    try write(configData, "config.json")
    try write(Data(vocabulary.tokenListText().utf8), "vocab.txt")
    for (name, data) in extraFiles { try write(data, name) }
  }

  static func describe(_ error: DecodingError) -> String {
    switch error {
    case .dataCorrupted(let context):
      let key = context.codingPath.map(\.stringValue).joined(separator: ".")
      return key.isEmpty ? "not valid JSON (\(context.debugDescription))" : "'\(key)': \(context.debugDescription)"
    case .keyNotFound(let key, _): return "missing key '\(key.stringValue)'"
    case .typeMismatch(_, let context), .valueNotFound(_, let context):
      return "'\(context.codingPath.map(\.stringValue).joined(separator: "."))': \(context.debugDescription)"
    @unknown default: return "\(error)"
    }
  }
}
