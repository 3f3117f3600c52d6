// OpenStudio's own small enhancements; every page works without them.
// 1. The artwork form: drop images on the picker, see previews, reorder and remove them
//    before they are sent (the input's FileList is rebuilt in the chosen order).
// 2. The artwork page: thumbnails switch the main image in place.
// 3. The marketplace's filters fold away on a phone.
// 4. Live updates of the badge and the order on screen.
(function () {
  "use strict";

  function setupUploads(input) {
    var zone = input.closest("[data-dropzone]");
    var list = document.querySelector("[data-previews]");
    if (!zone || !list || typeof DataTransfer === "undefined") return;
    var files = [];

    function sync() {
      var transfer = new DataTransfer();
      files.forEach(function (f) { transfer.items.add(f); });
      input.files = transfer.files;
      render();
    }

    function button(label, text, onClick) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "small";
      b.textContent = text;
      b.setAttribute("aria-label", label);
      b.addEventListener("click", onClick);
      return b;
    }

    function render() {
      list.textContent = "";
      files.forEach(function (file, i) {
        var item = document.createElement("li");
        var img = document.createElement("img");
        img.alt = "New image " + (i + 1) + ": " + file.name;
        img.src = URL.createObjectURL(file);
        img.onload = function () { URL.revokeObjectURL(img.src); };
        item.appendChild(img);
        var actions = document.createElement("span");
        if (i > 0) {
          actions.appendChild(button("Move " + file.name + " earlier", "←", function () {
            files.splice(i - 1, 0, files.splice(i, 1)[0]);
            sync();
          }));
        }
        actions.appendChild(button("Remove " + file.name, "Remove", function () {
          files.splice(i, 1);
          sync();
        }));
        item.appendChild(actions);
        list.appendChild(item);
      });
    }

    function add(chosen) {
      Array.prototype.forEach.call(chosen, function (f) {
        if (f.type.indexOf("image/") === 0) files.push(f);
      });
      sync();
    }

    input.addEventListener("change", function () {
      // The picker replaces the input's files: keep what was there and add the new.
      var chosen = Array.prototype.slice.call(input.files);
      var known = files.filter(function (f) { return chosen.indexOf(f) === -1; });
      files = known;
      add(chosen);
    });
    ["dragenter", "dragover"].forEach(function (type) {
      zone.addEventListener(type, function (e) { e.preventDefault(); zone.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (type) {
      zone.addEventListener(type, function () { zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (e) {
      e.preventDefault();
      if (e.dataTransfer) add(e.dataTransfer.files);
    });
  }

  function setupGallery(root) {
    var main = root.querySelector("[data-main]");
    if (!main) return;
    root.querySelectorAll("[data-thumb]").forEach(function (link) {
      link.addEventListener("click", function (e) {
        e.preventDefault();
        main.src = link.getAttribute("data-src");
        main.alt = link.getAttribute("data-alt");
        main.width = Number(link.getAttribute("data-width")) || main.width;
        main.height = Number(link.getAttribute("data-height")) || main.height;
        root.querySelectorAll("[data-thumb]").forEach(function (l) { l.removeAttribute("aria-current"); });
        link.setAttribute("aria-current", "true");
      });
    });
  }

  // Filters open by default (so they work without this script); folded on a phone.
  function foldOnNarrowScreens(details) {
    if (window.matchMedia("(max-width: 59.99rem)").matches) details.removeAttribute("open");
  }

  // 4. Live: when an order changes, the navigation's badge and the order on screen are
  //    refreshed from the server, without a reload (the session cookie opens the stream).
  function setupLive(url) {
    if (typeof EventSource === "undefined" || typeof DOMParser === "undefined") return;
    var source = new EventSource(url);
    source.addEventListener("notification", function (e) {
      var data;
      try { data = JSON.parse(e.data); } catch (err) { return; }
      var order = document.querySelector("#order[data-order]");
      fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (res) { return res.ok ? res.text() : null; })
        .then(function (html) {
          if (!html) return;
          var fresh = new DOMParser().parseFromString(html, "text/html");
          var swap = function (selector) {
            var now = document.querySelector(selector);
            var next = fresh.querySelector(selector);
            if (now && next) {
              now.replaceWith(next);
              if (window.htmx) window.htmx.process(next);
            }
          };
          swap("header.site nav");
          if (order && String(data.order) === order.getAttribute("data-order")) swap("#order");
        });
    });
  }

  function ready() {
    if (document.body && document.body.getAttribute("data-live")) setupLive(document.body.getAttribute("data-live"));
    document.querySelectorAll("details[data-collapse-narrow]").forEach(foldOnNarrowScreens);
    document.querySelectorAll("input[type=file][data-images]").forEach(setupUploads);
    document.querySelectorAll("[data-gallery]").forEach(setupGallery);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
