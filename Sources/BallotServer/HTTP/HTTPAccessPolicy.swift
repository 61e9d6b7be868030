#if canImport(Glibc)
import Glibc
#endif
import NIOHTTP1

/// The bearer token of `--http-token-file`. Its text is never printed: `description` and
/// `debugDescription` say `<redacted>`, and no error message quotes it.
public struct BearerToken: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    private let bytes: [UInt8]

    /// Shorter tokens could be guessed; 16 random characters are 80 bits or more.
    public static let minimumLength = 16
    /// Larger files are not tokens.
    public static let maximumFileSize = 4096

    /// `text` must be a token68 (RFC 7235: letters, digits and `-._~+/`, then `=` padding), so that
    /// it fits an `Authorization: Bearer` header as it is.
    public init(_ text: String) throws(HTTPSetupError.TokenProblem) {
        let bytes = Array(text.utf8)
        guard bytes.count >= Self.minimumLength else { throw .tooShort(bytes.count) }
        guard Self.isToken68(bytes) else { throw .notToken68 }
        self.bytes = bytes
    }

    /// Reads the token from `path`: one line (a trailing newline is dropped). Refuses a file that
    /// every user may read or write, as `ssh` refuses such a key.
    public static func load(path: String) throws(HTTPSetupError) -> BearerToken {
        var bytes: [UInt8]
        do throws(PrivateFile.Problem) {
            bytes = try PrivateFile.read(path, limit: maximumFileSize)
        } catch {
            switch error {
            case .unreadable(let reason): throw .tokenFile(path: path, .unreadable(reason))
            case .notARegularFile: throw .tokenFile(path: path, .notARegularFile)
            case .worldAccessible(let mode): throw .tokenFile(path: path, .worldAccessible(mode: mode))
            case .tooLarge: throw .tokenFile(path: path, .tooLarge)
            }
        }
        while let last = bytes.last, last == 0x0A || last == 0x0D { bytes.removeLast() }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .tokenFile(path: path, .notToken68) }
        do throws(HTTPSetupError.TokenProblem) {
            return try BearerToken(text)
        } catch {
            throw .tokenFile(path: path, error)
        }
    }

    /// Compares in time that depends only on the lengths, never on where the first difference is.
    public func matches(_ candidate: some Collection<UInt8>) -> Bool {
        var difference = UInt8(truncatingIfNeeded: bytes.count ^ candidate.count)
        var index = 0
        for byte in candidate {
            difference |= byte ^ bytes[index % bytes.count]
            index += 1
        }
        return difference == 0
    }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }

    private static func isToken68(_ bytes: [UInt8]) -> Bool {
        var padding = false
        for byte in bytes {
            if byte == UInt8(ascii: "=") {
                padding = true
                continue
            }
            let allowed = (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte)
                || Array("-._~+/".utf8).contains(byte)
            if !allowed || padding { return false }
        }
        return true
    }
}

/// Who may do what on the HTTP endpoint: `--http-token-file`, `--http-tls-client-ca` and
/// `--http-auth-reads`.
///
/// A route that changes the node needs a credential whenever one is configured: the bearer token,
/// or a client certificate that chains to the client CA. Reads need one only with
/// `--http-auth-reads`. With no credential configured, every route is open (as before this policy
/// existed), so a node on loopback keeps working without set-up.
public struct HTTPAccessPolicy: Sendable {
    public var token: BearerToken?
    /// Client certificates are verified against `--http-tls-client-ca`, and a verified one counts
    /// as a credential.
    public var acceptsClientCertificates: Bool
    public var authorizeReads: Bool

    public init(token: BearerToken? = nil, acceptsClientCertificates: Bool = false, authorizeReads: Bool = false) {
        self.token = token
        self.acceptsClientCertificates = acceptsClientCertificates
        self.authorizeReads = authorizeReads
    }

    public static let open = HTTPAccessPolicy()

    public enum Decision: Sendable, Equatable {
        case allowed
        /// No credential given: 401 with `WWW-Authenticate`.
        case missingCredential
        /// A credential was given and it is not the right one: 403.
        case wrongCredential
    }

    /// Whether a request for a route of `access`, with these headers on this connection, may proceed.
    public func decide(_ access: HTTPRouteAccess, headers: HTTPHeaders, connection: HTTPConnectionInfo) -> Decision {
        let hasCredentials = token != nil || acceptsClientCertificates
        let needed = hasCredentials && (access == .change || authorizeReads)
        guard needed else { return .allowed }
        if acceptsClientCertificates && connection.verifiedClientCertificate { return .allowed }
        guard let authorization = headers.first(name: "Authorization") else { return .missingCredential }
        guard let token, let presented = Self.bearerCredential(authorization) else { return .wrongCredential }
        return token.matches(presented) ? .allowed : .wrongCredential
    }

    /// The `WWW-Authenticate` challenge of a 401 (RFC 6750).
    public static let challenge = "Bearer realm=\"ballot\""

    /// The credential of an `Authorization: Bearer <token>` header (scheme case-insensitive), or
    /// nil for any other scheme.
    static func bearerCredential(_ header: String) -> Substring.UTF8View? {
        let trimmed = header.drop { $0 == " " }
        guard trimmed.utf8.count > 7, trimmed.prefix(6).lowercased() == "bearer",
              trimmed.dropFirst(6).first == " "
        else { return nil }
        return trimmed.dropFirst(7).drop { $0 == " " }.utf8
    }
}
