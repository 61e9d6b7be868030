import Foundation

/// Throwaway certificates made with `openssl` for one test or benchmark run: a CA, a server
/// certificate for 127.0.0.1 and localhost (also usable as a client certificate, as an etcd member
/// uses its own), a client certificate from the same CA, one without a CommonName (etcd's JSON
/// gateway refuses a client certificate with one while its authentication is on), and a client
/// certificate from an unrelated CA (which a server must refuse). Valid for two days.
public struct ThrowawayCertificates: Sendable {
    public let directory: String
    public var ca: String { directory + "/ca.pem" }
    public var serverCertificate: String { directory + "/server.pem" }
    public var serverKey: String { directory + "/server-key.pem" }
    public var clientCertificate: String { directory + "/client.pem" }
    public var clientKey: String { directory + "/client-key.pem" }
    public var anonymousClientCertificate: String { directory + "/anonymous-client.pem" }
    public var anonymousClientKey: String { directory + "/anonymous-client-key.pem" }
    public var rogueClientCertificate: String { directory + "/rogue-client.pem" }
    public var rogueClientKey: String { directory + "/rogue-client-key.pem" }

    /// Creates them in a new directory under the system's temporary directory; ``remove()`` deletes it.
    public static func make() async throws -> ThrowawayCertificates {
        let directory = NSTemporaryDirectory() + "ballot-certs-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let certificates = ThrowawayCertificates(directory: directory)
        try await certificates.authority("ca", subject: "/CN=ballot throwaway CA")
        try await certificates.authority("rogue-ca", subject: "/CN=someone else's CA")
        try await certificates.leaf("server", subject: "/CN=localhost", by: "ca",
                                    extensions: "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth")
        try await certificates.leaf("client", subject: "/CN=operator", by: "ca", extensions: "extendedKeyUsage=clientAuth")
        try await certificates.leaf("anonymous-client", subject: "/O=ballot", by: "ca", extensions: "extendedKeyUsage=clientAuth")
        try await certificates.leaf("rogue-client", subject: "/CN=intruder", by: "rogue-ca", extensions: "extendedKeyUsage=clientAuth")
        // The server's key must be readable by this user only, as a real deployment keeps it.
        chmod(certificates.serverKey, 0o600)
        return certificates
    }

    public func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func authority(_ name: String, subject: String) async throws {
        try await openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                           "-keyout", "\(directory)/\(name)-key.pem", "-out", "\(directory)/\(name).pem", "-days", "2",
                           "-subj", subject, "-addext", "basicConstraints=critical,CA:TRUE",
                           "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
    }

    private func leaf(_ name: String, subject: String, by issuer: String, extensions: String) async throws {
        let extensionFile = "\(directory)/\(name).ext"
        try extensions.write(toFile: extensionFile, atomically: true, encoding: .utf8)
        try await openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                           "-keyout", "\(directory)/\(name)-key.pem", "-out", "\(directory)/\(name).csr", "-subj", subject])
        try await openssl(["x509", "-req", "-in", "\(directory)/\(name).csr", "-CA", "\(directory)/\(issuer).pem",
                           "-CAkey", "\(directory)/\(issuer)-key.pem", "-CAcreateserial", "-days", "2",
                           "-extfile", extensionFile, "-out", "\(directory)/\(name).pem"])
    }

    private func openssl(_ arguments: [String]) async throws {
        let result = await Subprocess.run(["openssl"] + arguments, timeout: .seconds(20))
        guard result.succeeded else {
            throw Subprocess.Failure(description: "openssl \(arguments.first ?? ""): \(result.error); install Debian's openssl")
        }
    }
}
