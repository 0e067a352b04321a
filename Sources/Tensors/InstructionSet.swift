import CCPUFeatures

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The vector instruction set the lab's kernels run on, chosen once per process: the widest this CPU supports, or a
/// lower one named by `BACKDOOR_LAB_ISA` (`avx2`, `avx512`), so both paths can be run and compared on one machine.
///
/// The whole lab is compiled for x86-64-v3 (AVX2 + FMA); the AVX-512 kernels live in the `KernelsAVX512` module,
/// compiled for x86-64-v4, and are called only when `current` is `.avx512`. On other architectures the level is
/// `.portable` (the compiler's own vector code).
public enum InstructionSet: String, Sendable, CaseIterable, Comparable {
  case portable, avx2, avx512

  /// The name of the environment variable that lowers the level.
  public static let environmentVariable = "BACKDOOR_LAB_ISA"

  /// The widest level this CPU and operating system support.
  public static let supported: InstructionSet = {
    #if arch(x86_64)
    if backdoorlab_cpu_supports_avx512() != 0 { return .avx512 }
    return .avx2
    #else
    return .portable
    #endif
  }()

  /// The value of `BACKDOOR_LAB_ISA`, nil when it is unset.
  public static let requestedInEnvironment: String? = getenv(environmentVariable).map { String(cString: $0) }

  /// Why a `BACKDOOR_LAB_ISA` request was not followed.
  public enum RequestProblem: Equatable, Sendable {
    /// The value names no level of this build (the lab stops: a typo should not pass for a measurement).
    case unknownName(String)
    /// The CPU lacks the level asked for; the kernels run on the CPU's own (a warning).
    case unsupported(String)

    public var message: String {
      switch self {
      case .unknownName(let message), .unsupported(let message): message
      }
    }
  }

  /// The level chosen at start-up, and why a request in the environment was not followed (nil when it was, or when
  /// there was none).
  static let chosen: (level: InstructionSet, problem: RequestProblem?) = {
    guard let request = requestedInEnvironment else { return (supported, nil) }
    return resolve(request: request, supported: supported)
  }()

  /// The level the kernels use in this process (unless a scope binds a lower one with `withMaximum`).
  public static var current: InstructionSet { Swift.min(chosen.level, scopedMaximum) }

  /// Why `BACKDOOR_LAB_ISA` was not followed, for the command line to report; nil when it was or is unset.
  public static var environmentProblem: RequestProblem? { chosen.problem }

  /// The levels this CPU can run, narrowest first (`bench isa --list`).
  public static var runnable: [InstructionSet] { levels(whereSupported: supported).filter { $0 <= supported } }

  /// The levels of this build, narrowest first, on a CPU whose widest is `supported`: `portable` is a level only where
  /// there is no x86-64 vector level (the x86-64 build is AVX2 throughout).
  static func levels(whereSupported supported: InstructionSet) -> [InstructionSet] {
    allCases.filter { ($0 == .portable) == (supported == .portable) }
  }

  /// `request` (the variable's value) resolved against the CPU's level: a level the CPU lacks, or a name that is no
  /// level of this build, keeps the CPU's level and says why.
  static func resolve(request: String, supported: InstructionSet) -> (level: InstructionSet, problem: RequestProblem?) {
    let name = request.lowercased()
    guard !name.isEmpty else { return (supported, nil) }
    let levels = levels(whereSupported: supported)
    guard let requested = InstructionSet(rawValue: name), levels.contains(requested) else {
      let names = levels.map(\.rawValue).joined(separator: ", ")
      return (supported, .unknownName("\(environmentVariable)=\(request) is not an instruction set of this build (one of: \(names))"))
    }
    guard requested <= supported else {
      return (supported, .unsupported("\(environmentVariable)=\(request): this CPU supports \(supported.rawValue) at most; using \(supported.rawValue)"))
    }
    return (requested, nil)
  }

  @TaskLocal static var scopedMaximum: InstructionSet = .avx512

  /// Runs `body` with the kernels limited to `level` (and to what the CPU supports): lets tests run both paths in
  /// one process.
  public static func withMaximum<Result>(_ level: InstructionSet, _ body: () throws -> Result) rethrows -> Result {
    try $scopedMaximum.withValue(level, operation: body)
  }

  public static func < (left: InstructionSet, right: InstructionSet) -> Bool {
    allCases.firstIndex(of: left)! < allCases.firstIndex(of: right)!
  }
}
