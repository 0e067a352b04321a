// The vector types of the kernels written once for every instruction set (VectorMath.swift, GRUCellKernel.swift):
// this module compiles them with 8 lanes (AVX2); `KernelsAVX512` compiles the same files, through symbolic links,
// with 16.
typealias KernelVector = SIMD8<Float>
typealias KernelIntegerVector = SIMD8<Int32>
