// redact serve: reloads the page when the papers have been rebuilt. Loaded only by serve's own
// pages, never by a copy. Waits on /_redact/wait, which answers once the build's generation
// differs from this page's (or after a while, to ask again). Each framed copy keeps its scroll
// position across the reload.
(function () {
  "use strict";
  var script = document.currentScript;
  var generation = script ? script.getAttribute("data-generation") : null;
  if (generation === null) {
    return;
  }
  var frames = Array.prototype.slice.call(document.querySelectorAll("iframe[data-audience]"));
  function key(frame) {
    return "redact-scroll:" + location.pathname + location.search + ":" + frame.getAttribute("data-audience");
  }
  function restore(frame) {
    var y = sessionStorage.getItem(key(frame));
    if (y !== null && frame.contentWindow) {
      frame.contentWindow.scrollTo(0, Number(y));
    }
  }
  frames.forEach(function (frame) {
    frame.addEventListener("load", function () { restore(frame); });
  });
  function reload() {
    frames.forEach(function (frame) {
      try {
        sessionStorage.setItem(key(frame), String(frame.contentWindow.scrollY));
      } catch (e) {
        // A frame showing an error page or nothing: nothing to keep.
      }
    });
    location.reload();
  }
  function wait() {
    fetch("/_redact/wait?since=" + encodeURIComponent(generation), { cache: "no-store" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.text();
      })
      .then(function (text) {
        if (text.trim() !== generation) {
          reload();
        } else {
          wait();
        }
      })
      .catch(function () {
        // serve stopped or restarting: ask again shortly.
        setTimeout(wait, 1000);
      });
  }
  wait();
})();
