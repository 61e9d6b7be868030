import BallotWire
import Foundation
import NIOCore
import NIOSSL
import Synchronization
@_spi(FixedExpiryValidationTime) import X509

/// Verifies a peer's certificate chain during the TLS handshake, in place of BoringSSL's own
/// check, so that a refusal says exactly why (expired, not yet valid, another CA, no node
/// identity) and an accepted certificate yields the ``PeerIdentity`` the Ballot handshake must
/// then match (``HandshakePolicy/check(_:expectedPeer:certifiedAs:)``).
enum PeerCertificateVerifier {
    enum Outcome: Hashable, Sendable {
        case verified(PeerIdentity)
        case refused(String)
    }

    /// What the verification of one connection found, for its session handler to read.
    final class Result: Sendable {
        private let outcome = Mutex<Outcome?>(nil)

        var value: Outcome? { outcome.withLock { $0 } }

        func record(_ value: Outcome) { outcome.withLock { $0 = value } }
    }

    /// The NIOSSL callback for one connection: verifies against `trustRoots` and records the outcome in `result`.
    static func callback(trustRoots: CertificateStore, result: Result) -> NIOSSLCustomVerificationCallback {
        { certificates, promise in
            let chain: [Certificate]
            do {
                chain = try certificates.map { try Certificate(derEncoded: $0.toDERBytes()) }
            } catch {
                result.record(.refused("the peer's certificate cannot be parsed: \(error)"))
                promise.succeed(.failed)
                return
            }
            guard let leaf = chain.first else {
                result.record(.refused("the peer presented no certificate"))
                promise.succeed(.failed)
                return
            }
            Task {
                let outcome = await verify(leaf: leaf, intermediates: Array(chain.dropFirst()), trustRoots: trustRoots)
                result.record(outcome)
                if case .verified = outcome { promise.succeed(.certificateVerified) } else { promise.succeed(.failed) }
            }
        }
    }

    /// Whether `leaf` is valid now, chains to one of `trustRoots`, and names exactly one node.
    static func verify(leaf: Certificate, intermediates: [Certificate], trustRoots: CertificateStore,
                       now: Date = Date()) async -> Outcome {
        // The validity window first: the most common failure, and the clearest to report.
        if now < leaf.notValidBefore {
            return .refused("the peer's certificate \(leaf.subject) is not valid before \(stamp(leaf.notValidBefore))")
        }
        if now > leaf.notValidAfter {
            return .refused("the peer's certificate \(leaf.subject) expired at \(stamp(leaf.notValidAfter))")
        }
        var verifier = Verifier(rootCertificates: trustRoots) { RFC5280Policy(fixedExpiryValidationTime: now) }
        switch await verifier.validate(leaf: leaf, intermediates: CertificateStore(intermediates)) {
        case .validCertificate:
            break
        case .couldNotValidate(let failures):
            if failures.isEmpty {
                return .refused("the peer's certificate \(leaf.subject) was not issued by this cluster's CA "
                                + "(its issuer is \(leaf.issuer))")
            }
            return .refused("the peer's certificate \(leaf.subject) does not verify: \(shorten(failures[0].policyFailureReason.description))")
        }
        let uris = ((try? leaf.extensions.subjectAlternativeNames) ?? nil)?.compactMap { name -> String? in
            if case .uniformResourceIdentifier(let uri) = name { return uri }
            return nil
        } ?? []
        do {
            return .verified(try PeerIdentity.fromCertificate(uris: uris))
        } catch {
            return .refused("the peer's certificate \(leaf.subject) names no node: \(error)")
        }
    }

    private static func stamp(_ date: Date) -> String {
        date.formatted(.iso8601)
    }

    /// A policy's reason can quote whole certificates; a log line keeps the first 200 characters.
    private static func shorten(_ text: String) -> String {
        text.count <= 200 ? text : String(text.prefix(200)) + "…"
    }
}
