import BallotClient

extension SocketAddressSpec {
    /// Parses a configured `HOST:PORT`, reporting problems as configuration errors.
    public init(parsing text: String) throws(ConfigurationError) {
        do throws(AddressProblem) {
            try self.init(address: text)
        } catch {
            throw .invalidAddress(text, error)
        }
    }

    /// Checks a configured host and port, reporting problems as configuration errors.
    public init(host: String, port: Int) throws(ConfigurationError) {
        do throws(AddressProblem) {
            try self.init(validatingHost: host, port: port)
        } catch {
            let text = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
            throw .invalidAddress(text, error)
        }
    }
}
