import Foundation

/// Throwaway certificates made with `openssl` for one test: a CA, a server certificate for
/// 127.0.0.1 and localhost, a client certificate from the same CA, and a client certificate from
/// an unrelated CA (which the server must refuse).
struct TestCertificates {
    let directory: String
    var ca: String { directory + "/ca.pem" }
    var serverCertificate: String { directory + "/server.pem" }
    var serverKey: String { directory + "/server-key.pem" }
    var clientCertificate: String { directory + "/client.pem" }
    var clientKey: String { directory + "/client-key.pem" }
    var rogueClientCertificate: String { directory + "/rogue-client.pem" }
    var rogueClientKey: String { directory + "/rogue-client-key.pem" }

    /// Creates them in a new directory (removed with ``remove()``).
    static func make() throws -> TestCertificates {
        let directory = NSTemporaryDirectory() + "ballot-http-certs-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let certificates = TestCertificates(directory: directory)
        try certificates.authority("ca", subject: "/CN=ballot test CA")
        try certificates.authority("rogue-ca", subject: "/CN=someone else's CA")
        try certificates.leaf("server", subject: "/CN=localhost", by: "ca",
                              extensions: "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth")
        try certificates.leaf("client", subject: "/CN=operator", by: "ca", extensions: "extendedKeyUsage=clientAuth")
        try certificates.leaf("rogue-client", subject: "/CN=intruder", by: "rogue-ca", extensions: "extendedKeyUsage=clientAuth")
        return certificates
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func authority(_ name: String, subject: String) throws {
        try openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                     "-keyout", "\(directory)/\(name)-key.pem", "-out", "\(directory)/\(name).pem", "-days", "2",
                     "-subj", subject, "-addext", "basicConstraints=critical,CA:TRUE",
                     "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
    }

    private func leaf(_ name: String, subject: String, by issuer: String, extensions: String) throws {
        let extensionFile = "\(directory)/\(name).ext"
        try extensions.write(toFile: extensionFile, atomically: true, encoding: .utf8)
        try openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                     "-keyout", "\(directory)/\(name)-key.pem", "-out", "\(directory)/\(name).csr", "-subj", subject])
        try openssl(["x509", "-req", "-in", "\(directory)/\(name).csr", "-CA", "\(directory)/\(issuer).pem",
                     "-CAkey", "\(directory)/\(issuer)-key.pem", "-CAcreateserial", "-days", "2",
                     "-extfile", extensionFile, "-out", "\(directory)/\(name).pem"])
    }

    private func openssl(_ arguments: [String]) throws {
        let result = try runTool("/usr/bin/openssl", arguments)
        guard result.status == 0 else { throw ToolFailure("openssl \(arguments.first ?? ""): \(result.stderr)") }
    }
}

struct ToolFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs a tool to completion (bounded: killed after `timeout`) and returns its exit status and output.
@discardableResult
func runTool(_ path: String, _ arguments: [String], timeout: TimeInterval = 20) throws
    -> (status: Int32, stdout: String, stderr: String)
{
    guard FileManager.default.isExecutableFile(atPath: path) else {
        throw ToolFailure("\(path) is not installed; scripts/test.sh installs it (curl, nghttp2-client, openssl, prometheus)")
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let stdout = Pipe()
    let stderr = Pipe()
    process.standardOutput = stdout
    process.standardError = stderr
    try process.run()
    // Read both pipes while the tool runs, so that a large output cannot block it.
    let group = DispatchGroup()
    nonisolated(unsafe) var out = Data()
    nonisolated(unsafe) var err = Data()
    DispatchQueue.global().async(group: group) { out = stdout.fileHandleForReading.readDataToEndOfFile() }
    DispatchQueue.global().async(group: group) { err = stderr.fileHandleForReading.readDataToEndOfFile() }
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline { usleep(10_000) }
    if process.isRunning {
        process.terminate()
        process.waitUntilExit()
    }
    group.wait()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
}
