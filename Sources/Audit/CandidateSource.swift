/// Which part of the audit found a candidate; the report's `method`.
public enum CandidateSource: String, Sendable, Codable, CaseIterable {
  /// The single-token scan.
  case scan
  /// The phrase search's HotFlip beam, its relaxed (DBS-style) search, and its anchored search.
  case hotflip, relaxed, anchored
  /// The conjunction scan and its refinement.
  case conjunction
  /// `CandidateRecombination`: two listed candidates' words paired.
  case recombined
  /// `PartnerScan`: a common word beside the label's strongest token.
  case partner
  /// `WordPieceCompletion`: a WordPiece candidate made whole words.
  case wholeWord = "whole_word"
}
