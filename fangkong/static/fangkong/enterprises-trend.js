// The 14-day trend on the resumption dashboard (/enterprises/dashboard/): one chart of the rates
// (复工率, 复产率, in %) and one of the staff (在岗, 返岗), drawn with the vendored ECharts from the
// page's json_script "enterprises-trend-data" (fangkong.enterprises.dashboard_views._trend_chart).
// The same numbers are in the table under the charts.
(function () {
  "use strict";
  const ENTITIES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  const escape = (text) => String(text).replace(/[&<>"']/g, (c) => ENTITIES[c]);
  const HEIGHT = "300px";
  const GAP = 12;

  // Inside the chart, beside the pointer: ECharts' named positions add an arrow drawn with an
  // inline style the CSP refuses.
  function place(point, params, dom, rect, size) {
    const [width, height] = size.contentSize;
    const x = point[0] + GAP + width > size.viewSize[0] ? point[0] - GAP - width : point[0] + GAP;
    return [Math.max(0, x), Math.max(0, Math.min(point[1], size.viewSize[1] - height))];
  }

  function tooltip(days, series, params, unit) {
    const index = params[0].dataIndex;
    const lines = series.map((s) => {
      const value = s.values[index];
      return `${escape(s.label)} ${value === null ? "—" : escape(value) + unit}`;
    });
    return [`<strong>${escape(days[index])}</strong>`, ...lines].join("<br>");
  }

  function chart(id, days, series, unit, axis) {
    const element = document.getElementById(id);
    if (!element) return;
    if (!element.clientHeight) element.style.height = HEIGHT;
    const drawn = window.echarts.init(element, null, { locale: "ZH" });
    drawn.setOption({
      tooltip: {
        trigger: "axis",
        position: place,
        textStyle: { color: "#1f2933" },
        formatter: (params) => tooltip(days, series, params, unit),
      },
      legend: { top: 0, data: series.map((s) => s.label) },
      grid: { left: 56, right: 16, top: 40, bottom: 30 },
      xAxis: { type: "category", boundaryGap: false, data: days.map((d) => d.slice(5)) },
      yAxis: axis,
      series: series.map((s) => ({
        name: s.label,
        type: "line",
        data: s.values,
        connectNulls: false,
        symbolSize: 6,
      })),
    });
    element.dataset.drawn = "true";
    window.addEventListener("resize", () => drawn.resize());
  }

  function draw() {
    const source = document.getElementById("enterprises-trend-data");
    if (!source) return;
    const data = JSON.parse(source.textContent);
    if (!window.echarts) {
      for (const id of ["enterprises-rates", "enterprises-staff"]) {
        const element = document.getElementById(id);
        if (element) element.textContent = "图表未能加载,数字见下表。";
      }
      return;
    }
    chart("enterprises-rates", data.days, data.rates, "%", { type: "value", min: 0 });
    chart("enterprises-staff", data.days, data.staff, "", { type: "value", minInterval: 1 });
  }

  document.addEventListener("DOMContentLoaded", draw);
})();
