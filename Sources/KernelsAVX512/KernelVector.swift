// The vector types of the kernels this module shares with `Tensors` (VectorMath.swift, GRUCellKernel.swift: symbolic
// links to Tensors' files), 16 lanes here against 8 there.
typealias KernelVector = SIMD16<Float>
typealias KernelIntegerVector = SIMD16<Int32>

/// The home of the shared vector math (`exp`, `sigmoid`, `tanh`), as in `Tensors`.
enum FastMath {}
