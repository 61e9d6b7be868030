import Logging
import NIOCore
import NIOPosix
import Synchronization

/// A ZooKeeper session over one TCP connection at a time, to any server of an ensemble.
///
/// ```swift
/// let client = try await ZooKeeperClient.connect(try ZooKeeperConfiguration(connectString: "127.0.0.1:2181"))
/// let node = try await client.create("/election/n-", mode: .ephemeralSequential)
/// for await event in client.events { … }   // connected / disconnected / expired / closed / watch
/// await client.close()
/// ```
///
/// The actor runs on one NIO event loop (its executor), where its connection lives too: a frame
/// reaches the session without a thread switch, and frames are handled strictly in the order the
/// server sent them. That order is ZooKeeper's guarantee to carry through: a watch notification
/// is put on ``events`` before any later reply resumes its caller.
///
/// The session outlives connections: when one ends (server gone, silence, bad bytes), pending
/// requests fail with ``ZooKeeperError/connectionLoss(_:)``, ``ZooKeeperEvent/disconnected(server:cause:)``
/// is delivered, and the client goes to the next server with the same session ID and password,
/// re-registering its watches. Only the ensemble ends a session: ``ZooKeeperEvent/expired`` is
/// final, and this client never replaces the session with a new one. Call ``close()`` when done:
/// it ends the session at once (deleting its ephemeral nodes) and releases the connection.
public actor ZooKeeperClient {
    public nonisolated let eventLoop: any EventLoop
    public nonisolated let configuration: ZooKeeperConfiguration
    /// Session state changes and watch notifications, in order (see ``ZooKeeperEvent``). Buffered
    /// without bound, for one consumer; it finishes after ``ZooKeeperEvent/expired`` or
    /// ``ZooKeeperEvent/closed``.
    public nonisolated let events: AsyncStream<ZooKeeperEvent>
    nonisolated let eventSink: AsyncStream<ZooKeeperEvent>.Continuation
    private nonisolated let published: Mutex<ZooKeeperStatus>
    let logger: Logger
    let clock = ContinuousClock()
    /// The ensemble in the order it is tried.
    let servers: [ZooKeeperServerAddress]

    // MARK: Session
    var state: ZooKeeperSessionState = .connecting
    /// Set by ``close()``: no new request is accepted, and the next connection end finishes it.
    var closing = false
    var session: ZooKeeperSessionInfo?
    var sessionID: Int64 = 0
    var password = [UInt8](repeating: 0, count: 16)
    var lastZxidSeen: Int64 = 0
    var lastAnsweredRequestSentAt: ContinuousClock.Instant?
    var eventsDelivered = 0
    var watches = WatchRegistry()

    // MARK: Connection
    var connection: Connection?
    var nextConnectionID: UInt64 = 0
    var nextServerIndex = 0
    /// Connection attempts that failed since a session was last (re-)established.
    var failedAttempts = 0
    var reconnectTimer: Scheduled<Void>?
    /// The last failure of each server, for ``ZooKeeperError/noServerReachable(_:)``.
    var failures: [ZooKeeperServerAddress: ZooKeeperConnectionError] = [:]
    /// Callers of ``connect(_:eventLoop:logger:)`` waiting for the first session.
    var openWaiters: [CheckedContinuation<Result<Void, ZooKeeperError>, Never>] = []

    // MARK: Requests
    var nextXid: Int32 = 1
    /// Requests sent and not yet answered, oldest first: the server answers in this order.
    var pending = CircularBuffer<PendingRequest>()
    /// Send instants of unanswered pings, oldest first (pings share xid -2).
    var pendingPings = CircularBuffer<ContinuousClock.Instant>()
    var pendingSetWatches = 0

    init(configuration: ZooKeeperConfiguration, eventLoop: any EventLoop, logger: Logger) {
        self.configuration = configuration
        self.eventLoop = eventLoop
        self.logger = logger
        self.servers = configuration.shuffleServers ? configuration.servers.shuffled() : configuration.servers
        (events, eventSink) = AsyncStream.makeStream(of: ZooKeeperEvent.self, bufferingPolicy: .unbounded)
        published = Mutex(ZooKeeperStatus(state: .connecting, session: nil, lastAnsweredRequestSentAt: nil,
                                          lastZxidSeen: 0, eventsDelivered: 0))
    }

    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        eventLoop.executor.asUnownedSerialExecutor()
    }

    /// Opens a session on the first server of `configuration` that grants one, trying them in
    /// turn until ``ZooKeeperConfiguration/connectTimeout``. The first event on ``events`` is
    /// the ``ZooKeeperEvent/connected(_:)`` of this session.
    public static func connect(
        _ configuration: ZooKeeperConfiguration,
        eventLoop: any EventLoop = MultiThreadedEventLoopGroup.singleton.any(),
        logger: Logger = Logger(label: "ballot.zookeeper")
    ) async throws(ZooKeeperError) -> ZooKeeperClient {
        do throws(ZooKeeperConfigurationError) {
            try configuration.validate()
        } catch {
            throw .invalidConfiguration(error)
        }
        let client = ZooKeeperClient(configuration: configuration, eventLoop: eventLoop, logger: logger)
        try await client.open()
        return client
    }

    /// A snapshot of the session, readable from anywhere without waiting for the actor.
    public nonisolated var status: ZooKeeperStatus { published.withLock { $0 } }

    // MARK: Operations

    /// Creates a node (with `create2`, so the answer carries its ``Stat`` and `czxid`).
    ///
    /// Errors the server may answer with: ``ZooKeeperErrorCode/nodeExists``,
    /// ``ZooKeeperErrorCode/noNode`` (the parent is missing),
    /// ``ZooKeeperErrorCode/noChildrenForEphemerals``, ``ZooKeeperErrorCode/invalidACL``,
    /// ``ZooKeeperErrorCode/badArguments``. On ``ZooKeeperError/connectionLoss(_:)`` the node may
    /// or may not exist: look for it (an ephemeral node's ``Stat/ephemeralOwner`` is this session).
    public func create(_ path: String, data: [UInt8] = [], mode: CreateMode = .persistent,
                       acl: [ACL] = ACL.openUnsafe) async throws(ZooKeeperError) -> CreatedNode {
        try Self.check(path, sequential: mode.isSequential)
        let response = try await perform(.create(path: path, data: data, acl: acl, mode: mode), as: Create2Response.self)
        var sequence: Int32?
        if mode.isSequential, response.path.hasPrefix(path) {
            sequence = Int32(response.path.dropFirst(path.count))
        }
        return CreatedNode(path: response.path, stat: response.stat, sequence: sequence)
    }

    /// Deletes a node; `version` -1 whatever its version. Errors: ``ZooKeeperErrorCode/noNode``,
    /// ``ZooKeeperErrorCode/badVersion``, ``ZooKeeperErrorCode/notEmpty``.
    public func delete(_ path: String, version: Int32 = -1) async throws(ZooKeeperError) {
        try Self.check(path)
        _ = try await perform(.delete(path: path, version: version), as: EmptyResponse.self)
    }

    /// The node's ``Stat``, or nil if it does not exist. With `watch`, the next creation,
    /// deletion or data change of the node is delivered on ``events`` (once), whether or not it
    /// exists now.
    public func exists(_ path: String, watch: Bool = false) async throws(ZooKeeperError) -> Stat? {
        try Self.check(path)
        do throws(ZooKeeperError) {
            return try await perform(.exists(path: path, watch: watch), as: ExistsResponse.self).stat
        } catch {
            if case .server(.noNode, _, _) = error { return nil }
            throw error
        }
    }

    /// The node's data and ``Stat``. With `watch`, its next deletion or data change is
    /// delivered on ``events`` (once). Error: ``ZooKeeperErrorCode/noNode`` (no watch is set).
    public func getData(_ path: String, watch: Bool = false) async throws(ZooKeeperError) -> GetDataResponse {
        try Self.check(path)
        return try await perform(.getData(path: path, watch: watch), as: GetDataResponse.self)
    }

    /// The names of the node's children, in no particular order. With `watch`, the next change
    /// to the set of children (or the node's deletion) is delivered on ``events`` (once).
    public func getChildren(_ path: String, watch: Bool = false) async throws(ZooKeeperError) -> [String] {
        try Self.check(path)
        return try await perform(.getChildren(path: path, watch: watch), as: GetChildrenResponse.self).children
    }

    /// Ends the session: tells the server (waiting at most ``ZooKeeperConfiguration/closeTimeout``
    /// for its answer, which comes after the session's ephemeral nodes are deleted), closes the
    /// connection and finishes ``events`` with ``ZooKeeperEvent/closed``. Without a connection,
    /// the session is left to expire on the ensemble.
    public func close() async {
        guard !closing, state != .closed, state != .expired else { return }
        closing = true
        reconnectTimer?.cancel()
        if let current = connection, case .established = current.phase {
            let timer = eventLoop.scheduleTask(in: configuration.closeTimeout.timeAmount) {
                self.assumeIsolated { $0.finishClosing() }
            }
            _ = try? await send(.closeSession, as: EmptyResponse.self)
            timer.cancel()
        }
        finishClosing()
    }

    // MARK: Sending

    private static func check(_ path: String, sequential: Bool = false) throws(ZooKeeperError) {
        if let problem = ZooKeeperPath.problem(with: path, sequential: sequential) {
            throw .invalidPath(path, problem: problem)
        }
    }

    private func perform<Body: ZooKeeperReplyBody>(_ request: ZooKeeperRequest, as body: Body.Type) async throws(ZooKeeperError) -> Body {
        if closing || state == .closed { throw .closed }
        if state == .expired { throw .sessionExpired }
        return try await send(request, as: body)
    }

    /// Sends `request` on the established connection and waits for its answer.
    private func send<Body: ZooKeeperReplyBody>(_ request: ZooKeeperRequest, as: Body.Type) async throws(ZooKeeperError) -> Body {
        guard let current = connection, case .established = current.phase else {
            throw .connectionLoss(.notConnected)
        }
        let xid = nextXid
        nextXid = nextXid == .max ? 1 : nextXid + 1
        let frame = request.frame(xid: xid)
        let limit = configuration.limits.maxFrameLength
        guard frame.readableBytes - 4 <= limit else { throw .requestTooLarge(byteCount: frame.readableBytes - 4, limit: limit) }
        let result: Result<Body, ZooKeeperError> = await withCheckedContinuation { continuation in
            pending.append(PendingRequest(
                xid: xid, request: request, sentAt: clock.now,
                succeed: { (reader: inout JuteReader) throws(ZooKeeperProtocolError) -> () -> Void in
                    let body = try Body.decode(from: &reader)
                    return { continuation.resume(returning: .success(body)) }
                },
                fail: { continuation.resume(returning: .failure($0)) }
            ))
            write(frame)
        }
        return try result.get()
    }

    /// Writes a whole frame on the current connection and notes the instant (for pings).
    func write(_ frame: ByteBuffer) {
        guard let channel = connection?.channel else { return }
        connection?.lastSent = clock.now
        channel.writeAndFlush(frame, promise: nil)
    }

    // MARK: Telling the user

    func deliver(_ event: ZooKeeperEvent) {
        eventSink.yield(event)
        eventsDelivered += 1
        publish()
    }

    /// Copies the session's state into ``status``.
    func publish() {
        let snapshot = ZooKeeperStatus(
            state: state, session: session, lastAnsweredRequestSentAt: lastAnsweredRequestSentAt,
            lastZxidSeen: lastZxidSeen, eventsDelivered: eventsDelivered
        )
        published.withLock { $0 = snapshot }
    }
}

/// A request on the wire, waiting for its answer.
struct PendingRequest {
    let xid: Int32
    let request: ZooKeeperRequest
    let sentAt: ContinuousClock.Instant
    /// Decodes a successful answer's body and returns how to resume the caller; run that only
    /// after the client's own state reflects the answer. Throws, resuming nothing, on bad bytes.
    let succeed: (inout JuteReader) throws(ZooKeeperProtocolError) -> () -> Void
    let fail: (ZooKeeperError) -> Void
}

extension Duration {
    var timeAmount: TimeAmount {
        let (seconds, attoseconds) = components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
