import Foundation
@testable import Audit
import Layers
import Models
import Randomness
import Tensors
import Testing
import Tokenization

@Test func stripThresholdIsTheFalseRejectionQuantileOfCleanScores() {
  let clean = (1...100).map(Double.init).shuffled()
  #expect(STRIPFilter.threshold(cleanEntropies: clean, falseRejectionRate: 0.05) == 6)
  #expect(clean.count { $0 < STRIPFilter.threshold(cleanEntropies: clean, falseRejectionRate: 0.05) } == 5, "5 % of clean inputs fall below it")
  #expect(STRIPFilter.threshold(cleanEntropies: [0.3], falseRejectionRate: 0.5) == 0.3)
}
