/// ASCII tests for the hand-written parsers (addresses, durations, node IDs): byte-exact, so no
/// Unicode digit or letter slips through.
extension UInt8 {
    package var isASCIIDigit: Bool { self >= UInt8(ascii: "0") && self <= UInt8(ascii: "9") }
    package var isASCIILetter: Bool {
        (self >= UInt8(ascii: "a") && self <= UInt8(ascii: "z")) || (self >= UInt8(ascii: "A") && self <= UInt8(ascii: "Z"))
    }
}

extension StringProtocol {
    /// `0`, or digits not starting with `0`.
    package var isCanonicalDecimal: Bool {
        guard let first = utf8.first, utf8.allSatisfy(\.isASCIIDigit) else { return false }
        return first != UInt8(ascii: "0") || utf8.count == 1
    }
}
