// Stage 2 of scripts/generate-monitoring.sh: writes the YAML documents of stage 1
// (yaml-documents.json, found on the -J path) as YAML files, by path relative to dashboards/.
local yaml = import 'lib/yaml.libsonnet';
local documents = import 'yaml-documents.json';

{
  [path]: yaml.document(documents[path].document, documents[path].header)
  for path in std.objectFields(documents)
}
