// swift-tools-version: 6.1
import PackageDescription

let package = Package(
  name: "BackdoorLab",
  platforms: [.macOS(.v15)],
  products: [
    .executable(name: "backdoor-lab", targets: ["backdoor-lab"])
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2")
  ],
  targets: [
    // Plain C shim over ICU: its public header uses primitive types only (see ../shared/PITFALLS.md).
    .target(
      name: "CICU",
      exclude: ["README.md"],
      cSettings: [.unsafeFlags(["-O2"])],
      linkerSettings: [.linkedLibrary("icui18n"), .linkedLibrary("icuuc"), .linkedLibrary("icudata")]
    ),
    .target(name: "Randomness", exclude: ["README.md"]),
    .target(name: "Tokenization", dependencies: ["CICU"], exclude: ["README.md"]),
    .target(name: "Datasets", dependencies: ["Tokenization", "Randomness"], exclude: ["README.md"]),
    .target(
      name: "LabCommands",
      dependencies: [
        "Tokenization", "Datasets", "Randomness",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      exclude: ["README.md"]
    ),
    .executableTarget(name: "backdoor-lab", dependencies: ["LabCommands"]),

    .target(name: "TestSupport", path: "Tests/TestSupport"),
    .testTarget(name: "RandomnessTests", dependencies: ["Randomness"]),
    .testTarget(name: "TokenizationTests", dependencies: ["Tokenization", "TestSupport"]),
    .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "Tokenization", "TestSupport"]),
    .testTarget(name: "LabCommandsTests", dependencies: ["LabCommands", "Datasets", "Tokenization", "TestSupport"]),
  ]
)
