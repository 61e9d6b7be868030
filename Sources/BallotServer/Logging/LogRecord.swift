import Logging

/// One log record, and its one line in each ``LogFormat``.
///
/// Keys are stable so that collectors can rely on them: `ts` (RFC 3339, UTC, milliseconds),
/// `level`, `msg`, then `node`, `term` and `event` when the record has them, then every other
/// metadata key in alphabetical order. A record is always exactly one line: newlines and other
/// control characters in the message or in values are escaped, never written.
public struct LogRecord: Sendable {
    public var timestamp: WallClockTime
    public var level: Logger.Level
    public var message: String
    public var metadata: Logger.Metadata

    public init(timestamp: WallClockTime, level: Logger.Level, message: String, metadata: Logger.Metadata = [:]) {
        self.timestamp = timestamp
        self.level = level
        self.message = message
        self.metadata = metadata
    }

    /// The keys every record starts with, in order.
    public static let fixedKeys = ["ts", "level", "msg"]
    /// Metadata keys that come right after the fixed ones, in this order, when present.
    public static let leadingKeys = ["node", "term", "event"]

    /// The line for `format`, without the trailing newline.
    public func line(_ format: LogFormat) -> String {
        switch format {
        case .text: textLine
        case .json: jsonLine
        case .logfmt: logfmtLine
        }
    }

    /// Metadata in record order: the leading keys, then the rest alphabetically. A metadata key
    /// that collides with a fixed key is renamed `meta_<key>` rather than dropped.
    var orderedMetadata: [(key: String, value: Logger.MetadataValue)] {
        var rest = metadata
        var ordered: [(key: String, value: Logger.MetadataValue)] = []
        for key in Self.leadingKeys {
            if let value = rest.removeValue(forKey: key) { ordered.append((key, value)) }
        }
        for (key, value) in rest.sorted(by: { $0.key < $1.key }) {
            ordered.append((Self.fixedKeys.contains(key) ? "meta_" + key : key, value))
        }
        return ordered
    }

    // MARK: Formats

    /// `2025-01-31T12:00:00.123Z notice  leader elected node=1 term=7 event=leader_elected leader=2`.
    var textLine: String {
        var line = timestamp.rfc3339 + " " + level.rawValue.padding(to: 8) + " " + LogEscaping.oneLine(message)
        for (key, value) in orderedMetadata {
            line += " " + LogEscaping.logfmtKey(key) + "=" + LogEscaping.logfmtValue(value.flatText)
        }
        return line
    }

    /// `ts=2025-01-31T12:00:00.123Z level=notice msg="leader elected" node=1 term=7 …`.
    var logfmtLine: String {
        var fields = ["ts=" + timestamp.rfc3339, "level=" + level.rawValue, "msg=" + LogEscaping.logfmtValue(message)]
        for (key, value) in orderedMetadata {
            fields.append(LogEscaping.logfmtKey(key) + "=" + LogEscaping.logfmtValue(value.flatText))
        }
        return fields.joined(separator: " ")
    }

    /// `{"ts":"…","level":"notice","msg":"leader elected","node":"1",…}`. Values are JSON strings
    /// (arrays and dictionaries of metadata stay arrays and objects), so a key's type never varies.
    var jsonLine: String {
        var line = "{\"ts\":" + LogEscaping.jsonString(timestamp.rfc3339)
        line += ",\"level\":" + LogEscaping.jsonString(level.rawValue)
        line += ",\"msg\":" + LogEscaping.jsonString(message)
        for (key, value) in orderedMetadata {
            line += "," + LogEscaping.jsonString(key) + ":" + value.json
        }
        return line + "}"
    }
}

extension Logger.MetadataValue {
    /// The value as one string (`[a, b]` for arrays), for text and logfmt.
    var flatText: String {
        switch self {
        case .string(let text): text
        case .stringConvertible(let value): value.description
        case .array(let values): "[" + values.map(\.flatText).joined(separator: ", ") + "]"
        case .dictionary(let values):
            "[" + values.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value.flatText)" }.joined(separator: ", ") + "]"
        }
    }

    var json: String {
        switch self {
        case .string(let text): LogEscaping.jsonString(text)
        case .stringConvertible(let value): LogEscaping.jsonString(value.description)
        case .array(let values): "[" + values.map(\.json).joined(separator: ",") + "]"
        case .dictionary(let values):
            "{" + values.sorted { $0.key < $1.key }.map { LogEscaping.jsonString($0.key) + ":" + $0.value.json }
                .joined(separator: ",") + "}"
        }
    }
}

/// Escaping that keeps a record on one line in every format.
enum LogEscaping {
    /// JSON string literal (RFC 8259): quotes, backslashes and every control character escaped;
    /// U+2028 and U+2029 too, which some JavaScript-based readers take for line ends.
    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{2028}", "\u{2029}": out += "\\u" + hex4(scalar.value)
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\\u" + hex4(scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// A logfmt value: bare when it is a non-empty run of printable characters without spaces,
    /// `"` or `=`; otherwise quoted, with `\"`, `\\`, `\n`, `\r`, `\t` and `\u00XX` escapes.
    static func logfmtValue(_ text: String) -> String {
        let bare = !text.isEmpty && text.unicodeScalars.allSatisfy { scalar in
            scalar.value > 0x20 && scalar.value != 0x7F && scalar != "\"" && scalar != "=" && scalar != "\\"
                && scalar != "\u{2028}" && scalar != "\u{2029}"
        }
        if bare { return text }
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{2028}", "\u{2029}": out += "\\u" + hex4(scalar.value)
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\\u" + hex4(scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// A logfmt key: letters, digits, `_`, `.` and `-`; anything else becomes `_`.
    static func logfmtKey(_ key: String) -> String {
        guard !key.isEmpty else { return "_" }
        return String(String.UnicodeScalarView(key.unicodeScalars.map { scalar in
            let allowed = (scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)))
                || scalar == "_" || scalar == "." || scalar == "-"
            return allowed ? scalar : "_"
        }))
    }

    /// Text on one line, for the message of a text record: control characters escaped as in JSON.
    static func oneLine(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F || $0 == "\u{2028}" || $0 == "\u{2029}" })
        else { return text }
        let quoted = jsonString(text)
        return String(quoted.dropFirst().dropLast())
    }

    private static func hex4(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(4 - digits.count, 0)) + digits
    }
}

extension String {
    fileprivate func padding(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
