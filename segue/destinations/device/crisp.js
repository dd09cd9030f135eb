/* Crisp chat in device mode: the Crisp chatbox loader, then $crisp.push commands of the
 * Crisp JavaScript SDK (user:*, session:data, session:segments, session:event).
 * An analytics-next destination plugin (see segue/destinations/contract.py, Device).
 * Settings: websiteId, eventColor. */
(function () {
  "use strict";

  var PROFILE = ["email", "name", "firstName", "first_name", "lastName", "last_name", "phone", "avatar", "company",
    "segments", "address"];

  function addScript(src) {
    var script = document.createElement("script");
    script.async = true;
    script.src = src;
    (document.head || document.documentElement).appendChild(script);
    return script;
  }

  function flat(source, skip) {  // Crisp data values: strings, numbers and booleans
    var pairs = [];
    Object.keys(source || {}).forEach(function (key) {
      var value = source[key];
      if (skip.indexOf(key) >= 0) return;
      if (typeof value === "string" || typeof value === "boolean" || (typeof value === "number" && isFinite(value))) {
        pairs.push([key, value]);
      }
    });
    return pairs;
  }

  function object(pairs) {
    var out = {};
    pairs.forEach(function (pair) { out[pair[0]] = pair[1]; });
    return out;
  }

  function fullName(traits) {
    return traits.name || [traits.firstName || traits.first_name, traits.lastName || traits.last_name]
      .filter(Boolean).join(" ");
  }

  function profileCommands(traits) {
    var commands = [];
    if (typeof traits.email === "string" && traits.email) commands.push(["set", "user:email", [traits.email]]);
    if (fullName(traits)) commands.push(["set", "user:nickname", [fullName(traits)]]);
    if (traits.phone) commands.push(["set", "user:phone", [String(traits.phone)]]);
    if (typeof traits.avatar === "string") commands.push(["set", "user:avatar", [traits.avatar]]);
    var company = traits.company && typeof traits.company === "object" ? traits.company : null;
    if (company && company.name) commands.push(["set", "user:company", [company.name]]);
    var segments = (Array.isArray(traits.segments) ? traits.segments : [])
      .filter(function (segment) { return typeof segment === "string"; });
    if (segments.length) commands.push(["set", "session:segments", [segments]]);
    return commands;
  }

  window.segueDevice_crisp = function (settings) {
    var loaded = false;

    function push(command) { window.$crisp.push(command); }

    return {
      name: "Crisp", type: "destination", version: "1.0.0",
      isLoaded: function () { return loaded; },
      load: function () {
        window.$crisp = window.$crisp || [];
        window.CRISP_WEBSITE_ID = settings.websiteId;
        addScript("https://client.crisp.chat/l.js");
        loaded = true;
        return Promise.resolve();
      },
      identify: function (ctx) {
        var traits = ctx.event.traits || {};
        profileCommands(traits).forEach(push);
        var data = flat(traits, PROFILE);
        if (ctx.event.userId) data.unshift(["user_id", ctx.event.userId]);
        if (data.length) push(["set", "session:data", [data]]);
        return ctx;
      },
      track: function (ctx) {
        var name = ctx.event.event;
        if (name) {
          push(["set", "session:event", [[[name, object(flat(ctx.event.properties, [])), settings.eventColor || "blue"]]]]);
        }
        return ctx;
      }
    };
  };
})();
