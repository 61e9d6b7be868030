import BallotClient
import Foundation

/// One member of an etcd cluster as a client reaches it: a client URL, `http://HOST:PORT` or
/// `https://HOST:PORT` (TLS).
public struct EtcdEndpoint: Hashable, Sendable, CustomStringConvertible {
    public var usesTLS: Bool
    public var host: String
    public var port: Int

    public init(usesTLS: Bool, host: String, port: Int) {
        self.usesTLS = usesTLS
        self.host = host
        self.port = port
    }

    public init(parsing text: String) throws(EtcdConfigurationError) {
        let scheme: Bool
        let rest: Substring
        if text.hasPrefix("http://") {
            scheme = false
            rest = text.dropFirst("http://".count)
        } else if text.hasPrefix("https://") {
            scheme = true
            rest = text.dropFirst("https://".count)
        } else {
            throw .invalidEndpoint(text, "expected a client URL such as http://127.0.0.1:2379 or https://etcd-1:2379")
        }
        let authority = rest.hasSuffix("/") ? rest.dropLast() : rest
        guard !authority.contains("/"), !authority.contains("@"), !authority.contains("?") else {
            throw .invalidEndpoint(text, "give only scheme, host and port: no path, user or query")
        }
        let address: SocketAddressSpec
        do throws(AddressProblem) {
            address = try SocketAddressSpec(address: String(authority))
        } catch {
            throw .invalidEndpoint(text, "\(error)")
        }
        self.init(usesTLS: scheme, host: address.hostString, port: address.port)
    }

    public var description: String {
        "\(usesTLS ? "https" : "http")://\(host.contains(":") ? "[\(host)]" : host):\(port)"
    }

    /// Parses `URL[,URL…]`.
    public static func parseList(_ text: String) throws(EtcdConfigurationError) -> [EtcdEndpoint] {
        var endpoints: [EtcdEndpoint] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let entry = item.trimmingCharacters(in: .whitespaces)
            guard !entry.isEmpty else { throw .invalidEndpoint(text, "empty entry in the list") }
            endpoints.append(try EtcdEndpoint(parsing: entry))
        }
        return endpoints
    }
}

/// Files for TLS to etcd: the CA that signed the members' certificates (else the system's roots),
/// and a client certificate and key when etcd asks for one (`--client-cert-auth`).
public struct EtcdTLSFiles: Hashable, Sendable {
    public var caFile: String?
    public var certificateFile: String?
    public var keyFile: String?

    public init(caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil) {
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
    }

    public var isEmpty: Bool { caFile == nil && certificateFile == nil && keyFile == nil }
}

/// An etcd user name and password, read from a file so they never appear on a command line, in a
/// process listing, a log or `/status`. The password is never printed.
public struct EtcdCredentials: Hashable, Sendable, CustomStringConvertible {
    public var user: String
    public var password: String

    public init(user: String, password: String) {
        self.user = user
        self.password = password
    }

    /// The file holds one line, `USER:PASSWORD` (as `etcdctl --user`), at most 4 KiB.
    public init(contentsOfFile path: String) throws(EtcdConfigurationError) {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw .unreadableCredentials(path: path, "cannot open it; check the path and its permissions")
        }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: 4097)) ?? Data()
        guard data.count <= 4096 else { throw .unreadableCredentials(path: path, "larger than 4 KiB; is this the right file?") }
        guard let text = String(data: data, encoding: .utf8) else {
            throw .unreadableCredentials(path: path, "not UTF-8 text")
        }
        let line = text.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        let trimmed = line.hasSuffix("\r") ? String(line.dropLast()) : line
        guard let colon = trimmed.firstIndex(of: ":"), colon != trimmed.startIndex else {
            throw .unreadableCredentials(path: path, "expected one line USER:PASSWORD")
        }
        let password = String(trimmed[trimmed.index(after: colon)...])
        guard !password.isEmpty else { throw .unreadableCredentials(path: path, "the password after ':' is empty") }
        self.init(user: String(trimmed[..<colon]), password: password)
    }

    public var description: String { "user \(user) (password redacted)" }
}

/// How the etcd backend reaches its cluster and takes part in one election.
public struct EtcdBackendConfiguration: Hashable, Sendable {
    public var endpoints: [EtcdEndpoint]
    public var election: ElectionName
    /// The lease's time to live; etcd counts whole seconds. Kept alive every third of it.
    public var leaseTTL: Duration
    public var tls: EtcdTLSFiles
    /// The file the credentials are read from (the credentials themselves are read at start-up).
    public var credentialsFile: String?
    /// What the claim bound subtracts besides the clock-rate allowance: timer and scheduling slack.
    public var claimMargin: Duration

    public static let defaultLeaseTTL = Duration.seconds(5)
    public static let defaultClaimMargin = Duration.milliseconds(100)
    /// etcd refuses TTLs below its own minimum (about 1.5 election timeouts, rounded up) by raising
    /// them; a TTL above a day is a typo.
    public static let leaseTTLRange = Duration.seconds(1)...Duration.seconds(86_400)

    public init(endpoints: [EtcdEndpoint], election: ElectionName = .default, leaseTTL: Duration = Self.defaultLeaseTTL,
                tls: EtcdTLSFiles = EtcdTLSFiles(), credentialsFile: String? = nil,
                claimMargin: Duration = Self.defaultClaimMargin) throws(EtcdConfigurationError) {
        guard !endpoints.isEmpty else { throw .noEndpoints }
        guard Self.leaseTTLRange.contains(leaseTTL) else { throw .leaseTTLOutOfRange(leaseTTL) }
        guard leaseTTL.components.attoseconds == 0 else { throw .leaseTTLNotWholeSeconds(leaseTTL) }
        if !tls.isEmpty, !endpoints.contains(where: \.usesTLS) {
            throw .tlsFilesWithoutHTTPS
        }
        if (tls.certificateFile == nil) != (tls.keyFile == nil) { throw .certificateWithoutKey }
        let bound = ClaimBound(validity: leaseTTL, margin: claimMargin)
        // The claim must outlast the keep-alive interval, or it would lapse between two renewals.
        guard bound.window > leaseTTL / 3 else { throw .noRoomToClaim(ttl: leaseTTL, margin: claimMargin) }
        self.endpoints = endpoints
        self.election = election
        self.leaseTTL = leaseTTL
        self.tls = tls
        self.credentialsFile = credentialsFile
        self.claimMargin = claimMargin
    }

    /// The lease TTL in whole seconds, as etcd takes it.
    public var leaseTTLSeconds: Int64 { leaseTTL.components.seconds }
}

/// A configuration the etcd backend cannot work with; each message says what to change.
public enum EtcdConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    case invalidEndpoint(String, String)
    case noEndpoints
    case leaseTTLOutOfRange(Duration)
    case leaseTTLNotWholeSeconds(Duration)
    case tlsFilesWithoutHTTPS
    case certificateWithoutKey
    case noRoomToClaim(ttl: Duration, margin: Duration)
    case unreadableCredentials(path: String, String)
    case unreadableTLSFile(path: String, String)

    public var description: String {
        switch self {
        case .invalidEndpoint(let text, let problem): "etcd endpoint \(text.debugDescription): \(problem)"
        case .noEndpoints: "no etcd endpoint given; pass --etcd-endpoints http://HOST:PORT[,…]"
        case .leaseTTLOutOfRange(let ttl): "lease TTL \(ttl) is out of range; use 1s to 24h"
        case .leaseTTLNotWholeSeconds(let ttl): "lease TTL \(ttl) is not a whole number of seconds; etcd counts whole seconds"
        case .tlsFilesWithoutHTTPS: "TLS files were given but no etcd endpoint is https://; use https:// endpoints or drop the TLS files"
        case .certificateWithoutKey: "a client certificate needs its key and a key its certificate; give both --etcd-cert-file and --etcd-key-file"
        case .noRoomToClaim(let ttl, let margin):
            "lease TTL \(ttl) leaves no room to claim leadership between keep-alives (TTL × 0.95 − \(margin) must exceed TTL/3); raise the TTL"
        case .unreadableCredentials(let path, let problem): "etcd credentials file \(path): \(problem)"
        case .unreadableTLSFile(let path, let problem): "etcd TLS file \(path): \(problem)"
        }
    }
}
