/// A logfmt reader for tests (an independent reading of what BallotServer's log handler writes):
/// `key=value` or `key="quoted \" value"` with `\n \r \t \" \\ \uXXXX` escapes, separated by spaces.
public enum LogfmtParser {
    public struct Malformed: Error, CustomStringConvertible {
        public let description: String
    }

    public static func parse(_ line: String) throws -> [String: String] {
        var fields: [String: String] = [:]
        var scalars = Substring(line).unicodeScalars[...]
        func take() -> Unicode.Scalar? { scalars.popFirst() }
        while !scalars.isEmpty {
            while scalars.first == " " { _ = take() }
            var key = ""
            while let next = scalars.first, next != "=" {
                guard next != " " else { throw Malformed(description: "key without value in \(line)") }
                key.unicodeScalars.append(take()!)
            }
            guard take() == "=", !key.isEmpty else { throw Malformed(description: "missing key in \(line)") }
            var value = ""
            if scalars.first == "\"" {
                _ = take()
                while true {
                    guard let next = take() else { throw Malformed(description: "unterminated quote in \(line)") }
                    if next == "\"" { break }
                    if next == "\\" {
                        switch take() {
                        case "n": value += "\n"
                        case "r": value += "\r"
                        case "t": value += "\t"
                        case "\"": value += "\""
                        case "\\": value += "\\"
                        case "u":
                            var hex = ""
                            for _ in 0..<4 { if let digit = take() { hex.unicodeScalars.append(digit) } }
                            guard let code = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(code) else {
                                throw Malformed(description: "bad \\u escape in \(line)")
                            }
                            value.unicodeScalars.append(scalar)
                        default: throw Malformed(description: "bad escape in \(line)")
                        }
                    } else {
                        value.unicodeScalars.append(next)
                    }
                }
            } else {
                while let next = scalars.first, next != " " { value.unicodeScalars.append(take()!) }
            }
            guard fields[key] == nil else { throw Malformed(description: "duplicate key \(key) in \(line)") }
            fields[key] = value
        }
        return fields
    }
}
