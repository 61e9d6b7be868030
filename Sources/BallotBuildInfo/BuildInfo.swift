/// What this binary was built from, for `--version` and `ballot_build_info{version,revision}`.
///
/// The values are generated during the build by the RecordBuildInfo plugin (Package.swift,
/// `scripts/build-info.sh`): `git describe --tags --always --dirty` and the commit hash, or
/// "unknown" when the sources are not a git checkout. Never a hard-coded string.
public enum BuildInfo {
    /// e.g. `v1.2.0`, `v1.2.0-3-gabc1234`, `abc1234-dirty` (no tag yet), or `unknown`.
    public static let version: String = generatedVersion
    /// The full commit hash, or `unknown`.
    public static let revision: String = generatedRevision

    /// `<version> (revision <revision>)`: what `--version` prints.
    public static var description: String { "\(version) (revision \(revision))" }
}
