import BallotClient
import BallotCore
import Yams

/// How one kind of value is written: parsed from the text of a flag or an environment variable,
/// read from a YAML node, and printed back so that the printout parses to the same value.
///
/// A kind knows nothing of the setting it serves; ``SettingDescriptor`` binds it to a key and a
/// field of ``NodeSettings``. New settings mostly reuse a kind from here.
public struct SettingKind<Value> {
    /// The placeholder in help text and docs: `DURATION`, `HOST:PORT`.
    public let valueName: String
    /// What a YAML value must be, for "expected …, found …" messages.
    public let expected: String
    /// Parses one flag's or one environment variable's text.
    let parse: (String) throws(ConfigurationError) -> Value
    /// Reads a YAML node.
    let readYAML: (Node) throws(ConfigurationError) -> Value
    /// The value as it is printed (`--print-config`) and as a flag would take it.
    let print: (Value) -> PrintedValue
    /// For settings given once per item (`--peer` several times): adds one flag's item to what the
    /// earlier occurrences gave. `nil` for settings a later flag simply replaces.
    let appendItem: ((Value?, String) throws(ConfigurationError) -> Value)?

    init(
        valueName: String, expected: String, parse: @escaping (String) throws(ConfigurationError) -> Value,
        readYAML: ((Node) throws(ConfigurationError) -> Value)? = nil, print: @escaping (Value) -> PrintedValue,
        appendItem: ((Value?, String) throws(ConfigurationError) -> Value)? = nil
    ) {
        self.valueName = valueName
        self.expected = expected
        self.parse = parse
        if let readYAML {
            self.readYAML = readYAML
        } else {
            // By default a YAML value is any plain scalar, parsed like a flag's text.
            self.readYAML = { node throws(ConfigurationError) in try parse(YAMLValue.plainText(node, expected: expected)) }
        }
        self.print = print
        self.appendItem = appendItem
    }
}

/// A value as `--print-config` shows it: YAML, so that the printout reads like a file.
public enum PrintedValue: Hashable, Sendable {
    /// Text, quoted in YAML only where a plain scalar would read differently.
    case text(String)
    /// A number or a boolean, printed as is.
    case literal(String)
    /// A mapping, e.g. the peers `{2: "h:7002"}`, in the given order.
    case mapping([Entry])
    /// A list, e.g. accepted secret files, in the given order.
    case list([String])

    public struct Entry: Hashable, Sendable {
        public let key: String
        public let value: String
    }

    /// The value on one line, as a flag or an environment variable would take it (mappings as
    /// `ID=VALUE,…`, the environment's spelling of repeatable settings).
    public var flagText: String {
        switch self {
        case .text(let text), .literal(let text): text
        case .mapping(let entries): entries.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        case .list(let items): items.joined(separator: ",")
        }
    }
}

// MARK: - The kinds

extension SettingKind where Value == NodeID {
    /// A node ID: a positive whole number without leading zeros; a YAML integer in a file.
    static var nodeID: SettingKind {
        let expected = "a node ID (a positive whole number)"
        return SettingKind(
            valueName: "ID", expected: expected, parse: { text throws(ConfigurationError) in try NodeID(parsing: text) },
            readYAML: { node throws(ConfigurationError) in try NodeID(parsing: YAMLValue.integerText(node, expected: expected)) },
            print: { .literal("\($0)") })
    }
}

extension SettingKind where Value == Int {
    /// A whole number in plain decimal; a YAML integer in a file.
    static func integer(valueName: String, expected: String) -> SettingKind {
        SettingKind(
            valueName: valueName, expected: expected,
            parse: { text throws(ConfigurationError) in try parseInteger(text) },
            readYAML: { node throws(ConfigurationError) in try parseInteger(YAMLValue.integerText(node, expected: expected)) },
            print: { .literal("\($0)") })
    }

    /// Digits only, no sign, no leading zeros (YAML 1.1 reads `010` as octal 8).
    static func parseInteger(_ text: String) throws(ConfigurationError) -> Int {
        guard text.isCanonicalDecimal, let value = Int(text) else { throw .invalidInteger(text) }
        return value
    }
}

extension SettingKind where Value == Duration {
    /// `500ms`, `1.5s`, `2m` (``DurationParser``); in a file a string with its unit, never a bare number.
    static var duration: SettingKind {
        let expected = "a duration with a unit, such as 1s or 500ms"
        return SettingKind(
            valueName: "DURATION", expected: expected,
            parse: { text throws(ConfigurationError) in try DurationParser.parse(text) },
            readYAML: { node throws(ConfigurationError) in try DurationParser.parse(YAMLValue.durationText(node, expected: expected)) },
            print: { .text(DurationParser.format($0)) })
    }
}

extension SettingKind where Value == SocketAddressSpec {
    /// `HOST:PORT`.
    static var address: SettingKind {
        SettingKind(
            valueName: "HOST:PORT", expected: "an address such as 127.0.0.1:7001",
            parse: { text throws(ConfigurationError) in try SocketAddressSpec(parsing: text) },
            print: { .text("\($0)") })
    }
}

extension SettingKind where Value == String {
    /// Text taken as written, checked by `validate` (e.g. a path that must not be empty).
    static func text(
        valueName: String, expected: String, validate: @escaping (String) throws(ConfigurationError) -> Void = { _ in }
    ) -> SettingKind {
        SettingKind(
            valueName: valueName, expected: expected,
            parse: { text throws(ConfigurationError) in
                try validate(text)
                return text
            },
            print: { .text($0) })
    }
}

extension SettingKind where Value == String {
    /// A file path: any non-empty text. (A path is never secret; what the file holds may be.)
    static var filePath: SettingKind {
        .text(valueName: "FILE", expected: "a file path") { text throws(ConfigurationError) in
            guard !text.isEmpty else { throw .emptyPath }
        }
    }
}

extension SettingKind where Value == [String] {
    /// File paths given one per flag (`--cluster-secret-also-accept A --cluster-secret-also-accept B`),
    /// as a comma-separated list in the environment, and as a YAML list in a file.
    static var filePaths: SettingKind {
        let expected = "a list of file paths"
        let path: (String) throws(ConfigurationError) -> String = { text throws(ConfigurationError) in
            guard !text.isEmpty else { throw .emptyPath }
            return text
        }
        return SettingKind(
            valueName: "FILE", expected: expected,
            parse: { text throws(ConfigurationError) in
                var list: [String] = []
                for item in text.split(separator: ",", omittingEmptySubsequences: false) { list.append(try path(String(item))) }
                return list
            },
            readYAML: { node throws(ConfigurationError) in
                guard case .sequence(let sequence) = node else {
                    throw .wrongType(expected: expected, found: YAMLValue.describe(node))
                }
                var list: [String] = []
                for item in sequence { list.append(try path(YAMLValue.plainText(item, expected: "a file path"))) }
                return list
            },
            print: { .list($0) },
            appendItem: { earlier, text throws(ConfigurationError) in (earlier ?? []) + [try path(text)] })
    }
}

extension SettingKind where Value == ClusterName {
    static var clusterName: SettingKind {
        SettingKind(
            valueName: "NAME", expected: "a cluster name",
            parse: { text throws(ConfigurationError) in try ClusterName(configured: text) },
            print: { .text($0.rawValue) })
    }
}

extension SettingKind where Value == Bool {
    /// `true` or `false`; in a file a YAML boolean. A flag `--name` sets it, `--no-name` clears it.
    static var boolean: SettingKind {
        let expected = "true or false"
        return SettingKind(
            valueName: "BOOL", expected: expected,
            parse: { text throws(ConfigurationError) in
                switch text {
                case "true": return true
                case "false": return false
                default: throw .invalidBoolean(text)
                }
            },
            readYAML: { node throws(ConfigurationError) in
                guard case .scalar(let scalar) = node, YAMLValue.tagName(node) == .bool,
                      let value = Bool.construct(from: scalar)
                else { throw .wrongType(expected: expected, found: YAMLValue.describe(node)) }
                return value
            },
            print: { .literal($0 ? "true" : "false") })
    }
}

extension SettingKind where Value: CaseIterable & RawRepresentable, Value.RawValue == String {
    /// One of a fixed set of lower-case names, e.g. `info`.
    static func choice(
        valueName: String, parse: ((String) throws(ConfigurationError) -> Value)? = nil
    ) -> SettingKind {
        let names = Value.allCases.map(\.rawValue)
        let expected = names.dropLast().joined(separator: ", ") + " or " + (names.last ?? "")
        let byName: (String) throws(ConfigurationError) -> Value
        if let parse {
            byName = parse
        } else {
            byName = { text throws(ConfigurationError) in
                guard let value = Value(rawValue: text) else { throw .unknownChoice(text, allowed: names) }
                return value
            }
        }
        return SettingKind(valueName: valueName, expected: expected, parse: byName, print: { .text($0.rawValue) })
    }
}

extension SettingKind where Value == [PeerAddress] {
    /// The other members: a flag per member (`--peer 2=HOST:PORT`), a comma-separated list in the
    /// environment (`2=HOST:PORT,3=HOST:PORT`), a mapping `{ID: "HOST:PORT"}` in a file.
    static var peers: SettingKind {
        SettingKind(
            valueName: "ID=HOST:PORT", expected: "a mapping of node IDs to addresses, e.g. {2: \"127.0.0.1:7002\"}",
            parse: { text throws(ConfigurationError) in
                var list: [PeerAddress] = []
                for item in text.split(separator: ",", omittingEmptySubsequences: false) {
                    list.append(try PeerAddress(parsing: String(item)))
                }
                return list
            },
            readYAML: { node throws(ConfigurationError) in
                guard case .mapping(let mapping) = node else {
                    throw .wrongType(
                        expected: "a mapping of node IDs to addresses, e.g. {2: \"127.0.0.1:7002\"}",
                        found: YAMLValue.describe(node))
                }
                var list: [PeerAddress] = []
                for (idNode, addressNode) in mapping {
                    let idText = try YAMLValue.plainText(idNode, expected: "a node ID as the key")
                    let id = try NodeID(parsing: idText)
                    let addressText = try YAMLValue.plainText(
                        addressNode, expected: "the address of peer \(idText), e.g. \"127.0.0.1:7002\"")
                    list.append(PeerAddress(id: id, address: try SocketAddressSpec(parsing: addressText)))
                }
                return list
            },
            print: { peers in .mapping(peers.map { PrintedValue.Entry(key: "\($0.id)", value: "\($0.address)") }) },
            appendItem: { earlier, text throws(ConfigurationError) in (earlier ?? []) + [try PeerAddress(parsing: text)] })
    }
}

extension SettingKind where Value == PeerAddressTemplate {
    /// A peer address with `{ordinal}` or `{id}` in it, e.g. `ballot-{ordinal}.ballot-peers:7001`.
    static var peerAddressTemplate: SettingKind {
        SettingKind(
            valueName: "TEMPLATE", expected: "an address template such as \"ballot-{ordinal}.ballot-peers:7001\"",
            parse: { text throws(ConfigurationError) in try PeerAddressTemplate(parsing: text) },
            print: { .text($0.text) })
    }
}

/// Reading the kinds of YAML value the settings use, and describing a value for error messages.
enum YAMLValue {
    static func tagName(_ node: Node) -> Tag.Name { Tag.Name(rawValue: node.tag.rawValue) }

    /// A YAML integer's text, e.g. `1`.
    static func integerText(_ node: Node, expected: String) throws(ConfigurationError) -> String {
        guard case .scalar(let scalar) = node, tagName(node) == .int else {
            throw .wrongType(expected: expected, found: describe(node))
        }
        return scalar.string
    }

    /// A duration must be text with a unit; a bare number is refused rather than guessed at.
    static func durationText(_ node: Node, expected: String) throws(ConfigurationError) -> String {
        guard case .scalar(let scalar) = node, tagName(node) == .str else {
            throw .wrongType(expected: expected, found: describe(node))
        }
        return scalar.string
    }

    /// Any scalar that is not null or a boolean, as written: `cluster: 2024` is the name "2024".
    static func plainText(_ node: Node, expected: String) throws(ConfigurationError) -> String {
        guard case .scalar(let scalar) = node, tagName(node) != .null, tagName(node) != .bool else {
            throw .wrongType(expected: expected, found: describe(node))
        }
        return scalar.string
    }

    /// What a node is, for "expected …, found …" messages.
    static func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar):
            switch tagName(node) {
            case .null: "nothing (null)"
            case .bool: "the boolean \(scalar.string)"
            case .int: "the integer \(scalar.string)"
            case .float: "the number \(scalar.string)"
            default: "the text \"\(scalar.string)\""
            }
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }
}

extension SettingKind where Value == UInt16 {
    /// A leadership priority: a whole number from 0 to 65535; a YAML integer in a file.
    static var priority: SettingKind {
        let expected = "a priority from 0 to 65535"
        let parse = { (text: String) throws(ConfigurationError) -> UInt16 in
            guard text.isCanonicalDecimal else { throw .invalidInteger(text) }
            guard let value = UInt16(text) else { throw .priorityOutOfRange(text) }
            return value
        }
        return SettingKind(
            valueName: "N", expected: expected, parse: parse,
            readYAML: { node throws(ConfigurationError) in try parse(YAMLValue.integerText(node, expected: expected)) },
            print: { .literal("\($0)") })
    }
}
