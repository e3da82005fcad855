// An acceptance plan's operating characteristic: P(accept) against the lot's defect rate, AQL and LQ marked.
(function () {
  var el = document.getElementById("oc");
  if (!window.echarts || !el) return;
  var d = JSON.parse(document.getElementById("chart-data").textContent);
  var chart = echarts.init(el, null, { renderer: "svg" });
  chart.setOption({
    animation: false,
    title: { text: d.title, left: "center", textStyle: { fontSize: 13 } },
    grid: { left: 8, right: 24, top: 40, bottom: 8, containLabel: true },
    tooltip: { trigger: "axis" },
    xAxis: { type: "value", name: d.names.x, nameLocation: "middle", nameGap: 28 },
    yAxis: { type: "value", min: 0, max: 100, name: d.names.y },
    series: [{
      type: "line", data: d.points, showSymbol: false, smooth: false,
      markLine: { symbol: "none", data: [{ xAxis: d.aql, name: "AQL" }, { xAxis: d.lq, name: "LQ" }],
                  label: { formatter: "{b}" } },
    }],
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
