import NIOSSL

/// What went wrong in a failed TLS handshake on a peer connection, in words an operator can act on.
///
/// When this node refused the peer's certificate, ``PeerCertificateVerifier`` already said why;
/// otherwise BoringSSL's error names the cause (no certificate, not TLS at all, an old TLS
/// version, or the peer refusing this node's certificate).
enum PeerTLSFailure {
    static func describe(_ error: any Error, verification: PeerCertificateVerifier.Outcome?) -> String {
        if case .refused(let reason) = verification { return reason }
        let text = "\(error)"
        let known: [(codes: [String], meaning: String)] = [
            (["WRONG_VERSION_NUMBER", "HTTP_REQUEST", "HTTPS_PROXY_REQUEST", "RECORD_TOO_LARGE", "PACKET_LENGTH_TOO_LONG"],
             "the peer does not speak TLS (plaintext on this TLS port?)"),
            (["PEER_DID_NOT_RETURN_A_CERTIFICATE", "CERTIFICATE_REQUIRED"], "the peer presented no certificate"),
            (["UNSUPPORTED_PROTOCOL", "PROTOCOL_VERSION"], "the peer does not offer TLS 1.3"),
            (["ALERT_UNKNOWN_CA", "ALERT_BAD_CERTIFICATE", "ALERT_CERTIFICATE_EXPIRED", "ALERT_CERTIFICATE_UNKNOWN",
              "ALERT_DECRYPT_ERROR", "ALERT_HANDSHAKE_FAILURE", "ALERT_ACCESS_DENIED"],
             "the peer refused this node's certificate (is it signed by the CA the peer trusts, and valid now?)"),
            (["CERTIFICATE_VERIFY_FAILED"], "the peer's certificate failed verification"),
            (["DECRYPTION_FAILED", "BAD_RECORD_MAC", "DIGEST_CHECK_FAILED", "BAD_SIGNATURE", "UNEXPECTED_RECORD",
              "UNEXPECTED_MESSAGE", "DECODE_ERROR"],
             "the peer's TLS messages do not verify (a replayed or tampered handshake?)"),
        ]
        for (codes, meaning) in known where codes.contains(where: { text.contains($0) }) {
            return "\(meaning) [\(shorten(text))]"
        }
        if let error = error as? NIOSSLError, case .uncleanShutdown = error {
            return "the peer closed the connection during the TLS handshake"
        }
        return "TLS handshake failed: \(shorten(text))"
    }

    private static func shorten(_ text: String) -> String {
        text.count <= 240 ? text : String(text.prefix(240)) + "…"
    }
}
