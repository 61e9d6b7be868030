/// A node's metadata, as every read and `create2` return it (68 bytes on the wire).
public struct Stat: Hashable, Sendable {
    /// The zxid of the transaction that created the node. Zxids grow with every change the ensemble
    /// commits, across leader changes (epoch in the high 32 bits), so a later node has a larger one.
    public var czxid: Int64
    /// The zxid of the last change to the node's data.
    public var mzxid: Int64
    /// Creation and last modification, milliseconds since the epoch on the server's wall clock.
    public var ctime: Int64
    public var mtime: Int64
    /// Changes to the data, the children and the ACL.
    public var version: Int32
    public var cversion: Int32
    public var aversion: Int32
    /// The session that owns the node if it is ephemeral, else 0.
    public var ephemeralOwner: Int64
    public var dataLength: Int32
    public var numChildren: Int32
    /// The zxid of the last change to the node's children.
    public var pzxid: Int64

    public init(czxid: Int64, mzxid: Int64, ctime: Int64, mtime: Int64, version: Int32, cversion: Int32,
                aversion: Int32, ephemeralOwner: Int64, dataLength: Int32, numChildren: Int32, pzxid: Int64) {
        self.czxid = czxid
        self.mzxid = mzxid
        self.ctime = ctime
        self.mtime = mtime
        self.version = version
        self.cversion = cversion
        self.aversion = aversion
        self.ephemeralOwner = ephemeralOwner
        self.dataLength = dataLength
        self.numChildren = numChildren
        self.pzxid = pzxid
    }

    static func decode(from reader: inout JuteReader) throws(ZooKeeperProtocolError) -> Stat {
        func field(_ name: String) -> JuteField { JuteField("Stat", name) }
        return Stat(
            czxid: try reader.readLong(field("czxid")), mzxid: try reader.readLong(field("mzxid")),
            ctime: try reader.readLong(field("ctime")), mtime: try reader.readLong(field("mtime")),
            version: try reader.readInt(field("version")), cversion: try reader.readInt(field("cversion")),
            aversion: try reader.readInt(field("aversion")),
            ephemeralOwner: try reader.readLong(field("ephemeralOwner")),
            dataLength: try reader.readInt(field("dataLength")), numChildren: try reader.readInt(field("numChildren")),
            pzxid: try reader.readLong(field("pzxid"))
        )
    }

    func encode(into writer: inout JuteWriter) {
        writer.writeLong(czxid)
        writer.writeLong(mzxid)
        writer.writeLong(ctime)
        writer.writeLong(mtime)
        writer.writeInt(version)
        writer.writeInt(cversion)
        writer.writeInt(aversion)
        writer.writeLong(ephemeralOwner)
        writer.writeInt(dataLength)
        writer.writeInt(numChildren)
        writer.writeLong(pzxid)
    }
}
