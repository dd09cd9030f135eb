/* Hotjar in device mode: the Hotjar tracking code, then its Identify and Events APIs.
 * An analytics-next destination plugin (see segue/destinations/contract.py, Device).
 * Settings: siteId. */
(function () {
  "use strict";

  var SNIPPET_VERSION = 6;
  var MAX_STRING = 100;  // characters of a user attribute string (Identify API reference)

  function addScript(src) {
    var script = document.createElement("script");
    script.async = true;
    script.src = src;
    (document.head || document.documentElement).appendChild(script);
    return script;
  }

  function attributes(traits) {  // flat values Hotjar takes: strings, numbers, booleans
    var out = {};
    Object.keys(traits || {}).forEach(function (key) {
      var value = traits[key];
      if (typeof value === "string") out[key] = value.slice(0, MAX_STRING);
      else if (typeof value === "boolean" || (typeof value === "number" && isFinite(value))) out[key] = value;
    });
    return out;
  }

  window.segueDevice_hotjar = function (settings) {
    var loaded = false;

    function hj() { window.hj.apply(window, arguments); }

    return {
      name: "Hotjar", type: "destination", version: "1.0.0",
      isLoaded: function () { return loaded; },
      load: function () {
        if (typeof window.hj !== "function") {
          window.hj = function () { (window.hj.q = window.hj.q || []).push(arguments); };
        }
        window._hjSettings = window._hjSettings || { hjid: Number(settings.siteId), hjsv: SNIPPET_VERSION };
        addScript("https://static.hotjar.com/c/hotjar-" + encodeURIComponent(settings.siteId) + ".js?sv=" +
          SNIPPET_VERSION);
        loaded = true;
        return Promise.resolve();
      },
      identify: function (ctx) {
        var event = ctx.event, traits = attributes(event.traits);
        if (event.userId || Object.keys(traits).length) hj("identify", event.userId || null, traits);
        return ctx;
      },
      track: function (ctx) {
        if (ctx.event.event) hj("event", ctx.event.event);
        return ctx;
      }
    };
  };
})();
