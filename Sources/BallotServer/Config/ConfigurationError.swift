import BallotBackends
import BallotClient
import BallotCore
import BallotZooKeeper

/// Everything that can be wrong with a node's configuration. Each message says what is wrong and
/// what to do about it.
public enum ConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    // Values that do not parse.
    case invalidDuration(String, DurationProblem)
    case invalidAddress(String, AddressProblem)
    case invalidNodeID(String)
    case invalidPeer(String, PeerProblem)
    case invalidClusterName(String, ClusterNameProblem)
    case invalidInteger(String)
    case unknownAlgorithm(String)
    case invalidBoolean(String)
    case emptyPath
    /// A name outside a fixed set, e.g. a log level.
    case unknownChoice(String, allowed: [String])
    case invalidPeerAddressTemplate(String, PeerAddressTemplateProblem)
    /// A YAML value of the wrong kind; `found` describes what was there, e.g. `the integer 1000`.
    case wrongType(expected: String, found: String)
    /// A value that did not parse, and the flag or key it was given for.
    indirect case invalidSetting(SettingOrigin, ConfigurationError)

    // The configuration file.
    case unreadableConfigurationFile(path: String, reason: String)
    case malformedYAML(path: String?, detail: String)
    case configurationNotAMapping(path: String?)
    case unknownKey(String, path: String?, suggestion: ConfigurationKey?)
    /// A setting that only a flag or the environment may give (`config`).
    case notAFileSetting(ConfigurationKey, path: String?)

    // Settings that parse but do not make a working node.
    case missingSetting(ConfigurationKey)
    /// Two settings that say the same thing two ways (`id` and `id_from_hostname`).
    case conflictingSettings(ConfigurationKey, ConfigurationKey)
    /// A setting that means nothing without another (`members` without `peer_address_template`).
    case incompleteSettings(given: ConfigurationKey, missing: ConfigurationKey)
    /// An algorithm this program does not run (`ballotd` runs Raft only).
    case algorithmNotOffered(ElectionAlgorithmKind, origin: SettingOrigin, program: String)
    case hostnameWithoutOrdinal(String)
    case hostnameUnavailable(SystemCallError)
    case memberCountOutOfRange(Int)
    case nodeOutsideMembers(NodeID, members: Int)
    case nodeAmongPeers(NodeID)
    case duplicatePeer(NodeID)
    case wildcardPeerAddress(NodeID, SocketAddressSpec)
    case sharedAddress(SocketAddressSpec, AddressOwner, AddressOwner)
    case maxFrameSizeOutOfRange(Int)
    case heartbeatTooShort(Duration)
    case heartbeatTooLong(heartbeat: Duration, electionTimeout: Duration)
    case electionTimeoutTooShort(electionTimeout: Duration, tick: Duration)
    case electionTimeoutTooLong(Duration)
    case dataDirectoryUnusable(path: String, DataDirectoryProblem)
    // Peer trust.
    case incompletePeerTLS(missing: [ConfigurationKey])
    case acceptedSecretsWithoutSecret
    case peerHandshakeTimeoutOutOfRange(Duration)
    case maxPendingHandshakesOutOfRange(Int)
    /// A peer listener off loopback with neither TLS nor a secret, and no `--insecure-peers`.
    case unauthenticatedPeers(listen: SocketAddressSpec)
    /// An HTTP limit outside what the endpoint can honour; `allowed` says what is.
    case httpLimitOutOfRange(ConfigurationKey, value: String, allowed: String)
    /// One of the TLS certificate and key without the other.
    case incompleteHTTPTLS(given: ConfigurationKey, missing: ConfigurationKey)
    case clientCAWithoutTLS
    case authorizedReadsWithoutCredential
    case priorityOutOfRange(String)
    case invalidAdvertisedURL(String)
    case preemptionWindowTooShort(preemptAfter: Duration, electionTimeout: Duration)
    /// Priorities and eligibility (issue 15) belong to Raft's election only.
    case candidacyNeedsRaft(ElectionAlgorithmKind)
    case resignHoldOffTooLong(Duration)
    /// A lease cap under two heartbeats or above what the election timeout allows.
    case leaseDurationOutOfRange(Duration, shortest: Duration, longest: Duration)
    case leaseDurationNeedsRaft(ElectionAlgorithmKind)

    // Election backends.
    case invalidElectionName(String, ElectionNameProblem)
    case invalidZooKeeperServers(ZooKeeperConfigurationError)
    /// A setting that only another backend uses, e.g. `--listen` with `--backend etcd`; `origin`
    /// names where it was given, when that is known.
    case settingNotForBackend(ConfigurationKey, BackendKind, origin: SettingOrigin? = nil)
    case etcd(EtcdConfigurationError)
    case zooKeeper(ZooKeeperBackendConfigurationError)

    public var description: String {
        switch self {
        case .invalidDuration(let text, let problem):
            "\"\(text)\": \(problem)"
        case .invalidAddress(let text, let problem):
            "\"\(text)\": \(problem)"
        case .invalidNodeID(let text):
            "\"\(text)\" is not a node ID; use a positive whole number without leading zeros, such as 1"
        case .invalidPeer(let text, let problem):
            "\"\(text)\": \(problem)"
        case .invalidClusterName(let text, let problem):
            "cluster name \"\(text)\": \(problem)"
        case .invalidInteger(let text):
            "\"\(text)\" is not a whole number; write digits only, without leading zeros, e.g. 65536"
        case .unknownAlgorithm(let text):
            "unknown election algorithm \"\(text)\"; use "
                + ElectionAlgorithmKind.allCases.map(\.rawValue).joined(separator: ", ")
        case .invalidBoolean(let text):
            "\"\(text)\" is not a boolean; write true or false"
        case .emptyPath:
            "the path is empty; give a file path"
        case .unknownChoice(let text, let allowed):
            "unknown value \"\(text)\"; use " + allowed.dropLast().joined(separator: ", ") + " or " + (allowed.last ?? "")
        case .invalidPeerAddressTemplate(let text, let problem):
            "peer address template \"\(text)\": \(problem)"
        case .wrongType(let expected, let found):
            "expected \(expected), found \(found)"
        case .invalidSetting(let origin, let error):
            "\(origin): \(error)"

        case .unreadableConfigurationFile(let path, let reason):
            "cannot read configuration file \(path): \(reason); check the path given to --config"
        case .malformedYAML(let path, let detail):
            "\(path ?? "configuration") is not valid YAML: \(detail)"
        case .configurationNotAMapping(let path):
            "\(path ?? "the configuration") must be a YAML mapping of settings, e.g. `id: 1`; "
                + "see docs/configuration.md"
        case .unknownKey(let key, let path, let suggestion):
            "unknown key \"\(key)\" in \(path ?? "the configuration")"
                + (suggestion.map { "; did you mean \"\($0.yamlKey)\"?" }
                    ?? "; known keys are " + ConfigurationKey.fileKeys.map(\.yamlKey).joined(separator: ", "))
        case .notAFileSetting(let key, let path):
            "\(key.yamlKey) cannot be set in \(path ?? "a configuration file"); "
                + "pass \(key.flag) or set \(key.environmentVariable)"

        case .missingSetting(let key):
            "no \(key.displayName) given; "
                + "pass \(key.flag), set \(key.environmentVariable) or set \(key.yamlKey): in the configuration file"
                + (key == .id ? " (or derive it from a StatefulSet pod's hostname with \(ConfigurationKey.idFromHostname.flag))" : "")
        case .conflictingSettings(let first, let second):
            "both \(first.yamlKey) and \(second.yamlKey) are set, and they say the same thing two ways; set only one "
                + "(--print-config shows where each value comes from)"
        case .incompleteSettings(let given, let missing):
            "\(given.yamlKey) is set but \(missing.yamlKey) is not; set both (\(given.flag) and \(missing.flag)), or neither"
        case .algorithmNotOffered(let algorithm, let origin, let program):
            "\(origin): \(program) runs Raft only; \(algorithm) has no quorum and no lease and is offered only for "
                + "comparison: run it with `ballot serve --algorithm \(algorithm)` (or `ballot local --algorithm \(algorithm)`)"
        case .hostnameWithoutOrdinal(let hostname):
            "the hostname \"\(hostname)\" does not end in a StatefulSet ordinal -N (such as ballot-0), so "
                + "\(ConfigurationKey.idFromHostname.yamlKey) cannot derive a node ID from it; give \(ConfigurationKey.id.flag) instead"
        case .hostnameUnavailable(let error):
            "cannot read the hostname for \(ConfigurationKey.idFromHostname.yamlKey) (\(error)); give \(ConfigurationKey.id.flag) instead"
        case .memberCountOutOfRange(let count):
            "\(count) members is out of range; use 1…\(StatefulSetIdentity.maximumMembers)"
        case .nodeOutsideMembers(let id, let members):
            "node \(id) is not among the \(members) members (nodes 1…\(members)); raise \(ConfigurationKey.members.flag) "
                + "or check the node ID"
        case .nodeAmongPeers(let id):
            "node \(id) lists itself among its peers; give only the other members with \(ConfigurationKey.peers.flag)"
        case .duplicatePeer(let id):
            "peer \(id) is given more than once; give each member exactly once"
        case .wildcardPeerAddress(let id, let address):
            "peer \(id) has the wildcard address \(address), which no node can connect to; "
                + "give the address peer \(id) is reachable at"
        case .sharedAddress(let address, let first, let second):
            "\(address) is used by both \(first) and \(second); every member and endpoint needs its own address"
        case .maxFrameSizeOutOfRange(let size):
            "max frame size \(size) is out of range; use \(NodeConfiguration.maxFrameSizeRange.lowerBound)"
                + "…\(NodeConfiguration.maxFrameSizeRange.upperBound) bytes"
        case .heartbeatTooShort(let heartbeat):
            "heartbeat interval \(DurationParser.format(heartbeat)) is shorter than the 1ms timer resolution; "
                + "use at least 1ms"
        case .heartbeatTooLong(let heartbeat, let timeout):
            "heartbeat interval \(DurationParser.format(heartbeat)) is more than a third of the election timeout "
                + "\(DurationParser.format(timeout)), so a follower could time out between heartbeats; "
                + "lower the heartbeat interval to at most \(DurationParser.format(timeout / 3)) "
                + "or raise the election timeout to at least \(DurationParser.format(heartbeat * 3))"
        case .electionTimeoutTooShort(let timeout, let tick):
            "election timeout \(DurationParser.format(timeout)) is shorter than "
                + "\(NodeConfiguration.minimumElectionTimeoutTicks) ticks of \(DurationParser.format(tick)); "
                + "raise it to at least \(DurationParser.format(tick * Int(NodeConfiguration.minimumElectionTimeoutTicks)))"
        case .electionTimeoutTooLong(let timeout):
            "election timeout \(DurationParser.format(timeout)) is longer than "
                + "\(DurationParser.format(NodeConfiguration.maximumElectionTimeout)); a failed leader would go "
                + "unnoticed for that long; use a shorter timeout"
        case .dataDirectoryUnusable(let path, let problem):
            "data directory \"\(path)\": \(problem); choose another with \(ConfigurationKey.dataDirectory.flag)"
        case .incompletePeerTLS(let missing):
            "mutual TLS needs a certificate, its key and the CA; also give "
                + missing.map { "\($0.flag) (\($0.yamlKey))" }.joined(separator: " and ")
        case .acceptedSecretsWithoutSecret:
            "\(ConfigurationKey.clusterSecretAlsoAccept.flag) only adds secrets to accept beside the one this node "
                + "proves with; give \(ConfigurationKey.clusterSecretFile.flag) too"
        case .peerHandshakeTimeoutOutOfRange(let timeout):
            "peer handshake deadline \(DurationParser.format(timeout)) is out of range; use "
                + "\(DurationParser.format(PeerTrustConfiguration.handshakeTimeoutRange.lowerBound))…"
                + "\(DurationParser.format(PeerTrustConfiguration.handshakeTimeoutRange.upperBound))"
        case .maxPendingHandshakesOutOfRange(let count):
            "\(count) connections still handshaking is out of range; use "
                + "\(PeerTrustConfiguration.maxPendingHandshakesRange.lowerBound)…"
                + "\(PeerTrustConfiguration.maxPendingHandshakesRange.upperBound)"
        case .unauthenticatedPeers(let listen):
            "the peer listener \(listen) is not a loopback address, and peers would not have to prove who they "
                + "are: anyone who can reach it could depose the leader. Give mutual TLS (\(ConfigurationKey.peerTLSCertificate.flag), "
                + "\(ConfigurationKey.peerTLSKey.flag), \(ConfigurationKey.peerTLSCA.flag); `ballot certs` makes them) "
                + "and/or a cluster secret (\(ConfigurationKey.clusterSecretFile.flag)), or pass "
                + "\(ConfigurationKey.insecurePeers.flag) to run without on a network you trust (docs/security.md)"
        case .httpLimitOutOfRange(let key, let value, let allowed):
            "\(key.displayName) \(value) is out of range; use \(allowed) (\(key.flag), \(key.yamlKey):)"
        case .incompleteHTTPTLS(let given, let missing):
            "\(given.flag) is given without \(missing.flag); HTTP over TLS needs both the certificate and its key"
        case .clientCAWithoutTLS:
            "\(ConfigurationKey.httpTLSClientCA.flag) needs TLS on the endpoint: give \(ConfigurationKey.httpTLSCert.flag) and \(ConfigurationKey.httpTLSKey.flag) too"
        case .authorizedReadsWithoutCredential:
            "\(ConfigurationKey.httpAuthReads.flag) needs a credential to check: give \(ConfigurationKey.httpTokenFile.flag) or \(ConfigurationKey.httpTLSClientCA.flag)"
        case .priorityOutOfRange(let text):
            "priority \(text) is out of range; use a whole number from 0 (the default, lowest) to 65535"
        case .invalidAdvertisedURL(let text):
            "\(text.debugDescription) is not an advertisable URL; give the http:// or https:// URL other members and "
                + "clients reach this node's HTTP endpoint at, at most 255 characters without spaces, e.g. http://10.0.0.1:9101"
        case .preemptionWindowTooShort(let window, let timeout):
            "preemption window \(DurationParser.format(window)) is shorter than the election timeout "
                + "\(DurationParser.format(timeout)); a member must prove itself healthy for at least that long, "
                + "so use at least \(DurationParser.format(timeout)) (\(ConfigurationKey.preemptAfter.flag), default 30s)"
        case .candidacyNeedsRaft(let algorithm):
            "\(algorithm.rawValue) has no leadership priorities or eligibility; drop \(ConfigurationKey.priority.flag) "
                + "or run --algorithm raft"
        case .leaseDurationOutOfRange(let lease, let shortest, let longest):
            "lease duration \(DurationParser.format(lease)) is out of range: use from \(DurationParser.format(shortest)) "
                + "(two heartbeat intervals, so one late heartbeat does not end the lease) to \(DurationParser.format(longest)) "
                + "(the longest the election timeout allows), or drop \(ConfigurationKey.leaseDuration.flag) for the longest"
        case .leaseDurationNeedsRaft(let algorithm):
            "\(algorithm.rawValue) has no lease to cap; drop \(ConfigurationKey.leaseDuration.flag) or run --algorithm raft"
        case .resignHoldOffTooLong(let holdOff):
            "resign hold-off \(DurationParser.format(holdOff)) is longer than 5m; a node that should not lead for longer "
                + "is made ineligible instead (PUT /candidacy) (\(ConfigurationKey.resignHoldOff.flag))"
        case .invalidElectionName(let text, let problem):
            "election name \"\(text)\": \(problem)"
        case .invalidZooKeeperServers(let error):
            "\(error)"
        case .settingNotForBackend(let key, let backend, let origin):
            Self.notForBackend(key, backend, given: origin?.description ?? key.flag)
        case .etcd(let error):
            "\(error)"
        case .zooKeeper(let error):
            "\(error)"
        }
    }

    private static func notForBackend(_ key: ConfigurationKey, _ backend: BackendKind, given: String) -> String {
        if backend != .raft, key.backends == [.raft] {
            let service = backend == .etcd ? "etcd" : "ZooKeeper"
            let advice = key == .listen || key == .peers
                ? "drop \(ConfigurationKey.listen.flag) and \(ConfigurationKey.peers.flag)" : "drop it"
            return "\(given) is not used with \(ConfigurationKey.backend.flag) \(backend): a node elected through \(service) "
                + "has no peers, no peer listener and no Raft timers; \(advice)"
        }
        let users = BackendKind.allCases.filter(key.backends.contains).map(\.rawValue).joined(separator: " or ")
        return "\(given) applies only to \(ConfigurationKey.backend.flag) \(users), not \(backend); drop it"
    }
}

/// What is wrong with a duration such as `500ms`.
public enum DurationProblem: Hashable, Sendable, CustomStringConvertible {
    case empty
    case containsWhitespace
    case missingNumber
    case malformedNumber
    case missingUnit
    case unknownUnit(String)
    case negative
    case zero
    case tooPrecise
    case tooLarge

    public var description: String {
        let units = DurationParser.unitNames
        return switch self {
        case .empty: "empty duration; write a number and a unit, e.g. 500ms or 1s"
        case .containsWhitespace: "a duration has no spaces; write it as e.g. 500ms"
        case .missingNumber: "missing number before the unit; write e.g. 500ms or 1s"
        case .malformedNumber: "malformed number; write digits with at most one decimal point, e.g. 1.5s"
        case .missingUnit: "missing unit; use \(units), e.g. 500ms"
        case .unknownUnit(let unit): "unknown unit '\(unit)'; use \(units)"
        case .negative: "a duration cannot be negative"
        case .zero: "a duration must be greater than zero"
        case .tooPrecise: "finer than one nanosecond; round it"
        case .tooLarge: "too large; use at most a few minutes"
        }
    }
}

/// What is wrong with a peer address template such as `ballot-{ordinal}.ballot-peers:7001`.
public enum PeerAddressTemplateProblem: Hashable, Sendable, CustomStringConvertible {
    case unclosedPlaceholder
    case unknownPlaceholder(String)
    case noPlaceholder
    case notAnAddress(String, AddressProblem)

    public var description: String {
        let known = PeerAddressTemplate.placeholders.joined(separator: " or ")
        return switch self {
        case .unclosedPlaceholder: "a placeholder's { has no closing }"
        case .unknownPlaceholder(let name): "unknown placeholder \(name); use \(known)"
        case .noPlaceholder: "it names no member; put \(known) where the addresses differ"
        case .notAnAddress(let text, let problem): "for node 1 it reads \"\(text)\", which is not an address: \(problem)"
        }
    }
}

/// What is wrong with a peer given as `ID=HOST:PORT`.
public enum PeerProblem: Hashable, Sendable, CustomStringConvertible {
    case missingSeparator
    case invalidNodeID(String)
    case invalidAddress(AddressProblem)

    public var description: String {
        switch self {
        case .missingSeparator: "expected ID=HOST:PORT, e.g. 2=127.0.0.1:7002"
        case .invalidNodeID(let text):
            "\"\(text)\" is not a node ID; use a positive whole number without leading zeros, e.g. 2=127.0.0.1:7002"
        case .invalidAddress(let problem): "bad address: \(problem)"
        }
    }
}

/// Why a data directory cannot be used.
public enum DataDirectoryProblem: Hashable, Sendable, CustomStringConvertible {
    case empty
    case cannotCreate(SystemCallError)
    case notWritable(SystemCallError)

    public var description: String {
        switch self {
        case .empty: "the path is empty"
        case .cannotCreate(let error): "cannot create it (\(error))"
        case .notWritable(let error): "cannot write to it (\(error))"
        }
    }
}

/// Who uses an address, for messages about two users of one address.
public enum AddressOwner: Hashable, Sendable, CustomStringConvertible {
    /// This node's peer listener.
    case listener(NodeID)
    /// This node's HTTP endpoint.
    case http(NodeID)
    /// This node's admin HTTP endpoint.
    case adminHTTP(NodeID)
    case peer(NodeID)

    public var description: String {
        switch self {
        case .listener(let id): "node \(id)'s peer listener (\(ConfigurationKey.listen.flag))"
        case .http(let id): "node \(id)'s HTTP endpoint (\(ConfigurationKey.http.flag))"
        case .adminHTTP(let id): "node \(id)'s admin HTTP endpoint (\(ConfigurationKey.adminHTTP.flag))"
        case .peer(let id): "peer \(id)"
        }
    }
}
