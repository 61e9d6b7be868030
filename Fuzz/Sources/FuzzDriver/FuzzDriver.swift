import CFuzzerDriver

/// Starts libFuzzer from a fuzz target's entry point.
///
/// SwiftPM links an executable's `main` to a symbol named `<module>_main`, so that tests can link
/// executables too; libFuzzer's own `main` is then never used. Each target therefore defines
/// `<module>_main` itself and hands over to libFuzzer's driver here, with the same flags.
public func runLibFuzzer(
    _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>,
    _ target: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt {
    var argc = argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return LLVMFuzzerRunDriver(&argc, &argv, target)
}

/// The input libFuzzer passes, as a buffer (an empty input may come as a null pointer).
public func fuzzInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> UnsafeBufferPointer<UInt8> {
    UnsafeBufferPointer(start: size == 0 ? nil : data, count: size)
}
