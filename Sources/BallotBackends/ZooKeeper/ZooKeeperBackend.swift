import BallotClient
import BallotCore
import BallotRuntime
import BallotZooKeeper
import Logging
import NIOCore
import NIOPosix

/// Leadership from ZooKeeper: the election recipe of the ZooKeeper documentation, bounded by the
/// claim inequality.
///
/// 1. **Session.** One ZooKeeper session (``ZooKeeperClient``); this backend renews it itself with
///    one request every third of the negotiated timeout (`exists` on its own node, which also
///    proves the node is still there), so it knows when each renewal was sent and answered.
/// 2. **Candidacy.** An ephemeral sequential node `/ballot/elections/NAME/n-<seq>` holding this
///    node's ID. The lowest sequence leads. Its fencing token is the node's `czxid`: the zxid of the
///    transaction that created it, which orders every change the ensemble ever commits (epoch in
///    the high 32 bits), so a candidacy created later has a larger one, whatever happens to the
///    parent node or the ensemble's leadership.
/// 3. **Watch only the predecessor.** Each candidate sets one watch on the candidacy just ahead of
///    its own, so a candidate leaving wakes exactly one other (no herd effect). To answer "who
///    leads" every node also watches the leading candidacy itself (for the second in line, the same
///    node): a change of leader wakes every node once, which is the least a service where every
///    node reports the leader can do. The leader watches its own node, so a deletion under it ends
///    its claim at once.
/// 4. **Claim.** This node leads while its candidacy is the lowest, until
///    `(send time of the last answered renewal) + session timeout × (1 − ρ) − margin`, the margin
///    covering a follower that keeps answering after it lost its leader (``ClaimBound``).
/// 5. **Expiry** ends the candidacy: the session is the ensemble's to expire, and after it this
///    node makes a new session and a new candidacy (at the back of the line), never continuing the
///    old claim. **Shutdown** closes the session, which deletes the node at once.
public actor ZooKeeperBackend: ElectionBackend {
    public nonisolated let view: LeadershipView
    public nonisolated let kind = BackendKind.zookeeper
    public nonisolated let configuration: ZooKeeperBackendConfiguration
    public nonisolated var validity: Duration { configuration.sessionTimeout }
    nonisolated let eventLoop: any EventLoop
    let logger: Logger
    let observer: (any BackendObserver)?
    private let publisher: LeadershipPublisher
    private let path: String
    private let value: [UInt8]

    private var client: ZooKeeperClient?
    private var negotiatedTimeout: Duration
    private var lastRenewalSentAt: MonotonicInstant?
    /// This node's candidacy: its name under the election node, sequence and czxid.
    private var ownName: String?
    private var ownSequence: Int32?
    private var ownToken: Int64?
    private var candidateCount = 0
    private var leaderName: String?
    private var leader: LeaderInfo?
    private var predecessorName: String?
    private let claimTimer: ClaimTimer
    private var connected = false
    private var stopping = false

    public init(configuration: ZooKeeperBackendConfiguration, node: NodeID, view: LeadershipView,
                observer: (any BackendObserver)?, tokens: (any FencingTokenStore)?, recoveredToken: Term,
                eventLoop: any EventLoop = MultiThreadedEventLoopGroup.singleton.any(), logger: Logger) {
        precondition(view.node == node, "the backend must produce this node's view")
        self.configuration = configuration
        self.view = view
        self.eventLoop = eventLoop
        self.logger = logger
        self.observer = observer
        publisher = LeadershipPublisher(view: view, observer: observer, tokens: tokens, recoveredToken: recoveredToken,
                                        at: SystemMonotonicClock.now)
        claimTimer = ClaimTimer(eventLoop: eventLoop, publisher: publisher, logger: logger)
        path = configuration.election.zooKeeperPath
        value = Array("\(node)".utf8)
        negotiatedTimeout = configuration.sessionTimeout
    }

    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        eventLoop.executor.asUnownedSerialExecutor()
    }

    private var now: MonotonicInstant { SystemMonotonicClock.now }

    // MARK: Running

    public func run() async throws {
        var pause = Duration.milliseconds(50)
        while !Task.isCancelled, !stopping {
            var session: ZooKeeperClient?
            do {
                let client = try await ZooKeeperClient.connect(
                    ZooKeeperConfiguration(servers: configuration.servers, sessionTimeout: configuration.sessionTimeout),
                    eventLoop: eventLoop, logger: logger)
                session = client
                try await follow(client)
                pause = .milliseconds(50)
            } catch let error as BackendError {
                await session?.close()
                throw error
            } catch is CancellationError {
                await session?.close()
                break
            } catch {
                if !stopping { logger.notice("ZooKeeper candidacy ended; starting a new one", metadata: ["reason": "\(error)"]) }
                if let failure = (error as? ZooKeeperError)?.failure { observer?.coordinationFailed(failure) }
            }
            await session?.close()
            client = nil
            try endCandidacy()
            guard !Task.isCancelled, !stopping else { break }
            try? await Task.sleep(for: pause)
            pause = min(pause * 2, .seconds(1))
        }
    }

    public func shutDown() async {
        guard !stopping else { return }
        stopping = true
        claimTimer.cancel()
        publisher.shutDown(at: now)
        if let client {
            // Closing the session deletes the candidacy at once: the next in line leads without
            // waiting for the session timeout.
            await client.close()
            logger.notice("resigned from the ZooKeeper election", metadata: ["node": "\(ownName ?? "-")"])
        }
    }

    public func status() -> BackendStatus {
        let at = now
        let session = client?.status
        return BackendStatus(
            backend: kind.rawValue, election: configuration.election.rawValue,
            connectedTo: session?.state == .connected ? session?.session.map { "\($0.server)" } : nil,
            session: session?.session.map { String(UInt64(bitPattern: $0.sessionID), radix: 16) },
            candidacy: ownName.map { "\(path)/\($0)" }, candidacyToken: ownToken.map { UInt64(max($0, 0)) },
            candidates: candidateCount,
            claimRemainingMs: publisher.claimDeadline.flatMap { $0 > at ? ($0 - at).milliseconds : nil },
            sinceRenewalMs: lastRenewalSentAt.map { (at - $0).milliseconds })
    }

    // MARK: The candidacy

    /// One session: make the candidacy, then follow the election until the session ends.
    private func follow(_ client: ZooKeeperClient) async throws {
        self.client = client
        let opened = now
        if let session = client.status.session {
            negotiatedTimeout = session.negotiatedTimeout
            if configuration.claimWindow(for: negotiatedTimeout) <= configuration.renewalInterval(for: negotiatedTimeout) {
                logger.error("the ensemble granted a session timeout that leaves no room to claim leadership; this node will never lead", metadata: [
                    "negotiated": "\(negotiatedTimeout)", "asked": "\(configuration.sessionTimeout)",
                ])
            }
        }
        // The session was opened after the handshake was sent: that is its first renewal.
        renewed(sentAt: opened)
        try await ensureElectionNode(client)
        try await makeCandidacy(client)
        publisher.campaignStarted(at: now)
        try await evaluate(client)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.renewalLoop(client) }
            group.addTask { try await self.sessionEvents(client) }
            defer { group.cancelAll() }
            _ = try await group.next()
        }
    }

    private func ensureElectionNode(_ client: ZooKeeperClient) async throws {
        var prefix = ""
        for component in path.split(separator: "/") {
            prefix += "/\(component)"
            do {
                _ = try await client.create(prefix, mode: .persistent)
            } catch {
                if case .server(let code, _, _) = error, code == .nodeExists { continue }
                throw error
            }
        }
    }

    /// Creates the ephemeral sequential node. If the connection drops before the answer, the node
    /// may exist: look for it by its owner (this session) before making another.
    private func makeCandidacy(_ client: ZooKeeperClient) async throws {
        for _ in 0..<20 {
            do {
                let created = try await client.create("\(path)/n-", data: value, mode: .ephemeralSequential)
                adopt(name: String(ZooKeeperPath.lastComponent(of: created.path)), token: created.stat.czxid)
                return
            } catch {
                guard case .connectionLoss = error else { throw error }
                try await waitUntilConnected(client)
                guard let session = client.status.session?.sessionID else { continue }
                for name in try await client.getChildren(path) where name.hasPrefix("n-") {
                    if let stat = try await client.exists("\(path)/\(name)"), stat.ephemeralOwner == session {
                        adopt(name: name, token: stat.czxid)
                        return
                    }
                }
            }
        }
        throw ZooKeeperError.connectionLoss(.notConnected)
    }

    private func adopt(name: String, token: Int64) {
        ownName = name
        ownSequence = ZooKeeperPath.sequenceNumber(ofName: Substring(name))
        ownToken = token
        logger.info("ZooKeeper candidacy made", metadata: ["node": "\(path)/\(name)", "czxid": "\(token)"])
    }

    private func waitUntilConnected(_ client: ZooKeeperClient) async throws {
        for _ in 0..<400 where client.status.state != .connected {
            switch client.status.state {
            case .expired: throw ZooKeeperError.sessionExpired
            case .closed: throw ZooKeeperError.closed
            default: try await Task.sleep(for: .milliseconds(25))
            }
        }
    }

    /// Reads the candidates and sets the watches: on the predecessor (if any), and on the leader.
    /// Repeats while a node it meant to watch is gone before the watch was set.
    private func evaluate(_ client: ZooKeeperClient) async throws {
        guard let ownName, let ownSequence else { return }
        for _ in 0..<64 {
            let sent = now
            let children = try await client.getChildren(path)
            renewed(sentAt: sent)
            let ordered = children.compactMap { name -> (name: String, sequence: Int32)? in
                guard name.hasPrefix("n-"), let sequence = ZooKeeperPath.sequenceNumber(ofName: Substring(name)) else { return nil }
                return (name, sequence)
            }.sorted { $0.sequence < $1.sequence }
            candidateCount = ordered.count
            guard ordered.contains(where: { $0.name == ownName }) else { throw CandidacyGone.deleted }
            guard let first = ordered.first else { continue }
            if first.name == ownName {
                // Leading: watch the own node, so a deletion under it (an operator, a session the
                // ensemble expired) ends the claim at once rather than at the next renewal.
                guard try await client.exists("\(path)/\(ownName)", watch: true) != nil else { throw CandidacyGone.deleted }
                leaderName = ownName
                predecessorName = nil
                leader = nil
                try publish()
                return
            }
            guard let predecessor = ordered.last(where: { $0.sequence < ownSequence })?.name else { continue }
            if predecessor != first.name {
                guard try await client.exists("\(path)/\(predecessor)", watch: true) != nil else { continue }
            }
            let read: GetDataResponse
            do {
                read = try await client.getData("\(path)/\(first.name)", watch: true)
            } catch {
                if case .server(let code, _, _) = error, code == .noNode { continue }
                throw error
            }
            predecessorName = predecessor
            leaderName = first.name
            leader = leaderInfo(data: read.data, czxid: read.stat.czxid, name: first.name)
            try publish()
            return
        }
        throw CandidacyGone.unsettled
    }

    /// The node a candidacy names, or nil (counted and logged) if its data is no node ID, or if it is
    /// this node's own ID on a candidacy that is not this session's (a previous incarnation).
    private func leaderInfo(data: [UInt8], czxid: Int64, name: String) -> LeaderInfo? {
        guard let text = String(validating: data, as: UTF8.self), let raw = UInt64(text), String(raw) == text,
              let id = NodeID(raw)
        else {
            observer?.coordinationFailed(.malformed)
            logger.warning("a ZooKeeper candidacy's data is not a node ID; its holder cannot be named",
                           metadata: ["node": "\(path)/\(name)", "bytes": "\(data.count)"])
            return nil
        }
        return id == view.node ? nil : LeaderInfo(id: id, term: Term(UInt64(max(czxid, 0))))
    }

    /// Renews the session every third of its timeout with a request of this node's own.
    private func renewalLoop(_ client: ZooKeeperClient) async throws {
        let interval = configuration.renewalInterval(for: negotiatedTimeout)
        var next = now + interval
        while true {
            let wait = next - now
            if wait > .zero { try await Task.sleep(for: wait) }
            try Task.checkCancellation()
            guard let ownName else { throw CandidacyGone.deleted }
            let sent = now
            let stat: Stat?
            do {
                stat = try await client.exists("\(path)/\(ownName)")
            } catch {
                guard case .connectionLoss = error else { throw error }
                observer?.coordinationFailed(error.failure)
                setConnected(false)
                next = now + min(interval / 4, .milliseconds(250))
                continue
            }
            guard stat != nil else { throw CandidacyGone.deleted }
            renewed(sentAt: sent)
            try publish()
            next = sent + interval
        }
    }

    /// Follows the session's events: watches fire a new evaluation; expiry ends the candidacy.
    private func sessionEvents(_ client: ZooKeeperClient) async throws {
        for await event in client.events {
            switch event {
            case .connected:
                setConnected(true)
                try await evaluate(client)
            case .disconnected(_, let cause):
                observer?.coordinationFailed(ZooKeeperError.connectionLoss(cause).failure)
                setConnected(false)
            case .expired:
                observer?.coordinationFailed(.expired)
                throw ZooKeeperError.sessionExpired
            case .closed:
                throw ZooKeeperError.closed
            case .watch(let watched):
                let name = String(ZooKeeperPath.lastComponent(of: watched.path))
                if watched.type == .nodeDeleted, name == ownName { throw CandidacyGone.deleted }
                if watched.type == .nodeDeleted, name == leaderName {
                    // The leader's candidacy is gone: this node has lost its leader until it reads the next.
                    leaderName = nil
                    leader = nil
                    try publish()
                }
                if watched.type == .nodeDeleted, name == predecessorName { publisher.campaignStarted(at: now) }
                do {
                    try await evaluate(client)
                } catch let error as ZooKeeperError {
                    // After a connection loss, evaluated again on the next `.connected`.
                    guard case .connectionLoss = error else { throw error }
                }
            }
        }
        throw ZooKeeperError.closed
    }

    /// Forgets the candidacy: no claim from here on.
    private func endCandidacy() throws {
        ownName = nil
        ownSequence = nil
        ownToken = nil
        leaderName = nil
        leader = nil
        predecessorName = nil
        candidateCount = 0
        lastRenewalSentAt = nil
        setConnected(false)
        try publish()
    }

    // MARK: Publishing

    private func renewed(sentAt sent: MonotonicInstant) {
        if let last = lastRenewalSentAt, last >= sent { return }
        lastRenewalSentAt = sent
        observer?.coordinationRenewed(after: max(now - sent, .zero))
        setConnected(true)
    }

    private func setConnected(_ value: Bool) {
        guard connected != value else { return }
        connected = value
        observer?.coordinationConnected(value)
    }

    private func publish() throws {
        guard !stopping else { return }
        var observation = ElectionObservation()
        observation.lastContact = lastRenewalSentAt
        observation.ownToken = ownToken.map { Term(UInt64(max($0, 0))) }
        if let ownName, leaderName == ownName {
            observation.ownCandidacyLeads = true
            observation.claimUntil = lastRenewalSentAt.map { configuration.bound(for: negotiatedTimeout).deadline(renewalSentAt: $0) }
        } else {
            observation.leader = leader
        }
        try publisher.publish(observation, at: now)
        claimTimer.rearm()
    }
}

/// Why a ZooKeeper candidacy ended while its session lived.
enum CandidacyGone: Error, CustomStringConvertible {
    /// This node's own candidacy node is gone (deleted by someone else).
    case deleted
    /// The candidates kept changing under every read (64 in a row).
    case unsettled

    var description: String {
        switch self {
        case .deleted: "the candidacy node was deleted"
        case .unsettled: "the candidates changed under every read"
        }
    }
}

extension ZooKeeperError {
    /// The label of `ballot_coordination_failures_total` this error counts under.
    var failure: CoordinationFailure {
        switch self {
        case .server(let code, _, _): code == .noAuth || code == .authFailed ? .unauthenticated : .serviceError
        case .connectionLoss(let cause):
            switch cause {
            case .protocolError(.frameTooLarge): .oversized
            case .protocolError: .malformed
            case .closedByServer, .notConnected: .closed
            case .connectFailed: .connectFailed
            case .timedOut: .timedOut
            }
        case .sessionExpired: .expired
        case .closed: .closed
        case .noServerReachable: .connectFailed
        case .invalidPath, .invalidConfiguration, .requestTooLarge: .serviceError
        }
    }
}
