import BallotClient
import BallotCore
import BallotRuntime
import Logging
import NIOCore
import NIOPosix

/// Leadership from etcd: the election recipe of etcd's own `concurrency` package, done over the v3
/// JSON gateway and bounded by the claim inequality.
///
/// 1. **Lease.** Grant a lease of `--lease-ttl` and keep it alive every third of the TTL.
/// 2. **Candidacy.** Put `/ballot/elections/NAME/<lease ID in hex>` = this node's ID under the
///    lease, unless it exists (one transaction). Its creation revision is the candidacy's place in
///    line and its fencing token: etcd's revision counter only grows, and a key created later gets
///    a later revision, so the oldest key — the leader — only ever gives way to younger ones.
/// 3. **Observe.** Read every candidacy under the prefix (oldest first, linearizable), then watch
///    the prefix from the next revision. The oldest key leads; every node knows who, and each
///    deletion is seen once, with no re-read (etcd's events carry the keys).
/// 4. **Claim.** This node leads while its key is the oldest, until
///    `(send time of the last acknowledged keep-alive) + TTL × (1 − ρ) − margin` (``ClaimBound``):
///    etcd cannot delete the key, and so cannot let anyone else lead, before the lease's TTL has
///    run from the last renewal it processed, which came after that send.
/// 5. **Resign** on shutdown: stop claiming, delete the key, revoke the lease.
///
/// A lost lease (a keep-alive answered with TTL 0, the key deleted) ends the candidacy at once; the
/// node then makes a new one (new lease, new key, at the back of the line), never continuing the
/// old claim. Why a watch on the prefix and not the `v3election` API: docs/architecture.md.
public actor EtcdBackend: ElectionBackend {
    public nonisolated let view: LeadershipView
    public nonisolated let kind = BackendKind.etcd
    public nonisolated let configuration: EtcdBackendConfiguration
    public nonisolated var validity: Duration { configuration.leaseTTL }
    nonisolated let eventLoop: any EventLoop
    let gateway: EtcdGateway
    let credentials: EtcdCredentials?
    let logger: Logger
    let observer: (any BackendObserver)?
    private let publisher: LeadershipPublisher
    private let prefix: [UInt8]
    private let value: [UInt8]

    // The current candidacy.
    private var lease: Int64?
    private var grantedTTL: Duration
    private var lastRenewalSentAt: MonotonicInstant?
    private var ownKey: [UInt8]?
    private var ownRevision: Int64?
    /// Every candidacy under the prefix, by key, as last seen.
    private var candidates: [[UInt8]: EtcdKeyValue] = [:]
    private var refusedValues: Set<[UInt8]> = []
    private let claimTimer: ClaimTimer
    private var connected = false
    private var stopping = false

    /// A request's time limit (grant, transaction, range, and opening a watch).
    let requestTimeout: Duration
    /// A keep-alive's time limit: a fifth of the TTL (at least 300 ms), so a silent member is left
    /// well before the claim runs out.
    let renewalTimeout: Duration

    public init(configuration: EtcdBackendConfiguration, node: NodeID, view: LeadershipView,
                observer: (any BackendObserver)?, tokens: (any FencingTokenStore)?, recoveredToken: Term,
                eventLoop: any EventLoop = MultiThreadedEventLoopGroup.singleton.any(),
                logger: Logger) throws(EtcdConfigurationError) {
        precondition(view.node == node, "the backend must produce this node's view")
        self.configuration = configuration
        self.view = view
        self.eventLoop = eventLoop
        self.logger = logger
        self.observer = observer
        credentials = try configuration.credentialsFile.map { path throws(EtcdConfigurationError) in
            try EtcdCredentials(contentsOfFile: path)
        }
        gateway = try EtcdGateway(endpoints: configuration.endpoints, tls: configuration.tls, eventLoop: eventLoop,
                                  logger: logger)
        publisher = LeadershipPublisher(view: view, observer: observer, tokens: tokens, recoveredToken: recoveredToken,
                                        at: SystemMonotonicClock.now)
        claimTimer = ClaimTimer(eventLoop: eventLoop, publisher: publisher, logger: logger)
        prefix = Array(configuration.election.etcdPrefix.utf8)
        value = Array("\(node)".utf8)
        grantedTTL = configuration.leaseTTL
        requestTimeout = max(configuration.leaseTTL / 2, .seconds(1))
        renewalTimeout = max(configuration.leaseTTL / 5, .milliseconds(300))
    }

    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        eventLoop.executor.asUnownedSerialExecutor()
    }

    private var now: MonotonicInstant { SystemMonotonicClock.now }

    /// The claim bound for the lease as etcd last renewed it.
    private var bound: ClaimBound { ClaimBound(validity: grantedTTL, margin: configuration.claimMargin) }

    // MARK: Running

    public func run() async throws {
        var pause = Duration.milliseconds(50)
        while !Task.isCancelled, !stopping {
            do {
                try await startCandidacy()
                pause = .milliseconds(50)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await self.keepAliveLoop() }
                    group.addTask { try await self.observeLoop() }
                    defer { group.cancelAll() }
                    _ = try await group.next()
                }
            } catch let error as BackendError {
                throw error
            } catch is CancellationError {
                break
            } catch let ended as CandidacyEnded {
                logger.notice("etcd candidacy ended; starting a new one", metadata: ["reason": "\(ended)"])
            } catch {
                logger.warning("etcd candidacy failed", metadata: ["error": "\(error)"])
            }
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
        let timeout = Duration.seconds(1)
        if let key = ownKey {
            do {
                try await gateway.delete(key: key, timeout: timeout, credentials: credentials)
                logger.notice("resigned from the etcd election", metadata: ["key": "\(String(decoding: key, as: UTF8.self))"])
            } catch {
                logger.warning("could not delete the candidacy key at shutdown; it goes with the lease", metadata: ["error": "\(error)"])
            }
        }
        if let lease { try? await gateway.revoke(lease: lease, timeout: timeout, credentials: credentials) }
        await gateway.shutDown()
    }

    public func status() async -> BackendStatus {
        let endpoint = await gateway.currentEndpointName
        let at = now
        return BackendStatus(
            backend: kind.rawValue, election: configuration.election.rawValue,
            connectedTo: connected ? endpoint : nil,
            session: lease.map { String(UInt64(bitPattern: $0), radix: 16) },
            candidacy: ownKey.map { String(decoding: $0, as: UTF8.self) },
            candidacyToken: ownRevision.map { UInt64(max($0, 0)) }, candidates: candidates.count,
            claimRemainingMs: publisher.claimDeadline.flatMap { $0 > at ? ($0 - at).milliseconds : nil },
            sinceRenewalMs: lastRenewalSentAt.map { (at - $0).milliseconds })
    }

    // MARK: The candidacy

    /// Logs in if credentials were given, grants a lease and puts the candidacy key; retries (with
    /// a growing pause, moving through the endpoints) until it succeeds or the task is cancelled.
    private func startCandidacy() async throws {
        var pause = Duration.milliseconds(50)
        while true {
            try Task.checkCancellation()
            do {
                if let credentials, await gateway.token == nil {
                    try await gateway.authenticate(credentials, timeout: requestTimeout)
                }
                let sent = now
                let granted = try await gateway.grantLease(ttlSeconds: configuration.leaseTTLSeconds,
                                                           timeout: requestTimeout, credentials: credentials)
                lease = granted.id
                grantedTTL = .seconds(granted.ttlSeconds)
                // The lease was created after the grant was sent: it counts as a renewal.
                renewed(sentAt: sent, roundTrip: now - sent)
                let key = prefix + Array(String(UInt64(bitPattern: granted.id), radix: 16).utf8)
                let revision = try await gateway.campaign(key: key, value: value, lease: granted.id,
                                                          timeout: requestTimeout, credentials: credentials)
                ownKey = key
                ownRevision = revision
                publisher.campaignStarted(at: now)
                let endpoint = await gateway.currentEndpointName
                logger.info("etcd candidacy made", metadata: [
                    "key": "\(String(decoding: key, as: UTF8.self))", "revision": "\(revision)",
                    "ttl": "\(granted.ttlSeconds)s", "endpoint": "\(endpoint)",
                ])
                return
            } catch {
                observer?.coordinationFailed(error.failure)
                setConnected(false)
                logger.warning("cannot make an etcd candidacy yet", metadata: ["error": "\(error)"])
                if let lease {
                    // A grant whose key could not be put: leave it to expire, it holds nothing.
                    self.lease = nil
                    logger.debug("abandoning lease", metadata: ["lease": "\(lease)"])
                }
            }
            try await Task.sleep(for: pause)
            pause = min(pause * 2, .seconds(1))
        }
    }

    /// Forgets the candidacy (its lease expired, its key went, or it could not be kept): no claim
    /// from here on, and the next candidacy starts from scratch.
    private func endCandidacy() throws {
        lease = nil
        ownKey = nil
        ownRevision = nil
        lastRenewalSentAt = nil
        candidates = [:]
        setConnected(false)
        try publish()
    }

    /// Renews the lease every third of the TTL; a failed renewal is retried soon on the next
    /// endpoint. Throws ``CandidacyEnded/leaseExpired`` when etcd says the lease is gone.
    private func keepAliveLoop() async throws {
        let interval = configuration.leaseTTL / 3
        var next = now + interval
        while true {
            let wait = next - now
            if wait > .zero { try await Task.sleep(for: wait) }
            try Task.checkCancellation()
            guard let lease else { throw CandidacyEnded.leaseExpired }
            let sent = now
            do {
                let ttl = try await gateway.keepAlive(lease: lease, timeout: renewalTimeout, credentials: credentials)
                guard ttl > 0 else { throw CandidacyEnded.leaseExpired }
                grantedTTL = .seconds(ttl)
                renewed(sentAt: sent, roundTrip: now - sent)
                try publish()
                next = sent + interval
            } catch let error as GatewayError {
                observer?.coordinationFailed(error.failure)
                setConnected(false)
                logger.info("etcd keep-alive failed", metadata: ["error": "\(error)"])
                next = now + min(interval / 4, .milliseconds(250))
            }
        }
    }

    /// Keeps ``candidates`` current: a linearizable read of the prefix, then a watch from the next
    /// revision, reopened (after a fresh read) whenever it ends. Throws ``CandidacyEnded/keyDeleted``
    /// when this node's own key is deleted.
    private func observeLoop() async throws {
        var revision: Int64?
        var pause = Duration.milliseconds(50)
        while true {
            try Task.checkCancellation()
            var stream: GatewayStream?
            do {
                if revision == nil {
                    let read = try await gateway.range(prefix: prefix, timeout: requestTimeout, credentials: credentials)
                    candidates = Dictionary(read.kvs.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
                    revision = read.revision
                    if let ownKey, candidates[ownKey] == nil { throw CandidacyEnded.keyDeleted }
                    try publish()
                }
                let opened = try await gateway.watch(prefix: prefix, from: (revision ?? 0) + 1, timeout: requestTimeout)
                stream = opened
                pause = .milliseconds(50)
                let endpoint = await gateway.endpointName(opened.endpoint)
                for try await line in opened.messages {
                    let batch = try gateway.decodeWatch(line, endpoint: endpoint)
                    if batch.canceled {
                        logger.info("etcd ended the watch", metadata: [
                            "reason": "\(batch.cancelReason ?? "-")", "compact_revision": "\(batch.compactRevision)",
                        ])
                        revision = nil
                        break
                    }
                    try apply(batch)
                    revision = max(revision ?? 0, batch.revision)
                }
            } catch let error as GatewayError {
                observer?.coordinationFailed(error.failure)
                logger.info("etcd watch interrupted", metadata: ["error": "\(error)"])
                revision = nil
                if let stream { await gateway.cancel(stream) }
                try await Task.sleep(for: pause)
                pause = min(pause * 2, .seconds(1))
                continue
            }
            if let stream { await gateway.cancel(stream) }
        }
    }

    /// Applies one batch of watch events, then publishes.
    private func apply(_ batch: EtcdWatchBatch) throws {
        let predecessor = predecessorKey()
        let leading = candidates.values.min { $0.createRevision < $1.createRevision }?.key
        var predecessorGone = false
        var leaderGone = false
        for event in batch.events {
            switch event {
            case .put(let kv):
                candidates[kv.key] = kv
            case .delete(let key, _):
                candidates[key] = nil
                if key == ownKey { throw CandidacyEnded.keyDeleted }
                if key == predecessor { predecessorGone = true }
                if key == leading { leaderGone = true }
            }
        }
        // The leader's candidacy is gone: this node has lost its leader, and learns the next one
        // from the same batch (the leaderless interval it lived through is what follows here).
        if leaderGone { try publisher.publish(ElectionObservation(lastContact: lastRenewalSentAt), at: now) }
        if predecessorGone { publisher.campaignStarted(at: now) }
        try publish()
    }

    /// The candidacy just ahead of this node's own, if any.
    private func predecessorKey() -> [UInt8]? {
        guard let ownRevision else { return nil }
        return candidates.values.filter { $0.createRevision < ownRevision }.max { $0.createRevision < $1.createRevision }?.key
    }

    // MARK: Publishing

    private func renewed(sentAt sent: MonotonicInstant, roundTrip: Duration) {
        if let last = lastRenewalSentAt, last >= sent { return }
        lastRenewalSentAt = sent
        observer?.coordinationRenewed(after: max(roundTrip, .zero))
        setConnected(true)
    }

    private func setConnected(_ value: Bool) {
        guard connected != value else { return }
        connected = value
        observer?.coordinationConnected(value)
    }

    /// Publishes what this node now knows to its view, and wakes at the claim's deadline.
    private func publish() throws {
        guard !stopping else { return }
        let oldest = candidates.values.min { $0.createRevision < $1.createRevision }
        var observation = ElectionObservation()
        observation.lastContact = lastRenewalSentAt
        observation.ownToken = ownRevision.map { Term(UInt64(max($0, 0))) }
        if let oldest {
            if oldest.key == ownKey {
                observation.ownCandidacyLeads = true
                observation.claimUntil = lastRenewalSentAt.map { bound.deadline(renewalSentAt: $0) }
            } else if let id = nodeID(of: oldest), id != view.node {
                observation.leader = LeaderInfo(id: id, term: Term(UInt64(max(oldest.createRevision, 0))))
            }
        }
        try publisher.publish(observation, at: now)
        claimTimer.rearm()
    }

    /// The node a candidacy names, or nil (counted and logged once) if its value is no node ID.
    private func nodeID(of kv: EtcdKeyValue) -> NodeID? {
        if let text = String(validating: kv.value, as: UTF8.self), let raw = UInt64(text), String(raw) == text,
           let id = NodeID(raw)
        {
            return id
        }
        if refusedValues.insert(kv.key).inserted {
            observer?.coordinationFailed(.malformed)
            logger.warning("an etcd candidacy's value is not a node ID; its holder cannot be named", metadata: [
                "key": "\(String(decoding: kv.key, as: UTF8.self))", "bytes": "\(kv.value.count)",
            ])
        }
        return nil
    }
}

/// Why a candidacy ended on etcd's side.
enum CandidacyEnded: Error, CustomStringConvertible {
    case leaseExpired
    case keyDeleted

    var description: String {
        switch self {
        case .leaseExpired: "the lease expired or was revoked"
        case .keyDeleted: "the candidacy key was deleted"
        }
    }
}

extension EtcdGateway {
    var currentEndpointName: String { currentEndpoint.description }
    func endpointName(_ index: Int) -> String { endpoints[index].description }
}
