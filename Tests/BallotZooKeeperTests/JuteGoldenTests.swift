import BallotZooKeeper
import NIOCore
import Testing

/// Every record the client speaks, against bytes written out by hand from `zookeeper.jute`
/// (big-endian; `ustring`/`buffer` = int length + bytes; `vector` = int count + elements).
@Suite("Jute golden bytes")
struct JuteGoldenTests {
    @Test("ConnectRequest: version, lastZxidSeen, timeOut, sessionId, passwd, then the readOnly byte")
    func connectRequest() {
        let request = ConnectRequest(
            lastZxidSeen: 0x1122_3344_5566_7788, timeoutMilliseconds: 4000, sessionID: 0x0102_0304_0506_0708,
            password: [UInt8](repeating: 0xAB, count: 16), readOnly: false
        )
        let frame = JuteWriter.frame { request.encode(into: &$0) }
        #expect(bytes(of: frame) == hex("""
            00 00 00 2D
            00 00 00 00
            11 22 33 44 55 66 77 88
            00 00 0F A0
            01 02 03 04 05 06 07 08
            00 00 00 10 AB AB AB AB AB AB AB AB AB AB AB AB AB AB AB AB
            00
            """))
    }

    @Test("ConnectResponse: version, timeOut, sessionId, passwd, readOnly (optional for old servers)")
    func connectResponse() throws {
        let body = hex("""
            00 00 00 00
            00 00 17 70
            01 02 03 04 05 06 07 08
            00 00 00 10 00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F
            """)
        let expected = ConnectResponse(timeoutMilliseconds: 6000, sessionID: 0x0102_0304_0506_0708,
                                       password: Array(0...15), readOnly: false)
        #expect(try decode(body + [0], ConnectResponse.decode) == expected)
        #expect(try decode(body, ConnectResponse.decode) == expected)
        var readOnly = expected
        readOnly.readOnly = true
        #expect(try decode(body + [1], ConnectResponse.decode) == readOnly)
        #expect(try decode(hex("00000000 00000000 0000000000000000 00000010") + [UInt8](repeating: 0, count: 16) + [0],
                           ConnectResponse.decode).isExpired)
    }

    @Test("Request header (xid, type) and reply header (xid, zxid, err)")
    func headers() throws {
        var writer = JuteWriter()
        RequestHeader(xid: 7, type: .getChildren).encode(into: &writer)
        #expect(bytes(of: writer.buffer) == hex("00 00 00 07  00 00 00 08"))
        let header = try decode(hex("00 00 00 07  00 00 00 01 00 00 00 2A  FF FF FF 9B"), ReplyHeader.decode)
        #expect(header == ReplyHeader(xid: 7, zxid: 0x1_0000_002A, error: .noNode))
    }

    @Test("create2 of an ephemeral-sequential node with the open ACL")
    func createRequest() {
        let request = ZooKeeperRequest.create(path: "/e/n-", data: [0x68, 0x69], acl: ACL.openUnsafe, mode: .ephemeralSequential)
        #expect(bytes(of: request.frame(xid: 1)) == hex("""
            00 00 00 36
            00 00 00 01  00 00 00 0F
            00 00 00 05 2F 65 2F 6E 2D
            00 00 00 02 68 69
            00 00 00 01
              00 00 00 1F
              00 00 00 05 77 6F 72 6C 64
              00 00 00 06 61 6E 79 6F 6E 65
            00 00 00 03
            """))
        #expect(CreateMode.allCases.map(\.rawValue) == [0, 1, 2, 3])
    }

    @Test("Create2Response: path, then the node's Stat (czxid first)")
    func create2Response() throws {
        let body = juteString("/e/n-0000000042") + goldenStatBytes
        let response = try decode(body, Create2Response.decode)
        #expect(response == Create2Response(path: "/e/n-0000000042", stat: goldenStat))
        #expect(response.stat.czxid == 0x1_0000_0002)
        #expect(ZooKeeperPath.sequenceNumber(ofName: ZooKeeperPath.lastComponent(of: response.path)) == 42)
    }

    @Test("delete: path, version")
    func deleteRequest() {
        #expect(bytes(of: ZooKeeperRequest.delete(path: "/a", version: -1).frame(xid: 2)) == hex("""
            00 00 00 12  00 00 00 02  00 00 00 02  00 00 00 02 2F 61  FF FF FF FF
            """))
    }

    @Test("exists, getData and getChildren: path, watch flag")
    func readRequests() {
        #expect(bytes(of: ZooKeeperRequest.exists(path: "/a", watch: true).frame(xid: 3)) == hex(
            "00 00 00 0F  00 00 00 03  00 00 00 03  00 00 00 02 2F 61  01"))
        #expect(bytes(of: ZooKeeperRequest.getData(path: "/a", watch: false).frame(xid: 4)) == hex(
            "00 00 00 0F  00 00 00 04  00 00 00 04  00 00 00 02 2F 61  00"))
        #expect(bytes(of: ZooKeeperRequest.getChildren(path: "/a", watch: true).frame(xid: 5)) == hex(
            "00 00 00 0F  00 00 00 05  00 00 00 08  00 00 00 02 2F 61  01"))
    }

    @Test("ExistsResponse, GetDataResponse, GetChildrenResponse")
    func readResponses() throws {
        #expect(try decode(goldenStatBytes, ExistsResponse.decode) == ExistsResponse(stat: goldenStat))
        #expect(try decode(hex("00 00 00 03 61 62 63") + goldenStatBytes, GetDataResponse.decode)
            == GetDataResponse(data: Array("abc".utf8), stat: goldenStat))
        // Null data (a node created with null) is -1, read as empty.
        #expect(try decode(hex("FF FF FF FF") + goldenStatBytes, GetDataResponse.decode).data == [])
        #expect(try decode(hex("00 00 00 02  00 00 00 01 78  00 00 00 02 79 7A"), GetChildrenResponse.decode)
            == GetChildrenResponse(children: ["x", "yz"]))
        #expect(try decode(hex("00 00 00 00"), GetChildrenResponse.decode).children == [])
    }

    @Test("ping (xid -2, type 11) and closeSession (type -11) are headers alone")
    func pingAndClose() throws {
        #expect(bytes(of: ZooKeeperRequest.ping.frame(xid: ReservedXid.ping)) == hex("00 00 00 08  FF FF FF FE  00 00 00 0B"))
        #expect(bytes(of: ZooKeeperRequest.closeSession.frame(xid: 9)) == hex("00 00 00 08  00 00 00 09  FF FF FF F5"))
        #expect(try decode([], EmptyResponse.decode) == EmptyResponse())
    }

    @Test("SetWatches (xid -8, type 101): relativeZxid, then data, exist and child watch vectors")
    func setWatches() {
        let request = ZooKeeperRequest.setWatches(SetWatches(relativeZxid: 0x10, dataWatches: ["/a"], existWatches: [],
                                                             childWatches: ["/b", "/c"]))
        #expect(bytes(of: request.frame(xid: ReservedXid.setWatches)) == hex("""
            00 00 00 2E
            FF FF FF F8  00 00 00 65
            00 00 00 00 00 00 00 10
            00 00 00 01  00 00 00 02 2F 61
            00 00 00 00
            00 00 00 02  00 00 00 02 2F 62  00 00 00 02 2F 63
            """))
    }

    @Test("WatcherEvent (xid -1): type, state SyncConnected, path")
    func watcherEvent() throws {
        #expect(try decode(hex("00 00 00 02  00 00 00 03  00 00 00 04 2F 61 2F 62"), WatcherEvent.decode)
            == WatcherEvent(type: .nodeDeleted, path: "/a/b"))
        #expect(WatchEventType.allCases.map(\.rawValue) == [1, 2, 3, 4])
        var writer = JuteWriter()
        WatcherEvent(type: .nodeChildrenChanged, path: "/x").encode(into: &writer)
        #expect(bytes(of: writer.buffer) == hex("00 00 00 04  00 00 00 03  00 00 00 02 2F 78"))
    }

    @Test("A reply frame splits into header and body; frames split wherever the bytes are cut")
    func framing() throws {
        let stream = FakeZooKeeperServer.reply(xid: 1, zxid: 2, body: goldenStatBytes)
            + FakeZooKeeperServer.reply(xid: -2, zxid: 2)
        for cut in 0...stream.count {
            var buffer = ByteBuffer(bytes: stream[0..<cut])
            var frames: [ByteBuffer] = []
            while let frame = try ZooKeeperFrameDecoder.nextFrame(in: &buffer, limits: .default) { frames.append(frame) }
            buffer.writeBytes(stream[cut...])
            while let frame = try ZooKeeperFrameDecoder.nextFrame(in: &buffer, limits: .default) { frames.append(frame) }
            #expect(frames.count == 2)
            #expect(buffer.readableBytes == 0)
            var reader = JuteReader(payload: frames[0])
            #expect(try ReplyHeader.decode(from: &reader) == ReplyHeader(xid: 1, zxid: 2, error: .ok))
            #expect(try ExistsResponse.decode(from: &reader).stat == goldenStat)
        }
    }

    @Test("Every reply body encodes back to the bytes it was decoded from")
    func roundTrips() throws {
        var writer = JuteWriter()
        Create2Response(path: "/p", stat: goldenStat).encode(into: &writer)
        GetChildrenResponse(children: ["é", ""]).encode(into: &writer)
        ConnectResponse(timeoutMilliseconds: 1, sessionID: 2, password: [3], readOnly: true).encode(into: &writer)
        #expect(bytes(of: writer.buffer) == juteString("/p") + goldenStatBytes + hex("00 00 00 02") + juteString("é")
            + juteString("") + hex("00 00 00 00  00 00 00 01  00 00 00 00 00 00 00 02  00 00 00 01 03  01"))
    }
}
