/// A small reader for the Prometheus text exposition format (0.0.4), enough to check what the
/// recorder renders: `# HELP` / `# TYPE` lines and `name{label="value",…} value` samples.
struct Exposition {
    struct Sample: Hashable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    struct ParseError: Error, CustomStringConvertible {
        var line: String
        var problem: String
        var description: String { "\(problem) in line: \(line)" }
    }

    private(set) var samples: [Sample] = []
    private(set) var types: [String: String] = [:]
    private(set) var help: [String: String] = [:]

    init(_ bytes: [UInt8]) throws {
        try self.init(String(decoding: bytes, as: UTF8.self))
    }

    init(_ text: String) throws {
        for line in text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) {
            if line.hasPrefix("# HELP ") {
                let rest = line.dropFirst("# HELP ".count)
                guard let space = rest.firstIndex(of: " ") else { throw ParseError(line: line, problem: "HELP without text") }
                help[String(rest[..<space])] = String(rest[rest.index(after: space)...])
            } else if line.hasPrefix("# TYPE ") {
                let parts = line.dropFirst("# TYPE ".count).split(separator: " ")
                guard parts.count == 2 else { throw ParseError(line: line, problem: "malformed TYPE") }
                types[String(parts[0])] = String(parts[1])
            } else if line.hasPrefix("#") {
                continue
            } else {
                samples.append(try Self.parseSample(line))
            }
        }
    }

    private static func parseSample(_ line: String) throws -> Sample {
        var rest = Substring(line)
        let nameEnd = rest.firstIndex { $0 == "{" || $0 == " " } ?? rest.endIndex
        let name = String(rest[..<nameEnd])
        guard !name.isEmpty else { throw ParseError(line: line, problem: "no metric name") }
        rest = rest[nameEnd...]
        var labels: [String: String] = [:]
        if rest.first == "{" {
            rest = rest.dropFirst()
            while rest.first != "}" {
                guard let equals = rest.firstIndex(of: "=") else { throw ParseError(line: line, problem: "label without =") }
                let key = String(rest[..<equals])
                rest = rest[rest.index(after: equals)...]
                guard rest.first == "\"" else { throw ParseError(line: line, problem: "unquoted label value") }
                rest = rest.dropFirst()
                var value = ""
                while let character = rest.first, character != "\"" {
                    rest = rest.dropFirst()
                    if character == "\\" {
                        guard let escaped = rest.first else { throw ParseError(line: line, problem: "dangling escape") }
                        rest = rest.dropFirst()
                        value.append(escaped == "n" ? "\n" : escaped)
                    } else {
                        value.append(character)
                    }
                }
                guard rest.first == "\"" else { throw ParseError(line: line, problem: "unterminated label value") }
                rest = rest.dropFirst()
                labels[key] = value
                if rest.first == "," { rest = rest.dropFirst() }
                guard !rest.isEmpty else { throw ParseError(line: line, problem: "unterminated label set") }
            }
            rest = rest.dropFirst()
        }
        guard rest.first == " " else { throw ParseError(line: line, problem: "no space before the value") }
        let fields = rest.dropFirst().split(separator: " ")
        guard fields.count == 1 || fields.count == 2 else { throw ParseError(line: line, problem: "bad value field") }
        let value: Double? =
            switch fields[0] {
            case "+Inf": .infinity
            case "-Inf": -.infinity
            case "NaN": .nan
            default: Double(fields[0])
            }
        guard let value else { throw ParseError(line: line, problem: "unparsable value") }
        return Sample(name: name, labels: labels, value: value)
    }

    /// The value of the one sample with exactly these labels, or `nil` if there is none.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }

    /// The samples of one metric name.
    func samples(named name: String) -> [Sample] {
        samples.filter { $0.name == name }
    }

    /// `_count` of a histogram series.
    func count(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        value(name + "_count", labels)
    }

    /// `_sum` of a histogram series.
    func sum(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        value(name + "_sum", labels)
    }

    /// The cumulative count of the bucket with upper bound `le` (as rendered, e.g. `"0.005"`).
    func bucket(_ name: String, le: String, _ labels: [String: String] = [:]) -> Double? {
        value(name + "_bucket", labels.merging(["le": le]) { $1 })
    }
}
