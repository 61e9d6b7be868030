import NIOSSL

/// Where and how to reach a node's HTTP endpoint: `[http://|https://]HOST:PORT` plus, for
/// `https`, the CA that signed the node's certificate and an optional client certificate, and a
/// bearer token for routes that need one.
public struct HTTPTarget: Sendable, CustomStringConvertible {
    public var address: SocketAddressSpec
    public var tls: HTTPClientTLS?
    /// Sent as `Authorization: Bearer <token>`; never printed.
    public var bearerToken: String?

    public init(address: SocketAddressSpec, tls: HTTPClientTLS? = nil, bearerToken: String? = nil) {
        self.address = address
        self.tls = tls
        self.bearerToken = bearerToken
    }

    /// Parses `HOST:PORT`, `http://HOST:PORT` or `https://HOST:PORT` (a trailing `/` is allowed);
    /// `https` needs `tls`.
    public init(url text: String, tls: HTTPClientTLS? = nil, bearerToken: String? = nil) throws(HTTPTargetProblem) {
        var rest = Substring(text)
        var secure = false
        if rest.lowercased().hasPrefix("https://") {
            secure = true
            rest = rest.dropFirst(8)
        } else if rest.lowercased().hasPrefix("http://") {
            rest = rest.dropFirst(7)
        } else if rest.contains("://") {
            throw .unknownScheme(text)
        }
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        do {
            address = try SocketAddressSpec(address: String(rest))
        } catch {
            throw .badAddress(text, error)
        }
        if secure {
            if let tls { self.tls = tls } else { self.tls = try HTTPClientTLS() }
        } else {
            self.tls = nil
        }
        self.bearerToken = bearerToken
    }

    public var isSecure: Bool { tls != nil }

    public var description: String { "\(isSecure ? "https" : "http")://\(address)" }
}

public enum HTTPTargetProblem: Error, Sendable, CustomStringConvertible {
    case unknownScheme(String)
    case badAddress(String, AddressProblem)
    case tls(String)

    public var description: String {
        switch self {
        case .unknownScheme(let text): "\"\(text)\": use HOST:PORT, http://HOST:PORT or https://HOST:PORT"
        case .badAddress(let text, let problem): "\"\(text)\": \(problem)"
        case .tls(let detail): detail
        }
    }
}

/// The client side of HTTPS: whom to trust, and the client certificate to present, if any.
public struct HTTPClientTLS: Sendable {
    let context: NIOSSLContext

    /// - Parameters:
    ///   - caFile: PEM CA certificates that signed the node's certificate; nil trusts the system's.
    ///   - certificateFile, keyFile: a client certificate and its key, for a node that accepts
    ///     client certificates (`--http-tls-client-ca`).
    public init(caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil) throws(HTTPTargetProblem) {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        configuration.applicationProtocols = ["http/1.1"]
        do {
            if let caFile { configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile)) }
        } catch {
            throw .tls("CA file \(caFile ?? ""): not a readable PEM certificate (\(error))")
        }
        switch (certificateFile, keyFile) {
        case (let certificate?, let key?):
            do {
                configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) }
                configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
            } catch {
                throw .tls("client certificate \(certificate) or key \(key) unreadable (\(error))")
            }
        case (nil, nil): break
        default: throw .tls("a client certificate needs both the certificate and its key")
        }
        do {
            context = try NIOSSLContext(configuration: configuration)
        } catch {
            throw .tls("cannot build a TLS context (\(error))")
        }
    }
}
