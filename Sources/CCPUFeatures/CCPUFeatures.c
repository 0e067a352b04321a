#include "CCPUFeatures.h"

#if defined(__x86_64__)
// The compiler's CPU model (libgcc / compiler-rt) reads CPUID once and checks XCR0, so a feature counts only
// when the operating system also saves its registers.
int backdoorlab_cpu_supports_avx512(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
      && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
}

int backdoorlab_cpu_supports_avx2(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#else
int backdoorlab_cpu_supports_avx512(void) { return 0; }
int backdoorlab_cpu_supports_avx2(void) { return 0; }
#endif
