// The counting test of the dashboard's per-step event panels (issue 19): promtool unit tests in
// which one counter increment must show up exactly once in every per-step query, at every step
// and scrape interval below, and two negative controls that run the same checks on the query
// forms that got it wrong, to show that the checks can fail.
//
// How a Grafana range query is mirrored: Grafana evaluates a panel query at every multiple of
// its step (it aligns the range to the step) with `${__interval_ms}` = the step. A PromQL
// subquery `(query)[range:step]` evaluates `query` at exactly those instants, so
// `sum_over_time((query)[10m:1m])` is the sum of the bars Grafana draws at a 1m step over 10
// minutes. Per per-step query and scenario, three checks (by `le` for the heatmap, whose buckets
// 1, 2 and +Inf hold the one observation and 0.5 none):
//   total  the bars over the whole test sum to 1 (0 for le="0.5");
//   bar    the bar of the step expected to hold the increment is 1: the first step that ends
//          at or after the scrape that first showed it (worked out by hand for each scenario);
//   never negative: the smallest bar is >= 0, so with the two above every other bar is 0.
// Each check carries a `panel` label (panel id, query refId and title) so that a failure names
// the panel.
//
// Every per-step query is found in the generated dashboard itself (any target or annotation
// whose expression uses ${__interval_ms}), so a new per-step panel is tested as soon as it
// exists. Its counters need input series below: add the metric to `counters` if it is new.
{
  // Counter series the per-step panels read, on node ballot-1: `event` ones go up once in each
  // scenario, `quiet` ones stay flat. ballot-2 has every series, always flat.
  counters:: [
    ['ballot_leader_changes_total', {}, 'event'],
    ['ballot_election_duration_seconds_bucket', { outcome: 'won', le: '0.5' }, 'quiet'],
    ['ballot_election_duration_seconds_bucket', { outcome: 'won', le: '1' }, 'event'],
    ['ballot_election_duration_seconds_bucket', { outcome: 'won', le: '2' }, 'event'],
    ['ballot_election_duration_seconds_bucket', { outcome: 'won', le: '+Inf' }, 'event'],
    ['ballot_election_duration_seconds_count', { outcome: 'won' }, 'event'],
    ['ballot_elections_started_total', { phase: 'pre_vote' }, 'event'],
    ['ballot_step_downs_total', { reason: 'transfer' }, 'event'],
    ['ballot_leadership_transfers_total', { outcome: 'completed' }, 'event'],
    ['ballot_peer_queue_dropped_total', { peer: '2' }, 'event'],
    ['ballot_peer_frames_rejected_total', { reason: 'auth' }, 'event'],
  ],

  // Sample i of a series is at i * scrape. `bar` is the step expected to hold the increment.
  scenarios:: [
    {
      name: 'zoomed in: step 15s = scrape interval 15s, the old form drew 4 bars here',
      step: '15s',
      scrape: '15s',
      event: '0x10 1x30',
      quiet: '0x40',
      flat: '0x40',
      // first scraped at sample 11 = 2m45s, a step boundary
      bar: '2m45s',
    },
    {
      name: 'step 1m, scrape 15s, first scraped mid-step',
      step: '1m',
      scrape: '15s',
      event: '0x10 1x30',
      quiet: '0x40',
      flat: '0x40',
      // sample 11 = 2m45s, inside the step (2m, 3m]
      bar: '3m',
    },
    {
      name: 'step 1m, scrape 15s, first scraped exactly at a step boundary',
      step: '1m',
      scrape: '15s',
      event: '0x11 1x30',
      quiet: '0x41',
      flat: '0x41',
      // sample 12 = 3m: the step (2m, 3m] ends there; the next step must not count it again
      bar: '3m',
    },
    {
      name: 'step 1m, scrape 7s (the steps and the scrapes never line up)',
      step: '1m',
      scrape: '7s',
      event: '0x25 1x60',
      quiet: '0x85',
      flat: '0x85',
      // sample 26 = 3m2s, inside the step (3m, 4m]
      bar: '4m',
    },
    {
      name: 'step 15s, scrape 1m (zoomed in further than the scrape interval)',
      step: '15s',
      scrape: '1m',
      event: '0x2 1x10',
      quiet: '0x12',
      flat: '0x12',
      // sample 3 = 3m; the steps without a scrape have no bar at all
      bar: '3m',
    },
    {
      name: 'step 2m, scrape 15s (zoomed out)',
      step: '2m',
      scrape: '15s',
      event: '0x20 1x30',
      quiet: '0x50',
      flat: '0x50',
      // sample 21 = 5m15s, inside the step (4m, 6m]
      bar: '6m',
    },
    {
      name: 'restart: the node is down for a minute and its new process counts 1',
      step: '1m',
      scrape: '15s',
      // the old process reads 5 up to 2m30s, its next scrape fails (stale), three scrapes are
      // missing, and the new process reads 1 from sample 15 = 3m45s, in the step (3m, 4m]
      event: '5x10 stale _x3 1x30',
      quiet: '5x10 stale _x3 0x30',
      flat: '0x45',
      bar: '4m',
    },
    {
      name: 'restart within a step: the old process had shown the increment, the new one counts none',
      step: '1m',
      scrape: '15s',
      // the old process reads 1 at sample 9 = 2m15s, its next scrape fails (stale), and the new
      // process reads 0 from sample 12 = 3m: all in the step (2m, 3m]
      event: '0x8 1 stale _ 0x30',
      quiet: '0x9 stale _ 0x30',
      flat: '0x42',
      bar: '3m',
    },
  ],

  // Query forms the checks must reject (the negative controls). `perStep` replaces the mixin's.
  legacyForms:: {
    // The dashboard before issue 19: overlapping windows of at least four scrape intervals.
    'rate-interval': {
      description: 'increase(x[$__rate_interval]), the dashboard before issue 19: windows of at least four scrape intervals overlap, so an increment is counted in several consecutive steps (and extrapolated).',
      perStep(series):: 'increase(%s[$__rate_interval])' % series,
    },
    // Windows as long as the step: they do not overlap, but increase() only sees the samples
    // inside its window, so an increment between the last scrape of one step and the first of
    // the next is lost, and the rest is extrapolated.
    interval: {
      description: 'increase(x[$__interval]), windows as long as the step: an increment between the last scrape of one step and the first scrape of the next is lost, and the rest is extrapolated.',
      perStep(series):: 'increase(%s[$__interval])' % series,
    },
  },

  local durationSeconds(d) =
    local units = { s: 1, m: 60, h: 3600, d: 86400 };
    std.parseInt(std.substr(d, 0, std.length(d) - 1)) * units[d[std.length(d) - 1]],

  // Grafana's $__rate_interval for a step, with the data source's default scrape interval of
  // 15s: max(step + scrape interval, 4 x scrape interval).
  local rateInterval(step) = '%ds' % std.max(durationSeconds(step) + 15, 60),

  // A dashboard query with the variables a test sets: every job/cluster/instance, one step.
  local substitute(expr, step) =
    std.foldl(
      function(text, pair) std.strReplace(text, pair[0], pair[1]),
      [
        ['${__interval_ms}', '%d' % (durationSeconds(step) * 1000)],
        ['$__rate_interval', rateInterval(step)],
        ['$__interval', step],
        ['$job', 'ballot'],
        ['$cluster', '.*'],
        ['$instance', '.*'],
      ],
      expr
    ),

  // The per-step queries of a dashboard: [{panel, expr, heatmap}].
  perStepQueries(dashboard, marker='${__interval_ms}')::
    local isPerStep(expr) = marker == '' || std.strReplace(expr, marker, '') != expr;
    local query(panel, expr, heatmap) = { panel: panel, expr: expr, heatmap: heatmap };
    // (Concatenation, not `%`: std.format is slow in jsonnet 0.18, and this builds thousands of checks.)
    [
      query(std.toString(p.id) + t.refId + ' ' + p.title, t.expr, std.objectHas(t, 'format') && t.format == 'heatmap')
      for p in dashboard.panels
      if p.type != 'row'
      for t in p.targets
      if isPerStep(t.expr)
    ] + [
      query('annotation ' + a.name, a.expr, false)
      for a in dashboard.annotations.list
      if std.objectHas(a, 'expr') && isPerStep(a.expr)
    ],

  // One promtool test group per scenario, checking every query in `queries`.
  local testGroup(scenario, queries, clusterLabel) =
    local end = '10m';
    local base(instance) = { job: 'ballot', [clusterLabel]: 'prod', instance: instance };
    local series(metric, labels) =
      metric + '{' + std.join(',', [k + '="' + labels[k] + '"' for k in std.objectFields(labels)]) + '}';
    // (String concatenation rather than `%`, which is slow with long arguments in jsonnet 0.18.)
    local tagged(expr, panel) = 'label_replace(' + expr + ', "panel", "' + panel + '", "", "")';
    local buckets(q, values) =
      if q.heatmap then [{ labels: '{le="' + b[0] + '",panel="' + q.panel + '"}', value: b[1] } for b in values]
      else [{ labels: '{panel="' + q.panel + '"}', value: 1 }];
    {
      name: scenario.name,
      interval: scenario.scrape,
      input_series: [
        { series: series(c[0], base('ballot-1:9101') + c[1]), values: scenario[c[2]] }
        for c in $.counters
      ] + [
        { series: series(c[0], base('ballot-2:9101') + c[1]), values: scenario.flat }
        for c in $.counters
      ],
      promql_expr_test: std.flattenArrays([
        local full = substitute(q.expr, scenario.step);
        local expr = if full[std.length(full) - 1] == '\n' then std.substr(full, 0, std.length(full) - 1) else full;
        local over = '(\n' + expr + '\n)[' + end + ':' + scenario.step + ']';
        [
          {
            expr: tagged('sum by (le) (sum_over_time(' + over + '))', q.panel),
            eval_time: end,
            exp_samples: buckets(q, [['+Inf', 1], ['0.5', 0], ['1', 1], ['2', 1]]),
          },
          {
            expr: tagged('sum by (le) (\n' + expr + '\n)', q.panel),
            eval_time: scenario.bar,
            exp_samples: buckets(q, [['+Inf', 1], ['0.5', 0], ['1', 1], ['2', 1]]),
          },
          {
            expr: tagged('min by (le) (min_over_time(' + over + ')) >= bool 0', q.panel),
            eval_time: end,
            exp_samples: buckets(q, [['+Inf', 1], ['0.5', 1], ['1', 1], ['2', 1]]),
          },
        ]
        for q in queries
      ]),
    },

  local document(queries, clusterLabel) = {
    evaluation_interval: '1m',
    tests: [testGroup(s, queries, clusterLabel) for s in $.scenarios],
  },

  // The generated files, by path relative to dashboards/.
  files(mixin, header)::
    local dashboard(m) = m.grafanaDashboards['ballot-overview.json'];
    local cl = mixin._config.clusterLabel;
    local queries = $.perStepQueries(dashboard(mixin));
    // The same per-step targets, in the dashboard built with a legacy `perStep` (which has no
    // ${__interval_ms} to find them by, hence by position among all targets).
    local legacy(form) =
      local changed = mixin { _promql+:: { perStep(series):: $.legacyForms[form].perStep(series) } };
      local current = $.perStepQueries(dashboard(mixin), marker='');
      local old = $.perStepQueries(dashboard(changed), marker='');
      [old[i] for i in std.range(0, std.length(old) - 1) if std.strReplace(current[i].expr, '${__interval_ms}', '') != current[i].expr];
    {
      'tests/panel-steps.test.yml': { document: document(queries, cl), header: header + [
        '',
        'The counting test of the per-step event panels: one increment must appear exactly once in',
        'every per-step query of ballot-overview.json, whatever the step and the scrape interval.',
        'Run: promtool test rules dashboards/tests/panel-steps.test.yml (AlertRulesTests does).',
        'How the checks work: dashboards/mixin/tests/panel-steps.libsonnet.',
      ] },
    } + {
      ['tests/panel-steps.legacy-%s.test.yml' % form]: { document: document(legacy(form), cl), header: header + [
        '',
        'NEGATIVE CONTROL: the checks of panel-steps.test.yml applied to an old query form. This file',
        'must FAIL for every per-step query (AlertRulesTests checks that it does): %s' % $.legacyForms[form].description,
      ] }
      for form in std.objectFields($.legacyForms)
    },
}
