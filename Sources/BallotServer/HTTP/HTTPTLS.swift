import NIOSSL

/// The files of the endpoint's TLS: `--http-tls-cert`, `--http-tls-key` and, optionally,
/// `--http-tls-client-ca`.
public struct HTTPTLSFiles: Sendable, Hashable {
    /// PEM: the server certificate first, then any intermediates.
    public var certificate: String
    /// PEM private key of the certificate.
    public var key: String
    /// PEM CA certificates; client certificates are verified against them, and a verified one
    /// counts as a credential for changes.
    public var clientCA: String?

    public init(certificate: String, key: String, clientCA: String? = nil) {
        self.certificate = certificate
        self.key = key
        self.clientCA = clientCA
    }
}

/// The TLS contexts of one endpoint, built once at start-up so that a bad file stops the node
/// before it binds.
struct HTTPTLSContexts: Sendable {
    /// Offers `h2` and `http/1.1` by ALPN.
    let serving: NIOSSLContext
    /// Offers only `http/1.1`: for connections over the cap, which get a plain 503 and are closed.
    let refusing: NIOSSLContext
    let verifiesClientCertificates: Bool

    /// TLS 1.2 or newer. A client certificate is asked for when a client CA is given; one that is
    /// presented and does not verify fails the handshake, and a client without one goes on to the
    /// HTTP layer, where routes that need a credential ask for the token (401).
    init(files: HTTPTLSFiles) throws(HTTPSetupError) {
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        var roots: [NIOSSLCertificate]?
        do throws(PEMFile.Problem) {
            chain = try PEMFile.certificates(files.certificate)
        } catch {
            throw .tlsFile(path: files.certificate, flag: "--http-tls-cert", detail: "\(error)")
        }
        do throws(PEMFile.Problem) {
            key = try PEMFile.privateKey(files.key)
        } catch {
            throw .tlsFile(path: files.key, flag: "--http-tls-key", detail: "\(error)")
        }
        if let ca = files.clientCA {
            do throws(PEMFile.Problem) {
                roots = try PEMFile.certificates(ca)
            } catch {
                throw .tlsFile(path: ca, flag: "--http-tls-client-ca", detail: "\(error)")
            }
        }
        func context(protocols: [String]) throws(HTTPSetupError) -> NIOSSLContext {
            var configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
            configuration.minimumTLSVersion = .tlsv12
            configuration.applicationProtocols = protocols
            if let roots {
                configuration.certificateVerification = .optionalVerification
                configuration.trustRoots = .certificates(roots)
                configuration.sendCANameList = true
            }
            do {
                return try NIOSSLContext(configuration: configuration)
            } catch {
                throw .tlsConfiguration("the certificate and key do not make a TLS context (\(error)); check that \(files.key) is the key of \(files.certificate)")
            }
        }
        serving = try context(protocols: ["h2", "http/1.1"])
        refusing = try context(protocols: ["http/1.1"])
        verifiesClientCertificates = roots != nil
    }
}
