/// The body of a successful reply. A reply does not name its own type: the client knows it from
/// the request with the same xid. A reply with a non-zero error has no body at all.
public protocol ZooKeeperReplyBody: Hashable, Sendable {
    /// Decodes the rest of a reply frame, after its ``ReplyHeader``; every byte must belong to it.
    static func decode(from reader: inout JuteReader) throws(ZooKeeperProtocolError) -> Self
    func encode(into writer: inout JuteWriter)
}

/// The answer to `create2`: the node's actual path (with the sequence suffix, for a sequential
/// node) and its ``Stat``.
public struct Create2Response: ZooKeeperReplyBody {
    public var path: String
    public var stat: Stat

    public init(path: String, stat: Stat) {
        self.path = path
        self.stat = stat
    }

    public static func decode(from reader: inout JuteReader) throws(ZooKeeperProtocolError) -> Create2Response {
        let path = try reader.readString(JuteField("Create2Response", "path"))
        let response = Create2Response(path: path, stat: try Stat.decode(from: &reader))
        try reader.finish("Create2Response")
        return response
    }

    public func encode(into writer: inout JuteWriter) {
        writer.writeString(path)
        stat.encode(into: &writer)
    }
}

/// The answer to `exists` when the node exists (otherwise the reply's error is `noNode`).
public struct ExistsResponse: ZooKeeperReplyBody {
    public var stat: Stat

    public init(stat: Stat) { self.stat = stat }

    public static func decode(from reader: inout JuteReader) throws(ZooKeeperProtocolError) -> ExistsResponse {
        let response = ExistsResponse(stat: try Stat.decode(from: &reader))
        try reader.finish("ExistsResponse")
        return response
    }

    public func encode(into writer: inout JuteWriter) { stat.encode(into: &writer) }
}

/// The answer to `getData`.
public struct GetDataResponse: ZooKeeperReplyBody {
    public var data: [UInt8]
    public var stat: Stat

    public init(data: [UInt8], stat: Stat) {
        self.data = data
        self.stat = stat
    }

    public static func decode(from reader: inout JuteReader) throws(ZooKeeperProtocolError) -> GetDataResponse {
        let data = try reader.readBuffer(JuteField("GetDataResponse", "data"))
        let response = GetDataResponse(data: data, stat: try Stat.decode(from: &reader))
        try reader.finish("GetDataResponse")
        return response
    }

    public func encode(into writer: inout JuteWriter) {
        writer.writeBuffer(data)
        stat.encode(into: &writer)
    }
}

/// The answer to `getChildren`: the children's names (not paths), in no particular order.
public struct GetChildrenResponse: ZooKeeperReplyBody {
    public var children: [String]

    public init(children: [String]) { self.children = children }

    public static func decode(from reader: inout JuteReader) throws(ZooKeeperProtocolError) -> GetChildrenResponse {
        let response = GetChildrenResponse(children: try reader.readStringVector(JuteField("GetChildrenResponse", "children")))
        try reader.finish("GetChildrenResponse")
        return response
    }

    public func encode(into writer: inout JuteWriter) { writer.writeStringVector(children) }
}

/// The answer to `delete`, `ping`, `setWatches` and `closeSession`: the header alone.
public struct EmptyResponse: ZooKeeperReplyBody {
    public init() {}

    public static func decode(from reader: inout JuteReader) throws(ZooKeeperProtocolError) -> EmptyResponse {
        try reader.finish("ReplyHeader")
        return EmptyResponse()
    }

    public func encode(into writer: inout JuteWriter) {}
}
