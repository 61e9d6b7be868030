import BallotCore
import FuzzDriver
import BallotWire

/// Auth method 1's verification on its own: two proof transcripts, a secret, a candidate proof
/// and a second secret all come from the input. It checks:
///
/// - a proof made with a secret verifies with a set that accepts that secret among others;
/// - a candidate proof verifies exactly when it equals the proof the secret makes (nothing else
///   is accepted, whatever its bytes);
/// - the proof message is injective: two transcripts with the same message are the same
///   transcript, so no change to a handshake can keep a proof valid;
/// - a proof does not verify in the other direction or for the other role;
/// - a secret of the wrong length is refused, never used.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzClusterSecret(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = Input(Array(fuzzInput(data, size)))
    // Mostly valid lengths, short ones (so HMAC runs fast), and some on and past each bound.
    let lengthCode = Int(input.byte())
    let secretLength = switch lengthCode {
    case ..<8: lengthCode * 4  // 0...28: too short
    case 8..<248: 32 + lengthCode - 8  // 32...271
    default: 1024 + lengthCode - 250  // 1022...1029: around the upper bound
    }
    let secretBytes = input.bytes(secretLength)
    let secret: ClusterSecret
    do throws(ClusterSecretError) {
        secret = try ClusterSecret(bytes: secretBytes)
        precondition(secretBytes.count >= 32 && secretBytes.count <= 1024, "a secret of the wrong length was taken")
    } catch {
        precondition(secretBytes.count < 32 || secretBytes.count > 1024, "a valid secret was refused")
        return 0
    }
    let other = try! ClusterSecret(bytes: secretBytes.map { $0 ^ 0x5A })

    let first = Transcript(&input)
    let second = Transcript(&input)
    let candidate = AuthProof(bytes: input.bytes(AuthProof.byteCount))

    let proof = ClusterSecretProof.prove(from: first.sender, as: first.role, to: first.receiver, with: secret)
    func verifies(_ proof: AuthProof, _ transcript: Transcript, _ secrets: ClusterSecrets) -> Bool {
        ClusterSecretProof.verify(
            proof, from: transcript.sender, as: transcript.role, to: transcript.receiver, accepting: secrets)
    }
    // With `other` first, this also shows that a non-matching secret does not stop the search.
    precondition(verifies(proof, first, ClusterSecrets(current: other, alsoAccepted: [secret])),
                 "a proof made with an accepted secret does not verify")
    if let candidate {
        precondition(verifies(candidate, first, ClusterSecrets(current: secret)) == (candidate == proof),
                     "a proof other than the secret's own verified, or the secret's own did not")
    }

    let sameMessage = ClusterSecretProof.message(from: first.sender, as: first.role, to: first.receiver)
        == ClusterSecretProof.message(from: second.sender, as: second.role, to: second.receiver)
    precondition(sameMessage == (first == second), "two different transcripts share a proof message")

    let reversed = Transcript(sender: first.receiver, role: first.role.peer, receiver: first.sender)
    precondition(verifies(proof, reversed, ClusterSecrets(current: secret)) == (first == reversed),
                 "a proof verified in the other direction")
    return 0
}

/// Everything a proof is bound to: both handshakes (with 32-byte nonces) and the sender's role.
struct Transcript: Equatable {
    let sender: Handshake
    let role: ConnectionRole
    let receiver: Handshake

    init(sender: Handshake, role: ConnectionRole, receiver: Handshake) {
        self.sender = sender
        self.role = role
        self.receiver = receiver
    }

    init(_ input: inout Input) {
        let name = Self.clusterName(&input)
        let algorithm = ElectionAlgorithmKind.allCases[Int(input.byte()) % ElectionAlgorithmKind.allCases.count]
        role = input.byte() & 1 == 0 ? .dialler : .acceptor
        sender = Self.handshake(&input, name: name, algorithm: algorithm)
        receiver = Self.handshake(&input, name: name, algorithm: algorithm)
    }

    static func handshake(_ input: inout Input, name: ClusterName, algorithm: ElectionAlgorithmKind) -> Handshake {
        let node = NodeID(input.uint64()) ?? 1
        let maxVersion = max(1, input.byte())
        var nonce = input.bytes(AuthNonce.byteCount)
        nonce += Array(repeating: 0, count: AuthNonce.byteCount - nonce.count)
        return Handshake(
            maxVersion: maxVersion, nodeID: node, clusterName: name, algorithm: algorithm,
            auth: try! HandshakeAuth(method: .clusterSecret, payload: nonce))
    }

    /// A valid cluster name of 1 to 32 characters drawn from the input.
    static func clusterName(_ input: inout Input) -> ClusterName {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        let length = Int(input.byte() % 32) + 1
        let text = String((0..<length).map { _ in alphabet[Int(input.byte()) % alphabet.count] })
        return try! ClusterName(text)
    }
}

/// The fuzzer's input, read front to back; reads past the end give zeros.
struct Input {
    private let bytes: [UInt8]
    private var offset = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    mutating func byte() -> UInt8 {
        defer { offset += 1 }
        return offset < bytes.count ? bytes[offset] : 0
    }
    mutating func uint64() -> UInt64 {
        (0..<8).reduce(0) { value, _ in value << 8 | UInt64(byte()) }
    }
    mutating func bytes(_ count: Int) -> [UInt8] {
        let end = min(bytes.count, offset + count)
        defer { offset = max(offset, end) }
        return offset < end ? Array(bytes[offset..<end]) : []
    }
}

/// The executable's entry point under SwiftPM's name for it; see `runLibFuzzer`.
@_cdecl("fuzz_cluster_secret_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runLibFuzzer(argc, argv, fuzzClusterSecret)
}
