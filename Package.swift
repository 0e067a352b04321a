// swift-tools-version: 6.1
import PackageDescription

// The numeric core is compiled for x86-64-v3 (AVX2 + FMA) on x86_64 hosts, so a plain
// `swift build -c release` gives the fast kernels: without it Swift emits SSE2 only and `addProduct`
// becomes calls to `fmaf` (see README, "Fast builds"). `unsafeFlags` are allowed in a root package.
// `KernelsAVX512` alone is compiled for x86-64-v4 (AVX-512); `Tensors` calls it only on CPUs that have AVX-512
// (`InstructionSet`, from CPUID), so the same binary runs on AVX2-only machines.
#if arch(x86_64)
let vectorCodegen: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-march=x86-64-v3"])]
// No cross-module optimisation there: a body serialised for inlining elsewhere would be compiled again for the caller's
// narrower target, and a serialised entry point cannot inline the module's internal vector math.
let wideVectorCodegen: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-march=x86-64-v4", "-Xfrontend", "-disable-cmo"])]
#else
let vectorCodegen: [SwiftSetting] = []
let wideVectorCodegen: [SwiftSetting] = []
#endif

let package = Package(
  name: "BackdoorLab",
  platforms: [.macOS(.v15)],
  products: [
    .executable(name: "backdoor-lab", targets: ["backdoor-lab"])
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
    .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
    .package(url: "https://github.com/apple/swift-crypto", exact: "3.12.3"),
    .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
  ],
  targets: [
    // Plain C shim over ICU: its public header uses primitive types only (docs/contributing.md, "Fast builds and ICU").
    .target(
      name: "CICU",
      exclude: ["README.md"],
      cSettings: [.unsafeFlags(["-O2"])],
      linkerSettings: [.linkedLibrary("icui18n"), .linkedLibrary("icuuc"), .linkedLibrary("icudata")]
    ),
    // Plain C shim over libcurl: the Flower client's HTTP(S) with a CA file of its own (URLSession on Linux has none).
    .target(name: "CCurl", exclude: ["README.md"], cSettings: [.unsafeFlags(["-O2"])], linkerSettings: [.linkedLibrary("curl")]),
    .target(name: "Randomness", exclude: ["README.md"]),
    .target(name: "Storage", exclude: ["README.md"]),
    .target(name: "Tokenization", dependencies: ["CICU"], exclude: ["README.md"]),
    .target(name: "Datasets", dependencies: ["Tokenization", "Randomness"], exclude: ["README.md"]),
    // CPUID for `InstructionSet`: which of the kernels below this CPU may run.
    .target(name: "CCPUFeatures", exclude: ["README.md"], cSettings: [.unsafeFlags(["-O2"])]),
    .target(
      name: "KernelsAVX512", exclude: ["README.md"],
      swiftSettings: wideVectorCodegen + [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]),
    .target(
      name: "Tensors", dependencies: ["Randomness", "CCPUFeatures", "KernelsAVX512"], exclude: ["README.md"],
      swiftSettings: vectorCodegen + [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))],
      linkerSettings: [.linkedLibrary("m")]
    ),
    .target(name: "Layers", dependencies: ["Tensors", "Randomness"], exclude: ["README.md"], swiftSettings: vectorCodegen),
    .target(
      name: "Models", dependencies: ["Layers", "Tensors", "Tokenization", "Datasets", "Randomness", "Storage"], exclude: ["README.md"],
      swiftSettings: vectorCodegen),
    .target(name: "Federated", dependencies: ["Tensors", "Layers", "Randomness"], exclude: ["README.md"], swiftSettings: vectorCodegen),
    .target(name: "Defenses", dependencies: ["Federated", "Randomness", "Tensors"], exclude: ["README.md"], swiftSettings: vectorCodegen),
    .target(
      name: "SecureAggregation", dependencies: ["Federated", "Randomness", .product(name: "Crypto", package: "swift-crypto")], exclude: ["README.md"]),
    .target(name: "Attacks", dependencies: ["Federated", "Models", "Datasets", "Tokenization", "Randomness", "Reports", "Storage"], exclude: ["README.md"]),
    .target(
      name: "Experiments",
      dependencies: ["Attacks", "Defenses", "SecureAggregation", "Federated", "Models", "Layers", "Tensors", "Datasets", "Tokenization", "Randomness", "Reports", "Audit", "Storage", .product(name: "Yams", package: "Yams")],
      exclude: ["README.md"]),
    .target(name: "Reports", exclude: ["README.md"]),
    .target(name: "Audit", dependencies: ["Models", "Layers", "Tensors", "Tokenization", "Randomness"], exclude: ["README.md"], swiftSettings: vectorCodegen),
    .target(
      name: "Benchmarks", dependencies: ["Tokenization", "Tensors", "Layers", "Models", "Federated", "Defenses", "Randomness"], exclude: ["README.md"],
      swiftSettings: vectorCodegen),
    // Code generated once by protoc-gen-swift from Flower 1.42's protocol definitions (see its README); never at build time.
    .target(name: "FlowerProtos", dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")], exclude: ["README.md", "LICENSE"]),
    .target(
      name: "FlowerClient",
      dependencies: [
        "CCurl", "FlowerProtos", "Experiments", "Federated", "Models", "Tensors", "Randomness",
        .product(name: "SwiftProtobuf", package: "swift-protobuf"), .product(name: "Crypto", package: "swift-crypto"),
      ],
      exclude: ["README.md"]),
    .target(
      name: "LabCommands",
      dependencies: [
        "Tokenization", "Datasets", "Randomness", "Tensors", "Layers", "Models", "Attacks", "Reports", "Federated", "Defenses", "Experiments", "Audit",
        "FlowerClient", "Benchmarks", "Storage",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      exclude: ["README.md"]
    ),
    .executableTarget(name: "backdoor-lab", dependencies: ["LabCommands"]),

    .target(name: "TestSupport", dependencies: ["Tensors"], path: "Tests/TestSupport"),
    .testTarget(name: "RandomnessTests", dependencies: ["Randomness"]),
    .testTarget(name: "StorageTests", dependencies: ["Storage", "TestSupport"]),
    .testTarget(name: "TokenizationTests", dependencies: ["Tokenization", "TestSupport"]),
    .testTarget(name: "TensorsTests", dependencies: ["Tensors", "Randomness", "TestSupport"]),
    .testTarget(name: "LayersTests", dependencies: ["Layers", "Tensors", "Randomness", "TestSupport"]),
    .testTarget(name: "ModelsTests", dependencies: ["Models", "Layers", "Tensors", "Tokenization", "Datasets", "Randomness", "TestSupport"]),
    .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "Tokenization", "TestSupport"]),
    .testTarget(name: "AttacksTests", dependencies: ["Attacks", "Models", "Datasets", "Tokenization", "Randomness", "Storage", "TestSupport"]),
    .testTarget(name: "ReportsTests", dependencies: ["Reports"]),
    .testTarget(name: "FederatedTests", dependencies: ["Federated", "Tensors", "Layers", "Randomness", "TestSupport"]),
    .testTarget(name: "AuditTests", dependencies: ["Audit", "Models", "Tokenization", "Datasets", "Randomness", "TestSupport"]),
    .testTarget(name: "SecureAggregationTests", dependencies: ["SecureAggregation", "Federated", "Randomness"]),
    .testTarget(name: "DefensesTests", dependencies: ["Defenses", "Federated", "Layers", "Randomness", "Tensors", "TestSupport"]),
    .testTarget(name: "ExperimentsTests", dependencies: ["Experiments", "Attacks", "Defenses", "Federated", "Datasets", "Models", "Randomness", "Tokenization", "TestSupport"]),
    .testTarget(name: "FlowerClientTests", dependencies: ["FlowerClient", "FlowerProtos", "TestSupport"]),
    .testTarget(name: "BenchmarksTests", dependencies: ["Benchmarks", "Tensors", "TestSupport"]),
    .testTarget(name: "LabCommandsTests", dependencies: ["LabCommands", "Datasets", "Tokenization", "TestSupport"]),
  ]
)
