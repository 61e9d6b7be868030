/// A key-value pair as etcd reports it (the fields the election recipe reads).
struct EtcdKeyValue: Hashable, Sendable {
    var key: [UInt8]
    var createRevision: Int64
    var modRevision: Int64
    var value: [UInt8]
    var lease: Int64

    init(key: [UInt8], createRevision: Int64, modRevision: Int64 = 0, value: [UInt8] = [], lease: Int64 = 0) {
        self.key = key
        self.createRevision = createRevision
        self.modRevision = modRevision
        self.value = value
        self.lease = lease
    }

    init(_ object: GatewayObject) throws(GatewayDecodingError) {
        key = try object.bytes("key")
        guard !key.isEmpty else { throw GatewayDecodingError("\(object.context).key: missing") }
        createRevision = try object.int64("create_revision")
        modRevision = try object.int64("mod_revision")
        value = try object.bytes("value")
        lease = try object.int64("lease")
    }
}

/// One batch of a watch stream.
struct EtcdWatchBatch: Sendable {
    enum Event: Hashable, Sendable {
        case put(EtcdKeyValue)
        /// A key deleted (or its lease ended) at revision `revision`.
        case delete(key: [UInt8], revision: Int64)
    }

    var created = false
    /// The watch ended on the server's side; `compactRevision` > 0 when history it needed is gone.
    var canceled = false
    var compactRevision: Int64 = 0
    var cancelReason: String?
    var revision: Int64 = 0
    var events: [Event] = []
}

/// The etcd v3 calls the election recipe makes, over the JSON gateway (the paths and messages of
/// etcd's `rpc.proto` as the grpc-gateway maps them), each with a time limit, moving to the next
/// endpoint when one is unreachable or unavailable and authenticating again when a token expires.
extension EtcdGateway {
    /// Logs in (`/v3/auth/authenticate`) and sends the token with every later request.
    func authenticate(_ credentials: EtcdCredentials, timeout: Duration) async throws(GatewayError) {
        var body = GatewayRequest()
        body.set("name", string: credentials.user)
        body.set("password", string: credentials.password)
        token = nil
        let response = try await attempt("/v3/auth/authenticate", body.bytes, timeout: timeout, credentials: nil)
        let object = try decode(response, "/v3/auth/authenticate")
        guard let token = try decoding("/v3/auth/authenticate", { () throws(GatewayDecodingError) in try object.string("token") }),
              !token.isEmpty
        else { throw .malformed(endpoint: currentEndpoint.description, path: "/v3/auth/authenticate", "no token in the answer") }
        self.token = token
    }

    /// Grants a lease of `ttlSeconds`; returns its ID and the TTL etcd granted (it raises TTLs
    /// below its minimum).
    func grantLease(ttlSeconds: Int64, timeout: Duration, credentials: EtcdCredentials?) async throws(GatewayError) -> (id: Int64, ttlSeconds: Int64) {
        var body = GatewayRequest()
        body.set("TTL", int: ttlSeconds)
        let path = "/v3/lease/grant"
        let object = try decode(try await call(path, body.bytes, timeout: timeout, credentials: credentials), path)
        return try decoding(path) { () throws(GatewayDecodingError) in
            if let error = try object.string("error"), !error.isEmpty { throw GatewayDecodingError("etcd refused the grant: \(error)") }
            let id = try object.requiredInt64("ID")
            let ttl = try object.requiredInt64("TTL")
            guard id != 0, ttl > 0 else { throw GatewayDecodingError("\(path): lease \(id) with TTL \(ttl)") }
            return (id, ttl)
        }
    }

    /// Renews `lease`; returns the TTL it was renewed to, 0 when the lease no longer exists
    /// (expired or revoked). Asked of the current endpoint only: the caller decides when to retry.
    func keepAlive(lease: Int64, timeout: Duration, credentials: EtcdCredentials?) async throws(GatewayError) -> Int64 {
        var body = GatewayRequest()
        body.set("ID", int: lease)
        let path = "/v3/lease/keepalive"
        let response = try await call(path, body.bytes, timeout: timeout, credentials: credentials, retries: false)
        // A stream of one message: `{"result": {...}}`, or `{"error": {...}}`.
        guard let line = response.body.split(separator: 0x0A).first(where: { !$0.allSatisfy { $0 == 0x20 || $0 == 0x0D } }) else {
            throw .malformed(endpoint: currentEndpoint.description, path: path, "an empty answer")
        }
        let message = try decode(GatewayResponse(status: 200, body: Array(line), keepAlive: true), path)
        return try decoding(path) { () throws(GatewayDecodingError) in
            if let error = try message.object("error") {
                throw GatewayDecodingError("etcd ended the keep-alive: \(try error.string("message") ?? "no message")")
            }
            let result = try message.requiredObject("result")
            let id = try result.int64("ID")
            guard id == lease else { throw GatewayDecodingError("\(result.context).ID: \(id), not the lease \(lease) renewed") }
            return max(try result.int64("TTL"), 0)
        }
    }

    /// Ends `lease` at once; its keys are deleted with it.
    func revoke(lease: Int64, timeout: Duration, credentials: EtcdCredentials?) async throws(GatewayError) {
        var body = GatewayRequest()
        body.set("ID", int: lease)
        _ = try await call("/v3/lease/revoke", body.bytes, timeout: timeout, credentials: credentials)
    }

    /// Puts `key` = `value` under `lease` unless the key exists (etcd's election recipe: the key is
    /// the election prefix plus the lease ID, so only this lease writes it); returns the key's
    /// creation revision — this candidacy's place in the election and its fencing token.
    func campaign(key: [UInt8], value: [UInt8], lease: Int64, timeout: Duration,
                  credentials: EtcdCredentials?) async throws(GatewayError) -> Int64 {
        var compare = GatewayRequest()
        compare.set("target", string: "CREATE")
        compare.set("result", string: "EQUAL")
        compare.set("key", bytes: key)
        compare.set("create_revision", int: 0)
        var put = GatewayRequest()
        put.set("key", bytes: key)
        put.set("value", bytes: value)
        put.set("lease", int: lease)
        var range = GatewayRequest()
        range.set("key", bytes: key)
        var success = GatewayRequest()
        success.set("request_put", object: put)
        var failure = GatewayRequest()
        failure.set("request_range", object: range)
        var body = GatewayRequest()
        body.set("compare", objects: [compare])
        body.set("success", objects: [success])
        body.set("failure", objects: [failure])
        let path = "/v3/kv/txn"
        let object = try decode(try await call(path, body.bytes, timeout: timeout, credentials: credentials), path)
        return try decoding(path) { () throws(GatewayDecodingError) in
            let revision = try object.requiredObject("header").requiredInt64("revision")
            if try object.bool("succeeded") { return revision }
            guard let range = try object.objects("responses").first?.object("response_range"),
                  let existing = try range.objects("kvs").first
            else { throw GatewayDecodingError("\(path): the key exists but its range came back empty") }
            let kv = try EtcdKeyValue(existing)
            guard kv.lease == lease else {
                throw GatewayDecodingError("\(path): the candidacy key belongs to lease \(kv.lease), not \(lease)")
            }
            return kv.createRevision
        }
    }

    /// Every key under `prefix`, oldest creation first, and the store's revision when read
    /// (linearizable: read through etcd's leader).
    func range(prefix: [UInt8], timeout: Duration, credentials: EtcdCredentials?) async throws(GatewayError) -> (kvs: [EtcdKeyValue], revision: Int64) {
        var body = GatewayRequest()
        body.set("key", bytes: prefix)
        body.set("range_end", bytes: Self.prefixEnd(prefix))
        body.set("sort_order", string: "ASCEND")
        body.set("sort_target", string: "CREATE")
        let path = "/v3/kv/range"
        let object = try decode(try await call(path, body.bytes, timeout: timeout, credentials: credentials), path)
        return try decoding(path) { () throws(GatewayDecodingError) in
            let revision = try object.requiredObject("header").requiredInt64("revision")
            var kvs: [EtcdKeyValue] = []
            for entry in try object.objects("kvs") { kvs.append(try EtcdKeyValue(entry)) }
            return (kvs, revision)
        }
    }

    /// Deletes `key` (resigning a candidacy).
    func delete(key: [UInt8], timeout: Duration, credentials: EtcdCredentials?) async throws(GatewayError) {
        var body = GatewayRequest()
        body.set("key", bytes: key)
        _ = try await call("/v3/kv/deleterange", body.bytes, timeout: timeout, credentials: credentials)
    }

    /// Watches every key under `prefix` from `revision` on, with the previous value of deleted keys.
    func watch(prefix: [UInt8], from revision: Int64, timeout: Duration) async throws(GatewayError) -> GatewayStream {
        var create = GatewayRequest()
        create.set("key", bytes: prefix)
        create.set("range_end", bytes: Self.prefixEnd(prefix))
        create.set("start_revision", int: revision)
        var body = GatewayRequest()
        body.set("create_request", object: create)
        return try await stream("/v3/watch", body.bytes, timeout: timeout)
    }

    /// Decodes one message of a watch stream.
    nonisolated func decodeWatch(_ line: [UInt8], endpoint: String) throws(GatewayError) -> EtcdWatchBatch {
        let path = "/v3/watch"
        do throws(GatewayDecodingError) {
            let message = try GatewayObject(parsing: line, context: "watch")
            if let error = try message.object("error") {
                throw GatewayDecodingError("etcd ended the watch: \(try error.string("message") ?? "no message")")
            }
            let result = try message.requiredObject("result")
            var batch = EtcdWatchBatch()
            batch.created = try result.bool("created")
            batch.canceled = try result.bool("canceled")
            batch.compactRevision = try result.int64("compact_revision")
            batch.cancelReason = try result.string("cancel_reason")
            batch.revision = try result.object("header")?.int64("revision") ?? 0
            for event in try result.objects("events") {
                let kv = try event.requiredObject("kv")
                switch try event.string("type") ?? "PUT" {
                case "PUT": batch.events.append(.put(try EtcdKeyValue(kv)))
                case "DELETE":
                    let key = try kv.bytes("key")
                    guard !key.isEmpty else { throw GatewayDecodingError("\(kv.context).key: missing") }
                    batch.events.append(.delete(key: key, revision: try kv.int64("mod_revision")))
                case let other: throw GatewayDecodingError("\(event.context).type: unknown event type \(other.debugDescription)")
                }
            }
            return batch
        } catch {
            throw .malformed(endpoint: endpoint, path: path, error.description)
        }
    }

    // MARK: Plumbing

    /// The end of the range of keys that start with `prefix` (etcd's `GetPrefixRangeEnd`).
    static func prefixEnd(_ prefix: [UInt8]) -> [UInt8] {
        var end = prefix
        while let last = end.last {
            if last < 0xFF {
                end[end.count - 1] = last + 1
                return end
            }
            end.removeLast()
        }
        return [0]
    }

    /// One request, moving to the next endpoint when this one is unavailable (at most once round
    /// the list), and logging in again once when the token was refused.
    private func call(_ path: String, _ body: [UInt8], timeout: Duration, credentials: EtcdCredentials?,
                      retries: Bool = true) async throws(GatewayError) -> GatewayResponse {
        var lastError: GatewayError = .shutDown
        for _ in 0..<(retries ? endpoints.count : 1) {
            do {
                return try await attempt(path, body, timeout: timeout, credentials: credentials)
            } catch {
                lastError = error
                guard error.isUnavailable else { throw error }
            }
        }
        throw lastError
    }

    private func attempt(_ path: String, _ body: [UInt8], timeout: Duration,
                         credentials: EtcdCredentials?) async throws(GatewayError) -> GatewayResponse {
        let endpoint = current
        do {
            return try await unary(path, body, timeout: timeout)
        } catch {
            if error.isInvalidToken, let credentials {
                try await authenticate(credentials, timeout: timeout)
                return try await unary(path, body, timeout: timeout)
            }
            if error.isUnavailable { endpointFailed(endpoint) }
            throw error
        }
    }

    private func decode(_ response: GatewayResponse, _ path: String) throws(GatewayError) -> GatewayObject {
        do throws(GatewayDecodingError) {
            return try GatewayObject(parsing: response.body, context: path)
        } catch {
            throw .malformed(endpoint: currentEndpoint.description, path: path, error.description)
        }
    }

    private func decoding<T>(_ path: String, _ body: () throws(GatewayDecodingError) -> T) throws(GatewayError) -> T {
        do throws(GatewayDecodingError) {
            return try body()
        } catch {
            throw .malformed(endpoint: currentEndpoint.description, path: path, error.description)
        }
    }
}
