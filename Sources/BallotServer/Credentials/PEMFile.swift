import Foundation
import NIOSSL

/// Certificates and private keys read from PEM files, for both TLS surfaces (the HTTP endpoint and
/// the peer protocol): a missing or unreadable file, text that is not PEM and a file without a
/// certificate are told apart, so that each surface's message can say which.
enum PEMFile {
    enum Problem: Error, Hashable, Sendable, CustomStringConvertible {
        /// Missing, or not readable by this process.
        case unreadable(String)
        /// Not PEM of the expected kind (BoringSSL's words in the detail).
        case notPEM(String)
        /// PEM, but without a single certificate.
        case noCertificate

        var description: String {
            switch self {
            case .unreadable(let reason): "cannot read it: \(reason)"
            case .notPEM(let detail): "not usable PEM (\(detail))"
            case .noCertificate: "it holds no certificate"
            }
        }
    }

    /// Every certificate in the file, in order (a leaf first, then its intermediates; or CAs).
    static func certificates(_ path: String) throws(Problem) -> [NIOSSLCertificate] {
        try checkReadable(path)
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMFile(path)
        } catch {
            throw .notPEM("\(error)")
        }
        guard !certificates.isEmpty else { throw .noCertificate }
        return certificates
    }

    static func privateKey(_ path: String) throws(Problem) -> NIOSSLPrivateKey {
        try checkReadable(path)
        do {
            return try NIOSSLPrivateKey(file: path, format: .pem)
        } catch {
            throw .notPEM("\(error)")
        }
    }

    private static func checkReadable(_ path: String) throws(Problem) {
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw .unreadable(FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file")
        }
    }
}
