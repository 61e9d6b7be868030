import BallotCore
import BallotServer
import FuzzDriver

/// The configuration loader on arbitrary input: the bytes as a YAML file (UTF-8 checked first,
/// as `NodeSettings(contentsOfFile:)` does), parsed and validated as `ballot serve` does without
/// touching the disk; and the first line as the value of a command-line setting.
///
/// Bad input must end in a `ConfigurationError` whose message can be rendered — never a trap,
/// a hang or a memory error.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfiguration(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzInput(data, size)
    guard let text = String(validating: bytes, as: UTF8.self) else { return 0 }
    do throws(ConfigurationError) {
        let file = try NodeSettings(yaml: text, path: "fuzz.yaml")
        let configuration = try NodeConfiguration(file: file, flags: NodeSettings())
        _ = configuration.membership
        _ = configuration.peerAddresses
    } catch {
        _ = error.description
    }
    // One command-line setting, chosen by the first byte, with the first line as its value.
    let keys = ConfigurationKey.allCases
    var flags = NodeSettings()
    let key = keys[Int(bytes.first ?? 0) % keys.count]
    let line = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
    do throws(ConfigurationError) {
        try flags.apply(flag: key, value: String(line))
    } catch {
        _ = error.description
    }
    return 0
}

/// The executable's entry point under SwiftPM's name for it; see `runLibFuzzer`.
@_cdecl("fuzz_configuration_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runLibFuzzer(argc, argv, fuzzConfiguration)
}
