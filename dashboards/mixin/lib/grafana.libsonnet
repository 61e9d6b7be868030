// The few Grafana (schema 39, Grafana 10.4+) building blocks the dashboard needs, written here
// rather than pulled in from grafonnet. Panels are plain objects: build one with a constructor,
// then refine it with `+`, e.g. `g.timeseries(...) + g.bars + g.unit('s')`.
{
  _grafana:: {
    local g = self,

    // Every query goes to the data source picked in the $datasource variable, so the dashboard
    // works both when imported by hand and when provisioned from a file (no `${DS_...}` input).
    datasource:: { type: 'prometheus', uid: '${datasource}' },

    // A range query drawn per step.
    target(expr, legend, refId='A'):: {
      datasource: g.datasource,
      editorMode: 'code',
      expr: expr,
      legendFormat: legend,
      range: true,
      refId: refId,
    },

    // A query evaluated once, at the end of the time range (stat values, tables).
    instant(expr, legend, refId='A'):: g.target(expr, legend, refId) + { range: false, instant: true },

    local panel(type, id, title, description, targets, w, h) = {
      datasource: g.datasource,
      description: description,
      gridPos: { h: h, w: w },
      id: id,
      targets: targets,
      title: title,
      type: type,
    },

    // `[[color, from], ...]`, the first with `from` = null (the base colour).
    thresholdSteps(steps):: {
      mode: 'absolute',
      steps: [{ color: s[0], value: s[1] } for s in steps],
    },

    row(id, title):: {
      collapsed: false,
      gridPos: { h: 1, w: 24 },
      id: id,
      panels: [],
      title: title,
      type: 'row',
    },

    stat(id, title, description, targets, w=4, h=4):: panel('stat', id, title, description, targets, w, h) + {
      fieldConfig: {
        defaults: {
          color: { mode: 'thresholds' },
          mappings: [],
          thresholds: g.thresholdSteps([['text', null]]),
          unit: 'none',
        },
        overrides: [],
      },
      options: {
        colorMode: 'value',
        graphMode: 'none',
        justifyMode: 'auto',
        orientation: 'auto',
        reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
        showPercentChange: false,
        textMode: 'auto',
        wideLayout: true,
      },
      pluginVersion: '10.4.0',
    },

    timeseries(id, title, description, targets, w=8, h=8):: panel('timeseries', id, title, description, targets, w, h) + {
      fieldConfig: {
        defaults: {
          color: { mode: 'palette-classic' },
          custom: {
            axisBorderShow: false,
            axisCenteredZero: false,
            axisColorMode: 'text',
            axisLabel: '',
            axisPlacement: 'auto',
            barAlignment: 0,
            drawStyle: 'line',
            fillOpacity: 10,
            gradientMode: 'none',
            hideFrom: { legend: false, tooltip: false, viz: false },
            insertNulls: false,
            lineInterpolation: 'linear',
            lineWidth: 1,
            pointSize: 4,
            scaleDistribution: { type: 'linear' },
            showPoints: 'never',
            spanNulls: false,
            stacking: { group: 'A', mode: 'none' },
            thresholdsStyle: { mode: 'off' },
          },
          mappings: [],
          thresholds: g.thresholdSteps([['green', null]]),
          unit: 'short',
          min: 0,
        },
        overrides: [],
      },
      options: {
        legend: { calcs: [], displayMode: 'list', placement: 'bottom', showLegend: true },
        tooltip: { mode: 'multi', sort: 'desc' },
      },
    },

    // Event counts per step: each bar covers the step that ends at its right edge
    // (barAlignment -1), which is the window the per-step count is taken over.
    bars(stacked=false):: {
      fieldConfig+: {
        defaults+: {
          custom+: {
            barAlignment: -1,
            drawStyle: 'bars',
            fillOpacity: 60,
            stacking+: { mode: if stacked then 'normal' else 'none' },
          },
          decimals: 0,
        },
      },
    },

    unit(unit):: { fieldConfig+: { defaults+: { unit: unit } } },

    max(value):: { fieldConfig+: { defaults+: { max: value } } },

    decimals(count):: { fieldConfig+: { defaults+: { decimals: count } } },

    // A line at `value` (an alert threshold), in `style` 'line' or 'dashed'.
    thresholdLine(value, color='red', style='line'):: {
      fieldConfig+: {
        defaults+: {
          custom+: { thresholdsStyle: { mode: style } },
          thresholds: g.thresholdSteps([['green', null], [color, value]]),
        },
      },
    },

    stateTimeline(id, title, description, targets, mappings, w=24, h=6)::
      panel('state-timeline', id, title, description, targets, w, h) + {
        fieldConfig: {
          defaults: {
            color: { mode: 'thresholds' },
            custom: {
              fillOpacity: 80,
              hideFrom: { legend: false, tooltip: false, viz: false },
              insertNulls: false,
              lineWidth: 0,
              spanNulls: false,
            },
            mappings: [{ type: 'value', options: mappings }],
            thresholds: g.thresholdSteps([['text', null]]),
          },
          overrides: [],
        },
        options: {
          alignValue: 'left',
          legend: { displayMode: 'list', placement: 'bottom', showLegend: false },
          mergeValues: true,
          rowHeight: 0.85,
          showValue: 'auto',
          tooltip: { mode: 'single', sort: 'none' },
        },
      },

    // `{ "1": ["follower", "blue"], ... }` -> Grafana's value mapping options.
    valueMapping(texts):: {
      [value]: { text: texts[value][0], color: texts[value][1], index: i }
      for i in std.range(0, std.length(std.objectFields(texts)) - 1)
      for value in [std.objectFields(texts)[i]]
    },

    heatmap(id, title, description, targets, yUnit, w=12, h=8):: panel('heatmap', id, title, description, targets, w, h) + {
      fieldConfig: {
        defaults: {
          custom: {
            hideFrom: { legend: false, tooltip: false, viz: false },
            scaleDistribution: { type: 'linear' },
          },
        },
        overrides: [],
      },
      options: {
        calculate: false,
        cellGap: 1,
        color: {
          exponent: 0.5,
          fill: 'dark-orange',
          mode: 'scheme',
          reverse: false,
          scale: 'exponential',
          scheme: 'Oranges',
          steps: 64,
        },
        exemplars: { color: 'rgba(255,0,255,0.7)' },
        filterValues: { le: 1e-09 },
        legend: { show: true },
        rowsFrame: { layout: 'auto' },
        tooltip: { mode: 'single', showColorScale: false, yHistogram: true },
        yAxis: { axisPlacement: 'left', reverse: false, unit: yUnit },
        showValue: 'never',
      },
      pluginVersion: '10.4.0',
    },

    // One row per series of an instant query; `hidden` columns (labels) are left out.
    table(id, title, description, targets, hidden, w=8, h=8):: panel('table', id, title, description, targets, w, h) + {
      fieldConfig: {
        defaults: {
          custom: { align: 'auto', cellOptions: { type: 'auto' }, inspect: false },
          mappings: [],
          thresholds: g.thresholdSteps([['text', null]]),
        },
        overrides: [],
      },
      options: {
        cellHeight: 'sm',
        footer: { countRows: false, fields: '', reducer: ['sum'], show: false },
        showHeader: true,
      },
      pluginVersion: '10.4.0',
      transformations: [{
        id: 'organize',
        options: { excludeByName: { [name]: true for name in hidden }, indexByName: {}, renameByName: {} },
      }],
    },

    // Places panels left to right, 24 columns wide, starting a new line when the next panel
    // does not fit and for every row: gridPos x and y follow from the order and sizes alone, so
    // panels can never overlap.
    layout(panels)::
      local place(state, panel) =
        local w = panel.gridPos.w;
        local h = panel.gridPos.h;
        local wrap = state.x + w > 24;
        local x = if wrap then 0 else state.x;
        local y = if wrap then state.y + state.lineHeight else state.y;
        {
          x: x + w,
          y: y,
          lineHeight: if wrap then h else std.max(state.lineHeight, h),
          placed: state.placed + [panel { gridPos+: { x: x, y: y } }],
        };
      std.foldl(place, panels, { x: 0, y: 0, lineHeight: 0, placed: [] }).placed,

    // The dashboard's variables: data source, job, cluster (on `clusterLabel`) and instance.
    variables(jobName, clusterLabel):: [
      {
        current: {},
        description: 'The Prometheus that scrapes the Ballot nodes.',
        hide: 0,
        includeAll: false,
        label: 'Data source',
        multi: false,
        name: 'datasource',
        options: [],
        query: 'prometheus',
        refresh: 1,
        regex: '',
        skipUrlSync: false,
        type: 'datasource',
      },
      g.queryVariable('job',
                      'Job',
                      'The scrape job of the Ballot nodes.',
                      'label_values(ballot_build_info, job)',
                      all=false) + {
        current: { selected: true, text: jobName, value: jobName },
      },
      g.queryVariable(
        'cluster',
        'Cluster',
        'The %s target label set by the scrape configuration.' % clusterLabel,
        'label_values(ballot_build_info{job=~"$job"}, %s)' % clusterLabel
      ),
      g.queryVariable(
        'instance',
        'Instance',
        'Ballot nodes (scrape targets) of the selected clusters. Only per-node panels follow it; cluster-wide panels always cover every node.',
        'label_values(ballot_build_info{job=~"$job", %s=~"$cluster"}, instance)' % clusterLabel
      ),
    ],

    queryVariable(name, label, description, query, all=true):: {
      current: {},
      datasource: g.datasource,
      definition: query,
      description: description,
      hide: 0,
      includeAll: all,
      label: label,
      multi: all,
      name: name,
      options: [],
      query: { qryType: 1, query: query, refId: 'PrometheusVariableQueryEditor-VariableQuery' },
      refresh: 2,
      regex: '',
      skipUrlSync: false,
      sort: 1,
      type: 'query',
    } + (if all then { allValue: '.*' } else {}),
  },
}
