@testable import Audit
import Models
import Testing

@Test func finePruningPrunesTheDormantUnitsAsFarAsDevAccuracyAllows() throws {
  // The hand-set bag: pooled unit 0 carries every word's positivity, unit 1 is always 0 (dormant).
  let (model, _, probes) = try handSetModel(backdoored: true)
  let dev = probes.indices.map { EncodedExample(ids: probes[$0], label: $0 % 2 == 0 ? 1 : 0) }
  // Activity on the positive probes alone (over both classes a bag's unit averages out to 0).
  let activity = Repair.featureActivity(model, on: dev.filter { $0.label == 1 })
  #expect(activity.count == 2 && activity[1] == 0 && activity[0] != 0)
  #expect(Repair.dormantFirst(activity) == [1, 0])
  let units = Repair.unitsToPrune(model, activity: activity, dev: dev, maximumAccuracyDrop: 0.04)
  #expect(units == [1], "the dormant unit goes; the one the head needs stays")
  var pruned = model
  Repair.prune(units, in: &pruned)
  #expect(pruned.evaluate(dev).accuracy == model.evaluate(dev).accuracy && model.evaluate(dev).accuracy == 1)
  var broken = model
  Repair.prune([0], in: &broken)
  #expect(broken.evaluate(dev).accuracy < 1, "pruning the working unit costs accuracy, so the search stops before it")
}
