import Foundation
import Models
import Testing
import TestSupport

/// Mutated bundle config.json files: each is read as a config without problems (whose model can be built) or refused
/// with a `BundleError` naming the file.
@Test func mutatedBundleConfigsAreReadOrRefused() throws {
  let directory = try Fixtures.temporaryDirectory()
  let valid = try Array(Data(contentsOf: URL(fileURLWithPath: Fixtures.path("Tests/Fixtures/bundles/gru/config.json"))))
  var mutator = Mutator(seed: 6)
  var read = 0, refused = 0
  for _ in 0..<Mutator.iterations(standard: 1500) {
    try Data(mutator.mutate(valid)).write(to: URL(fileURLWithPath: directory + "/config.json"))
    do {
      let config = try ModelBundle.loadConfig(from: directory)
      #expect(config.validationProblems().isEmpty, "a config read without error is one the lab can build")
      read += 1
    } catch {
      #expect(error.file.hasSuffix("config.json"))
      refused += 1
    }
  }
  #expect(read > 0 && refused > 0)
}
