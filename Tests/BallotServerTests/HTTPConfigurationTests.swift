import BallotClient
import Testing

@testable import BallotServer

/// The HTTP surface's settings: every key as a flag and in YAML, defaults, and the combinations
/// that are refused.
@Suite struct HTTPConfigurationTests {
    static func base() throws -> NodeSettings {
        var settings = NodeSettings()
        try settings.apply(flag: .id, value: "1")
        try settings.apply(flag: .listen, value: "127.0.0.1:7001")
        try settings.apply(flag: .http, value: "127.0.0.1:9101")
        try settings.apply(flag: .dataDirectory, value: "/tmp/ballot-http-config")
        return settings
    }

    @Test func defaults() throws {
        let configuration = try NodeConfiguration(try Self.base())
        #expect(configuration.http == HTTPConfiguration())
        #expect(configuration.http.limits.idleTimeout == .seconds(60))
        #expect(configuration.http.limits.maxConnections == 1024)
        #expect(configuration.http.tls == nil && configuration.http.tokenFile == nil && !configuration.http.authorizeReads)
    }

    @Test func everyHTTPFlagAndItsYAMLKeySetTheSameThing() throws {
        let values: [(ConfigurationKey, String, String)] = [
            (.adminHTTP, "127.0.0.1:9201", "127.0.0.1:9201"),
            (.httpIdleTimeout, "5s", "5s"), (.httpRequestTimeout, "2s", "2s"),
            (.httpMaxHeadSize, "8192", "8192"), (.httpMaxConnections, "6000", "6000"), (.httpMaxStreams, "50", "50"),
            (.httpTLSCert, "/etc/ballot/http.pem", "/etc/ballot/http.pem"),
            (.httpTLSKey, "/etc/ballot/http-key.pem", "/etc/ballot/http-key.pem"),
            (.httpTLSClientCA, "/etc/ballot/clients.pem", "/etc/ballot/clients.pem"),
            (.httpTokenFile, "/etc/ballot/token", "/etc/ballot/token"), (.httpAuthReads, "true", "true"),
        ]
        var flags = try Self.base()
        var yaml = ""
        for (key, flag, yamlValue) in values {
            try flags.apply(flag: key, value: flag)
            #expect(key.flag == "--" + key.yamlKey.replacing("_", with: "-"))
            yaml += "\(key.yamlKey): \(yamlValue)\n"
        }
        let file = try NodeSettings(yaml: yaml)
        let fromFlags = try NodeConfiguration(flags)
        let fromFile = try NodeConfiguration(try Self.base().overridden(by: file))
        #expect(fromFlags.http == fromFile.http)
        #expect(fromFlags.http.limits == HTTPLimits(idleTimeout: .seconds(5), requestTimeout: .seconds(2), maxHeadSize: 8192,
                                                    maxConnections: 6000, maxStreams: 50))
        #expect(fromFlags.http.tls == HTTPTLSFiles(certificate: "/etc/ballot/http.pem", key: "/etc/ballot/http-key.pem",
                                                   clientCA: "/etc/ballot/clients.pem"))
        #expect(fromFlags.http.authorizeReads && fromFlags.http.tokenFile == "/etc/ballot/token")
        #expect(fromFlags.http.adminAddress == (try SocketAddressSpec(parsing: "127.0.0.1:9201")))
    }

    @Test func refusesIncompleteOrContradictorySettings() throws {
        func refused(_ change: (inout NodeSettings) throws -> Void) throws -> ConfigurationError? {
            var settings = try Self.base()
            try change(&settings)
            do {
                _ = try NodeConfiguration(settings)
                return nil
            } catch {
                return error
            }
        }
        #expect(try refused { try $0.apply(flag: .httpTLSCert, value: "/c.pem") } == .incompleteHTTPTLS(given: .httpTLSCert, missing: .httpTLSKey))
        #expect(try refused { try $0.apply(flag: .httpTLSClientCA, value: "/ca.pem") } == .clientCAWithoutTLS)
        #expect(try refused { try $0.apply(flag: .httpAuthReads, value: "true") } == .authorizedReadsWithoutCredential)
        #expect(try refused { try $0.apply(flag: .httpMaxConnections, value: "0") }
            == .httpLimitOutOfRange(.httpMaxConnections, value: "0", allowed: "1…1000000"))
        #expect(try refused { try $0.apply(flag: .httpMaxHeadSize, value: "100") } != nil)
        #expect(try refused { try $0.apply(flag: .httpIdleTimeout, value: "10ms") } != nil)
        #expect(try refused { try $0.apply(flag: .adminHTTP, value: "127.0.0.1:9101") }
            == .sharedAddress(try SocketAddressSpec(parsing: "127.0.0.1:9101"), .http(1), .adminHTTP(1)))
        var flags = NodeSettings()
        #expect(throws: ConfigurationError.invalidSetting(.flag(.httpAuthReads), .invalidBoolean("yes please"))) {
            try flags.apply(flag: .httpAuthReads, value: "yes please")
        }
        #expect(throws: ConfigurationError.self) { try NodeSettings(yaml: "http_auth_reads: maybe") }
        #expect(throws: ConfigurationError.self) { try NodeSettings(yaml: "http_idle_timeout: 60") }
    }
}
