/* Draws every plotly figure on the page.
 *
 * Each chart is a <div data-chart-source="id"> next to a json_script element with
 * that id holding the figure ({data, layout}). With data-chart-navigate, a click on
 * a point whose customdata is a site path (or [path, ...]) opens that path; in a
 * trace with meta.row_urls, a click opens the URL of the point's row.
 *
 * A trace with meta.hover = "score-target" (the score heatmap) gets its hover text
 * here, from each cell's score (z) and target (customdata).
 *
 * Figures come without plotly's default template: the page holds it once, in the
 * json_script element "plotly-template", and it is applied to each figure here.
 *
 * A figure may carry layout.meta.narrow = {layout: {...}, data: [{...}, ...]}:
 * changes merged in when the chart is narrower than NARROW px (a phone); with
 * wrap_y: N, the first trace's y labels become the y ticks, wrapped at N characters
 * (as benchmarks.charts.wrap_label does). Titles
 * too long for the chart's width are wrapped onto more lines.
 */
(function () {
  "use strict";

  var NARROW = 480;
  var TITLE_LINE_PX = 22;
  // plotly's toolbar (the modebar) takes the top MODEBAR_PX of a chart, at the right
  var MODEBAR_PX = 36;
  var measure = document.createElement("canvas").getContext("2d");
  var templateSource = document.getElementById("plotly-template");

  function urlOf(point) {
    if (!point) {
      return null;
    }
    var data = point.customdata;
    var meta = point.data && point.data.meta;
    if (isObject(meta) && Array.isArray(meta.row_urls)) {
      var index = point.pointIndex !== undefined ? point.pointIndex : point.pointNumber;
      data = meta.row_urls[Array.isArray(index) ? index[0] : index];
    }
    var url = Array.isArray(data) ? data[0] : data;
    return typeof url === "string" && url.charAt(0) === "/" && url.charAt(1) !== "/" ? url : null;
  }

  function missing(value) {
    return value === null || value === undefined;
  }

  // Rounds half away from zero, as finops_portal/formats.py does (Math.round
  // rounds -2.5 to -2).
  function roundAway(value) {
    return value < 0 ? -Math.round(-value) : Math.round(value);
  }

  // "40% \u00b7 target 60% \u00b7 gap 20" per cell ("above target by 5", "at
  // target"), "no score" where there is none.
  function scoreTargetText(trace) {
    var targets = trace.customdata || [];
    trace.text = (trace.z || []).map(function (row, i) {
      return row.map(function (score, j) {
        if (missing(score)) {
          return "no score";
        }
        var text = roundAway(score) + "%";
        var target = targets[i] ? targets[i][j] : null;
        if (!missing(target)) {
          var gap = roundAway(target - score);
          var distance = gap > 0 ? "gap " + gap : gap < 0 ? "above target by " + -gap : "at target";
          text += " \u00b7 target " + roundAway(target) + "% \u00b7 " + distance;
        }
        return text;
      });
    });
  }

  function isObject(value) {
    return value !== null && typeof value === "object" && !Array.isArray(value);
  }

  // Deep merge of plain objects; arrays and other values replace.
  function merge(target, patch) {
    Object.keys(patch).forEach(function (key) {
      if (isObject(patch[key]) && isObject(target[key])) {
        merge(target[key], patch[key]);
      } else {
        target[key] = patch[key];
      }
    });
    return target;
  }

  // `text` with <br> between words so that no line is much over `width` characters.
  function wrapLabel(text, width) {
    var lines = [];
    String(text).split(/\s+/).forEach(function (word) {
      var last = lines.length - 1;
      if (!word) {
        return;
      }
      if (last >= 0 && lines[last].length + 1 + word.length <= width) {
        lines[last] += " " + word;
      } else {
        lines.push(word);
      }
    });
    return lines.join("<br>");
  }

  // Words of `text` in lines no wider than `width` px in the given canvas font.
  function wrapWords(text, width, font) {
    var lines = [];
    measure.font = font;
    text.split(/\s+/).forEach(function (word) {
      var last = lines.length - 1;
      if (last >= 0 && measure.measureText(lines[last] + " " + word).width <= width) {
        lines[last] += " " + word;
      } else if (word) {
        lines.push(word);
      }
    });
    return lines;
  }

  function fitTitle(layout, width) {
    var title = layout.title;
    if (!isObject(title) || typeof title.text !== "string" || title.text.indexOf("<br>") !== -1) {
      return;
    }
    var font = layout.font || {};
    // plotly draws titles at 1.4 times the layout's font size unless told otherwise
    var size = (title.font && title.font.size) || (font.size || 12) * 1.4;
    var family = (title.font && title.font.family) || font.family || "sans-serif";
    var lines = wrapWords(title.text, width - 8, size + "px " + family);
    if (lines.length > 1) {
      var extra = TITLE_LINE_PX * (lines.length - 1);
      title.text = lines.join("<br>");
      layout.margin = layout.margin || {};
      layout.margin.t = (layout.margin.t || 60) + extra;
      if (layout.height) {
        layout.height += extra;
        // plotly anchors a title by its first line: move it down by the lines added
        if (title.yref === "container" && typeof title.y === "number") {
          title.y = Math.min(title.y, 1) - extra / layout.height;
        }
      }
    }
  }

  // A title anchored to the top of the chart starts below the toolbar, whatever the
  // chart's width, so the toolbar never covers it; the plot moves down as much.
  function clearModebar(layout) {
    var title = layout.title;
    if (!isObject(title) || title.yref !== "container" || title.yanchor !== "top") {
      return;
    }
    title.pad = title.pad || {};
    var added = Math.max(0, MODEBAR_PX - (title.pad.t || 0));
    title.pad.t = (title.pad.t || 0) + added;
    layout.margin = layout.margin || {};
    layout.margin.t = (layout.margin.t || 60) + added;
    if (layout.height) {
      layout.height += added;
    }
  }

  // The figure for a chart drawn `width` px wide: a fresh copy each time.
  function figureFor(source, width) {
    var figure = JSON.parse(source.textContent);
    var data = figure.data || [];
    var layout = figure.layout || {};
    data.forEach(function (trace) {
      if (isObject(trace.meta) && trace.meta.hover === "score-target") {
        scoreTargetText(trace);
      }
    });
    var narrow = isObject(layout.meta) ? layout.meta.narrow : null;
    delete layout.meta;
    if (narrow && width < NARROW) {
      merge(layout, narrow.layout || {});
      (narrow.data || []).forEach(function (patch, i) {
        if (data[i]) {
          merge(data[i], patch);
        }
      });
      if (narrow.wrap_y && data[0] && Array.isArray(data[0].y)) {
        layout.yaxis = merge(layout.yaxis || {}, {
          tickmode: "array",
          tickvals: data[0].y,
          ticktext: data[0].y.map(function (label) {
            return wrapLabel(label, narrow.wrap_y);
          })
        });
      }
    }
    if (templateSource && !layout.template) {
      layout.template = JSON.parse(templateSource.textContent);
    }
    fitTitle(layout, width);
    clearModebar(layout);
    layout.autosize = true;
    delete layout.width;
    return { data: data, layout: layout, key: (width < NARROW) + "|" + (layout.title && layout.title.text) };
  }

  // Draw (or draw again, from scratch) the figure in `el`; marks it ready once drawn.
  function plot(el, figure) {
    el.removeAttribute("data-chart-ready");
    return window.Plotly.newPlot(el, figure.data, figure.layout, {
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

  function draw(el) {
    var source = document.getElementById(el.getAttribute("data-chart-source"));
    if (!source || !window.Plotly) {
      return;
    }
    var figure = figureFor(source, el.clientWidth);
    var drawn = figure.key;
    plot(el, figure);

    // Follow resizes here rather than with plotly's own `responsive` handler, which
    // resized a desktop layout (long labels, wide margins) to a phone's width and
    // left the axes no room ("axis scaling" errors). When the width crosses into or
    // out of the phone layout, or the title needs another number of lines, the chart
    // is drawn afresh, as on a page load (Plotly.react kept the old margins and hit
    // the same error); other resizes only resize.
    var timer = null;
    window.addEventListener("resize", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        if (el.getAttribute("data-chart-ready") !== "true" || !el.clientWidth) {
          return;
        }
        var next = figureFor(source, el.clientWidth);
        if (next.key !== drawn) {
          drawn = next.key;
          plot(el, next);
        } else {
          window.Plotly.Plots.resize(el);
        }
      }, 200);
    });
  }

  document.querySelectorAll("[data-chart-source]").forEach(draw);
})();
