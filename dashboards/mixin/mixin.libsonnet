// Ballot's monitoring mixin: the Grafana dashboard, the Prometheus recording rules and the
// alerts, all generated from this source and config.libsonnet. The usual mixin fields:
//   grafanaDashboards  { 'ballot-overview.json': {...} }
//   prometheusRules    { groups: [...] }   -> dashboards/rules.yml
//   prometheusAlerts   { groups: [...] }   -> dashboards/alerts.yml
// scripts/generate-monitoring.sh writes them (with dashboards/tests/) through generate.jsonnet.
(import 'lib/promql.libsonnet')
+ (import 'lib/grafana.libsonnet')
+ (import 'dashboards/overview.libsonnet')
+ (import 'rules.libsonnet')
+ (import 'alerts.libsonnet')
+ { _config:: import 'config.libsonnet' }
