import Federated

/// Coordinate-wise median (Yin et al. 2018): per coordinate, the median of the updates (the mean of the two
/// middle values for an even count, as numpy's median and Flower's `aggregate_median`).
public struct CoordinateMedian: Aggregator {
  public init() {}
  public var name: String { "Median" }

  public func aggregate(_ updates: [ClientUpdate], round: Int) throws(AggregationError) -> AggregationResult {
    guard !updates.isEmpty else { throw .noUpdates(round: round) }
    let n = updates.count
    let delta = coordinateWiseSorted(updates) { sorted in
      n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) * 0.5
    }
    return AggregationResult(delta: delta, verdicts: Dictionary(uniqueKeysWithValues: updates.map { ($0.client, .kept) }))
  }
}

/// Coordinate-wise trimmed mean (Yin et al. 2018): per coordinate, drop the ⌊β·n⌋ largest and smallest values
/// and average the rest (scipy's `trim_mean`, as Flower's `aggregate_trimmed_mean`).
public struct TrimmedMean: Aggregator {
  public var beta: Double

  public init(beta: Double) {
    precondition(beta >= 0 && beta < 0.5, "β must be in [0, 0.5)")
    self.beta = beta
  }

  public var name: String { "TrimmedMean(β \(beta))" }

  public func aggregate(_ updates: [ClientUpdate], round: Int) throws(AggregationError) -> AggregationResult {
    let n = updates.count
    let cut = Int(beta * Double(n))
    guard n - 2 * cut >= 1 else { throw .tooFewUpdates(rule: name, round: round, minimum: 2 * cut + 1, got: n) }
    let kept = Float(n - 2 * cut)
    let delta = coordinateWiseSorted(updates) { sorted in
      var sum = SIMD16<Float>()
      for i in cut..<(n - cut) { sum += sorted[i] }
      return sum / kept
    }
    return AggregationResult(delta: delta, verdicts: Dictionary(uniqueKeysWithValues: updates.map { ($0.client, .kept) }))
  }
}

/// Applies `reduce` to each coordinate's values across the updates (ordered by client id, so the result does
/// not depend on the order the updates came in). Works through blocks of coordinates so that each block of
/// every update stays in cache; `reduce` gets the n values of one coordinate in scratch space it may reorder.
func coordinateWise(_ updates: [ClientUpdate], _ reduce: (UnsafeMutablePointer<Float>) -> Float) -> [Float] {
  let ordered = updates.sorted { $0.client < $1.client }
  let n = ordered.count, count = ordered[0].delta.count
  var result = [Float](repeating: 0, count: count)
  let block = 256
  let column = UnsafeMutablePointer<Float>.allocate(capacity: n * block)
  defer { column.deallocate() }
  result.withUnsafeMutableBufferPointer { out in
    var start = 0
    while start < count {
      let width = min(block, count - start)
      for (row, update) in ordered.enumerated() {
        update.delta.withUnsafeBufferPointer { source in
          let from = source.baseAddress! + start
          for j in 0..<width { column[j * n + row] = from[j] }
        }
      }
      for j in 0..<width { out[start + j] = reduce(column + j * n) }
      start += width
    }
  }
  return result
}

/// Sorts `count` values in place (insertion sort: the counts here are a round's clients, tens at most).
@inline(__always)
func sortSmall(_ values: UnsafeMutablePointer<Float>, _ count: Int) {
  guard count > 1 else { return }
  for i in 1..<count {
    let value = values[i]
    var j = i - 1
    while j >= 0 && values[j] > value {
      values[j + 1] = values[j]
      j -= 1
    }
    values[j + 1] = value
  }
}

/// Like `coordinateWise` for rules that only need each coordinate's values in order: 16 coordinates at a
/// time, their n values sorted lane-wise by an odd-even transposition network of SIMD min/max (no data
/// dependent branches); `reduce` maps the n sorted vectors to the 16 results.
func coordinateWiseSorted(_ updates: [ClientUpdate], _ reduce: (UnsafeMutablePointer<SIMD16<Float>>) -> SIMD16<Float>) -> [Float] {
  let ordered = updates.sorted { $0.client < $1.client }
  let n = ordered.count, count = ordered[0].delta.count
  var result = [Float](repeating: 0, count: count)
  let lanes = UnsafeMutablePointer<SIMD16<Float>>.allocate(capacity: n)
  defer { lanes.deallocate() }
  let pointers = ordered.map { update in update.delta.withUnsafeBufferPointer { $0.baseAddress! } }
  // The arrays outlive the loop (`ordered` holds them), so their storage stays put.
  withExtendedLifetime(ordered) {
    result.withUnsafeMutableBufferPointer { out in
      var start = 0
      while start + 16 <= count {
        for row in 0..<n { lanes[row] = UnsafeRawPointer(pointers[row] + start).loadUnaligned(as: SIMD16<Float>.self) }
        sortLanes(lanes, n)
        UnsafeMutableRawPointer(out.baseAddress! + start).storeBytes(of: reduce(lanes), as: SIMD16<Float>.self)
        start += 16
      }
      // The last count % 16 coordinates, padded with zeros in the unused lanes.
      if start < count {
        for row in 0..<n {
          var vector = SIMD16<Float>()
          for k in 0..<(count - start) { vector[k] = pointers[row][start + k] }
          lanes[row] = vector
        }
        sortLanes(lanes, n)
        let reduced = reduce(lanes)
        for k in 0..<(count - start) { out[start + k] = reduced[k] }
      }
    }
  }
  return result
}

/// Sorts `count` SIMD vectors lane by lane: an odd-even transposition network of compare-exchanges.
@inline(__always)
func sortLanes(_ lanes: UnsafeMutablePointer<SIMD16<Float>>, _ count: Int) {
  for pass in 0..<count {
    var i = pass % 2
    while i + 1 < count {
      let low = lanes[i], high = lanes[i + 1]
      let swap = high .< low
      lanes[i] = low.replacing(with: high, where: swap)
      lanes[i + 1] = high.replacing(with: low, where: swap)
      i += 2
    }
  }
}
