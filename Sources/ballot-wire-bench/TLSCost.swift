import BallotCertificates
import BallotCore
import BallotWire
import CMallocCounter
import NIOCore
import NIOEmbedded
import NIOSSL

/// What mutual TLS adds per frame: a heartbeat frame sealed by one side's TLS 1.3 handler and
/// opened by the other's, in memory (two embedded channels, no sockets), so the figure is the
/// cryptography and record framing alone; and one full mutual handshake with P-256 certificates.
enum TLSCost {
    struct Pair {
        let client: EmbeddedChannel
        let server: EmbeddedChannel
    }

    /// Two channels with TLS handlers for node 1 (dialling) and node 2 (accepting), certificates
    /// from one CA, TLS 1.3 only, each verifying the other's chain: the node's configuration.
    static func makePair() throws -> Pair {
        let cluster = try ClusterName("bench")
        let authority = try CertificateAuthority(commonName: "bench CA")
        let ca = try NIOSSLCertificate(bytes: Array(authority.certificatePEM.utf8), format: .pem)
        func configuration(_ node: NodeID, server: Bool) throws -> TLSConfiguration {
            let issued = try authority.issue(for: PeerIdentity(clusterName: cluster, node: node))
            let chain = [NIOSSLCertificateSource.certificate(
                try NIOSSLCertificate(bytes: Array(issued.certificatePEM.utf8), format: .pem))]
            let key = NIOSSLPrivateKeySource.privateKey(try NIOSSLPrivateKey(bytes: Array(issued.keyPEM.utf8), format: .pem))
            var configuration = server
                ? TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: key)
                : TLSConfiguration.makeClientConfiguration()
            configuration.certificateChain = chain
            configuration.privateKey = key
            configuration.minimumTLSVersion = .tlsv13
            configuration.maximumTLSVersion = .tlsv13
            configuration.certificateVerification = .noHostnameVerification
            configuration.trustRoots = .certificates([ca])
            return configuration
        }
        let client = EmbeddedChannel()
        let server = EmbeddedChannel()
        try client.pipeline.syncOperations.addHandler(
            NIOSSLClientHandler(context: NIOSSLContext(configuration: configuration(1, server: false)), serverHostname: nil))
        try server.pipeline.syncOperations.addHandler(
            NIOSSLServerHandler(context: NIOSSLContext(configuration: configuration(2, server: true))))
        return Pair(client: client, server: server)
    }

    /// Moves every pending outbound byte of each channel into the other until both are quiet.
    static func shuttle(_ pair: Pair) throws {
        for _ in 0..<50 {
            var moved = false
            while let bytes = try pair.client.readOutbound(as: ByteBuffer.self) {
                try pair.server.writeInbound(bytes)
                moved = true
            }
            while let bytes = try pair.server.readOutbound(as: ByteBuffer.self) {
                try pair.client.writeInbound(bytes)
                moved = true
            }
            if !moved { return }
        }
    }

    /// An embedded channel becomes active when "connected"; the TLS handlers then start their handshake.
    static func activate(_ pair: Pair) throws {
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: 7001)
        try pair.client.connect(to: address).wait()
        try pair.server.connect(to: address).wait()
    }

    static func connect() throws -> Pair {
        let pair = try makePair()
        try activate(pair)
        try shuttle(pair)
        return pair
    }

    static func run(iterations: Int) throws {
        let frame = PeerFrame.message(.heartbeat(Heartbeat(
            term: 41, sequence: 123_456, leaderLog: LogPosition(index: 41, term: 41), transferTarget: 3)))
        let plain = FrameEncoder.encode(frame)
        // Handshakes: a fresh pair each, timed from the first flight to both sides established.
        let handshakes = 100
        var handshakeSeconds = 0.0
        for _ in 0..<handshakes {
            let pair = try makePair()
            let time = measure {
                try? activate(pair)
                try? shuttle(pair)
            }
            handshakeSeconds += time.seconds
            // Not finished: closing TLS would wait for the other side's close_notify, which an
            // embedded channel never delivers by itself. The pair is simply let go.
        }
        // Frames: sealed by node 1, opened by node 2.
        let pair = try connect()
        var wireBytes = 0
        var opened = 0
        let buffer = pair.client.allocator.buffer(bytes: plain)
        let frames = measure {
            for _ in 0..<iterations {
                pair.client.writeAndFlush(buffer, promise: nil)
                while let sealed = try? pair.client.readOutbound(as: ByteBuffer.self) {
                    wireBytes += sealed.readableBytes
                    _ = try? pair.server.writeInbound(sealed)
                }
                while let clear = try? pair.server.readInbound(as: ByteBuffer.self) { opened += clear.readableBytes }
            }
        }
        let perFrame = frames.seconds / Double(iterations) * 1e9
        print("")
        print("mutual TLS 1.3 (P-256 certificates, in memory: the cryptography and record framing alone)")
        print(padded("type", 20) + padded("bytes", 7) + padded("on wire", 9) + padded("seal+open ns", 14)
              + padded("frames/s", 12) + "allocs/frame")
        print(padded("heartbeat over TLS", 20) + padded(String(plain.count), 7) + padded(String(wireBytes / iterations), 9)
              + padded(fixed(perFrame, 1), 14) + padded(fixed(1e9 / perFrame, 0), 12)
              + fixed(Double(frames.allocations) / Double(iterations), 2))
        print("one mutual handshake (both sides, certificates verified): "
              + fixed(handshakeSeconds / Double(handshakes) * 1e6, 0) + " µs (mean of \(handshakes))")
        if opened != plain.count * iterations { print("warning: \(opened) bytes opened, expected \(plain.count * iterations)") }
    }
}
