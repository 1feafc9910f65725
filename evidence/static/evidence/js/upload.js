/* Chunked, resumable upload of FOCUS files: each file is sliced in the browser
 * and sent chunk by chunk to the offset the server has; an interrupted upload
 * resumes from there when the same file is chosen again. Then the files are read
 * by a worker, whose progress is followed (ingestion.js). */
(function () {
  "use strict";

  var form = document.getElementById("upload-form");
  if (!form) {
    return;
  }
  var input = document.getElementById("upload-files");
  var list = document.getElementById("upload-list");
  var errorBox = document.getElementById("upload-error");
  var button = document.getElementById("upload-start");
  var chunkBytes = parseInt(form.dataset.chunkBytes, 10);
  var maxBytes = parseInt(form.dataset.maxBytes, 10);
  var RETRY_MAX = 8;

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    var field = form.querySelector("input[name=csrfmiddlewaretoken]");
    return match ? decodeURIComponent(match[1]) : field ? field.value : "";
  }

  function api(method, url, body, headers) {
    var options = {
      method: method,
      credentials: "same-origin",
      headers: Object.assign({ "X-CSRFToken": csrfToken(), Accept: "application/json" }, headers || {}),
    };
    if (body !== undefined) {
      options.body = body;
    }
    return fetch(url, options).then(function (response) {
      return response
        .json()
        .catch(function () {
          return {};
        })
        .then(function (data) {
          return { status: response.status, data: data };
        });
    });
  }

  function json(method, url, payload) {
    return api(method, url, JSON.stringify(payload), { "Content-Type": "application/json" });
  }

  function messagesOf(data) {
    var out = [];
    Object.keys(data || {}).forEach(function (key) {
      [].concat(data[key]).forEach(function (m) {
        out.push(String(m));
      });
    });
    return out.join(" ");
  }

  function showError(text) {
    errorBox.textContent = text;
    errorBox.hidden = !text;
  }

  function sizeText(bytes) {
    var units = ["bytes", "KB", "MB", "GB", "TB"];
    var i = 0;
    while (bytes >= 1000 && i < units.length - 1) {
      bytes /= 1000;
      i += 1;
    }
    return i === 0 ? bytes + " bytes" : bytes.toFixed(1) + " " + units[i];
  }

  function storageKey(file) {
    return ["evidence-upload", form.dataset.organization, file.name, file.size, file.lastModified].join(":");
  }

  function item(file) {
    var node = document.getElementById("upload-item").content.firstElementChild.cloneNode(true);
    node.querySelector("[data-name]").textContent = file.name + " (" + sizeText(file.size) + ")";
    list.appendChild(node);
    return {
      set: function (received, text) {
        var percent = file.size ? Math.floor((received * 100) / file.size) : 100;
        var bar = node.querySelector(".progress");
        bar.setAttribute("aria-valuenow", String(percent));
        bar.setAttribute("aria-label", "Uploaded of " + file.name);
        bar.firstElementChild.style.width = percent + "%";
        node.querySelector("[data-status]").textContent = text || percent + "% uploaded";
      },
      fail: function (text) {
        node.classList.add("is-failed");
        node.querySelector("[data-status]").textContent = text;
      },
    };
  }

  function start(file) {
    var saved = localStorage.getItem(storageKey(file));
    var resume = saved
      ? api("GET", form.dataset.uploadsUrl + saved + "/").then(function (result) {
          if (result.status === 200 && result.data.status === "receiving") {
            return result.data;
          }
          if (result.status === 200 && result.data.status === "complete") {
            return result.data;
          }
          return null;
        })
      : Promise.resolve(null);
    return resume.then(function (existing) {
      if (existing) {
        return existing;
      }
      return json("POST", form.dataset.uploadsUrl, {
        organization: form.dataset.organization,
        name: file.name,
        size: file.size,
      }).then(function (result) {
        if (result.status !== 201) {
          throw new Error(messagesOf(result.data) || "The upload could not start.");
        }
        localStorage.setItem(storageKey(file), result.data.id);
        return result.data;
      });
    });
  }

  function send(file, upload, row) {
    var received = upload.received;
    var attempts = 0;
    var url = form.dataset.uploadsUrl + upload.id + "/content/";
    row.set(received, received ? "Resuming at " + Math.floor((received * 100) / file.size) + "%" : "");
    function next() {
      if (received >= file.size) {
        row.set(file.size, "Uploaded");
        return Promise.resolve(upload.id);
      }
      var end = Math.min(file.size, received + chunkBytes);
      return api("PUT", url, file.slice(received, end), {
        "Content-Type": "application/octet-stream",
        "Upload-Offset": String(received),
      }).then(
        function (result) {
          if (result.status === 200) {
            attempts = 0;
            received = result.data.received;
            row.set(received);
            return next();
          }
          if (result.status === 409 && typeof result.data.received === "number") {
            received = result.data.received; // the server has another offset: go on from there
            return next();
          }
          throw new Error(messagesOf(result.data) || "The server refused the file.");
        },
        function () {
          attempts += 1;
          if (attempts > RETRY_MAX) {
            throw new Error("The connection keeps failing; choose the file again to resume.");
          }
          row.set(received, "Connection lost, retrying…");
          return new Promise(function (resolve) {
            setTimeout(resolve, Math.min(30000, 500 * Math.pow(2, attempts)));
          }).then(next);
        }
      );
    }
    return next();
  }

  function ingest(ids) {
    return json("POST", form.dataset.ingestionsUrl, {
      organization: form.dataset.organization,
      uploads: ids,
    }).then(function (result) {
      if (result.status !== 201) {
        throw new Error(messagesOf(result.data) || "The files could not be queued for reading.");
      }
      var slot = document.getElementById("ingestion-slot");
      slot.textContent = "";
      var widget = document.getElementById("ingestion-template").content.firstElementChild.cloneNode(true);
      var link = document.createElement("p");
      var a = document.createElement("a");
      a.href = form.dataset.ingestionPage.replace("/0/", "/" + result.data.id + "/");
      a.textContent = "Open this ingestion's page";
      link.appendChild(a);
      slot.appendChild(widget);
      slot.appendChild(link);
      window.EvidenceIngestion.watch(widget, result.data.url);
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    showError("");
    var files = Array.prototype.slice.call(input.files || []);
    if (!files.length) {
      showError("Choose at least one FOCUS file.");
      return;
    }
    var tooLarge = files.filter(function (f) {
      return f.size > maxBytes;
    });
    if (tooLarge.length) {
      showError(tooLarge[0].name + " is " + sizeText(tooLarge[0].size) + "; the limit is " + sizeText(maxBytes) + ".");
      return;
    }
    button.disabled = true;
    list.textContent = "";
    var ids = [];
    var chain = Promise.resolve();
    files.forEach(function (file) {
      var row = item(file);
      chain = chain.then(function () {
        return start(file)
          .then(function (upload) {
            return send(file, upload, row);
          })
          .then(
            function (id) {
              ids.push(id);
              localStorage.removeItem(storageKey(file));
            },
            function (error) {
              row.fail(error.message);
              throw error;
            }
          );
      });
    });
    chain
      .then(function () {
        return ingest(ids);
      })
      .catch(function (error) {
        showError(error.message);
      })
      .then(function () {
        button.disabled = false;
      });
  });
})();
