import BallotCore

/// The byte positions shared by every frame: `[u32 length][u8 version][u8 type][body]`.
///
/// The length counts every byte after the length field itself (version, type and body), so a
/// frame occupies `4 + length` bytes on the stream and `length >= 2`.
public enum FrameLayout {
    /// Size of the big-endian length prefix.
    public static let lengthFieldSize = 4
    /// Offset of the version byte.
    public static let versionOffset = 4
    /// Offset of the frame-type byte.
    public static let typeOffset = 5
    /// Bytes before the body: length, version and type. The body starts at this offset.
    public static let headerLength = 6
    /// The smallest legal value of the length prefix: a version and a type with an empty body.
    public static let minimumLength = 2
}

/// The type byte of a frame. Codes are grouped in ranges so that each algorithm owns its own.
///
/// | range       | owner                                                        |
/// |-------------|--------------------------------------------------------------|
/// | 0x00        | never valid                                                  |
/// | 0x01–0x0F   | connection control (handshake, reply, auth proof; rest reserved) |
///
/// Within connection control, 0x03 is kept for an auth method whose challenge cannot ride in the
/// handshake (method 1's nonce does), so the proof of method 1 is 0x04.
/// | 0x10–0x1F   | Raft messages (0x18–0x1F reserved)                           |
/// | 0x20–0x2F   | Bully messages (0x24–0x2F reserved)                          |
/// | 0x30–0x3F   | Ring messages (0x34–0x3F reserved)                           |
/// | 0x40–0x4F   | member information, any algorithm, version 2 (0x41–0x4F reserved) |
/// | 0x50–0xFF   | unassigned                                                   |
public enum FrameType: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case handshake = 0x01
    case handshakeReply = 0x02
    case authProof = 0x04

    case preVoteRequest = 0x10
    case preVoteResponse = 0x11
    case voteRequest = 0x12
    case voteResponse = 0x13
    case heartbeat = 0x14
    case heartbeatResponse = 0x15
    case timeoutNow = 0x16
    /// Version 3: a leader's release of its lease (issue 15, released hand-overs).
    case leaseReleased = 0x17

    case bullyElection = 0x20
    case bullyAnswer = 0x21
    case bullyCoordinator = 0x22
    case bullyHeartbeat = 0x23

    case ringElection = 0x30
    case ringElected = 0x31
    case ringAck = 0x32
    case ringHeartbeat = 0x33

    /// Version 2: a member's advertised HTTP URL (issue 15).
    case memberInfo = 0x40

    /// The code kept for an authentication challenge frame, for a method that needs one.
    public static let reservedAuthChallenge: UInt8 = 0x03
    /// Codes kept for connection control frames added later.
    public static let reservedControl: ClosedRange<UInt8> = 0x05...0x0F
    /// Codes kept for Raft messages added later.
    public static let reservedRaft: ClosedRange<UInt8> = 0x18...0x1F
    /// The Bully algorithm's range: its messages, and codes kept for more of them.
    public static let reservedBully: ClosedRange<UInt8> = 0x20...0x2F
    /// The Ring algorithm's range: its messages, and codes kept for more of them.
    public static let reservedRing: ClosedRange<UInt8> = 0x30...0x3F
    /// Codes kept for member information added later (version 2 and on).
    public static let reservedMember: ClosedRange<UInt8> = 0x41...0x4F

    /// The first protocol version with this frame type; in an older version its code is unknown.
    public var introducedIn: UInt8 {
        switch self {
        case .memberInfo: 2
        case .leaseReleased: 3
        default: 1
        }
    }

    /// Whether the frame opens a connection (handshake, auth proof, reply): always written in
    /// version 1 (``WireVersion/setup``).
    public var isConnectionSetup: Bool { self == .handshake || self == .handshakeReply || self == .authProof }

    /// The frame type that carries `message`.
    public init(for message: Message) {
        switch message {
        case .preVoteRequest: self = .preVoteRequest
        case .preVoteResponse: self = .preVoteResponse
        case .voteRequest: self = .voteRequest
        case .voteResponse: self = .voteResponse
        case .heartbeat: self = .heartbeat
        case .heartbeatResponse: self = .heartbeatResponse
        case .timeoutNow: self = .timeoutNow
        case .leaseReleased: self = .leaseReleased
        case .bullyElection: self = .bullyElection
        case .bullyAnswer: self = .bullyAnswer
        case .bullyCoordinator: self = .bullyCoordinator
        case .bullyHeartbeat: self = .bullyHeartbeat
        case .ringElection: self = .ringElection
        case .ringElected: self = .ringElected
        case .ringAck: self = .ringAck
        case .ringHeartbeat: self = .ringHeartbeat
        }
    }

    /// The snake_case name used in error messages and documentation.
    public var description: String {
        switch self {
        case .handshake: "handshake"
        case .handshakeReply: "handshake_reply"
        case .authProof: "auth_proof"
        case .preVoteRequest: "pre_vote_request"
        case .preVoteResponse: "pre_vote_response"
        case .voteRequest: "vote_request"
        case .voteResponse: "vote_response"
        case .heartbeat: "heartbeat"
        case .heartbeatResponse: "heartbeat_response"
        case .timeoutNow: "timeout_now"
        case .leaseReleased: "lease_released"
        case .bullyElection: "bully_election"
        case .bullyAnswer: "bully_answer"
        case .bullyCoordinator: "bully_coordinator"
        case .bullyHeartbeat: "bully_heartbeat"
        case .ringElection: "ring_election"
        case .ringElected: "ring_elected"
        case .ringAck: "ring_ack"
        case .ringHeartbeat: "ring_heartbeat"
        case .memberInfo: "member_info"
        }
    }

    /// What a code this implementation does not know is set aside for, for error messages.
    static func reservation(of code: UInt8) -> String {
        switch code {
        case 0x00: "never valid"
        case reservedAuthChallenge, reservedControl: "reserved for connection control"
        case reservedRaft: "reserved for Raft"
        case reservedBully: "reserved for Bully"
        case reservedRing: "reserved for Ring"
        case FrameType.memberInfo.rawValue: "member information, introduced in protocol version 2"
        case reservedMember: "reserved for member information"
        default: "unassigned"
        }
    }
}
