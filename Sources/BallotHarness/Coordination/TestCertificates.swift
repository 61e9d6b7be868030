import Foundation

/// A throw-away certificate authority and certificates for TLS tests, made with the `openssl`
/// command (Debian's `openssl` package): a CA, a server certificate for 127.0.0.1 and `localhost`
/// (usable as a client certificate too), and a client certificate without a CommonName, all signed by the CA.
public struct TestCertificates: Sendable {
    public let directory: String
    public var caCertificate: String { directory + "/ca.pem" }
    public var serverCertificate: String { directory + "/server.pem" }
    public var serverKey: String { directory + "/server-key.pem" }
    public var clientCertificate: String { directory + "/client.pem" }
    public var clientKey: String { directory + "/client-key.pem" }

    /// Makes the files in `directory` (created if needed). Throws with openssl's message if it fails.
    public static func make(in directory: String) async throws -> TestCertificates {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let certificates = TestCertificates(directory: directory)
        let extensions = directory + "/server.ext"
        try "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n"
            .write(toFile: extensions, atomically: true, encoding: .utf8)
        let clientExtensions = directory + "/client.ext"
        try "extendedKeyUsage=clientAuth\n".write(toFile: clientExtensions, atomically: true, encoding: .utf8)
        let steps: [[String]] = [
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", directory + "/ca-key.pem",
             "-out", certificates.caCertificate, "-days", "2", "-subj", "/CN=ballot test CA"],
            ["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", certificates.serverKey,
             "-out", directory + "/server.csr", "-subj", "/CN=127.0.0.1"],
            ["openssl", "x509", "-req", "-in", directory + "/server.csr", "-CA", certificates.caCertificate,
             "-CAkey", directory + "/ca-key.pem", "-CAcreateserial", "-out", certificates.serverCertificate,
             "-days", "2", "-extfile", extensions],
            // No CommonName: etcd's gateway refuses a client certificate with one while
            // authentication is on (the name would not be used as the user).
            ["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", certificates.clientKey,
             "-out", directory + "/client.csr", "-subj", "/O=ballot"],
            ["openssl", "x509", "-req", "-in", directory + "/client.csr", "-CA", certificates.caCertificate,
             "-CAkey", directory + "/ca-key.pem", "-CAcreateserial", "-out", certificates.clientCertificate,
             "-days", "2", "-extfile", clientExtensions],
        ]
        for step in steps { try await Subprocess.check(step, timeout: .seconds(30)) }
        return certificates
    }
}
