import BallotCore
import FuzzDriver
import BallotWire

/// Two real peer sessions — node 1 dialling, node 2 accepting, auth method 1 on — connected by
/// byte streams that the input controls: it forwards what each side really sent (whole or in
/// pieces), drops it, or injects arbitrary bytes and arbitrary proofs into either side. Every
/// byte a side receives goes through the real streaming decoder.
///
/// Whatever the input, it checks:
/// - a side accepts a peer's proof only if the genuine peer session made that proof (no
///   injected proof ever verifies, with the same secret, different ones, or during a rotation);
/// - no side reaches `established` or delivers a message before it verified the peer's proof, and
///   with different secrets or mismatched auth methods no side ever does;
/// - a failed session stays failed, with the same error.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPeerSession(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = Input(Array(fuzzInput(data, size)))
    var link = Link(setup: Setup(rawValue: input.byte() % 4)!)
    // Each operation consumes at least one byte, so the input bounds the loop.
    while !input.isEmpty {
        let operation = input.byte()
        let target = Int(operation & 1)
        switch (operation >> 1) % 4 {
        case 0: link.forward(to: target, count: Int(input.byte()))
        case 1: link.deliver(input.bytes(Int(input.byte())), to: target, genuine: false)
        case 2: link.injectProof(input.bytes(AuthProof.byteCount), to: target)
        default:
            link.tampered = link.tampered || !link.pending[target].isEmpty
            link.pending[target].removeAll()
        }
    }
    link.settle()
    link.checkOutcome()
    return 0
}

/// The secrets (or none) each side holds.
enum Setup: UInt8 {
    case sameSecret, differentSecrets, dialerWithoutSecret, rotation

    static let old = try! ClusterSecret(bytes: Array("fuzzing secret: the previous one".utf8))
    static let new = try! ClusterSecret(bytes: Array("fuzzing secret: the current one!".utf8))
    static let members = Membership([1, 2, 3])

    func policy(side: Int) -> HandshakePolicy {
        let node: NodeID = side == 0 ? 1 : 2
        let secrets: ClusterSecrets?
        switch self {
        case .sameSecret: secrets = ClusterSecrets(current: Self.old)
        case .differentSecrets: secrets = ClusterSecrets(current: side == 0 ? Self.old : Self.new)
        case .dialerWithoutSecret: secrets = side == 0 ? nil : ClusterSecrets(current: Self.old)
        case .rotation:
            secrets = side == 0
                ? ClusterSecrets(current: Self.new, alsoAccepted: [Self.old])
                : ClusterSecrets(current: Self.old, alsoAccepted: [Self.new])
        }
        let name = try! ClusterName("fuzz")
        guard let secrets else {
            return HandshakePolicy(localNode: node, clusterName: name, membership: Self.members, algorithm: .raft)
        }
        return HandshakePolicy(
            localNode: node, clusterName: name, membership: Self.members, algorithm: .raft, clusterSecrets: secrets)
    }

    /// Whether two honest sides with this setup may authenticate each other.
    var canAuthenticate: Bool { self == .sameSecret || self == .rotation }
}

/// One side: its session, the decoder of the bytes it receives, and what it has done.
struct Side {
    var session: PeerSession
    var inbox = FrameDecoder()
    /// Proofs this side's session sent: genuine proofs of the cluster secret.
    var sentProofs: Set<AuthProof> = []
    var verifiedPeerProof = false
    var sentAcceptance = false
    /// The error that ended the session, or the decoder.
    var error: WireError?
    var decoderFailed = false

    /// Under auth method 1 a side must verify its peer; without a secret it cannot.
    var requiresProof: Bool { session.policy.clusterSecrets != nil }
}

struct Link {
    let setup: Setup
    var sides: [Side]
    /// Bytes each side's peer really sent it, not yet delivered.
    var pending: [[UInt8]] = [[], []]
    /// Whether anything but the genuine bytes, in order, reached a side.
    var tampered = false

    init(setup: Setup) {
        self.setup = setup
        let nonces = [AuthNonce(bytes: Array(repeating: 0x11, count: 32))!, AuthNonce(bytes: Array(repeating: 0x22, count: 32))!]
        sides = (0..<2).map { side in
            Side(session: PeerSession(
                policy: setup.policy(side: side), expectedPeer: side == 0 ? 2 : nil, nonce: nonces[side]))
        }
        pending[1] = FrameEncoder.encode(sides[0].session.openingFrame)
        pending[0] = FrameEncoder.encode(sides[1].session.openingFrame)
    }

    /// Delivers up to `count` (0: all) of the genuine bytes waiting for `target`.
    mutating func forward(to target: Int, count: Int) {
        let take = count == 0 ? pending[target].count : min(count, pending[target].count)
        let bytes = Array(pending[target].prefix(take))
        pending[target].removeFirst(take)
        deliver(bytes, to: target, genuine: true)
    }

    mutating func injectProof(_ proof: [UInt8], to target: Int) {
        guard let proof = AuthProof(bytes: proof) else { return }
        deliver(FrameEncoder.encode(.authProof(proof)), to: target, genuine: false)
    }

    mutating func deliver(_ bytes: [UInt8], to target: Int, genuine: Bool) {
        tampered = tampered || (!genuine && !bytes.isEmpty)
        var side = sides[target]
        defer { sides[target] = side }
        if let error = side.error {
            // A failed session takes nothing more, and says why.
            precondition(side.decoderFailed || throwsSame(error, &side.session), "a failed session accepted a frame")
            return
        }
        side.inbox.append(bytes)
        for _ in 0...(side.inbox.bufferedByteCount / FrameLayout.headerLength + 1) {
            let frame: PeerFrame
            do throws(WireError) {
                guard let next = try side.inbox.nextFrame() else { return }
                frame = next
            } catch {
                side.error = error
                side.decoderFailed = true
                return
            }
            let before = side.session.state
            do throws(WireError) {
                let step = try side.session.receive(frame)
                check(step, after: frame, in: before, side: &side, peer: sides[1 - target])
                if case .send(let reply) = step {
                    if case .authProof(let proof) = reply { side.sentProofs.insert(proof) }
                    pending[1 - target] += FrameEncoder.encode(reply)
                }
            } catch {
                side.error = error
                if case .failed(let failure) = side.session.state {
                    precondition(failure == error, "the session's failure differs from the error thrown")
                } else {
                    preconditionFailure("a session that threw is not failed")
                }
                if let rejection = error.rejection {
                    pending[1 - target] += FrameEncoder.encode(.handshakeReply(.rejected(rejection)))
                }
                return
            }
        }
    }

    /// The invariants of one step.
    func check(_ step: PeerSession.Step, after frame: PeerFrame, in before: PeerSession.State, side: inout Side, peer: Side) {
        // Without a secret (method 0) anyone who knows the cluster may connect: nothing to check.
        guard side.requiresProof else { return }
        if case .awaitingProof = before, case .authProof(let proof) = frame {
            // The proof verified (no error was thrown): the genuine peer must have made it.
            precondition(peer.sentProofs.contains(proof), "a proof the peer never sent verified")
            precondition(setup.canAuthenticate, "a proof verified although the secrets differ")
            side.verifiedPeerProof = true
        }
        switch step {
        case .send(.handshakeReply(.accepted)):
            precondition(side.verifiedPeerProof, "an accepting reply went out before the peer's proof verified")
            side.sentAcceptance = true
        case .send(.authProof):
            precondition(!side.sentAcceptance, "a proof after the accepting reply")
        case .send:
            preconditionFailure("a session may only send its proof or an accepting reply")
        case .established:
            precondition(side.verifiedPeerProof && side.sentAcceptance, "established without verifying the peer")
        case .deliver, .memberInfo:
            guard case .established = before else { preconditionFailure("a message delivered before establishment") }
            precondition(side.verifiedPeerProof, "a message delivered from an unverified peer")
        }
    }

    func throwsSame(_ failure: WireError, _ session: inout PeerSession) -> Bool {
        do throws(WireError) {
            _ = try session.receive(.handshakeReply(.accepted))
            return false
        } catch {
            return error == failure
        }
    }

    /// Lets the genuine bytes still in flight arrive, as a quiet network would.
    mutating func settle() {
        for _ in 0..<6 where !(pending[0].isEmpty && pending[1].isEmpty) {
            forward(to: 0, count: 0)
            forward(to: 1, count: 0)
        }
    }

    func checkOutcome() {
        for side in sides where side.requiresProof {
            if case .established = side.session.state {
                precondition(setup.canAuthenticate, "established although the sides cannot authenticate")
            } else if setup.canAuthenticate && !tampered {
                preconditionFailure("two honest sides over an untouched link did not authenticate each other")
            }
        }
    }
}

/// The fuzzer's input, read front to back; reads past the end give zeros.
struct Input {
    private let bytes: [UInt8]
    private var offset = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    var isEmpty: Bool { offset >= bytes.count }
    mutating func byte() -> UInt8 {
        defer { offset += 1 }
        return offset < bytes.count ? bytes[offset] : 0
    }
    mutating func bytes(_ count: Int) -> [UInt8] {
        let end = min(bytes.count, offset + count)
        defer { offset = max(offset, end) }
        return offset < end ? Array(bytes[offset..<end]) : []
    }
}

/// The executable's entry point under SwiftPM's name for it; see `runLibFuzzer`.
@_cdecl("fuzz_peer_session_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runLibFuzzer(argc, argv, fuzzPeerSession)
}
