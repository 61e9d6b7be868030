import BallotHarness
import Foundation
import Testing

/// The commented TLS scrape example in dashboards/prometheus.yml stays a valid configuration:
/// uncommented (with throwaway certificate files in place of its paths) promtool accepts it.
@Suite struct PrometheusTLSExampleTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    @Test func theCommentedTLSScrapeExampleIsAValidConfiguration() async throws {
        let text = try String(contentsOf: Self.root.appendingPathComponent("dashboards/prometheus.yml"), encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let start = try #require(lines.firstIndex { $0.hasPrefix("  # - job_name: ballot") }, "the TLS example is missing")
        var job: [String] = []
        for line in lines[start...] where line.hasPrefix("  #") {
            var uncommented = String(line.dropFirst(4))  // "  # "
            if uncommented.trimmingCharacters(in: .whitespaces).hasPrefix("# ") {
                uncommented = uncommented.replacing("# ", with: "", maxReplacements: 1)
            }
            job.append("  " + uncommented)
        }
        let certificates = try await ThrowawayCertificates.make()
        defer { certificates.remove() }
        var config = "scrape_configs:\n" + job.joined(separator: "\n") + "\n"
        config = config.replacing("/etc/prometheus/ballot-ca.pem", with: certificates.ca)
            .replacing("/etc/prometheus/ballot-client.pem", with: certificates.clientCertificate)
            .replacing("/etc/prometheus/ballot-client-key.pem", with: certificates.clientKey)
        #expect(config.contains("scheme: https") && config.contains("ca_file: \(certificates.ca)"), "\(config)")
        let path = certificates.directory + "/prometheus.yml"
        try config.write(toFile: path, atomically: true, encoding: .utf8)
        let result = await Subprocess.run(["promtool", "check", "config", path])
        #expect(result.succeeded, "promtool: \(result.output) \(result.error)\n\(config)")
    }
}
