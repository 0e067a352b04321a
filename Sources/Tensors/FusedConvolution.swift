/// One filter bank of Kim (2014)'s text CNN as one op: every window of `width` consecutive positions of a text, a
/// linear filter, ReLU, then the maximum over the text's windows.
///
/// Shapes: input [B, T, E]; weight [F, E, width] (`nn.Conv1d`'s layout over [B, E, T]); bias [F]. `lengths[b]` is
/// row b's real positions; a row shorter than `minimumLength` (the widest filter of the model) also reads the
/// positions after it up to that length, which must hold the padding embedding (what PyTorch sees when such a text is
/// padded to the widest filter). So row b has max(lengths[b], minimumLength) − width + 1 windows; T must be at least
/// `minimumLength`. Returns [B, F] = max over windows of relu(W · window + b), PyTorch's
/// `relu(conv1d(x)).max(dim=2)` for each text alone.
///
/// The windows of a row-major [T, E] text are overlapping rows of one matrix (window t starts at t · E and is
/// width · E long), so the filter bank is one GEMM over the whole batch with lda = E and no copying; the pullback
/// touches only each (row, filter)'s winning window.
public func convolutionMaxPool(_ input: Tensor, weight: Tensor, bias: Tensor, lengths: [Int], minimumLength: Int) -> Tensor {
  precondition(input.rank == 3, "convolution wants [batch, time, features]; got \(input.shape)")
  let (batch, time, features) = (input.shape[0], input.shape[1], input.shape[2])
  precondition(weight.rank == 3 && weight.shape[1] == features, "convolution weight must be [filters, \(features), width]; got \(weight.shape)")
  let (filters, width) = (weight.shape[0], weight.shape[2])
  precondition(bias.shape == [filters], "convolution bias must be [\(filters)]; got \(bias.shape)")
  precondition(lengths.count == batch && minimumLength >= width && time >= minimumLength, "convolution needs every text padded to \(minimumLength) positions")
  for tensor in [input, weight, bias] { tensor.requireDense("convolution") }
  let span = width * features
  let windowWeight = windowOrderedWeight(weight)
  let windowCounts = lengths.map { Swift.min(time, Swift.max($0, minimumLength)) - width + 1 }

  // responses[r · F + f]: filter f on the window starting at flattened position r = b · T + t.
  let responses = windowResponses(input.scalars, count: batch * time, features: features, windowWeight: windowWeight, width: width)
  var output = [Float](repeating: 0, count: batch * filters)
  var winners = [Int](repeating: -1, count: batch * filters)  // flattened window start, or −1 where ReLU gave 0
  // Each text's windows, eight filters at a time (a row of `responses` holds every filter's response to one window);
  // the first of equal maxima wins, as a NaN never does.
  func keep(_ best: Float, window: Int, text b: Int, filter f: Int) {
    let activated = best + bias.scalars[f]
    if activated > 0 {
      output[b * filters + f] = activated
      winners[b * filters + f] = b * time + window
    }
  }
  responses.withUnsafeBufferPointer { responses in
    let vectorEnd = filters - filters % 8
    for b in 0..<batch {
      let text = responses.baseAddress! + b * time * filters
      for f in stride(from: 0, to: vectorEnd, by: 8) {
        var best = SIMD8<Float>(repeating: -.infinity), bestWindow = SIMD8<Int32>(repeating: 0)
        for t in 0..<windowCounts[b] {
          let values = UnsafeRawPointer(text + t * filters + f).loadUnaligned(as: SIMD8<Float>.self)
          let better = values .> best
          best.replace(with: values, where: better)
          bestWindow.replace(with: Int32(t), where: better)
        }
        for lane in 0..<8 { keep(best[lane], window: Int(bestWindow[lane]), text: b, filter: f + lane) }
      }
      for f in vectorEnd..<filters {
        var best = -Float.infinity, bestWindow = 0
        for t in 0..<windowCounts[b] where text[t * filters + f] > best { (best, bestWindow) = (text[t * filters + f], t) }
        keep(best, window: bestWindow, text: b, filter: f)
      }
    }
  }
  let result = Tensor(shape: [batch, filters], scalars: output)
  let tracked = [input, weight, bias]
  guard tracked.contains(where: \.isTracked) else { return result }
  let (inputValue, windowWeightValue) = (input.detached, windowWeight)
  return result.recorded(from: tracked) { gradient in
    var dInput = [Float](repeating: 0, count: batch * time * features)
    var dWindowWeight = [Float](repeating: 0, count: filters * span)
    var dBias = [Float](repeating: 0, count: filters)
    inputValue.scalars.withUnsafeBufferPointer { x in
      windowWeightValue.scalars.withUnsafeBufferPointer { w in
        for b in 0..<batch {
          for f in 0..<filters where winners[b * filters + f] >= 0 {
            let g = gradient.scalars[b * filters + f]
            let start = winners[b * filters + f] * features
            dBias[f] += g
            for j in 0..<span {
              dWindowWeight[f * span + j] += g * x[start + j]
              dInput[start + j] += g * w[f * span + j]
            }
          }
        }
      }
    }
    return [
      Tensor(shape: [batch, time, features], scalars: dInput),
      Tensor(shape: [filters, features, width], scalars: reorder(dWindowWeight, filters: filters, outer: width, inner: features)),
      Tensor(shape: [filters], scalars: dBias),
    ]
  }
}

/// Inference only: the responses, without bias, of a filter bank (weight [F, E, width]) to every window of `width`
/// consecutive rows of `input` ([positions, E], the rows of several texts one after another): [positions − width + 1,
/// F], row t the window starting at row t. Each window's responses are the bits `convolutionMaxPool` computes for it,
/// whatever the other rows (one product, each row computed alike), so a window's response can be computed once and
/// reused where the same tokens recur.
public func convolutionWindowResponses(_ input: Tensor, weight: Tensor) -> Tensor {
  precondition(input.rank == 2 && weight.rank == 3 && weight.shape[1] == input.shape[1], "convolution windows need [positions, E] and [F, E, width]; got \(input.shape), \(weight.shape)")
  precondition(input.shape[0] >= weight.shape[2], "fewer positions (\(input.shape[0])) than the filter's width (\(weight.shape[2]))")
  for tensor in [input, weight] { tensor.requireDense("convolution") }
  let (positions, filters) = (input.shape[0] - weight.shape[2] + 1, weight.shape[0])
  let responses = windowResponses(input.scalars, count: input.shape[0], features: input.shape[1], windowWeight: windowOrderedWeight(weight), width: weight.shape[2])
  return Tensor(shape: [positions, filters], scalars: responses)
}

/// [F, E, width] → [F, width · E]: a filter in the order of a window's scalars.
private func windowOrderedWeight(_ weight: Tensor) -> Tensor {
  let (filters, features, width) = (weight.shape[0], weight.shape[1], weight.shape[2])
  return Tensor(shape: [filters, width * features], scalars: reorder(weight.scalars, filters: filters, outer: features, inner: width))
}

/// responses[t · F + f]: filter f on the window of `width` rows starting at row t of `input` ([count, features]), one
/// product over the overlapping windows (lda = features, no copying).
private func windowResponses(_ input: [Float], count: Int, features: Int, windowWeight: Tensor, width: Int) -> [Float] {
  let (filters, span) = (windowWeight.shape[0], windowWeight.shape[1])
  let positions = count - width + 1
  // Every element is written by the product (accumulate: false).
  return [Float](unsafeUninitializedCapacity: positions * filters) { c, written in
    input.withUnsafeBufferPointer { x in
      windowWeight.scalars.withUnsafeBufferPointer { w in
        GEMM.multiply(m: positions, n: filters, k: span, a: x.baseAddress!, lda: features, transposeA: false,
                      b: w.baseAddress!, ldb: span, transposeB: true, c: c.baseAddress!, ldc: filters, accumulate: false)
      }
    }
    written = positions * filters
  }
}

/// Each filter's [outer, inner] block transposed to [inner, outer].
private func reorder(_ scalars: [Float], filters: Int, outer: Int, inner: Int) -> [Float] {
  var result = [Float](repeating: 0, count: scalars.count)
  for f in 0..<filters {
    let base = f * outer * inner
    for o in 0..<outer {
      for i in 0..<inner { result[base + i * outer + o] = scalars[base + o * inner + i] }
    }
  }
  return result
}
