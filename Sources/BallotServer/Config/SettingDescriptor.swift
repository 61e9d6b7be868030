import BallotBackends
import Yams

/// Everything about one setting, in one value: its key (and so its flag and environment
/// variable), the field of ``NodeSettings`` it fills, how its values are written, its help text,
/// its default, whether it is secret, where it may come from, and which backends it applies to.
///
/// Built only by the catalogue (``ConfigurationKey/descriptor``); the flags' help, the YAML and
/// environment readers, `--print-config` and the settings table in docs/configuration.md all read
/// it, so a setting is described exactly once.
public struct SettingDescriptor {
    public let key: ConfigurationKey
    /// What the setting is, in words, for messages: "election timeout".
    public let displayName: String
    /// The help text of the flag, and the "Value" column of the docs table.
    public let help: String
    /// The default as the user would write it (`1s`), or what happens without a value (`off`);
    /// `nil` for settings without either.
    public let defaultText: String?
    /// A valid value as a flag takes it, for docs and for the test that proves every setting has a flag.
    public let example: String
    /// A secret's value is never printed (`--print-config` shows `<redacted>`). A *path* to a file
    /// holding a secret is not secret; mark the setting that holds the secret itself.
    public let isSecret: Bool
    public let sources: SettingSources
    /// The backends (`--backend`) the setting means something to: peers and Raft timing only to
    /// Ballot's own election, each coordination service's settings only to it. Given with another
    /// backend, the setting is refused rather than silently ignored.
    public let backends: Set<BackendKind>
    /// The placeholder in help text: `DURATION`.
    public let valueName: String
    /// Whether the flag is given once per item (`--peer`); the environment variable then takes a
    /// comma-separated list.
    public let isRepeatable: Bool
    /// Whether the value is `true`/`false`: a flag `--name` / `--no-name`.
    public let isBoolean: Bool

    private let parseInto: (inout NodeSettings, String) throws(ConfigurationError) -> Void
    private let appendInto: (inout NodeSettings, String) throws(ConfigurationError) -> Void
    private let readYAMLInto: (inout NodeSettings, Node) throws(ConfigurationError) -> Void
    private let isSetIn: (NodeSettings) -> Bool
    private let copyOver: (NodeSettings, inout NodeSettings) -> Void
    private let printIn: (NodeSettings) -> PrintedValue?

    init<Value>(
        _ key: ConfigurationKey, _ field: WritableKeyPath<NodeSettings, Value?>, _ kind: SettingKind<Value>,
        _ displayName: String, help: String, default defaultText: String? = nil, example: String,
        secret: Bool = false, sources: SettingSources = .all, backends: Set<BackendKind> = Set(BackendKind.allCases)
    ) {
        self.key = key
        self.displayName = displayName
        self.help = help
        self.defaultText = defaultText
        self.example = example
        self.isSecret = secret
        self.sources = sources
        self.backends = backends
        self.valueName = kind.valueName
        self.isRepeatable = kind.appendItem != nil
        self.isBoolean = Value.self == Bool.self
        parseInto = { settings, text throws(ConfigurationError) in settings[keyPath: field] = try kind.parse(text) }
        if let append = kind.appendItem {
            appendInto = { settings, text throws(ConfigurationError) in
                settings[keyPath: field] = try append(settings[keyPath: field], text)
            }
        } else {
            appendInto = { settings, text throws(ConfigurationError) in settings[keyPath: field] = try kind.parse(text) }
        }
        readYAMLInto = { settings, node throws(ConfigurationError) in settings[keyPath: field] = try kind.readYAML(node) }
        isSetIn = { $0[keyPath: field] != nil }
        copyOver = { source, target in
            if let value = source[keyPath: field] { target[keyPath: field] = value }
        }
        printIn = { settings in settings[keyPath: field].map(kind.print) }
    }

    // MARK: Reading values into settings

    /// Parses the whole value (an environment variable's text; a list for a repeatable setting).
    func parse(_ text: String, into settings: inout NodeSettings) throws(ConfigurationError) {
        try parseInto(&settings, text)
    }

    /// One flag occurrence: appends an item to a repeatable setting, replaces any other.
    func applyFlag(_ text: String, to settings: inout NodeSettings) throws(ConfigurationError) {
        try appendInto(&settings, text)
    }

    func readYAML(_ node: Node, into settings: inout NodeSettings) throws(ConfigurationError) {
        try readYAMLInto(&settings, node)
    }

    // MARK: Reading settings

    func isSet(in settings: NodeSettings) -> Bool { isSetIn(settings) }

    /// Puts `source`'s value, if it has one, in place of `target`'s.
    func copy(from source: NodeSettings, over target: inout NodeSettings) { copyOver(source, &target) }

    /// The value in `settings` as printed; secrets are never revealed.
    public func printed(in settings: NodeSettings) -> PrintedValue? {
        guard let value = printIn(settings) else { return nil }
        return isSecret ? .literal(Self.redacted) : value
    }

    /// What a secret's value is printed as.
    public static let redacted = "<redacted>"

    /// The help text, and the backends the setting is limited to if it is (`Only with --backend
    /// raft.`): what the flag's help and the docs table show.
    public var helpWithScope: String {
        guard backends != Set(BackendKind.allCases) else { return help }
        let names = BackendKind.allCases.filter(backends.contains).map(\.rawValue)
        return help + " Only with \(ConfigurationKey.backend.flag) " + names.joined(separator: " or ") + "."
    }

    /// The environment variable, if the setting may come from one.
    public var environmentVariable: String? { sources.contains(.environment) ? key.environmentVariable : nil }
}

/// Where a setting may come from.
public struct SettingSources: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let flag = SettingSources(rawValue: 1 << 0)
    public static let environment = SettingSources(rawValue: 1 << 1)
    public static let file = SettingSources(rawValue: 1 << 2)
    public static let all: SettingSources = [.flag, .environment, .file]
}
