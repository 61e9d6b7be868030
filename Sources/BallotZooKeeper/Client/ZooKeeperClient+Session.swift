import NIOCore
import NIOPosix

/// One connection to one server: from the TCP connect through the handshake to its end.
struct Connection {
    enum Phase {
        /// TCP connect in progress.
        case connecting
        /// The connect request went out at `sentAt`; waiting for the connect response.
        case handshaking(sentAt: ContinuousClock.Instant)
        /// The session is up on this connection.
        case established
    }

    let id: UInt64
    let server: ZooKeeperServerAddress
    var phase = Phase.connecting
    var channel: (any Channel)?
    var lastSent: ContinuousClock.Instant
    var lastReceived: ContinuousClock.Instant
    /// The attempt's deadline while connecting, then the ping / silence timer.
    var timer: Scheduled<Void>?

    init(id: UInt64, server: ZooKeeperServerAddress, now: ContinuousClock.Instant) {
        self.id = id
        self.server = server
        lastSent = now
        lastReceived = now
    }
}

/// Opening, keeping and ending the session: connection attempts across the ensemble, the
/// handshake, pings, and the three ways a session ends (expired, closed, never opened).
extension ZooKeeperClient {
    /// Tries the servers until one grants a session or ``ZooKeeperConfiguration/connectTimeout``
    /// passes.
    func open() async throws(ZooKeeperError) {
        let deadline = eventLoop.scheduleTask(in: configuration.connectTimeout.timeAmount) {
            self.assumeIsolated { $0.giveUpOpening() }
        }
        startAttempt()
        let result = await withCheckedContinuation { openWaiters.append($0) }
        deadline.cancel()
        try result.get()
    }

    private func giveUpOpening() {
        guard state == .connecting else { return }
        if let current = connection, failures[current.server] == nil { failures[current.server] = .timedOut }
        let error = ZooKeeperError.noServerReachable(failures)
        logger.warning("no ZooKeeper server opened a session", metadata: ["error": "\(error)"])
        shutDown(as: .closed, failing: error, announce: false)
    }

    /// Connects to the next server of the ensemble.
    func startAttempt() {
        guard !closing, state == .connecting || state == .disconnected, connection == nil else { return }
        let server = servers[nextServerIndex % servers.count]
        nextServerIndex += 1
        nextConnectionID += 1
        let id = nextConnectionID
        // As ZooKeeper's own client does: one server's share of the session timeout.
        let timeout = (session?.negotiatedTimeout ?? configuration.sessionTimeout) / servers.count
        var attempt = Connection(id: id, server: server, now: clock.now)
        attempt.timer = eventLoop.scheduleTask(in: timeout.timeAmount) {
            self.assumeIsolated { $0.connectionEnded(id, cause: .timedOut) }
        }
        connection = attempt
        logger.debug("connecting", metadata: ["server": "\(server)", "connection": "\(id)"])
        let limits = configuration.limits
        ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout.timeAmount)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handlers = channel.pipeline.syncOperations
                    try handlers.addHandler(ByteToMessageHandler(ZooKeeperFrameDecoder(limits: limits)))
                    try handlers.addHandler(ZooKeeperConnectionHandler(client: self, connection: id))
                }
            }
            .connect(host: server.host, port: server.port)
            .whenComplete { result in
                self.assumeIsolated { client in
                    switch result {
                    case .success(let channel):
                        if client.connection?.id != id { channel.close(promise: nil) }
                    case .failure(let error):
                        client.connectionEnded(id, cause: .connectFailed("\(error)"))
                    }
                }
            }
    }

    /// TCP is up: send the connect request, resuming the session if there is one.
    func connectionActive(_ id: UInt64, channel: any Channel) {
        guard var current = connection, current.id == id else {
            channel.close(promise: nil)
            return
        }
        let request = ConnectRequest(
            lastZxidSeen: lastZxidSeen, timeoutMilliseconds: Int32(clamping: configuration.sessionTimeout.milliseconds),
            sessionID: sessionID, password: password, readOnly: false
        )
        current.channel = channel
        current.phase = .handshaking(sentAt: clock.now)
        connection = current
        write(JuteWriter.frame { request.encode(into: &$0) })
    }

    /// The connect response: the session is (re-)established, or it has expired.
    func handshakeAnswered(_ response: ConnectResponse, sentAt: ContinuousClock.Instant) throws(ZooKeeperProtocolError) {
        guard var current = connection else { return }
        guard response.protocolVersion == 0 else { throw .unsupportedProtocolVersion(response.protocolVersion) }
        if response.isExpired {
            logger.warning("ZooKeeper session expired", metadata: ["session": "\(hex(sessionID))", "server": "\(current.server)"])
            shutDown(as: .expired, failing: .sessionExpired, announce: true)
            return
        }
        if sessionID != 0, response.sessionID != sessionID {
            throw .sessionMismatch(expected: sessionID, received: response.sessionID)
        }
        sessionID = response.sessionID
        password = response.password
        let info = ZooKeeperSessionInfo(
            sessionID: response.sessionID, negotiatedTimeout: .milliseconds(response.timeoutMilliseconds),
            server: current.server, readOnly: response.readOnly
        )
        session = info
        current.timer?.cancel()
        current.timer = nil
        current.phase = .established
        connection = current
        failedAttempts = 0
        failures = [:]
        state = .connected
        answered(sentAt: sentAt)
        // The watches go back before anything else, so that the server holds them again before
        // it processes any request that could fire them.
        for batch in watches.setWatches(relativeZxid: lastZxidSeen, maxBytes: 128 * 1024) {
            pendingSetWatches += 1
            write(ZooKeeperRequest.setWatches(batch).frame(xid: ReservedXid.setWatches))
        }
        logger.info("ZooKeeper session established", metadata: [
            "session": "\(hex(sessionID))", "server": "\(current.server)",
            "timeout": "\(info.negotiatedTimeout)",
        ])
        deliver(.connected(info))
        armSessionTimer()
        resumeOpenWaiters(.success(()))
    }

    /// The latest answered request was sent at `sentAt` or later.
    func answered(sentAt: ContinuousClock.Instant) {
        if let previous = lastAnsweredRequestSentAt, previous >= sentAt { return }
        lastAnsweredRequestSentAt = sentAt
        publish()
    }

    // MARK: Pings and silence

    /// Wakes up when a ping is due (nothing sent for a third of the timeout) or the server has
    /// been silent too long (two thirds: a ping sent at one third was not answered in time).
    func armSessionTimer() {
        guard var current = connection, case .established = current.phase, let timeout = session?.negotiatedTimeout else { return }
        current.timer?.cancel()
        let due = min(current.lastSent + timeout / 3, current.lastReceived + timeout * 2 / 3)
        let id = current.id
        current.timer = eventLoop.scheduleTask(in: max(due - clock.now, .zero).timeAmount) {
            self.assumeIsolated { $0.sessionTimerFired(id) }
        }
        connection = current
    }

    private func sessionTimerFired(_ id: UInt64) {
        guard let current = connection, current.id == id, let timeout = session?.negotiatedTimeout else { return }
        let now = clock.now
        if now - current.lastReceived >= timeout * 2 / 3 {
            connectionEnded(id, cause: .timedOut)
            return
        }
        if now - current.lastSent >= timeout / 3 {
            pendingPings.append(now)
            write(ZooKeeperRequest.ping.frame(xid: ReservedXid.ping))
        }
        armSessionTimer()
    }

    // MARK: Endings

    /// The connection `id` is over: fail what waited on it and go to the next server.
    func connectionEnded(_ id: UInt64, cause: ZooKeeperConnectionError) {
        guard let current = connection, current.id == id else { return }
        connection = nil
        current.timer?.cancel()
        current.channel?.close(promise: nil)
        failures[current.server] = cause
        if closing {
            failRequests(.connectionLoss(cause))
            finishClosing()
            return
        }
        switch state {
        case .connected:
            state = .disconnected
            logger.info("ZooKeeper connection lost", metadata: ["server": "\(current.server)", "cause": "\(cause)"])
            // The event first: a caller whose request fails finds the disconnection on the stream.
            deliver(.disconnected(server: current.server, cause: cause))
            failRequests(.connectionLoss(cause))
            startAttempt()
        case .connecting, .disconnected:
            logger.debug("connection attempt failed", metadata: ["server": "\(current.server)", "cause": "\(cause)"])
            failRequests(.connectionLoss(cause))
            failedAttempts += 1
            retryAfterPause()
        case .expired, .closed:
            failRequests(.connectionLoss(cause))
        }
    }

    /// The next attempt: at once while servers of this round remain, after a pause (50 ms,
    /// doubling each round up to 1 s, with jitter) once every server has failed.
    private func retryAfterPause() {
        guard failedAttempts % servers.count == 0 else {
            startAttempt()
            return
        }
        let rounds = min(failedAttempts / servers.count, 5)
        let pause = min(Duration.milliseconds(50 << (rounds - 1)), .seconds(1))
        let jittered = pause / 2 + pause / 2 * Double.random(in: 0...1)
        reconnectTimer = eventLoop.scheduleTask(in: jittered.timeAmount) {
            self.assumeIsolated { client in
                client.reconnectTimer = nil
                client.startAttempt()
            }
        }
    }

    func finishClosing() {
        guard state != .closed, state != .expired else { return }
        logger.info("ZooKeeper session closed", metadata: ["session": "\(hex(sessionID))"])
        shutDown(as: .closed, failing: .closed, announce: true)
    }

    /// Ends the client for good: no connection, no timer, every waiter failed with `error`, and
    /// (if `announce`) the final event delivered before ``events`` finishes.
    private func shutDown(as final: ZooKeeperSessionState, failing error: ZooKeeperError, announce: Bool) {
        if let current = connection {
            connection = nil
            current.timer?.cancel()
            current.channel?.close(promise: nil)
        }
        reconnectTimer?.cancel()
        reconnectTimer = nil
        state = final
        watches.removeAll()
        if announce { deliver(final == .expired ? .expired : .closed) } else { publish() }
        eventSink.finish()
        failRequests(error)
        resumeOpenWaiters(.failure(error))
    }

    private func failRequests(_ error: ZooKeeperError) {
        let failed = pending
        pending.removeAll()
        pendingPings.removeAll()
        pendingSetWatches = 0
        for request in failed { request.fail(error) }
    }

    private func resumeOpenWaiters(_ result: Result<Void, ZooKeeperError>) {
        let waiters = openWaiters
        openWaiters.removeAll()
        for waiter in waiters { waiter.resume(returning: result) }
    }
}

func hex(_ value: Int64) -> String { "0x" + String(UInt64(bitPattern: value), radix: 16) }
