import NIOCore

/// Frames from the server, in the order it sent them: the connect response first, then replies
/// (matched to requests by xid, in order), ping answers and watch notifications.
extension ZooKeeperClient {
    /// One whole frame from connection `id`. Bytes that do not decode end the connection with
    /// ``ZooKeeperConnectionError/protocolError(_:)``; the session is carried on elsewhere.
    func frameReceived(_ frame: ByteBuffer, on id: UInt64) {
        guard var current = connection, current.id == id else { return }
        current.lastReceived = clock.now
        connection = current
        var reader = JuteReader(payload: frame, limits: configuration.limits)
        do throws(ZooKeeperProtocolError) {
            switch current.phase {
            case .handshaking(let sentAt):
                try handshakeAnswered(try ConnectResponse.decode(from: &reader), sentAt: sentAt)
            case .connecting:
                // Not reached: the connect request goes out when the channel becomes active, before
                // any read. Were it reached, the attempt's start is a safe (earlier) send instant.
                try handshakeAnswered(try ConnectResponse.decode(from: &reader), sentAt: current.lastSent)
            case .established:
                try replyReceived(&reader)
            }
        } catch {
            logger.warning("refusing bytes from ZooKeeper server", metadata: ["server": "\(current.server)", "error": "\(error)"])
            connectionEnded(id, cause: .protocolError(error))
        }
    }

    private func replyReceived(_ reader: inout JuteReader) throws(ZooKeeperProtocolError) {
        let header = try ReplyHeader.decode(from: &reader)
        switch header.xid {
        case ReservedXid.notification:
            let event = try WatcherEvent.decode(from: &reader)
            if watches.fire(event) { deliver(.watch(event)) }
        case ReservedXid.ping:
            try reader.finish("ReplyHeader")
            guard let sentAt = pendingPings.popFirst() else { throw .unexpectedReply(xid: header.xid, expected: nil) }
            if header.error == .ok { answered(sentAt: sentAt) }
        case ReservedXid.setWatches:
            try reader.finish("ReplyHeader")
            guard pendingSetWatches > 0 else { throw .unexpectedReply(xid: header.xid, expected: nil) }
            pendingSetWatches -= 1
            if header.error != .ok {
                logger.warning("the server refused to re-register watches", metadata: ["error": "\(header.error)"])
            }
        default:
            guard let request = pending.first, request.xid == header.xid else {
                throw .unexpectedReply(xid: header.xid, expected: pending.first?.xid)
            }
            if header.error == .ok {
                let resume = try request.succeed(&reader)
                pending.removeFirst()
                noteZxid(header.zxid)
                watches.confirm(request.request, nodeExists: true)
                answered(sentAt: request.sentAt)
                resume()
            } else {
                try reader.finish("ReplyHeader")
                pending.removeFirst()
                noteZxid(header.zxid)
                if header.error == .sessionExpired {
                    request.fail(.sessionExpired)
                    return
                }
                if header.error == .noNode { watches.confirm(request.request, nodeExists: false) }
                answered(sentAt: request.sentAt)
                request.fail(.server(header.error, operation: request.request.operation, path: request.request.path))
            }
        }
    }

    private func noteZxid(_ zxid: Int64) {
        guard zxid > lastZxidSeen else { return }
        lastZxidSeen = zxid
        publish()
    }
}
