// A small YAML writer for Prometheus rule and promtool test files. std.manifestYamlDoc sorts
// keys alphabetically (a rule would start with `annotations:`); this one writes the keys in the
// order people read them (`alert`, `expr`, `for`, `labels`, `annotations`), multi-line strings as
// `|` blocks, and every other string plain when YAML reads it back as that same string,
// single-quoted otherwise (no escapes to read; a quote is doubled).
{
  local yaml = self,

  // Keys in reading order; keys not listed follow, alphabetically.
  keyOrder:: [
    'rule_files',
    'evaluation_interval',
    'groups',
    'tests',
    'name',
    'interval',
    'input_series',
    'series',
    'values',
    'promql_expr_test',
    'alert_rule_test',
    'alert',
    'record',
    'expr',
    'eval_time',
    'alertname',
    'exp_samples',
    'exp_alerts',
    'for',
    'labels',
    'value',
    'annotations',
    'summary',
    'description',
    'runbook_url',
    'rules',
  ],

  local ranks = { [yaml.keyOrder[i]]: i for i in std.range(0, std.length(yaml.keyOrder) - 1) },

  // (Without std.sort, which is slow in jsonnet 0.18 and would run for every object.)
  local orderedKeys(object) =
    [key for key in yaml.keyOrder if std.objectHas(object, key)]
    + [key for key in std.objectFields(object) if !std.objectHas(ranks, key)],

  local charSet(chars) = { [c]: true for c in std.stringChars(chars) },
  local letters = charSet('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_'),
  local digits = charSet('0123456789'),
  local nameChars = letters + digits + charSet('-./:'),
  local durationChars = digits + charSet('smhdwy'),
  local only(text, set) = std.length([c for c in std.stringChars(text) if !std.objectHas(set, c)]) == 0,
  local reserved = { [w]: true for w in ['true', 'false', 'yes', 'no', 'on', 'off', 'null', 'y', 'n'] },

  // Plain (unquoted) only for words YAML cannot read as anything else: identifiers, metric and
  // rule names (`a:b:c`), paths, and durations such as `15m`.
  local isPlain(text) =
    text != '' && std.length(text) <= 80
    && (
      (std.objectHas(letters, text[0]) && only(text, nameChars) && text[std.length(text) - 1] != ':'
       && !std.objectHas(reserved, std.asciiLower(text)))
      || (std.objectHas(digits, text[0]) && only(text, durationChars) && !only(text, digits))
    ),

  local scalar(value) =
    if std.isString(value) then (if isPlain(value) then value else "'" + std.strReplace(value, "'", "''") + "'")
    else if std.isBoolean(value) then (if value then 'true' else 'false')
    else if value == null then 'null'
    else std.toString(value),

  local indents = ['', ' ', '  ', '   ', '    ', '     ', '      ', '       ', '        ', '         ', '          ', '           ', '            ', '             ', '              ', '               ', '                '],
  local spaces(n) = if n < std.length(indents) then indents[n] else std.join('', [' ' for _ in std.range(1, n)]),

  local isCollection(value) = std.isObject(value) || std.isArray(value),
  local isEmpty(value) = (std.isObject(value) && std.length(std.objectFields(value)) == 0)
                         || (std.isArray(value) && std.length(value) == 0),

  // Lines of a `key: value` entry at indent `n` (`key` is '-' for an array item).
  local entry(key, value, n) =
    local textLines = if std.isString(value) then std.split(value, '\n') else [];
    if std.length(textLines) > 1 then
      // A block scalar: `|` keeps one final newline, `|-` none.
      // (No array slices: std.slice is slow in jsonnet 0.18.)
      local trailing = textLines[std.length(textLines) - 1] == '';
      local count = if trailing then std.length(textLines) - 1 else std.length(textLines);
      [spaces(n) + key + ': |' + (if trailing then '' else '-')]
      + [if textLines[i] == '' then '' else spaces(n + 2) + textLines[i] for i in std.range(0, count - 1)]
    else if isEmpty(value) then
      [spaces(n) + key + ': ' + (if std.isArray(value) then '[]' else '{}')]
    else if isCollection(value) then
      [spaces(n) + key + ':'] + lines(value, n + 2)
    else
      [spaces(n) + key + ': ' + scalar(value)],

  // Lines of an object or array at indent `n`.
  local lines(value, n) =
    if std.isObject(value) then
      [line for key in orderedKeys(value) for line in entry(key, value[key], n)]
    else
      [
        line
        for item in value
        for inner in [
          if std.isObject(item) then lines(item, n + 2) else [spaces(n + 2) + scalar(item)],
        ]
        // The first line of the item carries the dash.
        for i in std.range(0, std.length(inner) - 1)
        for line in [if i == 0 then spaces(n) + '- ' + std.substr(inner[0], n + 2, std.length(inner[0]) - n - 2) else inner[i]]
      ],

  // A whole document: `header` (comment lines, each without the leading "# ") then the value.
  document(value, header=[])::
    std.join('\n', [if line == '' then '#' else '# ' + line for line in header] + lines(value, 0)) + '\n',
}
