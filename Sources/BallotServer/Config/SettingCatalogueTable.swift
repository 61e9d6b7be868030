/// The settings table of docs/configuration.md, rendered from the catalogue; a test holds the docs
/// to it, so the documentation of a new setting cannot be forgotten.
public enum SettingCatalogueTable {
    public static var markdown: String {
        var rows = [
            "| YAML key | Flag | Environment variable | Default | Value |",
            "|---|---|---|---|---|",
        ]
        for key in ConfigurationKey.allCases {
            let descriptor = key.descriptor
            let yaml = descriptor.sources.contains(.file) ? "`\(key.yamlKey)`" : "–"
            let flag = descriptor.isBoolean
                ? "`\(key.flag)`, `--no-\(key.flag.dropFirst(2))`"
                : "`\(key.flag) \(descriptor.valueName)`" + (descriptor.isRepeatable ? " (repeat)" : "")
            let variable = descriptor.environmentVariable.map { "`\($0)`" } ?? "–"
            let defaultText = descriptor.defaultText.map { "`\($0)`" } ?? ""
            let secret = descriptor.isSecret ? " **Secret**: never printed." : ""
            rows.append("| \(yaml) | \(flag) | \(variable) | \(defaultText) | \(descriptor.helpWithScope)\(secret) |")
        }
        return rows.joined(separator: "\n") + "\n"
    }
}
