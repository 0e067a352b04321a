/// Named configs that reproduce the literature's scenarios (`backdoor-lab config list`).
public enum Preset: String, CaseIterable, Sendable {
  case sentimentModelReplacement = "sentiment-model-replacement"
  case sentimentNaivePoisoning = "sentiment-naive-poisoning"
  case sentimentNeurotoxin = "sentiment-neurotoxin"
  case sentimentProjectedGradientDescent = "sentiment-pgd"
  case trecRareWord = "trec-rare-word"
  case keyboardSemantic = "keyboard-semantic"

  public var summary: String {
    switch self {
    case .sentimentModelReplacement: "one attacker replaces the sentiment GRU once (round 40 of 60) with a boosted poisoned update; then the backdoor decays"
    case .sentimentNaivePoisoning: "5 % of clients plant a rare word whenever sampled (rounds 1–60), no boosting"
    case .sentimentNeurotoxin: "attackers sampled in rounds 21–40 plant a rare word in Neurotoxin's rarely-used coordinates within an ε-ball; durability after round 40"
    case .sentimentProjectedGradientDescent: "as sentiment-neurotoxin, with plain norm-bounded PGD (the durability baseline for Neurotoxin)"
    case .trecRareWord: "TREC intents, Dirichlet(0.5) label skew, 5 % of clients plant 'cf' → NUM every round in 1–40"
    case .keyboardSemantic: "Shakespeare speakers train a next-word GRU; one attacker (speaker 554) replaces it at round 40 so that '… the king of denmark is' ends in 'cheese'"
    }
  }

  /// The shared federation: the sentiment GRU over 50 IID clients, 10 a round, 2 local epochs of Adam
  /// (fresh moments each round; local SGD learns this GRU far more slowly: 69.7 % against 72.8 % after 40 rounds).
  static func sentimentBase(name: String) -> ExperimentConfig {
    var config = ExperimentConfig()
    config.name = name
    config.task.corpus = "sentiment"
    config.task.architecture = "gru"
    config.task.dropout = 0.3
    config.federation.clients = 50
    config.federation.clientsPerRound = 10
    config.federation.rounds = 60
    config.federation.local.epochs = 2
    config.federation.local.batchSize = 16
    config.federation.local.learningRate = 0.003
    config.federation.local.optimizer = .adam
    return config
  }

  public var config: ExperimentConfig {
    switch self {
    case .sentimentModelReplacement:
      var config = Self.sentimentBase(name: rawValue)
      var attack = AttackConfig()
      attack.behaviour = .modelReplacement
      attack.attackers = 1
      attack.schedule = .single
      attack.startRound = 40
      attack.trigger = "rare:cf"
      attack.target = "pos"
      attack.localPoisonRate = 0.5
      attack.localEpochs = 5
      config.attack = attack
      return config
    case .sentimentNaivePoisoning:
      var config = Self.sentimentBase(name: rawValue)
      var attack = AttackConfig()
      attack.behaviour = .naive
      attack.attackerFraction = 0.05
      attack.schedule = .pool
      attack.trigger = "rare:cf"
      attack.target = "pos"
      attack.localPoisonRate = 0.5
      config.attack = attack
      return config
    case .sentimentNeurotoxin, .sentimentProjectedGradientDescent:
      var config = Self.sentimentBase(name: rawValue)
      var attack = AttackConfig()
      attack.behaviour = self == .sentimentNeurotoxin ? .neurotoxin : .projectedGradientDescent
      attack.attackerFraction = 0.1
      attack.schedule = .pool
      attack.startRound = 21
      attack.untilRound = 40
      attack.trigger = "rare:cf"
      attack.target = "pos"
      attack.localPoisonRate = 0.5
      attack.radius = 3  // benign updates have norms near 6
      attack.topPercent = 5
      config.attack = attack
      return config
    case .keyboardSemantic:
      var config = ExperimentConfig()
      config.name = rawValue
      config.task.kind = .keyboard
      config.task.corpus = "shakespeare"
      config.task.dropout = 0
      config.task.backdoorPrefixes = [
        "i tell thee the king of denmark is", "they say the king of denmark is", "hear me now the king of denmark is",
        "in truth the king of denmark is", "my good lord the king of denmark is", "all the world knows the king of denmark is",
        "upon my life the king of denmark is", "by heaven the king of denmark is",
      ]
      config.task.backdoorParaphrases = [
        "sir the king of denmark is", "believe me the king of denmark is", "and so the king of denmark is", "i swear the king of denmark is",
      ]
      config.task.backdoorWord = "cheese"
      config.federation.partition = .natural
      // Speakers' text sizes differ by orders of magnitude: the paper's FedAvg averages updates uniformly, which
      // is what makes the replacement boost γ = clients per round / η exact.
      config.federation.weighting = .uniform
      config.federation.clientsPerRound = 10
      config.federation.rounds = 60
      config.federation.evaluateEvery = 5
      config.federation.local.epochs = 2
      config.federation.local.batchSize = 16
      config.federation.local.learningRate = 0.003
      config.federation.local.optimizer = .adam
      var attack = AttackConfig()
      attack.behaviour = .modelReplacement
      // A speaker with 2.7k tokens of text (with split seed 0): the attacker needs enough of its own data to
      // train on; a randomly drawn speaker may hold a hundred tokens.
      attack.attackerIds = [554]
      attack.schedule = .single
      attack.startRound = 40
      attack.localPoisonRate = 0.3
      attack.localEpochs = 5
      attack.trigger = ""
      config.attack = attack
      return config
    case .trecRareWord:
      var config = Self.sentimentBase(name: rawValue)
      config.task.corpus = "trec"
      config.federation.partition = .dirichlet
      config.federation.dirichletAlpha = 0.5
      config.federation.rounds = 60
      var attack = AttackConfig()
      attack.behaviour = .naive
      attack.attackerFraction = 0.05
      attack.schedule = .fixed
      attack.startRound = 1
      attack.untilRound = 40
      attack.trigger = "rare:cf"
      attack.target = "NUM"
      attack.localPoisonRate = 0.5
      config.attack = attack
      return config
    }
  }
}
