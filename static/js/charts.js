/* Draws every plotly figure on the page.
 *
 * Each chart is a <div data-chart-source="id"> next to a json_script element with
 * that id holding the figure ({data, layout}). With data-chart-navigate, a click on
 * a point whose customdata is a site path (or [path, ...]) opens that path.
 */
(function () {
  "use strict";

  function urlOf(point) {
    var data = point && point.customdata;
    var url = Array.isArray(data) ? data[0] : data;
    return typeof url === "string" && url.charAt(0) === "/" && url.charAt(1) !== "/" ? url : null;
  }

  function draw(el) {
    var source = document.getElementById(el.getAttribute("data-chart-source"));
    if (!source || !window.Plotly) {
      return;
    }
    var figure = JSON.parse(source.textContent);
    var layout = figure.layout || {};
    layout.autosize = true;
    delete layout.width;
    window.Plotly.newPlot(el, figure.data || [], layout, {
      responsive: true,
      displaylogo: false
    }).then(function () {
      if (el.hasAttribute("data-chart-navigate")) {
        el.on("plotly_click", function (event) {
          var url = urlOf(event.points && event.points[0]);
          if (url) {
            window.location.assign(url);
          }
        });
      }
      el.setAttribute("data-chart-ready", "true");
    });
  }

  document.querySelectorAll("[data-chart-source]").forEach(draw);
})();
