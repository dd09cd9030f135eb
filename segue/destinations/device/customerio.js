/* Customer.io in device mode: the Customer.io JavaScript snippet (track.js), then _cio.identify,
 * _cio.track and _cio.page.
 * An analytics-next destination plugin (see segue/destinations/contract.py, Device).
 * Settings: siteId, region. */
(function () {
  "use strict";

  var SCRIPTS = { US: "https://assets.customer.io/assets/track.js", EU: "https://assets.customer.io/assets/track-eu.js" };
  var QUEUED = ["load", "identify", "sidentify", "track", "page", "on", "off"];

  function addScript(src, attributes) {
    var script = document.createElement("script");
    script.async = true;
    Object.keys(attributes).forEach(function (name) { script.setAttribute(name, attributes[name]); });
    script.src = src;
    (document.head || document.documentElement).appendChild(script);
    return script;
  }

  function installQueue() {  // the snippet's `_cio` array: calls wait in it until track.js arrives
    var cio = window._cio = window._cio || [];
    QUEUED.forEach(function (method) {
      if (typeof cio[method] === "function") return;
      cio[method] = function () { cio.push([method].concat(Array.prototype.slice.call(arguments))); };
    });
  }

  function seconds(value) {
    if (typeof value === "number") return value > 1e11 ? Math.floor(value / 1000) : Math.floor(value);
    var time = typeof value === "string" ? Date.parse(value) : NaN;
    return isNaN(time) ? undefined : Math.floor(time / 1000);
  }

  function attributes(event) {
    var out = { id: event.userId };
    var traits = event.traits || {};
    Object.keys(traits).forEach(function (key) {
      if (key !== "createdAt" && key !== "created_at") out[key] = traits[key];
    });
    var created = seconds(traits.createdAt || traits.created_at);
    if (created !== undefined) out.created_at = created;
    return out;
  }

  window.segueDevice_customerio = function (settings) {
    var loaded = false;

    function cio() { return window._cio; }

    return {
      name: "Customer.io", type: "destination", version: "1.0.0",
      isLoaded: function () { return loaded; },
      load: function () {
        installQueue();
        addScript(SCRIPTS[settings.region] || SCRIPTS.US, { id: "cio-tracker", "data-site-id": settings.siteId,
          "data-auto-track-page": "false" });  // page views come from page calls
        loaded = true;
        return Promise.resolve();
      },
      identify: function (ctx) {
        if (ctx.event.userId) cio().identify(attributes(ctx.event));  // the snippet needs an id
        return ctx;
      },
      track: function (ctx) {
        cio().track(ctx.event.event, ctx.event.properties || {});
        return ctx;
      },
      page: function (ctx) {
        var event = ctx.event, properties = event.properties || {};
        var url = properties.url || (event.context && event.context.page && event.context.page.url) || location.href;
        cio().page(url, properties);
        return ctx;
      }
    };
  };
})();
