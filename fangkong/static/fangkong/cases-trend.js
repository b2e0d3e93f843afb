// The 7-day trend on the bulletin desk (/cases/bulletin/): a line a figure, drawn with the
// vendored ECharts from the page's json_script "cases-trend-data"
// (fangkong.cases.views.trend). The same numbers are in the table under the chart.
(function () {
  "use strict";
  const ENTITIES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  const escape = (text) => String(text).replace(/[&<>"']/g, (c) => ENTITIES[c]);
  const HEIGHT = "320px";
  const GAP = 12;

  // Inside the chart, beside the pointer. A function rather than ECharts' named positions,
  // which add an arrow drawn with an inline style the CSP refuses.
  function place(point, params, dom, rect, size) {
    const [width, height] = size.contentSize;
    const x = point[0] + GAP + width > size.viewSize[0] ? point[0] - GAP - width : point[0] + GAP;
    return [Math.max(0, x), Math.max(0, Math.min(point[1], size.viewSize[1] - height))];
  }

  // Plain markup, no style attributes (ECharts' own markers carry inline styles).
  function tooltip(data, params) {
    const index = params[0].dataIndex;
    const lines = data.series.map((s) => `${escape(s.label)} ${s.values[index]}`);
    return [`<strong>${escape(data.days[index])}</strong>`, ...lines].join("<br>");
  }

  function draw() {
    const element = document.getElementById("cases-trend");
    const source = document.getElementById("cases-trend-data");
    if (!element || !source) return;
    const data = JSON.parse(source.textContent);
    if (!window.echarts) {
      element.textContent = "图表未能加载,数字见下表。";
      return;
    }
    if (!element.clientHeight) element.style.height = HEIGHT;
    const chart = window.echarts.init(element, null, { locale: "ZH" });
    chart.setOption({
      tooltip: {
        trigger: "axis",
        position: place,
        textStyle: { color: "#1f2933" },
        formatter: (params) => tooltip(data, params),
      },
      legend: { top: 0, data: data.series.map((s) => s.label) },
      grid: { left: 40, right: 16, top: 40, bottom: 30 },
      xAxis: { type: "category", boundaryGap: false, data: data.days.map((d) => d.slice(5)) },
      yAxis: { type: "value", minInterval: 1 },
      series: data.series.map((s) => ({
        name: s.label,
        type: "line",
        data: s.values,
        symbolSize: 6,
      })),
    });
    element.dataset.drawn = "true";
    window.addEventListener("resize", () => chart.resize());
  }

  document.addEventListener("DOMContentLoaded", draw);
})();
