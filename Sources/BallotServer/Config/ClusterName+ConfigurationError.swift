import BallotCore

extension ClusterName {
    /// Parses a configured cluster name, reporting problems as configuration errors.
    public init(configured text: String) throws(ConfigurationError) {
        do throws(ClusterNameProblem) {
            try self.init(text)
        } catch {
            throw .invalidClusterName(text, error)
        }
    }
}
