// Dashboard charts: a gauge of the first rate and bars of every rate against its target (ECharts, local files).
(function () {
  if (!window.echarts) return;
  var d = JSON.parse(document.getElementById("chart-data").textContent);
  // A rate whose denominator is empty: said in words (d.gauge.empty), never "NaN%".
  function empty(v) { return v == null || (typeof v === "number" && isNaN(v)); }
  var gauge = echarts.init(document.getElementById("gauge"), null, { renderer: "svg" });
  gauge.setOption({
    series: [{
      type: "gauge", min: 0, max: 100, progress: { show: true, width: 14 },
      axisLine: { lineStyle: { width: 14 } }, axisLabel: { distance: 18 },
      detail: { valueAnimation: false, formatter: function (v) { return empty(d.gauge.value) ? d.gauge.empty : v + "%"; }, fontSize: 22 },
      title: { offsetCenter: [0, "78%"], fontSize: 13 },
      data: [{ value: empty(d.gauge.value) ? 0 : d.gauge.value, name: d.gauge.label }],
    }],
    animation: false,
  });
  var bars = echarts.init(document.getElementById("bars"), null, { renderer: "svg" });
  bars.setOption({
    animation: false,
    grid: { left: 8, right: 56, top: 28, bottom: 8, containLabel: true },
    legend: { top: 0 },
    tooltip: { trigger: "axis" },
    xAxis: { type: "value", max: 100 },
    yAxis: { type: "category", data: d.labels, inverse: true, axisLabel: { width: 150, overflow: "truncate" } },
    series: [
      { name: d.names.rate, type: "bar", data: d.rates, label: { show: true, position: "right", formatter: function (p) { return empty(p.value) ? d.gauge.empty : p.value + "%"; } } },
      { name: d.names.target, type: "scatter", data: d.targets, symbol: "diamond", symbolSize: 10 },
    ],
  });
  // Trends by month: the register's rates as lines, the sample-based ones dashed (months without a sample skipped).
  var trend = null;
  var trendBox = document.getElementById("trend");
  if (trendBox && d.trend) {
    trend = echarts.init(trendBox, null, { renderer: "svg" });
    trend.setOption({
      animation: false,
      grid: { left: 8, right: 16, top: 48, bottom: 8, containLabel: true },
      legend: { top: 0, type: "scroll" },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: d.trend.months },
      yAxis: { type: "value", max: 100 },
      series: d.trend.lines.map(function (l) {
        return { name: l.name, type: "line", data: l.data, connectNulls: false, lineStyle: l.dashed ? { type: "dashed" } : {} };
      }),
    });
  }
  window.addEventListener("resize", function () { gauge.resize(); bars.resize(); if (trend) trend.resize(); });
})();
