import ArgumentParser
import BallotClient
import Foundation

/// How the client commands reach a node's HTTP endpoint: TLS trust, a client certificate, and the
/// bearer token for routes that change the node.
struct HTTPClientOptions: ParsableArguments {
    @Option(help: "PEM CA that signed the node's HTTPS certificate (for https:// addresses; default: the system's CAs).")
    var cacert: String?

    @Option(help: "PEM client certificate, for a node that accepts client certificates (--http-tls-client-ca).")
    var cert: String?

    @Option(help: "PEM private key of --cert.")
    var key: String?

    @Option(help: "File holding the node's bearer token (the node's --http-token-file); sent as Authorization: Bearer.")
    var tokenFile: String?

    /// The target for `address` (`HOST:PORT`, `http://…` or `https://…`), with these options.
    func target(_ address: String) throws -> HTTPTarget {
        let secure = address.lowercased().hasPrefix("https://")
        let tls = secure ? try HTTPClientTLS(caFile: cacert, certificateFile: cert, keyFile: key) : nil
        return try HTTPTarget(url: address, tls: tls, bearerToken: try token())
    }

    /// The token file's first line; the token itself never appears in a message.
    func token() throws -> String? {
        guard let tokenFile else { return nil }
        guard let data = FileManager.default.contents(atPath: tokenFile) else {
            throw ValidationError("--token-file \(tokenFile): cannot read it")
        }
        let text = String(decoding: data, as: UTF8.self)
        let token = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        guard !token.isEmpty else { throw ValidationError("--token-file \(tokenFile): the file is empty") }
        return token
    }
}
