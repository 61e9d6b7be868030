import NIOCore

/// A request this client sends, with the jute record of its body.
///
/// Bodies: `create2` is `CreateRequest` (path, data, acl vector, flags); `delete` is
/// `DeleteRequest` (path, version); `exists`, `getData` and `getChildren` are `ExistsRequest`,
/// `GetDataRequest` and `GetChildrenRequest`, three records with one layout (path, watch);
/// `setWatches` is `SetWatches`; `ping` and `closeSession` have no body.
public enum ZooKeeperRequest: Hashable, Sendable {
    case create(path: String, data: [UInt8], acl: [ACL], mode: CreateMode)
    /// `version` -1 deletes whatever the version.
    case delete(path: String, version: Int32)
    case exists(path: String, watch: Bool)
    case getData(path: String, watch: Bool)
    case getChildren(path: String, watch: Bool)
    case ping
    case setWatches(SetWatches)
    case closeSession

    public var operation: OperationCode {
        switch self {
        case .create: .create2
        case .delete: .delete
        case .exists: .exists
        case .getData: .getData
        case .getChildren: .getChildren
        case .ping: .ping
        case .setWatches: .setWatches
        case .closeSession: .closeSession
        }
    }

    /// The path the request is about, if any.
    public var path: String? {
        switch self {
        case .create(let path, _, _, _), .delete(let path, _), .exists(let path, _), .getData(let path, _),
            .getChildren(let path, _):
            path
        case .ping, .setWatches, .closeSession: nil
        }
    }

    public func encodeBody(into writer: inout JuteWriter) {
        switch self {
        case .create(let path, let data, let acl, let mode):
            writer.writeString(path)
            writer.writeBuffer(data)
            writer.writeInt(Int32(acl.count))
            for entry in acl { entry.encode(into: &writer) }
            writer.writeInt(mode.rawValue)
        case .delete(let path, let version):
            writer.writeString(path)
            writer.writeInt(version)
        case .exists(let path, let watch), .getData(let path, let watch), .getChildren(let path, let watch):
            writer.writeString(path)
            writer.writeBool(watch)
        case .setWatches(let watches):
            watches.encode(into: &writer)
        case .ping, .closeSession:
            break
        }
    }

    /// The whole frame: length prefix, ``RequestHeader``, body.
    public func frame(xid: Int32) -> ByteBuffer {
        JuteWriter.frame { writer in
            RequestHeader(xid: xid, type: operation).encode(into: &writer)
            encodeBody(into: &writer)
        }
    }
}

/// `SetWatches`: after a reconnect, the watches the client still holds, so that the new server
/// keeps them, and fires at once those whose node changed after `relativeZxid`.
public struct SetWatches: Hashable, Sendable {
    public var relativeZxid: Int64
    /// Paths watched with `getData`, or with `exists` while the node existed.
    public var dataWatches: [String]
    /// Paths watched with `exists` while the node did not exist (waiting for its creation).
    public var existWatches: [String]
    /// Paths watched with `getChildren`.
    public var childWatches: [String]

    public init(relativeZxid: Int64, dataWatches: [String], existWatches: [String], childWatches: [String]) {
        self.relativeZxid = relativeZxid
        self.dataWatches = dataWatches
        self.existWatches = existWatches
        self.childWatches = childWatches
    }

    public func encode(into writer: inout JuteWriter) {
        writer.writeLong(relativeZxid)
        writer.writeStringVector(dataWatches)
        writer.writeStringVector(existWatches)
        writer.writeStringVector(childWatches)
    }
}
