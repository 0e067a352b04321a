// Compiled in Tensors and, through a symbolic link, in KernelsAVX512: it may use only the standard library and
// what each of the two modules declares alike (`KernelVector`, `KernelIntegerVector`, `FastMath`).

/// Vectorised exp, sigmoid and tanh over `KernelVector` for the fused ops' gates. This file is compiled twice: in
/// `Tensors` (8 lanes, AVX2) and, through a symbolic link, in `KernelsAVX512` (16 lanes); every lane is computed alike,
/// so both give the same bits.
///
/// exp follows Cephes' `expf`: k = round(x·log₂e), r = x − k·ln 2 (in two parts), a degree-5
/// polynomial for e^r, scaled by 2^k through the exponent bits; relative error about 2 ulp over the
/// clamped range [−87.3, 88.7].
extension FastMath {
  typealias Vector = KernelVector

  // `@_transparent` (always inlined, also in debug builds): with 16 lanes the optimiser declines `@inline(__always)`
  // here and calls each function once per vector, which costs more than the arithmetic.

  @_transparent
  static func exp(_ input: Vector) -> Vector {
    // Clamped with plain comparisons: the generic pointwiseMin/Max are not inlined.
    var x = input.replacing(with: Vector(repeating: -87.3), where: input .< -87.3)
    x.replace(with: 88.7, where: x .> 88.7)
    // Adding 1.5·2²³ rounds x·log₂e to an integer held in the low mantissa bits, so k and 2^k come
    // from bit patterns alone (Swift's generic SIMD rounding and Int32 conversion are slow paths).
    let magic = Vector(repeating: 12_582_912)
    let shifted = x * 1.442_695_04 + magic
    let k = shifted - magic
    let integerK = unsafeBitCast(shifted, to: KernelIntegerVector.self) &- 0x4B40_0000
    // Swift does not contract a·b + c into one FMA by itself; `addingProduct` does (one rounding, and
    // half the instructions of the Horner chain).
    x = x.addingProduct(k, Vector(repeating: -0.693_359_375))
    x = x.addingProduct(k, Vector(repeating: 2.121_944_4e-4))
    let z = x * x
    var y = Vector(repeating: 1.987_569_15e-4)
    y = Vector(repeating: 1.398_199_950_7e-3).addingProduct(y, x)
    y = Vector(repeating: 8.333_451_907_3e-3).addingProduct(y, x)
    y = Vector(repeating: 4.166_579_589_4e-2).addingProduct(y, x)
    y = Vector(repeating: 1.666_666_545_9e-1).addingProduct(y, x)
    y = Vector(repeating: 5.000_000_120_1e-1).addingProduct(y, x)
    y = (x + 1).addingProduct(y, z)
    let exponent = (integerK &+ 127) &<< 23
    return y * unsafeBitCast(exponent, to: Vector.self)
  }

  @_transparent
  static func sigmoid(_ x: Vector) -> Vector { 1 / (1 + exp(-x)) }

  /// tanh(x) = 1 − 2 / (e^{2x} + 1): exact limits ±1, no overflow after clamping inside exp.
  @_transparent
  static func tanh(_ x: Vector) -> Vector { 1 - 2 / (exp(x + x) + 1) }

  @_transparent
  static func scalarSigmoid(_ x: Float) -> Float { sigmoid(Vector(repeating: x))[0] }

  @_transparent
  static func scalarTanh(_ x: Float) -> Float { tanh(Vector(repeating: x))[0] }
}
