#ifndef CCPUFEATURES_H
#define CCPUFEATURES_H

/// 1 when this x86-64 CPU and its operating system support the AVX-512 subsets the lab's wide kernels use
/// (F, BW, VL, DQ: the x86-64-v4 level, zmm state enabled in XCR0), else 0. Always 0 on other architectures.
int backdoorlab_cpu_supports_avx512(void);

/// 1 when this x86-64 CPU supports AVX2 and FMA (the x86-64-v3 level the rest of the lab is compiled for), else 0.
int backdoorlab_cpu_supports_avx2(void);

#endif
