import BallotCore

/// Where a node's configuration comes from, in order of precedence: command-line flags, then
/// `BALLOT_*` environment variables, then the YAML file, then the defaults. Each layer is kept, so
/// that every effective value can say where it came from (`--print-config`) and every error names
/// the flag, variable or file key the user actually wrote.
///
/// The file is named by `--config` or `BALLOT_CONFIG` (the flag wins). Within a layer a setting is
/// given once; between layers the higher one replaces the lower one's value whole (peers too).
public struct ConfigurationLayers: Sendable {
    public let program: NodeProgram
    public let flags: NodeSettings
    public let environment: NodeSettings
    public let file: NodeSettings
    /// The configuration file that was read, if any.
    public let filePath: String?
    public let warnings: [ConfigurationWarning]

    /// Reads the environment and the configuration file; nothing is validated yet.
    public init(program: NodeProgram, flags: NodeSettings, environment variables: [String: String]) throws(ConfigurationError) {
        let environment = try NodeSettings(environment: variables)
        let path = flags.config ?? environment.config
        self.init(
            program: program, flags: flags, environment: environment,
            file: try path.map { path throws(ConfigurationError) in try NodeSettings(contentsOfFile: path) } ?? NodeSettings(),
            filePath: path, warnings: NodeSettings.environmentWarnings(variables))
    }

    /// Layers already read (tests, tools).
    public init(
        program: NodeProgram, flags: NodeSettings = NodeSettings(), environment: NodeSettings = NodeSettings(),
        file: NodeSettings = NodeSettings(), filePath: String? = nil, warnings: [ConfigurationWarning] = []
    ) {
        self.program = program
        self.flags = flags
        self.environment = environment
        self.file = file
        self.filePath = filePath
        self.warnings = warnings
    }

    /// Every layer's settings, the higher over the lower.
    public var merged: NodeSettings { file.overridden(by: environment).overridden(by: flags) }

    /// Which layer gave `key`'s effective value.
    public func source(of key: ConfigurationKey) -> SettingSource {
        if flags.contains(key) { return .flag }
        if environment.contains(key) { return .environment }
        if file.contains(key) { return .file(path: filePath) }
        return .none
    }

    /// Where `key`'s value came from, for error messages; `nil` when it came from no layer.
    public func origin(of key: ConfigurationKey) -> SettingOrigin? {
        switch source(of: key) {
        case .flag: .flag(key)
        case .environment: .environment(key)
        case .file(let path): .file(key, path: path)
        case .none: nil
        }
    }

    /// The validated configuration, without touching the disk. `hostname` is read only for
    /// `id_from_hostname`.
    public func configuration(
        hostname: () throws(ConfigurationError) -> String = HostName.current
    ) throws(ConfigurationError) -> NodeConfiguration {
        let settings = merged
        if let algorithm = settings.algorithm, !program.algorithms.contains(algorithm), let origin = origin(of: .algorithm) {
            throw .algorithmNotOffered(algorithm, origin: origin, program: program.name)
        }
        let backend = settings.backend ?? .raft
        if let foreign = settings.settingNotFor(backend: backend) {
            throw .settingNotForBackend(foreign, backend, origin: origin(of: foreign))
        }
        return try NodeConfiguration(settings, hostname: hostname)
    }

    /// The validated configuration, with its data directory created and proven writable: what a
    /// node starts from.
    public func load() throws(ConfigurationError) -> NodeConfiguration {
        let configuration = try configuration()
        try configuration.checkDataDirectory()
        return configuration
    }
}

/// Which layer gave a setting its value.
public enum SettingSource: Hashable, Sendable, CustomStringConvertible {
    case flag
    case environment
    case file(path: String?)
    /// No layer: the default applies, or the value was derived from other settings.
    case none

    public var description: String {
        switch self {
        case .flag: "flag"
        case .environment: "environment"
        case .file(let path): path ?? "file"
        case .none: "default"
        }
    }
}

/// The program that runs a node, and the algorithms it offers its own peers: `ballotd` runs Raft
/// only (Bully and Ring have no quorum and no lease, so the deployable node does not offer them);
/// `ballot serve` runs all three, for comparison. Both take every `--backend`.
public struct NodeProgram: Hashable, Sendable {
    /// The name errors start with: `ballotd`, `ballot serve`.
    public let name: String
    public let algorithms: Set<ElectionAlgorithmKind>

    public static let ballotd = NodeProgram(name: "ballotd", algorithms: [.raft])
    public static let ballotServe = NodeProgram(name: "ballot serve", algorithms: Set(ElectionAlgorithmKind.allCases))

    /// Whether the program has an `--algorithm` flag.
    public var offersAlgorithmChoice: Bool { algorithms.count > 1 }
}
