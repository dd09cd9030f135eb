/* FullStory in device mode: the FullStory snippet (Browser API v2), then FS('setIdentity'),
 * FS('trackEvent') and FS('setProperties').
 * An analytics-next destination plugin (see segue/destinations/contract.py, Device).
 * Settings: orgId, host. */
(function () {
  "use strict";

  function addScript(src) {
    var script = document.createElement("script");
    script.async = true;
    script.crossOrigin = "anonymous";
    script.src = src;
    (document.head || document.documentElement).appendChild(script);
    return script;
  }

  function installQueue() {  // what FullStory's snippet defines before fs.js arrives
    if (typeof window.FS === "function") return;
    var fs = window.FS = function (operation, options, source) {
      if (fs.q) fs.q.push([operation, options, source]); else fs._api(operation, options, source);
    };
    fs.q = [];
    fs._v = "2.0.0";
  }

  function copy(source) {
    var out = {};
    Object.keys(source || {}).forEach(function (key) { out[key] = source[key]; });
    return out;
  }

  function userProperties(traits) {  // displayName and email are FullStory's special user fields
    var properties = copy(traits);
    var name = traits.name || [traits.firstName, traits.lastName].filter(Boolean).join(" ");
    if (name) properties.displayName = name;
    delete properties.name;
    return properties;
  }

  window.segueDevice_fullstory = function (settings) {
    var loaded = false;

    function FS(operation, options) { window.FS(operation, options); }

    return {
      name: "FullStory", type: "destination", version: "1.0.0",
      isLoaded: function () { return loaded; },
      load: function () {
        window._fs_host = window._fs_host || "fullstory.com";
        window._fs_script = window._fs_script || "edge.fullstory.com/s/fs.js";
        window._fs_org = settings.orgId;
        window._fs_namespace = window._fs_namespace || "FS";
        installQueue();
        addScript("https://" + window._fs_script);
        loaded = true;
        return Promise.resolve();
      },
      page: function (ctx) {
        var event = ctx.event, properties = copy(event.properties);
        if (event.name) properties.pageName = event.name;
        if (Object.keys(properties).length) FS("setProperties", { type: "page", properties: properties });
        return ctx;
      },
      track: function (ctx) {
        FS("trackEvent", { name: ctx.event.event, properties: copy(ctx.event.properties) });
        return ctx;
      },
      identify: function (ctx) {
        var event = ctx.event, properties = userProperties(event.traits || {});
        if (event.userId) FS("setIdentity", { uid: event.userId, properties: properties });
        else if (Object.keys(properties).length) FS("setProperties", { type: "user", properties: properties });
        return ctx;
      }
    };
  };
})();
