import BallotClient
import BallotRuntime
/// Parses and prints durations such as `500ms`, `1s`, `1.5s` and `2m`.
///
/// The grammar is `DIGITS [ "." DIGITS ] UNIT` with UNIT one of `ms`, `s`, `m`, no spaces and no
/// sign. There is no microsecond unit: the node's timers tick in whole milliseconds (see
/// ``NodeConfiguration/tickInterval``), so a finer unit would only invite settings that cannot be
/// honoured. Values are exact to the nanosecond (no floating point), must be positive, and must fit
/// in a signed 64-bit count of nanoseconds.
public enum DurationParser {
    /// Units in the order the error messages list them, with their length in nanoseconds.
    static let units: [(name: String, nanoseconds: UInt64)] = [
        ("ms", 1_000_000),
        ("s", 1_000_000_000),
        ("m", 60_000_000_000),
    ]

    /// "ms, s or m".
    static var unitNames: String {
        let names = units.map(\.name)
        return names.dropLast().joined(separator: ", ") + " or " + names.last!
    }

    public static func parse(_ text: String) throws(ConfigurationError) -> Duration {
        func fail(_ problem: DurationProblem) -> ConfigurationError { .invalidDuration(text, problem) }

        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { throw fail(.empty) }
        guard !text.contains(where: \.isWhitespace) else { throw fail(.containsWhitespace) }
        guard bytes[0] != UInt8(ascii: "-") else { throw fail(.negative) }

        var index = 0
        let integerStart = index
        while index < bytes.count, bytes[index].isASCIIDigit { index += 1 }
        let integerDigits = bytes[integerStart..<index]
        var fractionDigits = bytes[index..<index]
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            let fractionStart = index
            while index < bytes.count, bytes[index].isASCIIDigit { index += 1 }
            fractionDigits = bytes[fractionStart..<index]
            guard !integerDigits.isEmpty, !fractionDigits.isEmpty else { throw fail(.malformedNumber) }
        }
        guard !integerDigits.isEmpty else {
            // Something before any digit: a sign, a letter, a second point.
            throw index == 0 && bytes[0].isASCIILetter ? fail(.missingNumber) : fail(.malformedNumber)
        }

        let unit = String(decoding: bytes[index...], as: UTF8.self)
        guard !unit.isEmpty else { throw fail(.missingUnit) }
        guard let multiplier = units.first(where: { $0.name == unit })?.nanoseconds else {
            // A second decimal point or other digits-and-dots debris is a number problem, not a unit.
            if unit.first == "." { throw fail(.malformedNumber) }
            throw fail(.unknownUnit(unit))
        }

        // Whole part: digits × unit, with overflow checks.
        var whole: UInt64 = 0
        for digit in integerDigits {
            let (times10, o1) = whole.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(digit - UInt8(ascii: "0")))
            guard !o1, !o2 else { throw fail(.tooLarge) }
            whole = sum
        }
        let (wholeNanoseconds, o3) = whole.multipliedReportingOverflow(by: multiplier)
        guard !o3 else { throw fail(.tooLarge) }

        // Fraction: exactly fraction × unit / 10^digits, which must come out whole.
        var fraction = fractionDigits
        while fraction.last == UInt8(ascii: "0") { fraction = fraction.dropLast() }
        var fractionNanoseconds: UInt64 = 0
        if !fraction.isEmpty {
            // A unit is below 10^11 ns, so a non-zero digit beyond the 11th place is finer than 1 ns.
            guard fraction.count <= 11 else { throw fail(.tooPrecise) }
            var numerator: UInt64 = 0
            var denominator: UInt64 = 1
            for digit in fraction {
                numerator = numerator * 10 + UInt64(digit - UInt8(ascii: "0"))
                denominator *= 10
            }
            // numerator < 10^11 and multiplier < 10^11: the product fits in 128 bits, the quotient
            // (below the multiplier) in 64.
            let product = multiplier.multipliedFullWidth(by: numerator)
            let (quotient, remainder) = denominator.dividingFullWidth(product)
            guard remainder == 0 else { throw fail(.tooPrecise) }
            fractionNanoseconds = quotient
        }

        let (total, o4) = wholeNanoseconds.addingReportingOverflow(fractionNanoseconds)
        guard !o4, total <= UInt64(Int64.max) else { throw fail(.tooLarge) }
        guard total > 0 else { throw fail(.zero) }
        return .nanoseconds(Int64(total))
    }

    /// Prints a duration in the same notation, so that every printed value parses back exactly:
    /// whole minutes as `2m`, from a second up as seconds (`1.5s`), below as milliseconds (`0.5ms`).
    public static func format(_ duration: Duration) -> String {
        guard let nanoseconds = duration.wholeNanoseconds else { return "\(duration)" }
        if nanoseconds < 0 { return "-" + format(.nanoseconds(-nanoseconds)) }
        if nanoseconds == 0 { return "0ms" }
        let minute: Int64 = 60_000_000_000
        if nanoseconds % minute == 0 { return "\(nanoseconds / minute)m" }
        if nanoseconds >= 1_000_000_000 { return decimal(nanoseconds, unit: 1_000_000_000, places: 9) + "s" }
        return decimal(nanoseconds, unit: 1_000_000, places: 6) + "ms"
    }

    private static func decimal(_ value: Int64, unit: Int64, places: Int) -> String {
        let whole = value / unit
        let remainder = value % unit
        guard remainder != 0 else { return String(whole) }
        var digits = String(remainder)
        digits = String(repeating: "0", count: places - digits.count) + digits
        while digits.last == "0" { digits.removeLast() }
        return "\(whole).\(digits)"
    }
}
