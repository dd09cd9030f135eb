/* Google Tag Manager in device mode: loads the container's gtm.js and fills the dataLayer.
 * An analytics-next destination plugin (see segue/destinations/contract.py, Device). Settings:
 * containerId, environment, trackAllPages, trackNamedPages, trackCategorizedPages. */
(function () {
  "use strict";

  function addScript(src) {
    var script = document.createElement("script");
    script.async = true;
    script.src = src;
    (document.head || document.documentElement).appendChild(script);
    return script;
  }

  function assign(target, source) {
    Object.keys(source || {}).forEach(function (key) { target[key] = source[key]; });
    return target;
  }

  window.segueDevice_google_tag_manager = function (settings) {
    var loaded = false;

    function push(entry) { window.dataLayer.push(entry); }

    function pushEvent(event, name, properties) {
      var entry = assign({}, properties);
      if (event.userId) entry.userId = event.userId;
      if (event.anonymousId) entry.segmentAnonymousId = event.anonymousId;
      entry.event = name;
      push(entry);
    }

    function pageNames(event) {
      var category = event.category || (event.properties || {}).category;
      var name = event.name ? (category ? category + " " + event.name : event.name) : null;
      var names = [];
      if (settings.trackAllPages) names.push("Loaded a Page");
      if (category && settings.trackCategorizedPages !== false) names.push("Viewed " + category + " Page");
      if (name && settings.trackNamedPages !== false) names.push("Viewed " + name + " Page");
      return names;
    }

    return {
      name: "Google Tag Manager", type: "destination", version: "1.0.0",
      isLoaded: function () { return loaded; },
      load: function () {
        window.dataLayer = window.dataLayer || [];
        push({ "gtm.start": new Date().getTime(), event: "gtm.js" });
        var src = "https://www.googletagmanager.com/gtm.js?id=" + encodeURIComponent(settings.containerId) +
          "&l=dataLayer";
        if (settings.environment) src += "&gtm_preview=" + encodeURIComponent(settings.environment);
        addScript(src);
        loaded = true;
        return Promise.resolve();
      },
      page: function (ctx) {
        var event = ctx.event, properties = assign({}, event.properties);
        if (event.category) properties.category = event.category;
        if (event.name) properties.name = event.name;
        pageNames(event).forEach(function (name) { pushEvent(event, name, properties); });
        return ctx;
      },
      track: function (ctx) {
        pushEvent(ctx.event, ctx.event.event, ctx.event.properties);
        return ctx;
      },
      identify: function (ctx) {
        var event = ctx.event, entry = {};
        if (event.userId) entry.userId = event.userId;
        if (event.anonymousId) entry.segmentAnonymousId = event.anonymousId;
        entry.traits = assign({}, event.traits);
        push(entry);
        return ctx;
      }
    };
  };
})();
