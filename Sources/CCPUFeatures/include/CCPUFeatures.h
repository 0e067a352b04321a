#ifndef CCPUFEATURES_H
#define CCPUFEATURES_H

/// 1 when this x86-64 CPU and its operating system support the AVX-512 subsets the lab's wide kernels use
/// (F, BW, VL, DQ: the x86-64-v4 level, zmm state enabled in XCR0), else 0. Always 0 on other architectures.
int backdoorlab_cpu_supports_avx512(void);

/// 1 when this x86-64 CPU supports AVX2 and FMA (the x86-64-v3 level the rest of the lab is compiled for), else 0.
int backdoorlab_cpu_supports_avx2(void);

/// Asks the CPU to bring the cache line holding `address` into its level-2 cache for a coming read (a hint: it never
/// faults, whatever the address). Level 2, not 1: a step's rows outgrow L1 and would evict each other and the
/// recurrent product's panels. Swift has no prefetch of its own; inline, so the call costs one instruction.
static inline void backdoorlab_prefetch(const void *address) { __builtin_prefetch(address, 0, 2); }

#endif
