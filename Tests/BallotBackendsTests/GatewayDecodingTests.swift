@testable import BallotBackends
import Logging
import NIOPosix
import Testing

/// Reading the gateway's answers field by field: proto3 JSON as etcd writes it is read, anything
/// else is refused as malformed with the field's place.
@Suite struct GatewayDecodingTests {
    func gateway() throws -> EtcdGateway {
        try EtcdGateway(endpoints: [EtcdEndpoint(usesTLS: false, host: "127.0.0.1", port: 1)], tls: EtcdTLSFiles(),
                        eventLoop: MultiThreadedEventLoopGroup.singleton.any(), logger: Logger(label: "test"))
    }

    @Test func aWatchBatchWithPutsAndDeletes() throws {
        let line = #"{"result":{"header":{"revision":"9"},"events":[{"kv":{"key":"L2Ev","create_revision":"8","mod_revision":"8","version":"1","value":"Mw==","lease":"77"}},{"type":"DELETE","kv":{"key":"L2Iv","mod_revision":"9"}}]}}"#
        let batch = try gateway().decodeWatch(Array(line.utf8), endpoint: "e")
        #expect(batch.revision == 9)
        #expect(batch.events == [
            .put(EtcdKeyValue(key: Array("/a/".utf8), createRevision: 8, modRevision: 8, value: Array("3".utf8), lease: 77)),
            .delete(key: Array("/b/".utf8), revision: 9),
        ])
    }

    @Test func createdCanceledAndCompacted() throws {
        let gateway = try gateway()
        #expect(try gateway.decodeWatch(Array(#"{"result":{"created":true}}"#.utf8), endpoint: "e").created)
        let canceled = try gateway.decodeWatch(Array(#"{"result":{"canceled":true,"compact_revision":"40","cancel_reason":"compacted"}}"#.utf8), endpoint: "e")
        #expect(canceled.canceled && canceled.compactRevision == 40 && canceled.cancelReason == "compacted")
    }

    @Test(arguments: [
        (#"{"result":{"events":[{"type":"PUT","kv":{"key":"eA==","create_revision":"abc"}}]}}"#, "create_revision"),
        (#"{"result":{"events":[{"kv":{"key":"not base64!"}}]}}"#, "key: not base64"),
        (#"{"result":{"events":[{"kv":{"create_revision":"1"}}]}}"#, "key: missing"),
        (#"{"result":{"events":[{"type":"TOUCH","kv":{"key":"eA=="}}]}}"#, "unknown event type"),
        (#"{"result":{"events":{"kv":1}}}"#, "expected a list"),
        (#"{"result":{"created":"yes"}}"#, "expected true or false"),
        (#"{"error":{"grpc_code":14,"message":"etcdserver: no leader"}}"#, "no leader"),
        (#"{"nothing":1}"#, "result: missing"),
        (#"[1,2]"#, "not a JSON object"),
        ("{\"result\":", "not JSON"),
    ])
    func refusesMalformedWatchMessages(line: String, problem: String) throws {
        let gateway = try gateway()
        #expect {
            _ = try gateway.decodeWatch(Array(line.utf8), endpoint: "e")
        } throws: { error in
            guard case .malformed(_, _, let text)? = error as? GatewayError else { return false }
            return text.contains(problem)
        }
    }

    @Test func integersAsStringsOrNumbersAndNothingElse() throws {
        let object = try GatewayObject(parsing: Array(#"{"a":"-12","b":7,"c":1.5,"d":true,"e":"+3","f":"99999999999999999999"}"#.utf8), context: "t")
        #expect(try object.int64("a") == -12)
        #expect(try object.int64("b") == 7)
        #expect(try object.int64("missing") == 0)
        for key in ["c", "d", "e", "f"] { #expect(throws: GatewayDecodingError.self) { try object.int64(key) } }
    }

    @Test func theRangeEndOfAPrefix() {
        #expect(EtcdGateway.prefixEnd(Array("/a/".utf8)) == Array("/a0".utf8))
        #expect(EtcdGateway.prefixEnd([0x61, 0xFF]) == [0x62])
        #expect(EtcdGateway.prefixEnd([0xFF]) == [0])
    }

    /// A service error names etcd's code; a token error is told apart, and unavailability moves on.
    @Test func serviceErrorsAreClassified() {
        let token = GatewayError.service(endpoint: "e", path: "/v3/kv/range", status: 401, code: 16, message: "etcdserver: invalid auth token")
        #expect(token.isInvalidToken && token.failure == .unauthenticated && !token.isUnavailable)
        let noLeader = GatewayError.service(endpoint: "e", path: "/v3/kv/txn", status: 503, code: 14, message: "etcdserver: no leader")
        #expect(noLeader.isUnavailable && noLeader.failure == .serviceError)
        #expect(GatewayError.timedOut(endpoint: "e", path: "/").failure == .timedOut)
        #expect(GatewayError.malformed(endpoint: "e", path: "/", "x").isUnavailable == false)
    }
}
