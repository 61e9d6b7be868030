/// A watch notification (xid -1): the jute record `WatcherEvent` (type, state, path).
public struct WatcherEvent: Hashable, Sendable {
    public var type: WatchEventType
    public var path: String

    public init(type: WatchEventType, path: String) {
        self.type = type
        self.path = path
    }

    /// `SyncConnected`, the keeper state every node event carries.
    public static let syncConnectedState: Int32 = 3

    public static func decode(from reader: inout JuteReader) throws(ZooKeeperProtocolError) -> WatcherEvent {
        let typeField = JuteField("WatcherEvent", "type")
        let typeOffset = reader.offset
        let code = try reader.readInt(typeField)
        guard let type = WatchEventType(rawValue: code) else {
            throw .malformed(typeField, offset: typeOffset, .unexpectedValue(Int64(code)))
        }
        let stateField = JuteField("WatcherEvent", "state")
        let stateOffset = reader.offset
        let state = try reader.readInt(stateField)
        guard state == syncConnectedState else {
            throw .malformed(stateField, offset: stateOffset, .unexpectedValue(Int64(state)))
        }
        let event = WatcherEvent(type: type, path: try reader.readString(JuteField("WatcherEvent", "path")))
        try reader.finish("WatcherEvent")
        return event
    }

    public func encode(into writer: inout JuteWriter) {
        writer.writeInt(type.rawValue)
        writer.writeInt(Self.syncConnectedState)
        writer.writeString(path)
    }
}

/// What happened to a watched node (`Watcher.Event.EventType`). Only the four node events reach
/// a client that sets plain one-shot watches; anything else from the server is refused.
public enum WatchEventType: Int32, Hashable, Sendable, CaseIterable {
    case nodeCreated = 1
    case nodeDeleted = 2
    case nodeDataChanged = 3
    case nodeChildrenChanged = 4
}
